"""Tests for dpo_toy.grade: grading a class of generated submissions, and the rules behind the rows."""

import contextlib
import copy
import csv
import io
import re

import nbformat
import numpy as np
import pytest

from dpo_toy import course, grade
from dpo_toy.exercises import check, ids

CHAPTER = 0
STEM = course.CHAPTERS[CHAPTER].stem
CHECK = re.compile(r"""\b(?:check|predict)\(\s*["']([^"']+)["']\s*(?:,\s*(\w+))?""")


def _solution():
    return nbformat.read(course.CHAPTERS[CHAPTER].path(solutions=True), as_version=4)


def _learner():
    return nbformat.read(course.CHAPTERS[CHAPTER].path(), as_version=4)


def _check_cells(nb):
    """exercise id -> indices of the code cells that call check(id, ...)."""
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for exercise_id, _ in CHECK.findall(cell.source):
                found.setdefault(exercise_id, []).append(index)
    return found


def _with_cell(nb, index, source):
    nb = copy.deepcopy(nb)
    nb.cells.insert(index, nbformat.v4.new_code_cell(source))
    return nb


def _wrong_softmax(logits):
    return np.exp(logits)  # forgot to normalise


def _with_mistake(nb, exercise_id):
    """The solution edition with the function checked last for ``exercise_id`` replaced by _wrong_softmax."""
    nb = copy.deepcopy(nb)
    (cell_index,) = _check_cells(nb)[exercise_id][-1:]
    name = dict(CHECK.findall(nb.cells[cell_index].source))[exercise_id]
    (target,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(f"def {name}(")]
    target.source = f"def {name}(logits):\n    return np.exp(logits)\n"
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade one class folder with every kind of submission once; return (folder, CSV rows, report, expected)."""
    root = tmp_path_factory.mktemp("class")
    solution, learner = _solution(), _learner()
    chapter_ids = ids(CHAPTER)
    first = chapter_ids[0]
    stop_at = max(_check_cells(learner)[first]) + 1  # right after the first exercise's last check
    after = {i for i, cells in _check_cells(learner).items() if max(cells) >= stop_at}
    single = [i for i in chapter_ids if len(_check_cells(solution).get(i, [])) == 1]
    deleted = single[-1]  # an id with one check cell, so no earlier demonstration speaks for it
    mistake = check(first, _wrong_softmax)
    assert mistake.status in ("failed", "mistake") and mistake.mistake, "the mistake must be catalogued"

    notebooks = {
        "ada": solution,
        "ben": learner,
        "cy": _with_mistake(solution, first),
        "dee": _with_cell(learner, stop_at, "while True:\n    pass"),
        "eve": _with_cell(solution, stop_at, "import os\n\nos._exit(1)"),
        "gus": copy.deepcopy(solution),
    }
    notebooks["gus"].cells = [c for i, c in enumerate(solution.cells) if i not in _check_cells(solution)[deleted]]
    for who, nb in notebooks.items():
        (root / who).mkdir()
        nbformat.write(nb, root / who / f"{STEM}.ipynb")
    (root / "fay").mkdir()
    (root / "fay" / f"{STEM}.ipynb").write_text('{"cells": [ this is not JSON', encoding="utf-8")

    def rows(who, verdict_of):
        return [[f"{who}/{STEM}.ipynb", i, *verdict_of(i)] for i in chapter_ids]

    expected = (
        rows("ada", lambda i: ("passed", ""))
        + rows("ben", lambda i: ("not attempted", ""))
        + rows("cy", lambda i: ("failed", mistake.mistake) if i == first else ("passed", ""))
        + rows("dee", lambda i: ("failed", "timeout") if i in after else ("not attempted", ""))
        + rows("eve", lambda i: ("failed", "crashed") if i in after else ("passed", ""))
        + rows("fay", lambda i: ("failed", "not a notebook"))
        + rows("gus", lambda i: ("failed", "check missing") if i == deleted else ("passed", ""))
    )
    out = tmp_path_factory.mktemp("out") / "results.csv"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        # 15 s: chapter 0 runs in a few seconds even on a loaded machine, and "dee"'s endless loop
        # holds the fixture for exactly this long
        grade.main([str(root), "--csv", str(out), "--timeout", "15", "--jobs", "2"])
    with open(out, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    return table, printed.getvalue(), expected, after


def test_csv_rows_exact(graded):
    """Each kind of submission gets exactly the rows an instructor expects, one per exercise id of its chapter."""
    table, _, expected, after = graded
    assert after, "the inserted loop / exit must come before at least one check"
    assert table[0] == ["submission", "exercise", "verdict", "mistake"]
    assert table[1:] == expected


def test_class_report(graded):
    """The report gives each exercise's pass rate and counts the named mistake, and lists broken submissions."""
    table, printed, _, _ = graded
    rows = table[1:]
    for exercise_id in ids(CHAPTER):
        mine = [r for r in rows if r[1] == exercise_id]
        passed = sum(r[2] == "passed" for r in mine)
        line = next(line for line in printed.splitlines() if line.split()[:1] == [exercise_id])
        assert line.split()[1] == str(passed)
        assert line.split()[-1] == f"{passed / len(mine):.0%}"
    (named,) = {r[3] for r in rows if r[3] and not grade.is_reason(r[3])}
    assert re.search(rf"^\s+1\s+{re.escape(ids(CHAPTER)[0])}\s+{re.escape(named)}$", printed, re.M)
    for who, reason in [("dee", "timeout"), ("eve", "crashed"), ("fay", "not a notebook"), ("gus", "check missing")]:
        assert f"  {who}/{STEM}.ipynb: {reason}" in printed
    assert "ada/" not in printed


def test_collect_names_relative_to_folder(tmp_path):
    """A folder stands for its notebooks, named relative to it; checkpoints are skipped; files keep their name."""
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "a" / "x.ipynb").write_text("{}")
    (tmp_path / "a" / ".ipynb_checkpoints" / "x-checkpoint.ipynb").write_text("{}")
    (tmp_path / "a" / "notes.txt").write_text("")
    (tmp_path / "b.ipynb").write_text("{}")
    found = grade.collect([tmp_path / "a", tmp_path / "b.ipynb"])
    assert [name for name, _ in found] == [(tmp_path / "b.ipynb").as_posix(), "x.ipynb"]
    with pytest.raises(ValueError, match="submission"):
        grade.collect([tmp_path / "missing.ipynb"])


def test_chapter_from_name_and_records():
    """The chapter comes from the course stem in the file name, else from the ids the checks reported."""
    for chapter in course.CHAPTERS:
        assert grade.chapter_from_name(f"smith_12_{chapter.stem}-1.ipynb") == int(chapter.stem[:2])
    assert grade.chapter_from_name("homework.ipynb") is None
    some = ids(1)[0]
    assert grade.chapter_from_records([{"exercise": some}, {"exercise": some}]) == 1
    assert grade.chapter_from_records([{"exercise": ids(0)[0]}, {"exercise": some}]) is None


def test_rows_rules():
    """Last verdict wins; reasons: unknown chapter, error in the check cell, stopped before or after a check."""
    first, *rest = ids(1)
    run = grade.Run(
        records=[
            {"exercise": first, "verdict": "failed", "mistake": "x", "message": ""},
            {"exercise": first, "verdict": "passed", "mistake": "", "message": ""},
        ],
        check_cells={first: [3], **{i: [10 + k] for k, i in enumerate(rest)}},
        errors={10: "NameError"},
    )
    rows = grade.rows_for("s.ipynb", run, chapter=1)
    assert rows[0] == grade.Row("s.ipynb", first, "passed", "")
    assert rows[1] == grade.Row("s.ipynb", rest[0], "failed", "error in check cell: NameError")
    run.stopped, run.stop_cell = grade.CRASHED, 10
    assert grade.rows_for("s.ipynb", run, chapter=1)[1].mistake == "crashed"
    del run.check_cells[rest[0]]  # a check cell gone from a notebook that crashed: the crash is the news
    assert grade.rows_for("s.ipynb", run, chapter=1)[1].mistake == "crashed"
    run.stopped, run.stop_cell = "", -1
    assert grade.rows_for("s.ipynb", run, chapter=1)[1].mistake == "check missing"
    assert grade.rows_for("homework.ipynb", grade.Run()) == [
        grade.Row("homework.ipynb", "", "failed", grade.CHAPTER_UNKNOWN)
    ]
    odd = grade.Run(records=[{"exercise": first, "verdict": "great"}])
    assert grade.rows_for("s.ipynb", odd, chapter=1)[0].mistake == "unreadable verdict"


def test_read_records_skips_torn_lines(tmp_path):
    """A line cut short by a dying kernel, or not a record, is skipped; the others are kept in order."""
    path = tmp_path / "v.jsonl"
    path.write_text('{"exercise": "1.1", "verdict": "passed"}\n[1, 2]\n{"exercise": "1.2", "verd', encoding="utf-8")
    assert grade.read_records(path) == [{"exercise": "1.1", "verdict": "passed"}]
    assert grade.read_records(tmp_path / "absent.jsonl") == []


def test_bad_arguments():
    """jobs and timeout are checked before anything runs."""
    with pytest.raises(ValueError, match="jobs"):
        grade.grade([], jobs=0)
    with pytest.raises(ValueError, match="timeout"):
        grade.grade([], timeout=float("nan"))
    with pytest.raises(ValueError, match="chapter"):
        grade.grade([], chapter=42)


@pytest.mark.parametrize("marker", ["#", "###"])
def test_learner_edition_accepts_nbgrader_markers(marker):
    """Solution blocks marked `# BEGIN SOLUTION` or nbgrader's `### BEGIN SOLUTION` both become the stub."""
    source = f"def f(x):\n    {marker} BEGIN SOLUTION\n    return x\n    {marker} END SOLUTION\n"
    assert course.strip_solutions(source) == f"def f(x):\n    {course.STUB}\n"


def test_grading_client_keeps_only_errors():
    """A learner's print loop cannot fill the grader's memory: only error outputs are kept."""
    client = grade._client_class()(nbformat.v4.new_notebook())
    client.reset_execution_trackers()
    client.clear_before_next_output = False  # what nbclient sets before running a cell
    outs = []

    def msg(msg_type, content):
        return {"msg_type": msg_type, "header": {"msg_type": msg_type}, "parent_header": {}, "content": content}

    client.output(outs, msg("stream", {"name": "stdout", "text": "x" * 100}), None, 0)
    client.output(outs, msg("display_data", {"data": {"text/plain": "1"}, "metadata": {}}), None, 0)
    client.output(outs, msg("error", {"ename": "NameError", "evalue": "f", "traceback": []}), None, 0)
    assert [o["output_type"] for o in outs] == ["error"] and outs[0]["ename"] == "NameError"
