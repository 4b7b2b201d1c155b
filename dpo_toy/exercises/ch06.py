"""Chapter 6, the DPO loss: its gradient for the policy log-probs, and IPO."""

import numpy as np

from .. import losses, stable
from ._cases import dpo_cases
from ._engine import Exercise, Mistake

_rng = np.random.default_rng([11, 6])  # this chapter's inputs; other chapters draw from their own

_DPO_CASES = dpo_cases(_rng)


def _policy_grad(pc, pr, rc, rr, beta, **kw):
    return losses.dpo_loss_grad(pc, pr, rc, rr, beta, **kw)[:2]


def _grad_with_weight(weight_of_z, scale_by_beta=True, mean=True):
    """A DPO policy gradient built from a chosen per-pair weight (for the mistakes of 6.1)."""

    def grad(pc, pr, rc, rr, beta):
        z = beta * ((pc - rc) - (pr - rr))
        g = -weight_of_z(z) * (beta if scale_by_beta else 1.0) / (z.size if mean else 1)
        return g, -g

    return grad


def _naive_sigmoid(x):
    return np.exp(x) / (1 + np.exp(x))


def _learner_grad(sigmoid, sign=1.0, weight_sign=-1.0, scale=True, mean=True):
    """A learner-style DPO policy gradient: (g, −g) with g = ±β·σ(∓z)/n, a slip chosen by the flags."""

    def grad(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
        z = beta * ((policy_chosen_logps - ref_chosen_logps) - (policy_rejected_logps - ref_rejected_logps))
        g = weight_sign * sigmoid(-sign * z) * (beta if scale else 1.0) / (z.size if mean else 1)
        return g, -g

    return grad


_SIGMOIDS = (_naive_sigmoid, stable.sigmoid)  # naive (NaN at z = -1e3) and stable


def _ipo(pc, pr, rc, rr, beta):
    return losses.dpo_loss(pc, pr, rc, rr, beta, loss_type="ipo")


def _ipo_with(target, scale_h=False, power=2):
    """IPO with a wrong target, a β-scaled h, or no square (for the mistakes of 6.2)."""

    def loss(pc, pr, rc, rr, beta):
        h = (pc - rc) - (pr - rr)
        return float(np.mean(np.abs((beta * h if scale_h else h) - target(beta)) ** power))

    return loss


EXERCISES = (
    Exercise(
        "6.1",
        "dpo_policy_grad(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, "
        "beta) -> (dL/dpolicy_chosen_logps, dL/dpolicy_rejected_logps)",
        _policy_grad,
        _DPO_CASES,
        (
            Mistake(
                "sign",
                "the sign is flipped: raising the chosen log-prob lowers the loss, so dL/dpolicy_chosen_logps < 0",
                lambda *a: tuple(-g for g in _policy_grad(*a)),
                examples=tuple(_learner_grad(f, weight_sign=1.0) for f in _SIGMOIDS),
            ),
            Mistake(
                "wrong sigma",
                "the weight is sigma(-z), the chance the policy currently ranks the pair wrong; "
                "sigma(z) gives the most weight to pairs it already gets right",
                _grad_with_weight(stable.sigmoid),
                examples=tuple(_learner_grad(f, sign=-1.0) for f in _SIGMOIDS),
            ),
            Mistake(
                "forgot beta",
                "you forgot the chain rule's beta: z = beta * h, so dL/dh = -beta * sigma(-z)",
                _grad_with_weight(lambda z: stable.sigmoid(-z), scale_by_beta=False),
                examples=tuple(_learner_grad(f, scale=False) for f in _SIGMOIDS),
            ),
            Mistake(
                "no 1/n",
                "you forgot to divide by the number of pairs (the loss is a mean)",
                _grad_with_weight(lambda z: stable.sigmoid(-z), mean=False),
                examples=tuple(_learner_grad(f, mean=False) for f in _SIGMOIDS),
            ),
        ),
        "sigma(-z) computed as exp(-z) / (1 + exp(-z)) is inf/inf = NaN for z = -1e3. "
        "Use dpo_toy.sigmoid(-z) or np.exp(-np.logaddexp(0, z))",
        arg_names=(*losses.LOGPS_NAMES, "beta"),
        title="the DPO gradient for the policy log-probs",
        difficulty=3,
    ),
    Exercise(
        "6.2",
        "ipo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)",
        _ipo,
        _DPO_CASES,
        (
            Mistake(
                "target 1/beta",
                "the target is 1/(2 beta), not 1/beta: IPO's loss is (h - 1/(2 beta))^2",
                _ipo_with(lambda b: 1 / b),
                examples=(lambda pc, pr, rc, rr, b: np.mean(((pc - rc) - (pr - rr) - 1 / b) ** 2),),
            ),
            Mistake(
                "beta times h",
                "IPO compares the plain log-ratio difference h with 1/(2 beta); you multiplied h by beta first",
                _ipo_with(lambda b: 1 / (2 * b), scale_h=True),
                examples=(lambda pc, pr, rc, rr, b: np.mean((b * ((pc - rc) - (pr - rr)) - 1 / (2 * b)) ** 2),),
            ),
            Mistake(
                "not squared",
                "IPO's loss is squared: (h - 1/(2 beta))^2, not |h - 1/(2 beta)|",
                _ipo_with(lambda b: 1 / (2 * b), power=1),
                examples=(lambda pc, pr, rc, rr, b: np.mean(np.abs((pc - rc) - (pr - rr) - 1 / (2 * b))),),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean over pairs",
                lambda *a: losses.dpo_loss(*a, loss_type="ipo", reduction="sum"),
                examples=(lambda pc, pr, rc, rr, b: np.sum(((pc - rc) - (pr - rr) - 1 / (2 * b)) ** 2),),
            ),
        ),
        arg_names=(*losses.LOGPS_NAMES, "beta"),
        title="the IPO loss",
        difficulty=2,
    ),
)

QUESTIONS = ()
