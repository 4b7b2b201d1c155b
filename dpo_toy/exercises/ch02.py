"""Chapter 2, the boost-factor table: log Z(x) and the implied reward."""

import numpy as np

from .. import policy, stable
from ._cases import LOG_SPACE_HINT, distribution, france_args, policy_cases
from ._engine import Case, Exercise, Mistake

_rng = np.random.default_rng([11, 2])  # this chapter's inputs; other chapters draw from their own

_FR = france_args()
_IMPLIED_CASES = tuple(
    Case(f"pi* of France at beta={b}", (policy.optimal_policy(*_FR, b), _FR[0].copy(), b)) for b in (1.0, 0.5, 2.0, 0.1)
) + (
    Case("random pi, pi_ref, beta=0.3", (distribution(_rng, 5), distribution(_rng, 5), 0.3)),
    Case("random over 8, beta=2", (distribution(_rng, 8), distribution(_rng, 8), 2.0)),
    Case("pi = pi_ref over 3, beta=5: all 0", (np.array([0.2, 0.3, 0.5]), np.array([0.2, 0.3, 0.5]), 5.0)),
    Case("pi of 1e-300 against pi_ref of 0.5", (np.array([1 - 1e-300, 1e-300]), np.array([0.5, 0.5]), 1.0), hard=True),
)

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
                examples=(
                    lambda p, r, b: np.sum(p * np.exp(r / b)),
                    lambda p, r, b: np.exp(stable.logsumexp(np.log(p) + r / b)),
                ),
            ),
            Mistake(
                "forgot pi_ref",
                "you left out the pi_ref weights: Z(x) = sum pi_ref * exp(r / beta)",
                lambda p, r, b: stable.logsumexp(r / b),
                examples=(lambda p, r, b: np.log(np.sum(np.exp(r / b))), lambda p, r, b: np.logaddexp.reduce(r / b)),
            ),
            Mistake(
                "exp(beta*r)",
                "you used exp(beta * r); the boost is exp(r / beta)",
                lambda p, r, b: stable.logsumexp(np.log(p) + r * b),
                examples=(
                    lambda p, r, b: np.log(np.sum(p * np.exp(b * r))),
                    lambda p, r, b: np.logaddexp.reduce(np.log(p) + b * r),
                ),
            ),
            Mistake(
                "average",
                "you averaged the boosts; Z(x) is the pi_ref-weighted sum",
                lambda p, r, b: stable.logsumexp(np.log(p) + r / b) - np.log(p.size),
                examples=(
                    lambda p, r, b: np.log(np.mean(p * np.exp(r / b))),
                    lambda p, r, b: stable.logsumexp(np.log(p) + r / b) - np.log(len(p)),
                ),
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
                "forgot beta",
                "you forgot the factor beta in front of the log-ratio",
                lambda p, q, b: np.log(p) - np.log(q),
                examples=(lambda p, q, b: np.log(p / q),),
            ),
            Mistake(
                "divided by beta",
                "you divided by beta; the implied reward is beta * log(pi / pi_ref)",
                lambda p, q, b: (np.log(p) - np.log(q)) / b,
                examples=(lambda p, q, b: np.log(p / q) / b,),
            ),
            Mistake(
                "inverted ratio",
                "the ratio is upside down: log(pi / pi_ref), policy on top",
                lambda p, q, b: b * (np.log(q) - np.log(p)),
                examples=(lambda p, q, b: b * np.log(q / p),),
            ),
            Mistake(
                "no log",
                "you forgot the log: the implied reward is beta * log(pi / pi_ref)",
                lambda p, q, b: b * p / q,
                examples=(lambda p, q, b: b * (p / q),),
            ),
        ),
        "a tiny pi must give a large negative reward, not -inf or NaN: use log(pi) - log(pi_ref)",
        arg_names=("pi", "pi_ref", "beta"),
        title="the implied reward",
        difficulty=1,
    ),
)

QUESTIONS = ()
