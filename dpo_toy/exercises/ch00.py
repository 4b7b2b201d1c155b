"""Chapter 0, start here: a stable softmax and log σ(z)."""

import numpy as np

from .. import stable
from ._compare import proportional
from ._engine import Case, Exercise, Mistake

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

QUESTIONS = ()
