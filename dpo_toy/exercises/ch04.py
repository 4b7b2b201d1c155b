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
    Case("12 random pairs, spread 5", (_rng.normal(size=12) * 5, _rng.normal(size=12) * 5)),
    Case("equal scores: loss ln 2", (np.array([0.7, -0.2, 3.0]), np.array([0.7, -0.2, 3.0]))),
    Case("margins of +-1e-3", (np.array([1e-3, 0.0]), np.array([0.0, 1e-3]))),
    Case("one pair, margin 30", (np.array([30.0]), np.array([0.0]))),
    Case("margins of -800 and +800", (np.array([-400.0, 400.0]), np.array([400.0, -400.0])), hard=True),
)


def _naive_log_sigmoid(x):
    return np.log(1 / (1 + np.exp(-x)))


def _loss_with(log_sig, sign_inside=1.0, sign_outside=-1.0, reduce=np.mean):
    """A learner-style reward-model loss: reduce(sign_outside · log σ(sign_inside · margin))."""

    def loss(r_chosen, r_rejected):
        return reduce(sign_outside * log_sig(sign_inside * (r_chosen - r_rejected)))

    return loss


_FORMS = (_naive_log_sigmoid, stable.log_sigmoid)  # naive (overflows at +-800) and stable


def _sign_inside_sigma(r_chosen, r_rejected):
    """Parameters in the right order, σ's argument backwards."""
    return losses.reward_model_loss(r_rejected, r_chosen)


def _grad_with(weight_sign=-1.0, mean=True, sigma_of=lambda m: stable.sigmoid(-m)):
    """A learner-style gradient of the reward-model loss, with a chosen slip (mistakes of 4.2)."""

    def grad(r_chosen, r_rejected):
        g = weight_sign * sigma_of(r_chosen - r_rejected) / (r_chosen.size if mean else 1)
        return g, -g

    return grad


def _naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))


EXERCISES = (
    Exercise(
        "4.1",
        "reward_model_loss(r_chosen, r_rejected)",
        losses.reward_model_loss,
        _SCORES,
        (
            Mistake(
                "forgot the leading minus",
                "you forgot the leading minus: the loss is -log sigma(r_chosen - r_rejected), never negative",
                lambda w, lo: -losses.reward_model_loss(w, lo),
                examples=tuple(_loss_with(f, sign_outside=1.0) for f in _FORMS),
            ),
            Mistake(
                "sign inside sigma",
                "the sign inside sigma is flipped: the margin is r_chosen - r_rejected, so the loss is "
                "-log sigma(r_chosen - r_rejected)",
                _sign_inside_sigma,
                examples=tuple(_loss_with(f, sign_inside=-1.0) for f in _FORMS),
                params=("r_chosen", "r_rejected"),
            ),
            Mistake(
                "swapped",
                "chosen and rejected are swapped (in your parameters or in the formula): the winner's score "
                "comes first, sigma(r_chosen - r_rejected)",
                lambda w, lo: losses.reward_model_loss(lo, w),
                examples=(
                    lambda r_rejected, r_chosen: -np.mean(_naive_log_sigmoid(r_chosen - r_rejected)),
                    lambda r_rejected, r_chosen: np.mean(np.logaddexp(0, r_rejected - r_chosen)),
                ),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean (E is an average over the dataset)",
                lambda w, lo: losses.reward_model_loss(w, lo, "sum"),
                examples=tuple(_loss_with(f, reduce=np.sum) for f in _FORMS),
            ),
            Mistake(
                "no log",
                "you forgot the log: the loss is -log sigma(margin), not 1 - sigma(margin)",
                lambda w, lo: np.mean(1 - stable.sigmoid(w - lo)),
                examples=(lambda w, lo: np.mean(1 - 1 / (1 + np.exp(-(w - lo)))),),
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
        _SCORES,
        (
            Mistake(
                "sign",
                "the sign is flipped: raising the winner's score lowers the loss, so dL/dr_chosen < 0",
                lambda w, lo: tuple(-g for g in losses.reward_model_loss_grad(w, lo)),
                examples=(
                    _grad_with(weight_sign=1.0),
                    _grad_with(weight_sign=1.0, sigma_of=lambda m: _naive_sigmoid(-m)),
                ),
            ),
            Mistake(
                "no 1/n",
                "you forgot to divide by the number of pairs (the loss is a mean)",
                lambda w, lo: losses.reward_model_loss_grad(w, lo, "sum"),
                examples=(_grad_with(mean=False), _grad_with(mean=False, sigma_of=lambda m: _naive_sigmoid(-m))),
            ),
            Mistake(
                "wrong sigma",
                "the weight is sigma(r_rejected - r_chosen), the chance the model currently gets the pair wrong",
                lambda w, lo: (-stable.sigmoid(w - lo) / w.size, stable.sigmoid(w - lo) / w.size),
                examples=(_grad_with(sigma_of=stable.sigmoid), _grad_with(sigma_of=_naive_sigmoid)),
            ),
        ),
        "exp(-margin) overflows for a margin of -800; use dpo_toy.sigmoid or np.exp(-np.logaddexp(0, -m))",
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
