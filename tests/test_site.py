"""``make html``: every chapter gets a page with its title, its figures, working links and no errors."""

import re

import nbformat
import pytest

from dpo_toy import site
from dpo_toy.course import CHAPTERS

READY = [ch for ch in CHAPTERS if ch.path(solutions=True).exists()]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    pages = site.build(out)
    return out, pages


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
    if "$$" in "".join(c.source for c in nb.cells if c.cell_type == "markdown"):
        assert "MathJax" in page
    links = re.findall(r'<nav class="dpo-toy-nav">(.*?)</nav>', page)
    assert len(links) == 2 and links[0] == links[1]  # top and bottom
    if position > 0:
        assert f'href="{READY[position - 1].stem}.html"' in links[0]
    if position + 1 < len(READY):
        assert f'href="{READY[position + 1].stem}.html"' in links[0]


def test_widgets_become_a_note_not_placeholder_text(built):
    out, _ = built
    page = (out / "01_kl_constrained_optimal_policy.html").read_text()
    assert "Interactive widget." in page and "VBox(" not in page


def test_learner_edition_and_bad_edition(tmp_path):
    pages = site.build(tmp_path, edition="learner")
    assert "not attempted yet" in (tmp_path / "01_kl_constrained_optimal_policy.html").read_text()
    assert len(pages) == len(READY) + 1
    with pytest.raises(ValueError, match="edition"):
        site.build(tmp_path, edition="teacher")
