"""Tests for dpo_toy.policy: the closed-form optimal policy against independent computations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize
from scipy.special import logsumexp as scipy_logsumexp
from scipy.special import rel_entr

import dpo_toy as d


@st.composite
def prompts(draw, n_min=2, n_max=8, allow_zeros=False):
    """A random (pi_ref, rewards) pair for one prompt."""
    n = draw(st.integers(n_min, n_max))
    weights = draw(arrays(np.float64, n, elements=st.floats(0.01, 10.0)))
    if allow_zeros:
        mask = draw(arrays(np.bool_, n))
        mask[0] = True  # keep at least one possible response
        weights = np.where(mask, weights, 0.0)
    rewards = draw(arrays(np.float64, n, elements=st.floats(-5.0, 5.0)))
    return weights / weights.sum(), rewards


betas = st.floats(0.05, 20.0)


def test_paris_example_by_hand():
    """beta = 1: pi* is pi_ref * e^r normalised, computed here term by term."""
    toy = d.capital_of_france()
    weights = [0.30 * np.exp(2.5), 0.40 * np.exp(2.0), 0.001 * np.exp(-1.0), 0.299 * np.exp(0.0)]
    np.testing.assert_allclose(d.optimal_policy(toy.pi_ref, toy.rewards, 1.0), np.array(weights) / sum(weights))
    np.testing.assert_allclose(d.log_partition(toy.pi_ref, toy.rewards, 1.0), np.log(sum(weights)))


@given(prompts(allow_zeros=True), betas)
def test_pi_star_is_a_distribution(prompt, beta):
    """pi* is non-negative and sums to 1."""
    pi = d.optimal_policy(*prompt, beta)
    assert (pi >= 0).all()
    np.testing.assert_allclose(pi.sum(), 1.0, rtol=1e-12)


@given(prompts(allow_zeros=True), betas)
def test_zero_probability_responses_stay_zero(prompt, beta):
    """Responses the reference never produces get exactly zero under pi*, whatever their reward."""
    pi_ref, rewards = prompt
    rewards = np.where(pi_ref == 0, 1e3, rewards)
    pi = d.optimal_policy(pi_ref, rewards, beta)
    assert (pi[pi_ref == 0] == 0).all()


@given(prompts(), betas, st.floats(-100, 100))
def test_adding_a_constant_to_rewards_changes_nothing(prompt, beta, c):
    """pi* depends on reward differences only; log Z shifts by c/beta."""
    pi_ref, rewards = prompt
    np.testing.assert_allclose(
        d.optimal_policy(pi_ref, rewards + c, beta), d.optimal_policy(pi_ref, rewards, beta), atol=1e-10
    )
    np.testing.assert_allclose(
        d.log_partition(pi_ref, rewards + c, beta),
        d.log_partition(pi_ref, rewards, beta) + c / beta,
        rtol=1e-9,
        atol=1e-9,
    )


@settings(max_examples=50)
@given(prompts(), betas, st.integers(0, 2**31 - 1))
def test_pi_star_beats_random_perturbations(prompt, beta, seed):
    """No perturbed distribution scores higher on E[r] - beta*KL than pi*."""
    pi_ref, rewards = prompt
    pi = d.optimal_policy(pi_ref, rewards, beta)
    best = d.kl_regularized_objective(pi, pi_ref, rewards, beta)
    rng = np.random.default_rng(seed)
    for scale in (1e-3, 1e-1, 1.0):
        logits = np.log(pi) + scale * rng.normal(size=(20, pi.size))
        others = np.exp(logits - scipy_logsumexp(logits, axis=1, keepdims=True))
        values = d.kl_regularized_objective(others, np.tile(pi_ref, (20, 1)), np.tile(rewards, (20, 1)), beta)
        assert (values <= best + 1e-12).all()


@given(prompts(), betas)
def test_maximum_of_objective_is_beta_log_z(prompt, beta):
    """J(pi*) = beta * log Z: the objective's maximum, derived by hand from the closed form."""
    pi_ref, rewards = prompt
    pi = d.optimal_policy(pi_ref, rewards, beta)
    np.testing.assert_allclose(
        d.kl_regularized_objective(pi, pi_ref, rewards, beta),
        beta * d.log_partition(pi_ref, rewards, beta),
        rtol=1e-9,
        atol=1e-9,
    )


@given(prompts(), betas, st.integers(0, 2**32 - 1))
def test_gibbs_identity_for_any_policy(prompt, beta, seed):
    """J(pi) = beta*log Z - beta*KL(pi || pi*) for any pi, with KL from scipy's rel_entr (chapter 1's derivation)."""
    pi_ref, rewards = prompt
    pi = np.random.default_rng(seed).dirichlet(np.ones(pi_ref.size))
    pi_star = d.optimal_policy(pi_ref, rewards, beta)
    kl = rel_entr(pi, pi_star).sum()
    np.testing.assert_allclose(
        d.kl_regularized_objective(pi, pi_ref, rewards, beta),
        beta * scipy_logsumexp(np.log(pi_ref) + rewards / beta) - beta * kl,
        rtol=1e-9,
        atol=1e-9,
    )


@pytest.mark.parametrize("beta", [0.1, 1.0, 5.0])
def test_closed_form_matches_numerical_optimiser(beta):
    """scipy's L-BFGS on softmax logits finds the same pi* as the formula."""
    toy = d.capital_of_france()

    def negative_objective(logits):
        pi = np.exp(logits - scipy_logsumexp(logits))
        return -(pi @ toy.rewards - beta * rel_entr(pi, toy.pi_ref).sum())

    result = minimize(negative_objective, np.zeros(len(toy)), method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15})
    found = np.exp(result.x - scipy_logsumexp(result.x))
    np.testing.assert_allclose(found, d.optimal_policy(toy.pi_ref, toy.rewards, beta), atol=1e-5)


@given(prompts())
def test_large_beta_gives_reference(prompt):
    """beta -> infinity: pi* -> pi_ref."""
    pi_ref, rewards = prompt
    np.testing.assert_allclose(d.optimal_policy(pi_ref, rewards, 1e4), pi_ref, rtol=2e-3)


def test_small_beta_gives_argmax():
    """beta -> 0: all mass on the highest-reward response; ties split in proportion to pi_ref."""
    pi_ref = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(d.optimal_policy(pi_ref, [1.0, 3.0, 2.0, 0.0], 1e-4), [0, 1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(d.optimal_policy(pi_ref, [3.0, 1.0, 3.0, 0.0], 1e-4), [0.25, 0, 0.75, 0], atol=1e-12)


def test_constant_reward_gives_reference():
    """A constant reward leaves pi* = pi_ref at any beta."""
    toy = d.capital_of_france()
    for beta in (1e-4, 1.0, 1e4):
        np.testing.assert_allclose(d.optimal_policy(toy.pi_ref, np.full(4, 7.0), beta), toy.pi_ref, rtol=1e-12)


@pytest.mark.parametrize("beta", [1e-4, 1e-2, 1.0, 1e2, 1e4])
@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_finite_at_extreme_beta_and_rewards(beta, scale):
    """beta in [1e-4, 1e4] and rewards up to +-1e3 give finite pi* and log Z."""
    pi_ref = np.array([0.25, 0.25, 0.5])
    rewards = scale * np.array([1.0, -1.0, 0.5])
    pi = d.optimal_policy(pi_ref, rewards, beta)
    assert np.isfinite(pi).all() and np.isfinite(d.log_partition(pi_ref, rewards, beta))
    np.testing.assert_allclose(pi.sum(), 1.0)


def test_log_partition_against_scipy_at_extremes():
    """log Z equals scipy's logsumexp of log pi_ref + r/beta even when Z overflows a float."""
    pi_ref = np.array([0.2, 0.8])
    rewards = np.array([1e3, -1e3])
    for beta in (1e-4, 1.0, 1e4):
        np.testing.assert_allclose(
            d.log_partition(pi_ref, rewards, beta), scipy_logsumexp(np.log(pi_ref) + rewards / beta)
        )


@given(prompts(n_min=2, n_max=5), prompts(n_min=5, n_max=5), betas)
def test_two_d_rows_are_independent_prompts(p1, p2, beta):
    """A 2-D call equals one 1-D call per row."""
    if p1[0].size != 5:
        p1 = p2
    pi_ref = np.stack([p1[0], p2[0]])
    rewards = np.stack([p1[1], p2[1]])
    both = d.optimal_policy(pi_ref, rewards, beta)
    np.testing.assert_allclose(both[0], d.optimal_policy(p1[0], p1[1], beta))
    np.testing.assert_allclose(both[1], d.optimal_policy(p2[0], p2[1], beta))
    np.testing.assert_allclose(d.log_partition(pi_ref, rewards, beta)[1], d.log_partition(p2[0], p2[1], beta))


@given(prompts(allow_zeros=True), prompts(allow_zeros=True))
def test_kl_matches_scipy_rel_entr(a, b):
    """KL(p||q) equals scipy's sum of rel_entr, including 0*log 0 = 0 and +inf for q = 0 < p."""
    p, q = a[0], b[0]
    if p.size != q.size:
        q = p[::-1].copy()
    np.testing.assert_allclose(d.kl_divergence(p, q), rel_entr(p, q).sum(), rtol=1e-12, atol=1e-15)


def test_kl_edge_cases_by_hand():
    """KL(p||p) = 0; 0 log 0 = 0; p > 0 = q gives +inf; two coins by hand."""
    assert d.kl_divergence([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0
    assert d.kl_divergence([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(np.log(2))
    assert d.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert d.kl_divergence([0.9, 0.1], [0.5, 0.5]) == pytest.approx(0.9 * np.log(1.8) + 0.1 * np.log(0.2))


@given(prompts(), betas)
def test_implied_reward_recovers_rewards_up_to_beta_log_z(prompt, beta):
    """beta*log(pi*/pi_ref) = r - beta*log Z for every response (the rearrangement)."""
    pi_ref, rewards = prompt
    pi = d.optimal_policy(pi_ref, rewards, beta)
    np.testing.assert_allclose(
        d.implied_reward(pi, pi_ref, beta), rewards - beta * d.log_partition(pi_ref, rewards, beta), atol=1e-8
    )


def test_implied_reward_infinities():
    """pi = 0 < pi_ref gives -inf; pi_ref = 0 < pi gives +inf."""
    out = d.implied_reward([0.0, 0.5, 0.5], [0.5, 0.5, 0.0], 1.0)
    assert out[0] == -np.inf and out[1] == 0.0 and out[2] == np.inf


@given(prompts(), betas)
def test_boost_table_matches_functions(prompt, beta):
    """The table's columns are exp(r/beta), pi*, and log Z from the library functions."""
    pi_ref, rewards = prompt
    names = [f"y{i}" for i in range(pi_ref.size)]
    table = d.boost_table(names, pi_ref, rewards, beta)
    np.testing.assert_allclose([r.pi_star for r in table.rows], d.optimal_policy(pi_ref, rewards, beta))
    np.testing.assert_allclose([r.boost for r in table.rows], np.exp(rewards / beta))
    np.testing.assert_allclose(table.log_partition, d.log_partition(pi_ref, rewards, beta))
    assert [r.response for r in table.rows] == names


def test_boost_table_text_and_html():
    """The printed table shows every response and a Z(x) row; tiny beta prints e^x instead of inf."""
    toy = d.capital_of_france()
    text = str(d.boost_table(toy.responses, toy.pi_ref, toy.rewards, 1.0))
    for response in toy.responses:
        assert response in text
    assert "12.1825" in text and f"{np.exp(2.5):.4f}" == "12.1825"
    assert "inf" not in str(d.boost_table(toy.responses, toy.pi_ref, toy.rewards, 1e-4))
    assert "<table>" in d.boost_table(toy.responses, toy.pi_ref, toy.rewards, 1.0)._repr_html_()
    assert (
        "<td>&lt;every other string&gt;</td>"
        in d.boost_table(toy.responses, toy.pi_ref, toy.rewards, 1.0)._repr_html_()
    )


def test_toy_bucket():
    """The France example: three listed responses carry 0.701; the bucket carries the rest."""
    toy = d.capital_of_france()
    np.testing.assert_allclose(toy.pi_ref[:3].sum(), 0.701)
    np.testing.assert_allclose(toy.pi_ref[3], 0.299)
    assert toy.responses[3] == d.EVERY_OTHER_STRING
    np.testing.assert_allclose(d.capital_of_france(include_other=False).pi_ref, np.array([0.3, 0.4, 0.001]) / 0.701)
    with pytest.raises(ValueError):
        toy.pi_ref[0] = 0.5  # frozen arrays


def test_every_policy_is_optimal_for_its_own_implied_reward():
    """π* for r = β·log(π/π_ref) + f(x) is π itself, and β·log Z(x) = f(x) (chapter 5, step 1)."""
    rng = np.random.default_rng(12)
    for n, beta in ((3, 0.1), (4, 0.5), (8, 3.0)):
        pi, pi_ref = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
        shift = rng.normal()
        reward = beta * (np.log(pi) - np.log(pi_ref)) + shift  # written out, not via implied_reward
        np.testing.assert_allclose(d.optimal_policy(pi_ref, reward, beta), pi, rtol=1e-12)
        np.testing.assert_allclose(beta * d.log_partition(pi_ref, reward, beta), shift, atol=1e-12)
