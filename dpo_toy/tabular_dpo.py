r"""What DPO training does to a tabular policy: the parameter gradient, the optimum, and the data.

Chapter 6 uses these to look past the loss itself: the gradient with respect to the logits written
as the paper's Eq. 7, whether sampled pairs have a finite optimum at all, how much probability sits
on responses the data never mention, and where the pairs come from (uniformly, from π_ref, or from
the policy being trained: iterative "online" DPO).
"""

import warnings

import numpy as np

from . import training
from ._games import count_pairs
from ._schedule import check_counts
from ._validation import as_finite_array, check_beta
from .stable import log_softmax, sigmoid


def eq7_gradient(logits, ref_logps, chosen, rejected, beta):
    r"""The mean DPO loss's gradient with respect to the logits, built term by term as in Eq. 7.

    Parameters
    ----------
    logits : array_like, shape (n_responses,)
        θ, with π_θ = softmax(θ).
    ref_logps : array_like, shape (n_responses,)
        log π_ref.
    chosen, rejected : array_like of int, shape (n_pairs,)
        y_w and y_l of each pair.
    beta : float
        β > 0.

    Returns
    -------
    weight : ndarray, shape (n_pairs,)
        σ(r̂_l − r̂_w), with r̂ = β·log(π_θ/π_ref): how wrong the implied rewards rank each pair.
    grad_log_pi_w, grad_log_pi_l : ndarray, shape (n_pairs, n_responses)
        ∇_θ log π_θ(y) = e_y − π_θ for the chosen and the rejected response of each pair.
    grad : ndarray, shape (n_responses,)
        −(β/n) Σ weight·(∇log π(y_w) − ∇log π(y_l)).

    Notes
    -----
    Rafailov et al. 2023, Eq. 7 (for the mean over n pairs):

    .. math::
        \nabla_\theta \mathcal{L}_{DPO} = -\frac{\beta}{n}\sum_k
        \sigma(\hat r_\theta(y_l) - \hat r_\theta(y_w))
        \big[\nabla_\theta \log\pi_\theta(y_w) - \nabla_\theta \log\pi_\theta(y_l)\big]
    """
    logits = as_finite_array(logits, "logits")
    ref_logps = as_finite_array(ref_logps, "ref_logps")
    beta = check_beta(beta)
    chosen, rejected = _indices(chosen, "chosen", logits.size), _indices(rejected, "rejected", logits.size)
    if ref_logps.shape != logits.shape or chosen.shape != rejected.shape:
        raise ValueError("logits and ref_logps must have one shape, and chosen and rejected another")
    log_pi = log_softmax(logits)
    reward = beta * (log_pi - ref_logps)  # implied rewards r̂, (n_responses,)
    weight = sigmoid(reward[rejected] - reward[chosen])  # (n_pairs,)
    identity, pi = np.eye(logits.size), np.exp(log_pi)
    grad_log_pi_w = identity[chosen] - pi  # (n_pairs, n_responses)
    grad_log_pi_l = identity[rejected] - pi
    grad = -beta / chosen.size * (weight[:, None] * (grad_log_pi_w - grad_log_pi_l)).sum(axis=0)
    return weight, grad_log_pi_w, grad_log_pi_l, grad


def _indices(x, name, n):
    x = np.asarray(x)
    if x.ndim != 1 or x.size == 0 or not np.issubdtype(x.dtype, np.integer) or x.min() < 0 or x.max() >= n:
        raise ValueError(f"{name} must be a non-empty 1-d array of response indices in [0, {n}), got {x!r}")
    return x


def unseen_mass(pairs, policies):
    """The probability each policy puts on the responses that appear in no pair of ``pairs``."""
    policies = np.asarray(policies, float)
    seen = np.zeros(policies.shape[-1], dtype=bool)
    seen[np.asarray(pairs.chosen)] = True
    seen[np.asarray(pairs.rejected)] = True
    return policies[..., ~seen].sum(axis=-1)


def optimum_problems(pairs, n_responses, names=None):
    """Why the DPO loss on ``pairs`` has no finite minimiser (an empty list when it has one).

    For a tabular policy the loss depends on the implied rewards only, and is a Bradley–Terry
    likelihood in them, so its minimiser is finite exactly when the Bradley–Terry one is: every
    response in the data must have lost at least once to, and beaten at least once, some response
    in every other group (the "who beat whom" graph is strongly connected; Ford 1957). Responses
    absent from the data are not a problem: the loss ignores them.
    """
    chosen, rejected = np.asarray(pairs.chosen), np.asarray(pairs.rejected)
    counts = count_pairs(chosen, rejected, np.ones(chosen.size), n_responses)
    return [m for m in check_counts(counts, names) if "played no games" not in m]


def sample_pairs_from(toy, policy, n_pairs, seed=0):
    """``n_pairs`` pairs of distinct responses drawn from ``policy``, labelled by Bradley–Terry.

    The first response is drawn from ``policy``, the second from ``policy`` restricted to the
    other responses: what sampling two different answers from a model gives. Labels as in
    :func:`dpo_toy.training.sample_pairs`: y_a wins with probability σ(r_a − r_b).
    """
    policy = as_finite_array(policy, "policy")
    if policy.shape != (len(toy),) or (policy < 0).any() or not np.isclose(policy.sum(), 1.0):
        raise ValueError(f"policy must be a probability vector over the {len(toy)} responses")
    if int(n_pairs) < 1:
        raise ValueError(f"n_pairs must be >= 1, got {n_pairs}")
    if np.count_nonzero(policy) < 2:
        raise ValueError("policy must put mass on at least two responses to draw distinct pairs")
    rng = np.random.default_rng(seed)
    a = rng.choice(len(toy), size=n_pairs, p=policy)
    b = np.empty_like(a)
    for k, first in enumerate(a):
        rest = policy.copy()
        rest[first] = 0.0
        b[k] = rng.choice(len(toy), p=rest / rest.sum())
    a_wins = rng.random(n_pairs) < sigmoid(toy.rewards[a] - toy.rewards[b])
    return training.PreferencePairs(np.where(a_wins, a, b), np.where(a_wins, b, a), np.ones(n_pairs))


def iterative_dpo(toy, beta, rounds, pairs_per_round, *, steps=300, lr=0.1, seed=0):
    """Online (iterative) DPO: each round samples pairs from the current policy and retrains.

    Round k draws ``pairs_per_round`` pairs from π_θ (round 1: from π_ref), labels them by
    Bradley–Terry over the true rewards, adds them to the data and continues training from the
    current logits (``steps`` Adam steps on all data so far; the reference stays π_ref).

    Returns
    -------
    policies : ndarray, shape (rounds + 1, n_responses)
        π_θ at the start and after each round.
    data : PreferencePairs
        Every pair collected.
    """
    beta = check_beta(beta)
    if int(rounds) < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    logits = np.log(toy.pi_ref)
    policies = [toy.pi_ref.copy()]
    chosen, rejected = np.empty(0, int), np.empty(0, int)
    for k in range(int(rounds)):
        new = sample_pairs_from(toy, policies[-1], pairs_per_round, seed=[seed, k])
        chosen, rejected = np.r_[chosen, new.chosen], np.r_[rejected, new.rejected]
        data = training.PreferencePairs(chosen, rejected, np.ones(chosen.size))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            run = training.train_tabular_dpo(
                toy, data.merged(), beta, steps=steps, lr=lr, record_every=steps, init=logits
            )
        policies.append(run.final)
        logits = np.log(run.final)
    return np.array(policies), data
