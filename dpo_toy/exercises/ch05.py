"""Chapter 5, the Z(x) cancellation: the implied reward margin and the DPO loss."""

import numpy as np

from .. import losses
from ._cases import dpo_cases
from ._engine import Exercise, Mistake

_rng = np.random.default_rng([11, 5])  # this chapter's inputs; other chapters draw from their own

_DPO_CASES = dpo_cases(_rng)


def _margins(pc, pr, rc, rr, beta):
    return losses.dpo_rewards(pc, pr, rc, rr, beta).margins


EXERCISES = (
    Exercise(
        "5.1",
        "implied_reward_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)",
        _margins,
        _DPO_CASES[:3],
        (
            Mistake(
                "forgot beta",
                "you forgot beta: the implied reward is beta * log(pi / pi_ref)",
                lambda pc, pr, rc, rr, b: _margins(pc, pr, rc, rr, 1.0),
            ),
            Mistake(
                "swapped",
                "chosen and rejected are swapped: the margin is chosen minus rejected",
                lambda pc, pr, rc, rr, b: _margins(pr, pc, rr, rc, b),
            ),
            Mistake(
                "forgot the reference",
                "you left out the reference: the implied reward is beta * (log pi - log pi_ref)",
                lambda pc, pr, rc, rr, b: _margins(pc, pr, 0 * rc, 0 * rr, b),
            ),
        ),
        arg_names=(*losses.LOGPS_NAMES, "beta"),
        title="the implied reward margin",
        difficulty=1,
    ),
    Exercise(
        "5.2",
        "dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)",
        losses.dpo_loss,
        _DPO_CASES,
        (
            Mistake(
                "forgot beta",
                "you forgot beta: the loss is -log sigma(beta * (log-ratio of y_w - log-ratio of y_l))",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, rc, rr, 1.0),
            ),
            Mistake(
                "swapped",
                "chosen and rejected are swapped: the winner's log-ratio comes first",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pr, pc, rr, rc, b),
            ),
            Mistake(
                "probabilities",
                "you used probabilities; the formula takes log-probabilities (log pi, not pi)",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(np.exp(pc), np.exp(pr), np.exp(rc), np.exp(rr), b),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean over pairs",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, rc, rr, b, reduction="sum"),
            ),
            Mistake(
                "forgot the reference",
                "you left out the reference model: use log pi_theta - log pi_ref for each response",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, 0 * rc, 0 * rr, b),
            ),
        ),
        "np.log(sigmoid(z)) is log(0) = -inf for z = -1000. Use -np.logaddexp(0, -z) for -log sigma(z)",
        arg_names=(*losses.LOGPS_NAMES, "beta"),
        title="the DPO loss",
        difficulty=2,
    ),
)

QUESTIONS = ()
