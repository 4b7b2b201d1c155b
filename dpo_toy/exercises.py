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

    def all_cases(self):
        """The cases; ``cases`` may be a function that builds them (e.g. a model) on first use."""
        if callable(self.cases):
            object.__setattr__(self, "cases", tuple(self.cases()))
        return self.cases


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


def _plain(x):
    """NumPy values for comparing: tensors are detached, models become their parameter arrays."""
    if hasattr(x, "state_dict") and callable(x.state_dict):
        return [_plain(v) for v in x.state_dict().values()]
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return x.detach().cpu().numpy()
    if isinstance(x, tuple | list):
        return type(x)(_plain(v) for v in x)
    return x


def _close(a, b, ex):
    a, b = np.asarray(_plain(a), dtype=float), np.asarray(_plain(b), dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=ex.rtol, atol=ex.atol, equal_nan=True))


def _same(a, b):
    a, b = _plain(a), _plain(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
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
        value = np.asarray(_plain(out), dtype=float)
    except (TypeError, ValueError):
        return _Outcome(case, "type", detail=type(out).__name__)
    expected = np.asarray(_plain(ex.reference(*case.args)), dtype=float)
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
    cases = ex.all_cases()
    outcomes = [_run_case(ex, fn, case) for case in cases]
    kinds = {o.kind for o in outcomes}
    first = {}
    for o in outcomes:
        first.setdefault(o.kind, o)
    if "not_attempted" in kinds:
        return Verdict(ex.id, NOT_ATTEMPTED, "not attempted yet (the stub still raises NotImplementedError)")
    if kinds == {"ok"}:
        extreme = " (extreme ones included)" if any(c.hard for c in cases) else ""
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
    from .catalogue import EXERCISES  # the catalogue builds on this module's classes

    if exercise_id not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise ValueError(f"exercise_id must be one of {known}; got {exercise_id!r}")
    verdict = check_exercise(EXERCISES[exercise_id], fn)
    emit(verdict)
    return verdict


# --- SHIM for dpo_toy.grade (branch `grade`), to be dropped when merging with issue 11's package ---
# The interface is fixed in notes/EXERCISES_API.md: ids(chapter) and one JSON line per verdict in
# the file named by $DPO_TOY_VERDICTS. The real implementation lives in dpo_toy/exercises/_record.py.

VERDICTS_ENV = "DPO_TOY_VERDICTS"


def _id_key(exercise_id):
    chapter, _, rest = exercise_id.partition(".")
    return (int(chapter), rest.isdigit(), int(rest) if rest.isdigit() else rest)


def ids(chapter=None):
    """All exercise ids in natural order, or those of one chapter (the integer before the dot)."""
    from .catalogue import EXERCISES

    found = sorted(EXERCISES, key=_id_key)
    return found if chapter is None else [i for i in found if int(i.partition(".")[0]) == chapter]


def emit(verdict):
    """Append one JSON line for ``verdict`` to the file named by ``$DPO_TOY_VERDICTS``, if set."""
    import json
    import os

    path = os.environ.get(VERDICTS_ENV)
    if not path:
        return False
    status = FAILED if verdict.status == MISTAKE else verdict.status
    line = {"exercise": verdict.exercise, "verdict": status, "mistake": verdict.mistake, "message": verdict.message}
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    except OSError:
        return False
    return True
