"""The PyTorch twin of :func:`dpo_toy.training.train_dpo`: autograd and ``torch.optim.Adam``.

Same arguments and result; the loss is :func:`dpo_toy.torch_losses.dpo_loss`, the gradient comes
from autograd instead of the analytic formula. Runs in float64 so the two trainers can be
compared step by step.
"""

import numpy as np
import torch

from . import torch_losses
from ._validation import check_beta
from .training import TrainingRun, _check_pairs


def train_dpo(
    toy, pairs, beta=0.1, *, steps=500, lr=0.05, label_smoothing=0.0, loss_type="sigmoid", record_every=1, init=None
):
    """Train a tabular policy on preference pairs with the DPO loss, autograd and torch.optim.Adam."""
    beta = check_beta(beta)
    _check_pairs(pairs, len(toy))
    if int(steps) < 0 or not lr > 0 or int(record_every) < 1:
        raise ValueError("steps must be >= 0, lr > 0 and record_every >= 1")
    ref_logps = torch.log(torch.tensor(np.array(toy.pi_ref), dtype=torch.float64))
    if not torch.isfinite(ref_logps).all():
        raise ValueError("toy.pi_ref has zeros: a response the reference never produces cannot be trained on")
    start = ref_logps if init is None else torch.as_tensor(np.asarray(init, float))
    logits = start.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([logits], lr=lr)
    chosen, rejected = torch.as_tensor(pairs.chosen), torch.as_tensor(pairs.rejected)
    weight = torch.as_tensor(pairs.weight, dtype=torch.float64)
    weight = weight / weight.sum()
    records, policies, loss_history = [0], [torch.softmax(logits, -1).detach().numpy().copy()], []
    for step in range(1, int(steps) + 1):
        logps = torch.log_softmax(logits, -1)
        per_pair = torch_losses.dpo_loss(
            logps[chosen], logps[rejected], ref_logps[chosen], ref_logps[rejected], beta,
            label_smoothing=label_smoothing, loss_type=loss_type, reduction="none",
        )  # fmt: skip
        loss = weight @ per_pair
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_history.append(float(loss.detach()))
        if step % record_every == 0 or step == steps:
            records.append(step)
            policies.append(torch.softmax(logits, -1).detach().numpy().copy())
    return TrainingRun(np.array(records), np.array(policies), np.array(loss_history))
