"""Tests for dpo_toy.tabular_dpo: Eq. 7, finite optima, unseen mass, on-policy pairs, iterative DPO."""

import numpy as np
import pytest
import torch

import dpo_toy as d
from dpo_toy import tabular_dpo, torch_losses, training

TOY = d.capital_of_france()
LOG_REF = np.log(TOY.pi_ref)


def _autograd(logits, chosen, rejected, beta):
    theta = torch.tensor(logits, requires_grad=True)
    log_pi = torch.log_softmax(theta, 0)
    ref = torch.tensor(LOG_REF)
    torch_losses.dpo_loss(log_pi[chosen], log_pi[rejected], ref[chosen], ref[rejected], beta).backward()
    return theta.grad.numpy()


@pytest.mark.parametrize("beta", [0.1, 0.5, 3.0])
def test_eq7_matches_autograd_and_finite_differences(beta):
    """Eq. 7 built term by term equals autograd through log-softmax and central differences."""
    rng = np.random.default_rng(1)
    logits = rng.normal(size=4)
    chosen, rejected = np.array([0, 1, 0, 2, 3]), np.array([1, 2, 3, 3, 0])
    weight, gw, gl, grad = tabular_dpo.eq7_gradient(logits, LOG_REF, chosen, rejected, beta)
    np.testing.assert_allclose(grad, _autograd(logits, chosen, rejected, beta), atol=1e-14)
    pairs = training.PreferencePairs(chosen, rejected, np.ones(5))
    loss = lambda th: training.weighted_dpo_loss_and_grad(th, LOG_REF, pairs, beta)[0]  # noqa: E731
    fd = [(loss(logits + 1e-6 * e) - loss(logits - 1e-6 * e)) / 2e-6 for e in np.eye(4)]
    np.testing.assert_allclose(grad, fd, atol=1e-8)
    pi = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(gw, np.eye(4)[chosen] - pi)
    np.testing.assert_allclose(gl, np.eye(4)[rejected] - pi)
    r_hat = beta * (np.log(pi) - LOG_REF)
    np.testing.assert_allclose(weight, 1 / (1 + np.exp(r_hat[chosen] - r_hat[rejected])))


def test_eq7_at_reference_weights_are_one_half():
    """At π_θ = π_ref every implied reward is 0, so every pair has weight σ(0) = 1/2."""
    weight, *_ = tabular_dpo.eq7_gradient(LOG_REF, LOG_REF, np.array([0, 1]), np.array([2, 3]), 0.7)
    np.testing.assert_allclose(weight, 0.5)


def test_eq7_rejects_bad_indices():
    """Indices outside the responses, or floats, raise ValueError naming the argument."""
    with pytest.raises(ValueError, match="chosen"):
        tabular_dpo.eq7_gradient(LOG_REF, LOG_REF, np.array([4]), np.array([0]), 0.5)
    with pytest.raises(ValueError, match="rejected"):
        tabular_dpo.eq7_gradient(LOG_REF, LOG_REF, np.array([0]), np.array([0.5]), 0.5)


def test_unseen_mass_sums_the_responses_outside_the_data():
    """The mass on responses in no pair, for one policy and for a stack of policies."""
    pairs = training.PreferencePairs(np.array([2]), np.array([1]), np.ones(1))
    policies = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.0, 0.5, 0.0]])
    np.testing.assert_allclose(tabular_dpo.unseen_mass(pairs, policies), [0.5, 0.5])
    assert tabular_dpo.unseen_mass(pairs, policies[0]) == pytest.approx(0.5)


def test_optimum_problems_one_way_and_cycle():
    """One-way data has no finite optimum; a 3-cycle does; a response absent from the data is fine."""
    one_way = training.PreferencePairs(np.array([0, 0]), np.array([1, 1]), np.ones(2))
    assert tabular_dpo.optimum_problems(one_way, 4)
    cycle = training.PreferencePairs(np.array([0, 1, 2]), np.array([1, 2, 0]), np.ones(3))
    assert tabular_dpo.optimum_problems(cycle, 4) == []


@pytest.mark.parametrize("seed", range(5))
def test_optimum_problems_predicts_whether_training_settles(seed):
    """Independent check: without a finite optimum the smallest probability keeps falling 10x longer."""
    pairs = training.sample_pairs(TOY, 30, seed).merged()
    short, long = (
        training.train_tabular_dpo(TOY, pairs, 1.0, steps=s, lr=0.2, record_every=s).final.min() for s in (400, 4000)
    )
    settled = long > 0.5 * short
    assert settled == (tabular_dpo.optimum_problems(pairs, len(TOY)) == [])


def test_sample_pairs_from_matches_the_policy():
    """Pair frequencies match P(a, b) = π(a)·π(b)/(1 − π(a)) + the same with a, b swapped."""
    pi = np.array([0.5, 0.3, 0.2, 0.0])
    pairs = tabular_dpo.sample_pairs_from(TOY, pi, 20000, seed=3)
    assert np.all(pairs.chosen != pairs.rejected)
    assert not np.any((pairs.chosen == 3) | (pairs.rejected == 3))
    lo, hi = np.minimum(pairs.chosen, pairs.rejected), np.maximum(pairs.chosen, pairs.rejected)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        expected = pi[a] * pi[b] / (1 - pi[a]) + pi[b] * pi[a] / (1 - pi[b])
        assert np.mean((lo == a) & (hi == b)) == pytest.approx(expected, abs=0.015)
    with pytest.raises(ValueError, match="policy"):
        tabular_dpo.sample_pairs_from(TOY, np.array([1.0, 0, 0, 0]), 5)
    with pytest.raises(ValueError, match="policy"):
        tabular_dpo.sample_pairs_from(TOY, np.array([0.5, 0.5]), 5)


def test_iterative_dpo_rounds_and_data():
    """One policy per round plus the start; pairs_per_round new pairs per round; reproducible."""
    policies, data = tabular_dpo.iterative_dpo(TOY, 0.5, 3, 20, steps=50, seed=1)
    assert policies.shape == (4, 4) and len(data) == 60
    np.testing.assert_allclose(policies[0], TOY.pi_ref)
    np.testing.assert_allclose(policies.sum(axis=1), 1.0)
    again, _ = tabular_dpo.iterative_dpo(TOY, 0.5, 3, 20, steps=50, seed=1)
    np.testing.assert_array_equal(policies, again)
    one_round, first = tabular_dpo.iterative_dpo(TOY, 0.5, 1, 20, steps=50, seed=1)
    trained = training.train_tabular_dpo(TOY, first.merged(), 0.5, steps=50, lr=0.1).final
    np.testing.assert_allclose(one_round[1], trained, rtol=1e-9)
