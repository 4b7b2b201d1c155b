"""Load test of the classroom app (``make app``): a class of 40 loading the page, on loopback only.

``make bench`` runs it after ``run.py``; alone: ``.venv/bin/python benchmarks/classroom.py``. It
starts the app exactly as ``make app`` does (``python -m dpo_toy.classroom``) on 127.0.0.1 and a
free port, with a shorter idle time than the real 5 minutes (``--idle`` seconds, default 120) so
the run stays bounded, then for each of two rounds:

1. loads the page 40 times in a row (one HTTP GET each: Voilà starts a kernel and runs the
   dashboard in it, as for a learner opening it; nothing keeps the page open afterwards);
2. counts the live kernels (the server's ``ipykernel`` child processes) and the memory of the
   server and its kernels (proportional set size, PSS, from ``/proc``: shared libraries counted
   once) after every load;
3. waits until the culler has shut every kernel down, and times that.

The second round shows that memory returns to the same level after culling rather than growing
from round to round. Linux only (``/proc``). It prints a table and writes
``benchmarks/results/classroom.json``. A report, not a test: the exit code is 0 unless it crashes.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "classroom.json"


def _children(pid):
    """Direct child process ids of ``pid``, from /proc/<pid>/task/*/children."""
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def _pss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _is_kernel(pid):
    try:
        return b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def snapshot(server_pid):
    """(live kernels, MB of the server, MB of server + kernels)."""
    kernels = [k for k in _children(server_pid) if _is_kernel(k)]
    server = _pss_mb(server_pid)
    return len(kernels), server, server + sum(_pss_mb(k) for k in kernels)


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port, idle, interval, tmp):
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR"):
        env[name] = str(Path(tmp) / name.lower())
    command = [sys.executable, "-m", "dpo_toy.classroom", f"--port={port}", "--no-browser",
               f"--idle-timeout={idle}", f"--cull-interval={interval}"]  # fmt: skip
    log = open(Path(tmp) / "app.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/static/", timeout=2)
        except urllib.error.HTTPError:
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the app did not start: " + (Path(tmp) / "app.log").read_text()) from None
            time.sleep(0.3)


def run_round(server, port, loads, idle, interval):
    url = f"http://127.0.0.1:{port}/"
    times, peak_kernels, peak_mb = [], 0, 0.0
    for _ in range(loads):
        start_time = time.perf_counter()
        with urllib.request.urlopen(url, timeout=120) as response:
            assert response.status == 200 and b"kernelId" in response.read()
        times.append(time.perf_counter() - start_time)
        kernels, _, total = snapshot(server.pid)
        peak_kernels, peak_mb = max(peak_kernels, kernels), max(peak_mb, total)
    after_loads = snapshot(server.pid)
    last_load = time.monotonic()
    while snapshot(server.pid)[0] > 0:
        if time.monotonic() - last_load > idle + 10 * interval + 120:
            raise RuntimeError(f"kernels still alive {time.monotonic() - last_load:.0f} s after the last load")
        time.sleep(1)
    culled_after = time.monotonic() - last_load
    time.sleep(2)
    kernels, server_mb, total = snapshot(server.pid)
    return {
        "page_load_median_s": statistics.median(times),
        "page_load_max_s": max(times),
        "kernels_after_loads": after_loads[0],
        "peak_kernels": peak_kernels,
        "peak_mb": peak_mb,
        "mb_per_kernel": (after_loads[2] - after_loads[1]) / max(after_loads[0], 1),
        "all_culled_after_s": culled_after,
        "kernels_after_idle": kernels,
        "server_mb_after_idle": server_mb,
        "total_mb_after_idle": total,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--idle", type=int, default=120, help="idle time before culling, s (make app: 300)")
    parser.add_argument("--interval", type=int, default=5, help="culler interval, s (make app: 60)")
    args = parser.parse_args(argv)
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = start(port, args.idle, args.interval, tmp)
        try:
            time.sleep(2)
            baseline = snapshot(server.pid)
            rounds = [run_round(server, port, args.loads, args.idle, args.interval) for _ in range(args.rounds)]
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),  # fmt: skip
        "loads_per_round": args.loads,
        "idle_timeout_s": args.idle,
        "cull_interval_s": args.interval,
        "baseline": {"kernels": baseline[0], "server_mb": baseline[1]},
        "rounds": rounds,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(f"classroom app, {args.loads} page loads per round, idle time {args.idle} s, culler every {args.interval} s")
    print(f"baseline: {baseline[0]} kernels, server {baseline[1]:.0f} MB (PSS)")
    head = f"{'round':>5} {'load median':>11} {'max':>6} {'kernels':>7} {'peak MB':>8} {'MB/kernel':>9}"
    print(head + f" {'all culled after':>16} {'kernels then':>12} {'server MB then':>14}")
    for i, r in enumerate(rounds, 1):
        print(
            f"{i:>5} {r['page_load_median_s']:>10.2f}s {r['page_load_max_s']:>5.2f}s {r['kernels_after_loads']:>7d}"
            f" {r['peak_mb']:>8.0f} {r['mb_per_kernel']:>9.0f} {r['all_culled_after_s']:>15.0f}s"
            f" {r['kernels_after_idle']:>12d} {r['server_mb_after_idle']:>14.0f}"
        )
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
