"""Benchmark of ``make html``: the whole static site built from the stored notebooks, nothing executed.

Run with ``.venv/bin/python benchmarks/site.py`` (``make bench`` runs it too); it prints a small
table and writes ``benchmarks/results/site.json``.

Notes
-----
Each round is a fresh ``python -m dpo_toy.site --out <temp>`` process, so imports (nbconvert,
Matplotlib through ``dpo_toy.widgets``) count: what ``make html`` costs after ``make setup``. It
renders every chapter through nbconvert and computes every slider's states on its grid (chapter 6's
DPO slider retrains 47 β × 3 datasets, 300 Adam steps each). Reported: median wall time, the
child's CPU time (user + system; on a loaded machine wall time includes waiting for a core), the
number of slider states, and the site's size. Targets: under 60 s on 2 cores, under 15 MB.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dpo_toy import site, static_sliders  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "site.json"
ROUNDS, TARGET_S, BUDGET_MB = 3, 60.0, 15.0


def _round():
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dpo_toy.site", "--out", out], check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, site.site_size(out) / 1e6


def main():
    rounds = [_round() for _ in range(ROUNDS)]
    wall = statistics.median(r[0] for r in rounds)
    cpu = statistics.median(r[1] for r in rounds)
    size = rounds[-1][2]
    states = sum(
        len(static_sliders.log_grid(s.value_range, s.step)) * (3 if s.explorer == "DPOExplorer" else 1)
        for s in static_sliders.SPECS.values()
    )
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "rounds_wall_s": [round(r[0], 2) for r in rounds],
        "median_wall_s": round(wall, 2),
        "median_cpu_s": round(cpu, 2),
        "slider_states": states,
        "site_mb": round(size, 2),
        "target_s": TARGET_S,
        "budget_mb": BUDGET_MB,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    label = "make html (fresh process, nothing executed)"
    print(f"{label:45s} {wall:7.1f} s wall  {cpu:6.1f} s CPU  (target < {TARGET_S:.0f} s)")
    print(f"{'slider states computed':45s} {states:7d}")
    print(f"{'site size':45s} {size:7.1f} MB  (budget {BUDGET_MB:.0f} MB)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if wall < TARGET_S and size < BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
