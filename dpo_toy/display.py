r"""Small display helpers: the numbers a chapter prints, computed and formatted outside the notebook.

Each chapter's helpers sit under a ``# --- chapter N ---`` header. They compute with the library
and return plain data or text, so that a notebook's code cell shows the idea, not the printing.
"""

from dataclasses import dataclass

import numpy as np

from . import policy

# --- chapter 1 ---


@dataclass(frozen=True)
class BetaEffect:
    r"""What one β does to the optimal policy of one prompt.

    Attributes
    ----------
    beta : float
    kl : float
        KL(π*‖π_ref) in nats.
    expected_reward : float
        E_{π*}[r].
    top_probability : float
        π* of the highest-reward response.
    moved : float
        Total variation ½·Σ|π* − π_ref|: the share of probability that changed hands.
    doubling_gap : float
        The reward gap that doubles the odds π*(a)/π*(b) relative to π_ref's, β·ln 2.
    margin_73 : float
        The log-ratio margin, in nats, at which DPO's σ(β·margin) reaches σ(1) ≈ 0.73: 1/β.
    """

    beta: float
    kl: float
    expected_reward: float
    top_probability: float
    moved: float
    doubling_gap: float
    margin_73: float


def beta_effects(pi_ref, rewards, betas):
    """One :class:`BetaEffect` per β in ``betas`` for the prompt (``pi_ref``, ``rewards``)."""
    rewards = np.asarray(rewards, dtype=float)
    best = int(np.argmax(rewards))
    out = []
    for beta in betas:
        pi_star = policy.optimal_policy(pi_ref, rewards, beta)
        out.append(
            BetaEffect(
                beta=float(beta),
                kl=float(policy.kl_divergence(pi_star, pi_ref)),
                expected_reward=float(policy.expected_reward(pi_star, rewards)),
                top_probability=float(pi_star[best]),
                moved=float(0.5 * np.abs(pi_star - np.asarray(pi_ref)).sum()),
                doubling_gap=float(beta * np.log(2.0)),
                margin_73=float(1.0 / beta),
            )
        )
    return out


def beta_effects_table(effects):
    """The :func:`beta_effects` rows as a fixed-precision text table (one line per β)."""
    header = (
        f"{'beta':>6s} {'KL (nats)':>10s} {'E[r]':>7s} {'pi*(best)':>10s} {'moved':>7s} "
        f"{'gap x2 odds':>12s} {'margin for 73%':>15s}"
    )
    lines = [header]
    for e in effects:
        lines.append(
            f"{e.beta:6.2f} {e.kl:10.4f} {e.expected_reward:7.4f} {e.top_probability:10.4f} {e.moved:7.4f} "
            f"{e.doubling_gap:12.4f} {e.margin_73:11.1f} nats"
        )
    return "\n".join(lines)
