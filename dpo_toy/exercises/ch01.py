"""Chapter 1, the KL-constrained optimal policy: π*, KL, and one question of each new kind."""

import numpy as np

from .. import policy, stable
from ._cases import LOG_SPACE_HINT, distribution, france_args, policy_cases
from ._compare import proportional
from ._engine import Case, Exercise, Mistake
from ._kinds import Choice, Derivation, Prediction, SliderQuestion

_rng = np.random.default_rng([11, 1])  # this chapter's inputs; other chapters draw from their own

_FR = france_args()


def _naive_policy(pi_ref, rewards, beta):
    w = pi_ref * np.exp(rewards / beta)
    return w / w.sum()


def _naive_kl(p, q):
    return np.sum(p * np.log(p / q))


_KL_CASES = (
    Case("two coins [0.9, 0.1] vs [0.5, 0.5]", (np.array([0.9, 0.1]), np.array([0.5, 0.5]))),
    Case("France pi* vs pi_ref", (policy.optimal_policy(*_FR, 1.0), _FR[0].copy())),
    Case("random p, q over 5", (distribution(_rng, 5), distribution(_rng, 5))),
    Case("p with a zero: [0.5, 0.5, 0] vs [0.2, 0.3, 0.5]", (np.array([0.5, 0.5, 0.0]), np.array([0.2, 0.3, 0.5]))),
    Case("p with zeros over 6", (distribution(_rng, 6, zeros=2), distribution(_rng, 6))),
    Case("p = q: KL = 0", (np.array([0.2, 0.3, 0.5]), np.array([0.2, 0.3, 0.5]))),
    Case("random p, q over 8", (distribution(_rng, 8), distribution(_rng, 8))),
    Case("nearly one-hot p vs uniform over 4", (np.array([1 - 3e-9, 1e-9, 1e-9, 1e-9]), np.full(4, 0.25)), hard=True),
)

EXERCISES = (
    Exercise(
        "1.1",
        "optimal_policy(pi_ref, rewards, beta)",
        policy.optimal_policy,
        policy_cases(_rng),
        (
            Mistake(
                "not normalised",
                "you forgot to normalise: divide pi_ref * exp(r / beta) by Z(x), its sum",
                lambda p, r, b: p * np.exp(r / b),
                examples=(
                    lambda p, r, b: p * np.exp(r / b),
                    lambda p, r, b: np.exp(np.log(p) + r / b - np.max(np.log(p) + r / b)),  # shifted, not divided
                ),
                matches=proportional,
            ),
            Mistake(
                "exp(beta*r)",
                "you used exp(beta * r); the boost is exp(r / beta): small beta means a strong boost",
                lambda p, r, b: policy.optimal_policy(p, r * b * b, b),  # exp(r·b²/b) = exp(β·r), in log space
                examples=(
                    lambda p, r, b: p * np.exp(b * r) / np.sum(p * np.exp(b * r)),
                    lambda p, r, b: stable.softmax(np.log(p) + b * r),
                ),
            ),
            Mistake(
                "forgot pi_ref",
                "you left out pi_ref: softmax(r / beta) alone is not anchored to the reference",
                lambda p, r, b: stable.softmax(r / b),
                examples=(
                    lambda p, r, b: np.exp(r / b) / np.exp(r / b).sum(),
                    lambda p, r, b: np.exp(r / b - stable.logsumexp(r / b)),
                ),
            ),
            Mistake(
                "log-probabilities",
                "you returned log pi*; the function should return probabilities",
                policy.log_optimal_policy,
                examples=(
                    lambda p, r, b: np.log(p * np.exp(r / b) / np.sum(p * np.exp(r / b))),
                    lambda p, r, b: np.log(p) + r / b - stable.logsumexp(np.log(p) + r / b),
                ),
            ),
        ),
        LOG_SPACE_HINT,
        arg_names=("pi_ref", "rewards", "beta"),
        title="the optimal policy π*",
        difficulty=2,
        log_space=True,
    ),
    Exercise(
        "1.2",
        "kl_divergence(p, q)",
        policy.kl_divergence,
        _KL_CASES,
        (
            Mistake(
                "reversed",
                "you computed KL(q||p); the order matters: sum p * log(p / q)",
                lambda p, q: policy.kl_divergence(q, p),
                examples=(lambda p, q: np.sum(np.where(q > 0, q * np.log(q / p), 0.0)),),
            ),
            Mistake(
                "sign",
                "the sign is flipped: KL is never negative; it is sum p * log(p / q)",
                lambda p, q: -policy.kl_divergence(p, q),
                examples=(lambda p, q: np.sum(np.where(p > 0, p * np.log(q / p), 0.0)),),
            ),
            Mistake(
                "log2",
                "you used log base 2 (bits); the course uses natural logs (nats)",
                lambda p, q: policy.kl_divergence(p, q) / np.log(2),
                examples=(lambda p, q: np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1) / q), 0.0)),),
            ),
            Mistake(
                "0 log 0",
                "entries with p = 0 give 0 * log 0 = NaN: they contribute 0, so skip them (np.where)",
                _naive_kl,
                examples=(lambda p, q: np.sum(p * np.log(p / q)), lambda p, q: np.sum(p * (np.log(p) - np.log(q)))),
            ),
        ),
        "entries with p = 0 must contribute 0",
        arg_names=("p", "q"),
        title="the KL divergence",
        difficulty=1,
    ),
)


# --- one question of each new kind (the pattern for the other chapters) -----------------------------


def _kl_at(beta):
    return policy.kl_divergence(policy.optimal_policy(*_FR, beta), _FR[0])


def _beta_for_kl(target, lo=1e-3, hi=1e3):
    """The β at which KL(π*‖π_ref) = target, by bisection in log β (KL falls as β grows)."""
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if _kl_at(mid) > target else (lo, mid)
    return float(np.sqrt(lo * hi))


def _objective_cases():
    out = []
    for label, n, beta in (
        ("France, beta=1", 4, 1.0),
        ("5 responses, beta=0.3", 5, 0.3),
        ("6 responses, beta=4", 6, 4.0),
    ):
        pi_ref, rewards = (_FR[0].copy(), _FR[1].copy()) if n == 4 else (distribution(_rng, n), _rng.normal(size=n))
        out.append(Case(label, (distribution(_rng, n), pi_ref, rewards, beta)))
    return tuple(out)


def _objective_via(sign_log_z=1.0, sign_kl=-1.0, scale=True):
    """β·log Z − β·KL(π‖π*), or a slip in its signs or β (for the mistakes of 1.d1)."""

    def objective(pi, pi_ref, rewards, beta):
        b = beta if scale else 1.0
        star = policy.optimal_policy(pi_ref, rewards, beta)
        return b * (sign_log_z * policy.log_partition(pi_ref, rewards, beta) + sign_kl * policy.kl_divergence(pi, star))

    return objective


QUESTIONS = (
    Prediction(
        "1.p1",
        "π*(The capital is Paris.) at β = 0.5",
        truth=lambda: float(policy.optimal_policy(*_FR, 0.5)[0]),
        atol=0.05,
        rtol=0.0,
        mistakes=(
            Mistake(
                "exp(beta*r)",
                "that is what exp(β·r) would give; the boost is exp(r/β), so a small β boosts more",
                lambda: float(_naive_policy(_FR[0], _FR[1] * 0.5 * 0.5, 0.5)[0]),  # exp(0.5 r)
            ),
        ),
        explain="At β = 0.5 each reward point multiplies π_ref by e² ≈ 7.4.",
    ),
    SliderQuestion(
        "1.s1",
        "the β at which KL(π*‖π_ref) = 0.5",
        truth=lambda: _beta_for_kl(0.5),
        rtol=0.05,
        variable="β",
        measure=lambda beta: f"KL = {_kl_at(beta):.3f}",
        target="KL = 0.500",
    ),
    Choice(
        "1.r1",
        "what π* does as β → 0 (β explorer)",
        options={
            "a": "it puts all its mass on the highest-reward response",
            "b": "it returns to π_ref",
            "c": "it becomes uniform over the responses",
        },
        answer="a",
        why={
            "b": "that is the other end: a large β makes drifting from π_ref expensive, so π* → π_ref as β → ∞",
            "c": "nothing in π* ∝ π_ref·exp(r/β) is uniform; as β → 0 the largest r/β dominates exponentially",
        },
        names={"b": "beta direction reversed", "c": "uniform limit"},
        explain="exp(r/β) grows fastest for the largest reward, so π* tends to a point mass on argmax r.",
    ),
    Derivation(
        "1.d1",
        "objective(pi, pi_ref, rewards, beta): J(π) written with log Z(x) and KL(π‖π*)",
        policy.kl_regularized_objective,
        _objective_cases,
        (
            Mistake(
                "sign of the KL term",
                "J(π) = β·log Z − β·KL(π‖π*): the KL to π* is subtracted",
                _objective_via(sign_kl=1.0),
            ),  # fmt: skip
            Mistake("forgot beta", "both terms carry β: J(π) = β·(log Z − KL(π‖π*))", _objective_via(scale=False)),
        ),
        arg_names=("pi", "pi_ref", "rewards", "beta"),
        title="J(π) = β·log Z − β·KL(π‖π*)",
        difficulty=3,
    ),
)
