"""The course files: learner and solution editions in sync, notebooks stored executed and clean."""

import json

import nbformat
import pytest

from dpo_toy.course import (
    BEGIN,
    CHAPTERS,
    NOTEBOOKS,
    ROOT,
    SOLUTIONS,
    STUB,
    TRACKS,
    course_map,
    learner_edition,
    normalise,
    strip_solutions,
    track_summary,
)

SOLUTION_FILES = sorted(SOLUTIONS.glob("*.ipynb"))


def test_strip_solutions_keeps_indentation_and_the_rest():
    """A solution block becomes one stub line at the block's indentation; code around it stays."""
    source = "def f(x):\n    '''doc'''\n    # BEGIN SOLUTION\n    y = x\n    return y\n    # END SOLUTION\n\nprint(1)"
    assert strip_solutions(source) == f"def f(x):\n    '''doc'''\n    {STUB}\n\nprint(1)"


def test_strip_solutions_uses_the_learner_line_when_given():
    """`# BEGIN SOLUTION learner: x = ...` leaves `x = ...` (a question's placeholder), not a raise."""
    source = f"{BEGIN} learner: guess = ...  # your prediction\nguess = 0.3\n# END SOLUTION\npredict('1.p1', guess)"
    assert strip_solutions(source) == "guess = ...  # your prediction\npredict('1.p1', guess)"


def test_every_solution_notebook_has_a_learner_twin_and_back():
    """notebooks/ and notebooks/solutions/ hold the same chapters."""
    learner = {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    assert learner == {p.name for p in SOLUTION_FILES} and learner


@pytest.mark.parametrize("solution", SOLUTION_FILES, ids=lambda p: p.stem)
def test_learner_edition_is_in_sync(solution):
    """The stored learner edition's sources equal the ones generated from the solution edition."""
    expected = learner_edition(nbformat.read(solution, as_version=4))
    stored = nbformat.read(NOTEBOOKS / solution.name, as_version=4)
    assert [(c.cell_type, c.source) for c in stored.cells] == [(c.cell_type, c.source) for c in expected.cells]
    assert not any(BEGIN in c.source for c in stored.cells), "a solution leaked into the learner edition"


@pytest.mark.parametrize("solution", SOLUTION_FILES, ids=lambda p: p.stem)
def test_each_chapter_ends_with_at_least_two_checked_exercises(solution):
    """At least two solution blocks, each followed by a check(...) cell."""
    cells = nbformat.read(solution, as_version=4).cells
    exercises = [i for i, c in enumerate(cells) if BEGIN in c.source]
    assert len(exercises) >= 2
    for i in exercises:
        checked = any(line.startswith(("check(", "predict(")) for line in cells[i].source.splitlines())
        assert checked or cells[i + 1].source.startswith("check("), f"cell {i + 1} should check the exercise above it"


@pytest.mark.parametrize(
    "path",
    sorted(NOTEBOOKS.glob("**/*.ipynb")) + sorted((ROOT / "app").glob("*.ipynb")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_notebooks_are_stored_executed_and_normalised(path):
    """Every code cell was run, no error is stored, and nothing run-dependent is kept."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip():
            assert cell.execution_count is not None, f"unexecuted cell: {cell.source[:60]!r}"
            assert not any(o.output_type == "error" for o in cell.outputs), f"stored error in {cell.source[:60]!r}"
    before = json.dumps(nb, sort_keys=True)
    assert json.dumps(normalise(nb), sort_keys=True) == before, "run `make notebooks` to store it normalised"


def test_course_map_lists_every_chapter_once():
    """The map has one line per chapter, ready when its notebook exists."""
    lines = course_map().splitlines()
    assert len(lines) == len(CHAPTERS)
    for chapter, line in zip(CHAPTERS, lines):
        assert chapter.stem in line
        assert line.startswith("[ready ]") == chapter.path().exists()


def _table_after(text, heading):
    """The markdown table rows (lines starting with '|') in the section that starts at ``heading``."""
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return rows


def test_readme_notation_table_is_chapter_zeros():
    """The README's notation table is word for word the one in 00_start_here."""
    readme = (ROOT / "README.md").read_text()
    chapter = "\n".join(c.source for c in nbformat.read(SOLUTIONS / "00_start_here.ipynb", as_version=4).cells)
    assert _table_after(readme, "## Notation") == _table_after(chapter, "## Notation")
    assert len(_table_after(readme, "## Notation")) > 10


def test_readme_course_table_follows_the_map():
    """One README row per chapter, in order, with the right title and ready/coming status."""
    rows = _table_after((ROOT / "README.md").read_text(), "## The course")[2:]
    assert len(rows) == len(CHAPTERS)
    for chapter, row in zip(CHAPTERS, rows):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == f"{chapter.stem[:2]} {chapter.title}"
        assert cells[1] == chapter.question
        assert cells[2] == chapter.track
        assert cells[3] == f"{chapter.minutes} min"
        assert cells[4] == ("ready" if chapter.path().exists() else "coming")


def test_core_path_is_marked_with_its_time_everywhere():
    """Core = 00, 01, 02, 04, 05, 06 and 03 is the side path; README, guide and map agree on the times."""
    assert [ch.stem[:2] for ch in CHAPTERS if ch.track == "core"] == ["00", "01", "02", "04", "05", "06"]
    assert [ch.stem[:2] for ch in CHAPTERS if ch.track == "side"] == ["03"]
    assert {ch.track for ch in CHAPTERS} == set(TRACKS) and all(ch.minutes > 0 for ch in CHAPTERS)
    core = sum(ch.minutes for ch in CHAPTERS if ch.track == "core")
    assert f"about {core} min" in (ROOT / "README.md").read_text()
    assert f"(00, 01, 02, 04, 05, 06): {core} min" in track_summary()
    rows = _table_after((NOTEBOOKS / "INSTRUCTORS.md").read_text(), "## Chapters: goals and timing")[2:]
    times = {r.strip("|").split("|")[0].strip(): r.strip("|").split("|")[-1].strip() for r in rows}
    for ch in CHAPTERS:
        if ch.path().exists():
            assert times[f"{ch.stem[:2]} {ch.title}"] == f"{ch.minutes} min", ch.stem


def test_normalise_merges_split_prints_and_clears_volatile_cells():
    """Two stdout chunks become one; a cell tagged volatile-output keeps no output."""
    nb = nbformat.v4.new_notebook()
    printed = nbformat.v4.new_code_cell("print(1); print(2)")
    printed.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="1\n"),
        nbformat.v4.new_output("stream", name="stdout", text="2\n"),
    ]
    timed = nbformat.v4.new_code_cell("%time f()", metadata={"tags": ["volatile-output"]})
    timed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="3 ms\n")]
    nb.cells = [printed, timed]
    normalise(nb)
    assert [o["text"] for o in printed.outputs] == ["1\n2\n"] and timed.outputs == []


def test_instructors_guide_covers_every_ready_chapter():
    """The guide's timing table has one row per ready chapter."""
    guide = (NOTEBOOKS / "INSTRUCTORS.md").read_text()
    ready = [ch for ch in CHAPTERS if ch.path().exists()]
    rows = _table_after(guide, "## Chapters: goals and timing")[2:]
    assert [r.strip("|").split("|")[0].strip() for r in rows] == [f"{ch.stem[:2]} {ch.title}" for ch in ready]


def test_exercise_tables_are_generated_and_fresh():
    """README's and INSTRUCTORS.md's exercise tables are what `python -m dpo_toy.course tables` writes."""
    from dpo_toy.exercises import _tables, get, ids

    assert _tables.stale() == [], "run `python -m dpo_toy.course tables`"
    guide = (NOTEBOOKS / "INSTRUCTORS.md").read_text()
    for i in ids():  # one row per id, naming each of its mistakes
        row = next(line for line in guide.splitlines() if line.startswith(f"| {i} |"))
        assert all(name in row for name in get(i).mistake_names)


def test_replace_block_rewrites_only_between_the_markers():
    from dpo_toy.exercises._tables import _begin, _end, replace_block

    text = f"a\n{_begin('x')}\nold\n{_end('x')}\nb"
    assert replace_block(text, "x", "new") == f"a\n{_begin('x')}\nnew\n{_end('x')}\nb"
    with pytest.raises(ValueError, match="marker"):
        replace_block("no markers", "x", "new")


def _checked_ids(path):
    """The ids a notebook's cells pass to check(...) or predict(...)."""
    import re

    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    return set(re.findall(r"""(?:check|predict)\(\s*["']([^"']+)["']""", source))


@pytest.mark.parametrize("solution", SOLUTION_FILES, ids=lambda p: p.stem)
def test_notebook_checks_match_the_registry(solution):
    """Every id a chapter checks is registered for that chapter; every function exercise is checked there."""
    from dpo_toy.exercises import get, ids

    chapter = int(solution.stem[:2])
    checked = _checked_ids(solution)
    assert checked <= set(ids(chapter)), checked - set(ids(chapter))
    assert {i for i in ids(chapter) if get(i).kind == "function"} <= checked
