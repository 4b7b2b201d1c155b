"""RLHF on the toy: the reward model, the sampled policy gradient, and agreement with DPO."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

import dpo_toy as d
from dpo_toy import rlhf, training

TOY = d.capital_of_france()
REF_LOGPS = np.log(TOY.pi_ref)


def objective(logits, rewards, beta):
    """J = E_π[r] − β·KL(π‖π_ref), computed exactly (no sampling)."""
    pi = d.softmax(logits)
    return pi @ rewards - beta * d.kl_divergence(pi, TOY.pi_ref)


def test_policy_gradient_is_an_unbiased_estimate_of_the_exact_gradient():
    """Averaged over many samples, the REINFORCE estimate equals ∇J by finite differences."""
    logits = REF_LOGPS + np.array([0.3, -0.2, 0.5, 0.1])
    rng = np.random.default_rng(0)
    samples = rng.choice(4, size=400_000, p=d.softmax(logits))
    estimate = rlhf.policy_gradient(logits, REF_LOGPS, TOY.rewards, samples, 0.7, baseline=False)
    exact = approx_fprime(logits, lambda x: objective(x, TOY.rewards, 0.7), 1e-7)
    np.testing.assert_allclose(estimate, exact, atol=5e-3)
    with_baseline = rlhf.policy_gradient(logits, REF_LOGPS, TOY.rewards, samples, 0.7)
    np.testing.assert_allclose(with_baseline, exact, atol=5e-3)


def test_baseline_lowers_the_variance():
    logits = REF_LOGPS.copy()
    rng = np.random.default_rng(1)
    draws = [rng.choice(4, size=16, p=TOY.pi_ref) for _ in range(2000)]
    plain = np.array([rlhf.policy_gradient(logits, REF_LOGPS, TOY.rewards + 5, s, 1.0, baseline=False) for s in draws])
    based = np.array([rlhf.policy_gradient(logits, REF_LOGPS, TOY.rewards + 5, s, 1.0) for s in draws])
    assert based.var(axis=0).sum() < 0.5 * plain.var(axis=0).sum()


@pytest.mark.parametrize("beta", [0.3, 1.0, 3.0])
def test_rl_on_the_true_reward_reaches_pi_star(beta):
    run = rlhf.train_rl(TOY.pi_ref, TOY.rewards, beta, steps=1500, batch=64, lr=0.05, seed=0)
    pi_star = d.optimal_policy(TOY.pi_ref, TOY.rewards, beta)
    assert training.total_variation(run.final, pi_star) < 0.01
    assert run.samples_drawn == 1500 * 64


def test_ppo_clip_gradient_equals_the_policy_gradient_before_the_policy_moves():
    """At ratio 1 nothing is clipped, and the clipped surrogate's gradient is the plain one."""
    logits = REF_LOGPS + 0.2
    samples = np.random.default_rng(2).choice(4, size=64, p=d.softmax(logits))
    old = d.log_softmax(logits)
    score = TOY.rewards[samples] - 0.5 * (old[samples] - REF_LOGPS[samples])
    clipped = rlhf._clipped_gradient(logits, old, samples, score - score.mean(), 0.2)
    np.testing.assert_allclose(clipped, rlhf.policy_gradient(logits, REF_LOGPS, TOY.rewards, samples, 0.5), atol=1e-12)


def test_reward_model_recovers_the_true_rewards_up_to_a_constant():
    pairs = training.sample_pairs(TOY, 20_000, seed=0).merged()
    r_hat = rlhf.fit_reward_model(pairs, len(TOY))
    np.testing.assert_allclose(r_hat, TOY.rewards - TOY.rewards.mean(), atol=0.06)
    assert abs(r_hat.mean()) < 1e-9


def test_rlhf_and_dpo_on_the_same_pairs_reach_the_same_policy():
    """RL on the Bradley–Terry reward model converges where DPO on the same pairs does."""
    pairs = training.sample_pairs(TOY, 3000, seed=0).merged()
    r_hat = rlhf.fit_reward_model(pairs, len(TOY), l2=1e-6)
    rl = rlhf.train_rl(TOY.pi_ref, r_hat, 1.0, steps=1500, batch=256, lr=0.05, seed=0)
    dpo = training.train_tabular_dpo(TOY, pairs, 1.0, steps=400, lr=0.2, record_every=400)
    assert training.total_variation(rl.final, dpo.final) < 3e-3
    np.testing.assert_allclose(dpo.final, d.optimal_policy(TOY.pi_ref, r_hat, 1.0), atol=1e-4)


def test_bad_rl_input_is_named():
    with pytest.raises(ValueError, match="beta"):
        rlhf.train_rl(TOY.pi_ref, TOY.rewards, 0.0)
    with pytest.raises(ValueError, match="pi_ref"):
        rlhf.train_rl(TOY.pi_ref[:3], TOY.rewards, 1.0)
    with pytest.raises(ValueError, match="batch"):
        rlhf.train_rl(TOY.pi_ref, TOY.rewards, 1.0, batch=0)
    with pytest.raises(ValueError, match="whole counts"):
        rlhf.fit_reward_model(training.expected_pairs(TOY), len(TOY))


def _ppo_by_cases(ratio, advantage, clip):
    """PPO's objective by its case analysis: A > 0 caps ρ at 1 + ε, A < 0 floors it at 1 − ε."""
    terms = [a * min(r, 1 + clip) if a > 0 else a * max(r, 1 - clip) for r, a in zip(ratio, advantage)]
    return sum(terms) / len(terms)


def test_ppo_clipped_objective_equals_its_case_analysis():
    """min(ρA, clip(ρ)A) equals the per-sign formula of Schulman et al. on random ratios."""
    rng = np.random.default_rng(3)
    for clip in (0.1, 0.2, 0.5):
        ratio, advantage = np.exp(rng.normal(0, 0.4, 50)), rng.normal(size=50)
        assert rlhf.ppo_clipped_objective(ratio, advantage, clip) == pytest.approx(
            _ppo_by_cases(ratio, advantage, clip), rel=1e-12
        )


def test_clipped_gradient_is_the_gradient_of_the_ppo_objective():
    """train_rl's clipped gradient equals the finite-difference gradient of ppo_clipped_objective."""
    rng = np.random.default_rng(4)
    old = rng.normal(size=5)
    logits = old + rng.normal(0, 0.3, 5)
    samples, advantage, clip = rng.integers(0, 5, 30), rng.normal(size=30), 0.2

    def objective(z):
        log_ratio = d.log_softmax(z)[samples] - d.log_softmax(old)[samples]
        return rlhf.ppo_clipped_objective(np.exp(log_ratio), advantage, clip)

    eps = 1e-6
    numeric = np.array([(objective(logits + eps * e) - objective(logits - eps * e)) / (2 * eps) for e in np.eye(5)])
    analytic = rlhf._clipped_gradient(logits, d.log_softmax(old), samples, advantage, clip)
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)


@pytest.mark.parametrize(
    "ratio, advantage, clip, match",
    [
        ([1.0, -1.0], [1.0, 1.0], 0.2, "ratio must be > 0"),
        ([1.0], [1.0, 2.0], 0.2, "shapes"),
        ([1.0], [1.0], 1.5, "clip"),
    ],
)
def test_ppo_clipped_objective_rejects_bad_input(ratio, advantage, clip, match):
    with pytest.raises(ValueError, match=match):
        rlhf.ppo_clipped_objective(ratio, advantage, clip)


# --- chapter 8: distance to the reward-KL frontier ---


def test_frontier_gap_is_zero_on_the_frontier():
    """π*_β lies on the frontier: its gap is 0 for any β."""
    for beta in (0.1, 0.7, 3.0):
        pi = d.optimal_policy(TOY.pi_ref, TOY.rewards, beta)
        assert abs(rlhf.frontier_gap(pi, TOY.pi_ref, TOY.rewards)) < 1e-9


def test_frontier_gap_matches_a_dense_frontier_and_is_never_negative():
    """Random policies: the gap equals the frontier interpolated on a dense β grid, and is >= 0."""
    kl_grid, reward_grid = d.reward_kl_frontier(TOY.pi_ref, TOY.rewards, np.geomspace(1e-2, 1e3, 4000))
    order = np.argsort(kl_grid)
    rng = np.random.default_rng(3)
    for _ in range(20):
        pi = rng.dirichlet(np.ones(4))
        kl = d.kl_divergence(pi, TOY.pi_ref)
        if kl > kl_grid.max():
            continue
        expected = np.interp(kl, kl_grid[order], reward_grid[order]) - pi @ TOY.rewards
        gap = rlhf.frontier_gap(pi, TOY.pi_ref, TOY.rewards)
        assert gap >= -1e-12
        np.testing.assert_allclose(gap, expected, atol=1e-4)


def test_frontier_gap_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="pi, pi_ref and rewards"):
        rlhf.frontier_gap(np.ones(3) / 3, TOY.pi_ref, TOY.rewards)
