"""Chapter 4, the reward-model loss and its gradient."""

import numpy as np

from .. import losses, stable
from ._engine import Case, Exercise, Mistake

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

QUESTIONS = ()
