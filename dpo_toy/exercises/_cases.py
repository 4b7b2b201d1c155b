"""Inputs shared by several chapters' exercises, drawn from the generator each chapter passes in."""

import numpy as np

from ..toy import capital_of_france
from ._engine import Case


def distribution(rng, n, zeros=0):
    """A random probability vector over ``n`` responses, its last ``zeros`` entries exactly 0."""
    w = rng.uniform(0.05, 1.0, n)
    w[n - zeros :] = 0.0
    return w / w.sum()


def france_args():
    """(π_ref, rewards) of the running example, as fresh copies."""
    fr = capital_of_france()
    return fr.pi_ref.copy(), fr.rewards.copy()


def policy_cases(rng):
    """Inputs (pi_ref, rewards, beta) for π* and log Z: the running example, random, and extreme."""
    fr = france_args()
    return (
        Case("France, beta=1", fr + (1.0,)),
        Case("France, beta=0.5", fr + (0.5,)),
        Case("France, beta=3", fr + (3.0,)),
        Case("5 random responses, beta=0.7", (distribution(rng, 5), rng.normal(size=5), 0.7)),
        Case("6 random responses, beta=2", (distribution(rng, 6), rng.normal(size=6) * 2, 2.0)),
        Case("10 random responses, beta=0.2", (distribution(rng, 10), rng.normal(size=10), 0.2)),
        Case(
            "3 responses, one with pi_ref = 1e-6, beta=0.5",
            (np.array([0.6, 0.4 - 1e-6, 1e-6]), rng.normal(size=3), 0.5),
        ),
        Case("France, beta=0.001", fr + (0.001,), hard=True),
        Case("rewards of +-800, beta=1", (np.array([0.5, 0.25, 0.25]), np.array([800.0, -800.0, 0.0]), 1.0), hard=True),
    )


LOG_SPACE_HINT = (
    "exp(r / beta) overflows. Work in log space: log pi_ref + r / beta, subtract its maximum, "
    "then exponentiate (or use dpo_toy.logsumexp)"
)


def _logps_batch(rng, n, spread=5.0):
    return tuple(-np.abs(rng.normal(size=n)) * spread - 1 for _ in range(4))


def _one_pair_moved(rng):
    pc, pr = (-np.abs(rng.normal(size=3)) * 5 - 1 for _ in range(2))
    rc, rr = pc.copy(), pr.copy()
    return pc + np.array([0.0, 1.5, 0.0]), pr, rc, rr


def dpo_cases(rng):
    """Inputs (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)."""
    return (
        Case("4 random pairs, beta=0.1", _logps_batch(rng, 4) + (0.1,)),
        Case("6 random pairs, beta=0.5", _logps_batch(rng, 6) + (0.5,)),
        Case(
            "policy = reference, beta=1",
            (np.array([-2.0, -3.0]), np.array([-4.0, -1.0]), np.array([-2.0, -3.0]), np.array([-4.0, -1.0]), 1.0),
        ),
        Case("8 random pairs, beta=2", _logps_batch(rng, 8) + (2.0,)),
        Case("1 pair, beta=0.05", _logps_batch(rng, 1) + (0.05,)),
        Case("10 random pairs, spread 20, beta=1", _logps_batch(rng, 10, spread=20.0) + (1.0,)),
        Case("policy = reference but for one pair, beta=0.3", _one_pair_moved(rng) + (0.3,)),
        Case(
            "log-ratio gaps of -1e4 and +1e4, beta=0.1",
            (np.array([-1.0, -1e4]), np.array([-1e4, -1.0]), np.array([-1.0, -1.0]), np.array([-1.0, -1.0]), 0.1),
            hard=True,
        ),
    )
