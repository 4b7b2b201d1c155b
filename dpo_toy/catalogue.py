"""The exercises of every chapter: inputs to try, the library's answer, and the classic mistakes.

Each :class:`~dpo_toy.exercises.Exercise` is checked by :func:`dpo_toy.exercises.check`. Inputs
are fixed (seeded), so every learner gets the same verdict for the same code.
"""

import numpy as np

from . import bradley_terry, elo, losses, policy, rlhf, stable
from .data import load_chess
from .exercises import Case, Exercise, Mistake
from .toy import capital_of_france

_rng = np.random.default_rng(20231)  # fixed inputs: every learner gets the same verdict


def _dist(n, zeros=0):
    w = _rng.uniform(0.05, 1.0, n)
    w[n - zeros :] = 0.0
    return w / w.sum()


_FR = capital_of_france()
_FR_ARGS = (_FR.pi_ref.copy(), _FR.rewards.copy())
_POLICY_CASES = (
    Case("France, beta=1", _FR_ARGS + (1.0,)),
    Case("France, beta=0.5", _FR_ARGS + (0.5,)),
    Case("France, beta=3", _FR_ARGS + (3.0,)),
    Case("5 random responses, beta=0.7", (_dist(5), _rng.normal(size=5), 0.7)),
    Case("6 random responses, beta=2", (_dist(6), _rng.normal(size=6) * 2, 2.0)),
    Case("France, beta=0.001", _FR_ARGS + (0.001,), hard=True),
    Case("rewards of +-800, beta=1", (np.array([0.5, 0.25, 0.25]), np.array([800.0, -800.0, 0.0]), 1.0), hard=True),
)
_LOG_SPACE_HINT = (
    "exp(r / beta) overflows. Work in log space: log pi_ref + r / beta, subtract its maximum, "
    "then exponentiate (or use dpo_toy.logsumexp)"
)


def _naive_policy(pi_ref, rewards, beta):
    w = pi_ref * np.exp(rewards / beta)
    return w / w.sum()


def _naive_log_partition(pi_ref, rewards, beta):
    return np.log(np.sum(pi_ref * np.exp(rewards / beta)))


def _naive_kl(p, q):
    return np.sum(p * np.log(p / q))


_LOGITS = (
    Case("[1, 2, 3]", (np.array([1.0, 2.0, 3.0]),)),
    Case("5 random logits", (_rng.normal(size=5),)),
    Case("[0, 0, 0, 0]", (np.zeros(4),)),
    Case("[-3, 0.5]", (np.array([-3.0, 0.5]),)),
    Case("[1000, 999, 0]", (np.array([1000.0, 999.0, 0.0]),), hard=True),
    Case("[-1000, -1001]", (np.array([-1000.0, -1001.0]),), hard=True),
)
_Z_VALUES = (
    Case("[0.5, -0.5, 2]", (np.array([0.5, -0.5, 2.0]),)),
    Case("6 random values", (_rng.normal(size=6) * 3,)),
    Case("0.0", (np.array(0.0),)),
    Case("[-800, -50]", (np.array([-800.0, -50.0]),), hard=True),
    Case("[800, 50]", (np.array([800.0, 50.0]),), hard=True),
)
_KL_CASES = (
    Case("two coins [0.9, 0.1] vs [0.5, 0.5]", (np.array([0.9, 0.1]), np.array([0.5, 0.5]))),
    Case("France pi* vs pi_ref", (policy.optimal_policy(*_FR_ARGS, 1.0), _FR.pi_ref.copy())),
    Case("random p, q over 5", (_dist(5), _dist(5))),
    Case("p with a zero: [0.5, 0.5, 0] vs [0.2, 0.3, 0.5]", (np.array([0.5, 0.5, 0.0]), np.array([0.2, 0.3, 0.5]))),
    Case("p with zeros over 6", (_dist(6, zeros=2), _dist(6))),
)
_IMPLIED_CASES = tuple(
    Case(f"pi* of France at beta={b}", (policy.optimal_policy(*_FR_ARGS, b), _FR.pi_ref.copy(), b))
    for b in (1.0, 0.5, 2.0)
) + (Case("random pi, pi_ref, beta=0.3", (_dist(5), _dist(5), 0.3)),)

_AVRO = load_chess("AVRO")
_BT_CASES = (
    Case(
        "AVRO 1938, all strengths 0", (np.zeros(8), _AVRO.player_a.copy(), _AVRO.player_b.copy(), _AVRO.score_a.copy())
    ),
    Case(
        "AVRO 1938, random strengths",
        (_rng.normal(size=8), _AVRO.player_a.copy(), _AVRO.player_b.copy(), _AVRO.score_a.copy()),
    ),
    Case(
        "three games with a draw",
        (np.array([0.5, -0.2, 1.0]), np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([1.0, 0.5, 0.0])),
    ),
)
_ELO_CASES = (
    Case("1500 vs 1500, a wins, k=32", (1500.0, 1500.0, 1.0, 32.0)),
    Case("1700 vs 1500, draw, k=20", (1700.0, 1500.0, 0.5, 20.0)),
    Case("1400 vs 1800, a loses, k=16", (1400.0, 1800.0, 0.0, 16.0)),
    Case("2100 vs 1900, a wins, k=10", (2100.0, 1900.0, 1.0, 10.0)),
)


def _bt_terms(s, a, b, y, draw_as):
    d = s[a] - s[b]
    win, loss = (y == 1).astype(float), (y == 0).astype(float)
    if draw_as == "loss":
        loss = (y < 1).astype(float)
    return np.sum(win * stable.log_sigmoid(d) + loss * stable.log_sigmoid(-d))


def _mm_no_centre(s, a, b, y):
    new = bradley_terry.mm_update(s, a, b, y)
    c = bradley_terry.count_pairs(a, b, y, s.size)
    pi = np.exp(s)
    ratio = c.games / (pi[c.i] + pi[c.j])
    c_sum = np.bincount(c.i, ratio, s.size) + np.bincount(c.j, ratio, s.size)
    return new - new.mean() + np.mean(np.log(c.player_score / c_sum))


def _mm_wins_only(s, a, b, y):
    decisive = y != 0.5
    return bradley_terry.mm_update(s, a[decisive], b[decisive], y[decisive])


_MM_CASES = tuple(
    Case(label, (np.array(start), _AVRO.player_a.copy(), _AVRO.player_b.copy(), _AVRO.score_a.copy()))
    for label, start in (
        ("AVRO 1938 from zeros", np.zeros(8)),
        ("AVRO 1938 from random strengths", _rng.normal(size=8)),
    )
)

_SCORES = (
    Case("the worked example: 1.8 vs 1.2", (np.array([1.8]), np.array([1.2]))),
    Case("5 random pairs", (_rng.normal(size=5) * 2, _rng.normal(size=5) * 2)),
    Case("a pair ranked wrong: 0 vs 3", (np.array([0.0, 1.0]), np.array([3.0, -1.0]))),
    Case("margins of -800 and +800", (np.array([-400.0, 400.0]), np.array([400.0, -400.0])), hard=True),
)


def _batch(n, spread=5.0):
    return tuple(-np.abs(_rng.normal(size=n)) * spread - 1 for _ in range(4))


_DPO_CASES = (
    Case("4 random pairs, beta=0.1", _batch(4) + (0.1,)),
    Case("6 random pairs, beta=0.5", _batch(6) + (0.5,)),
    Case(
        "policy = reference, beta=1",
        (np.array([-2.0, -3.0]), np.array([-4.0, -1.0]), np.array([-2.0, -3.0]), np.array([-4.0, -1.0]), 1.0),
    ),
    Case(
        "log-ratio gaps of -1e4 and +1e4, beta=0.1",
        (np.array([-1.0, -1e4]), np.array([-1e4, -1.0]), np.array([-1.0, -1.0]), np.array([-1.0, -1.0]), 0.1),
        hard=True,
    ),
)


def _margins(pc, pr, rc, rr, beta):
    return losses.dpo_rewards(pc, pr, rc, rr, beta).margins


def _policy_grad(pc, pr, rc, rr, beta, **kw):
    return losses.dpo_loss_grad(pc, pr, rc, rr, beta, **kw)[:2]


def _grad_with_weight(weight_of_z, scale_by_beta=True, mean=True):
    """A DPO policy gradient built from a chosen per-pair weight (for the mistakes of 6.1)."""

    def grad(pc, pr, rc, rr, beta):
        z = beta * ((pc - rc) - (pr - rr))
        g = -weight_of_z(z) * (beta if scale_by_beta else 1.0) / (z.size if mean else 1)
        return g, -g

    return grad


def _ipo(pc, pr, rc, rr, beta):
    return losses.dpo_loss(pc, pr, rc, rr, beta, loss_type="ipo")


def _ipo_with(target, scale_h=False, power=2):
    def loss(pc, pr, rc, rr, beta):
        h = (pc - rc) - (pr - rr)
        return float(np.mean(np.abs((beta * h if scale_h else h) - target(beta)) ** power))

    return loss


def _sequence_cases():
    """A fixed random TinyLM and three batches; built on first use, since it needs PyTorch."""
    import torch

    from . import sequences as seq

    vocab = seq.vocabulary()
    torch.manual_seed(7)
    model = seq.TinyLM(len(vocab)).eval()
    france, japan = seq.prompt_for("france"), seq.prompt_for("japan")
    examples = [
        seq.PreferenceExample(france, "the capital is paris .", "rome ."),
        seq.PreferenceExample(japan, "tokyo .", "tokyo is the capital of japan ."),
    ]
    return (
        Case("two pairs, padded to the longest", (model, *seq.collate(examples, vocab).as_tuple())),
        Case("one pair", (model, *seq.collate(examples[1:], vocab).as_tuple())),
        Case("two pairs, padded to 24 tokens", (model, *seq.collate(examples, vocab, length=24).as_tuple())),
    )


def _sequence_logps(model, input_ids, attention_mask, completion_mask, *, shift=True, mask=None, average=False):
    """sequence_logps, or one of its classic bugs (for the mistakes of 7.1)."""
    import torch

    logits = model(input_ids, attention_mask)
    log_probs = torch.log_softmax(logits, -1)
    scored = log_probs[:, :-1] if shift else log_probs[:, 1:]  # unshifted: position t scores its own token
    token_logps = scored.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    keep = (completion_mask & attention_mask)[:, 1:] if mask is None else mask(attention_mask, completion_mask)[:, 1:]
    total = (token_logps * keep).sum(-1)
    return total / keep.sum(-1) if average else total


def _batch_dpo_loss(policy_logps, ref_logps, beta, layout="halves", use_ref=True, reduction="mean"):
    """The DPO loss from per-row log-probs of a concatenated batch (for exercise 7.2 and its mistakes)."""
    n = policy_logps.size // 2
    if layout == "halves":
        pc, pr, rc, rr = policy_logps[:n], policy_logps[n:], ref_logps[:n], ref_logps[n:]
    elif layout == "swapped":
        pr, pc, rr, rc = policy_logps[:n], policy_logps[n:], ref_logps[:n], ref_logps[n:]
    else:  # interleaved: rows 0, 2, 4, ... read as chosen
        pc, pr, rc, rr = policy_logps[::2], policy_logps[1::2], ref_logps[::2], ref_logps[1::2]
    if not use_ref:
        rc, rr = 0 * rc, 0 * rr
    return losses.dpo_loss(pc, pr, rc, rr, beta, reduction=reduction)


_BATCH_CASES = tuple(
    Case(label, (-np.abs(_rng.normal(size=2 * n)) * 6 - 1, -np.abs(_rng.normal(size=2 * n)) * 6 - 1, beta))
    for label, n, beta in (("3 pairs, beta=0.5", 3, 0.5), ("5 pairs, beta=0.1", 5, 0.1), ("2 pairs, beta=1", 2, 1.0))
)


def _pg_cases():
    rng = np.random.default_rng(88)
    out = []
    for label, beta, size in (("France, beta=1, 8 samples", 1.0, 8), ("France, beta=0.2, 20 samples", 0.2, 20)):
        logits = np.log(_FR.pi_ref) + rng.normal(0, 0.3, 4)
        samples = rng.choice(4, size=size, p=stable.softmax(logits))
        out.append(Case(label, (logits, np.log(_FR.pi_ref), _FR.rewards.copy(), samples, beta)))
    logits = rng.normal(size=6)
    out.append(
        Case("6 responses, beta=0.5", (logits, np.log(_dist(6)), rng.normal(size=6), rng.integers(0, 6, 12), 0.5))
    )
    return tuple(out)


def _pg(logits, ref_logps, rewards, samples, beta, *, kl_sign=-1.0, baseline=True):
    """The KL-penalised REINFORCE estimate, or one of its classic bugs (for exercise 8.1)."""
    logps = logits - np.logaddexp.reduce(logits)
    score = rewards[samples] + kl_sign * beta * (logps[samples] - ref_logps[samples])
    advantage = score - score.mean() if baseline else score
    grad = np.bincount(samples, advantage, logits.size) - advantage.sum() * np.exp(logps)  # Σ A·(e_y − π)
    return grad / samples.size


_PPO_CASES = tuple(
    Case(label, (np.exp(_rng.normal(0, 0.3, n)), _rng.normal(size=n), clip))
    for label, n, clip in (
        ("8 samples, clip 0.2", 8, 0.2),
        ("20 samples, clip 0.1", 20, 0.1),
        ("5 samples, clip 0.3", 5, 0.3),
    )
)


def _ppo(ratio, advantage, clip, how="right"):
    clipped = np.clip(ratio, 1 - clip, 1 + clip)
    if how == "no clip":
        return float(np.mean(ratio * advantage))
    if how == "max":
        return float(np.mean(np.maximum(ratio * advantage, clipped * advantage)))
    if how == "clipped advantage":
        return float(np.mean(np.minimum(ratio * advantage, ratio * np.clip(advantage, -clip, clip))))
    return float(np.mean(np.minimum(ratio * advantage, clipped * advantage)))


def _length_cases():
    out = []
    for label, n, beta in (("4 pairs, beta=0.5", 4, 0.5), ("6 pairs, beta=0.1", 6, 0.1), ("3 pairs, beta=2", 3, 2.0)):
        logps = tuple(-np.abs(_rng.normal(size=n)) * 8 - 1 for _ in range(4))
        lengths = tuple(_rng.integers(2, 9, n).astype(float) for _ in range(2))
        out.append(Case(label, (*logps, *lengths, beta)))
    return tuple(out)


def _ipo_per_token(pc, pr, rc, rr, len_c, len_r, beta, how="right"):
    """TRL 1.x's IPO: log-ratios divided by completion lengths before the square (exercise 9.1)."""
    if how == "plain":
        len_c = len_r = np.ones_like(len_c)
    elif how == "shared length":
        len_c = len_r = len_c + len_r
    h = (pc - rc) / len_c - (pr - rr) / len_r
    losses_ = (h - 1 / (2 * beta)) ** 2
    return float(losses_.sum() if how == "sum" else losses_.mean())


_ACCURACY_CASES = (
    Case("no ties", (np.array([0.3, -0.1, 0.5, 0.2]), np.array([0.1, 0.2, -0.4, 0.6]))),
    Case("a tie at 0 (the first step)", (np.zeros(4), np.zeros(4))),
    Case("one tie", (np.array([0.2, 0.7, -0.3]), np.array([0.2, 0.1, -0.5]))),
)


def _reference_sequence_logps(*args):
    from .sequences import sequence_logps

    return sequence_logps(*args)


EXERCISES = {
    ex.id: ex
    for ex in (
        Exercise(
            "0.1",
            "softmax(logits)",
            stable.softmax,
            _LOGITS,
            (
                Mistake("not normalised", "the outputs do not sum to 1: divide exp(logits) by its sum", np.exp),
                Mistake(
                    "log-probabilities",
                    "you returned log-probabilities; softmax returns probabilities",
                    stable.log_softmax,
                ),
                Mistake(
                    "no exp", "you divided the logits by their sum; exponentiate them first", lambda z: z / z.sum()
                ),
            ),
            "exp overflows (or underflows to 0/0). Subtract the largest logit first: softmax is unchanged by a shift",
            arg_names=("logits",),
        ),
        Exercise(
            "0.2",
            "log_sigmoid(z)",
            stable.log_sigmoid,
            _Z_VALUES,
            (
                Mistake("no log", "you returned sigma(z); the exercise asks for log sigma(z)", stable.sigmoid),
                Mistake(
                    "sign",
                    "the sign is flipped: log sigma(z) is never positive; it equals -log(1 + e^(-z))",
                    lambda z: np.logaddexp(0, -z),
                ),
                Mistake(
                    "sigma(-z)",
                    "you computed log sigma(-z): the exponent is e^(-z), not e^(z)",
                    lambda z: stable.log_sigmoid(-z),
                ),
            ),
            "log(sigmoid(z)) gives -inf for very negative z. Use -np.logaddexp(0, -z)",
            arg_names=("z",),
        ),
        Exercise(
            "1.1",
            "optimal_policy(pi_ref, rewards, beta)",
            policy.optimal_policy,
            _POLICY_CASES,
            (
                Mistake(
                    "not normalised",
                    "you forgot to normalise: divide pi_ref * exp(r / beta) by Z(x), its sum",
                    lambda p, r, b: p * np.exp(r / b),
                ),
                Mistake(
                    "exp(beta*r)",
                    "you used exp(beta * r); the boost is exp(r / beta): small beta means a strong boost",
                    lambda p, r, b: _naive_policy(p, r * b * b, b),
                ),
                Mistake(
                    "forgot pi_ref",
                    "you left out pi_ref: softmax(r / beta) alone is not anchored to the reference",
                    lambda p, r, b: stable.softmax(r / b),
                ),
                Mistake(
                    "log-probabilities",
                    "you returned log pi*; the function should return probabilities",
                    policy.log_optimal_policy,
                ),
            ),
            _LOG_SPACE_HINT,
            arg_names=("pi_ref", "rewards", "beta"),
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
                ),
                Mistake(
                    "sign",
                    "the sign is flipped: KL is never negative; it is sum p * log(p / q)",
                    lambda p, q: -policy.kl_divergence(p, q),
                ),
                Mistake(
                    "log2",
                    "you used log base 2 (bits); the course uses natural logs (nats)",
                    lambda p, q: policy.kl_divergence(p, q) / np.log(2),
                ),
                Mistake(
                    "0 log 0",
                    "entries with p = 0 give 0 * log 0 = NaN: they contribute 0, so skip them (np.where)",
                    _naive_kl,
                ),
            ),
            "entries with p = 0 must contribute 0",
            arg_names=("p", "q"),
        ),
        Exercise(
            "2.1",
            "log_partition(pi_ref, rewards, beta)",
            policy.log_partition,
            _POLICY_CASES,
            (
                Mistake(
                    "Z not log Z",
                    "you returned Z(x); the exercise asks for log Z(x)",
                    lambda p, r, b: np.exp(policy.log_partition(p, r, b)),
                ),
                Mistake(
                    "forgot pi_ref",
                    "you left out the pi_ref weights: Z(x) = sum pi_ref * exp(r / beta)",
                    lambda p, r, b: stable.logsumexp(r / b),
                ),
                Mistake(
                    "exp(beta*r)",
                    "you used exp(beta * r); the boost is exp(r / beta)",
                    lambda p, r, b: stable.logsumexp(np.log(p) + r * b),
                ),
                Mistake(
                    "average",
                    "you averaged the boosts; Z(x) is the pi_ref-weighted sum",
                    lambda p, r, b: stable.logsumexp(np.log(p) + r / b) - np.log(p.size),
                ),
            ),
            _LOG_SPACE_HINT,
            arg_names=("pi_ref", "rewards", "beta"),
        ),
        Exercise(
            "2.2",
            "implied_reward(pi, pi_ref, beta)",
            policy.implied_reward,
            _IMPLIED_CASES,
            (
                Mistake(
                    "forgot beta", "you forgot the factor beta in front of the log-ratio", lambda p, q, b: np.log(p / q)
                ),
                Mistake(
                    "divided by beta",
                    "you divided by beta; the implied reward is beta * log(pi / pi_ref)",
                    lambda p, q, b: np.log(p / q) / b,
                ),
                Mistake(
                    "inverted ratio",
                    "the ratio is upside down: log(pi / pi_ref), policy on top",
                    lambda p, q, b: b * np.log(q / p),
                ),
                Mistake(
                    "no log",
                    "you forgot the log: the implied reward is beta * log(pi / pi_ref)",
                    lambda p, q, b: b * p / q,
                ),
            ),
            arg_names=("pi", "pi_ref", "beta"),
        ),
        Exercise(
            "3.1",
            "bt_log_likelihood(strengths, player_a, player_b, score_a)",
            bradley_terry.log_likelihood,
            _BT_CASES,
            (
                Mistake(
                    "sign",
                    "the sign is flipped: a log-likelihood is <= 0; you returned the loss (-log L)",
                    lambda *x: -bradley_terry.log_likelihood(*x),
                ),
                Mistake(
                    "forgot draws",
                    "draws are missing: a draw counts as half a win, y = 0.5 in y log s(d) + (1-y) log s(-d)",
                    lambda s, a, b, y: _bt_terms(s, a, b, y, "ignore"),
                ),
                Mistake(
                    "draws as losses",
                    "you scored draws as losses; a draw is y = 0.5, half a win for each player",
                    lambda s, a, b, y: _bt_terms(s, a, b, y, "loss"),
                ),
                Mistake(
                    "players swapped",
                    "you used s_b - s_a: player_a wins with probability sigma(s_a - s_b)",
                    lambda s, a, b, y: bradley_terry.log_likelihood(s, b, a, y),
                ),
            ),
            arg_names=("strengths", "player_a", "player_b", "score_a"),
        ),
        Exercise(
            "3.2",
            "elo_update(rating_a, rating_b, score_a, k)",
            elo.elo_update,
            _ELO_CASES,
            (
                Mistake(
                    "sign",
                    "the update points the wrong way: a rating rises by k * (score - expected)",
                    lambda ra, rb, y, k: tuple(2 * np.array([ra, rb]) - np.array(elo.elo_update(ra, rb, y, k))),
                ),
                Mistake(
                    "base e",
                    "the expected score uses base 10: 1 / (1 + 10 ** ((rating_b - rating_a) / 400))",
                    lambda ra, rb, y, k: (
                        ra + k * (y - 1 / (1 + np.exp((rb - ra) / 400))),
                        rb - k * (y - 1 / (1 + np.exp((rb - ra) / 400))),
                    ),
                ),
                Mistake(
                    "only a",
                    "player b's rating must move too, by the opposite amount (Elo is zero-sum)",
                    lambda ra, rb, y, k: (elo.elo_update(ra, rb, y, k)[0], rb),
                ),
                Mistake(
                    "no /400",
                    "divide the rating gap by 400 before using it as an exponent of 10",
                    lambda ra, rb, y, k: (
                        ra + k * (y - 1 / (1 + np.power(10.0, rb - ra))),
                        rb - k * (y - 1 / (1 + np.power(10.0, rb - ra))),
                    ),
                ),
            ),
            arg_names=("rating_a", "rating_b", "score_a", "k"),
        ),
        Exercise(
            "3.3",
            "mm_step(strengths, player_a, player_b, score_a)",
            bradley_terry.mm_update,
            _MM_CASES,
            (
                Mistake(
                    "not centred",
                    "right update, but not centred: subtract the mean so strengths keep mean 0",
                    _mm_no_centre,
                ),
                Mistake(
                    "forgot draws",
                    "draws are missing from W_i and from the game counts: a draw is half a win for each player",
                    _mm_wins_only,
                ),
            ),
            arg_names=("strengths", "player_a", "player_b", "score_a"),
        ),
        Exercise(
            "4.1",
            "reward_model_loss(r_chosen, r_rejected)",
            losses.reward_model_loss,
            _SCORES,
            (
                Mistake(
                    "sign",
                    "the sign is flipped: a loss is -log sigma(r_chosen - r_rejected), never negative",
                    lambda w, lo: -losses.reward_model_loss(w, lo),
                ),
                Mistake(
                    "swapped",
                    "chosen and rejected are swapped: the winner's score comes first, sigma(r_chosen - r_rejected)",
                    lambda w, lo: losses.reward_model_loss(lo, w),
                ),
                Mistake(
                    "sum",
                    "you summed over pairs; the loss is the mean (E is an average over the dataset)",
                    lambda w, lo: losses.reward_model_loss(w, lo, "sum"),
                ),
                Mistake(
                    "no log",
                    "you forgot the log: the loss is -log sigma(margin), not 1 - sigma(margin)",
                    lambda w, lo: np.mean(1 - stable.sigmoid(w - lo)),
                ),
            ),
            "log(sigmoid(margin)) is log(0) = -inf for a margin of -800. Use -np.logaddexp(0, -margin)",
            arg_names=("r_chosen", "r_rejected"),
        ),
        Exercise(
            "4.2",
            "reward_model_loss_grad(r_chosen, r_rejected)",
            losses.reward_model_loss_grad,
            _SCORES[:3],
            (
                Mistake(
                    "sign",
                    "the sign is flipped: raising the winner's score lowers the loss, so dL/dr_chosen < 0",
                    lambda w, lo: tuple(-g for g in losses.reward_model_loss_grad(w, lo)),
                ),
                Mistake(
                    "no 1/n",
                    "you forgot to divide by the number of pairs (the loss is a mean)",
                    lambda w, lo: losses.reward_model_loss_grad(w, lo, "sum"),
                ),
                Mistake(
                    "wrong sigma",
                    "the weight is sigma(r_rejected - r_chosen), the chance the model currently gets the pair wrong",
                    lambda w, lo: (-stable.sigmoid(w - lo) / w.size, stable.sigmoid(w - lo) / w.size),
                ),
            ),
            arg_names=("r_chosen", "r_rejected"),
        ),
        Exercise(
            "5.1",
            "implied_reward_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, "
            "beta)",
            _margins,
            _DPO_CASES[:3],
            (
                Mistake(
                    "forgot beta",
                    "you forgot beta: the implied reward is beta * log(pi / pi_ref)",
                    lambda pc, pr, rc, rr, b: _margins(pc, pr, rc, rr, 1.0),
                ),
                Mistake(
                    "swapped",
                    "chosen and rejected are swapped: the margin is chosen minus rejected",
                    lambda pc, pr, rc, rr, b: _margins(pr, pc, rr, rc, b),
                ),
                Mistake(
                    "forgot the reference",
                    "you left out the reference: the implied reward is beta * (log pi - log pi_ref)",
                    lambda pc, pr, rc, rr, b: _margins(pc, pr, 0 * rc, 0 * rr, b),
                ),
            ),
            arg_names=(*losses.LOGPS_NAMES, "beta"),
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
                ),
                Mistake(
                    "swapped",
                    "chosen and rejected are swapped: the winner's log-ratio comes first",
                    lambda pc, pr, rc, rr, b: losses.dpo_loss(pr, pc, rr, rc, b),
                ),
                Mistake(
                    "probabilities",
                    "you used probabilities; the formula takes log-probabilities (log pi, not pi)",
                    lambda pc, pr, rc, rr, b: losses.dpo_loss(np.exp(pc), np.exp(pr), np.exp(rc), np.exp(rr), b),
                ),
                Mistake(
                    "sum",
                    "you summed over pairs; the loss is the mean over pairs",
                    lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, rc, rr, b, reduction="sum"),
                ),
                Mistake(
                    "forgot the reference",
                    "you left out the reference model: use log pi_theta - log pi_ref for each response",
                    lambda pc, pr, rc, rr, b: losses.dpo_loss(pc, pr, 0 * rc, 0 * rr, b),
                ),
            ),
            "np.log(sigmoid(z)) is log(0) = -inf for z = -1000. Use -np.logaddexp(0, -z) for -log sigma(z)",
            arg_names=(*losses.LOGPS_NAMES, "beta"),
        ),
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
                ),
                Mistake(
                    "wrong sigma",
                    "the weight is sigma(-z), the chance the policy currently ranks the pair wrong; "
                    "sigma(z) gives the most weight to pairs it already gets right",
                    _grad_with_weight(stable.sigmoid),
                ),
                Mistake(
                    "forgot beta",
                    "you forgot the chain rule's beta: z = beta * h, so dL/dh = -beta * sigma(-z)",
                    _grad_with_weight(lambda z: stable.sigmoid(-z), scale_by_beta=False),
                ),
                Mistake(
                    "no 1/n",
                    "you forgot to divide by the number of pairs (the loss is a mean)",
                    _grad_with_weight(lambda z: stable.sigmoid(-z), mean=False),
                ),
            ),
            "sigma(-z) computed as exp(-z) / (1 + exp(-z)) is inf/inf = NaN for z = -1e3. "
            "Use dpo_toy.sigmoid(-z) or np.exp(-np.logaddexp(0, z))",
            arg_names=(*losses.LOGPS_NAMES, "beta"),
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
                ),
                Mistake(
                    "beta times h",
                    "IPO compares the plain log-ratio difference h with 1/(2 beta); you multiplied h by beta first",
                    _ipo_with(lambda b: 1 / (2 * b), scale_h=True),
                ),
                Mistake(
                    "not squared",
                    "IPO's loss is squared: (h - 1/(2 beta))^2, not |h - 1/(2 beta)|",
                    _ipo_with(lambda b: 1 / (2 * b), power=1),
                ),
                Mistake(
                    "sum",
                    "you summed over pairs; the loss is the mean over pairs",
                    lambda *a: losses.dpo_loss(*a, loss_type="ipo", reduction="sum"),
                ),
            ),
            arg_names=(*losses.LOGPS_NAMES, "beta"),
        ),
        Exercise(
            "7.1",
            "sequence_logps(model, input_ids, attention_mask, completion_mask) -> one log-prob per row",
            _reference_sequence_logps,
            _sequence_cases,
            (
                Mistake(
                    "prompt included",
                    "you scored the prompt too: only completion tokens (completion_mask) count in log pi(y|x)",
                    lambda m, i, a, c: _sequence_logps(m, i, a, c, mask=lambda a, c: a),
                ),
                Mistake(
                    "padding included",
                    "you scored the padding too: multiply by attention_mask (or completion_mask), "
                    "or a row's value depends on what it was batched with",
                    lambda m, i, a, c: _sequence_logps(m, i, a, c, mask=lambda a, c: c | ~a),
                ),
                Mistake(
                    "off by one",
                    "the logits at position t predict token t + 1: score logits[:, :-1] against input_ids[:, 1:]",
                    lambda m, i, a, c: _sequence_logps(m, i, a, c, shift=False),
                ),
                Mistake(
                    "mean",
                    "you averaged over tokens; log pi(y|x) is the sum of the token log-probs (chain rule)",
                    lambda m, i, a, c: _sequence_logps(m, i, a, c, average=True),
                ),
            ),
            rtol=1e-5,
            atol=1e-6,
            arg_names=("model", "input_ids", "attention_mask", "completion_mask"),
        ),
        Exercise(
            "7.2",
            "batch_dpo_loss(policy_logps, ref_logps, beta): rows [0, n) chosen, [n, 2n) rejected",
            _batch_dpo_loss,
            _BATCH_CASES,
            (
                Mistake(
                    "swapped",
                    "chosen and rejected are swapped: the first half of the rows holds the chosen responses",
                    lambda p, r, b: _batch_dpo_loss(p, r, b, layout="swapped"),
                ),
                Mistake(
                    "interleaved",
                    "the rows are not interleaved: chosen rows come first (0..n-1), then the rejected ones",
                    lambda p, r, b: _batch_dpo_loss(p, r, b, layout="interleaved"),
                ),
                Mistake(
                    "forgot the reference",
                    "you left out the reference log-probs: DPO compares log pi_theta - log pi_ref",
                    lambda p, r, b: _batch_dpo_loss(p, r, b, use_ref=False),
                ),
                Mistake(
                    "sum",
                    "you summed over pairs; the loss is the mean over pairs",
                    lambda p, r, b: _batch_dpo_loss(p, r, b, reduction="sum"),
                ),
            ),
            arg_names=("policy_logps", "ref_logps", "beta"),
        ),
        Exercise(
            "8.1",
            "kl_policy_gradient(logits, ref_logps, rewards, samples, beta) -> the gradient estimate for the logits",
            rlhf.policy_gradient,
            _pg_cases,
            (
                Mistake(
                    "no KL",
                    "the KL penalty is missing: each sample's score is r(y) - beta * (log pi(y) - log pi_ref(y))",
                    lambda lo, rl, r, s, b: _pg(lo, rl, r, s, 0.0),
                ),
                Mistake(
                    "KL sign",
                    "the KL term has the wrong sign: drifting from pi_ref must cost, r(y) - beta * log(pi/pi_ref)",
                    lambda lo, rl, r, s, b: _pg(lo, rl, r, s, b, kl_sign=1.0),
                ),
                Mistake(
                    "no baseline",
                    "subtract the batch's mean score (the baseline) from each score before weighting",
                    lambda lo, rl, r, s, b: _pg(lo, rl, r, s, b, baseline=False),
                ),
                Mistake(
                    "sum",
                    "you summed over the samples; the estimate is their mean (divide by the batch size)",
                    lambda lo, rl, r, s, b: _pg(lo, rl, r, s, b) * s.size,
                ),
            ),
            arg_names=("logits", "ref_logps", "rewards", "samples", "beta"),
        ),
        Exercise(
            "8.2",
            "ppo_clipped_objective(ratio, advantage, clip) -> mean over samples",
            _ppo,
            _PPO_CASES,
            (
                Mistake(
                    "no clip",
                    "without the clip this is the plain importance-weighted objective: use "
                    "min(ratio * A, clip(ratio, 1 - clip, 1 + clip) * A)",
                    lambda r, a, c: _ppo(r, a, c, "no clip"),
                ),
                Mistake(
                    "max",
                    "PPO takes the min of the two terms (a pessimistic bound), not the max",
                    lambda r, a, c: _ppo(r, a, c, "max"),
                ),
                Mistake(
                    "clipped advantage",
                    "clip the probability ratio to [1 - clip, 1 + clip], not the advantage",
                    lambda r, a, c: _ppo(r, a, c, "clipped advantage"),
                ),
            ),
            arg_names=("ratio", "advantage", "clip"),
        ),
        Exercise(
            "9.1",
            "trl_ipo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, "
            "chosen_lengths, rejected_lengths, beta)",
            _ipo_per_token,
            _length_cases,
            (
                Mistake(
                    "not per token",
                    "TRL divides each completion's log-ratio by its own number of tokens before the square",
                    lambda *a: _ipo_per_token(*a, how="plain"),
                ),
                Mistake(
                    "shared length",
                    "divide the chosen log-ratio by the chosen length and the rejected one by the rejected length",
                    lambda *a: _ipo_per_token(*a, how="shared length"),
                ),
                Mistake("sum", "you summed over pairs; the loss is the mean", lambda *a: _ipo_per_token(*a, how="sum")),
            ),
            arg_names=(*losses.LOGPS_NAMES, "chosen_lengths", "rejected_lengths", "beta"),
        ),
        Exercise(
            "9.2",
            "reward_accuracy(chosen_rewards, rejected_rewards) -> rewards/accuracies",
            lambda c, r: float(np.mean(c > r)),
            _ACCURACY_CASES,
            (
                Mistake(
                    "ties count",
                    "a tie is not a win: TRL and dpo_toy use a strict >, so at step 0 (all ties) the accuracy is 0",
                    lambda c, r: float(np.mean(c >= r)),
                ),
                Mistake(
                    "count",
                    "you returned how many; rewards/accuracies is the fraction of pairs (a mean)",
                    lambda c, r: float(np.sum(c > r)),
                ),
            ),
            arg_names=("chosen_rewards", "rejected_rewards"),
        ),
    )
}
