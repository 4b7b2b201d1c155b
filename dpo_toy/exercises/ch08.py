"""Chapter 8, RLHF vs DPO: the KL-penalised REINFORCE gradient and PPO's clipped objective."""

import numpy as np

from .. import rlhf, stable
from ._cases import distribution, france_args
from ._engine import Case, Exercise, Mistake

_rng = np.random.default_rng([11, 8])  # this chapter's inputs; other chapters draw from their own

_PI_REF, _REWARDS = france_args()


def _pg_cases():
    out = []
    for label, beta, size in (("France, beta=1, 8 samples", 1.0, 8), ("France, beta=0.2, 20 samples", 0.2, 20)):
        logits = np.log(_PI_REF) + _rng.normal(0, 0.3, 4)
        samples = _rng.choice(4, size=size, p=stable.softmax(logits))
        out.append(Case(label, (logits, np.log(_PI_REF), _REWARDS.copy(), samples, beta)))
    logits = _rng.normal(size=6)
    out.append(
        Case(
            "6 responses, beta=0.5",
            (logits, np.log(distribution(_rng, 6)), _rng.normal(size=6), _rng.integers(0, 6, 12), 0.5),
        )
    )
    return tuple(out)


def _kl_term(logits, ref_logps, beta):
    """β·(log π − log π_ref) per response: what the penalty subtracts from each reward."""
    return beta * (stable.log_softmax(logits) - ref_logps)


def _pg_no_kl(logits, ref_logps, rewards, samples, beta):
    """The gradient with the KL penalty left out: rewards shifted so the library's penalty cancels."""
    return rlhf.policy_gradient(logits, ref_logps, rewards + _kl_term(logits, ref_logps, beta), samples, beta)


def _pg_kl_sign(logits, ref_logps, rewards, samples, beta):
    """The gradient with r + β·log(π/π_ref): the penalty turned into a bonus."""
    return rlhf.policy_gradient(logits, ref_logps, rewards + 2 * _kl_term(logits, ref_logps, beta), samples, beta)


def _ppo_with(how):
    """PPO's objective with a classic slip (for the mistakes of 8.2)."""

    def objective(ratio, advantage, clip):
        clipped = np.clip(ratio, 1 - clip, 1 + clip)
        if how == "no clip":
            return float(np.mean(ratio * advantage))
        if how == "max":
            return float(np.mean(np.maximum(ratio * advantage, clipped * advantage)))
        return float(np.mean(np.minimum(ratio * advantage, ratio * np.clip(advantage, -clip, clip))))

    return objective


_PPO_CASES = tuple(
    Case(label, (np.exp(_rng.normal(0, 0.3, n)), _rng.normal(size=n), clip))
    for label, n, clip in (
        ("8 samples, clip 0.2", 8, 0.2),
        ("20 samples, clip 0.1", 20, 0.1),
        ("5 samples, clip 0.3", 5, 0.3),
    )
)

EXERCISES = (
    Exercise(
        "8.1",
        "kl_policy_gradient(logits, ref_logps, rewards, samples, beta) -> the gradient estimate for the logits",
        rlhf.policy_gradient,
        _pg_cases(),
        (
            Mistake(
                "no KL",
                "the KL penalty is missing: each sample's score is r(y) - beta * (log pi(y) - log pi_ref(y))",
                _pg_no_kl,
            ),
            Mistake(
                "KL sign",
                "the KL term has the wrong sign: drifting from pi_ref must cost, r(y) - beta * log(pi/pi_ref)",
                _pg_kl_sign,
            ),
            Mistake(
                "no baseline",
                "subtract the batch's mean score (the baseline) from each score before weighting",
                lambda lo, rl, r, s, b: rlhf.policy_gradient(lo, rl, r, s, b, baseline=False),
            ),
            Mistake(
                "sum",
                "you summed over the samples; the estimate is their mean (divide by the batch size)",
                lambda lo, rl, r, s, b: rlhf.policy_gradient(lo, rl, r, s, b) * s.size,
            ),
        ),
        arg_names=("logits", "ref_logps", "rewards", "samples", "beta"),
        title="the KL-penalised REINFORCE gradient for softmax logits",
        difficulty=3,
    ),
    Exercise(
        "8.2",
        "ppo_clipped_objective(ratio, advantage, clip) -> mean over samples",
        rlhf.ppo_clipped_objective,
        _PPO_CASES,
        (
            Mistake(
                "no clip",
                "without the clip this is the plain importance-weighted objective: use "
                "min(ratio * A, clip(ratio, 1 - clip, 1 + clip) * A)",
                _ppo_with("no clip"),
            ),
            Mistake("max", "PPO takes the min of the two terms (a pessimistic bound), not the max", _ppo_with("max")),
            Mistake(
                "clipped advantage",
                "clip the probability ratio to [1 - clip, 1 + clip], not the advantage",
                _ppo_with("clipped advantage"),
            ),
        ),
        arg_names=("ratio", "advantage", "clip"),
        title="PPO's clipped surrogate objective",
        difficulty=2,
    ),
)

QUESTIONS = ()
