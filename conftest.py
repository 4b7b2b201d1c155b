"""pytest set-up for the whole checkout (unit tests, nbval notebooks, the app).

One thread for PyTorch. The course's models are tiny (a 21k-parameter GRU, a 2-layer Llama 32
wide, tables of 4 logits), so PyTorch's intra-op threads buy nothing, and on a shared 2-core
machine they cost a great deal: measured under load, a step of chapter 4's reward-model loop took
18 ms with 2 threads and 1.4 ms with 1, and chapter 7's pretraining 4× longer; the results were
identical to the bit. Kernels that nbval starts inherit this environment. NumPy's BLAS keeps its
own thread count (OPENBLAS_NUM_THREADS would otherwise fall back to OMP_NUM_THREADS), so no NumPy
result changes. Set either variable yourself to override.

One trainer result cache per run, for notebook kernels only. The learner edition of a chapter
trains what its solution edition trains, with the same data and seeds; with ``DPO_TOY_RUN_CACHE``
set (see :mod:`dpo_toy._runcache`) the second of the two reads the first one's results. The
variable is set while a notebook's cells run (its kernel starts in the first cell's set-up and
inherits it) and removed for every other test, so no unit test ever reads a cached result.
"""

import os
import shutil
import tempfile

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count() or 1))
os.environ.setdefault("OMP_NUM_THREADS", "1")

RUN_CACHE = "DPO_TOY_RUN_CACHE"  # dpo_toy._runcache.ENV; not imported, so conftest loads no package code
_folder = pytest.StashKey[str]()  # the run's cache folder


def pytest_configure(config):
    config.stash[_folder] = tempfile.mkdtemp(prefix="dpo_toy_run_cache_")


def pytest_unconfigure(config):
    shutil.rmtree(config.stash.get(_folder, ""), ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if item.path.suffix == ".ipynb":
        os.environ[RUN_CACHE] = item.config.stash[_folder]
    else:
        os.environ.pop(RUN_CACHE, None)
