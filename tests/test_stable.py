"""The stable building blocks: against exact references, at the extremes, and under bad input."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dpo_toy import _numerics, stable

finite = st.floats(-700.0, 700.0)
logit_rows = arrays(np.float64, st.integers(1, 8), elements=st.floats(-1e6, 1e6))


def test_sigmoid_and_log_sigmoid_match_exact_values():
    """σ and log σ at hand-checkable points: σ(0) = ½, σ(ln 3) = ¾, log σ(−1000) = −1000 − log(1 + e^−1000)."""
    np.testing.assert_allclose(stable.sigmoid([0.0, math.log(3.0)]), [0.5, 0.75], rtol=1e-15)
    np.testing.assert_allclose(stable.log_sigmoid([0.0, -1000.0, 1000.0]), [-math.log(2), -1000.0, 0.0], rtol=1e-15)


def test_infinite_arguments_give_the_limits():
    """σ(±inf) = 1, 0 and log σ(−inf) = −inf: limits, not NaN."""
    np.testing.assert_array_equal(stable.sigmoid([np.inf, -np.inf]), [1.0, 0.0])
    np.testing.assert_array_equal(stable.log_sigmoid([np.inf, -np.inf]), [0.0, -np.inf])


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 10), elements=finite))
def test_numpy_sigmoids_equal_torch(z):
    """σ, log σ and the float32-keeping private log σ agree with torch in float64 (and float32)."""
    t = torch.from_numpy(z)
    np.testing.assert_allclose(stable.sigmoid(z), torch.sigmoid(t).numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(stable.log_sigmoid(z), torch.nn.functional.logsigmoid(t).numpy(), rtol=1e-12)
    z32 = z.astype(np.float32)
    out = _numerics.log_sigmoid(z32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(
        out,
        torch.nn.functional.logsigmoid(torch.from_numpy(z32)).numpy(),
        rtol=1e-5,
        atol=np.finfo(np.float32).tiny,  # subnormal results carry fewer significant bits
    )


@settings(max_examples=100, deadline=None)
@given(logit_rows)
def test_softmax_sums_to_one_and_equals_torch(logits):
    """softmax sums to 1, log_softmax equals torch's, logsumexp equals torch's: even at ±1e6."""
    t = torch.from_numpy(logits)
    np.testing.assert_allclose(stable.softmax(logits).sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(stable.log_softmax(logits), torch.log_softmax(t, 0).numpy(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(stable.logsumexp(logits), torch.logsumexp(t, 0).item(), rtol=1e-12)
    np.testing.assert_allclose(_numerics.log_softmax(logits), stable.log_softmax(logits), rtol=1e-12, atol=1e-9)


def test_huge_equal_logits_give_a_uniform_distribution():
    """softmax([1e16, 1e16]) is [½, ½] (shift first: logits minus log-sum-exp would round to [1, 1])."""
    np.testing.assert_array_equal(stable.softmax([1e16, 1e16]), [0.5, 0.5])
    np.testing.assert_array_equal(stable.log_softmax([1e16, 1e16]), [-math.log(2)] * 2)


def test_logsumexp_matches_exact_rational_arithmetic():
    """log(1 + 2 + 3) from exact sums, and along either axis of a 2-D array, with keepdims."""
    a = np.log([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_allclose(stable.logsumexp(a, axis=1), np.log([6.0, 15.0]), rtol=1e-15)
    np.testing.assert_allclose(stable.logsumexp(a, axis=0, keepdims=True), np.log([[5.0, 7.0, 9.0]]), rtol=1e-15)
    exact = float(Fraction(1) + Fraction(2) + Fraction(3))
    assert stable.logsumexp(np.log([1.0, 2.0, 3.0])) == pytest.approx(math.log(exact), rel=1e-15)


def test_impossible_responses_stay_impossible():
    """A −inf logit gets probability exactly 0 and log-probability −inf."""
    np.testing.assert_array_equal(stable.softmax([0.0, -np.inf]), [1.0, 0.0])
    assert stable.log_softmax([0.0, -np.inf])[1] == -np.inf


def test_private_adam_equals_torch_adam():
    """The shared Adam step follows torch.optim.Adam on a quadratic for 50 steps."""
    target = np.array([1.0, -2.0, 0.5])
    x = np.zeros(3)
    step = _numerics.adam(0.1)
    t = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([t], lr=0.1)
    for _ in range(50):
        x = step(x, 2 * (x - target))
        opt.zero_grad()
        ((t - torch.from_numpy(target)) ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(x, t.detach().numpy(), rtol=1e-12)


BAD = [
    (lambda: stable.softmax([np.inf, np.inf]), ValueError, "logits contains +inf"),
    (lambda: stable.softmax([np.inf, 0.0]), ValueError, "logits contains +inf"),
    (lambda: stable.softmax([]), ValueError, "logits is empty"),
    (lambda: stable.softmax(1.0), ValueError, "at least one axis"),
    (lambda: stable.softmax([[1.0, 2.0]], axis=2), ValueError, "axis must be <= 1"),
    (lambda: stable.softmax([1.0, 2.0], axis=0.5), TypeError, "axis must be a whole number"),
    (lambda: stable.softmax([-np.inf, -np.inf]), ValueError, "all -inf"),
    (lambda: stable.softmax(["a", "b"]), TypeError, "logits must hold real numbers"),
    (lambda: stable.log_softmax([0.0, np.nan]), ValueError, "logits contains NaN"),
    (lambda: stable.logsumexp(None), TypeError, "a must be a number or an array"),
    (lambda: stable.logsumexp([np.inf]), ValueError, "a contains +inf"),
    (lambda: stable.logsumexp([[1.0, 2.0], [3.0]]), TypeError, "a could not be turned into a NumPy array"),
    (lambda: stable.sigmoid(np.nan), ValueError, "z contains NaN"),
    (lambda: stable.sigmoid("0.5"), TypeError, "z must be a number"),
    (lambda: stable.log_sigmoid([0.0, np.nan]), ValueError, "z contains NaN"),
    (lambda: stable.log_sigmoid([True, False]), TypeError, "z must hold real numbers"),
    (lambda: stable.sigmoid([1 + 2j]), TypeError, "z must hold real numbers"),
]


@pytest.mark.parametrize("call, exc, words", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_is_named(call, exc, words):
    """NaN, +inf logits, empty input, None, strings, bools, complex numbers: a named error."""
    with pytest.raises(exc, match=words.replace("+", r"\+")):
        call()


@settings(max_examples=100, deadline=None)
@given(arrays(np.float64, st.integers(1, 6), elements=st.floats(allow_nan=True, allow_infinity=True)))
def test_nothing_returns_nan(x):
    """Any float input either gives a NaN-free answer or raises a ValueError."""
    for f in (stable.sigmoid, stable.log_sigmoid, stable.softmax, stable.log_softmax, stable.logsumexp):
        try:
            out = f(x)
        except ValueError:
            continue
        assert not np.isnan(out).any(), (f.__name__, x, out)
