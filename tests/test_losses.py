"""The NumPy and PyTorch losses are twins, their gradients are right, and the anchors hold."""

import inspect
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import approx_fprime, minimize_scalar

from dpo_toy import losses as npl
from dpo_toy import torch_losses as tl

LOSS_TYPES = ["sigmoid", "ipo", "hinge"]
REDUCTIONS = ["mean", "sum", "none"]


@st.composite
def batches(draw, dtype=np.float64):
    n = draw(st.integers(1, 16))
    logps = st.floats(-60.0, 0.0, width=32 if dtype == np.float32 else 64)
    return [draw(arrays(dtype, n, elements=logps)) for _ in range(4)]


def test_twins_share_their_signatures():
    """Same names, argument order, defaults and keyword-only markers in both modules."""
    for name in ("reward_model_loss", "dpo_loss", "dpo_rewards"):
        assert inspect.signature(getattr(npl, name)) == inspect.signature(getattr(tl, name)), name


@settings(max_examples=250, deadline=None)
@given(
    batches(),
    st.sampled_from(LOSS_TYPES),
    st.sampled_from(REDUCTIONS),
    st.floats(0.01, 5.0),
    st.floats(0.0, 0.49),
)
def test_numpy_equals_torch_float64(logps, loss_type, reduction, beta, smoothing):
    """Every loss type, reduction and label smoothing: NumPy and PyTorch agree to 1e-12 in float64."""
    eps = smoothing if loss_type == "sigmoid" else 0.0
    kwargs = dict(label_smoothing=eps, loss_type=loss_type, reduction=reduction)
    ours = npl.dpo_loss(*logps, beta, **kwargs)
    theirs = tl.dpo_loss(*[torch.from_numpy(x) for x in logps], beta, **kwargs)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(batches(np.float32), st.sampled_from(LOSS_TYPES), st.sampled_from(REDUCTIONS), st.floats(0.05, 2.0))
def test_numpy_equals_torch_float32(logps, loss_type, reduction, beta):
    """In float32 both stay float32 and agree to 1e-5 (relative)."""
    ours = npl.dpo_loss(*logps, beta, loss_type=loss_type, reduction=reduction)
    theirs = tl.dpo_loss(*[torch.from_numpy(x) for x in logps], beta, loss_type=loss_type, reduction=reduction)
    assert np.asarray(ours).dtype == np.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-5, atol=1e-5)


@settings(max_examples=200, deadline=None)
@given(batches(), st.floats(0.05, 2.0))
def test_rewards_and_reward_model_loss_are_twins(logps, beta):
    """dpo_rewards and reward_model_loss agree between NumPy and PyTorch."""
    a, b = npl.dpo_rewards(*logps, beta), tl.dpo_rewards(*[torch.from_numpy(x) for x in logps], beta)
    for field in ("chosen", "rejected", "margins", "accuracies"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field).numpy(), rtol=1e-12, atol=1e-12)
    assert a.summary().keys() == b.summary().keys()
    np.testing.assert_allclose(
        npl.reward_model_loss(logps[0], logps[1], "none"),
        tl.reward_model_loss(torch.from_numpy(logps[0]), torch.from_numpy(logps[1]), "none").numpy(),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradient_matches_autograd_and_finite_differences(loss_type, reduction):
    """dpo_loss_grad equals torch autograd and central finite differences of dpo_loss."""
    rng = np.random.default_rng(0)
    logps = [rng.uniform(-20, -1, 7) for _ in range(4)]
    kwargs = dict(
        beta=0.3, label_smoothing=0.2 if loss_type == "sigmoid" else 0.0, loss_type=loss_type, reduction=reduction
    )
    grads = npl.dpo_loss_grad(*logps, **kwargs)
    tensors = [torch.tensor(x, requires_grad=True) for x in logps]
    out = tl.dpo_loss(*tensors, **kwargs)
    out.sum().backward()  # "none": each entry's own derivative, as dpo_loss_grad documents
    for g, t in zip(grads, tensors):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k in range(4):

        def total(x, k=k):
            args = list(logps)
            args[k] = x
            return float(np.sum(npl.dpo_loss(*args, **kwargs)))

        np.testing.assert_allclose(grads[k], approx_fprime(logps[k], total, 1e-7), atol=1e-5)


def test_loss_is_ln2_when_policy_equals_reference():
    """No preference yet expressed: z = 0, loss = log 2 for every beta; the gradient weight is beta/2."""
    logps = [np.array([-3.0, -7.5]), np.array([-4.0, -1.0])]
    for beta in (0.01, 0.1, 2.0):
        assert npl.dpo_loss(logps[0], logps[1], logps[0], logps[1], beta) == pytest.approx(math.log(2))
        grad = npl.dpo_loss_grad(logps[0], logps[1], logps[0], logps[1], beta, reduction="sum")[0]
        np.testing.assert_allclose(grad, -beta / 2)


def test_label_smoothing_zero_is_plain_dpo_and_the_explainer_formula():
    """epsilon = 0 equals -log sigma(beta * h), written out by hand with math.log."""
    pc, pr, rc, rr = -2.0, -5.0, -3.0, -4.0
    h = (pc - rc) - (pr - rr)
    expected = -math.log(1 / (1 + math.exp(-0.1 * h)))
    assert npl.dpo_loss([pc], [pr], [rc], [rr], 0.1, label_smoothing=0.0) == pytest.approx(expected, rel=1e-14)
    smoothed = npl.dpo_loss([pc], [pr], [rc], [rr], 0.1, label_smoothing=0.25)
    assert smoothed == pytest.approx(0.75 * expected - 0.25 * math.log(1 / (1 + math.exp(0.1 * h))), rel=1e-14)


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_ipo_optimum_margin_is_one_over_two_beta(beta):
    """Minimising the IPO loss over the log-ratio difference h lands at h = 1/(2 beta)."""
    result = minimize_scalar(lambda h: float(npl.dpo_loss([h], [0.0], [0.0], [0.0], beta, loss_type="ipo")))
    assert result.x == pytest.approx(1 / (2 * beta), rel=1e-6)


def test_reward_model_worked_example():
    """Scores 1.8 and 1.2: sigma(0.6) = 0.6457, loss 0.4375 (0.439 only if sigma is rounded to 0.645 first)."""
    sigma = 1 / (1 + math.exp(-0.6))
    assert f"{sigma:.4f}" == "0.6457"
    loss = npl.reward_model_loss(1.8, 1.2)
    assert loss == pytest.approx(-math.log(sigma), rel=1e-14) and f"{loss:.4f}" == "0.4375"
    assert f"{-math.log(0.645):.3f}" == "0.439"
    assert npl.reward_model_loss(5.0, 0.0) == pytest.approx(-math.log(1 / (1 + math.exp(-5.0))))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_finite_at_extreme_log_ratio_differences(dtype, loss_type):
    """Log-ratio differences of +-1e4: finite losses and gradients in both twins, both precisions."""
    h = np.array([1e4, -1e4, 0.0], dtype=dtype)
    zero = np.zeros(3, dtype=dtype)
    assert np.isfinite(npl.dpo_loss(h, zero, zero, zero, 1.0, loss_type=loss_type, reduction="none")).all()
    assert all(np.isfinite(g).all() for g in npl.dpo_loss_grad(h, zero, zero, zero, 1.0, loss_type=loss_type))
    t = torch.tensor(h, requires_grad=True)
    out = tl.dpo_loss(t, torch.tensor(zero), torch.tensor(zero), torch.tensor(zero), 1.0, loss_type=loss_type)
    out.backward()
    assert torch.isfinite(out) and torch.isfinite(t.grad).all()


def test_accuracy_counts_ties_as_wrong():
    """A tie between chosen and rejected rewards is not a correct ranking."""
    metrics = npl.dpo_rewards([-1.0, -1.0, -3.0], [-2.0, -1.0, -1.0], [-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0], 0.5)
    np.testing.assert_array_equal(metrics.accuracies, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(metrics.chosen, [0.0, 0.0, -1.0])
    np.testing.assert_allclose(metrics.margins, metrics.chosen - metrics.rejected)


GOOD = [np.array([-1.0, -2.0])] * 4
BAD = [
    (dict(args=(GOOD[0], GOOD[1], GOOD[2], np.array([-1.0]))), ValueError, "same shape"),
    (dict(beta=0.0), ValueError, "beta"),
    (dict(beta=-0.5), ValueError, "beta"),
    (dict(label_smoothing=0.5), ValueError, "label_smoothing"),
    (dict(label_smoothing=-0.1), ValueError, "label_smoothing"),
    (dict(loss_type="kto"), ValueError, "loss_type"),
    (dict(reduction="max"), ValueError, "reduction"),
    (dict(args=(np.array([np.nan, -1.0]), GOOD[1], GOOD[2], GOOD[3])), ValueError, "policy_chosen_logps contains NaN"),
    (
        dict(args=(GOOD[0], GOOD[1], np.array([-np.inf, -1.0]), GOOD[3])),
        ValueError,
        "ref_chosen_logps contains an infinite",
    ),
    (
        dict(args=(np.array(["a", "b"]), GOOD[1], GOOD[2], GOOD[3])),
        TypeError,
        "policy_chosen_logps must hold real numbers",
    ),
    (dict(args=(np.array([]),) * 4), ValueError, "empty"),
]


@pytest.mark.parametrize("module", [npl, tl], ids=["numpy", "torch"])
@pytest.mark.parametrize("case, exc, words", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_is_named_in_both_twins(module, case, exc, words):
    """Mismatched shapes, beta <= 0, epsilon outside [0, 0.5), unknown names, NaN/inf: a named error."""
    case = dict(case)
    args = case.pop("args", GOOD)
    if module is tl and args[0].dtype.kind == "U":
        args = (["a", "b"], *args[1:])
    with pytest.raises(exc, match=words):
        module.dpo_loss(*args, **case)


def test_import_dpo_toy_still_does_not_load_torch():
    """The NumPy losses come with import dpo_toy; torch stays unloaded until torch_losses is asked for."""
    import subprocess
    import sys

    code = "import sys, dpo_toy; dpo_toy.dpo_loss([-1.0], [-2.0], [-1.0], [-2.0]); print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_reward_model_loss_grad_matches_autograd(reduction):
    """The reward-model gradient -sigma(r_l - r_w) (divided by n for the mean) equals autograd's."""
    rng = np.random.default_rng(1)
    r_w, r_l = rng.normal(size=6) * 3, rng.normal(size=6) * 3
    g_w, g_l = npl.reward_model_loss_grad(r_w, r_l, reduction)
    t_w, t_l = torch.tensor(r_w, requires_grad=True), torch.tensor(r_l, requires_grad=True)
    tl.reward_model_loss(t_w, t_l, reduction).sum().backward()
    np.testing.assert_allclose(g_w, t_w.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(g_l, t_l.grad.numpy(), atol=1e-12)


def test_dpo_loss_is_the_reward_model_loss_of_the_implied_reward_for_any_policy():
    """L_DPO(π) = L_RM(β·log(π/π_ref)) for random tabular policies, not only at π* (chapter 5)."""
    rng = np.random.default_rng(13)
    pi_ref = rng.dirichlet(np.ones(5))
    chosen, rejected = rng.integers(0, 5, 40), rng.integers(0, 5, 40)
    for beta in (0.1, 1.0, 4.0):
        pi = rng.dirichlet(np.ones(5))
        lp, lr = np.log(pi), np.log(pi_ref)
        dpo = npl.dpo_loss(lp[chosen], lp[rejected], lr[chosen], lr[rejected], beta)
        r_pi = beta * (lp - lr) + rng.normal()  # plus any constant: the loss sees differences only
        np.testing.assert_allclose(dpo, npl.reward_model_loss(r_pi[chosen], r_pi[rejected]), rtol=1e-12)
