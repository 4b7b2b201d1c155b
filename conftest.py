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

Notebooks run on pytest-xdist workers too (``make test``: ``-n 2 --dist loadfile``), with one
change to ``loadfile``: a chapter's two editions, ``notebooks/NN_name.ipynb`` and
``notebooks/solutions/NN_name.ipynb``, count as one file. They run one after the other on the same
worker, learner edition first (the collection order), so the second still reads the first's results
from that worker's cache.
"""

import os
import shutil
import tempfile
from pathlib import PurePosixPath

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


def chapter_scope(nodeid):
    """The unit of work ``--dist loadfile`` gives a worker: a test file, or a notebook's name (both editions)."""
    path = nodeid.split("::", 1)[0]
    return PurePosixPath(path).stem if path.endswith(".ipynb") else path


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None  # xdist's own scheduler
    from xdist.scheduler import LoadFileScheduling

    class ChapterScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid):
            return chapter_scope(nodeid)

    return ChapterScheduling(config, log)
