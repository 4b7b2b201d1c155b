"""Chapter 2, the boost-factor table: log Z(x) and the implied reward."""

import numpy as np

from .. import policy, stable, toy
from ._cases import LOG_SPACE_HINT, distribution, france_args, policy_cases
from ._engine import Case, Exercise, Mistake
from ._kinds import Prediction, SliderQuestion

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


# --- questions ----------------------------------------------------------------------------------

_PARIS = 1  # "Paris": the response whose boost crosses Z(x) inside the slider's range


def _paris_at(beta):
    return float(policy.optimal_policy(*_FR, beta)[_PARIS])


def _beta_paris_unchanged(lo=0.25, hi=1.0):
    """The β at which π*(Paris) = π_ref(Paris), i.e. Paris's boost equals Z(x) (bisection in log β).

    Below it Paris loses probability (π*(Paris) < π_ref), above it Paris gains.
    """
    target = float(_FR[0][_PARIS])
    if not (_paris_at(lo) < target < _paris_at(hi)):
        raise RuntimeError("the bracket does not contain the crossing")
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if _paris_at(mid) < target else (lo, mid)
    return float(np.sqrt(lo * hi))


def _ratio(bucket_reward, beta=1.0):
    """π*(The capital is Paris.) / π*(Paris) at ``beta`` when the bucket's reward is ``bucket_reward``."""
    variant = toy.capital_of_france(other_reward=bucket_reward)
    pi = policy.optimal_policy(variant.pi_ref, variant.rewards, beta)
    return float(pi[0] / pi[1])


QUESTIONS = (
    Prediction(
        "2.p1",
        f"does π*(Paris) rise or fall at β = 0.25, where its boost is {np.exp(_FR[1][_PARIS] / 0.25):.0f}?",
        truth=lambda: "b" if _paris_at(0.25) < _FR[0][_PARIS] else "a",
        options={
            "a": f"it rises above π_ref(Paris) = 0.4: a boost of {np.exp(_FR[1][_PARIS] / 0.25):.0f} is far above 1",
            "b": "it falls below π_ref(Paris) = 0.4: its boost is below Z(x)",
            "c": "it stays at 0.4: Z(x) cancels the boost",
        },
        why={
            "a": "a boost above 1 is not enough: π* divides by Z(x), the π_ref-weighted average boost, "
            f"and at β = 0.25 'The capital is Paris.' pushes Z(x) to {np.exp(policy.log_partition(*_FR, 0.25)):.0f}",
            "c": "Z(x) is one number for all responses; it cancels in ratios, not in each probability",
        },
        explain="π*(y)/π_ref(y) = boost(y)/Z(x): a response gains only if its boost beats Z(x).",
    ),
    SliderQuestion(
        "2.s1",
        "the β at which π*(Paris) = π_ref(Paris) = 0.4 (its boost equals Z(x))",
        truth=_beta_paris_unchanged,
        rtol=0.06,
        variable="β",
        measure=lambda beta: f"π*(Paris) = {_paris_at(beta):.4f}",
        target="π*(Paris) = 0.4000",
    ),
    Prediction(
        "2.p2",
        "π*(The capital is Paris.) / π*(Paris) at β = 1 when the bucket's reward goes from 0 to +2",
        truth=lambda: _ratio(2.0),
        atol=0.0,
        rtol=0.02,
        mistakes=(
            Mistake(
                "ratio of pi_ref",
                "that is π_ref's ratio 0.3/0.4: the rewards of the two responses still matter",
                lambda: float(_FR[0][0] / _FR[0][_PARIS]),
            ),
            Mistake(
                "ratio of rewards",
                "that is the ratio of the rewards; π* multiplies by exp(r/β), so ratios of π* "
                "depend on the reward difference",
                lambda: float(_FR[1][0] / _FR[1][_PARIS]),
            ),
        ),
        explain="π*(a)/π*(b) = π_ref(a)/π_ref(b)·exp((r_a − r_b)/β): Z(x) and the bucket cancel.",
    ),
)
