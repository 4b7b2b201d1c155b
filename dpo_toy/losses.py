r"""The preference losses in NumPy: RLHF's reward-model loss and the DPO family.

Twin of :mod:`dpo_toy.torch_losses` (same names, arguments, defaults and meaning). Inputs are
per-pair arrays: the summed log-probabilities log π(y|x) of the chosen (y_w) and rejected (y_l)
responses under the policy π_θ and the reference π_ref. float32 inputs stay float32.

With the log-ratio difference

.. math:: h = \big(\log\pi_\theta(y_w|x) - \log\pi_{ref}(y_w|x)\big)
             - \big(\log\pi_\theta(y_l|x) - \log\pi_{ref}(y_l|x)\big), \qquad z = \beta h,

the losses per pair are

* ``"sigmoid"`` (DPO, Rafailov et al. 2023, Eq. 7): −log σ(z); with label smoothing ε,
  −(1−ε)·log σ(z) − ε·log σ(−z) (conservative DPO);
* ``"ipo"`` (Azar et al. 2023): (h − 1/(2β))²;
* ``"hinge"`` (SLiC, Zhao et al. 2023): max(0, 1 − z).
"""

from dataclasses import dataclass

import numpy as np

from . import _validation as v
from ._numerics import dpo_losses_and_slopes, log_sigmoid

LOSS_TYPES = v.LOSS_TYPES
REDUCTIONS = v.REDUCTIONS
LOGPS_NAMES = ("policy_chosen_logps", "policy_rejected_logps", "ref_chosen_logps", "ref_rejected_logps")


def _arrays(values, names, what="finite numbers"):
    return v.same_shape([v.as_float_array(x, n, what) for x, n in zip(values, names)], names)


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    total = losses.sum()
    return total / losses.size if reduction == "mean" else total


def reward_model_loss(r_chosen, r_rejected, reduction="mean"):
    r"""The reward-model (Bradley–Terry) loss −log σ(r_w − r_l) per pair.

    Binary cross-entropy with label 1 on the logit r_w − r_l: logistic regression on reward
    differences (Ouyang et al. 2022, Eq. 1).

    Parameters
    ----------
    r_chosen, r_rejected : array_like, same shape
        Scores r(x, y_w) and r(x, y_l).
    reduction : {"mean", "sum", "none"}
    """
    v.check_option(reduction, "reduction", REDUCTIONS)
    r_w, r_l = _arrays((r_chosen, r_rejected), ("r_chosen", "r_rejected"))
    if not np.isfinite(r_w - r_l).all():  # a float32 difference overflowed: float64 holds it
        r_w, r_l = r_w.astype(np.float64), r_l.astype(np.float64)
    return _reduce(-log_sigmoid(r_w - r_l), reduction)


def reward_model_loss_grad(r_chosen, r_rejected, reduction="mean"):
    r"""The gradient of :func:`reward_model_loss`: (∂L/∂r_chosen, ∂L/∂r_rejected).

    ∂/∂r_w of −log σ(r_w − r_l) is −σ(r_l − r_w): pairs the model already ranks right by a wide
    margin barely move it. Divided by n for the mean; per pair for "none".
    """
    v.check_option(reduction, "reduction", REDUCTIONS)
    r_w, r_l = _arrays((r_chosen, r_rejected), ("r_chosen", "r_rejected"))
    if not np.isfinite(r_w - r_l).all():  # a float32 difference overflowed: float64 holds it
        r_w, r_l = r_w.astype(np.float64), r_l.astype(np.float64)
    g = -np.exp(log_sigmoid(r_l - r_w))
    if reduction == "mean":
        g = g / g.dtype.type(g.size)
    return g, -g


def _log_ratio_difference(logps, beta):
    """h per pair, in a dtype of at least float32 that also holds β and 1/(2β)."""
    pc, pr, rc, rr = _arrays(logps, LOGPS_NAMES, "finite log-probabilities")
    h = (pc - rc) - (pr - rr)
    return h.astype(v.compute_dtype(h.dtype, beta), copy=False)


def _per_pair(logps, beta, label_smoothing, loss_type, *, value=True, slope=True):
    """Losses and slopes per pair; redone in float64 if float32 overflowed, an error if float64 does."""
    h = _log_ratio_difference(logps, beta)
    with np.errstate(over="ignore"):  # an overflow is caught below: redone wider, or an error
        out = dpo_losses_and_slopes(h, beta, label_smoothing, loss_type, value=value, slope=slope)
    if all(x is None or np.isfinite(x).all() for x in out):
        return out
    if h.dtype != np.float64:
        with np.errstate(over="ignore"):
            losses, dh = dpo_losses_and_slopes(
                h.astype(np.float64), beta, label_smoothing, loss_type, value=value, slope=slope
            )
        if all(x is None or np.isfinite(x).all() for x in (losses, dh)):
            return losses, dh
    raise ValueError(
        f"the {loss_type} loss overflows float64 at beta={beta:g} with log-ratio differences up to "
        f"{np.abs(h).max():.3g}: use a smaller beta or smaller log-probabilities"
    )


def dpo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    ref_chosen_logps,
    ref_rejected_logps,
    beta=0.1,
    *,
    label_smoothing=0.0,
    loss_type="sigmoid",
    reduction="mean",
):
    r"""The DPO loss (and its IPO and hinge variants) from per-pair log-probabilities.

    Parameters
    ----------
    policy_chosen_logps, policy_rejected_logps : array_like, shape (n_pairs,)
        log π_θ(y_w|x) and log π_θ(y_l|x).
    ref_chosen_logps, ref_rejected_logps : array_like, shape (n_pairs,)
        log π_ref(y_w|x) and log π_ref(y_l|x).
    beta : float
        β > 0.
    label_smoothing : float in [0, 0.5)
        ε, the assumed rate of flipped labels (``"sigmoid"`` only).
    loss_type : {"sigmoid", "ipo", "hinge"}
    reduction : {"mean", "sum", "none"}

    Notes
    -----
    .. math:: \mathcal{L}_{DPO} = -\mathbb{E}\Big[\log\sigma\Big(\beta\log\frac{\pi_\theta(y_w|x)}{\pi_{ref}(y_w|x)}
              - \beta\log\frac{\pi_\theta(y_l|x)}{\pi_{ref}(y_l|x)}\Big)\Big]

    Rafailov et al. 2023, Eq. 7.
    """
    beta = v.check_beta(beta)
    label_smoothing = v.check_loss_options(reduction, loss_type, label_smoothing)
    logps = (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    losses, _ = _per_pair(logps, beta, label_smoothing, loss_type, slope=False)
    return _reduce(losses, reduction)


def dpo_loss_grad(
    policy_chosen_logps,
    policy_rejected_logps,
    ref_chosen_logps,
    ref_rejected_logps,
    beta=0.1,
    *,
    label_smoothing=0.0,
    loss_type="sigmoid",
    reduction="mean",
):
    r"""The analytic gradient of :func:`dpo_loss` with respect to its four log-prob arrays.

    Returns
    -------
    tuple of 4 ndarrays, each shaped like the inputs
        ∂L/∂policy_chosen_logps, ∂L/∂policy_rejected_logps, ∂L/∂ref_chosen_logps,
        ∂L/∂ref_rejected_logps. With ``reduction="none"`` each pair's own loss is differentiated.

    Notes
    -----
    Every loss depends on the log-probs through h only, and ∂h/∂(the four) = (+1, −1, −1, +1).
    For ``"sigmoid"``, ∂loss/∂h = −β·[(1−ε)·σ(−z) − ε·σ(z)]: a pair the policy already ranks
    right (large z) gets weight σ(−z) ≈ 0. For the mean, each entry is divided by n.
    """
    beta = v.check_beta(beta)
    label_smoothing = v.check_loss_options(reduction, loss_type, label_smoothing)
    logps = (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    _, dh = _per_pair(logps, beta, label_smoothing, loss_type, value=False)
    if reduction == "mean":
        dh = dh / dh.dtype.type(dh.size)
    return dh, -dh, -dh, dh


@dataclass(frozen=True)
class RewardMetrics:
    """What practitioners log during DPO, per pair: implicit rewards, margins, accuracies."""

    chosen: np.ndarray  # β·(log π_θ(y_w) − log π_ref(y_w))
    rejected: np.ndarray  # β·(log π_θ(y_l) − log π_ref(y_l))
    margins: np.ndarray  # chosen − rejected
    accuracies: np.ndarray  # 1.0 where chosen > rejected (strictly: ties count as wrong)

    def summary(self):
        """Means under the names TRL logs them."""
        return {
            "rewards/chosen": float(self.chosen.mean()),
            "rewards/rejected": float(self.rejected.mean()),
            "rewards/accuracies": float(self.accuracies.mean()),
            "rewards/margins": float(self.margins.mean()),
        }


def dpo_rewards(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=0.1):
    r"""The implicit rewards β·log(π_θ/π_ref) of chosen and rejected responses, margins and accuracies."""
    beta = v.check_beta(beta)
    logps = (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    pc, pr, rc, rr = _arrays(logps, LOGPS_NAMES, "finite log-probabilities")
    dtype = v.compute_dtype(pc.dtype, beta)
    pc, pr, rc, rr = (x.astype(dtype, copy=False) for x in (pc, pr, rc, rr))
    b = pc.dtype.type(beta)
    chosen, rejected = b * (pc - rc), b * (pr - rr)
    return RewardMetrics(chosen, rejected, chosen - rejected, (chosen > rejected).astype(pc.dtype))
