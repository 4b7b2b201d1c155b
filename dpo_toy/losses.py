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

from ._validation import check_beta

LOSS_TYPES = ("sigmoid", "ipo", "hinge")
REDUCTIONS = ("mean", "sum", "none")
LOGPS_NAMES = ("policy_chosen_logps", "policy_rejected_logps", "ref_chosen_logps", "ref_rejected_logps")


def _as_float_array(x, name):
    arr = np.asarray(x)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(arr.dtype if arr.dtype.kind == "f" else np.float64, copy=False)
    if not np.isfinite(arr).all():
        kind = "NaN" if np.isnan(arr).any() else "an infinite value"
        raise ValueError(f"{name} contains {kind}; log-probabilities must be finite numbers")
    return arr


def _same_shape(arrays, names):
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        listed = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(f"{', '.join(names)} must all have the same shape (one entry per pair); got {listed}")
    if arrays[0].size == 0:
        raise ValueError(f"{names[0]} is empty: there are no pairs")
    dtype = np.result_type(*arrays)
    return [a.astype(dtype, copy=False) for a in arrays]


def _check_options(reduction, loss_type=None, label_smoothing=0.0):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if loss_type is not None and loss_type not in LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}")
    if isinstance(label_smoothing, bool) or not np.isscalar(label_smoothing):
        raise TypeError(f"label_smoothing must be a number in [0, 0.5), got {label_smoothing!r}")
    if not 0.0 <= float(label_smoothing) < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}")


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    total = losses.sum()
    return total / losses.size if reduction == "mean" else total


def _log_sigmoid(z):
    # -log(1 + e^{-z}) without overflow, in the input's dtype (float32 stays float32).
    return -np.logaddexp(np.zeros_like(z), -z)


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
    _check_options(reduction)
    r_w, r_l = _same_shape(
        [_as_float_array(r_chosen, "r_chosen"), _as_float_array(r_rejected, "r_rejected")], ("r_chosen", "r_rejected")
    )
    return _reduce(-_log_sigmoid(r_w - r_l), reduction)


def reward_model_loss_grad(r_chosen, r_rejected, reduction="mean"):
    r"""The gradient of :func:`reward_model_loss`: (∂L/∂r_chosen, ∂L/∂r_rejected).

    ∂/∂r_w of −log σ(r_w − r_l) is −σ(r_l − r_w): pairs the model already ranks right by a wide
    margin barely move it. Divided by n for the mean; per pair for "none".
    """
    _check_options(reduction)
    r_w, r_l = _same_shape(
        [_as_float_array(r_chosen, "r_chosen"), _as_float_array(r_rejected, "r_rejected")], ("r_chosen", "r_rejected")
    )
    g = -np.exp(_log_sigmoid(r_l - r_w))
    if reduction == "mean":
        g = g / g.dtype.type(g.size)
    return g, -g


def _log_ratio_difference(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps):
    arrays = [
        _as_float_array(x, n)
        for x, n in zip((policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps), LOGPS_NAMES)
    ]
    pc, pr, rc, rr = _same_shape(arrays, LOGPS_NAMES)
    return (pc - rc) - (pr - rr)


def _loss_and_slope(h, beta, label_smoothing, loss_type, *, value=True, slope=True):
    """Per-pair losses and their derivatives ∂loss/∂h, from validated log-ratio differences ``h``.

    The one place the three formulas live: :func:`dpo_loss`, :func:`dpo_loss_grad` and the toy
    trainer (which validates once, then calls this every step) all use it.
    """
    b = h.dtype.type(beta)
    z = h * b
    losses = dh = None
    if loss_type == "sigmoid":
        eps = h.dtype.type(label_smoothing)
        log_sig, log_sig_neg = _log_sigmoid(z), _log_sigmoid(-z)
        if value:
            losses = -(1 - eps) * log_sig - eps * log_sig_neg
        if slope:
            sig_neg = np.exp(log_sig_neg)  # σ(−z)
            dh = -b * ((1 - eps) * sig_neg - eps * (1 - sig_neg))
    elif loss_type == "ipo":
        gap = h - h.dtype.type(1 / (2 * beta))
        losses, dh = gap**2, 2 * gap
    else:
        losses = np.maximum(0, 1 - z)
        dh = np.where(1 - z > 0, -b, h.dtype.type(0))  # the subgradient torch.relu uses at 0
    return losses, dh


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
    beta = check_beta(beta)
    _check_options(reduction, loss_type, label_smoothing)
    h = _log_ratio_difference(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    losses, _ = _loss_and_slope(h, beta, label_smoothing, loss_type, slope=False)
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
    beta = check_beta(beta)
    _check_options(reduction, loss_type, label_smoothing)
    h = _log_ratio_difference(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    _, dh = _loss_and_slope(h, beta, label_smoothing, loss_type, value=False)
    if reduction == "mean":
        dh = dh / h.dtype.type(h.size)
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
    beta = check_beta(beta)
    arrays = [
        _as_float_array(x, n)
        for x, n in zip((policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps), LOGPS_NAMES)
    ]
    pc, pr, rc, rr = _same_shape(arrays, LOGPS_NAMES)
    b = pc.dtype.type(beta)
    chosen, rejected = b * (pc - rc), b * (pr - rr)
    return RewardMetrics(chosen, rejected, chosen - rejected, (chosen > rejected).astype(pc.dtype))
