"""The function exercises: right answers pass, every catalogued mistake is named in the forms learners
write it, and any other answer gets one line (got/expected, or what went wrong), never a traceback."""

import sys
import threading
import time

import numpy as np
import pytest

import dpo_toy as d
from dpo_toy import bradley_terry as bt
from dpo_toy import elo
from dpo_toy.exercises import FAILED, NOT_ATTEMPTED, PASSED, check, get, ids, set_time_limit

FUNCTION_IDS = [i for i in ids() if get(i).kind == "function"]

# Solutions composed from the library's public functions, independently of each exercise's reference
# (the notebooks' solution editions are a second, independent set, checked by nbval).
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
    "7.2": lambda p, r, b: d.dpo_loss(p[: p.size // 2], p[p.size // 2 :], r[: r.size // 2], r[r.size // 2 :], b),
    "8.1": lambda *args: __import__("dpo_toy.rlhf").rlhf.policy_gradient(*args),
    "8.2": lambda r, a, c: np.mean(np.minimum(r * a, np.clip(r, 1 - c, 1 + c) * a)),
    "9.1": lambda pc, pr, rc, rr, lc, lr, b: d.dpo_loss(pc / lc, pr / lr, rc / lc, rr / lr, b, loss_type="ipo"),
    "9.2": lambda c, r: d.dpo_rewards(c, r, np.zeros_like(c), np.zeros_like(r), 1.0).summary()["rewards/accuracies"],
}


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_each_exercise_runs_on_8_inputs_random_and_extreme(exercise_id):
    """At least 8 inputs, some drawn at random, at least one extreme (``hard``)."""
    cases = get(exercise_id).all_cases()
    assert len(cases) >= 8
    assert any(c.hard for c in cases) and any("random" in c.label for c in cases)
    assert len({c.label for c in cases}) == len(cases)


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_reference_passes(exercise_id):
    """Each function exercise's reference (imported from the library) passes its own check."""
    verdict = check(exercise_id, get(exercise_id).reference)
    assert verdict.status == PASSED and bool(verdict), str(verdict)


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_library_solution_passes(exercise_id):
    """Solutions composed from the library's public functions pass."""
    verdict = check(exercise_id, SOLUTIONS[exercise_id])
    assert verdict.status == PASSED, str(verdict)


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


@pytest.mark.parametrize(
    "exercise_id, fn", [("0.1", _learner_softmax), ("1.1", _learner_optimal_policy), ("1.2", _learner_kl)]
)
def test_independent_learner_solutions_pass(exercise_id, fn):
    """Right answers written the way a learner would write them pass too."""
    assert check(exercise_id, fn).status == PASSED


# --- catalogued mistakes, in every form the chapter module lists ------------------------------------

FORMS = [
    (i, m, f, form)
    for i in FUNCTION_IDS
    for m in get(i).mistakes
    for form, f in ((("compute", m.compute),) if m.compute else ())
    + tuple((f"example{k}", e) for k, e in enumerate(m.examples))
]


@pytest.mark.parametrize("exercise_id, mistake, fn, form", FORMS, ids=[f"{e}-{m.name}-{f}" for e, m, _, f in FORMS])
def test_each_catalogued_mistake_is_named_in_each_form(exercise_id, mistake, fn, form):
    """A function with exactly that mistake, naive or stable, gets that mistake's name and message."""
    verdict = check(exercise_id, fn)
    assert verdict.status == FAILED and verdict.mistake == mistake.name, str(verdict)
    assert mistake.message in verdict.message


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_every_mistake_has_learner_style_examples(exercise_id):
    """Each catalogued mistake comes with at least one learner-style example (tested above)."""
    assert all(m.examples for m in get(exercise_id).mistakes)


def test_sign_inside_sigma_is_told_apart_from_swapped_parameters():
    """Right parameter order + margin backwards = sign error; parameters in swapped order = swapped."""

    def sign_error(r_chosen, r_rejected):
        return np.mean(np.logaddexp(0, r_chosen - r_rejected))

    def swapped(r_rejected, r_chosen):
        return np.mean(np.logaddexp(0, r_rejected - r_chosen))

    assert check("4.1", sign_error).mistake == "sign inside sigma"
    assert check("4.1", swapped).mistake == "swapped"


# --- learner-style answers that are not catalogued mistakes -------------------------------------------


def _h(pc, pr, rc, rr):
    return (pc - rc) - (pr - rr)


def _learner_dpo_grad(pc, pr, rc, rr, b):
    with np.errstate(over="ignore"):
        g = -b / (1 + np.exp(b * _h(pc, pr, rc, rr))) / pc.size  # -beta sigma(-z) / n
    return g, -g


UNSTABLE = [
    ("0.1", lambda z: np.exp(z) / np.exp(z).sum()),
    ("0.2", lambda z: np.log(1 / (1 + np.exp(-z)))),
    ("1.1", lambda p, r, b: p * np.exp(r / b) / np.sum(p * np.exp(r / b))),
    ("2.1", lambda p, r, b: np.log(np.sum(p * np.exp(r / b)))),
    ("4.1", lambda w, lo: -np.mean(np.log(1 / (1 + np.exp(-(w - lo)))))),
    ("5.2", lambda pc, pr, rc, rr, b: -np.mean(np.log(1 / (1 + np.exp(-b * _h(pc, pr, rc, rr)))))),
    (
        "6.1",
        lambda pc, pr, rc, rr, b: (
            -b * np.exp(-b * _h(pc, pr, rc, rr)) / (1 + np.exp(-b * _h(pc, pr, rc, rr))) / pc.size,
            b * np.exp(-b * _h(pc, pr, rc, rr)) / (1 + np.exp(-b * _h(pc, pr, rc, rr))) / pc.size,
        ),
    ),
]


@pytest.mark.parametrize("exercise_id, fn", UNSTABLE, ids=[e for e, _ in UNSTABLE])
def test_naive_formulas_are_right_but_unstable(exercise_id, fn):
    """A naive formula right on ordinary inputs is told where it breaks and what to do."""
    verdict = check(exercise_id, fn)
    assert verdict.status == FAILED and verdict.mistake == "unstable", str(verdict)
    hard = [c.label for c in get(exercise_id).all_cases() if c.hard]
    assert any(label in verdict.message for label in hard)


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
    """A token-by-token loop passes 7.1 (with autograd on); divided by the length it is named "mean"."""
    assert check("7.1", _learner_sequence_logps).status == PASSED
    verdict = check("7.1", lambda m, i, a, c: _learner_sequence_logps(m, i, a, c) / c.sum(-1))
    assert verdict.status == FAILED and verdict.mistake == "mean", str(verdict)


def test_learner_dpo_gradient_written_by_hand_passes():
    """A hand-written gradient with a stable sigma(-z) passes 6.1, the extreme case included."""
    assert check("6.1", _learner_dpo_grad).status == PASSED


def _perturbed(x):
    """The right answer plus a small uneven offset: wrong, and no catalogued or generic mistake."""
    if isinstance(x, tuple | list):
        return type(x)(_perturbed(v) for v in x)
    if hasattr(x, "detach"):
        x = x.detach().double().numpy()
    x = np.asarray(x, float)
    return x + 0.0123 * (1 + np.arange(x.size)).reshape(x.shape) + 0.0077


@pytest.mark.parametrize("exercise_id", FUNCTION_IDS)
def test_a_wrong_uncatalogued_answer_shows_got_and_expected(exercise_id):
    """Any exercise (7.1's PyTorch reference included) answers a plain wrong value with got/expected."""
    reference = get(exercise_id).reference
    verdict = check(exercise_id, lambda *args: _perturbed(reference(*args)))
    assert verdict.status == FAILED and verdict.mistake == "", str(verdict)
    assert "wrong value on input" in verdict.message and "got" in verdict.message and "expected" in verdict.message


# --- broken code: one line, never a traceback ---------------------------------------------------------


def _stub(*args):
    raise NotImplementedError("Exercise: your code here")


def _partial_stub(pi_ref, rewards, beta):
    if beta < 0.01:
        raise NotImplementedError("the small-beta branch is still to do")
    return d.optimal_policy(pi_ref, rewards, beta)


def _mutates(pi_ref, rewards, beta):
    rewards -= rewards.max()
    return d.optimal_policy(pi_ref, rewards, beta)


def _yields(pi_ref, rewards, beta):
    yield from d.optimal_policy(pi_ref, rewards, beta)


def _bfloat16(pi_ref, rewards, beta):
    import torch

    return torch.tensor(d.optimal_policy(pi_ref, rewards, beta)).to(torch.bfloat16)


class _Weird:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("cannot become an array")


BROKEN = [
    (_stub, NOT_ATTEMPTED, "not attempted"),
    (None, NOT_ATTEMPTED, "not attempted"),
    (_partial_stub, FAILED, "failed on input France, beta=0.001: it raised NotImplementedError"),
    (lambda p, r, b: None, FAILED, "forget `return`"),
    (lambda p, r, b: 1 / 0, FAILED, "raised ZeroDivisionError"),
    (lambda p, r, b: sys.exit(3), FAILED, "raised SystemExit: 3 on input"),
    (lambda p, r, b: np.full(p.shape, np.nan), FAILED, "NaN"),
    (lambda p, r, b: d.optimal_policy(p, r, b)[:-1], FAILED, "wrong shape"),
    (lambda p, r, b: "pi star", FAILED, "returned a str"),
    (lambda p, r, b: _Weird(), FAILED, ""),
    (_mutates, FAILED, "changed its input `rewards`"),
    (lambda p: p, FAILED, "your function takes (p), but the check calls it with 3 arguments: optimal_policy("),
    (42, FAILED, "expected a function"),
    (lambda p, r, b: d.optimal_policy(p, r, b)[::-1], FAILED, "wrong value"),
    (lambda p, r, b: d.optimal_policy(p, r, b) + 0j, FAILED, "complex numbers"),
    (lambda p, r, b: d.optimal_policy(p, r, b).astype(np.float16), FAILED, "float16 numbers"),
    (_bfloat16, FAILED, "bfloat16 numbers"),
    (_yields, FAILED, "contains `yield`"),
    (lambda p, r, b: (x for x in d.optimal_policy(p, r, b)), FAILED, "returned a generator"),
    (lambda p, r, b: np.round(d.optimal_policy(p, r, b), 4), FAILED, "rounded to 4 decimals"),
]


@pytest.mark.parametrize("fn, status, words", BROKEN, ids=[f"broken{i}" for i in range(len(BROKEN))])
def test_broken_learner_code_gets_a_verdict_not_a_traceback(fn, status, words):
    """Stubs, partial stubs, crashes, sys.exit, odd return types and wrong arity all get one line."""
    verdict = check("1.1", fn)
    assert verdict.status == status, str(verdict)
    assert words in verdict.message
    assert str(verdict).startswith(("✅", "📝", "❌")) and "\n" not in str(verdict)


GENERIC = [
    ("5.2", lambda pc, pr, rc, rr, b: np.logaddexp(0, -b * _h(pc, pr, rc, rr)), "per-pair values"),
    ("4.1", lambda w, lo: np.logaddexp(0, lo - w), "per-pair values"),
    ("4.2", lambda w, lo: d.reward_model_loss_grad(w, lo)[0], "one gradient"),
    ("6.1", lambda *a: d.dpo_loss_grad(*a)[1], "one gradient"),
    ("6.2", lambda *a: -d.dpo_loss(*a, loss_type="ipo"), "negated"),
    ("9.1", lambda *a: np.round(get("9.1").reference(*a), 3), "rounded"),
]


@pytest.mark.parametrize("exercise_id, fn, name", GENERIC, ids=[f"{e}-{n}" for e, _, n in GENERIC])
def test_generic_mistakes_are_named(exercise_id, fn, name):
    """Per-pair values instead of the mean, one gradient of two, a minus sign, rounding: named anywhere."""
    verdict = check(exercise_id, fn)
    assert verdict.status == FAILED and verdict.mistake == name, str(verdict)


def test_unknown_exercise_id_names_the_nearest_ones():
    """A mistyped id is a one-line verdict naming the nearest valid ids, not a traceback."""
    verdict = check("1.10", d.softmax)
    assert verdict.status == FAILED and "1.1" in verdict.message and "did you mean" in verdict.message
    verdict = check("9.9", d.softmax)
    assert verdict.status == FAILED and "9.1" in verdict.message
    assert check(None, d.softmax).status == FAILED


# --- time limit and printed output --------------------------------------------------------------


def _endless(pi_ref, rewards, beta):
    while True:
        pass


def _sleeps(pi_ref, rewards, beta):
    time.sleep(60)


def _swallows(pi_ref, rewards, beta):
    while True:
        try:
            while True:
                pass
        except Exception:  # a learner's `except Exception` does not catch the time limit
            pass


@pytest.mark.parametrize("fn", [_endless, _sleeps, _swallows], ids=["loop", "sleep", "except-Exception"])
def test_time_limit_stops_the_function_and_answers(fn):
    """Past the limit the verdict says so within about the limit, and no thread keeps running."""
    threads = threading.active_count()
    start = time.monotonic()
    verdict = check("1.1", fn, time_limit=0.5)
    elapsed = time.monotonic() - start
    assert verdict.status == FAILED and verdict.mistake == "timeout" and "longer than 0.5 s" in verdict.message
    assert elapsed < 5  # 0.5 s plus scheduling under load
    assert threading.active_count() == threads
    cpu = time.process_time()
    time.sleep(0.3)
    assert time.process_time() - cpu < 0.1  # nothing left burning CPU in this process


def test_time_limit_from_another_thread_uses_the_watchdog():
    """Called outside the main thread (no SIGALRM), the watchdog's async exception stops the loop."""
    box = {}
    worker = threading.Thread(target=lambda: box.setdefault("v", check("1.1", _endless, time_limit=0.5)))
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and box["v"].mistake == "timeout"
    assert check("1.1", d.optimal_policy).status == PASSED  # and the next check runs normally


def test_default_time_limit_is_settable():
    previous = set_time_limit(0.3)
    try:
        assert "longer than 0.3 s" in check("1.1", _endless).message
    finally:
        set_time_limit(previous)
    with pytest.raises(ValueError, match="seconds"):
        set_time_limit(-1)


def test_printed_output_is_capped(capsys):
    """What the learner's function prints is shown once, capped, before the verdict."""

    def chatty(pi_ref, rewards, beta):
        for i in range(500):
            print("step", i)
        return d.optimal_policy(pi_ref, rewards, beta)

    verdict = check("1.1", chatty)
    out = capsys.readouterr().out
    assert verdict.status == PASSED
    assert "step 0" in out and "step 499" not in out and "more characters of output not shown" in out
    assert len(out.splitlines()) <= 20
