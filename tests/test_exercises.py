"""The exercise checks accept right answers, name each catalogued mistake, and never crash."""

import numpy as np
import pytest

import dpo_toy as d
from dpo_toy import bradley_terry as bt
from dpo_toy import elo
from dpo_toy.exercises import FAILED, NOT_ATTEMPTED, PASSED, check, get, ids

FUNCTION_IDS = [i for i in ids() if get(i).kind == "function"]

SOLUTIONS = {
    "0.1": d.softmax,
    "0.2": d.log_sigmoid,
    "1.1": d.optimal_policy,
    "1.2": d.kl_divergence,
    "2.1": d.log_partition,
    "2.2": d.implied_reward,
    "3.1": bt.log_likelihood,
    "3.2": elo.elo_update,
    "3.3": bt.mm_update,
    "4.1": d.reward_model_loss,
    "4.2": d.reward_model_loss_grad,
    "5.1": lambda pc, pr, rc, rr, b: b * ((pc - rc) - (pr - rr)),
    "5.2": d.dpo_loss,
    "6.1": lambda pc, pr, rc, rr, b: d.dpo_loss_grad(pc, pr, rc, rr, b)[:2],
    "6.2": lambda pc, pr, rc, rr, b: d.dpo_loss(pc, pr, rc, rr, b, loss_type="ipo"),
    "7.1": lambda *args: __import__("dpo_toy.sequences").sequences.sequence_logps(*args),
    "9.1": lambda pc, pr, rc, rr, lc, lr, b: d.dpo_loss(pc / lc, pr / lr, rc / lc, rr / lr, b, loss_type="ipo"),
    "9.2": lambda c, r: d.dpo_rewards(c, r, np.zeros_like(c), np.zeros_like(r), 1.0).summary()["rewards/accuracies"],
    "8.1": lambda *args: __import__("dpo_toy.rlhf").rlhf.policy_gradient(*args),
    "8.2": lambda r, a, c: np.mean(np.minimum(r * a, np.clip(r, 1 - c, 1 + c) * a)),
    "7.2": lambda p, r, b: d.dpo_loss(p[: p.size // 2], p[p.size // 2 :], r[: r.size // 2], r[r.size // 2 :], b),
}


def _learner_softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def _learner_optimal_policy(pi_ref, rewards, beta):
    logits = np.log(pi_ref) + rewards / beta
    w = np.exp(logits - logits.max())
    return w / w.sum()


def _learner_kl(p, q):
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_reference_passes(exercise_id):
    """Each function exercise's reference (imported from the library) passes its own check."""
    verdict = check(exercise_id, get(exercise_id).reference)
    assert verdict.status == PASSED, str(verdict)
    assert bool(verdict)


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_library_solution_passes(exercise_id):
    """Solutions composed from the library's public functions, independently of the references, pass."""
    verdict = check(exercise_id, SOLUTIONS[exercise_id])
    assert verdict.status == PASSED, str(verdict)
    assert bool(verdict)


@pytest.mark.parametrize(
    "exercise_id, fn", [("0.1", _learner_softmax), ("1.1", _learner_optimal_policy), ("1.2", _learner_kl)]
)
def test_independent_learner_solutions_pass(exercise_id, fn):
    """Right answers written the way a learner would write them pass too."""
    assert check(exercise_id, fn).status == PASSED


CATALOGUE = [(i, m) for i in FUNCTION_IDS for m in get(i).mistakes]


@pytest.mark.parametrize("exercise_id, mistake", CATALOGUE, ids=[f"{e}-{m.name}" for e, m in CATALOGUE])
def test_each_catalogued_mistake_is_named(exercise_id, mistake):
    """A function with exactly that mistake gets that mistake's message, not another's."""
    verdict = check(exercise_id, mistake.compute)
    assert verdict.status == FAILED and verdict.mistake == mistake.name, str(verdict)
    assert mistake.message in verdict.message


LEARNER_MISTAKES = [
    ("0.1", lambda z: np.exp(z) / np.exp(z).sum(), "unstable"),
    ("0.2", lambda z: np.log(1 / (1 + np.exp(-z))), "unstable"),
    ("1.1", lambda p, r, b: p * np.exp(r / b) / np.sum(p * np.exp(r / b)), "unstable"),
    ("1.1", lambda p, r, b: p * np.exp(b * r) / np.sum(p * np.exp(b * r)), "exp(beta*r)"),
    ("1.1", lambda p, r, b: p * np.exp(r / b), "not normalised"),
    ("1.1", lambda p, r, b: np.exp(r / b) / np.exp(r / b).sum(), "forgot pi_ref"),
    ("1.2", lambda p, q: np.sum(p * np.log(p / q)), "0 log 0"),
    ("1.2", lambda p, q: np.sum(p * np.log2(np.where(p > 0, p, 1) / q)), "log2"),
    ("2.1", lambda p, r, b: np.log(np.sum(p * np.exp(r / b))), "unstable"),
    ("2.1", lambda p, r, b: np.sum(p * np.exp(r / b)), "Z not log Z"),
    ("2.2", lambda p, q, b: np.log(p / q), "forgot beta"),
    ("2.2", lambda p, q, b: b * np.log(q / p), "inverted ratio"),
    ("3.1", lambda s, a, b, y: -np.sum(y * d.log_sigmoid(s[a] - s[b]) + (1 - y) * d.log_sigmoid(s[b] - s[a])), "sign"),
    (
        "3.1",
        lambda s, a, b, y: np.sum(y * d.log_sigmoid(s[b] - s[a]) + (1 - y) * d.log_sigmoid(s[a] - s[b])),
        "players swapped",
    ),
    (
        "3.2",
        lambda ra, rb, y, k: (
            ra + k * (y - 1 / (1 + np.exp((rb - ra) / 400))),
            rb - k * (y - 1 / (1 + np.exp((rb - ra) / 400))),
        ),
        "base e",
    ),
    (
        "3.2",
        lambda ra, rb, y, k: (
            ra - k * (y - 1 / (1 + 10 ** ((rb - ra) / 400))),
            rb + k * (y - 1 / (1 + 10 ** ((rb - ra) / 400))),
        ),
        "sign",
    ),
]


def _h(pc, pr, rc, rr):
    return (pc - rc) - (pr - rr)


def _learner_dpo_grad(pc, pr, rc, rr, b):
    with np.errstate(over="ignore"):
        g = -b / (1 + np.exp(b * _h(pc, pr, rc, rr))) / pc.size  # -beta sigma(-z) / n
    return g, -g


LEARNER_MISTAKES += [
    (
        "6.1",
        lambda pc, pr, rc, rr, b: (
            -b * np.exp(-b * _h(pc, pr, rc, rr)) / (1 + np.exp(-b * _h(pc, pr, rc, rr))) / pc.size,
            b * np.exp(-b * _h(pc, pr, rc, rr)) / (1 + np.exp(-b * _h(pc, pr, rc, rr))) / pc.size,
        ),
        "unstable",
    ),
    ("6.1", lambda pc, pr, rc, rr, b: tuple(-g for g in _learner_dpo_grad(pc, pr, rc, rr, b)), "sign"),
    ("6.2", lambda pc, pr, rc, rr, b: np.mean((_h(pc, pr, rc, rr) - 1 / b) ** 2), "target 1/beta"),
    ("6.2", lambda pc, pr, rc, rr, b: np.sum((_h(pc, pr, rc, rr) - 1 / (2 * b)) ** 2), "sum"),
]


def _learner_sequence_logps(model, input_ids, attention_mask, completion_mask):
    import torch

    logps = torch.log_softmax(model(input_ids, attention_mask), dim=-1)
    total = torch.zeros(input_ids.shape[0])
    for row in range(input_ids.shape[0]):  # the loop a learner writes first
        for t in range(1, input_ids.shape[1]):
            if completion_mask[row, t]:
                total[row] += logps[row, t - 1, input_ids[row, t]]
    return total


def test_learner_sequence_logps_loop_passes_and_mean_is_named():
    """A token-by-token loop passes 7.1; the same loop divided by the length is named "mean"."""
    assert check("7.1", _learner_sequence_logps).status == PASSED
    verdict = check("7.1", lambda m, i, a, c: _learner_sequence_logps(m, i, a, c) / c.sum(-1))
    assert verdict.status == FAILED and verdict.mistake == "mean", str(verdict)


def test_learner_dpo_gradient_written_by_hand_passes():
    """A hand-written gradient with a stable sigma(-z) passes 6.1, the extreme case included."""
    assert check("6.1", _learner_dpo_grad).status == PASSED


@pytest.mark.parametrize("exercise_id, fn, name", LEARNER_MISTAKES, ids=[f"{e}-{n}" for e, _, n in LEARNER_MISTAKES])
def test_learner_style_mistakes_are_recognised(exercise_id, fn, name):
    """Mistakes typed the way learners type them (naive formulas) are recognised by name."""
    verdict = check(exercise_id, fn)
    assert verdict.status == FAILED and verdict.mistake == name, str(verdict)


def test_unstable_message_names_the_extreme_inputs():
    """The overflow verdict says which inputs broke and what to do."""
    verdict = check("1.1", LEARNER_MISTAKES[2][1])
    assert "France, beta=0.001" in verdict.message and "log space" in verdict.message


def _stub(*args):
    raise NotImplementedError("Exercise: your code here")


def _mutates(pi_ref, rewards, beta):
    rewards -= rewards.max()
    return d.optimal_policy(pi_ref, rewards, beta)


class _Weird:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("cannot become an array")


BROKEN = [
    (_stub, NOT_ATTEMPTED, "not attempted"),
    (lambda p, r, b: None, "failed", "forget `return`"),
    (lambda p, r, b: 1 / 0, "failed", "raised ZeroDivisionError"),
    (lambda p, r, b: np.full(p.shape, np.nan), "failed", "NaN"),
    (lambda p, r, b: d.optimal_policy(p, r, b)[:-1], "failed", "wrong shape"),
    (lambda p, r, b: "pi star", "failed", "returned a str"),
    (lambda p, r, b: _Weird(), "failed", ""),
    (_mutates, "failed", "changed its input `rewards`"),
    (lambda p: p, "failed", "raised TypeError"),
    (42, "failed", "expected a function"),
    (lambda p, r, b: d.optimal_policy(p, r, b)[::-1], "failed", "wrong value"),
]


@pytest.mark.parametrize("fn, status, words", BROKEN, ids=[f"broken{i}" for i in range(len(BROKEN))])
def test_broken_learner_code_gets_a_verdict_not_a_traceback(fn, status, words):
    """Stubs, crashes, None, NaN, wrong shape/type, in-place edits and wrong arity all get a message."""
    verdict = check("1.1", fn)
    assert verdict.status == status, str(verdict)
    assert words in verdict.message
    assert str(verdict).startswith(("✅", "📝", "❌"))


def test_unknown_exercise_id_names_the_nearest_ones():
    """A mistyped id is a one-line verdict naming the nearest valid ids, not a traceback."""
    verdict = check("1.10", d.softmax)
    assert verdict.status == FAILED and "1.1" in verdict.message and "did you mean" in verdict.message
    verdict = check("9.9", d.softmax)
    assert verdict.status == FAILED and "9.1" in verdict.message
