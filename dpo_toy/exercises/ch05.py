"""Chapter 5, the Z(x) cancellation: the implied reward margin and the DPO loss."""

import numpy as np

from .. import losses, policy, stable, toy
from ._cases import distribution, dpo_cases
from ._engine import Case, Exercise, Mistake
from ._kinds import Choice, Derivation, Prediction

_rng = np.random.default_rng([11, 5])  # this chapter's inputs; other chapters draw from their own

_DPO_CASES = dpo_cases(_rng)
_NAMES = (*losses.LOGPS_NAMES, "beta")


def _margins(pc, pr, rc, rr, beta):
    return losses.dpo_rewards(pc, pr, rc, rr, beta).margins


def _margin_backwards(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
    """Parameters in the right order, the difference taken rejected minus chosen."""
    return -_margins(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)


def _naive_log_sigmoid(x):
    return np.log(1 / (1 + np.exp(-x)))


_FORMS = (_naive_log_sigmoid, stable.log_sigmoid)  # naive (overflows at gaps of 1e3) and stable


def _dpo_with(log_sig, sign_inside=1.0, sign_outside=-1.0, scale=True, use_ref=True, reduce=np.mean):
    """A learner-style DPO loss with a chosen slip; parameters named as in the exercise."""

    def loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
        ref_c, ref_r = (ref_chosen_logps, ref_rejected_logps) if use_ref else (0.0, 0.0)
        h = (policy_chosen_logps - ref_c) - (policy_rejected_logps - ref_r)
        return reduce(sign_outside * log_sig(sign_inside * (beta if scale else 1.0) * h))

    return loss


def _sign_inside_sigma(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
    """Parameters in the right order, σ's argument backwards."""
    return losses.dpo_loss(policy_rejected_logps, policy_chosen_logps, ref_rejected_logps, ref_chosen_logps, beta)


EXERCISES = (
    Exercise(
        "5.1",
        "implied_reward_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)",
        _margins,
        _DPO_CASES,
        (
            Mistake(
                "forgot beta",
                "you forgot beta: the implied reward is beta * log(pi / pi_ref)",
                lambda pc, pr, rc, rr, b: _margins(pc, pr, rc, rr, 1.0),
                examples=(lambda pc, pr, rc, rr, b: (pc - rc) - (pr - rr),),
            ),
            Mistake(
                "sign",
                "the margin is chosen minus rejected: beta * (log-ratio of y_w - log-ratio of y_l)",
                _margin_backwards,
                examples=(
                    lambda policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta: (
                        beta * ((policy_rejected_logps - ref_rejected_logps) - (policy_chosen_logps - ref_chosen_logps))
                    ),
                ),
                params=_NAMES,
            ),
            Mistake(
                "swapped",
                "chosen and rejected are swapped (in your parameters or in the formula): the margin is chosen "
                "minus rejected",
                lambda pc, pr, rc, rr, b: _margins(pr, pc, rr, rc, b),
                examples=(lambda pr, pc, rr, rc, b: b * ((pc - rc) - (pr - rr)),),
            ),
            Mistake(
                "forgot the reference",
                "you left out the reference: the implied reward is beta * (log pi - log pi_ref)",
                lambda pc, pr, rc, rr, b: _margins(pc, pr, 0 * rc, 0 * rr, b),
                examples=(lambda pc, pr, rc, rr, b: b * (pc - pr),),
            ),
        ),
        arg_names=_NAMES,
        title="the implied reward margin",
        difficulty=1,
    ),
    Exercise(
        "5.2",
        "dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)",
        losses.dpo_loss,
        _DPO_CASES,
        (
            Mistake(
                "forgot beta",
                "you forgot beta: the loss is -log sigma(beta * (log-ratio of y_w - log-ratio of y_l))",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, rc, rr, 1.0),
                examples=tuple(_dpo_with(f, scale=False) for f in _FORMS),
            ),
            Mistake(
                "forgot the leading minus",
                "you forgot the leading minus: the loss is -log sigma(...), which is never negative",
                lambda *a: -losses.dpo_loss(*a),
                examples=tuple(_dpo_with(f, sign_outside=1.0) for f in _FORMS),
            ),
            Mistake(
                "sign inside sigma",
                "the sign inside sigma is flipped: it is beta * (log-ratio of y_w - log-ratio of y_l), chosen first",
                _sign_inside_sigma,
                examples=tuple(_dpo_with(f, sign_inside=-1.0) for f in _FORMS),
                params=_NAMES,
            ),
            Mistake(
                "swapped",
                "chosen and rejected are swapped (in your parameters or in the formula): the winner's "
                "log-ratio comes first",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pr, pc, rr, rc, b),
                examples=(lambda pr, pc, rr, rc, b: -np.mean(stable.log_sigmoid(b * ((pc - rc) - (pr - rr)))),),
            ),
            Mistake(
                "probabilities",
                "you used probabilities; the formula takes log-probabilities (log pi, not pi)",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(np.exp(pc), np.exp(pr), np.exp(rc), np.exp(rr), b),
                examples=(
                    lambda pc, pr, rc, rr, b: _dpo_with(stable.log_sigmoid)(
                        np.exp(pc), np.exp(pr), np.exp(rc), np.exp(rr), b
                    ),
                ),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean over pairs",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, rc, rr, b, reduction="sum"),
                examples=tuple(_dpo_with(f, reduce=np.sum) for f in _FORMS),
            ),
            Mistake(
                "forgot the reference",
                "you left out the reference model: use log pi_theta - log pi_ref for each response",
                lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, 0 * rc, 0 * rr, b),
                examples=tuple(_dpo_with(f, use_ref=False) for f in _FORMS),
            ),
        ),
        "np.log(sigmoid(z)) is log(0) = -inf for z = -1000. Use -np.logaddexp(0, -z) for -log sigma(z)",
        arg_names=_NAMES,
        title="the DPO loss",
        difficulty=2,
    ),
)


# --- questions placed inline in the chapter ----------------------------------------------------------


def _reward_cases():
    """(π*, π_ref, β, log Z(x)) built from random rewards: the reward solved for must be those rewards."""
    out = []
    cases = (("France, beta=0.5", 4, 0.5), ("5 responses, beta=0.1", 5, 0.1), ("7 responses, beta=3", 7, 3.0))
    for label, n, beta in cases:
        if n == 4:
            france = toy.capital_of_france()
            pi_ref, rewards = france.pi_ref, france.rewards
        else:
            pi_ref, rewards = distribution(_rng, n), _rng.normal(size=n) * 2
        pi_star = policy.optimal_policy(pi_ref, rewards, beta)
        out.append(Case(label, (pi_star, pi_ref, beta, policy.log_partition(pi_ref, rewards, beta))))
    return tuple(out)


def reward_from_policy(pi_star, pi_ref, beta, log_z):
    """r = β·log(π*/π_ref) + β·log Z(x): the reward read back from the optimal policy."""
    return policy.implied_reward(pi_star, pi_ref, beta) + beta * log_z


def _bucket_margin_change():
    """Option key for what raising the bucket's reward (−1 → 2) does to the implied margin Paris-answers."""
    margins = []
    for other in (-1.0, 2.0):
        t = toy.capital_of_france(other_reward=other)
        implied = policy.implied_reward(policy.optimal_policy(t.pi_ref, t.rewards, 0.5), t.pi_ref, 0.5)
        margins.append(implied[0] - implied[1])
    change = margins[1] - margins[0]
    return "b" if abs(change) < 1e-9 else ("a" if change > 0 else "c")


def _log_z_of_shifted_implied_reward(beta=0.5, shift=1.0):
    """log Z(x) for the reward β·log(π/π_ref) + shift, for a random policy π (the truth of 5.d2)."""
    france = toy.capital_of_france()
    pi = distribution(_rng, len(france))
    reward = policy.implied_reward(pi, france.pi_ref, beta) + shift
    return float(policy.log_partition(france.pi_ref, reward, beta))


FIGURE_BETAS = (0.25, 0.5, 1.0, 2.0)  # the β values of the chapter's Z-cancellation figure


def _beta_with_largest_shift():
    france = toy.capital_of_france()
    shifts = [b * policy.log_partition(france.pi_ref, france.rewards, b) for b in FIGURE_BETAS]
    return FIGURE_BETAS[int(np.argmax(shifts))]


QUESTIONS = (
    Derivation(
        "5.d1",
        "reward(pi_star, pi_ref, beta, log_z): r solved from π* = π_ref·exp(r/β)/Z",
        reward_from_policy,
        _reward_cases,
        (
            Mistake(
                "forgot beta log Z",
                "you returned the implied reward alone; solving for r leaves + β·log Z(x) on the right",
                lambda p, q, b, z: policy.implied_reward(p, q, b),
            ),
            Mistake(
                "log Z without beta",
                "multiply the whole log equation by β: r = β·log(π*/π_ref) + β·log Z",
                lambda p, q, b, z: policy.implied_reward(p, q, b) + z,
            ),
            Mistake(
                "divided by beta",
                "log π* = log π_ref + r/β − log Z, so r = β·(...): multiply by β, do not divide",
                lambda p, q, b, z: (np.log(p) - np.log(q) + z) / b,
            ),
            Mistake(
                "minus log Z",
                "the sign of log Z: log π* = log π_ref + r/β − log Z, so log Z moves over with a plus",
                lambda p, q, b, z: policy.implied_reward(p, q, b) - b * z,
            ),
        ),
        arg_names=("pi_star", "pi_ref", "beta", "log_z"),
        title="the reward read back from π*",
        difficulty=1,
    ),
    Prediction(
        "5.p1",
        "what a larger Z(x) does to the implied margin between the two Paris answers",
        truth=_bucket_margin_change,
        options={
            "a": "it grows, by the change in β·log Z(x)",
            "b": "it stays the same (0.5, the true margin)",
            "c": "it shrinks, by the change in β·log Z(x)",
        },
        why={
            "a": "β·log Z(x) shifts the implied reward of every response by the same amount, so a "
            "difference of two implied rewards loses it",
            "c": "β·log Z(x) is the same for every response of the prompt: it cancels in r̂(a) − r̂(b)",
        },
        explain="r̂(a) − r̂(b) = (r(a) − β log Z) − (r(b) − β log Z) = r(a) − r(b): Z(x) cancels.",
    ),
    Derivation(
        "5.d2",
        "log Z(x) for the reward β·log(π/π_ref) + 1 at β = 0.5",
        _log_z_of_shifted_implied_reward,
        (),
        (
            Mistake(
                "forgot the shift", "log Z = 0 for r_π itself; the + 1 multiplies every term by e^{1/β}", lambda: 0.0
            ),
            Mistake(
                "Z, not log Z", "that is Z(x) = e^{1/β}; the question asks for log Z(x) = 1/β", lambda: np.exp(2.0)
            ),
            Mistake("times beta", "exp(r/β) divides the shift by β: log Z = 1/β = 2, not β·1", lambda: 0.5),
            Mistake("shift alone", "the shift enters through exp(r/β), so log Z = shift/β = 1/0.5", lambda: 1.0),
        ),
        rtol=1e-3,
        atol=1e-6,
        title="log Z(x) of an implied reward plus a shift",
        difficulty=2,
    ),
    Choice(
        "5.r1",
        "the Z-cancellation figure: which β shifts the implied rewards down the most",
        options={
            "a": f"β = {min(FIGURE_BETAS)}, and every preference probability stays the same",
            "b": f"β = {max(FIGURE_BETAS)}, and every preference probability stays the same",
            "c": f"β = {min(FIGURE_BETAS)}, and the best answer is preferred more strongly than with the true rewards",
            "d": "all four β shift them by the same amount",
        },
        answer="a" if _beta_with_largest_shift() == min(FIGURE_BETAS) else "b",
        why={
            "b": "β·log Z(x) is a soft maximum of the rewards at temperature β: it approaches max r as β → 0 "
            "and the π_ref-average of r as β grows, so the largest β shifts the least",
            "c": "the shift is the same for every response at a given β, so every difference, and every "
            "σ(difference), is unchanged (right panel)",
            "d": "the shift is β·log Z(x), and Z(x) depends on β: the left panel shows four different offsets",
        },
        names={"b": "shift grows with beta", "c": "shift changes preferences", "d": "same shift"},
        explain="The shift β·log Z(x) falls as β grows, but it is one number per prompt: differences ignore it.",
    ),
)
