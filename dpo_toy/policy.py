r"""The KL-constrained optimal policy and the quantities around it.

Maximising :math:`\mathbb{E}_{y\sim\pi}[r(y)] - \beta\,\mathrm{KL}(\pi\,\|\,\pi_{ref})` over
distributions π has the closed-form solution

.. math:: \pi^*(y) = \frac{\pi_{ref}(y)\, e^{r(y)/\beta}}{Z(x)}, \qquad
          Z(x) = \sum_y \pi_{ref}(y)\, e^{r(y)/\beta}

(Rafailov et al. 2023, Eq. 4). Everything is computed in log space, so β from 1e-4 to 1e4
with rewards up to ±1e3 stays finite. Arrays are 1-D (one prompt, one entry per response) or
2-D (one row per prompt).
"""

from dataclasses import dataclass

import numpy as np

from . import _validation as v
from .stable import logsumexp


def _log(p):
    # log 0 = -inf is the right value for an impossible response; silence the warning only.
    with np.errstate(divide="ignore"):
        return np.log(p)


def _policy_inputs(pi_ref, rewards, beta):
    pi_ref = v.as_distribution(pi_ref, "pi_ref")
    rewards = v.as_finite_array(rewards, "rewards")
    v.check_same_shape(pi_ref, rewards, "pi_ref", "rewards")
    return pi_ref, rewards, v.check_beta(beta)


def _tilted_logits(pi_ref, rewards, beta):
    """log π_ref + (r − r_max)/β and the shift r_max/β, per row.

    Shifting by the best possible reward before dividing by β keeps the logits small even for
    β = 1e-4 and rewards of ±1e3, so a constant reward gives π* = π_ref to the last bit.
    Impossible responses (π_ref = 0) get -inf whatever their reward.
    """
    possible = pi_ref > 0
    top = np.max(np.where(possible, rewards, -np.inf), axis=-1, keepdims=True)
    logits = np.where(possible, _log(pi_ref) + (rewards - top) / beta, -np.inf)
    return logits, top / beta


def log_partition(pi_ref, rewards, beta):
    r"""log Z(x), the log of the normaliser of the optimal policy.

    Parameters
    ----------
    pi_ref, rewards, beta
        As in :func:`optimal_policy`.

    Returns
    -------
    float or ndarray of shape (n_prompts,)

    Notes
    -----
    .. math:: \log Z(x) = \log \sum_y \pi_{ref}(y|x)\, e^{r(x,y)/\beta}
    """
    pi_ref, rewards, beta = _policy_inputs(pi_ref, rewards, beta)
    logits, shift = _tilted_logits(pi_ref, rewards, beta)
    out = logsumexp(logits, axis=-1) + shift[..., 0]
    return float(out) if out.ndim == 0 else out


def log_optimal_policy(pi_ref, rewards, beta):
    r"""log π*(y|x); ``-inf`` where π_ref is 0. Same arguments as :func:`optimal_policy`."""
    pi_ref, rewards, beta = _policy_inputs(pi_ref, rewards, beta)
    logits, _ = _tilted_logits(pi_ref, rewards, beta)
    return logits - logsumexp(logits, axis=-1, keepdims=True)


def optimal_policy(pi_ref, rewards, beta):
    r"""The optimal policy π* of the KL-constrained reward maximisation.

    Parameters
    ----------
    pi_ref : array_like, shape (n_responses,) or (n_prompts, n_responses)
        Reference probabilities π_ref(y|x); each row sums to 1.
    rewards : array_like, same shape as ``pi_ref``
        Rewards r(x, y).
    beta : float
        KL strength β > 0: large β keeps π* near π_ref, small β chases the reward.

    Returns
    -------
    ndarray, same shape as ``pi_ref``
        π*(y|x). Entries where π_ref is 0 stay exactly 0.

    Notes
    -----
    .. math:: \pi^*(y|x) = \frac{1}{Z(x)}\,\pi_{ref}(y|x)\,\exp\!\big(r(x,y)/\beta\big)

    Rafailov et al. 2023, Eq. 4.
    """
    return np.exp(log_optimal_policy(pi_ref, rewards, beta))


def kl_divergence(p, q):
    r"""KL(p‖q) = Σ p log(p/q), with 0·log 0 = 0 and +inf where p > 0 but q = 0.

    Parameters
    ----------
    p, q : array_like, shape (n,) or (n_prompts, n)
        Probability distributions (rows sum to 1).

    Returns
    -------
    float or ndarray of shape (n_prompts,)
    """
    p = v.as_distribution(p, "p")
    q = v.as_distribution(q, "q")
    v.check_same_shape(p, q, "p", "q")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * (_log(p) - _log(q)), 0.0)
    # +inf where some p > 0 meets q = 0; KL >= 0, so rounding below zero (~1e-16) is clipped.
    out = np.maximum(np.sum(terms, axis=-1), 0.0)
    return float(out) if out.ndim == 0 else out


def expected_reward(pi, rewards):
    r"""E_{y∼π}[r(y)] = Σ π(y) r(y)."""
    pi = v.as_distribution(pi, "pi")
    rewards = v.as_finite_array(rewards, "rewards")
    v.check_same_shape(pi, rewards, "pi", "rewards")
    out = np.sum(pi * rewards, axis=-1)
    return float(out) if out.ndim == 0 else out


def kl_regularized_objective(pi, pi_ref, rewards, beta):
    r"""The objective π* maximises: E_π[r] − β·KL(π‖π_ref).

    Notes
    -----
    .. math:: J(\pi) = \mathbb{E}_{y\sim\pi}[r(x,y)] - \beta\,\mathrm{KL}(\pi\,\|\,\pi_{ref})

    Its maximum over π is β·log Z(x), attained at π* (Rafailov et al. 2023, Appendix A.1).
    """
    beta = v.check_beta(beta)
    pi_ref = v.as_distribution(pi_ref, "pi_ref")
    v.check_same_shape(v.as_distribution(pi, "pi"), pi_ref, "pi", "pi_ref")
    return expected_reward(pi, rewards) - beta * kl_divergence(pi, pi_ref)


def implied_reward(pi, pi_ref, beta):
    r"""The reward a policy implies: β·log(π/π_ref), i.e. r(x,y) − β·log Z(x) for π = π*.

    Parameters
    ----------
    pi, pi_ref : array_like, same shape
        The policy and the reference (rows sum to 1).
    beta : float
        KL strength β > 0.

    Returns
    -------
    ndarray, same shape as ``pi``
        ``-inf`` where π = 0 < π_ref, ``+inf`` where π_ref = 0 < π.

    Notes
    -----
    Rearranging the optimal policy gives
    :math:`r(x,y) = \beta\log\frac{\pi^*(y|x)}{\pi_{ref}(y|x)} + \beta\log Z(x)`
    (Rafailov et al. 2023, Eq. 5). This function returns the first term only: the β·log Z(x)
    term is the same for every response, so it cancels in any reward difference.
    """
    beta = v.check_beta(beta)
    pi = v.as_distribution(pi, "pi")
    pi_ref = v.as_distribution(pi_ref, "pi_ref")
    v.check_same_shape(pi, pi_ref, "pi", "pi_ref")
    both_zero = (pi == 0) & (pi_ref == 0)
    if both_zero.any():
        where = np.argwhere(both_zero)[0].tolist()
        raise ValueError(
            f"implied_reward is undefined where pi and pi_ref are both 0 (first at index {where}): "
            "any reward fits a response that neither policy can produce; drop that response"
        )
    return beta * (_log(pi) - _log(pi_ref))


def _fmt(x):
    """Fixed, stable formatting: 4 decimals in the ordinary range, scientific outside it."""
    if x == 0 or (1e-4 <= abs(x) < 1e6):
        return f"{x:.4f}"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.3e}"


def _fmt_exp(log_x):
    """exp(log_x), or e^{log_x} spelled out when it would overflow a float."""
    return _fmt(float(np.exp(log_x))) if log_x < 700 else f"e^{log_x:.1f}"


@dataclass(frozen=True)
class BoostRow:
    """One response's row of the boost-factor table."""

    response: str
    pi_ref: float
    reward: float
    log_boost: float  # r/β
    pi_star: float

    @property
    def boost(self):
        """exp(r/β); ``inf`` when it overflows a float (use ``log_boost`` then)."""
        with np.errstate(over="ignore"):
            return float(np.exp(self.log_boost))


@dataclass(frozen=True)
class BoostTable:
    r"""The boost-factor table for one prompt: π* = π_ref·boost / Z, boost = exp(r/β)."""

    beta: float
    rows: tuple
    log_partition: float

    @property
    def partition(self):
        """Z(x); ``inf`` when it overflows a float (use ``log_partition`` then)."""
        with np.errstate(over="ignore"):
            return float(np.exp(self.log_partition))

    def __repr__(self):
        return f"BoostTable(beta={self.beta:.4g}, {len(self.rows)} rows, log_partition={self.log_partition:.4f})"

    def _cells(self):
        header = ("response", "pi_ref", "reward", "boost exp(r/beta)", "pi_ref*boost", "pi*")
        body = [
            (
                r.response,
                _fmt(r.pi_ref),
                _fmt(r.reward),
                _fmt_exp(r.log_boost),
                _fmt_exp(np.log(r.pi_ref) + r.log_boost) if r.pi_ref > 0 else _fmt(0.0),
                _fmt(r.pi_star),
            )
            for r in self.rows
        ]
        footer = ("Z(x) = sum", "", "", "", _fmt_exp(self.log_partition), _fmt(sum(r.pi_star for r in self.rows)))
        return header, body, footer

    def __str__(self):
        header, body, footer = self._cells()
        lines = [header, *body, footer]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

        def row(cells):
            first = cells[0].ljust(widths[0])
            return "  ".join([first] + [c.rjust(w) for c, w in zip(cells[1:], widths[1:])])

        rule = "-" * len(row(header))
        return "\n".join([f"beta = {_fmt(self.beta)}", row(header), rule, *map(row, body), rule, row(footer)])

    def _repr_html_(self):
        from html import escape  # responses are text: "<every other string>" is not a tag

        header, body, footer = self._cells()
        th = "".join(f"<th>{escape(h)}</th>" for h in header)
        trs = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>" for cells in body)
        tf = "<tr>" + "".join(f"<td><b>{escape(c)}</b></td>" for c in footer) + "</tr>"
        return (
            f"<table><caption>&beta; = {_fmt(self.beta)}</caption>"
            f"<thead><tr>{th}</tr></thead><tbody>{trs}{tf}</tbody></table>"
        )


def boost_table(responses, pi_ref, rewards, beta):
    r"""The boost-factor table: how exp(r/β) reshapes π_ref into π*.

    Parameters
    ----------
    responses : sequence of str, length n
        The responses' texts (row labels).
    pi_ref, rewards : array_like, shape (n,)
        Reference probabilities (summing to 1) and rewards for one prompt.
    beta : float
        KL strength β > 0.

    Returns
    -------
    BoostTable
        ``rows`` (one :class:`BoostRow` per response), ``log_partition`` (log Z(x)) and ``beta``.
        ``print(table)`` shows it with fixed precision; in a notebook it renders as HTML.

    Notes
    -----
    .. math:: \text{boost}(y) = e^{r(y)/\beta},\quad
              \pi^*(y) = \frac{\pi_{ref}(y)\,\text{boost}(y)}{\sum_{y'} \pi_{ref}(y')\,\text{boost}(y')}
    """
    responses = tuple(responses)
    if not all(isinstance(r, str) for r in responses):
        raise TypeError("responses must be a sequence of strings (the response texts)")
    pi_ref, rewards, beta = _policy_inputs(pi_ref, rewards, beta)
    if pi_ref.ndim != 1:
        raise ValueError(f"boost_table is for one prompt: pi_ref must be 1-D, got shape {pi_ref.shape}")
    if len(responses) != pi_ref.shape[0]:
        raise ValueError(
            f"responses has {len(responses)} entries but pi_ref has {pi_ref.shape[0]}; give one text per response"
        )
    log_pi = log_optimal_policy(pi_ref, rewards, beta)
    log_z = log_partition(pi_ref, rewards, beta)
    rows = tuple(
        BoostRow(
            response=text,
            pi_ref=float(p),
            reward=float(r),
            log_boost=float(r / beta),
            pi_star=float(np.exp(lp)),
        )
        for text, p, r, lp in zip(responses, pi_ref, rewards, log_pi)
    )
    return BoostTable(beta=beta, rows=rows, log_partition=log_z)


def reward_kl_frontier(pi_ref, rewards, betas):
    r"""The exact reward–KL frontier: (KL(π*_β‖π_ref), E_{π*_β}[r]) for each β in ``betas``.

    No policy reaches a higher expected reward at the same KL from the reference: each point
    is the optimum of the KL-constrained problem for its β (β is the slope's inverse there).

    Parameters
    ----------
    pi_ref, rewards : array_like, shape (n,)
        One prompt.
    betas : array_like, shape (m,)
        Positive KL strengths.

    Returns
    -------
    kl, reward : ndarray, shape (m,) each
    """
    betas = v.as_finite_array(betas, "betas")
    if betas.ndim != 1 or (betas <= 0).any():
        raise ValueError("betas must be a 1-D array of positive numbers")
    pi_ref, rewards, _ = _policy_inputs(pi_ref, rewards, 1.0)
    if pi_ref.ndim != 1:
        raise ValueError(f"reward_kl_frontier is for one prompt: pi_ref must be 1-D, got shape {pi_ref.shape}")
    policies = [optimal_policy(pi_ref, rewards, beta) for beta in betas]
    kl = np.array([kl_divergence(pi, pi_ref) for pi in policies])
    return kl, np.array([pi @ rewards for pi in policies])
