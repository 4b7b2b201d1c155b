r"""Grade a class: run every submitted notebook, collect each check's verdict, report.

Command line (``make grade DIR=...`` wraps it)::

    python -m dpo_toy.grade SUBMISSION.ipynb|FOLDER ... [--csv results.csv] [--timeout S] [--jobs N]

Each submission runs in a fresh kernel, in a fresh temporary working directory, with a time
limit for the whole notebook (counted once the kernel is ready; a kernel that fails to start is
started once more, then reported as ``kernel did not start``); up to ``--jobs`` run at once. The
checks write their verdicts as JSON lines to the file named by ``$DPO_TOY_VERDICTS``, which the
grader sets for the kernel, so nothing is parsed from the printed text. The result is a CSV with the columns
``submission,exercise,verdict,mistake`` and a class report (pass rate per exercise, the most
common named mistakes).

Rules, in the order an instructor meets them:

- **Which files.** A folder stands for every ``*.ipynb`` below it (checkpoints skipped), and a
  submission is named by its path relative to that folder (``alice/01_kl_....ipynb``); a file
  given directly is named as given.
- **Which chapter.** The chapter whose course file stem (``01_kl_constrained_optimal_policy``)
  appears in the file name; otherwise the chapter of the exercise ids the notebook's checks
  reported; ``--chapter`` overrides both. When none of these says, the submission gets one row
  with an empty exercise and the reason ``chapter unknown``.
- **One row per exercise id of that chapter** (``dpo_toy.exercises.ids(chapter)``). When an id
  is checked more than once, the last verdict counts (a learner re-runs a check after fixing; a
  ``predict`` emits its compared verdict and the revealing ``check`` the same one again). Verdicts
  for ids outside the chapter, or for ids that do not exist (a mistyped ``check("1.10", f)``), are
  not rows: the exercise the learner meant then shows ``check missing``.
- **Errors do not stop a notebook**: cells run on after a cell raises (as in nbgrader), and a check
  cell that raised before its check answered gets ``error in check cell: <ExceptionName>``.
- **A notebook that stops** (the time limit, or a kernel that died, e.g. ``os._exit``) keeps the
  verdicts of the checks that ran before it stopped; the checks at or after the cell where it
  stopped, and those with no cell, get ``timeout`` or ``crashed``. In a notebook that ran to the
  end, a check that gave no verdict because its cell is gone gets ``check missing``; a file that
  is not a readable notebook gets ``not a notebook`` on every row.
- Every such reason has the verdict ``failed``: the submission does not show a working answer.
  ``not attempted`` is kept for what the checks themselves report (the stub is still there).
"""

import argparse
import asyncio
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .exercises._record import ENV  # the variable the checks read: DPO_TOY_VERDICTS

COLUMNS = ("submission", "exercise", "verdict", "mistake")
VERDICTS = ("passed", "failed", "not attempted")
TIMEOUT, CRASHED, NOT_A_NOTEBOOK, CHECK_MISSING = "timeout", "crashed", "not a notebook", "check missing"
CHAPTER_UNKNOWN, KERNEL_FAILED = "chapter unknown", "kernel did not start"
DEFAULT_TIMEOUT = 300.0

# Where a notebook's checks sit (to explain a missing verdict, never to read one): check("1.1", ...)
# and predict("1.p1", ...), which emits the compared verdict too.
_CHECK_CALL = re.compile(r"""\b(?:check|predict)\(\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Row:
    """One line of the CSV: a submission's verdict on one exercise."""

    submission: str
    exercise: str
    verdict: str
    mistake: str


@dataclass
class Run:
    """What executing one notebook gave: the emitted records and where (and why) it stopped."""

    records: list = field(default_factory=list)  # the JSON lines, in the order emitted
    stopped: str = ""  # "", TIMEOUT, CRASHED or NOT_A_NOTEBOOK
    stop_cell: int = -1  # index of the cell that did not finish (when stopped)
    check_cells: dict = field(default_factory=dict)  # exercise id -> indices of cells calling check(id)
    errors: dict = field(default_factory=dict)  # cell index -> exception name (cells that raised)


# --- which files, which chapter --------------------------------------------------------------


def collect(paths):
    """The submissions named by ``paths`` (files and folders) as ``(name, path)``, sorted by name."""
    found = {}
    for given in paths:
        given = Path(given)
        if given.is_dir():
            for path in sorted(given.rglob("*.ipynb")):
                if ".ipynb_checkpoints" not in path.parts and path.is_file():
                    found.setdefault(path.relative_to(given).as_posix(), path)
        elif given.is_file():
            found.setdefault(given.as_posix(), given)
        else:
            raise ValueError(f"submission {str(given)!r} is neither a file nor a folder")
    return sorted(found.items())


def chapter_from_name(name):
    """The chapter whose course file stem appears in the file name ``name``, or None."""
    from .course import CHAPTERS

    lowered = Path(name).name.lower()
    hits = [int(ch.stem[:2]) for ch in CHAPTERS if ch.stem in lowered]
    return hits[0] if len(hits) == 1 else None


def _chapter_of_id(exercise_id):
    head = str(exercise_id).partition(".")[0]
    return int(head) if head.isdigit() else None


def chapter_from_records(records):
    """The one chapter all emitted exercise ids belong to, or None."""
    chapters = {_chapter_of_id(r["exercise"]) for r in records} - {None}
    return chapters.pop() if len(chapters) == 1 else None


# --- executing one notebook ------------------------------------------------------------------


def read_records(path):
    """The well-formed verdict records in a JSON-lines file; a torn last line is skipped."""
    records = []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return records
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("exercise"), str):
            records.append(record)
    return records


def _read_notebook(path):
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
        cells = list(nb.cells)
    except Exception:  # not JSON, not a notebook, unreadable: all one reason
        return None
    if not all(isinstance(c, dict) and "cell_type" in c and "source" in c for c in cells):
        return None
    return nb


def _client_class():
    from nbclient import NotebookClient

    class GradingClient(NotebookClient):
        """nbclient that keeps only error outputs: a learner's print loop must not fill the memory."""

        def output(self, outs, msg, display_id, cell_index):
            if msg["msg_type"] != "error":
                return None
            return super().output(outs, msg, display_id, cell_index)

    return GradingClient


async def execute(path, timeout=DEFAULT_TIMEOUT):
    """Execute the notebook at ``path`` in a fresh kernel within ``timeout`` seconds; return a :class:`Run`.

    Never raises for a broken submission: the reason is in ``Run.stopped``.
    """
    nb = _read_notebook(path)
    if nb is None:
        return Run(stopped=NOT_A_NOTEBOOK, stop_cell=0)
    run = Run()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for exercise_id in _CHECK_CALL.findall(cell.source):
                run.check_cells.setdefault(exercise_id, []).append(index)
    with tempfile.TemporaryDirectory(prefix="dpo_toy_grade_") as tmp:
        verdicts = Path(tmp) / "verdicts.jsonl"  # outside the kernel's working directory
        work = Path(tmp) / "work"
        work.mkdir()
        for _attempt in range(2):  # a kernel that fails to start is the machine's fault: once more
            started = await _run_cells(nb, run, timeout, verdicts, work)
            if started:
                break
        run.records = read_records(verdicts)
    return run


async def _run_cells(nb, run, timeout, verdicts, work):
    """Run ``nb``'s cells into ``run``; False when the kernel never became ready (nothing ran)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    client = _client_class()(
        nb,
        timeout=math.ceil(timeout),
        kernel_name="python3",
        allow_errors=True,
        record_timing=False,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(work)}},
    )
    index, started = 0, False
    run.stopped, run.stop_cell = "", -1
    try:
        env = {**os.environ, ENV: str(verdicts)}
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        async with client.async_setup_kernel(env=env, **quiet):
            started = True
            deadline = time.monotonic() + timeout  # the learner's time: kernel start-up not counted
            for index, cell in enumerate(nb.cells):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CellTimeoutError("the notebook's time limit is used up")
                client.timeout = math.ceil(remaining)  # the limit is for the whole notebook
                await client.async_execute_cell(cell, index)
                for output in cell.get("outputs", []):
                    if output.get("output_type") == "error":
                        run.errors[index] = output.get("ename", "Exception")
    except TimeoutError:  # CellTimeoutError is one
        run.stopped, run.stop_cell = TIMEOUT, index
    except DeadKernelError:
        run.stopped, run.stop_cell = CRASHED, index
    except Exception:  # the kernel did not start, or stopped answering
        run.stopped, run.stop_cell = (CRASHED if started else KERNEL_FAILED), index
    return started


# --- rows ------------------------------------------------------------------------------------


def _reason(exercise_id, run):
    """Why ``exercise_id`` has no verdict in ``run``: a short reason for the mistake column."""
    if run.stopped == NOT_A_NOTEBOOK:
        return NOT_A_NOTEBOOK
    cells = run.check_cells.get(exercise_id, [])
    if run.stopped and (not cells or max(cells) >= run.stop_cell):
        return run.stopped  # the notebook did not get that far (or the check is gone: stopping says more)
    if not cells:
        return CHECK_MISSING
    raised = [run.errors[i] for i in cells if i in run.errors]
    if raised:
        return f"error in check cell: {raised[-1]}"
    return CHECK_MISSING


def rows_for(name, run, chapter=None):
    """The CSV rows of one submission; ``chapter`` overrides the name and the records."""
    from .exercises import ids

    if chapter is None:
        chapter = chapter_from_name(name)
    if chapter is None:
        chapter = chapter_from_records(run.records)
    if chapter is None or not ids(chapter):
        return [Row(name, "", "failed", run.stopped or CHAPTER_UNKNOWN)]
    last = {r["exercise"]: r for r in run.records}  # a re-run check overrides an earlier one
    rows = []
    for exercise_id in ids(chapter):
        record = last.get(exercise_id)
        if record is None:
            rows.append(Row(name, exercise_id, "failed", _reason(exercise_id, run)))
        elif record.get("verdict") in VERDICTS:
            rows.append(Row(name, exercise_id, record["verdict"], str(record.get("mistake") or "")))
        else:
            rows.append(Row(name, exercise_id, "failed", "unreadable verdict"))
    return rows


async def _grade_all(submissions, timeout, jobs, chapter, progress):
    gate = asyncio.Semaphore(jobs)

    async def one(name, path):
        async with gate:
            run = await execute(path, timeout)
        rows = rows_for(name, run, chapter)
        if progress:
            print(f"graded {name}: {_summary(rows)}", file=sys.stderr, flush=True)
        return rows

    results = await asyncio.gather(*(one(name, path) for name, path in submissions))
    return [row for rows in results for row in rows]


def grade(paths, timeout=DEFAULT_TIMEOUT, jobs=2, chapter=None, progress=False):
    """Grade the submissions named by ``paths`` (files or folders); return the rows, in CSV order.

    Parameters
    ----------
    paths : iterable of str or Path
        Notebooks, or folders searched for ``*.ipynb``.
    timeout : float
        Seconds allowed for each whole notebook.
    jobs : int
        How many notebooks run at once.
    chapter : int, optional
        Grade every submission as this chapter instead of finding it from the file name.
    progress : bool
        Print one line per graded submission to stderr.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer; got {jobs!r}")
    if not isinstance(timeout, int | float) or not timeout > 0 or not math.isfinite(timeout):
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    from .exercises import ids

    if chapter is not None and not ids(chapter):
        known = sorted({int(i.partition(".")[0]) for i in ids()})
        raise ValueError(f"chapter must be one of {known}; got {chapter!r}")
    submissions = collect(paths)
    return asyncio.run(_grade_all(submissions, float(timeout), jobs, chapter, progress))


def write_csv(rows, path):
    """Write ``rows`` with the header ``submission,exercise,verdict,mistake``."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        writer.writerows((r.submission, r.exercise, r.verdict, r.mistake) for r in rows)


# --- the class report ------------------------------------------------------------------------

REASONS = (TIMEOUT, CRASHED, NOT_A_NOTEBOOK, CHECK_MISSING, CHAPTER_UNKNOWN, KERNEL_FAILED, "unreadable verdict")


def is_reason(mistake):
    """True when ``mistake`` is the grader's reason (no verdict), not a catalogued mistake's name."""
    return mistake in REASONS or mistake.startswith("error in check cell")


def _summary(rows):
    counts = Counter(r.verdict for r in rows)
    text = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v])
    reasons = sorted({r.mistake for r in rows if is_reason(r.mistake)})
    return text + (f" ({'; '.join(reasons)})" if reasons else "")


def _id_key(exercise_id):
    from .exercises import ids

    order = {known: k for k, known in enumerate(ids())}
    return (order.get(exercise_id, len(order)), exercise_id)


def report(rows, top=10):
    """The class report as text: pass rate per exercise, common named mistakes, submissions to look at."""
    submissions = sorted({r.submission for r in rows})
    lines = [f"Graded {len(submissions)} submission{'s' * (len(submissions) != 1)}.", ""]
    by_exercise = {}
    for r in rows:
        if r.exercise:
            by_exercise.setdefault(r.exercise, Counter())[r.verdict] += 1
    if by_exercise:
        lines.append(f"{'exercise':<10}{'passed':>8}{'failed':>8}{'not attempted':>15}{'pass rate':>11}")
        for exercise_id in sorted(by_exercise, key=_id_key):
            c = by_exercise[exercise_id]
            total = sum(c.values())
            lines.append(
                f"{exercise_id:<10}{c['passed']:>8}{c['failed']:>8}{c['not attempted']:>15}{c['passed'] / total:>11.0%}"
            )
        lines.append("")
    named = Counter((r.exercise, r.mistake) for r in rows if r.mistake and not is_reason(r.mistake))
    if named:
        lines.append("Most common mistakes (named by the checks):")
        for (exercise_id, mistake), count in sorted(named.items(), key=lambda kv: (-kv[1], _id_key(kv[0][0])))[:top]:
            lines.append(f"{count:>5}  {exercise_id:<6} {mistake}")
    else:
        lines.append("No named mistakes.")
    trouble = {}
    for r in rows:
        if is_reason(r.mistake):
            trouble.setdefault(r.submission, set()).add(r.mistake)
    if trouble:
        lines += ["", "Submissions to look at (no verdict for some exercises):"]
        for name in sorted(trouble):
            lines.append(f"  {name}: {'; '.join(sorted(trouble[name]))}")
    return "\n".join(lines).rstrip() + "\n"


# --- command line ----------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m dpo_toy.grade",
        description="Run submitted notebooks, collect every check's verdict, write a CSV and print a class report.",
    )
    parser.add_argument("submissions", nargs="+", help="submitted notebooks, or folders holding them")
    parser.add_argument("--csv", default="results.csv", help="where to write the CSV (default: results.csv)")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help=f"seconds per notebook (default {DEFAULT_TIMEOUT:g})"
    )
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once (default 2)")
    parser.add_argument("--chapter", type=int, default=None, help="grade every submission as this chapter")
    args = parser.parse_args(argv)
    try:
        rows = grade(args.submissions, args.timeout, args.jobs, args.chapter, progress=True)
    except ValueError as exc:
        parser.error(str(exc))
    if not rows:
        parser.error("no *.ipynb submissions found")
    write_csv(rows, args.csv)
    print(report(rows), end="")
    print(f"\nWrote {len(rows)} rows to {args.csv}.")


if __name__ == "__main__":
    main()
