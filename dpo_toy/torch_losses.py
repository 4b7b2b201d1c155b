r"""The preference losses in PyTorch: twin of :mod:`dpo_toy.losses`.

Same names, arguments, defaults and meaning; tensors in, tensors out, differentiable by autograd.
Only imported when asked for (``import dpo_toy`` does not load torch). See :mod:`dpo_toy.losses`
for the formulas.
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from . import _validation as v
from .losses import LOGPS_NAMES, REDUCTIONS

_INTEGER_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _as_tensor(x, name, what="finite numbers"):
    """A finite real tensor computed in at least float32 (float16 and bfloat16 widen, ints become float64)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must hold real numbers (a tensor, array or list of floats), got {x!r}")
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"{name} must hold real numbers (a tensor, array or list of floats), got {x!r}") from None
    t = x
    if not (t.is_floating_point() or t.dtype in _INTEGER_DTYPES):
        raise TypeError(f"{name} must hold real numbers, got dtype {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.float64)
    elif t.dtype in (torch.float16, torch.bfloat16):  # too little range for β·h and 1/(2β)
        t = t.to(torch.float32)
    if not torch.isfinite(t).all():
        kind = "NaN" if torch.isnan(t).any() else "an infinite value"
        raise ValueError(f"{name} contains {kind}; {name} must hold {what}")
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


def _compute_dtype(dtype, beta):
    """float64 when β or 1/(2β) does not fit ``dtype`` (β is never cast where it breaks)."""
    wide = v.compute_dtype(np.float32 if dtype == torch.float32 else np.float64, beta) == np.float64
    return torch.float64 if wide else dtype


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    return losses.mean() if reduction == "mean" else losses.sum()


def reward_model_loss(r_chosen, r_rejected, reduction="mean"):
    r"""The reward-model (Bradley–Terry) loss −log σ(r_w − r_l) per pair."""
    v.check_option(reduction, "reduction", REDUCTIONS)
    r_w, r_l = _same_shape(
        [_as_tensor(r_chosen, "r_chosen"), _as_tensor(r_rejected, "r_rejected")], ("r_chosen", "r_rejected")
    )
    if not torch.isfinite(r_w - r_l).all():  # a float32 difference overflowed: float64 holds it
        r_w, r_l = r_w.double(), r_l.double()
    return _reduce(-F.logsigmoid(r_w - r_l), reduction)


def _logps(logps, beta):
    tensors = [_as_tensor(x, n, "finite log-probabilities") for x, n in zip(logps, LOGPS_NAMES)]
    tensors = _same_shape(tensors, LOGPS_NAMES)
    dtype = _compute_dtype(tensors[0].dtype, beta)
    return [t.to(dtype) for t in tensors]


def _losses(h, beta, label_smoothing, loss_type):
    z = beta * h
    if loss_type == "sigmoid":
        losses = -(1 - label_smoothing) * F.logsigmoid(z)
        return losses - label_smoothing * F.logsigmoid(-z) if label_smoothing else losses
    if loss_type == "ipo":
        return (h - 1 / (2 * beta)) ** 2
    return torch.relu(1 - z)


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
    beta = v.check_beta(beta)
    label_smoothing = v.check_loss_options(reduction, loss_type, label_smoothing)
    pc, pr, rc, rr = _logps((policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps), beta)
    h = (pc - rc) - (pr - rr)
    losses = _losses(h, beta, label_smoothing, loss_type)
    if not torch.isfinite(losses).all() and h.dtype != torch.float64:  # float32 overflowed
        h = h.double()
        losses = _losses(h, beta, label_smoothing, loss_type)
    if not torch.isfinite(losses).all():
        raise ValueError(
            f"the {loss_type} loss overflows float64 at beta={beta:g} with log-ratio differences up to "
            f"{float(h.detach().abs().max()):.3g}: use a smaller beta or smaller log-probabilities"
        )
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
    beta = v.check_beta(beta)
    logps = (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps)
    pc, pr, rc, rr = (t.detach() for t in _logps(logps, beta))
    chosen, rejected = beta * (pc - rc), beta * (pr - rr)
    return RewardMetrics(chosen, rejected, chosen - rejected, (chosen > rejected).to(pc.dtype))
