"""The course as a static site: every executed chapter as an HTML page, in course order.

``make html`` runs ``python -m dpo_toy.site``, which writes ``build/site/index.html`` (the course
map) and one page per chapter with previous/next links. Pages come from the stored, executed
notebooks through nbconvert's ``lab`` template: figures are embedded in the page, math is typeset
by MathJax in the reader's browser, and nothing is re-run. Sliders need a live kernel, so a
widget's place on the page says how to get it (``make lab`` or ``make app``); the cell after each
widget prints what the widget computes, so the numbers are on the page either way.

By default the solution edition is rendered (the worked course, for reading);
``--edition learner`` renders the exercise stubs instead.
"""

import argparse
import copy
import html
import sys
from pathlib import Path

from .course import CHAPTERS, ROOT

SITE = ROOT / "build" / "site"

WIDGET_NOTE = (
    '<div class="dpo-toy-widget-note"><strong>Interactive widget.</strong> '
    "The slider needs a running kernel: open this chapter with <code>make lab</code>, or the "
    "classroom explorer with <code>make app</code>. The next cell prints what it computes.</div>"
)

_STYLE = """
<style>
  .dpo-toy-nav { display: flex; justify-content: space-between; gap: 1em; max-width: 1100px;
                 margin: 1em auto; padding: 0.6em 1em; border: 1px solid #ddd; border-radius: 6px;
                 font-family: system-ui, sans-serif; font-size: 15px; background: #fafafa; }
  .dpo-toy-nav a { text-decoration: none; }
  .dpo-toy-widget-note { padding: 0.6em 1em; border-left: 4px solid #f0ad4e; background: #fff8ec;
                         font-family: system-ui, sans-serif; font-size: 14px; }
</style>
"""


def _is_widget_output(output):
    data = output.get("data", {})
    text = data.get("text/plain", "")
    if isinstance(text, list):
        text = "".join(text)
    return output.get("output_type") in ("execute_result", "display_data") and text.startswith(
        ("VBox(", "HBox(", "Box(")
    )


def readable(nb):
    """A copy of an executed notebook with each widget's placeholder text replaced by a note."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for k, output in enumerate(cell.outputs):
            if _is_widget_output(output):
                cell.outputs[k] = {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/html": WIDGET_NOTE, "text/plain": "(interactive widget)"},
                }
    return nb


def _nav(position, chapters):
    """Previous / index / next links for the chapter at ``position``."""
    left = (
        f'<a href="{chapters[position - 1].stem}.html">← {html.escape(chapters[position - 1].title)}</a>'
        if position > 0
        else "<span></span>"
    )
    right = (
        f'<a href="{chapters[position + 1].stem}.html">{html.escape(chapters[position + 1].title)} →</a>'
        if position + 1 < len(chapters)
        else "<span></span>"
    )
    return f'<nav class="dpo-toy-nav">{left}<a href="index.html">Course map</a>{right}</nav>'


def _index(chapters, missing, edition):
    rows = "\n".join(
        f'<li><a href="{ch.stem}.html"><strong>{ch.stem[:2]} · {html.escape(ch.title)}</strong></a>'
        f"<br><span>{html.escape(ch.question)}</span></li>"
        for ch in chapters
    )
    coming = "\n".join(f"<li>{ch.stem[:2]} · {html.escape(ch.title)} (coming)</li>" for ch in missing)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dpo-toy: the course</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 760px; margin: 3em auto; line-height: 1.5;
         padding: 0 1em; }}
  li {{ margin: 0.8em 0; }}
  span {{ color: #555; }}
</style></head>
<body>
<h1>dpo-toy: Direct Preference Optimization, computed</h1>
<p>Every chapter is a notebook stored executed: each number on these pages was computed by the
code above it. This is the {html.escape(edition)} edition, for reading; to run the code and drag
the sliders, clone the repository and run <code>make lab</code>.</p>
<ol start="0" style="list-style: none; padding-left: 0">
{rows}
</ol>
{f"<h2>Still to come</h2><ul>{coming}</ul>" if missing else ""}
</body></html>
"""


def build(out=SITE, edition="solutions"):
    """Render the course to ``out``; returns the paths written (index first)."""
    import nbformat
    from nbconvert import HTMLExporter

    if edition not in ("solutions", "learner"):
        raise ValueError(f"edition must be 'solutions' or 'learner', got {edition!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ready = [ch for ch in CHAPTERS if ch.path(solutions=edition == "solutions").exists()]
    missing = [ch for ch in CHAPTERS if ch not in ready]
    exporter = HTMLExporter(template_name="lab")
    index = out / "index.html"
    index.write_text(_index(ready, missing, edition), encoding="utf-8")
    written = [index]
    for position, chapter in enumerate(ready):
        nb = readable(nbformat.read(chapter.path(solutions=edition == "solutions"), as_version=4))
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": chapter.title}})
        nav = _nav(position, ready)
        head_end, body_start = body.index("</head>"), body.index(">", body.index("<body")) + 1
        body = body[:head_end] + _STYLE + body[head_end:body_start] + nav + body[body_start:]
        body = body.replace("</body>", nav + "</body>")
        page = out / f"{chapter.stem}.html"
        page.write_text(body, encoding="utf-8")
        written.append(page)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dpo_toy.site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(SITE), help="output folder (default: build/site)")
    parser.add_argument("--edition", default="solutions", choices=("solutions", "learner"))
    args = parser.parse_args(argv)
    pages = build(args.out, args.edition)
    print(f"wrote {len(pages) - 1} chapter pages and the index to {pages[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
