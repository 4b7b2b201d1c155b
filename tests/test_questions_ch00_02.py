"""The truths of the chapter 0-2 questions, against independent computations (closed forms, a root finder)."""

import math

import numpy as np
from scipy.optimize import brentq

from dpo_toy import capital_of_france
from dpo_toy.exercises import check, get, predict


def test_softmax_prediction_is_the_closed_form():
    """0.p1: softmax([1000, 999, 0])[0] = 1 / (1 + e^-1 + e^-1000), and the 'no exp' slip is named."""
    assert math.isclose(get("0.p1").truth(), 1 / (1 + math.exp(-1)), rel_tol=1e-12)
    predict("0.p1", 1000 / 1999)
    assert check("0.p1").mistake == "no exp"


def test_bucket_choice_explains_every_wrong_option():
    """0.r1: the bucket is real probability; each wrong option fails with its own name."""
    assert check("0.r1", "a").status == "passed"
    assert {check("0.r1", k).mistake for k in "bc"} == {"bucket is rounding", "bucket is refusal"}


def test_paris_falls_at_quarter_beta_because_its_boost_is_below_z():
    """2.p1: at β = 0.25 Paris's boost exp(2/0.25) is below Z = Σ π_ref·exp(r/β), so π*(Paris) < π_ref."""
    toy = capital_of_france()
    z = float(np.sum(toy.pi_ref * np.exp(toy.rewards / 0.25)))
    assert math.exp(toy.rewards[1] / 0.25) < z
    assert get("2.p1").truth() == "b"


def test_paris_crossing_matches_a_root_finder():
    """2.s1: the β where Paris's boost equals Z(x), i.e. exp(2/β) = Σ π_ref·exp(r/β), found by brentq."""
    toy = capital_of_france()

    def gap(log_beta):
        beta = math.exp(log_beta)
        return toy.rewards[1] / beta - math.log(np.sum(toy.pi_ref * np.exp(toy.rewards / beta)))

    beta = math.exp(brentq(gap, math.log(0.25), math.log(1.0), xtol=1e-14))
    assert math.isclose(get("2.s1").truth(), beta, rel_tol=1e-6)


def test_ratio_prediction_is_the_closed_form_at_any_bucket_reward():
    """2.p2: the ratio is π_ref(a)/π_ref(b)·exp((r_a − r_b)/β), whatever the bucket's reward."""
    toy = capital_of_france()
    closed = toy.pi_ref[0] / toy.pi_ref[1] * math.exp(toy.rewards[0] - toy.rewards[1])
    assert math.isclose(get("2.p2").truth(), closed, rel_tol=1e-10)
    predict("2.p2", 0.75)
    assert check("2.p2").mistake == "ratio of pi_ref"
