"""Benchmarks for dpo_toy: the notebook suite, the β slider, the DPO trainer and ``import dpo_toy``.

Run from anywhere (``make bench`` runs ``.venv/bin/python benchmarks/run.py``); it prints a
fixed-width table and writes the same figures to ``benchmarks/results/latest.json``.

Notes
-----
The machines are noisy, so every figure that can be is a ratio to a baseline measured in the
same run, and repeated timings are reported as medians:

* notebook suite: wall time of nbval over ``notebooks/`` (both editions), against a *floor*: the
  same number of kernels, each running only the import lines of one real notebook, under the
  identical command, ``make test``'s: ``TEST_JOBS`` (default 2) pytest-xdist workers, a chapter's
  two editions on one worker (conftest.py); and nbval over every chapter once
  (``notebooks/solutions/``) in one process, one chapter after the other, as a reader runs them;
* β slider: median time of one ``slider.value = b`` (recompute π*, blit, encode a PNG) over 50
  log-spaced β in [0.01, 100], with and without the boost-factor table;
* DPO retraining slider (chapter 6): median time of one ``slider.value = b`` that retrains the toy
  policy from π_ref (300 Adam steps on expected preferences), blits and encodes a PNG, over 30
  log-spaced β in [0.05, 10]; the worst final TV to π* is reported with it;
* DPO trainer: seconds for the NumPy trainer (expected preferences, Adam) to bring the toy policy
  within total variation 1e-3 of the closed-form π*;
* β slider in a real browser (``browser_latency.py``): median time from a key press on chapter 1's
  slider in JupyterLab to the new picture painted, against a floor notebook with the same widgets
  and no computation, measured in the same run and browser;
* ``import dpo_toy``: median over fresh interpreters, against ``import numpy`` timed the same way,
  and which heavy modules (torch, matplotlib, ipywidgets) it drags in.

The exit code is 0 even when a target is missed: this is a report, not a test. A benchmark that
crashes still fails loudly.
"""

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import numpy as np

from dpo_toy import _execution_env

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "benchmarks" / "results" / "latest.json"
PYTHON = sys.executable

# Snapshot before we set MPLBACKEND=Agg for the slider: a kernel that inherited it would not use
# the inline backend, and the notebooks' figure outputs would no longer match what is stored.
CHILD_ENV = dict(os.environ)
# conftest.py's settings (the floor runs under build/, below conftest.py, and gets them there too).
_execution_env.pin(CHILD_ENV)

JOBS = os.environ.get("TEST_JOBS", "2")  # as the Makefile: 1 runs the notebooks in one process
NBVAL_ARGS = [
    "-m", "pytest", "-q", "-p", "no:cacheprovider",
    "--nbval", "--nbval-current-env", "--nbval-cell-timeout=120",
    "--nbval-sanitize-with", str(ROOT / "nbval-sanitize.cfg"),
]  # fmt: skip

IMPORT_RUNS = 7
HEAVY_MODULES = ("torch", "matplotlib", "ipywidgets")
# Times the import inside the child, so interpreter start-up is not counted; prints JSON.
IMPORT_PROBE = (
    "import json, sys, time\n"
    "t = time.perf_counter()\n"
    "import MODULE\n"
    "dt = time.perf_counter() - t\n"
    f"print(json.dumps({{'seconds': dt, 'loaded': [m for m in {HEAVY_MODULES!r} if m in sys.modules]}}))\n"
)


# --- machine ------------------------------------------------------------------------------------


def machine():
    """Platform, CPU model, core count, Python version and the git state of the checkout."""
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                    if line.startswith("model name")), cpu)  # fmt: skip
    git = lambda *args: subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        # Other people edit the notebooks while this runs: say whether the figures are for HEAD.
        "dirty": bool(git("status", "--porcelain", "--", "dpo_toy", "notebooks")),
    }


# --- 1. notebook suite against its import floor -------------------------------------------------


def real_notebooks():
    """The notebooks pytest collects (hidden folders such as .ipynb_checkpoints are skipped)."""
    hidden = lambda path: any(part.startswith(".") for part in path.relative_to(NOTEBOOKS).parts)
    return sorted(path for path in NOTEBOOKS.rglob("*.ipynb") if not hidden(path))


def import_lines(path):
    """The ``import``/``from`` lines of a notebook's code cells, minus those of solution cells."""
    lines = []
    for cell in nbformat.read(path, as_version=4).cells:
        # A solution cell's imports belong to the exercise, not to the chapter's set-up.
        if cell.cell_type != "code" or "# BEGIN SOLUTION" in cell.source:
            continue
        lines += [line for line in cell.source.splitlines() if line.startswith(("import ", "from "))]
    return list(dict.fromkeys(lines))


def write_floor(notebooks, folder):
    """One notebook per real one, same relative path, with a single unrun cell of its imports.

    nbval executes an unrun cell (``execution_count`` None) but does not compare its outputs, as
    long as none are stored, so the floor needs no execution of its own.
    """
    for path in notebooks:
        floor = folder / path.relative_to(NOTEBOOKS)
        floor.parent.mkdir(parents=True, exist_ok=True)
        source = "\n".join(import_lines(path)) or "pass"  # one cell, so a kernel still starts
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), floor)


def run_nbval(target, jobs=JOBS):
    """Wall time of the nbval command on ``target`` from the repo root (on ``jobs`` workers), and pytest's summary."""
    start = time.perf_counter()
    # The outer timeout turns a hung kernel (seen now and then with ipykernel) into an error, not a stuck run.
    workers = ["-n", str(jobs), "--dist", "loadfile"] if str(jobs) != "1" else []
    command = [PYTHON, *NBVAL_ARGS, *workers, str(target)]
    proc = subprocess.run(command, cwd=ROOT, env=CHILD_ENV, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    lines = proc.stdout.strip().splitlines()
    summary = re.sub(r" in [\d.]+s.*", "", lines[-1]) if lines else proc.stderr.strip()[-200:]
    return {"seconds": seconds, "returncode": proc.returncode, "summary": summary}


def bench_notebooks():
    """Run the floor first (it also warms the disk cache for the real run), then the suite."""
    notebooks = real_notebooks()
    # Inside the checkout, so that conftest.py (its worker scheduling and settings) applies as it does to the suite.
    (ROOT / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dpo_toy_floor_", dir=ROOT / "build") as tmp:
        write_floor(notebooks, Path(tmp))
        floor = run_nbval(tmp)
    suite = run_nbval(NOTEBOOKS)
    chapters = run_nbval(NOTEBOOKS / "solutions", jobs=1)  # every chapter once, one after the other, as a reader
    return {
        "jobs": JOBS, "notebooks": len(notebooks), "suite": suite, "floor": floor,
        "ratio": suite["seconds"] / floor["seconds"], "chapters": chapters,
        "n_chapters": len(list((NOTEBOOKS / "solutions").glob("*.ipynb"))),
    }  # fmt: skip


# --- 2. β slider ---------------------------------------------------------------------------------


def time_moves(explorer, betas):
    """Seconds of each ``slider.value = b`` on an explorer, and the state it shows after each move."""
    times, states = [], []
    for beta in betas:
        start = time.perf_counter()
        explorer.slider.value = float(beta)
        times.append(time.perf_counter() - start)
        # Setting the value it already has fires no event: make sure each timing is a real update.
        if not np.isclose(explorer.state.beta, beta):
            raise RuntimeError(f"slider set to {beta} but the explorer shows β = {explorer.state.beta}")
        states.append(explorer.state)
    return times, states


def bench_slider(show_table, n=50):
    """Median seconds of one slider move, over ``n`` β spread log-uniformly over [0.01, 100]."""
    os.environ["MPLBACKEND"] = "Agg"  # before the first matplotlib import in this process
    import dpo_toy
    from dpo_toy.widgets import BetaExplorer

    explorer = BetaExplorer(dpo_toy.capital_of_france(), beta=1.0, show_table=show_table)
    times, _ = time_moves(explorer, np.geomspace(0.01, 100, n))
    return {"median": statistics.median(times), "samples": times}


def bench_retrain_slider(n=30):
    """Median seconds of one move of chapter 6's slider, which retrains DPO from π_ref and redraws."""
    os.environ["MPLBACKEND"] = "Agg"
    import dpo_toy
    from dpo_toy.widgets import DPOExplorer

    explorer = DPOExplorer(dpo_toy.capital_of_france(), beta=1.0)
    times, states = time_moves(explorer, np.geomspace(0.05, 10, n))
    worst_tv = max(float(state.tv[-1]) for state in states)
    return {"median": statistics.median(times), "max": max(times), "worst_tv": worst_tv, "samples": times}


def bench_trainer(beta=1.0, lr=0.1, runs=5):
    """Seconds for the NumPy DPO trainer to bring the toy policy within TV 1e-3 of π* (median of runs).

    Expected preferences (the infinite-data limit) from the π_ref start; the number of Adam steps
    needed is found first, then a run of exactly that many steps is timed.
    """
    import dpo_toy
    from dpo_toy import training

    toy = dpo_toy.capital_of_france()
    pairs = training.expected_pairs(toy)
    target = dpo_toy.optimal_policy(toy.pi_ref, toy.rewards, beta)
    probe = training.train_tabular_dpo(toy, pairs, beta, steps=2000, lr=lr)
    close = training.total_variation(probe.policies, target) < 1e-3
    if not close.any():
        raise RuntimeError("the trainer did not reach TV < 1e-3 of π* in 2000 steps")
    steps = int(np.argmax(close))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run = training.train_tabular_dpo(toy, pairs, beta, steps=steps, lr=lr, record_every=steps)
        times.append(time.perf_counter() - start)
    return {
        "steps": steps,
        "median": statistics.median(times),
        "tv": float(training.total_variation(run.final, target)),
    }


# --- 3. import time ------------------------------------------------------------------------------


def probe_import(module):
    """Seconds to import ``module`` in a fresh interpreter, and which heavy modules it loaded."""
    code = IMPORT_PROBE.replace("MODULE", module)
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=CHILD_ENV, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def bench_imports(runs=IMPORT_RUNS):
    """Interleave dpo_toy and numpy so drift on a noisy machine hits both alike; one warm-up each."""
    for module in ("dpo_toy", "numpy"):  # warm-up: writes .pyc files, fills the disk cache
        probe_import(module)
    pairs = [(probe_import("dpo_toy"), probe_import("numpy")) for _ in range(runs)]
    loaded = sorted({m for dpo, _ in pairs for m in dpo["loaded"]})
    dpo = statistics.median(d["seconds"] for d, _ in pairs)
    numpy = statistics.median(n["seconds"] for _, n in pairs)
    return {"dpo_toy": dpo, "numpy": numpy, "ratio": dpo / numpy, "loaded": loaded, "runs": runs}


# --- report --------------------------------------------------------------------------------------


def row(name, value, baseline="", ratio="", target="", ok=None):
    """One table row; ``ok`` None means "no target, for information"."""
    status = "" if ok is None else ("ok" if ok else "MISSED")
    return {"name": name, "value": value, "baseline": baseline, "ratio": ratio, "target": target, "status": status}


def browser_row(latency):
    """The key-press-to-picture row (or why it was not measured)."""
    name = "β slider in JupyterLab: key → picture (median)"
    if "skipped" in latency:
        return row(name, "not measured", latency["skipped"], target="<= 50 ms")
    chapter, floor = latency["chapter"]["median"], latency["floor"]["median"]
    added = f"+{chapter - floor:.0f} ms"
    return row(name, f"{chapter:.0f} ms", f"floor {floor:.0f} ms", added, "<= 50 ms", chapter <= 50)


def rows(nb, plot, table, imp, trainer, retrain, latency):
    """The table: measured value, same-run baseline, ratio, target and verdict."""
    suite, floor = nb["suite"], nb["floor"]
    slider = lambda name, ms: row(name, f"{ms:.1f} ms", target="<= 30 ms", ok=ms <= 30)
    loads = lambda m: row(
        f"  ...loads {m}",
        "yes" if m in imp["loaded"] else "no",
        target="no" if m == "torch" else "",  # only torch has a target; the others are for information
        ok=(m not in imp["loaded"]) if m == "torch" else None,
    )
    return [
        row(
            f"nbval, {nb['notebooks']} notebooks on {nb['jobs']} worker(s)",
            f"{suite['seconds']:.1f} s",
            f"floor {floor['seconds']:.1f} s",
            f"{nb['ratio']:.2f}x",
            "ratio <= 2",
            nb["ratio"] <= 2,
        ),
        row(
            f"nbval, all {nb['n_chapters']} chapters once (solution edition)",
            f"{nb['chapters']['seconds']:.1f} s",
            target="<= 90 s",
            ok=nb["chapters"]["seconds"] <= 90 and nb["chapters"]["returncode"] == 0,
        ),
        # A failing run times something else than the course, so its verdict is part of the report.
        row("nbval result, notebooks", suite["summary"], target="all pass", ok=suite["returncode"] == 0),
        row("nbval result, floor", floor["summary"], target="all pass", ok=floor["returncode"] == 0),
        slider("β slider update (median)", plot["median"] * 1e3),
        slider("β slider + table (median)", table["median"] * 1e3),
        browser_row(latency),
        row(
            "DPO retrain slider (median)",
            f"{retrain['median'] * 1e3:.1f} ms",
            f"max {retrain['max'] * 1e3:.0f} ms",
            target="<= 150 ms, TV < 1e-3",
            ok=retrain["median"] <= 0.15 and retrain["worst_tv"] < 1e-3,
        ),
        row(
            f"DPO trainer to π*, {trainer['steps']} steps",
            f"{trainer['median']:.3f} s",
            target="<= 0.2 s",
            ok=trainer["median"] <= 0.2 and trainer["tv"] < 1e-3,
        ),
        row(
            f"import dpo_toy (median of {imp['runs']})",
            f"{imp['dpo_toy']:.3f} s",
            f"numpy {imp['numpy']:.3f} s",
            f"{imp['ratio']:.2f}x",
            "<= 0.25 s",
            imp["dpo_toy"] <= 0.25,
        ),
        *(loads(m) for m in HEAVY_MODULES),
    ]


def print_report(info, table):
    """Machine header, then a fixed-width table; MISSED rows are counted at the bottom."""
    for key, value in info.items():
        print(f"{key:>9}: {value}")
    columns = ("name", "value", "baseline", "ratio", "target", "status")
    widths = [max(len(c), *(len(r[c]) for r in table)) for c in columns]
    line = lambda cells: "  ".join(f"{cell:<{w}}" for cell, w in zip(cells, widths)).rstrip()
    print()
    print(line(columns))
    print(line("-" * w for w in widths))
    for r in table:
        print(line(r[c] for c in columns))
    missed = [r["name"].strip() for r in table if r["status"] == "MISSED"]
    print()
    print(f"MISSED {len(missed)} target(s): {', '.join(missed)}" if missed else "All targets met.")


def main():
    info = machine()
    print("measuring import dpo_toy...", file=sys.stderr)
    imp = bench_imports()
    print("measuring the β slider...", file=sys.stderr)
    plot, table = bench_slider(show_table=False), bench_slider(show_table=True)
    print("measuring the DPO trainer and the retraining slider...", file=sys.stderr)
    trainer, retrain = bench_trainer(), bench_retrain_slider()
    print("measuring key press to picture in JupyterLab (headless Chromium, about a minute)...", file=sys.stderr)
    import browser_latency

    latency = browser_latency.measure()
    print("measuring the notebook suite and its floor (about a minute)...", file=sys.stderr)
    nb = bench_notebooks()
    report = rows(nb, plot, table, imp, trainer, retrain, latency)
    print_report(info, report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    raw = {
        "notebooks": nb,
        "slider": {"plot": plot, "plot_and_table": table},
        "trainer": trainer,
        "retrain_slider": retrain,
        "browser_latency": latency,
        "import": imp,
    }
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.write_text(json.dumps({"time": stamp, "machine": info, "rows": report, "raw": raw}, indent=2) + "\n")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return 0  # a report, not a test: missed targets do not fail the run


if __name__ == "__main__":
    sys.exit(main())
