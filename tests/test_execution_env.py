"""The pinned execution environment: what it sets, what it leaves alone, and that the libraries obey it."""

import json
import os
import subprocess
import sys

import pytest

from dpo_toy import _execution_env as E


def test_avx2_is_read_from_the_flags_line(tmp_path, monkeypatch):
    monkeypatch.setattr(E.platform, "machine", lambda: "x86_64")
    with_avx2, without = tmp_path / "a", tmp_path / "b"
    with_avx2.write_text("model name\t: avx2 in the name does not count\nflags\t\t: sse2 avx avx2\n")
    without.write_text("model name\t: avx2 in the name does not count\nflags\t\t: sse2 avx\n")
    assert E.has_avx2(str(with_avx2)) is True
    assert E.has_avx2(str(without)) is False
    assert E.has_avx2(str(tmp_path / "missing")) is False
    monkeypatch.setattr(E.platform, "machine", lambda: "aarch64")
    assert E.has_avx2(str(with_avx2)) is False  # the x86 names mean nothing on an ARM CPU


def test_pin_sets_every_variable_on_avx2_and_keeps_what_is_set(monkeypatch):
    monkeypatch.setattr(E, "has_avx2", lambda: True)
    env = {"OMP_NUM_THREADS": "4", "MKL_CBWR": "COMPATIBLE"}
    added = E.pin(env)
    assert env["OMP_NUM_THREADS"] == "4" and env["MKL_CBWR"] == "COMPATIBLE"  # a user's choice wins
    assert set(added) == (set(E.THREADS) | set(E.AVX2_PATHS)) - {"OMP_NUM_THREADS", "MKL_CBWR"}
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["ATEN_CPU_CAPABILITY"] == "avx2"
    assert E.pin(env) == {}  # a second call changes nothing


def test_pin_sets_only_threads_without_avx2(monkeypatch):
    monkeypatch.setattr(E, "has_avx2", lambda: False)
    env = {}
    E.pin(env)
    assert env == E.THREADS


PROBE = """\
import json, numpy, torch
from numpy._core._multiarray_umath import __cpu_features__, __cpu_dispatch__
from threadpoolctl import threadpool_info
print(json.dumps({
    "numpy": sorted(t for t in __cpu_dispatch__ if __cpu_features__.get(t)),
    "torch": torch.backends.cpu.get_cpu_capability(),
    "openblas": sorted({i["architecture"] for i in threadpool_info() if i["internal_api"] == "openblas"}),
    "threads": torch.get_num_threads(),
}))
"""


def _probe(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in E.THREADS and k not in E.AVX2_PATHS}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**env, **overrides}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


@pytest.mark.skipif(not E.has_avx2(), reason="the AVX2 paths are pinned only on x86-64 CPUs with AVX2")
def test_the_libraries_run_on_the_pinned_paths():
    """A child with the pinned variables reports AVX2 paths; one with a lower setting, the lower ones.

    The second half shows that each library reads its variable at all: if one stopped doing so, the
    pin would silently do nothing on a CPU with AVX-512, where the stored outputs would differ.
    """
    pinned = _probe(**E.THREADS, **E.AVX2_PATHS)
    assert pinned == {"numpy": ["X86_V3"], "torch": "AVX2", "openblas": ["Haswell"], "threads": 1}
    lower = _probe(
        NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
        ATEN_CPU_CAPABILITY="default",
        OPENBLAS_CORETYPE="Sandybridge",
        OMP_NUM_THREADS="2",
    )
    assert lower == {"numpy": [], "torch": "DEFAULT", "openblas": ["Sandybridge"], "threads": 2}
