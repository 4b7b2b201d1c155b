r"""Checks for the exercises: run the learner's function on many inputs and give a short verdict.

A check never crashes the notebook. It compares the learner's function with the library on a
fixed set of inputs and, when they disagree, tries to say *which* classic mistake was made
(forgot to normalise, ``exp(beta * r)`` instead of ``exp(r / beta)``, overflow at small β, ...).
It also reports a function that raises, returns ``None`` or NaN, returns the wrong shape, or
changes its input in place. A function that still raises ``NotImplementedError`` (the stub) is
"not attempted yet".

Usage in a notebook::

    from dpo_toy.exercises import check
    check("1.1", my_optimal_policy)
"""

import copy
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import policy, stable
from .toy import capital_of_france

PASSED, NOT_ATTEMPTED, MISTAKE, FAILED = "passed", "not attempted", "mistake", "failed"
_ICONS = {PASSED: "✅", NOT_ATTEMPTED: "📝", MISTAKE: "❌", FAILED: "❌"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: ``status`` is passed / not attempted / mistake / failed."""

    exercise: str
    status: str
    message: str
    mistake: str = ""  # the catalogued mistake's name when status == "mistake"

    def __bool__(self):
        return self.status == PASSED

    def __str__(self):
        return f"{_ICONS[self.status]} Exercise {self.exercise}: {self.message}"

    __repr__ = __str__


@dataclass(frozen=True)
class Case:
    """One input to try: positional ``args``, a readable ``label``; ``hard`` marks extreme inputs."""

    label: str
    args: tuple
    hard: bool = False


@dataclass(frozen=True)
class Mistake:
    """A classic wrong answer: ``compute`` returns what a function with this mistake returns."""

    name: str
    message: str
    compute: object


@dataclass(frozen=True)
class Exercise:
    """An exercise: the signature asked for, the library reference, the inputs and the mistakes."""

    id: str
    signature: str
    reference: object
    cases: tuple
    mistakes: tuple = ()
    unstable_hint: str = "it breaks down on extreme inputs; compute in log space"
    rtol: float = 1e-6
    atol: float = 1e-9
    arg_names: tuple = field(default=())


# --- the engine ------------------------------------------------------------------------------


@dataclass
class _Outcome:
    case: Case
    kind: str  # ok, wrong, raised, none, type, shape, mutated, nonfinite, not_attempted
    value: object = None
    detail: str = ""


def _quiet(fn, *args):
    """Call fn with NumPy warnings silenced; a learner's overflow is reported, not printed."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def _close(a, b, ex):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=ex.rtol, atol=ex.atol, equal_nan=True))


def _same(a, b):
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except TypeError:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def _run_case(ex, fn, case):
    args = copy.deepcopy(case.args)
    try:
        out = _quiet(fn, *args)
    except NotImplementedError:
        return _Outcome(case, "not_attempted")
    except Exception as exc:  # the learner's bug, reported kindly
        return _Outcome(case, "raised", detail=f"{type(exc).__name__}: {exc}")
    for i, (before, after) in enumerate(zip(case.args, args)):
        if not _same(before, after):
            name = ex.arg_names[i] if i < len(ex.arg_names) else f"argument {i + 1}"
            return _Outcome(case, "mutated", detail=name)
    if out is None:
        return _Outcome(case, "none")
    try:
        value = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        return _Outcome(case, "type", detail=type(out).__name__)
    expected = np.asarray(ex.reference(*case.args), dtype=float)
    if value.shape != expected.shape:
        return _Outcome(case, "shape", value, f"got shape {value.shape}, expected {expected.shape}")
    if _close(value, expected, ex):
        return _Outcome(case, "ok", value)
    if np.isnan(value).any():
        return _Outcome(case, "nonfinite", value, "NaN")
    if np.isinf(value).any() and not np.isinf(expected).any():
        return _Outcome(case, "nonfinite", value, "inf")
    return _Outcome(case, "wrong", value)


def _matches(ex, mistake, outcomes):
    """The learner's output equals what the mistake computes on every input tried.

    On extreme inputs a learner's naive formula may overflow where the catalogued version does
    not; the mistake is still named (the overflow is a second problem, reported once it is fixed).
    """
    for o in outcomes:
        if o.value is None:
            return False
        if o.case.hard and not np.isfinite(o.value).all():
            continue
        try:
            wrong = _quiet(mistake.compute, *copy.deepcopy(o.case.args))
        except Exception:
            return False
        if not _close(o.value, wrong, ex):
            return False
    # A "mistake" that agrees with the reference everywhere tells nothing.
    return any(o.kind != "ok" for o in outcomes)


def _short(x):
    arr = np.asarray(x, dtype=float)
    with np.printoptions(precision=4, suppress=True, threshold=8):
        return np.array2string(arr, separator=", ")


def _verdict(ex, fn):
    if not callable(fn):
        return Verdict(ex.id, FAILED, f"expected a function {ex.signature}, got {type(fn).__name__}")
    outcomes = [_run_case(ex, fn, case) for case in ex.cases]
    kinds = {o.kind for o in outcomes}
    first = {}
    for o in outcomes:
        first.setdefault(o.kind, o)
    if "not_attempted" in kinds:
        return Verdict(ex.id, NOT_ATTEMPTED, "not attempted yet (the stub still raises NotImplementedError)")
    if kinds == {"ok"}:
        extreme = " (extreme ones included)" if any(c.hard for c in ex.cases) else ""
        return Verdict(ex.id, PASSED, f"passed on all {len(outcomes)} inputs{extreme}.")
    if "mutated" in kinds:
        name = first["mutated"].detail
        return Verdict(ex.id, FAILED, f"your function changed its input `{name}` in place; work on a copy instead")
    if "none" in kinds:
        return Verdict(ex.id, FAILED, "your function returned None: did you forget `return`?")
    if kinds <= {"ok", "wrong", "nonfinite", "shape"}:
        for mistake in ex.mistakes:
            if _matches(ex, mistake, outcomes):
                return Verdict(ex.id, MISTAKE, mistake.message, mistake.name)
    if "raised" in kinds:
        o = first["raised"]
        return Verdict(ex.id, FAILED, f"your function raised {o.detail} on input {o.case.label}")
    if "type" in kinds:
        o = first["type"]
        return Verdict(ex.id, FAILED, f"your function returned a {o.detail}, expected numbers (an array or a float)")
    if "shape" in kinds:
        o = first["shape"]
        return Verdict(ex.id, FAILED, f"wrong shape on input {o.case.label}: {o.detail}")
    bad = [o for o in outcomes if o.kind != "ok"]
    if all(o.case.hard for o in bad):
        labels = "; ".join(f"'{o.case.label}'" for o in bad)
        return Verdict(ex.id, MISTAKE, f"right on ordinary inputs, but not on {labels}: {ex.unstable_hint}", "unstable")
    o = bad[0]
    if o.kind == "nonfinite":
        return Verdict(ex.id, FAILED, f"your function returned {o.detail} on input {o.case.label}")
    expected = ex.reference(*o.case.args)
    return Verdict(
        ex.id, FAILED, f"wrong value on input {o.case.label}: got {_short(o.value)}, expected {_short(expected)}"
    )


def check_exercise(ex, fn):
    """Run exercise ``ex`` against the learner's ``fn``; return a :class:`Verdict`, never raise."""
    try:
        return _verdict(ex, fn)
    except Exception as exc:  # a bug in an odd return value must not become a traceback storm
        return Verdict(ex.id, FAILED, f"could not check your function: {type(exc).__name__}: {exc}")


def check(exercise_id, fn):
    """Check the learner's function for exercise ``exercise_id`` (e.g. ``"1.1"``) and return the verdict."""
    if exercise_id not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise ValueError(f"exercise_id must be one of {known}; got {exercise_id!r}")
    return check_exercise(EXERCISES[exercise_id], fn)


# --- the catalogue -----------------------------------------------------------------------------

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
    )
}
