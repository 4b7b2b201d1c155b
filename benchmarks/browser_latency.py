"""What a learner feels: the time from a key press on chapter 1's β slider to the new picture.

JupyterLab in headless Chromium (the recipe of ``tests/test_browser.py``) opens a copy of chapter 1
(found through :data:`dpo_toy.course.NOTEBOOKS`, so it does not depend on where JupyterLab's root
is), runs all cells, focuses the slider handle and presses → ``PRESSES`` times, one at a time. Each
notebook is timed in a page of its own, in a JupyterLab workspace of its own, and that page is closed
before the next one opens, so neither is timed with the other's page still running. For
each press, code in the page records ``performance.now()`` at the ``keydown`` and again when the
plot's ``<img>`` has a new ``src``, the image has been decoded, and the next frame is painted. The
median of those intervals is the figure reported (``benchmarks/run.py`` adds it to its table).

The baseline, measured in the same run and the same browser, is a *floor*: a notebook with the same
three widgets (log slider, readout, image) whose callback computes nothing and sends a stored
picture of the same plot. The difference is what dpo_toy's update (compute, blit, encode) adds to
what JupyterLab, the kernel and the browser cost anyway.

Run alone: ``.venv/bin/python benchmarks/browser_latency.py`` (prints JSON). It needs
``/usr/bin/chromium`` and Playwright; without them it reports why and returns None.
"""

import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHAPTER = "01_kl_constrained_optimal_policy.ipynb"
PRESSES = 12
FLOOR = """\
import io, itertools
import ipywidgets as w
import dpo_toy as d
from dpo_toy.widgets import PolicyPlot, _log_slider, policy_state
toy = d.capital_of_france()
picture = PolicyPlot(toy).update(policy_state(toy, 1.0)).to_jpeg()
slider = _log_slider(1.0, (1e-2, 1e2), 0.05, "β", ".3f")  # the chapter's slider (it sends no echo_update)
image, readout, count = w.Image(format="jpeg"), w.HTML(), itertools.count()
def on_change(change):  # no computation: a new picture (one byte differs) and a new readout
    image.value = picture + bytes([next(count) % 250])
    readout.value = f"<code>β = {change['new']:.4f}</code>"
slider.observe(on_change, names="value")
on_change({"new": 1.0})
w.VBox([slider, readout, image])
"""
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

# Installed once the widget is on screen: one timing per key press, pushed to window.__latency.
PROBE = """
() => {
  window.__latency = [];
  const img = document.querySelector('.jupyter-widgets.widget-vbox img');
  let pressed = null;
  document.addEventListener('keydown', () => { pressed = performance.now(); }, true);
  new MutationObserver(() => {
    const start = pressed;
    if (start === null) return;
    pressed = null;
    img.decode().then(() => requestAnimationFrame(() => window.__latency.push(performance.now() - start)));
  }).observe(img, {attributes: true, attributeFilter: ['src']});
}
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _jupyterlab(work, tmp):
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"))
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp / name.lower())
    env.pop("MPLBACKEND", None)  # the kernel must use the inline backend, as a learner's does
    port, token = _free_port(), "dpo-toy-latency"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={work}",
    ]  # fmt: skip
    with open(tmp / "lab.log", "w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()) from None
                    time.sleep(0.3)
            yield f"http://127.0.0.1:{port}/lab/tree/{CHAPTER}?token={token}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def _run_all(page):
    import re

    page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for(timeout=90_000)
    for _ in range(3):
        page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        try:
            page.locator(".widget-readout").first.wait_for(timeout=60_000)
            return
        except Exception:
            dialog = page.locator(".jp-Dialog")
            if dialog.count():
                dialog.get_by_role("button", name=re.compile("Select|Keep|Ok", re.I)).first.click()
    raise RuntimeError("the slider never appeared after Run All")


def _write_floor(path, like):
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR)])
    notebook.metadata = nbformat.read(like, as_version=4).metadata  # the same kernel
    nbformat.write(notebook, path)


def _in_workspace(url, notebook):
    """``url`` (``…/lab/tree/CHAPTER?token=…``) opening ``notebook`` in a JupyterLab workspace of its own."""
    return url.replace(f"/lab/tree/{CHAPTER}", f"/lab/workspaces/{Path(notebook).stem}/tree/{notebook}")


def _press_and_time(page, url, presses):
    """Open ``url``, run all cells, time ``presses`` key presses; the page is closed afterwards."""
    try:
        return _presses(page, url, presses)
    finally:
        page.close()


def _presses(page, url, presses):
    page.goto(url)
    _run_all(page)
    widget = page.locator(".jupyter-widgets.widget-vbox").first
    widget.scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.querySelectorAll('.widget-image')].some(i => i.src.startsWith('blob:'))")
    page.evaluate(PROBE)
    widget.locator(".noUi-handle").first.focus()
    for k in range(1, presses + 1):
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => window.__latency.length >= {k}", timeout=10_000)
        page.wait_for_timeout(250)  # let the kernel go idle: presses are timed one by one
    return page.evaluate("() => window.__latency")


def _summary(samples):
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "samples": samples}


def measure(presses=PRESSES):
    """Key press to new picture in ms, for chapter 1 and for the floor (``{"skipped": why}`` without a browser)."""
    from dpo_toy.course import NOTEBOOKS

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "playwright is not installed"}
    if not Path(CHROMIUM).exists():
        return {"skipped": f"{CHROMIUM} is missing"}
    with tempfile.TemporaryDirectory(prefix="dpo_toy_latency_") as name:
        tmp = Path(name)
        work = tmp / "work"
        work.mkdir()
        shutil.copy(NOTEBOOKS / CHAPTER, work / CHAPTER)
        _write_floor(work / "floor.ipynb", NOTEBOOKS / CHAPTER)
        with _jupyterlab(work, tmp) as url, sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(
                user_data_dir=str(tmp / "chromium"), executable_path=CHROMIUM, headless=True, args=FLAGS,
                viewport={"width": 1280, "height": 1000},
            )  # fmt: skip
            try:
                # Each notebook in its own page, closed before the next opens, and its own JupyterLab
                # workspace (else the second page reopens the first notebook): both are timed alone.
                floor = _press_and_time(browser.new_page(), _in_workspace(url, "floor.ipynb"), presses)
                chapter = _press_and_time(browser.new_page(), _in_workspace(url, CHAPTER), presses)
            finally:
                browser.close()
    result = {"chapter": _summary(chapter), "floor": _summary(floor), "presses": presses}
    result["added"] = result["chapter"]["median"] - result["floor"]["median"]
    return result


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
