"""The environment notebooks are executed in, so that their stored outputs do not depend on the CPU.

NumPy, OpenBLAS, PyTorch, MKL and oneDNN each pick code paths by the instruction sets the CPU
offers, and paths for different instruction sets round differently in the last bits. A few
printed digits depend on those bits (an optimiser that stops at a tolerance, a GRU trained for
hundreds of steps): outputs stored on one machine failed nbval on another, with an AVX2-only CPU
(seen: 36 cells, e.g. ``5.3252e-05`` against ``5.3212e-05`` after chapter 1's optimiser; the
first machine's CPU was not recorded, most likely one with AVX-512). So every notebook is
executed and checked with each library held to its AVX2 (x86-64-v3) paths, which every x86-64
CPU of the last decade has. ``make lab`` gives a learner's kernels the same, so their numbers
match the stored ones.

:func:`pin` sets the variables only where they are not set already (set one yourself to
override), and only on x86-64 machines with AVX2; elsewhere it sets the thread counts alone.
Processes started afterwards inherit them; a library already imported is not affected.
"""

import os
import platform

THREADS = {
    # One PyTorch thread: the course's models are tiny, and on 2 shared cores extra threads cost
    # far more than they give (see conftest.py). NumPy's BLAS keeps its own count.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": str(os.cpu_count() or 1),
}

AVX2_PATHS = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",  # NumPy 2.x's AVX-512 dispatch targets
    "OPENBLAS_CORETYPE": "Haswell",  # OpenBLAS's AVX2 kernels (what it picks on AMD Zen too)
    "ATEN_CPU_CAPABILITY": "avx2",  # PyTorch's vectorised kernels
    "MKL_CBWR": "AVX2",  # MKL (PyTorch's BLAS on x86): reproducible AVX2 code branch
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN's JIT kernels
}


def has_avx2(cpuinfo="/proc/cpuinfo"):
    """Whether this is an x86-64 CPU with AVX2 (read from ``/proc/cpuinfo``; False where it is missing)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        with open(cpuinfo) as f:
            return any(line.startswith("flags") and " avx2" in line for line in f)
    except OSError:
        return False


def pin(environ=None):
    """Set the thread counts and, on x86-64 with AVX2, the AVX2 code paths; return what was set."""
    environ = os.environ if environ is None else environ
    wanted = {**THREADS, **(AVX2_PATHS if has_avx2() else {})}
    added = {name: value for name, value in wanted.items() if name not in environ}
    environ.update(added)
    return added
