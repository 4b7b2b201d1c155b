"""The within-run trainer cache: off by default, identical results when on, never seen by unit tests."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

import dpo_toy as d
from dpo_toy import _runcache, rlhf
from dpo_toy import sequences as S
from dpo_toy import torch_training as ttr
from dpo_toy import training as tr

ROOT = Path(__file__).resolve().parents[1]
TOY = d.capital_of_france()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The cache switched on for one test, in its own folder."""
    monkeypatch.setenv(_runcache.ENV, str(tmp_path))
    return tmp_path


def counted(reseeds_torch=False):
    """A wrapped function that counts its real calls (and draws from torch's generator if it reseeds)."""
    calls = []

    @_runcache.reused_within_run(reseeds_torch=reseeds_torch)
    def train(x, beta=1.0, *, seed=0):
        calls.append(1)
        if reseeds_torch:
            torch.manual_seed(seed)
            return np.asarray(x) * beta + torch.rand(3).numpy()
        return np.asarray(x) * beta

    return train, calls


def test_unit_tests_never_see_the_variable():
    """conftest.py removes it for every test that is not a notebook cell."""
    assert _runcache.ENV not in os.environ


def test_off_by_default_computes_every_call(tmp_path):
    train, calls = counted()
    train([1.0, 2.0])
    train([1.0, 2.0])
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []


def test_identical_call_is_read_back_and_equal(cache):
    train, calls = counted()
    first, second = train([1.0, 2.0], 2.0), train([1.0, 2.0], beta=2.0)  # positional or keyword: one key
    assert len(calls) == 1
    np.testing.assert_array_equal(first, second)
    assert len(list(cache.glob("*.pickle"))) == 1


@pytest.mark.parametrize(
    "other",
    [
        lambda f: f([1.0, 2.0], 3.0),  # another beta
        lambda f: f([1.0, 2.5], 2.0),  # another array
        lambda f: f(np.array([1.0, 2.0], dtype=np.float32), 2.0),  # same values, another dtype
        lambda f: f([1.0, 2.0], 2.0, seed=1),  # another seed
    ],
)
def test_any_other_argument_is_a_miss(cache, other):
    train, calls = counted()
    train([1.0, 2.0], 2.0)
    other(train)
    assert len(calls) == 2


def test_seed_none_and_unkeyable_arguments_always_compute(cache):
    train, calls = counted()
    train([1.0], seed=None)
    train([1.0], seed=None)
    train([1.0], beta=2.0, seed=np.random.default_rng(0))  # a Generator has no fingerprint
    train([1.0], beta=2.0, seed=np.random.default_rng(0))
    assert len(calls) == 4


def test_a_wrong_argument_still_gets_the_trainers_own_error(cache):
    train, _ = counted()
    with pytest.raises(TypeError, match="unexpected keyword argument 'betta'"):
        train([1.0], betta=2.0)


def test_reseeding_trainer_leaves_the_generator_as_the_real_call_would():
    """On a hit the torch generator is where the real call left it, whatever it was before."""
    train, calls = counted(reseeds_torch=True)
    train([1.0], seed=5)
    after_real = torch.get_rng_state()
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as folder:
        mp.setenv(_runcache.ENV, folder)
        train([1.0], seed=5)  # computes and stores
        torch.manual_seed(123)  # somebody else draws in between
        again = train([1.0], seed=5)  # read back
    assert len(calls) == 2
    assert torch.equal(torch.get_rng_state(), after_real)
    torch.manual_seed(5)
    np.testing.assert_array_equal(again, np.array([1.0]) + torch.rand(3).numpy())


def test_rng_free_trainer_does_not_touch_the_generator_on_a_hit(cache):
    pairs = tr.expected_pairs(TOY)
    tr.train_tabular_dpo(TOY, pairs, 1.0, steps=5)
    torch.manual_seed(7)
    before = torch.get_rng_state()
    tr.train_tabular_dpo(TOY, pairs, 1.0, steps=5)
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("trainer", [tr.train_tabular_dpo, ttr.train_tabular_dpo])
def test_tabular_trainers_cached_equal_computed(cache, trainer):
    pairs = tr.sample_pairs(TOY, 40, seed=2)
    computed = trainer.__wrapped__(TOY, pairs, 0.5, steps=30)
    stored, read = trainer(TOY, pairs, 0.5, steps=30), trainer(TOY, pairs, 0.5, steps=30)
    assert len(list(cache.glob("*.pickle"))) == 1
    for run in (stored, read):
        np.testing.assert_array_equal(run.policies, computed.policies)
        np.testing.assert_array_equal(run.losses, computed.losses)
    # A changed pairs array is another call, not the stored one.
    pairs.weight[0] = 2.0
    trainer(TOY, pairs, 0.5, steps=30)
    assert len(list(cache.glob("*.pickle"))) == 2


def test_rl_trainer_cached_equal_computed(cache):
    kw = dict(steps=20, batch=16, seed=3)
    computed = rlhf.train_rl.__wrapped__(TOY.pi_ref, TOY.rewards, 1.0, **kw)
    rlhf.train_rl(TOY.pi_ref, TOY.rewards, 1.0, **kw)
    read = rlhf.train_rl(TOY.pi_ref, TOY.rewards, 1.0, **kw)
    np.testing.assert_array_equal(read.policies, computed.policies)


def test_sequence_trainers_chain_through_the_cache(cache):
    """A read-back reference is the same model, so the DPO run on it is found too, with equal weights."""
    vocab = S.vocabulary()
    data = S.capitals_data(40, seed=0)
    reference = S.pretrain_reference(vocab, steps=3, progress=False)
    run = S.train_sequence_dpo(reference, data, vocab, steps=3, batch_size=8, progress=False)
    torch.manual_seed(99)
    reference_again = S.pretrain_reference(vocab, steps=3, progress=False)
    state_after_hit = torch.get_rng_state()
    run_again = S.train_sequence_dpo(reference_again, data, vocab, steps=3, batch_size=8, progress=False)
    assert len(list(cache.glob("*.pickle"))) == 2
    for a, b in zip(run.policy.parameters(), run_again.policy.parameters()):
        assert torch.equal(a, b)
    assert run.history == run_again.history
    S.pretrain_reference.__wrapped__(vocab, steps=3, progress=False)
    assert torch.equal(torch.get_rng_state(), state_after_hit)  # the hit left the generator as a real run


def test_notebook_kernels_get_the_variable(tmp_path):
    """Under nbval (conftest.py's hook), a notebook kernel sees the run's cache folder."""
    folder = ROOT / "build" / "runcache-check"
    folder.mkdir(parents=True, exist_ok=True)  # under the checkout, so conftest.py applies
    path = folder / "probe.ipynb"
    cell = nbformat.v4.new_code_cell("import os\nassert os.environ['DPO_TOY_RUN_CACHE'].startswith('/')")
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q", "-p", "no:cacheprovider",
             str(path)],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        path.unlink()
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed" in result.stdout
