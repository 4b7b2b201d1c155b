"""Chapter 4, the reward-model loss and its gradient."""

import numpy as np

from .. import losses, stable
from ._engine import Case, Exercise, Mistake
from ._kinds import Choice, Derivation, Prediction

_rng = np.random.default_rng([11, 4])  # this chapter's inputs; other chapters draw from their own

_SCORES = (
    Case("the worked example: 1.8 vs 1.2", (np.array([1.8]), np.array([1.2]))),
    Case("5 random pairs", (_rng.normal(size=5) * 2, _rng.normal(size=5) * 2)),
    Case("a pair ranked wrong: 0 vs 3", (np.array([0.0, 1.0]), np.array([3.0, -1.0]))),
    Case("margins of -800 and +800", (np.array([-400.0, 400.0]), np.array([400.0, -400.0])), hard=True),
)

EXERCISES = (
    Exercise(
        "4.1",
        "reward_model_loss(r_chosen, r_rejected)",
        losses.reward_model_loss,
        _SCORES,
        (
            Mistake(
                "sign",
                "the sign is flipped: a loss is -log sigma(r_chosen - r_rejected), never negative",
                lambda w, lo: -losses.reward_model_loss(w, lo),
            ),
            Mistake(
                "swapped",
                "chosen and rejected are swapped: the winner's score comes first, sigma(r_chosen - r_rejected)",
                lambda w, lo: losses.reward_model_loss(lo, w),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean (E is an average over the dataset)",
                lambda w, lo: losses.reward_model_loss(w, lo, "sum"),
            ),
            Mistake(
                "no log",
                "you forgot the log: the loss is -log sigma(margin), not 1 - sigma(margin)",
                lambda w, lo: np.mean(1 - stable.sigmoid(w - lo)),
            ),
        ),
        "log(sigmoid(margin)) is log(0) = -inf for a margin of -800. Use -np.logaddexp(0, -margin)",
        arg_names=("r_chosen", "r_rejected"),
        title="the reward-model loss",
        difficulty=1,
    ),
    Exercise(
        "4.2",
        "reward_model_loss_grad(r_chosen, r_rejected)",
        losses.reward_model_loss_grad,
        _SCORES[:3],
        (
            Mistake(
                "sign",
                "the sign is flipped: raising the winner's score lowers the loss, so dL/dr_chosen < 0",
                lambda w, lo: tuple(-g for g in losses.reward_model_loss_grad(w, lo)),
            ),
            Mistake(
                "no 1/n",
                "you forgot to divide by the number of pairs (the loss is a mean)",
                lambda w, lo: losses.reward_model_loss_grad(w, lo, "sum"),
            ),
            Mistake(
                "wrong sigma",
                "the weight is sigma(r_rejected - r_chosen), the chance the model currently gets the pair wrong",
                lambda w, lo: (-stable.sigmoid(w - lo) / w.size, stable.sigmoid(w - lo) / w.size),
            ),
        ),
        arg_names=("r_chosen", "r_rejected"),
        title="its gradient",
        difficulty=2,
    ),
)


# --- questions placed inline in the chapter ----------------------------------------------------------


def loss_slope(m):
    """d/dm of −log σ(m), from the library's gradient (∂L/∂r_chosen of one pair at margin m)."""
    m = np.asarray(m, float)
    return losses.reward_model_loss_grad(m, np.zeros_like(m), reduction="none")[0]


_SLOPE_CASES = (
    Case("m = 0", (np.array([0.0]),)),
    Case("m = 0.6, the worked example", (np.array([0.6]),)),
    Case("12 margins from -6 to 6", (np.linspace(-6.0, 6.0, 12),)),
    Case("8 random margins", (_rng.normal(size=8) * 3,)),
    Case("margins of -30 and 30", (np.array([-30.0, 30.0]),), hard=True),
)


def _slope_at(m):
    return abs(float(loss_slope(np.array([m]))[0]))


QUESTIONS = (
    Prediction(
        "4.p1",
        "the reward-model loss when both answers get the same score (margin 0)",
        truth=lambda: float(losses.reward_model_loss(0.0, 0.0)),
        atol=0.02,
        rtol=0.0,
        mistakes=(
            Mistake("zero at a tie", "a tie is not a perfect score: σ(0) = 1/2, so the loss is −log(1/2)", lambda: 0.0),
            Mistake("sigma, not its log", "that is σ(0) = 0.5; the loss is −log σ(0) = log 2", lambda: 0.5),
            Mistake("log base 10", "the course uses natural logs (nats): −ln(1/2) = 0.693", lambda: np.log10(2.0)),
        ),
        explain="σ(0) = 1/2: a model that cannot tell the answers apart pays log 2 ≈ 0.693 nats per pair.",
    ),
    Derivation(
        "4.d1",
        "slope(m): the derivative of −log σ(m) with respect to the margin m",
        loss_slope,
        _SLOPE_CASES,
        (
            Mistake(
                "sign",
                "the sign is flipped: a larger margin lowers the loss, so the slope is negative",
                lambda m: -loss_slope(m),
            ),
            Mistake(
                "sigma(m)",
                "you wrote −σ(m); with σ'(m) = σ(m)σ(−m), d/dm[−log σ(m)] = −σ'(m)/σ(m) = −σ(−m)",
                lambda m: -stable.sigmoid(m),
            ),
            Mistake(
                "derivative of sigma",
                "that is −σ'(m) = −σ(m)σ(−m), the slope of −σ(m); the log divides by σ(m): −σ(−m)",
                lambda m: -stable.sigmoid(m) * stable.sigmoid(-m),
            ),
        ),
        "σ(−m) for m = −30 is fine, but 1/(1 + exp(m)) is safer written as sigmoid(-m) from dpo_toy",
        arg_names=("m",),
        title="d/dm of −log σ(m)",
        difficulty=2,
    ),
    Choice(
        "4.r1",
        "the slope figure: a pair ranked right by margin +4 vs one ranked wrong by −4",
        options={
            "a": "they push equally hard, in opposite directions",
            "b": f"the wrong pair pushes about {_slope_at(-4.0) / _slope_at(4.0):.0f} times harder",
            "c": "the right pair pushes harder: its loss is closer to zero, so the gradient there is steeper",
            "d": "neither pushes: both are far from the margin 0",
        },
        answer="b",
        why={
            "a": "the slope −σ(−m) is not odd in m: it is ≈ −1 on the left and ≈ 0 on the right, and it "
            "has the same sign everywhere (every pair pushes its margin up)",
            "c": "the curve flattens as m grows: at m = +4 the slope is −σ(−4) ≈ −0.018, at m = −4 it is ≈ −0.982",
            "d": "only the right side flattens out; on the left the loss is nearly the line −m, with slope −1",
        },
        names={"a": "symmetric slope", "c": "steeper near zero loss", "d": "both flat"},
        explain="|slope| = σ(−m): σ(4)/σ(−4) = e⁴ ≈ 55. Training effort goes to the pairs the model gets wrong.",
    ),
)
