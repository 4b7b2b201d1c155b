"""The time limit in a real Jupyter kernel: the check answers, the kernel stays usable and idle."""

import time

import psutil
import pytest
from jupyter_client.manager import start_new_kernel

from dpo_toy.exercises._runner import CappedOutput, TimeLimitExceeded, call_with_time_limit


def _run(client, code, timeout=60):
    """Execute ``code`` in the kernel; return its stdout text and text/plain results."""
    msg_id = client.execute(code)
    out = []
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            out.append(content["data"].get("text/plain", ""))
        elif kind == "error":
            out.append("ERROR " + content["ename"])
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(out)


@pytest.fixture(scope="module")
def kernel():
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_endless_loop_in_a_kernel_is_stopped_and_the_kernel_stays_usable(kernel):
    """check() on an endless loop answers within the limit; the next cell runs; no CPU is burnt after."""
    manager, client = kernel
    _run(client, "from dpo_toy.exercises import check")
    code = "def spin(pi_ref, rewards, beta):\n    while True:\n        pass\ncheck('1.1', spin, time_limit=1)"
    start = time.monotonic()
    out = _run(client, code)
    assert "took longer than 1 s" in out and "ERROR" not in out
    assert time.monotonic() - start < 15
    assert _run(client, "print(6 * 7)").strip() == "42"
    process = psutil.Process(manager.provisioner.process.pid)
    before = process.cpu_times()
    time.sleep(1.0)
    after = process.cpu_times()
    assert (after.user + after.system) - (before.user + before.system) < 0.3  # idle: nothing left spinning
    watchdogs = "import threading; print(sum(t.name.startswith('dpo_toy') for t in threading.enumerate()))"
    assert _run(client, watchdogs).strip() == "0"  # no watchdog thread left behind


def test_sys_exit_in_a_kernel_is_a_verdict(kernel):
    _, client = kernel
    out = _run(client, "import sys\ncheck('0.1', lambda z: sys.exit(0))")
    assert "raised SystemExit" in out and "ERROR" not in out


def test_call_with_time_limit_returns_the_value_and_leaves_no_alarm():
    assert call_with_time_limit(lambda a, b: a + b, (2, 3), 1.0) == 5
    time.sleep(0.2)  # a stray alarm would raise here
    with pytest.raises(TimeLimitExceeded):
        call_with_time_limit(time.sleep, (5,), 0.2)


def test_capped_output_keeps_the_start_and_counts_the_rest():
    sink = CappedOutput(limit=20)
    sink.write("0123456789\n")
    sink.write("abcdefghij\nmore text")
    text = sink.text(lines=1)
    assert text.startswith("0123456789\n…") and "more characters of output not shown" in text
