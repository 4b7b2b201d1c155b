"""conftest.py's worker scheduling: the notebooks run on pytest-xdist workers, a chapter's two editions
on one worker, learner edition first, so that the second reads the first's run cache.

The test runs ``make test``'s notebook command in a child pytest on a small course of its own: four
chapters that record which worker ran them, when, and what the run cache held when they started.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ("01_a", "02_b", "03_c", "04_d")

# Runs in the notebook's kernel: which worker started it, when, and what the run cache held then.
RECORD = """\
import json, os, time
cache = os.environ.get("DPO_TOY_RUN_CACHE", "")
entries = sorted(os.listdir(cache)) if cache else []
with open(os.path.join({out!r}, {name!r} + ".json"), "w") as f:
    json.dump({{"worker": os.environ.get("PYTEST_XDIST_WORKER"), "ns": time.time_ns(), "cache": entries}}, f)
if cache:  # leave a mark for the edition that runs next on this worker
    open(os.path.join(cache, {name!r}), "w").close()
"""


def _course(folder, out):
    for chapter in CHAPTERS:
        for edition, path in (
            ("learner", folder / f"{chapter}.ipynb"),
            ("solution", folder / "solutions" / f"{chapter}.ipynb"),
        ):
            path.parent.mkdir(parents=True, exist_ok=True)
            source = RECORD.format(out=str(out), name=f"{chapter}-{edition}")
            nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), path)


def test_a_chapters_two_editions_run_on_one_worker_learner_first(tmp_path):
    (ROOT / "build").mkdir(exist_ok=True)
    # Below the checkout, so that its conftest.py applies (as it does to notebooks/).
    with tempfile.TemporaryDirectory(prefix="test_workers_", dir=ROOT / "build") as course:
        _course(Path(course), tmp_path)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DPO_TOY_RUN_CACHE"))}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile"]
        proc = subprocess.run(
            [*command, "--nbval", "--nbval-current-env", course],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert len(runs) == 2 * len(CHAPTERS)
    for chapter in CHAPTERS:
        learner, solution = runs[f"{chapter}-learner"], runs[f"{chapter}-solution"]
        assert learner["worker"] == solution["worker"], (chapter, learner, solution)
        assert learner["ns"] < solution["ns"], chapter
        # The solution edition saw the learner edition's mark in its worker's run cache.
        assert f"{chapter}-learner" in solution["cache"], (chapter, solution)
    assert {run["worker"] for run in runs.values()} == {"gw0", "gw1"}  # and the chapters were shared out
