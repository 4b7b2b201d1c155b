"""Chapter 0, start here: a stable softmax and log σ(z)."""

import numpy as np

from .. import stable, toy
from ._compare import proportional
from ._engine import Case, Exercise, Mistake
from ._kinds import Choice, Prediction

_rng = np.random.default_rng([11, 0])  # this chapter's inputs; other chapters draw from their own

_LOGITS = (
    Case("[1, 2, 3]", (np.array([1.0, 2.0, 3.0]),)),
    Case("5 random logits", (_rng.normal(size=5),)),
    Case("[0, 0, 0, 0]", (np.zeros(4),)),
    Case("[-3, 0.5]", (np.array([-3.0, 0.5]),)),
    Case("8 random logits, spread 10", (_rng.normal(size=8) * 10,)),
    Case("one logit [5]", (np.array([5.0]),)),
    Case("[1000, 999, 0]", (np.array([1000.0, 999.0, 0.0]),), hard=True),
    Case("[-1000, -1001]", (np.array([-1000.0, -1001.0]),), hard=True),
)
_Z_VALUES = (
    Case("[0.5, -0.5, 2]", (np.array([0.5, -0.5, 2.0]),)),
    Case("6 random values", (_rng.normal(size=6) * 3,)),
    Case("0.0", (np.array(0.0),)),
    Case("8 random values in [-30, 30]", (_rng.uniform(-30, 30, 8),)),
    Case("[1e-3, -1e-3]", (np.array([1e-3, -1e-3]),)),
    Case("[-40, 40]", (np.array([-40.0, 40.0]),)),
    Case("[-800, -50]", (np.array([-800.0, -50.0]),), hard=True),
    Case("[800, 50]", (np.array([800.0, 50.0]),), hard=True),
)

EXERCISES = (
    Exercise(
        "0.1",
        "softmax(logits)",
        stable.softmax,
        _LOGITS,
        (
            Mistake(
                "not normalised",
                "the outputs do not sum to 1: divide exp(logits) by its sum",
                np.exp,
                examples=(lambda z: np.exp(z), lambda z: np.exp(z - np.max(z))),
                matches=proportional,
            ),
            Mistake(
                "log-probabilities",
                "you returned log-probabilities; softmax returns probabilities",
                stable.log_softmax,
                examples=(
                    lambda z: np.log(np.exp(z) / np.sum(np.exp(z))),
                    lambda z: z - np.max(z) - np.log(np.sum(np.exp(z - np.max(z)))),
                ),
            ),
            Mistake(
                "no exp",
                "you divided the logits by their sum; exponentiate them first",
                lambda z: z / z.sum(),
                examples=(lambda z: z / np.sum(z),),
            ),
        ),
        "exp overflows (or underflows to 0/0). Subtract the largest logit first: softmax is unchanged by a shift",
        arg_names=("logits",),
        title="a stable softmax",
        difficulty=1,
    ),
    Exercise(
        "0.2",
        "log_sigmoid(z)",
        stable.log_sigmoid,
        _Z_VALUES,
        (
            Mistake(
                "no log",
                "you returned sigma(z); the exercise asks for log sigma(z)",
                stable.sigmoid,
                examples=(lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-np.logaddexp(0, -z))),
            ),
            Mistake(
                "sign",
                "the sign is flipped: log sigma(z) is never positive; it equals -log(1 + e^(-z))",
                lambda z: np.logaddexp(0, -z),
                examples=(lambda z: np.log(1 + np.exp(-z)), lambda z: np.logaddexp(0, -z)),
            ),
            Mistake(
                "sigma(-z)",
                "you computed log sigma(-z): the exponent is e^(-z), not e^(z)",
                lambda z: stable.log_sigmoid(-z),
                examples=(lambda z: np.log(1 / (1 + np.exp(z))), lambda z: -np.logaddexp(0, z)),
            ),
        ),
        "log(sigmoid(z)) gives -inf for very negative z. Use -np.logaddexp(0, -z)",
        arg_names=("z",),
        title="log σ(z) without overflow",
        difficulty=2,
    ),
)


_BIG = np.array([1000.0, 999.0, 0.0])  # the logits of 1.p1's softmax: exp(1000) overflows

QUESTIONS = (
    Choice(
        "0.r1",
        "what the 0.299 of the <every other string> bucket is (running-example table)",
        options={
            "a": "the reference model's probability of writing any string other than the three listed",
            "b": "a rounding remainder added so that the column sums to 1",
            "c": "the probability that the model refuses to answer",
        },
        answer="a",
        why={
            "b": "0.299 is far too large to be rounding: it is real probability that Z(x) and KL must include",
            "c": "nothing in the toy models a refusal; the bucket is every string not listed, of any kind",
        },
        names={"b": "bucket is rounding", "c": "bucket is refusal"},
        explain=(
            f"A language model can write any string; the listed responses carry "
            f"{toy.capital_of_france().pi_ref[:3].sum():.3f}, the rest is everything else."
        ),
    ),
    Prediction(
        "0.p1",
        "softmax([1000, 999, 0])[0] (a softmax does not change when every logit shifts)",
        truth=lambda: float(stable.softmax(_BIG)[0]),
        atol=0.01,
        rtol=0.0,
        mistakes=(
            Mistake(
                "no exp",
                "that is 1000 / 1999: you divided the logits by their sum; a softmax exponentiates first",
                lambda: float(_BIG[0] / _BIG.sum()),
            ),
            Mistake(
                "uniform",
                "the logits are not equal, so the probabilities are not 1/3; only their differences matter",
                lambda: 1.0 / 3.0,
            ),
        ),
        explain="Subtract 1000 from every logit: softmax([0, -1, -1000]) = [e⁰, e⁻¹, ≈0] / (1 + e⁻¹).",
    ),
)
