r"""DPO on the toy vocabulary: preference pairs, a tabular policy, and a NumPy trainer.

The policy has one logit per response, π_θ = softmax(θ), initialised at π_ref (θ = log π_ref).
Preference pairs are labelled by Bradley–Terry over the toy's true rewards: y_w beats y_l with
probability σ(r_w − r_l). ``expected_pairs`` is the infinite-data limit: every ordered pair of
distinct responses, weighted by that probability. :mod:`dpo_toy.torch_training` is the twin
trainer (autograd and ``torch.optim.Adam``); from the same start and data both follow the same
trajectory.
"""

from dataclasses import dataclass

import numpy as np

from . import losses
from ._validation import as_finite_array, check_beta
from .stable import log_softmax, sigmoid


@dataclass(frozen=True)
class PreferencePairs:
    """Pairs of response indices, chosen over rejected, each with a weight (1 for sampled pairs)."""

    chosen: np.ndarray  # (n_pairs,) int
    rejected: np.ndarray  # (n_pairs,) int
    weight: np.ndarray  # (n_pairs,) float, > 0

    def __len__(self):
        return self.chosen.size

    def swapped(self):
        """The same pairs with chosen and rejected exchanged."""
        return PreferencePairs(self.rejected, self.chosen, self.weight)

    def merged(self):
        """One entry per distinct (chosen, rejected), weighted by its total weight.

        The weighted-mean loss is unchanged, but a training step then costs the same for 30 pairs
        as for 30,000: the toy has at most n·(n − 1) distinct ordered pairs.
        """
        keys, inverse = np.unique(np.stack([self.chosen, self.rejected]), axis=1, return_inverse=True)
        return PreferencePairs(keys[0], keys[1], np.bincount(inverse.ravel(), self.weight))


def sample_pairs(toy, n_pairs, seed=0):
    """``n_pairs`` preference pairs: two distinct responses drawn uniformly, labelled by Bradley–Terry."""
    if int(n_pairs) < 1:
        raise ValueError(f"n_pairs must be >= 1, got {n_pairs}")
    rng = np.random.default_rng(seed)
    n = len(toy)
    a = rng.integers(0, n, n_pairs)
    b = (a + rng.integers(1, n, n_pairs)) % n
    a_wins = rng.random(n_pairs) < sigmoid(toy.rewards[a] - toy.rewards[b])
    return PreferencePairs(np.where(a_wins, a, b), np.where(a_wins, b, a), np.ones(n_pairs))


def expected_pairs(toy):
    """Every ordered pair (i, j), i ≠ j, weighted by P(i preferred to j) = σ(r_i − r_j)."""
    i, j = np.nonzero(~np.eye(len(toy), dtype=bool))
    return PreferencePairs(i, j, sigmoid(toy.rewards[i] - toy.rewards[j]))


def _check_pairs(pairs, n_responses):
    for name in ("chosen", "rejected"):
        idx = np.asarray(getattr(pairs, name))
        if idx.size == 0 or idx.min() < 0 or idx.max() >= n_responses:
            raise ValueError(f"pairs.{name} must hold response indices in [0, {n_responses})")
    if np.any(np.asarray(pairs.weight) <= 0):
        raise ValueError("pairs.weight must be positive")


@dataclass(frozen=True)
class TrainingRun:
    """A DPO run on the toy: the policy after each recorded step and the loss at each step."""

    steps: np.ndarray  # (n_records,) step numbers recorded (0 = the start)
    policies: np.ndarray  # (n_records, n_responses) π_θ at those steps
    losses: np.ndarray  # (n_steps,) weighted DPO loss before each update

    @property
    def final(self):
        """π_θ after the last step."""
        return self.policies[-1]


def weighted_dpo_loss_and_grad(logits, ref_logps, pairs, beta, label_smoothing=0.0, loss_type="sigmoid"):
    r"""The weighted-mean DPO loss of a tabular policy and its gradient with respect to the logits.

    Per pair, ∂loss/∂log π(y_w) and ∂loss/∂log π(y_l) are those of
    :func:`dpo_toy.losses.dpo_loss_grad` (the same formulas; options are validated here once, not
    at every step of :func:`train_dpo`). The chain rule through log-softmax, ∂ log π(y)/∂θ = e_y − π,
    scatters them onto the responses and subtracts π times their total.
    """
    beta = check_beta(beta)
    losses._check_options("mean", loss_type, label_smoothing)
    weight = np.asarray(pairs.weight, float)
    return _loss_and_grad(logits, ref_logps, pairs, weight / weight.sum(), beta, label_smoothing, loss_type)


def _log_softmax(logits):
    # stable.log_softmax without its checks: a training step's logits are finite by construction,
    # and this runs thousands of times per slider move.
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


def _loss_and_grad(logits, ref_logps, pairs, w, beta, label_smoothing, loss_type):
    logps = _log_softmax(logits)
    h = (logps[pairs.chosen] - ref_logps[pairs.chosen]) - (logps[pairs.rejected] - ref_logps[pairs.rejected])
    per_pair, dh = losses._loss_and_slope(h, beta, label_smoothing, loss_type)
    g = w * dh  # ∂L/∂log π(y_w); ∂L/∂log π(y_l) = −g
    n = logits.size
    grad = np.bincount(pairs.chosen, g, n) - np.bincount(pairs.rejected, g, n)  # Σ g − Σ g = 0: no π term
    return float(w @ per_pair), grad


def _adam(lr, betas=(0.9, 0.999), eps=1e-8):
    """Adam exactly as torch.optim.Adam computes it (bias-corrected moments, eps outside the sqrt)."""
    state = {"t": 0, "m": 0.0, "v": 0.0}

    def step(params, grad):
        state["t"] += 1
        state["m"] = betas[0] * state["m"] + (1 - betas[0]) * grad
        state["v"] = betas[1] * state["v"] + (1 - betas[1]) * grad * grad
        m_hat = state["m"] / (1 - betas[0] ** state["t"])
        v_hat = state["v"] / (1 - betas[1] ** state["t"])
        return params - lr * m_hat / (np.sqrt(v_hat) + eps)

    return step


def train_dpo(
    toy, pairs, beta=0.1, *, steps=500, lr=0.05, label_smoothing=0.0, loss_type="sigmoid", record_every=1, init=None
):
    """Train a tabular policy on preference pairs with the DPO loss and Adam; NumPy only.

    Parameters
    ----------
    toy : ToyPrompt
        Responses, π_ref (the reference and the starting policy) and true rewards.
    pairs : PreferencePairs
        From :func:`sample_pairs` or :func:`expected_pairs`.
    beta, label_smoothing, loss_type
        As in :func:`dpo_toy.losses.dpo_loss`.
    steps, lr : int, float
        Adam steps and learning rate.
    record_every : int
        Record π_θ every this many steps (and at the start and end).
    init : array_like, optional
        Starting logits (default log π_ref).
    """
    beta = check_beta(beta)
    losses._check_options("mean", loss_type, label_smoothing)
    _check_pairs(pairs, len(toy))
    if int(steps) < 0 or not lr > 0 or int(record_every) < 1:
        raise ValueError("steps must be >= 0, lr > 0 and record_every >= 1")
    with np.errstate(divide="ignore"):
        ref_logps = np.log(toy.pi_ref)
    if not np.isfinite(ref_logps).all():
        raise ValueError("toy.pi_ref has zeros: a response the reference never produces cannot be trained on")
    logits = ref_logps.copy() if init is None else as_finite_array(init, "init").copy()
    update = _adam(lr)
    w = pairs.weight / pairs.weight.sum()
    records, policies, loss_history = [0], [np.exp(log_softmax(logits))], []
    for step in range(1, int(steps) + 1):
        loss, grad = _loss_and_grad(logits, ref_logps, pairs, w, beta, label_smoothing, loss_type)
        loss_history.append(loss)
        logits = update(logits, grad)
        if step % record_every == 0 or step == steps:
            records.append(step)
            policies.append(np.exp(_log_softmax(logits)))
    return TrainingRun(np.array(records), np.array(policies), np.array(loss_history))


def total_variation(p, q):
    """½ Σ |p − q|: the largest difference in probability the two give any set of responses."""
    return 0.5 * np.abs(np.asarray(p, float) - np.asarray(q, float)).sum(axis=-1)
