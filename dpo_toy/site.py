"""The course as a static site: every executed chapter as an HTML page, in course order.

``make html`` runs ``python -m dpo_toy.site``, which writes ``build/site/index.html`` (the course
map and a search box) and one page per chapter with its table of contents and previous/next
links. Pages come from the stored, executed notebooks through nbconvert's ``lab`` template;
nothing is re-run. The site needs no network and no Python to read:

- math is typeset by MathJax 3, copied into ``static/`` from the ``django-static-mathjax`` package
  that ``make`` installs (the nbconvert template's MathJax 2 and require.js from a CDN are removed);
- each slider of the course becomes a static slider (:mod:`dpo_toy.static_sliders`): its states
  on its own grid, computed at build time with the widgets' compute functions, drawn by
  ``static/sliders.js``;
- every link is relative, so the folder works from ``file://`` and from any sub-path of a host.

By default the solution edition is rendered (the worked course, for reading);
``--edition learner`` renders the exercise stubs instead.
"""

import argparse
import copy
import html
import json
import re
import shutil
import sys
from importlib import resources
from pathlib import Path

from . import static_sliders
from .course import CHAPTERS, ROOT

SITE = ROOT / "build" / "site"
STATIC = Path(__file__).parent / "static"
MATHJAX_FILE = "tex-svg-full.js"  # every TeX extension built in: nothing loaded on demand

WIDGET_NOTE = (
    '<div class="dpo-toy-widget-note"><strong>Interactive widget.</strong> '
    "The slider needs a running kernel: open this chapter with <code>make lab</code>, or the "
    "classroom explorer with <code>make app</code>. The next cell prints what it computes.</div>"
)

# MathJax 3 with the delimiters the notebooks use; <pre>/<code> (readouts, code) are left alone.
MATHJAX = r"""<script>
window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
        processEscapes: true, processEnvironments: true},
  svg: {fontCache: "global"},
  options: {ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "tex2jax_process"}
};
</script>
<script defer src="static/mathjax/MATHJAX_FILE"></script>
""".replace("MATHJAX_FILE", MATHJAX_FILE)

_STYLE = """
<style>
  .dpo-toy-nav { display: flex; justify-content: space-between; gap: 1em; max-width: 1100px;
                 margin: 1em auto; padding: 0.6em 1em; border: 1px solid #ddd; border-radius: 6px;
                 font-family: system-ui, sans-serif; font-size: 15px; background: #fafafa; }
  .dpo-toy-nav a { text-decoration: none; }
  .dpo-toy-toc { max-width: 1100px; margin: 0 auto 1em; padding: 0.2em 1em; font-family: system-ui,
                 sans-serif; font-size: 14px; border-left: 3px solid #ccc; }
  .dpo-toy-toc ul { margin: 0.2em 0; padding-left: 1.2em; }
  .dpo-toy-widget-note { padding: 0.6em 1em; border-left: 4px solid #f0ad4e; background: #fff8ec;
                         font-family: system-ui, sans-serif; font-size: 14px; }
  .dpo-slider { font-family: system-ui, sans-serif; max-width: 900px; }
  .dpo-slider-controls input[type=range] { width: 420px; vertical-align: middle; }
  .dpo-slider-controls output { font-family: monospace; margin-left: 0.5em; }
  .dpo-slider-readout { font-size: 13px; margin: 0.4em 0; white-space: pre; }
  .dpo-slider-note { font-size: 13px; color: #555; }
</style>
"""

_HEADING = re.compile(r'<h([1-3]) id="([^"]+)">(.*?)</h\1>', re.S)
_TAG = re.compile(r"<[^>]+>")


def _is_widget_output(output):
    data = output.get("data", {})
    text = data.get("text/plain", "")
    if isinstance(text, list):
        text = "".join(text)
    return output.get("output_type") in ("execute_result", "display_data") and text.startswith(
        ("VBox(", "HBox(", "Box(")
    )


def _html_output(text, plain):
    return {"output_type": "display_data", "metadata": {}, "data": {"text/html": text, "text/plain": plain}}


def readable(nb, stem=None, sliders=True):
    """A copy of an executed notebook with each widget's placeholder replaced by a static slider.

    A widget whose chapter (``stem``) and explorer class have a spec in
    :data:`dpo_toy.static_sliders.SPECS` becomes a static slider; any other keeps a note saying it
    needs a kernel. Returns ``(notebook, number of static sliders)``.
    """
    nb = copy.deepcopy(nb)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for k, output in enumerate(cell.outputs):
            if not _is_widget_output(output):
                continue
            found = re.search(r"\b(\w+Explorer)\(", cell.source)
            spec = static_sliders.SPECS.get((stem, found.group(1))) if found and sliders else None
            if spec is None:
                cell.outputs[k] = _html_output(WIDGET_NOTE, "(interactive widget)")
            else:
                fragment = static_sliders.slider_html(spec, f"slider-{count}")
                cell.outputs[k] = _html_output(fragment, "(static slider)")
                count += 1
    return nb, count


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
    return f'<nav class="dpo-toy-nav">{left}<a href="index.html">Course map · search</a>{right}</nav>'


def headings(body):
    """``(level, id, text)`` for each h1–h3 of a rendered page (the anchors nbconvert adds)."""
    out = []
    for level, anchor, inner in _HEADING.findall(body):
        text = html.unescape(_TAG.sub("", inner)).replace("¶", "").strip()
        out.append((int(level), anchor, text))
    return out


def _toc(heads):
    items = "".join(
        f'<li style="margin-left:{(level - 2) * 1.2}em"><a href="#{anchor}">{html.escape(text)}</a></li>'
        for level, anchor, text in heads
        if level > 1
    )
    return f'<nav class="dpo-toy-toc" aria-label="contents"><strong>Contents</strong><ul>{items}</ul></nav>'


def _sections(nb, heads):
    """The chapter's markdown text cut at its headings, for the search index."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    lines, sections, current = text.splitlines(), [], None
    ids = iter(heads)
    for line in lines:
        match = re.match(r"^(#{1,3})\s+(.*)", line)
        if match:
            head = next(ids, None)
            if head is not None:
                current = {"id": head[1], "heading": head[2], "text": ""}
                sections.append(current)
                continue
        if current is None:
            current = {"id": "", "heading": "", "text": ""}
            sections.append(current)
        current["text"] += " " + line
    for s in sections:
        s["text"] = re.sub(r"\s+", " ", s["text"]).strip()[:4000]
    return sections


def _index(chapters, missing, edition):
    def row(ch):
        core = getattr(ch, "core", None)
        track = getattr(ch, "track", None)  # "core" or another track of dpo_toy.course.TRACKS
        if core is None and track is not None:
            core = track == "core"
        minutes = getattr(ch, "minutes", None)
        tags = []
        if core is True:
            tags.append('<span class="core">core path</span>')
        elif core is False:
            tags.append('<span class="optional">optional</span>')
        if minutes:
            tags.append(f"<span>about {int(minutes)} min</span>")
        extra = f" {' · '.join(tags)}" if tags else ""
        return (
            f'<li><a href="{ch.stem}.html"><strong>{ch.stem[:2]} · {html.escape(ch.title)}</strong></a>{extra}'
            f"<br><span>{html.escape(ch.question)}</span></li>"
        )

    rows = "\n".join(row(ch) for ch in chapters)
    has_core = any(getattr(ch, "core", None) is not None or getattr(ch, "track", None) for ch in chapters)
    legend = (
        "<p>Chapters marked <span class='core'>core path</span> make the shortest route through "
        "the course; the others deepen it.</p>"
        if has_core
        else ""
    )
    coming = "\n".join(f"<li>{ch.stem[:2]} · {html.escape(ch.title)} (coming)</li>" for ch in missing)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>dpo-toy: the course</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 760px; margin: 3em auto; line-height: 1.5;
         padding: 0 1em; }}
  li {{ margin: 0.8em 0; }}
  span {{ color: #555; }}
  .core {{ color: #fff; background: #2a7ae2; border-radius: 4px; padding: 0 0.4em; font-size: 13px; }}
  .optional {{ color: #555; border: 1px solid #bbb; border-radius: 4px; padding: 0 0.4em; font-size: 13px; }}
  #search {{ width: 100%; font-size: 16px; padding: 0.3em; }}
  #results li {{ margin: 0.5em 0; }}
</style></head>
<body>
<h1>dpo-toy: Direct Preference Optimization, computed</h1>
<p>Every chapter is a notebook stored executed: each number on these pages was computed by the
code above it. This is the {html.escape(edition)} edition, for reading; its sliders move over
values computed when the site was built. To run the code and drag the sliders to any value, clone
the repository and run <code>make lab</code>.</p>
<p><label for="search">Search the course</label><br>
<input id="search" type="search" placeholder="e.g. partition function, Bradley-Terry, beta"></p>
<ol id="results"></ol>
<h2>Course map</h2>
{legend}
<ol start="0" style="list-style: none; padding-left: 0">
{rows}
</ol>
{f"<h2>Still to come</h2><ul>{coming}</ul>" if missing else ""}
<script src="search-index.js"></script>
<script src="static/search.js"></script>
</body></html>
"""


def _clean_head(body):
    """Drop every script the template loads from a CDN (MathJax 2, require.js) and its MathJax config."""
    body = re.sub(r'<script[^>]*\bsrc="(?:https?:)?//[^"]*"[^>]*>\s*</script>\s*', "", body)
    body = re.sub(r"<script type=\"text/x-mathjax-config\">.*?</script>\s*", "", body, flags=re.S)
    body = re.sub(r"<!-- Load mathjax -->\s*", "", body)
    # mermaid diagrams would load their renderer from a CDN; the course has none, so drop the loader
    body = re.sub(
        r'<script type="module">(?:(?!</script>).)*mermaid(?:(?!</script>).)*</script>\s*', "", body, flags=re.S
    )
    return body


def mathjax_source():
    """Path of the MathJax 3 bundle installed by ``make`` (the ``django-static-mathjax`` package)."""
    try:
        path = resources.files("mathjax") / "static" / "mathjax" / "es5" / MATHJAX_FILE
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            "MathJax 3 is not installed: run `make setup` (it installs the django-static-mathjax package)"
        )
    return Path(str(path))


def _copy_static(out):
    static = out / "static"
    (static / "mathjax").mkdir(parents=True, exist_ok=True)
    source = mathjax_source()
    shutil.copyfile(source, static / "mathjax" / MATHJAX_FILE)
    shutil.copyfile(source.parent.parent / "LICENSE", static / "mathjax" / "LICENSE")
    for name in ("sliders.js", "search.js"):
        shutil.copyfile(STATIC / name, static / name)


def build(out=SITE, edition="solutions", sliders=True):
    """Render the course to ``out``; returns the paths written (index first).

    ``sliders=False`` leaves the "needs a kernel" notes in place of the static sliders (faster;
    for tests of the pages alone).
    """
    import nbformat
    from nbconvert import HTMLExporter

    if edition not in ("solutions", "learner"):
        raise ValueError(f"edition must be 'solutions' or 'learner', got {edition!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _copy_static(out)
    solutions = edition == "solutions"
    ready = [ch for ch in CHAPTERS if ch.path(solutions=solutions).exists()]
    missing = [ch for ch in CHAPTERS if ch not in ready]
    exporter = HTMLExporter(template_name="lab")
    index = out / "index.html"
    index.write_text(_index(ready, missing, edition), encoding="utf-8")
    written, search = [index], []
    for position, chapter in enumerate(ready):
        source = nbformat.read(chapter.path(solutions=solutions), as_version=4)
        nb, n_sliders = readable(source, chapter.stem, sliders=sliders)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": chapter.title}})
        body = _clean_head(body)
        heads = headings(body)
        nav = _nav(position, ready)
        head_end, body_start = body.index("</head>"), body.index(">", body.index("<body")) + 1
        scripts = MATHJAX + ('<script defer src="static/sliders.js"></script>\n' if n_sliders else "")
        body = body[:head_end] + _STYLE + scripts + body[head_end:body_start] + nav + _toc(heads) + body[body_start:]
        body = body.replace("</body>", nav + "</body>")
        page = out / f"{chapter.stem}.html"
        page.write_text(body, encoding="utf-8")
        written.append(page)
        search.append({"page": page.name, "title": chapter.title, "sections": _sections(source, heads)})
    payload = json.dumps(search, ensure_ascii=False, separators=(",", ":"))
    (out / "search-index.js").write_text(f"window.DPO_TOY_SEARCH = {payload};\n", encoding="utf-8")
    return written


def site_size(out=SITE):
    """Total size in bytes of every file under ``out``."""
    return sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dpo_toy.site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(SITE), help="output folder (default: build/site)")
    parser.add_argument("--edition", default="solutions", choices=("solutions", "learner"))
    args = parser.parse_args(argv)
    pages = build(args.out, args.edition)
    size = site_size(args.out) / 1e6
    print(f"wrote {len(pages) - 1} chapter pages and the index to {pages[0]} ({size:.1f} MB in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
