"""Chapter 8, RLHF vs DPO: the KL-penalised REINFORCE gradient and PPO's clipped objective."""

import numpy as np

from .. import rlhf, stable
from ._cases import distribution, france_args
from ._engine import Case, Exercise, Mistake

_rng = np.random.default_rng([11, 8])  # this chapter's inputs; other chapters draw from their own

_PI_REF, _REWARDS = france_args()


def _pg_cases():
    out = []
    for label, beta, size in (
        ("France, beta=1, 8 samples", 1.0, 8),
        ("France, beta=0.2, 20 samples", 0.2, 20),
        ("France, beta=5, 3 samples", 5.0, 3),
        ("France, beta=0.05, 64 samples", 0.05, 64),
    ):
        logits = np.log(_PI_REF) + _rng.normal(0, 0.3, 4)
        samples = _rng.choice(4, size=size, p=stable.softmax(logits))
        out.append(Case(label, (logits, np.log(_PI_REF), _REWARDS.copy(), samples, beta)))
    for label, n, size, beta in (("6 random responses, beta=0.5", 6, 12, 0.5), ("10 responses, beta=2", 10, 30, 2.0)):
        out.append(
            Case(
                label,
                (
                    _rng.normal(size=n),
                    np.log(distribution(_rng, n)),
                    _rng.normal(size=n),
                    _rng.integers(0, n, size),
                    beta,
                ),
            )
        )
    out.append(
        Case("one sample (advantage 0)", (_rng.normal(size=4), np.log(_PI_REF), _REWARDS.copy(), np.array([2]), 1.0))
    )
    logits = np.array([30.0, 0.0, -30.0, 0.0])  # pi nearly one-hot: log pi of -60 for the last response
    out.append(
        Case(
            "logits of +-30, beta=1",
            (logits, np.log(_PI_REF), _REWARDS.copy(), np.array([0, 0, 1, 3, 2]), 1.0),
            hard=True,
        )
    )
    return tuple(out)


def _learner_pg(kl_sign=-1.0, baseline=True, reduce=np.mean):
    """The REINFORCE estimate the way a learner writes it (one sample at a time), with a slip."""

    def grad(logits, ref_logps, rewards, samples, beta):
        logps = logits - np.log(np.sum(np.exp(logits)))
        score = rewards[samples] + kl_sign * beta * (logps[samples] - ref_logps[samples])
        advantage = score - score.mean() if baseline else score
        terms = [a * (np.eye(logits.size)[y] - np.exp(logps)) for y, a in zip(samples, advantage)]
        return reduce(np.array(terms), axis=0)

    return grad


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
    Case(label, (np.exp(_rng.normal(0, spread, n)), _rng.normal(size=n), clip))
    for label, n, clip, spread in (
        ("8 random samples, clip 0.2", 8, 0.2, 0.3),
        ("20 samples, clip 0.1", 20, 0.1, 0.3),
        ("5 samples, clip 0.3", 5, 0.3, 0.3),
        ("1 sample, clip 0.2", 1, 0.2, 0.5),
        ("50 samples, clip 0.2, ratios far from 1", 50, 0.2, 1.0),
        ("12 samples, clip 0.05", 12, 0.05, 0.2),
    )
) + (
    Case("ratio = 1 everywhere: the plain mean advantage", (np.ones(6), _rng.normal(size=6), 0.2)),
    Case(
        "ratios of 1e-3 and 1e3", (np.array([1e-3, 1e3, 1e-3, 1e3]), np.array([1.0, 1.0, -1.0, -1.0]), 0.2), hard=True
    ),
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
                examples=(_learner_pg(kl_sign=0.0),),
            ),
            Mistake(
                "KL sign",
                "the KL term has the wrong sign: drifting from pi_ref must cost, r(y) - beta * log(pi/pi_ref)",
                _pg_kl_sign,
                examples=(_learner_pg(kl_sign=1.0),),
            ),
            Mistake(
                "no baseline",
                "subtract the batch's mean score (the baseline) from each score before weighting",
                lambda lo, rl, r, s, b: rlhf.policy_gradient(lo, rl, r, s, b, baseline=False),
                examples=(_learner_pg(baseline=False),),
            ),
            Mistake(
                "sum",
                "you summed over the samples; the estimate is their mean (divide by the batch size)",
                lambda lo, rl, r, s, b: rlhf.policy_gradient(lo, rl, r, s, b) * s.size,
                examples=(_learner_pg(reduce=np.sum),),
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
                examples=(lambda r, a, c: np.mean(r * a),),
            ),
            Mistake(
                "max",
                "PPO takes the min of the two terms (a pessimistic bound), not the max",
                _ppo_with("max"),
                examples=(lambda r, a, c: np.mean(np.maximum(r * a, np.clip(r, 1 - c, 1 + c) * a)),),
            ),
            Mistake(
                "clipped advantage",
                "clip the probability ratio to [1 - clip, 1 + clip], not the advantage",
                _ppo_with("clipped advantage"),
                examples=(lambda r, a, c: np.mean(np.minimum(r * a, r * np.clip(a, -c, c))),),
            ),
        ),
        arg_names=("ratio", "advantage", "clip"),
        title="PPO's clipped surrogate objective",
        difficulty=2,
    ),
)

QUESTIONS = ()
