"""Bad input raises ValueError/TypeError that names the argument and what was expected."""

import subprocess
import sys

import numpy as np
import pytest

import dpo_toy as d

GOOD_PI = np.array([0.3, 0.4, 0.001, 0.299])
GOOD_R = np.array([2.5, 2.0, -1.0, 0.0])

CASES = [
    # (call, exception, words the message must contain)
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R[:3], 1.0), ValueError, ["pi_ref", "rewards", "same shape"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, 0.0), ValueError, ["beta", "positive"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, -1.0), ValueError, ["beta", "positive"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, float("nan")), ValueError, ["beta"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, "1.0"), TypeError, ["beta", "real number"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, True), TypeError, ["beta"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, np.array([1.0, 2.0])), ValueError, ["beta", "single number"]),
    (
        lambda: d.optimal_policy([0.3, 0.4, 0.001], [2.5, 2.0, -1.0], 1.0),
        ValueError,
        ["pi_ref", "sums to 0.701", "every other string"],
    ),
    (lambda: d.optimal_policy([1.2, -0.2], [0.0, 1.0], 1.0), ValueError, ["pi_ref", "negative"]),
    (lambda: d.optimal_policy([0.5, np.nan], [0.0, 1.0], 1.0), ValueError, ["pi_ref", "NaN"]),
    (lambda: d.optimal_policy(GOOD_PI, [2.5, np.nan, 0, 0], 1.0), ValueError, ["rewards", "NaN"]),
    (lambda: d.optimal_policy(GOOD_PI, [2.5, np.inf, 0, 0], 1.0), ValueError, ["rewards", "infinite"]),
    (lambda: d.optimal_policy(["a", "b"], [0.0, 1.0], 1.0), TypeError, ["pi_ref", "dtype"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R.astype(complex), 1.0), TypeError, ["rewards", "dtype"]),
    (lambda: d.optimal_policy(np.full((2, 2, 2), 0.5), np.zeros((2, 2, 2)), 1.0), ValueError, ["pi_ref", "1-D", "2-D"]),
    (
        lambda: d.optimal_policy([[0.5, 0.5], [0.9, 0.2]], np.zeros((2, 2)), 1.0),
        ValueError,
        ["row 1", "pi_ref", "sums to"],
    ),
    (lambda: d.optimal_policy([], [], 1.0), ValueError, ["pi_ref", "empty"]),
    (lambda: d.log_partition(GOOD_PI, GOOD_R, -2), ValueError, ["beta"]),
    (lambda: d.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), ValueError, ["p", "q", "same shape"]),
    (lambda: d.kl_divergence([0.5, 0.6], [0.5, 0.5]), ValueError, ["p", "sums to"]),
    (lambda: d.implied_reward([0.5, 0.5, 0.0], [0.5, 0.5, 0.0], 1.0), ValueError, ["pi", "pi_ref", "both 0"]),
    (
        lambda: d.kl_regularized_objective(GOOD_PI, GOOD_PI[:3] / GOOD_PI[:3].sum(), GOOD_R, 1.0),
        ValueError,
        ["pi", "pi_ref"],
    ),
    (lambda: d.boost_table(["a", "b"], GOOD_PI, GOOD_R, 1.0), ValueError, ["responses", "4"]),
    (lambda: d.boost_table([1, 2, 3, 4], GOOD_PI, GOOD_R, 1.0), TypeError, ["responses", "strings"]),
    (lambda: d.capital_of_france(other_reward=float("nan")), ValueError, ["other_reward", "NaN"]),
]


@pytest.mark.parametrize("call, exc, words", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_is_named(call, exc, words):
    """Each bad input raises the expected exception with a message naming the argument."""
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


def test_import_is_numpy_only():
    """import dpo_toy loads neither torch, matplotlib, ipywidgets nor scipy."""
    heavy = "{'torch', 'matplotlib', 'ipywidgets', 'scipy'}"
    code = f"import sys, dpo_toy; print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
