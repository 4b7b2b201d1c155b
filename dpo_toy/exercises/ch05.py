"""Chapter 5, the Z(x) cancellation: the implied reward margin and the DPO loss."""

import numpy as np

from .. import losses, stable
from ._cases import dpo_cases
from ._engine import Exercise, Mistake

_rng = np.random.default_rng([11, 5])  # this chapter's inputs; other chapters draw from their own

_DPO_CASES = dpo_cases(_rng)
_NAMES = (*losses.LOGPS_NAMES, "beta")


def _margins(pc, pr, rc, rr, beta):
    return losses.dpo_rewards(pc, pr, rc, rr, beta).margins


def _margin_backwards(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
    """Parameters in the right order, the difference taken rejected minus chosen."""
    return -_margins(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)


def _naive_log_sigmoid(x):
    return np.log(1 / (1 + np.exp(-x)))


_FORMS = (_naive_log_sigmoid, stable.log_sigmoid)  # naive (overflows at gaps of 1e3) and stable


def _dpo_with(log_sig, sign_inside=1.0, sign_outside=-1.0, scale=True, use_ref=True, reduce=np.mean):
    """A learner-style DPO loss with a chosen slip; parameters named as in the exercise."""

    def loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
        ref_c, ref_r = (ref_chosen_logps, ref_rejected_logps) if use_ref else (0.0, 0.0)
        h = (policy_chosen_logps - ref_c) - (policy_rejected_logps - ref_r)
        return reduce(sign_outside * log_sig(sign_inside * (beta if scale else 1.0) * h))

    return loss


def _sign_inside_sigma(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
    """Parameters in the right order, σ's argument backwards."""
    return losses.dpo_loss(policy_rejected_logps, policy_chosen_logps, ref_rejected_logps, ref_chosen_logps, beta)


EXERCISES = (
    Exercise(
        "5.1",
        "implied_reward_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)",
        _margins,
        _DPO_CASES,
        (
            Mistake(
                "forgot beta",
                "you forgot beta: the implied reward is beta * log(pi / pi_ref)",
                lambda pc, pr, rc, rr, b: _margins(pc, pr, rc, rr, 1.0),
                examples=(lambda pc, pr, rc, rr, b: (pc - rc) - (pr - rr),),
            ),
            Mistake(
                "sign",
                "the margin is chosen minus rejected: beta * (log-ratio of y_w - log-ratio of y_l)",
                _margin_backwards,
                examples=(
                    lambda policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta: (
                        beta * ((policy_rejected_logps - ref_rejected_logps) - (policy_chosen_logps - ref_chosen_logps))
                    ),
                ),
                params=_NAMES,
            ),
            Mistake(
                "swapped",
                "chosen and rejected are swapped (in your parameters or in the formula): the margin is chosen "
                "minus rejected",
                lambda pc, pr, rc, rr, b: _margins(pr, pc, rr, rc, b),
                examples=(lambda pr, pc, rr, rc, b: b * ((pc - rc) - (pr - rr)),),
            ),
            Mistake(
                "forgot the reference",
                "you left out the reference: the implied reward is beta * (log pi - log pi_ref)",
                lambda pc, pr, rc, rr, b: _margins(pc, pr, 0 * rc, 0 * rr, b),
                examples=(lambda pc, pr, rc, rr, b: b * (pc - pr),),
            ),
        ),
        arg_names=_NAMES,
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
                examples=tuple(_dpo_with(f, scale=False) for f in _FORMS),
            ),
            Mistake(
                "forgot the leading minus",
                "you forgot the leading minus: the loss is -log sigma(...), which is never negative",
                lambda *a: -losses.dpo_loss(*a),
                examples=tuple(_dpo_with(f, sign_outside=1.0) for f in _FORMS),
            ),
            Mistake(
                "sign inside sigma",
                "the sign inside sigma is flipped: it is beta * (log-ratio of y_w - log-ratio of y_l), chosen first",
                _sign_inside_sigma,
                examples=tuple(_dpo_with(f, sign_inside=-1.0) for f in _FORMS),
                params=_NAMES,
            ),
            Mistake(
                "swapped",
                "chosen and rejected are swapped (in your parameters or in the formula): the winner's "
                "log-ratio comes first",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pr, pc, rr, rc, b),
                examples=(lambda pr, pc, rr, rc, b: -np.mean(stable.log_sigmoid(b * ((pc - rc) - (pr - rr)))),),
            ),
            Mistake(
                "probabilities",
                "you used probabilities; the formula takes log-probabilities (log pi, not pi)",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(np.exp(pc), np.exp(pr), np.exp(rc), np.exp(rr), b),
                examples=(
                    lambda pc, pr, rc, rr, b: _dpo_with(stable.log_sigmoid)(
                        np.exp(pc), np.exp(pr), np.exp(rc), np.exp(rr), b
                    ),
                ),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean over pairs",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, rc, rr, b, reduction="sum"),
                examples=tuple(_dpo_with(f, reduce=np.sum) for f in _FORMS),
            ),
            Mistake(
                "forgot the reference",
                "you left out the reference model: use log pi_theta - log pi_ref for each response",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, 0 * rc, 0 * rr, b),
                examples=tuple(_dpo_with(f, use_ref=False) for f in _FORMS),
            ),
        ),
        "np.log(sigmoid(z)) is log(0) = -inf for z = -1000. Use -np.logaddexp(0, -z) for -log sigma(z)",
        arg_names=_NAMES,
        title="the DPO loss",
        difficulty=2,
    ),
)

QUESTIONS = ()
