"""The toy DPO trainers: twins step for step, and DPO on expected preferences lands on pi*."""

import numpy as np
import pytest
import torch
from scipy.optimize import approx_fprime

import dpo_toy as d
from dpo_toy import torch_losses
from dpo_toy import torch_training as ttr
from dpo_toy import training as tr

TOY = d.capital_of_france()


@pytest.mark.parametrize("loss_type, smoothing", [("sigmoid", 0.0), ("sigmoid", 0.2), ("ipo", 0.0), ("hinge", 0.0)])
@pytest.mark.parametrize("kind", ["expected", "sampled"])
def test_numpy_and_torch_trainers_follow_the_same_trajectory(loss_type, smoothing, kind):
    """Same start, same data, float64: every recorded policy agrees to 1e-8 over 100 Adam steps."""
    pairs = tr.expected_pairs(TOY) if kind == "expected" else tr.sample_pairs(TOY, 300, seed=4)
    kw = dict(steps=100, lr=0.05, loss_type=loss_type, label_smoothing=smoothing)
    a, b = tr.train_tabular_dpo(TOY, pairs, 0.5, **kw), ttr.train_tabular_dpo(TOY, pairs, 0.5, **kw)
    np.testing.assert_allclose(a.policies, b.policies, atol=1e-8)
    np.testing.assert_allclose(a.losses, b.losses, atol=1e-8)
    assert not np.allclose(a.final, TOY.pi_ref)  # it really trained


def test_analytic_logit_gradient_matches_autograd_and_finite_differences():
    """The chain rule through log-softmax in weighted_dpo_loss_and_grad is right."""
    pairs = tr.sample_pairs(TOY, 50, seed=5)
    ref = np.log(TOY.pi_ref)
    logits = ref + np.random.default_rng(0).normal(size=4)
    loss, grad = tr.weighted_dpo_loss_and_grad(logits, ref, pairs, 0.3)
    np.testing.assert_allclose(
        grad, approx_fprime(logits, lambda x: tr.weighted_dpo_loss_and_grad(x, ref, pairs, 0.3)[0], 1e-7), atol=1e-6
    )
    t = torch.tensor(logits, requires_grad=True)
    logps, ref_t = torch.log_softmax(t, -1), torch.tensor(ref)
    per_pair = torch_losses.dpo_loss(
        logps[pairs.chosen], logps[pairs.rejected], ref_t[pairs.chosen], ref_t[pairs.rejected], 0.3, reduction="none"
    )
    per_pair.mean().backward()
    np.testing.assert_allclose(loss, float(per_pair.mean().detach()), rtol=1e-12)
    np.testing.assert_allclose(grad, t.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_dpo_on_expected_preferences_reaches_the_closed_form(beta):
    """Infinite data: the DPO optimum is chapter 1's pi* = pi_ref exp(r/beta)/Z (total variation < 1e-3)."""
    run = tr.train_tabular_dpo(TOY, tr.expected_pairs(TOY), beta, steps=400, lr=0.1)
    assert tr.total_variation(run.final, d.optimal_policy(TOY.pi_ref, TOY.rewards, beta)) < 1e-3


def test_adding_a_constant_to_true_rewards_changes_nothing():
    """Preferences depend on reward differences only: same pairs, same training, same policy."""
    shifted = d.ToyPrompt(TOY.prompt, TOY.responses, TOY.pi_ref, TOY.rewards + 7.0)
    for make in (tr.expected_pairs, lambda toy: tr.sample_pairs(toy, 200, seed=3)):
        a, b = make(TOY), make(shifted)
        np.testing.assert_allclose(a.weight, b.weight, rtol=1e-12)
        np.testing.assert_array_equal(a.chosen, b.chosen)
        np.testing.assert_allclose(
            tr.train_tabular_dpo(TOY, a, 1.0, steps=50).final, tr.train_tabular_dpo(shifted, b, 1.0, steps=50).final
        )


def test_swapping_chosen_and_rejected_mirrors_the_result():
    """Trained on swapped pairs, DPO reaches the optimal policy for the negated reward."""
    pairs = tr.expected_pairs(TOY).swapped()
    run = tr.train_tabular_dpo(TOY, pairs, 1.0, steps=400, lr=0.1)
    assert tr.total_variation(run.final, d.optimal_policy(TOY.pi_ref, -TOY.rewards, 1.0)) < 1e-3


def test_sampled_pairs_follow_bradley_terry():
    """The share of pairs in which response 0 beats response 1 matches sigma(r_0 - r_1)."""
    pairs = tr.sample_pairs(TOY, 200_000, seed=6)
    between = ((pairs.chosen == 0) & (pairs.rejected == 1)) | ((pairs.chosen == 1) & (pairs.rejected == 0))
    share = np.mean(pairs.chosen[between] == 0)
    assert share == pytest.approx(d.sigmoid(TOY.rewards[0] - TOY.rewards[1]), abs=0.01)


@pytest.mark.parametrize(
    "call, words",
    [
        (
            lambda: tr.train_tabular_dpo(TOY, tr.PreferencePairs(np.array([0]), np.array([9]), np.ones(1))),
            "pairs.rejected",
        ),
        (lambda: tr.train_tabular_dpo(TOY, tr.PreferencePairs(np.array([0]), np.array([1]), np.zeros(1))), "weight"),
        (lambda: tr.train_tabular_dpo(TOY, tr.expected_pairs(TOY), 0.0), "beta"),
        (lambda: tr.train_tabular_dpo(TOY, tr.expected_pairs(TOY), steps=-1), "steps"),
        (lambda: tr.sample_pairs(TOY, 0), "n_pairs"),
    ],
)
def test_bad_training_input_is_named(call, words):
    """Out-of-range indices, non-positive weights, beta, steps and n_pairs are named."""
    with pytest.raises(ValueError, match=words):
        call()


def test_dpo_minimiser_is_the_optimal_policy_of_the_fitted_reward_model():
    """Adam on the DPO loss lands on π* of the Newton-fitted Bradley–Terry reward (chapter 5, step 4)."""
    from dpo_toy import bradley_terry as bt

    toy = d.capital_of_france()
    pairs = tr.sample_pairs(toy, 500, seed=4)
    for beta in (0.2, 1.0):
        reward = bt.fit(pairs.chosen, pairs.rejected, np.ones(len(pairs)), len(toy), l2=0).strengths
        rlhf = d.optimal_policy(toy.pi_ref, reward, beta)
        dpo = tr.train_tabular_dpo(toy, pairs.merged(), beta, steps=3000, lr=0.05, record_every=3000).final
        np.testing.assert_allclose(dpo, rlhf, atol=1e-6)
