"""pytest set-up for the whole checkout (unit tests, nbval notebooks, the app).

One thread for PyTorch, and every library held to its AVX2 code paths: see
:mod:`dpo_toy._execution_env`, whose ``pin`` sets the variables before any kernel starts. The
course's models are tiny (a 21k-parameter GRU, a 2-layer Llama 32 wide, tables of 4 logits), so
PyTorch's intra-op threads buy nothing, and on a shared 2-core machine they cost a great deal:
measured under load, a step of chapter 4's reward-model loop took 18 ms with 2 threads and 1.4 ms
with 1, and chapter 7's pretraining 4x longer; the results were identical to the bit. The AVX2
paths make the stored outputs independent of the CPU that checks them. Kernels that nbval starts
inherit this environment; set any of the variables yourself to override it.

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

from dpo_toy import _execution_env
from dpo_toy._runcache import ENV as RUN_CACHE

_execution_env.pin()
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
