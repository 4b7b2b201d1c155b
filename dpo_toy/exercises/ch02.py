"""Chapter 2, the boost-factor table: log Z(x) and the implied reward."""

import numpy as np

from .. import policy, stable
from ._cases import LOG_SPACE_HINT, distribution, france_args, policy_cases
from ._engine import Case, Exercise, Mistake

_rng = np.random.default_rng([11, 2])  # this chapter's inputs; other chapters draw from their own

_FR = france_args()
_IMPLIED_CASES = tuple(
    Case(f"pi* of France at beta={b}", (policy.optimal_policy(*_FR, b), _FR[0].copy(), b)) for b in (1.0, 0.5, 2.0)
) + (Case("random pi, pi_ref, beta=0.3", (distribution(_rng, 5), distribution(_rng, 5), 0.3)),)

EXERCISES = (
    Exercise(
        "2.1",
        "log_partition(pi_ref, rewards, beta)",
        policy.log_partition,
        policy_cases(_rng),
        (
            Mistake(
                "Z not log Z",
                "you returned Z(x); the exercise asks for log Z(x)",
                lambda p, r, b: np.exp(policy.log_partition(p, r, b)),
            ),
            Mistake(
                "forgot pi_ref",
                "you left out the pi_ref weights: Z(x) = sum pi_ref * exp(r / beta)",
                lambda p, r, b: stable.logsumexp(r / b),
            ),
            Mistake(
                "exp(beta*r)",
                "you used exp(beta * r); the boost is exp(r / beta)",
                lambda p, r, b: stable.logsumexp(np.log(p) + r * b),
            ),
            Mistake(
                "average",
                "you averaged the boosts; Z(x) is the pi_ref-weighted sum",
                lambda p, r, b: stable.logsumexp(np.log(p) + r / b) - np.log(p.size),
            ),
        ),
        LOG_SPACE_HINT,
        arg_names=("pi_ref", "rewards", "beta"),
        title="log Z(x)",
        difficulty=2,
    ),
    Exercise(
        "2.2",
        "implied_reward(pi, pi_ref, beta)",
        policy.implied_reward,
        _IMPLIED_CASES,
        (
            Mistake(
                "forgot beta", "you forgot the factor beta in front of the log-ratio", lambda p, q, b: np.log(p / q)
            ),
            Mistake(
                "divided by beta",
                "you divided by beta; the implied reward is beta * log(pi / pi_ref)",
                lambda p, q, b: np.log(p / q) / b,
            ),
            Mistake(
                "inverted ratio",
                "the ratio is upside down: log(pi / pi_ref), policy on top",
                lambda p, q, b: b * np.log(q / p),
            ),
            Mistake(
                "no log", "you forgot the log: the implied reward is beta * log(pi / pi_ref)", lambda p, q, b: b * p / q
            ),
        ),
        arg_names=("pi", "pi_ref", "beta"),
        title="the implied reward",
        difficulty=1,
    ),
)

QUESTIONS = ()
