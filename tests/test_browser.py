"""A real browser: JupyterLab in headless Chromium runs chapter 1 and the β slider responds.

Skips when Chromium or Playwright is missing, unless DPO_TOY_REQUIRE_BROWSER=1 (set by .ci/run),
which turns a missing browser into a failure. Screenshots land in build/browser/ for a human look.
"""

import json
import os
import re
import shutil
import socket
import sys
from pathlib import Path

import numpy as np
import pytest
from servers import serve

import dpo_toy as d
from dpo_toy.course import NOTEBOOKS, ROOT
from dpo_toy.widgets import policy_state

CHROMIUM = "/usr/bin/chromium"
CHAPTER = "01_kl_constrained_optimal_policy.ipynb"
SHOTS = ROOT / "build" / "browser"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READOUT = re.compile(r"β = (\S+)\s+KL\(π\*‖π_ref\) = (\S+)\s+E_π\*\[r\] = (\S+)")


def _require_browser():
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        reason = "no real browser here: missing " + " and ".join(missing)
        if os.environ.get("DPO_TOY_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (DPO_TOY_REQUIRE_BROWSER=1 makes this a failure)")
        pytest.skip(reason)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chromium(p, tmp_path, height):
    return p.chromium.launch_persistent_context(
        user_data_dir=str(tmp_path / "chromium"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
        viewport={"width": 1280, "height": height},
    )  # fmt: skip


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab on a copy of chapter 1 (autosave must not touch the repo), on 127.0.0.1."""
    _require_browser()
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(NOTEBOOKS / CHAPTER, work / CHAPTER)
    settings = tmp_path / "settings"
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false"})
    )
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp_path / name.lower())
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    port, token = _free_port(), "dpo-toy-browser-test"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={work}",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with serve("JupyterLab", command, f"{url}/api/status?token={token}", tmp_path, env):
        yield f"{url}/lab/tree/{CHAPTER}?token={token}", tmp_path


def _run_all_cells(page):
    """Wait for a connected, idle kernel, then Run All; accept the kernel dialog if it races in."""
    page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle")).wait_for(timeout=60_000)
    for _ in range(3):
        page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        try:
            page.locator(".widget-readout").first.wait_for(timeout=45_000)
            return
        except Exception:
            if dialog.count():
                dialog.get_by_role("button", name=re.compile("Select|Keep|Ok", re.I)).first.click()
    raise AssertionError("the slider never appeared after Run All")


def _readout(page):
    text = page.locator(".widget-html-content code").first.inner_text()
    match = READOUT.search(text)
    assert match, f"unexpected readout: {text!r}"
    return tuple(float(x) for x in match.groups())


def test_slider_moves_plot_and_numbers_in_jupyterlab(jupyterlab):
    """Run All in JupyterLab, press → on the β slider: the readout and the plot both change, correctly."""
    from playwright.sync_api import sync_playwright

    url, tmp_path = jupyterlab
    SHOTS.mkdir(parents=True, exist_ok=True)
    toy = d.capital_of_france()
    with sync_playwright() as p:
        browser = _chromium(p, tmp_path, height=1000)
        try:
            page = browser.new_page()
            page.goto(url)
            _run_all_cells(page)
            widget = page.locator(".jupyter-widgets.widget-vbox").first
            widget.scroll_into_view_if_needed()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.widget-image')].some(i => i.src.startsWith('blob:'))"
            )
            before = _readout(page)
            image_before = widget.locator("img").first.get_attribute("src")
            widget.screenshot(path=str(SHOTS / "slider_before.png"))

            handle = widget.locator(".noUi-handle").first
            handle.focus()
            for _ in range(6):  # six steps of 0.05 in log10(β)
                page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "(old) => !document.querySelector('.widget-html-content code').innerText.includes(old)",
                arg=f"β = {before[0]:.4f}",
            )
            page.wait_for_function(
                "(old) => document.querySelector('.jupyter-widgets.widget-vbox img').src !== old", arg=image_before
            )
            after = _readout(page)
            widget.screenshot(path=str(SHOTS / "slider_after.png"))
        finally:
            browser.close()

    assert after[0] > before[0], f"β did not grow: {before} -> {after}"
    assert after[1] < before[1] and after[2] < before[2], "larger β must mean less KL and less reward"
    for beta, kl, reward in (before, after):  # the numbers shown are the library's, for the β shown
        state = policy_state(toy, beta)
        np.testing.assert_allclose([kl, reward], [state.kl, state.expected_reward], atol=6e-4)


DPO_READOUT = re.compile(r"β = (\S+)\s+after (\d+) Adam steps: DPO loss = (\S+)\s+TV\(π_θ, π\*\) = (\S+)")


@pytest.fixture
def voila_app(tmp_path):
    """``make app``'s server (dpo_toy.classroom: Voilà on app/classroom.ipynb), on 127.0.0.1, a free port."""
    _require_browser()
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR"):
        env[name] = str(tmp_path / name.lower())
    port = _free_port()
    command = [sys.executable, "-m", "dpo_toy.classroom", "--no-browser", f"--port={port}"]  # as make app
    url = f"http://127.0.0.1:{port}/"
    with serve("Voilà", command, f"{url}voila/static/", tmp_path, env, cwd=ROOT):
        yield url, tmp_path


def _codes(page):
    return page.locator(".widget-html-content code").all_inner_texts()


def test_classroom_app_sliders_respond_in_voila(voila_app):
    """The app shows no code; → on the β slider and ← on the DPO slider change numbers and plots, correctly."""
    from playwright.sync_api import sync_playwright

    url, tmp_path = voila_app
    SHOTS.mkdir(parents=True, exist_ok=True)
    toy = d.capital_of_france()
    with sync_playwright() as p:
        browser = _chromium(p, tmp_path, height=1400)
        try:
            page = browser.new_page()
            page.goto(url, timeout=90_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('.widget-image')].filter(i => i.src.startsWith('blob:')).length"
                " >= 2",
                timeout=90_000,
            )
            text = page.inner_text("body")
            assert "import dpo_toy" not in text and "DPOExplorer(" not in text, "the app must hide code"
            assert page.locator(".widget-html-content table").count() == 1, "the boost-factor table is shown"
            page.screenshot(path=str(SHOTS / "app_before.png"), full_page=True)
            beta_before, dpo_before = _codes(page)[:2]
            images_before = [img.get_attribute("src") for img in page.locator(".widget-image").all()]

            handles = page.locator(".noUi-handle")
            handles.nth(0).focus()
            for _ in range(6):
                page.keyboard.press("ArrowRight")
            handles.nth(1).focus()
            for _ in range(4):
                page.keyboard.press("ArrowLeft")
            page.wait_for_function(
                "(old) => { const c = [...document.querySelectorAll('.widget-html-content code')];"
                " return c.length >= 2 && c[0].innerText !== old[0] && c[1].innerText !== old[1]; }",
                arg=[beta_before, dpo_before],
                timeout=30_000,
            )
            page.wait_for_function(
                "(old) => { const i = [...document.querySelectorAll('.widget-image')];"
                " return i[0].src !== old[0] && i[1].src !== old[1]; }",
                arg=images_before[:2],
            )
            beta_after, dpo_after = _codes(page)[:2]
            page.screenshot(path=str(SHOTS / "app_after.png"), full_page=True)
        finally:
            browser.close()

    before, after = (tuple(float(x) for x in READOUT.search(t).groups()) for t in (beta_before, beta_after))
    assert after[0] > before[0] and after[1] < before[1], f"β up must mean KL down: {before} -> {after}"
    state = policy_state(toy, after[0])
    np.testing.assert_allclose([after[1], after[2]], [state.kl, state.expected_reward], atol=6e-4)
    dpo = [DPO_READOUT.search(t).groups() for t in (dpo_before, dpo_after)]
    assert float(dpo[1][0]) < float(dpo[0][0]), "← must lower β in the DPO explorer"
    assert all(float(tv) < 1e-3 for *_, tv in dpo), f"DPO on expected preferences must land on π*: {dpo}"
