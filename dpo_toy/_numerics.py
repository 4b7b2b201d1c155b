r"""Numerics several modules share, without input checks (their callers validate once).

* :func:`log_sigmoid` keeps the input's dtype (float32 stays float32), unlike the public
  :func:`dpo_toy.stable.log_sigmoid`, which validates and computes in float64;
* :func:`log_softmax` of a finite 1-D logit vector, for training loops that run it thousands of
  times per slider move;
* :func:`adam`, the optimiser both NumPy trainers use;
* :func:`dpo_losses_and_slopes`, the one place the three DPO-family formulas live.
"""

import numpy as np


def log_sigmoid(z):
    r"""log σ(z) = −log(1 + e^{−z}) without overflow, in ``z``'s dtype."""
    return -np.logaddexp(z.dtype.type(0), -z)


def log_softmax(logits):
    """log softmax of finite logits along the last axis (shifted by the maximum first)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def adam(lr, betas=(0.9, 0.999), eps=1e-8):
    """Adam exactly as torch.optim.Adam computes it (bias-corrected moments, eps outside the sqrt).

    Returns ``step(params, grad) -> new params``, which carries the moment estimates between calls.
    """
    state = {"t": 0, "m": 0.0, "v": 0.0}

    def step(params, grad):
        state["t"] += 1
        state["m"] = betas[0] * state["m"] + (1 - betas[0]) * grad
        state["v"] = betas[1] * state["v"] + (1 - betas[1]) * grad * grad
        m_hat = state["m"] / (1 - betas[0] ** state["t"])
        v_hat = state["v"] / (1 - betas[1] ** state["t"])
        return params - lr * m_hat / (np.sqrt(v_hat) + eps)

    return step


def dpo_losses_and_slopes(h, beta, label_smoothing, loss_type, *, value=True, slope=True):
    r"""Per-pair DPO-family losses and their derivatives ∂loss/∂h from log-ratio differences ``h``.

    ``beta`` and ``label_smoothing`` are Python floats, already validated, and ``h`` is in a dtype
    that holds β and 1/(2β) (see :func:`dpo_toy._validation.compute_dtype`).
    """
    b = h.dtype.type(beta)
    z = h * b
    losses = dh = None
    if loss_type == "sigmoid":
        eps = h.dtype.type(label_smoothing)
        log_sig, log_sig_neg = log_sigmoid(z), log_sigmoid(-z)
        # With ε = 0 the general forms reduce to −log σ(z) and −β·σ(−z) to the bit (1·x − 0 = x);
        # the training loops call this at every step, so the short forms are worth their branch.
        if value:
            losses = -(1 - eps) * log_sig - eps * log_sig_neg if label_smoothing else -log_sig
        if slope:
            sig_neg = np.exp(log_sig_neg)  # σ(−z)
            dh = -b * ((1 - eps) * sig_neg - eps * (1 - sig_neg)) if label_smoothing else -b * sig_neg
    elif loss_type == "ipo":
        gap = h - h.dtype.type(1 / (2 * beta))
        losses, dh = gap**2, 2 * gap
    elif loss_type == "hinge":
        losses = np.maximum(0, 1 - z)
        dh = np.where(1 - z > 0, -b, h.dtype.type(0))  # the subgradient torch.relu uses at 0
    else:
        raise ValueError(f"loss_type must be 'sigmoid', 'ipo' or 'hinge', got {loss_type!r}")
    return losses, dh
