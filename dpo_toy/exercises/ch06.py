"""Chapter 6, the DPO loss: its gradient for the policy log-probs, and IPO."""

import numpy as np

from .. import losses, policy, stable, toy, training
from ._cases import dpo_cases
from ._engine import Case, Exercise, Mistake
from ._kinds import Choice, Derivation, Prediction, SliderQuestion

_rng = np.random.default_rng([11, 6])  # this chapter's inputs; other chapters draw from their own

_DPO_CASES = dpo_cases(_rng)


def _policy_grad(pc, pr, rc, rr, beta, **kw):
    return losses.dpo_loss_grad(pc, pr, rc, rr, beta, **kw)[:2]


def _grad_with_weight(weight_of_z, scale_by_beta=True, mean=True):
    """A DPO policy gradient built from a chosen per-pair weight (for the mistakes of 6.1)."""

    def grad(pc, pr, rc, rr, beta):
        z = beta * ((pc - rc) - (pr - rr))
        g = -weight_of_z(z) * (beta if scale_by_beta else 1.0) / (z.size if mean else 1)
        return g, -g

    return grad


def _naive_sigmoid(x):
    return np.exp(x) / (1 + np.exp(x))


def _learner_grad(sigmoid, sign=1.0, weight_sign=-1.0, scale=True, mean=True):
    """A learner-style DPO policy gradient: (g, −g) with g = ±β·σ(∓z)/n, a slip chosen by the flags."""

    def grad(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta):
        z = beta * ((policy_chosen_logps - ref_chosen_logps) - (policy_rejected_logps - ref_rejected_logps))
        g = weight_sign * sigmoid(-sign * z) * (beta if scale else 1.0) / (z.size if mean else 1)
        return g, -g

    return grad


_SIGMOIDS = (_naive_sigmoid, stable.sigmoid)  # naive (NaN at z = -1e3) and stable


def _ipo(pc, pr, rc, rr, beta):
    return losses.dpo_loss(pc, pr, rc, rr, beta, loss_type="ipo")


def _ipo_with(target, scale_h=False, power=2):
    """IPO with a wrong target, a β-scaled h, or no square (for the mistakes of 6.2)."""

    def loss(pc, pr, rc, rr, beta):
        h = (pc - rc) - (pr - rr)
        return float(np.mean(np.abs((beta * h if scale_h else h) - target(beta)) ** power))

    return loss


EXERCISES = (
    Exercise(
        "6.1",
        "dpo_policy_grad(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, "
        "beta) -> (dL/dpolicy_chosen_logps, dL/dpolicy_rejected_logps)",
        _policy_grad,
        _DPO_CASES,
        (
            Mistake(
                "sign",
                "the sign is flipped: raising the chosen log-prob lowers the loss, so dL/dpolicy_chosen_logps < 0",
                lambda *a: tuple(-g for g in _policy_grad(*a)),
                examples=tuple(_learner_grad(f, weight_sign=1.0) for f in _SIGMOIDS),
            ),
            Mistake(
                "wrong sigma",
                "the weight is sigma(-z), the chance the policy currently ranks the pair wrong; "
                "sigma(z) gives the most weight to pairs it already gets right",
                _grad_with_weight(stable.sigmoid),
                examples=tuple(_learner_grad(f, sign=-1.0) for f in _SIGMOIDS),
            ),
            Mistake(
                "forgot beta",
                "you forgot the chain rule's beta: z = beta * h, so dL/dh = -beta * sigma(-z)",
                _grad_with_weight(lambda z: stable.sigmoid(-z), scale_by_beta=False),
                examples=tuple(_learner_grad(f, scale=False) for f in _SIGMOIDS),
            ),
            Mistake(
                "no 1/n",
                "you forgot to divide by the number of pairs (the loss is a mean)",
                _grad_with_weight(lambda z: stable.sigmoid(-z), mean=False),
                examples=tuple(_learner_grad(f, mean=False) for f in _SIGMOIDS),
            ),
        ),
        "sigma(-z) computed as exp(-z) / (1 + exp(-z)) is inf/inf = NaN for z = -1e3. "
        "Use dpo_toy.sigmoid(-z) or np.exp(-np.logaddexp(0, z))",
        arg_names=(*losses.LOGPS_NAMES, "beta"),
        title="the DPO gradient for the policy log-probs",
        difficulty=3,
    ),
    Exercise(
        "6.2",
        "ipo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta)",
        _ipo,
        _DPO_CASES,
        (
            Mistake(
                "target 1/beta",
                "the target is 1/(2 beta), not 1/beta: IPO's loss is (h - 1/(2 beta))^2",
                _ipo_with(lambda b: 1 / b),
                examples=(lambda pc, pr, rc, rr, b: np.mean(((pc - rc) - (pr - rr) - 1 / b) ** 2),),
            ),
            Mistake(
                "beta times h",
                "IPO compares the plain log-ratio difference h with 1/(2 beta); you multiplied h by beta first",
                _ipo_with(lambda b: 1 / (2 * b), scale_h=True),
                examples=(lambda pc, pr, rc, rr, b: np.mean((b * ((pc - rc) - (pr - rr)) - 1 / (2 * b)) ** 2),),
            ),
            Mistake(
                "not squared",
                "IPO's loss is squared: (h - 1/(2 beta))^2, not |h - 1/(2 beta)|",
                _ipo_with(lambda b: 1 / (2 * b), power=1),
                examples=(lambda pc, pr, rc, rr, b: np.mean(np.abs((pc - rc) - (pr - rr) - 1 / (2 * b))),),
            ),
            Mistake(
                "sum",
                "you summed over pairs; the loss is the mean over pairs",
                lambda *a: losses.dpo_loss(*a, loss_type="ipo", reduction="sum"),
                examples=(lambda pc, pr, rc, rr, b: np.sum(((pc - rc) - (pr - rr) - 1 / (2 * b)) ** 2),),
            ),
        ),
        arg_names=(*losses.LOGPS_NAMES, "beta"),
        title="the IPO loss",
        difficulty=2,
    ),
)


# --- questions (issue 11 item 4) ---------------------------------------------------------------------

_TOY = toy.capital_of_france()
_PARIS = 1  # index of "Paris" in the toy


def _loss_at_reference():
    """The DPO loss of the toy's three example pairs at π_θ = π_ref (β = 0.5)."""
    log_ref = np.log(_TOY.pi_ref)
    c, r = np.array([0, 1, 0]), np.array([1, 2, 3])
    return float(losses.dpo_loss(log_ref[c], log_ref[r], log_ref[c], log_ref[r], 0.5))


def _paris_after_training():
    """Where "Paris" ends after the chapter's run (200 sampled pairs, β = 0.5, 300 Adam steps)."""
    pairs = training.sample_pairs(_TOY, 200, seed=0)
    final = training.train_tabular_dpo(_TOY, pairs, 0.5, steps=300, lr=0.05, record_every=300).final
    start = _TOY.pi_ref[_PARIS]
    return "a" if final[_PARIS] > start + 1e-3 else "b" if final[_PARIS] < start - 1e-3 else "c"


def _paris_star(beta):
    return float(policy.optimal_policy(_TOY.pi_ref, _TOY.rewards, beta)[_PARIS])


def _beta_paris_stays():
    """The β at which π*(Paris) = π_ref(Paris): r(Paris) = β·log Z(β), by bisection in log β."""
    lo, hi = 0.05, 10.0  # the DPO explorer's slider range; π*(Paris) < π_ref at lo, > at hi
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if _paris_star(mid) < _TOY.pi_ref[_PARIS] else (lo, mid)
    return float(np.sqrt(lo * hi))


def _logit_grad(logits, ref_logps, chosen, rejected, beta):
    from .. import tabular_dpo

    return tabular_dpo.eq7_gradient(logits, ref_logps, chosen, rejected, beta)[3]


def _logit_grad_with(weight_sign=-1.0, scale_by_beta=True, sign=1.0):
    """Eq. 7 with a slip: σ(z) for σ(−z), no β, or the sign flipped (mistakes of 6.d1)."""

    def grad(logits, ref_logps, chosen, rejected, beta):
        log_pi = logits - np.logaddexp.reduce(logits)
        reward = beta * (log_pi - ref_logps)
        weight = stable.sigmoid(weight_sign * (reward[chosen] - reward[rejected]))
        e = np.eye(logits.size)
        g = (beta if scale_by_beta else 1.0) / chosen.size * (weight[:, None] * (e[chosen] - e[rejected])).sum(0)
        return -sign * g

    return grad


def _logit_grad_cases():
    rng = np.random.default_rng([11, 6, 4])
    log_ref = np.log(_TOY.pi_ref)
    out = [
        Case(
            "toy at pi_ref, 3 pairs, beta=0.5", (log_ref.copy(), log_ref, np.array([0, 1, 0]), np.array([1, 2, 3]), 0.5)
        ),
        Case(
            "toy, one pair repeated 3 times, beta=1", (rng.normal(size=4), log_ref, np.full(3, 2), np.full(3, 1), 1.0)
        ),
    ]
    for label, n, n_pairs, beta in (
        ("5 responses, 6 pairs, beta=0.1", 5, 6, 0.1),
        ("7 responses, 9 pairs, beta=2", 7, 9, 2.0),
        ("3 responses, 1 pair, beta=0.3", 3, 1, 0.3),
        ("6 responses, 20 pairs, beta=0.05", 6, 20, 0.05),
        ("10 responses, 4 pairs (some unseen), beta=1", 10, 4, 1.0),
    ):
        ref = np.log(rng.dirichlet(np.ones(n)))
        a = rng.integers(0, n, n_pairs)
        b = (a + rng.integers(1, n, n_pairs)) % n
        out.append(Case(label, (rng.normal(size=n), ref, a, b, beta)))
    big = np.array([800.0, -800.0, 0.0, 5.0])
    out.append(
        Case(
            "logits of +-800 (exp overflows), beta=0.5",
            (big, log_ref, np.array([1, 2]), np.array([0, 0]), 0.5),
            hard=True,
        )
    )
    return tuple(out)


QUESTIONS = (
    Prediction(
        "6.p1",
        "the DPO loss of three pairs at π_θ = π_ref (β = 0.5)",
        truth=_loss_at_reference,
        atol=0.01,
        rtol=0.0,
        mistakes=(
            Mistake(
                "zero at the start",
                "the loss is not 0 at the start: with equal log-ratios z = 0 and σ(0) = 1/2",
                lambda: 0.0,
            ),
            Mistake("sigma, not -log sigma", "0.5 is σ(0), the probability; the loss is −log σ(0) = ln 2", lambda: 0.5),
            Mistake(
                "beta times ln 2",
                "β multiplies the margin inside σ, not the loss: at z = 0 β has no effect",
                lambda: 0.5 * np.log(2),
            ),
        ),
        explain="At π_θ = π_ref every log-ratio is 0, so z = 0 and each pair costs −log σ(0) = ln 2, whatever β.",
    ),
    Choice(
        "6.r1",
        "gradient-weight table: a pair ranked wrong by 4 vs one ranked right by 4",
        options={
            "a": "the pair ranked wrong pushes about 55 times harder",
            "b": "both push equally hard: every pair moves y_w up and y_l down by β/n",
            "c": "the pair ranked right pushes harder: it is the one the policy is confident about",
            "d": "the pair ranked wrong pushes 4 times harder: the weight grows in proportion to the margin",
        },
        answer="a",
        why={
            "b": "that is plain likelihood training on the winners; DPO multiplies each pair by σ(−z), "
            "0.982 at z = −4 and 0.018 at z = +4",
            "c": "that would be a weight σ(z); the loss −log σ(z) is nearly flat where z is large, so "
            "its slope σ(−z) is small there",
            "d": "σ(−z) is not linear in z: it saturates at 1 for wrong pairs and decays like e^{−z} for "
            "right ones, so the ratio is σ(4)/σ(−4) = e^4 ≈ 55",
        },
        names={"b": "equal weights", "c": "weight sigma(z)", "d": "linear weight"},
        explain="The weight σ(r̂_l − r̂_w) is the probability the implied rewards rank the pair wrong: "
        "σ(4)/σ(−4) = e^4 ≈ 55.",
    ),
    Prediction(
        "6.p2",
        "does π_θ(Paris) climb after DPO on 200 pairs (chosen 65 times, rejected 25)?",
        truth=_paris_after_training,
        options={
            "a": "it climbs above its π_ref value 0.40",
            "b": "it falls below 0.40",
            "c": "it stays at 0.40",
        },
        why={
            "a": "winning more often than losing is not enough: π_θ(y)/π_ref(y) grows only for responses "
            "whose implied reward beats the π_ref-weighted soft average β·log Z, and Paris loses most of "
            "its comparisons with 'The capital is Paris.', which takes the mass.",
            "c": "Paris is in 90 of the 200 pairs: it gets a gradient at every step, so it moves",
        },
        explain="Paris falls: its reward is below the soft average β·log Z of the rewards under π_ref, "
        "so even the exact π* gives it less than π_ref does.",
    ),
    SliderQuestion(
        "6.s1",
        "the β at which Paris's trained bar is back at its π_ref value 0.40 (expected preferences)",
        truth=_beta_paris_stays,
        rtol=0.05,
        variable="β",
        measure=lambda beta: f"π*(Paris) = {_paris_star(beta):.3f}",
        target="π*(Paris) = 0.400",
    ),
    Derivation(
        "6.d1",
        "Eq. 7: the DPO gradient with respect to the logits of a tabular softmax policy",
        _logit_grad,
        _logit_grad_cases,
        (
            Mistake(
                "sign",
                "descending the loss must raise y_w: ∂L/∂θ_w < 0, so the gradient is −(β/n)·Σ σ(·)·(e_w − e_l)",
                _logit_grad_with(sign=-1.0),
            ),
            Mistake(
                "wrong sigma",
                "the weight is σ(r̂_l − r̂_w) (ranked wrong), not σ(r̂_w − r̂_l)",
                _logit_grad_with(weight_sign=1.0),
            ),
            Mistake(
                "forgot beta",
                "r̂ = β·log(π/π_ref), so the chain rule brings out a β",
                _logit_grad_with(scale_by_beta=False),
            ),
        ),
        "exp(logits) overflows for logits of 800: compute log pi with a stable log-softmax, "
        "logits - np.logaddexp.reduce(logits), and the weight with dpo_toy.sigmoid",
        arg_names=("logits", "ref_logps", "chosen", "rejected", "beta"),
        title="the DPO gradient for the logits (Eq. 7)",
        difficulty=3,
    ),
)
