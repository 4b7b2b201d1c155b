"""Benchmark of class grading: ``dpo_toy.grade`` against nbclient alone on the same 30 notebooks.

Run with ``.venv/bin/python benchmarks/grade.py`` (``make bench`` runs it too); it prints a small
table and writes ``benchmarks/results/grade.json``.

Notes
-----
The class is 30 generated submissions of chapter 1: 10 copies of the solution edition, 10 of the
learner edition and 10 with a catalogued mistake in exercise 1.1. Grading them with ``--jobs 2``
(fresh kernel per notebook, a verdict file per kernel, cell-by-cell execution under a notebook-wide
time limit, only error outputs kept, the CSV rows) is compared with the floor: nbclient's own
``NotebookClient.execute`` on the same 30 notebooks, also two at a time, with nothing else. A
second floor, nbclient with ``shutdown_kernel="immediate"`` (the grader's setting), shows how much
of the difference is the kernel shutdown. They run alternately (floor, immediate, grade, then
grade, immediate, floor) so that drift in the machine's load falls on all three; a ratio is total
grading time over total floor time. Target: ratio <= 1.3.
"""

import asyncio
import copy
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dpo_toy import course, grade  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "grade.json"
CHAPTER, PER_KIND, JOBS, TARGET = 1, 10, 2, 1.3


def make_class(folder):
    """Write 30 chapter-1 submissions into ``folder``; return the expected verdict counts."""
    chapter = course.CHAPTERS[CHAPTER]
    solution = nbformat.read(chapter.path(solutions=True), as_version=4)
    wrong = copy.deepcopy(solution)
    (cell,) = [c for c in wrong.cells if c.cell_type == "code" and c.source.startswith("def my_optimal_policy(")]
    cell.source = "def my_optimal_policy(pi_ref, rewards, beta):\n    return pi_ref * np.exp(rewards / beta)\n"
    for k in range(PER_KIND):
        nbformat.write(solution, folder / f"solved{k:02d}_{chapter.stem}.ipynb")
        shutil.copy(chapter.path(), folder / f"learner{k:02d}_{chapter.stem}.ipynb")
        nbformat.write(wrong, folder / f"mistake{k:02d}_{chapter.stem}.ipynb")
    return sorted(folder.glob("*.ipynb"))


async def _nbclient_alone(paths, jobs, shutdown):
    from nbclient import NotebookClient

    gate = asyncio.Semaphore(jobs)

    async def one(path):
        async with gate:
            nb = nbformat.read(path, as_version=4)
            with tempfile.TemporaryDirectory() as work:
                resources = {"metadata": {"path": work}}
                client = NotebookClient(
                    nb, timeout=300, kernel_name="python3", shutdown_kernel=shutdown, resources=resources
                )
                await client.async_execute()

    await asyncio.gather(*(one(p) for p in paths))


def time_floor(paths, shutdown="graceful"):
    start = time.perf_counter()
    asyncio.run(_nbclient_alone(paths, JOBS, shutdown))
    return time.perf_counter() - start


def time_grade(folder):
    start = time.perf_counter()
    rows = grade.grade([folder], jobs=JOBS)
    return time.perf_counter() - start, rows


def main(rounds=2):
    with tempfile.TemporaryDirectory(prefix="dpo_toy_class_") as tmp:
        folder = Path(tmp)
        paths = make_class(folder)
        times = {"floor": [], "immediate": [], "grade": []}
        rows = []
        for r in range(rounds):
            order = ("floor", "immediate", "grade") if r % 2 == 0 else ("grade", "immediate", "floor")
            for what in order:
                if what == "grade":
                    seconds, rows = time_grade(folder)
                else:
                    seconds = time_floor(paths, "graceful" if what == "floor" else "immediate")
                times[what].append(seconds)
                print(f"round {r + 1}: {what} {seconds:.1f} s", flush=True)
    floors, immediates, grades = times["floor"], times["immediate"], times["grade"]
    verdicts = Counter((r.exercise, r.verdict, r.mistake) for r in rows)
    ratio = sum(grades) / sum(floors)
    ratio_immediate = sum(grades) / sum(immediates)
    figures = {
        "submissions": len(paths),
        "jobs": JOBS,
        "grade_seconds": grades,
        "nbclient_seconds": floors,
        "nbclient_immediate_shutdown_seconds": immediates,
        "ratio": ratio,
        "ratio_to_immediate_shutdown": ratio_immediate,
        "target": TARGET,
        "met": ratio <= TARGET,
        "verdicts": {f"{e} {v} {m}".strip(): n for (e, v, m), n in sorted(verdicts.items())},
    }
    print()
    print(f"{'benchmark':<58}{'measured':>10}{'floor':>10}{'ratio':>8}  target")
    print(
        f"{f'grade {len(paths)} chapter-{CHAPTER} submissions, --jobs {JOBS} (median)':<58}"
        f"{statistics.median(grades):>9.1f}s{statistics.median(floors):>9.1f}s{ratio:>8.2f}  <= {TARGET}"
        f"{'' if ratio <= TARGET else ' (missed)'}"
    )
    print(
        f"{'  the same against nbclient with immediate kernel shutdown':<58}{'':>10}"
        f"{statistics.median(immediates):>9.1f}s{ratio_immediate:>8.2f}"
    )
    print("verdicts:", ", ".join(f"{k}: {n}" for k, n in figures["verdicts"].items()))
    RESULTS.parent.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.write_text(json.dumps({"time": stamp, **figures}, indent=2) + "\n")


if __name__ == "__main__":
    main()
