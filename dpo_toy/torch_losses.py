r"""The preference losses in PyTorch: twin of :mod:`dpo_toy.losses`.

Same names, arguments, defaults and meaning; tensors in, tensors out, differentiable by autograd.
Only imported when asked for (``import dpo_toy`` does not load torch). See :mod:`dpo_toy.losses`
for the formulas.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._validation import check_beta
from .losses import LOGPS_NAMES, _check_options


def _as_tensor(x, name):
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{name} must hold real numbers (a tensor, array or list of floats), got {x!r}") from None
    t = x
    if not (t.is_floating_point() or t.dtype in (torch.int32, torch.int64, torch.int16, torch.int8, torch.uint8)):
        raise TypeError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.float64)
    if not torch.isfinite(t).all():
        kind = "NaN" if torch.isnan(t).any() else "an infinite value"
        raise ValueError(f"{name} contains {kind}; log-probabilities must be finite numbers")
    return t


def _same_shape(tensors, names):
    if len({tuple(t.shape) for t in tensors}) != 1:
        listed = ", ".join(f"{n} {tuple(t.shape)}" for n, t in zip(names, tensors))
        raise ValueError(f"{', '.join(names)} must all have the same shape (one entry per pair); got {listed}")
    if tensors[0].numel() == 0:
        raise ValueError(f"{names[0]} is empty: there are no pairs")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return [t.to(dtype) for t in tensors]


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def reward_model_loss(r_chosen, r_rejected, reduction="mean"):
    r"""The reward-model (Bradley–Terry) loss −log σ(r_w − r_l) per pair."""
    _check_options(reduction)
    r_w, r_l = _same_shape(
        [_as_tensor(r_chosen, "r_chosen"), _as_tensor(r_rejected, "r_rejected")], ("r_chosen", "r_rejected")
    )
    return _reduce(-F.logsigmoid(r_w - r_l), reduction)


def _log_ratio_difference(*logps):
    pc, pr, rc, rr = _same_shape([_as_tensor(x, n) for x, n in zip(logps, LOGPS_NAMES)], LOGPS_NAMES)
    return (pc - rc) - (pr - rr)


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
    r"""The DPO loss (and its IPO and hinge variants) from per-pair log-probabilities (tensors)."""
    beta = check_beta(beta)
    _check_options(reduction, loss_type, label_smoothing)
    h = _log_ratio_difference(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    z = beta * h
    if loss_type == "sigmoid":
        losses = -(1 - label_smoothing) * F.logsigmoid(z) - label_smoothing * F.logsigmoid(-z)
    elif loss_type == "ipo":
        losses = (h - 1 / (2 * beta)) ** 2
    else:
        losses = torch.relu(1 - z)
    return _reduce(losses, reduction)


@dataclass(frozen=True)
class RewardMetrics:
    """What practitioners log during DPO, per pair (detached tensors)."""

    chosen: torch.Tensor
    rejected: torch.Tensor
    margins: torch.Tensor
    accuracies: torch.Tensor

    def summary(self):
        """Means under the names TRL logs them."""
        return {
            "rewards/chosen": float(self.chosen.mean()),
            "rewards/rejected": float(self.rejected.mean()),
            "rewards/accuracies": float(self.accuracies.mean()),
            "rewards/margins": float(self.margins.mean()),
        }


@torch.no_grad()
def dpo_rewards(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=0.1):
    r"""The implicit rewards β·log(π_θ/π_ref) of chosen and rejected responses, margins and accuracies."""
    beta = check_beta(beta)
    logps = (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    pc, pr, rc, rr = _same_shape([_as_tensor(x, n).detach() for x, n in zip(logps, LOGPS_NAMES)], LOGPS_NAMES)
    chosen, rejected = beta * (pc - rc), beta * (pr - rr)
    return RewardMetrics(chosen, rejected, chosen - rejected, (chosen > rejected).to(pc.dtype))
