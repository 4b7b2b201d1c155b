"""``make html``: every chapter gets a page with its title, its figures, working links and no errors."""

import re

import nbformat
import numpy as np
import pytest

from dpo_toy import site, static_sliders
from dpo_toy.course import CHAPTERS

READY = [ch for ch in CHAPTERS if ch.path(solutions=True).exists()]


@pytest.fixture(scope="module")
def built(built_site):
    return built_site


def _images(nb):
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_index_lists_every_ready_chapter_in_order(built):
    out, pages = built
    assert pages[0] == out / "index.html" and len(pages) == len(READY) + 1
    index = (out / "index.html").read_text()
    links = re.findall(r'href="([^"]+)\.html"', index)
    assert links == [ch.stem for ch in READY]
    for ch in READY:
        assert ch.question.replace("'", "&#x27;") in index


@pytest.mark.parametrize("position", range(len(READY)), ids=[ch.stem for ch in READY])
def test_each_chapter_page_has_its_title_figures_and_no_errors(built, position):
    out, _ = built
    chapter = READY[position]
    nb = nbformat.read(chapter.path(solutions=True), as_version=4)
    page = (out / f"{chapter.stem}.html").read_text()
    assert f"<title>{chapter.title}</title>" in page.replace("&amp;", "&")
    heading = next(c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown")
    assert heading.lstrip("# ") in page  # the notebook's own H1
    assert page.count('src="data:image/png;base64,') == _images(nb)  # every figure, embedded
    assert "Traceback" not in page and not any(
        o.get("output_type") == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    if "$" in "".join(c.source for c in nb.cells if c.cell_type == "markdown"):
        assert 'src="static/mathjax/tex-svg-full.js"' in page
    links = re.findall(r'<nav class="dpo-toy-nav">(.*?)</nav>', page)
    assert len(links) == 2 and links[0] == links[1]  # top and bottom
    if position > 0:
        assert f'href="{READY[position - 1].stem}.html"' in links[0]
    if position + 1 < len(READY):
        assert f'href="{READY[position + 1].stem}.html"' in links[0]


def _widget_outputs(nb):
    return sum(site._is_widget_output(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.parametrize("chapter", READY, ids=[ch.stem for ch in READY])
def test_every_widget_becomes_a_static_slider(built, chapter):
    """Each widget of a chapter becomes a static slider with its note; a widget without a spec fails here."""
    out, _ = built
    page = (out / f"{chapter.stem}.html").read_text()
    n = _widget_outputs(nbformat.read(chapter.path(solutions=True), as_version=4))
    assert page.count('<div class="dpo-slider" id=') == n
    assert "Interactive widget." not in page and "VBox(" not in page
    assert page.count("the live notebook (<code>make lab</code>) computes any value") == n
    assert ('src="static/sliders.js"' in page) == (n > 0)


def test_the_course_sliders_are_all_there(built):
    """Chapters 1, 2, 3 and 6 each carry their slider (the specs match the notebooks' explorers)."""
    out, _ = built
    for stem, _explorer in static_sliders.SPECS:
        if (out / f"{stem}.html").exists():
            assert '<div class="dpo-slider" id="slider-0">' in (out / f"{stem}.html").read_text(), stem


def test_index_marks_the_core_path_when_chapters_say_so(built):
    """A chapter on the core track (or with core=True) is marked on the course map, and only those."""
    out, _ = built
    index = (out / "index.html").read_text()
    core = [ch for ch in READY if getattr(ch, "core", None) is True or getattr(ch, "track", None) == "core"]
    items = re.findall(r"<li><a href=\"([^\"]+)\.html\">.*?</li>", index)
    marked = re.findall(r'<li><a href="([^"]+)\.html">[^\n]*?class="core">core path', index)
    assert len(items) == len(READY) and marked == [ch.stem for ch in core]


def test_log_grid_is_the_float_log_slider_positions():
    """The grid is 10**(lo + k·step) up to hi: 81 positions for β in [1e-2, 1e2] by 0.05, start value on it."""
    grid = static_sliders.log_grid((1e-2, 1e2), 0.05)
    assert len(grid) == 81 and grid[0] == pytest.approx(1e-2) and grid[-1] == pytest.approx(1e2)
    np.testing.assert_allclose(np.diff(np.log10(grid)), 0.05)
    assert len(static_sliders.log_grid((1e-8, 10.0), 0.25)) == 37
    assert np.min(np.abs(static_sliders.log_grid((0.05, 10.0), 0.05) - 0.5)) < 1e-12
    with pytest.raises(ValueError, match="value_range"):
        static_sliders.log_grid((1.0, 0.1), 0.05)
    with pytest.raises(ValueError, match="step"):
        static_sliders.log_grid((0.1, 1.0), 0)


def test_pages_load_nothing_from_outside_and_link_relatively(built):
    """No script, style or image from another host; internal links are relative and their targets exist."""
    out, pages = built
    for page in pages:
        text = page.read_text()
        assert not re.findall(r'<(?:script|img|link|iframe)[^>]*(?:src|href)="(?:https?:)?//', text), page.name
        assert "cdnjs" not in text and "MathJax.Hub" not in text and "require.js" not in text
        for target in re.findall(r'(?:src|href)="([^"#:]+?)(?:#[^"]*)?"', text):
            assert not target.startswith("/"), (page.name, target)
            assert (out / target).exists(), (page.name, target)
    assert (out / "static" / "mathjax" / site.MATHJAX_FILE).stat().st_size > 1_000_000


def test_site_fits_the_size_budget(built):
    """The whole site (pages, MathJax, slider data) stays under 15 MB."""
    out, _ = built
    assert site.site_size(out) < 15e6


def test_each_chapter_page_has_a_table_of_contents(built):
    """Every h2 of a chapter is linked from the contents at the top of its page."""
    out, _ = built
    for chapter in READY:
        page = (out / f"{chapter.stem}.html").read_text()
        toc = re.search(r'<nav class="dpo-toy-toc".*?</nav>', page, re.S).group(0)
        for anchor in re.findall(r'<h2 id="([^"]+)">', page):
            assert f'href="#{anchor}"' in toc.replace("&amp;", "&"), (chapter.stem, anchor)


def test_learner_edition_without_sliders_and_bad_edition(tmp_path):
    """The learner edition builds every page; ``sliders=False`` leaves the "needs a kernel" note."""
    pages = site.build(tmp_path, edition="learner", sliders=False)
    assert len(pages) == len(READY) + 1
    page = (tmp_path / "01_kl_constrained_optimal_policy.html").read_text()
    assert "not attempted yet" in page
    assert "Interactive widget." in page and "VBox(" not in page and 'class="dpo-slider"' not in page
    with pytest.raises(ValueError, match="edition"):
        site.build(tmp_path, edition="teacher")
