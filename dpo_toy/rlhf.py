r"""RLHF on the toy, the way it is done at scale: a reward model, then reinforcement learning.

Stage 1 fits a reward model to the preference pairs (Bradley–Terry over the responses, chapter 3's
fitter; chapter 4's loss). Stage 2 maximises the KL-regularised objective
J(π) = E_π[r̂] − β·KL(π‖π_ref) by policy gradient with real sampling: draw responses from the
current policy, score each with r̂(y) − β·log(π(y)/π_ref(y)), and move the logits along
(score − baseline)·∇log π(y), optionally with PPO's clipped ratio. DPO
(:func:`dpo_toy.training.train_tabular_dpo`) reaches the same optimum from the same pairs with neither stage.
"""

from dataclasses import dataclass

import numpy as np

from . import _validation as v
from . import bradley_terry
from ._numerics import adam as _adam
from ._numerics import log_softmax as _log_softmax
from ._runcache import reused_within_run


def fit_reward_model(pairs, n_responses, l2=1e-3):
    """Stage 1: a reward per response from preference pairs, by Bradley–Terry (mean 0).

    The rewards are identified up to a constant only (chapter 5), which is all the policy needs.
    With few pairs the L2 prior keeps responses that never won or never lost finite.
    """
    n_responses = v.check_int(n_responses, "n_responses", minimum=2)
    _, _, weight = v.check_pairs(pairs, n_responses)
    if not np.allclose(weight, np.round(weight)):
        raise ValueError("pairs.weight must be whole counts of comparisons to fit a reward model")
    chosen = np.repeat(pairs.chosen, np.round(weight).astype(int))
    rejected = np.repeat(pairs.rejected, np.round(weight).astype(int))
    fit = bradley_terry.fit(chosen, rejected, np.ones(chosen.size), n_responses, l2=l2, check=False)
    return fit.strengths


def policy_gradient(logits, ref_logps, rewards, samples, beta, *, baseline=True):
    r"""One REINFORCE estimate of ∇_logits J, J = E_π[r] − β·KL(π‖π_ref), from sampled responses.

    Each sample y gets the KL-penalised score R(y) = r(y) − β·(log π(y) − log π_ref(y)); the
    estimate is the mean of (R(y) − b)·(e_y − π) with b the batch's mean score (a baseline, which
    lowers the variance and keeps the estimate unbiased up to O(1/batch)).
    """
    beta = v.check_beta(beta)
    logits = v.as_finite_array(logits, "logits")
    ref_logps, rewards = v.as_real_array(ref_logps, "ref_logps"), v.as_finite_array(rewards, "rewards")
    samples = np.asarray(samples)
    if logits.ndim != 1 or ref_logps.shape != logits.shape or rewards.shape != logits.shape:
        raise ValueError(f"logits, ref_logps and rewards must be 1-D of one shape; got {logits.shape}, "
                         f"{ref_logps.shape}, {rewards.shape}")  # fmt: skip
    if (
        samples.ndim != 1
        or samples.size == 0
        or samples.dtype.kind not in "iu"
        or not (0 <= samples.min() and samples.max() < logits.size)
    ):
        raise ValueError(f"samples must be a non-empty 1-D array of response indices in [0, {logits.size})")
    return _policy_gradient(logits, ref_logps, rewards, samples, beta, baseline)


def _policy_gradient(logits, ref_logps, rewards, samples, beta, baseline=True):
    # policy_gradient without the checks: train_rl validates once and calls this every step.
    logps = _log_softmax(logits)
    pi = np.exp(logps)
    score = rewards[samples] - beta * (logps[samples] - ref_logps[samples])
    advantage = score - score.mean() if baseline else score
    n = logits.size
    return (np.bincount(samples, advantage, n) - advantage.sum() * pi) / samples.size


@dataclass(frozen=True)
class RLRun:
    """A policy-gradient run: π_θ at recorded steps, and the sampled KL-penalised score per step."""

    steps: np.ndarray
    policies: np.ndarray  # (n_records, n_responses)
    scores: np.ndarray  # (n_steps,) mean sampled R(y), the noisy objective RL climbs
    samples_drawn: int

    @property
    def final(self):
        return self.policies[-1]


@reused_within_run(reseeds_torch=False)
def train_rl(pi_ref, rewards, beta, *, steps=1000, batch=64, lr=0.05, seed=0, clip=None, epochs=1, record_every=10):
    """Stage 2: maximise E_π[r] − β·KL(π‖π_ref) by sampling, from π_ref; Adam on the logits.

    Parameters
    ----------
    pi_ref : array_like (n,)
        The reference policy (and the start).
    rewards : array_like (n,)
        The reward model's scores r̂ (or the true rewards, for an oracle).
    beta : float
        KL strength β > 0.
    steps, batch, lr, seed
        Sampling rounds, responses sampled per round, Adam's step size, the seed.
    clip : float, optional
        PPO-style: reuse each batch for ``epochs`` updates, with the importance ratio
        π_θ(y)/π_old(y) clipped to [1 − clip, 1 + clip] where that would over-reward a sample.
    epochs : int
        Updates per sampled batch (only with ``clip``).
    """
    beta = v.check_beta(beta)
    pi_ref = v.as_distribution(pi_ref, "pi_ref")
    rewards = v.as_finite_array(rewards, "rewards")
    if pi_ref.ndim != 1 or pi_ref.shape != rewards.shape or np.any(pi_ref <= 0):
        raise ValueError("pi_ref must be 1-D, positive, and have one entry per reward")
    steps, batch = v.check_int(steps, "steps", minimum=1), v.check_int(batch, "batch", minimum=1)
    lr = v.check_positive(lr, "lr")
    epochs, record_every = (
        v.check_int(epochs, "epochs", minimum=1),
        v.check_int(record_every, "record_every", minimum=1),
    )
    if clip is not None:
        clip = v.check_real(clip, "clip", low=0.0, high=1.0, low_open=True, high_open=True)
    rng = np.random.default_rng(seed)
    ref_logps = np.log(pi_ref)
    logits = ref_logps.copy()
    update = _adam(lr)
    records, policies, scores = [0], [pi_ref.copy()], []
    for step in range(1, int(steps) + 1):
        old_logps = _log_softmax(logits)
        samples = rng.choice(logits.size, size=int(batch), p=np.exp(old_logps))
        score = rewards[samples] - beta * (old_logps[samples] - ref_logps[samples])
        scores.append(score.mean())
        if clip is None:
            logits = update(logits, -_policy_gradient(logits, ref_logps, rewards, samples, beta))
        else:
            advantage = score - score.mean()
            for _ in range(int(epochs)):
                logits = update(logits, -_clipped_gradient(logits, old_logps, samples, advantage, clip))
        if step % record_every == 0 or step == steps:
            records.append(step)
            policies.append(np.exp(_log_softmax(logits)))
    return RLRun(np.array(records), np.array(policies), np.array(scores), int(steps) * int(batch))


def _clipped_gradient(logits, old_logps, samples, advantage, clip):
    """∇ of PPO's clipped surrogate mean(min(ρ·A, clip(ρ)·A)), ρ = π_θ(y)/π_old(y)."""
    logps = _log_softmax(logits)
    ratio = np.exp(logps[samples] - old_logps[samples])
    clipped = ((advantage > 0) & (ratio > 1 + clip)) | ((advantage < 0) & (ratio < 1 - clip))
    weight = np.where(clipped, 0.0, ratio * advantage)  # the clipped branch is flat: no gradient
    n = logits.size
    return (np.bincount(samples, weight, n) - weight.sum() * np.exp(logps)) / samples.size


def ppo_clipped_objective(ratio, advantage, clip):
    r"""PPO's clipped surrogate objective, averaged over samples (to be maximised).

    Parameters
    ----------
    ratio : array_like (n,)
        The importance ratios ρ = π_θ(y)/π_old(y) of the sampled responses (> 0).
    advantage : array_like (n,)
        Their advantages A (score minus baseline).
    clip : float
        ε in (0, 1): ρ is clipped to [1 − ε, 1 + ε].

    Returns
    -------
    float

    Notes
    -----
    .. math:: L^{CLIP} = \mathbb{E}\big[\min\big(\rho A,\ \mathrm{clip}(\rho, 1-\epsilon, 1+\epsilon)\,A\big)\big]

    The min is a pessimistic bound: a ratio that has already moved past 1 ± ε in the direction
    the advantage favours earns nothing more (Schulman et al. 2017, Eq. 7). Its gradient in the
    logits is what :func:`train_rl` follows with ``clip``.
    """
    ratio = v.as_finite_array(ratio, "ratio")
    advantage = v.as_finite_array(advantage, "advantage")
    if ratio.ndim != 1 or ratio.shape != advantage.shape:
        raise ValueError(
            f"ratio and advantage must be 1-D with one entry per sample, got shapes {ratio.shape} and {advantage.shape}"
        )
    if np.any(ratio <= 0):
        raise ValueError("ratio must be > 0: it is pi_theta(y) / pi_old(y)")
    clip = v.check_real(clip, "clip", low=0.0, high=1.0, low_open=True, high_open=True)
    clipped = np.clip(ratio, 1 - clip, 1 + clip)
    return float(np.mean(np.minimum(ratio * advantage, clipped * advantage)))


def frontier_gap(pi, pi_ref, rewards):
    r"""How far below the exact reward–KL frontier a policy sits (in reward units, ≥ 0).

    The frontier's expected reward at the policy's own KL from π_ref, minus the policy's expected
    reward. The frontier point with that KL is π*_β for the β at which KL(π*_β‖π_ref) equals it,
    found by bisection on log β (the KL falls as β grows).

    Parameters
    ----------
    pi, pi_ref : array_like (n,)
        The policy and the reference (both probability vectors, π_ref > 0).
    rewards : array_like (n,)
        The rewards whose frontier is meant (the true rewards, to judge a trained policy).

    Returns
    -------
    float
    """
    from .policy import kl_divergence, optimal_policy

    pi, pi_ref, rewards = (v.as_finite_array(x, n) for x, n in ((pi, "pi"), (pi_ref, "pi_ref"), (rewards, "rewards")))
    if not (pi.ndim == 1 and pi.shape == pi_ref.shape == rewards.shape):
        shapes = f"{pi.shape}, {pi_ref.shape}, {rewards.shape}"
        raise ValueError(f"pi, pi_ref and rewards must be 1-D of one length, got {shapes}")
    kl = kl_divergence(pi, pi_ref)
    lo, hi = np.log(1e-6), np.log(1e8)  # β range; outside it the frontier is flat to ~1e-6 reward units
    ref_logps = np.log(pi_ref)

    def kl_at(log_beta):  # KL(π*_β‖π_ref), inlined: the bisection calls it ~60 times
        logps = _log_softmax(ref_logps + rewards / np.exp(log_beta))
        return float(np.exp(logps) @ (logps - ref_logps))

    if kl >= kl_at(lo):
        hi = lo
    elif kl <= kl_at(hi):
        lo = hi
    for _ in range(60):  # 2**-60 of the log-β range: far below float precision in the reward
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if kl_at(mid) > kl else (lo, mid)
    return float(optimal_policy(pi_ref, rewards, np.exp(0.5 * (lo + hi))) @ rewards - pi @ rewards)
