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

from . import _validation as v
from ._numerics import adam, dpo_losses_and_slopes, log_softmax
from ._runcache import reused_within_run
from .stable import sigmoid


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
    n_pairs = v.check_int(n_pairs, "n_pairs", minimum=1)
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
    at every step of :func:`train_tabular_dpo`). The chain rule through log-softmax, ∂ log π(y)/∂θ = e_y − π,
    scatters them onto the responses and subtracts π times their total.
    """
    beta = v.check_beta(beta)
    label_smoothing = v.check_loss_options("mean", loss_type, label_smoothing)
    logits = v.as_finite_array(logits, "logits")
    ref_logps = v.as_real_array(ref_logps, "ref_logps")
    if logits.ndim != 1 or ref_logps.shape != logits.shape:
        raise ValueError(
            f"logits and ref_logps must be 1-D, one entry per response; got {logits.shape}, {ref_logps.shape}"
        )
    chosen, rejected, weight = v.check_pairs(pairs, logits.size)
    checked = _Pairs(chosen, rejected, weight)
    return _loss_and_grad(logits, ref_logps, checked, weight / weight.sum(), beta, label_smoothing, loss_type)


@dataclass(frozen=True)
class _Pairs:
    chosen: np.ndarray
    rejected: np.ndarray
    weight: np.ndarray


def _loss_and_grad(logits, ref_logps, pairs, w, beta, label_smoothing, loss_type):
    log_ratio = log_softmax(logits) - ref_logps  # log π_θ(y)/π_ref(y), per response
    h = log_ratio[pairs.chosen] - log_ratio[pairs.rejected]
    per_pair, dh = dpo_losses_and_slopes(h, beta, label_smoothing, loss_type)
    g = w * dh  # ∂L/∂log π(y_w); ∂L/∂log π(y_l) = −g
    n = logits.size
    grad = np.bincount(pairs.chosen, g, n) - np.bincount(pairs.rejected, g, n)  # Σ g − Σ g = 0: no π term
    return float(w @ per_pair), grad


def check_training_inputs(toy, pairs, beta, *, steps, lr, label_smoothing, loss_type, record_every, init):
    """Validate a tabular DPO run's inputs once (both twin trainers call this).

    Returns (beta, label_smoothing, steps, lr, record_every, ref_logps, init_logits, checked pairs),
    with the scalars as Python numbers and ``init_logits`` log π_ref when ``init`` is None.
    """
    beta = v.check_beta(beta)
    label_smoothing = v.check_loss_options("mean", loss_type, label_smoothing)
    steps = v.check_int(steps, "steps", minimum=0)
    lr = v.check_positive(lr, "lr")
    record_every = v.check_int(record_every, "record_every", minimum=1)
    pi_ref = np.asarray(toy.pi_ref, dtype=float)
    chosen, rejected, weight = v.check_pairs(pairs, pi_ref.size)
    with np.errstate(divide="ignore"):
        ref_logps = np.log(pi_ref)
    if not np.isfinite(ref_logps).all():
        raise ValueError("toy.pi_ref has zeros: a response the reference never produces cannot be trained on")
    if init is None:
        logits = ref_logps.copy()
    else:
        logits = v.as_finite_array(init, "init").copy()
        if logits.shape != ref_logps.shape:
            raise ValueError(f"init must hold one logit per response, shape {ref_logps.shape}; got {logits.shape}")
    return beta, label_smoothing, steps, lr, record_every, ref_logps, logits, _Pairs(chosen, rejected, weight)


@reused_within_run(reseeds_torch=False)
def train_tabular_dpo(
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
    beta, label_smoothing, steps, lr, record_every, ref_logps, logits, pairs = check_training_inputs(
        toy, pairs, beta, steps=steps, lr=lr, label_smoothing=label_smoothing, loss_type=loss_type,
        record_every=record_every, init=init,
    )  # fmt: skip
    update = adam(lr)
    w = pairs.weight / pairs.weight.sum()
    records, policies, loss_history = [0], [np.exp(log_softmax(logits))], []
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked at every step, by name
        for step in range(1, steps + 1):
            loss, grad = _loss_and_grad(logits, ref_logps, pairs, w, beta, label_smoothing, loss_type)
            logits = update(logits, grad)
            spread = logits.max() - logits.min()  # inf when the logits ran off (log-softmax then NaNs)
            if not (np.isfinite(loss) and np.isfinite(spread)):
                raise ValueError(
                    f"training diverged at step {step} (non-finite logits) with lr={lr:g}: use a smaller lr"
                )
            loss_history.append(loss)
            if step % record_every == 0 or step == steps:
                records.append(step)
                policies.append(np.exp(log_softmax(logits)))
    return TrainingRun(np.array(records), np.array(policies), np.array(loss_history))


def total_variation(p, q):
    """½ Σ |p − q|: the largest difference in probability the two give any set of responses."""
    p, q = v.as_finite_array(p, "p"), v.as_finite_array(q, "q")
    try:
        return 0.5 * np.abs(p - q).sum(axis=-1)
    except ValueError:
        raise ValueError(f"p and q must have broadcastable shapes, got {p.shape} and {q.shape}") from None
