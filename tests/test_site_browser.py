"""The static site in a real browser (headless Chromium), opened from file:// with the network blocked.

Every page: math typeset by the bundled MathJax (no raw TeX left), every image loaded, no console
error, no request outside file://. Every static slider: the keyboard moves it, the readout and the
picture change, and the numbers shown equal the library's, computed here, for the value shown.
Skips without Chromium/Playwright unless DPO_TOY_REQUIRE_BROWSER=1 (CI), which makes that a failure.
"""

import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

import dpo_toy as d
from dpo_toy import bradley_terry as bt
from dpo_toy import training
from dpo_toy.course import CHAPTERS
from dpo_toy.data import load_chess

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
READY = [ch for ch in CHAPTERS if ch.path(solutions=True).exists()]
NUMBER = r"([-+]?\d+\.\d+(?:e[-+]\d+)?)"
# Raw TeX left in visible text: $…$ with no space after the opening $, \( … \), \[ … \], \begin{…}.
RAW_TEX = re.compile(r"\$[^\s$][^$]*\$|\\\(|\\\[|\\begin\{|\\frac\{")


def _require_browser():
    missing = [f"{CHROMIUM} (apt-get install chromium)"] if not Path(CHROMIUM).exists() else []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        reason = "no real browser here: missing " + " and ".join(missing)
        if os.environ.get("DPO_TOY_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (DPO_TOY_REQUIRE_BROWSER=1 makes this a failure)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(built_site, tmp_path_factory):
    """The built site and a Chromium context that aborts (and records) every request not to file://."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    out, _ = built_site
    outside = []

    def guard(route):
        url = route.request.url
        if url.startswith(("file://", "data:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1200, "height": 900}, offline=True,
        )  # fmt: skip
        context.route("**/*", guard)
        context.on("request", lambda r: None if r.url.startswith(("file://", "data:")) else outside.append(r.url))
        yield out, context, outside
        context.close()


def _open(context, path):
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
    page.evaluate("() => MathJax.startup.promise")
    return page, errors


@pytest.mark.parametrize("chapter", READY, ids=[ch.stem for ch in READY])
def test_page_math_images_no_errors_no_requests(browser, chapter):
    """Math typeset, no raw TeX, every image loaded, no console error, nothing fetched from outside."""
    out, context, outside = browser
    page, errors = _open(context, out / f"{chapter.stem}.html")
    n_math = page.locator("mjx-container").count()
    cells = nbformat.read(chapter.path(solutions=True), as_version=4).cells
    markdown = "".join(c.source for c in cells if c.cell_type == "markdown")
    if "$" in markdown:
        assert n_math > 0, "the chapter has formulas but none was typeset"
    assert page.locator("mjx-merror").count() == 0  # MathJax's own "TeX error" boxes
    visible = page.evaluate(
        """() => [...document.querySelectorAll('.jp-MarkdownOutput')].map(e => {
             const c = e.cloneNode(true); c.querySelectorAll('mjx-container, code, pre').forEach(x => x.remove());
             return c.innerText; }).join('\\n')"""
    )
    assert not RAW_TEX.findall(visible), RAW_TEX.findall(visible)[:5]
    images = page.evaluate("() => [...document.images].map(i => [i.complete, i.naturalWidth])")
    assert all(ok and width > 0 for ok, width in images), images
    assert errors == []
    assert outside == []
    page.close()


def test_index_search_and_links(browser):
    """The index finds sections by search and links every chapter relatively."""
    out, context, outside = browser
    page, errors = (context.new_page(), [])
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto((out / "index.html").as_uri())
    hrefs = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    assert all(not re.match(r"^[a-z]+:|^/", h) for h in hrefs)  # relative only: works under any sub-path
    page.fill("#search", "bradley terry")
    results = page.locator("#results a")
    assert results.count() > 0
    assert "bradley" in page.locator("#results li").first.inner_text().lower()
    first = results.first.get_attribute("href")
    assert (out / first.split("#")[0]).exists()
    assert errors == [] and outside == []
    page.close()


def _slider(page, index):
    root = f"#slider-{index}"
    return {
        "input": page.locator(f"{root}-input"),
        "readout": lambda: page.locator(f"{root} .dpo-slider-readout").inner_text(),
        "picture": lambda: page.locator(f"{root} svg").inner_html(),
        "position": lambda: int(page.locator(f"{root}-input").input_value()),
    }


def _move(page, slider, keys):
    """Move with the keyboard; return (readout, picture) before and after."""
    before = slider["readout"](), slider["picture"]()
    slider["input"].focus()
    for key in keys:
        page.keyboard.press(key)
    return before, (slider["readout"](), slider["picture"]())


def _exponents(lo, hi, step):
    # the FloatLogSlider positions, counted here independently of the site's log_grid
    return 10.0 ** np.arange(np.log10(lo), np.log10(hi) + 1e-9, step)


def _bar_labels(page, index, n):
    labels = page.locator(f"#slider-{index} svg text.dpo-value").all_text_contents()
    assert len(labels) == n
    return np.array([float(t.rstrip("↑")) for t in labels])


@pytest.mark.parametrize("stem", ["01_kl_constrained_optimal_policy", "02_boost_factor_table"])
def test_beta_slider_matches_the_library(browser, stem):
    """β slider: keys move it; β, KL, E[r] and the π* bars equal policy.* at the β shown."""
    out, context, outside = browser
    page, errors = _open(context, out / f"{stem}.html")
    slider = _slider(page, 0)
    grid = _exponents(1e-2, 1e2, 0.05)
    toy = d.capital_of_france()
    for keys in (["ArrowRight"] * 3, ["ArrowLeft"] * 12, ["End"], ["Home"], ["PageUp", "ArrowRight"]):
        (r0, p0), (r1, p1) = _move(page, slider, keys)
        assert r1 != r0 and p1 != p0
        beta, kl, reward = map(
            float, re.search(rf"β = {NUMBER}.*KL\(π\*‖π_ref\) = {NUMBER}.*E_π\*\[r\] = {NUMBER}", r1).groups()
        )
        k = slider["position"]()
        assert beta == pytest.approx(grid[k], abs=5e-5)
        pi = d.optimal_policy(toy.pi_ref, toy.rewards, grid[k])
        assert kl == pytest.approx(d.kl_divergence(pi, toy.pi_ref), abs=5e-5)
        assert reward == pytest.approx(float(pi @ toy.rewards), abs=5e-5)
        np.testing.assert_allclose(_bar_labels(page, 0, len(toy)), pi, atol=5e-4)
        if stem.startswith("02"):
            table = page.locator("#slider-0 table").inner_text()
            assert f"{pi[0]:.4f}" in table
    assert "computes any value" in page.locator("#slider-0 .dpo-slider-note").inner_text()
    assert errors == [] and outside == []
    page.close()


def test_prior_slider_matches_the_library(browser):
    """Prior slider (chapter 3): λ and the top player's Elo equal a fit at the λ shown."""
    out, context, outside = browser
    page, errors = _open(context, out / "03_bradley_terry_chess.html")
    slider = _slider(page, 0)
    grid = _exponents(1e-8, 10.0, 0.25)
    avro = load_chess("AVRO")
    keres = avro.index("Paul Keres")
    perfect = avro.score_a.copy()
    perfect[avro.player_a == keres] = 1.0
    perfect[avro.player_b == keres] = 0.0
    for keys in (["ArrowLeft"] * 4, ["ArrowRight"] * 10, ["Home"]):
        (r0, p0), (r1, p1) = _move(page, slider, keys)
        assert r1 != r0 and p1 != p0
        lam, name, elo = re.search(r"λ = (\S+)\s+top: (.+?) at ([-+]\d+\.\d) Elo", r1).groups()
        k = slider["position"]()
        assert float(lam) == pytest.approx(grid[k], rel=0.05)
        fit = bt.fit(avro.player_a, avro.player_b, perfect, names=avro.names, l2=grid[k], max_iter=200, check=False)
        ratings = fit.elo() - 1500.0
        assert name == avro.names[int(np.argmax(ratings))]
        assert float(elo) == pytest.approx(ratings.max(), abs=0.06)
        np.testing.assert_allclose(_bar_labels(page, 0, len(avro.names)), ratings, atol=0.51)
    assert errors == [] and outside == []
    page.close()


def test_dpo_slider_matches_the_library(browser):
    """DPO retraining slider (chapter 6): loss and TV equal a DPO run at the β shown, for each dataset."""
    out, context, outside = browser
    page, errors = _open(context, out / "06_dpo_loss.html")
    slider = _slider(page, 0)
    grid = _exponents(0.05, 10.0, 0.05)
    toy = d.capital_of_france()
    menu = page.locator("#slider-0 select")
    datasets = [training.expected_pairs(toy), training.sample_pairs(toy, 200, seed=0)]
    for choice, pairs in enumerate(datasets):
        menu.select_option(str(choice))
        for keys in (["ArrowRight"] * 2, ["ArrowLeft"] * 9):
            (r0, p0), (r1, p1) = _move(page, slider, keys)
            assert r1 != r0 and p1 != p0
            beta, loss, tv = re.search(rf"β = {NUMBER}.*DPO loss = {NUMBER}\s+TV\(π_θ, π\*\) = (\S+)", r1).groups()
            k = slider["position"]()
            assert float(beta) == pytest.approx(grid[k], abs=5e-5)
            run = training.train_tabular_dpo(toy, pairs.merged(), grid[k], steps=300, lr=0.2)
            pi_star = d.optimal_policy(toy.pi_ref, toy.rewards, grid[k])
            assert float(loss) == pytest.approx(run.losses[-1], abs=5e-5)
            assert float(tv) == pytest.approx(training.total_variation(run.final, pi_star), rel=0.06)
            np.testing.assert_allclose(_bar_labels(page, 0, len(toy)), run.final, atol=5e-4)
    assert errors == [] and outside == []
    page.close()
