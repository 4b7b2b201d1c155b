r"""The engine of the function exercises: run the learner's function on many inputs, give one verdict.

A check never crashes the notebook. It compares the learner's function with the library on a
fixed set of inputs and, when they disagree, tries to say *which* classic mistake was made
(forgot to normalise, ``exp(beta * r)`` instead of ``exp(r / beta)``, overflow at small β, ...).
It also reports a function that raises, returns ``None`` or NaN, returns the wrong shape, or
changes its input in place. A function that still raises ``NotImplementedError`` (the stub) is
"not attempted".

The building blocks a chapter module uses: :class:`Case` (one input), :class:`Mistake` (a classic
wrong answer, computed), :class:`Exercise` (a function to write), :class:`LibraryFunction` (a
reference imported from the library only when first called, for the PyTorch chapters).
"""

import copy
import importlib
import warnings
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

PASSED, NOT_ATTEMPTED, FAILED = "passed", "not attempted", "failed"
STATUSES = (PASSED, NOT_ATTEMPTED, FAILED)
_ICONS = {PASSED: "✅", NOT_ATTEMPTED: "📝", FAILED: "❌"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check, shown as one line.

    ``status`` is "passed", "not attempted" or "failed"; ``mistake`` names the catalogued mistake
    (or the wrong option of a choice) when one was recognised, else "".
    """

    exercise: str
    status: str
    message: str
    mistake: str = ""
    noun: str = "Exercise"  # "Exercise" for functions to write, "Question" for the other kinds

    def __bool__(self):
        return self.status == PASSED

    def __str__(self):
        return f"{_ICONS[self.status]} {self.noun} {self.exercise}: {self.message}"

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


class LibraryFunction:
    """A library function imported on first call (``LibraryFunction("dpo_toy.hf", "trl_ipo_loss")``).

    Chapter modules use it for references that need PyTorch, so importing the exercises stays cheap.
    """

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args, **kwargs):
        return getattr(importlib.import_module(self.module), self.name)(*args, **kwargs)

    def __repr__(self):
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Exercise:
    """A function to write: the signature asked for, the library reference, the inputs and the mistakes.

    Parameters
    ----------
    id : str
        "<chapter>.<n>", e.g. "1.1".
    signature : str
        What the learner writes, as shown in messages: ``"optimal_policy(pi_ref, rewards, beta)"``.
    reference : callable
        The library's answer (imported from the library, never re-coded here).
    cases : tuple of Case, or a callable returning them (built on first use, e.g. needing PyTorch)
    mistakes : tuple of Mistake
    unstable_hint : str
        The advice when the answer is right except on the ``hard`` cases.
    rtol, atol : float
        Tolerances of the comparison with the reference.
    arg_names : tuple of str
        The argument names, for "changed its input `rewards` in place".
    title : str
        A short description for the tables ("the optimal policy π*").
    difficulty : int
        1 (a line or two) to 3 (needs the chapter's derivation).
    """

    kind: ClassVar[str] = "function"
    noun: ClassVar[str] = "Exercise"

    id: str
    signature: str
    reference: object
    cases: object
    mistakes: tuple = ()
    unstable_hint: str = "it breaks down on extreme inputs; compute in log space"
    rtol: float = 1e-6
    atol: float = 1e-9
    arg_names: tuple = field(default=())
    title: str = ""
    difficulty: int = 1

    @property
    def chapter(self):
        return int(self.id.split(".")[0])

    @property
    def mistake_names(self):
        return tuple(m.name for m in self.mistakes)

    def all_cases(self):
        """The cases; ``cases`` may be a function that builds them (e.g. a model) on first use."""
        if callable(self.cases):
            object.__setattr__(self, "cases", tuple(self.cases()))
        return self.cases

    def check(self, fn):
        """Run the learner's ``fn``; return a :class:`Verdict`, never raise."""
        return check_exercise(self, fn)


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
    arr = np.asarray(_plain(x), dtype=float)
    with np.printoptions(precision=4, suppress=True, threshold=8):
        return np.array2string(arr, separator=", ")


def _verdict(ex, fn):
    def verdict(status, message, mistake=""):
        return Verdict(ex.id, status, message, mistake, ex.noun)

    if fn is None or fn is Ellipsis:
        return verdict(NOT_ATTEMPTED, "not attempted yet (no function given)")
    if not callable(fn):
        return verdict(FAILED, f"expected a function {ex.signature}, got {type(fn).__name__}")
    cases = ex.all_cases()
    outcomes = [_run_case(ex, fn, case) for case in cases]
    kinds = {o.kind for o in outcomes}
    first = {}
    for o in outcomes:
        first.setdefault(o.kind, o)
    if "not_attempted" in kinds:
        return verdict(NOT_ATTEMPTED, "not attempted yet (the stub still raises NotImplementedError)")
    if kinds == {"ok"}:
        extreme = " (extreme ones included)" if any(c.hard for c in cases) else ""
        return verdict(PASSED, f"passed on all {len(outcomes)} inputs{extreme}.")
    if "mutated" in kinds:
        name = first["mutated"].detail
        return verdict(FAILED, f"your function changed its input `{name}` in place; work on a copy instead")
    if "none" in kinds:
        return verdict(FAILED, "your function returned None: did you forget `return`?")
    if kinds <= {"ok", "wrong", "nonfinite", "shape"}:
        for mistake in ex.mistakes:
            if _matches(ex, mistake, outcomes):
                return verdict(FAILED, mistake.message, mistake.name)
    if "raised" in kinds:
        o = first["raised"]
        return verdict(FAILED, f"your function raised {o.detail} on input {o.case.label}")
    if "type" in kinds:
        o = first["type"]
        return verdict(FAILED, f"your function returned a {o.detail}, expected numbers (an array or a float)")
    if "shape" in kinds:
        o = first["shape"]
        return verdict(FAILED, f"wrong shape on input {o.case.label}: {o.detail}")
    bad = [o for o in outcomes if o.kind != "ok"]
    if all(o.case.hard for o in bad):
        labels = "; ".join(f"'{o.case.label}'" for o in bad)
        return verdict(FAILED, f"right on ordinary inputs, but not on {labels}: {ex.unstable_hint}", "unstable")
    o = bad[0]
    if o.kind == "nonfinite":
        return verdict(FAILED, f"your function returned {o.detail} on input {o.case.label}")
    expected = ex.reference(*o.case.args)
    return verdict(FAILED, f"wrong value on input {o.case.label}: got {_short(o.value)}, expected {_short(expected)}")


def check_exercise(ex, fn):
    """Run exercise ``ex`` against the learner's ``fn``; return a :class:`Verdict`, never raise."""
    try:
        return _verdict(ex, fn)
    except Exception as exc:  # a bug in an odd return value must not become a traceback storm
        return Verdict(ex.id, FAILED, f"could not check your function: {type(exc).__name__}: {exc}", "", ex.noun)
