"""The PyTorch twin of :func:`dpo_toy.training.train_tabular_dpo`: autograd and ``torch.optim.Adam``.

Same arguments and result; the loss is :func:`dpo_toy.torch_losses.dpo_loss`, the gradient comes
from autograd instead of the analytic formula. Runs in float64 so the two trainers can be
compared step by step.
"""

import numpy as np
import torch

from . import torch_losses
from ._runcache import reused_within_run
from .training import TrainingRun, check_training_inputs


@reused_within_run(reseeds_torch=False)
def train_tabular_dpo(
    toy, pairs, beta=0.1, *, steps=500, lr=0.05, label_smoothing=0.0, loss_type="sigmoid", record_every=1, init=None
):
    """Train a tabular policy on preference pairs with the DPO loss, autograd and torch.optim.Adam.

    The arguments and the result are those of :func:`dpo_toy.training.train_tabular_dpo`.
    """
    beta, label_smoothing, steps, lr, record_every, ref_logps, init_logits, pairs = check_training_inputs(
        toy, pairs, beta, steps=steps, lr=lr, label_smoothing=label_smoothing, loss_type=loss_type,
        record_every=record_every, init=init,
    )  # fmt: skip
    ref_logps = torch.as_tensor(ref_logps, dtype=torch.float64)
    logits = torch.as_tensor(init_logits, dtype=torch.float64).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([logits], lr=lr)
    chosen, rejected = torch.as_tensor(pairs.chosen), torch.as_tensor(pairs.rejected)
    weight = torch.as_tensor(pairs.weight, dtype=torch.float64)
    weight = weight / weight.sum()
    records, policies, loss_history = [0], [torch.softmax(logits, -1).detach().numpy().copy()], []
    for step in range(1, steps + 1):
        logps = torch.log_softmax(logits, -1)
        if not torch.isfinite(logps).all():
            raise ValueError(f"training diverged (non-finite logits) with lr={lr:g}: use a smaller learning rate")
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
    if not torch.isfinite(logits).all():
        raise ValueError(f"training diverged (non-finite logits) with lr={lr:g}: use a smaller learning rate")
    return TrainingRun(np.array(records), np.array(policies), np.array(loss_history))
