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
import functools
import importlib
import inspect
import sys
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from . import _runner
from ._compare import _close, _floats, _generic_mistake, _matches, _quiet, _return_problem, _same, _short
from ._runner import Budget, TimeLimitExceeded, call_with_time_limit, captured_output

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
    """A classic wrong answer, and how to recognise it.

    ``compute`` returns what a function with this mistake returns (for questions with a number
    answer: ``compute()`` with no arguments). Write it in a stable form (log space) where one
    exists: a learner's naive version that overflows on the extreme inputs is still recognised,
    since non-finite values on ``hard`` cases are skipped when matching. ``params``: match only
    when the learner's function names its parameters exactly so (e.g. chosen/rejected in the
    right order: then equal outputs mean a sign error, not swapped arguments). ``examples``:
    learner-style functions with this mistake (naive and log-space forms), each tested to be
    named as this mistake. ``matches``: instead of ``compute``, a predicate ``matches(value,
    expected)`` on each input (e.g. :func:`._compare.proportional`: right up to a constant factor).
    """

    name: str
    message: str
    compute: object = None
    examples: tuple = ()
    params: tuple = None
    matches: object = None


class LibraryFunction:
    """A library function imported on first call (``LibraryFunction("dpo_toy.trl_bridge", "trl_ipo_loss")``).

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
    log_space : bool
        Probabilities: also compare the logs of entries above 1e-250, so that tiny probabilities
        must be right too (not only within ``atol`` of 0).
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
    log_space: bool = False

    @property
    def chapter(self):
        return int(self.id.split(".")[0])

    @property
    def mistake_names(self):
        return tuple(m.name for m in self.mistakes)

    def all_cases(self):
        """The cases; ``cases`` may be a function that builds them (e.g. a model) on first use."""
        return self._built_cases

    @functools.cached_property  # stored in the instance's __dict__, which a frozen dataclass allows
    def _built_cases(self):
        return tuple(self.cases() if callable(self.cases) else self.cases)

    def check(self, fn, time_limit=None):
        """Run the learner's ``fn``; return a :class:`Verdict`, never raise."""
        return check_exercise(self, fn, time_limit)


# --- running the learner's function ----------------------------------------------------------------


@dataclass
class _Outcome:
    case: Case
    kind: str  # ok, wrong, raised, none, type, shape, mutated, nonfinite, not_attempted, timeout, ...
    value: object = None
    detail: str = ""
    expected: object = None


def _run_case(ex, fn, case, budget, expected):
    args = copy.deepcopy(case.args)
    try:
        out = _quiet(call_with_time_limit, fn, args, budget.left())
    except TimeLimitExceeded:
        return _Outcome(case, "timeout")
    except NotImplementedError:
        return _Outcome(case, "not_attempted")
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the learner's bug (SystemExit too), reported kindly
        return _Outcome(case, "raised", detail=f"{type(exc).__name__}: {exc}".rstrip(": "))
    for i, (before, after) in enumerate(zip(case.args, args)):
        if not _same(before, after):
            name = ex.arg_names[i] if i < len(ex.arg_names) else f"argument {i + 1}"
            return _Outcome(case, "mutated", detail=name)
    if out is None:
        return _Outcome(case, "none")
    problem, message = _return_problem(out)
    if problem:
        return _Outcome(case, "problem", detail=message)
    try:
        value = _floats(out)
    except (TypeError, ValueError):
        return _Outcome(case, "type", detail=type(out).__name__, expected=expected)
    if value.shape != expected.shape:
        return _Outcome(case, "shape", value, f"got shape {value.shape}, expected {expected.shape}", expected)
    if _close(value, expected, ex):
        return _Outcome(case, "ok", value, expected=expected)
    if np.isnan(value).any():
        return _Outcome(case, "nonfinite", value, "NaN", expected)
    if np.isinf(value).any() and not np.isinf(expected).any():
        return _Outcome(case, "nonfinite", value, "inf", expected)
    return _Outcome(case, "wrong", value, expected=expected)


def _learner_params(fn):
    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return None


def _signature_problem(ex, fn, n_args):
    """Why the learner's function cannot be called like the exercise calls it, or ""."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: just call them
        return ""
    try:
        signature.bind(*range(n_args))
    except TypeError:
        params = ", ".join(signature.parameters)
        return f"your function takes ({params}), but the check calls it with {n_args} arguments: {ex.signature}"
    return ""


def _show_output(sink):
    text = sink.text()
    if text.strip():
        print(f"(what your function printed)\n{text.rstrip()}", file=sys.stdout)


def _verdict(ex, fn, time_limit):
    def verdict(status, message, mistake=""):
        return Verdict(ex.id, status, message, mistake, ex.noun)

    if fn is None or fn is Ellipsis:
        return verdict(NOT_ATTEMPTED, "not attempted yet (no function given)")
    if not callable(fn):
        return verdict(FAILED, f"expected a function {ex.signature}, got {type(fn).__name__}")
    if inspect.isgeneratorfunction(fn):
        return verdict(FAILED, "your function contains `yield`, so it returns a generator: use `return`", "generator")
    cases = ex.all_cases()
    problem = _signature_problem(ex, fn, len(cases[0].args))
    if problem:
        return verdict(FAILED, problem, "wrong signature")
    # The library's answers first: it warms up (imports, PyTorch kernels) outside the learner's time.
    expected = [_floats(ex.reference(*copy.deepcopy(case.args))) for case in cases]
    budget = Budget(_runner.DEFAULT_TIME_LIMIT if time_limit is None else time_limit)
    outcomes = []
    with captured_output() as sink:
        for case, want in zip(cases, expected):
            outcomes.append(_run_case(ex, fn, case, budget, want))
            if outcomes[-1].kind == "timeout":
                break
    _show_output(sink)
    return _diagnose(ex, fn, cases, outcomes, budget, verdict)


def _diagnose(ex, fn, cases, outcomes, budget, verdict):
    kinds = {o.kind for o in outcomes}
    first = {}
    for o in outcomes:
        first.setdefault(o.kind, o)
    if kinds == {"not_attempted"}:
        return verdict(NOT_ATTEMPTED, "not attempted yet (the stub still raises NotImplementedError)")
    if kinds == {"ok"}:
        extreme = " (extreme ones included)" if any(c.hard for c in cases) else ""
        return verdict(PASSED, f"passed on all {len(outcomes)} inputs{extreme}.")
    if "timeout" in kinds:
        msg = (
            f"your function took longer than {budget.seconds:g} s (the time limit) on input "
            f"{first['timeout'].case.label}: an endless loop? It was stopped; the kernel is still running"
        )
        return verdict(FAILED, msg, "timeout")
    if "not_attempted" in kinds:
        o = first["not_attempted"]
        return verdict(
            FAILED, f"failed on input {o.case.label}: it raised NotImplementedError there (part still a stub?)"
        )
    if "mutated" in kinds:
        name = first["mutated"].detail
        return verdict(FAILED, f"your function changed its input `{name}` in place; work on a copy instead", "mutated")
    if "none" in kinds:
        return verdict(FAILED, "your function returned None: did you forget `return`?", "returned None")
    if "problem" in kinds:
        return verdict(FAILED, first["problem"].detail)
    if kinds <= {"ok", "wrong", "nonfinite", "shape"}:
        params = _learner_params(fn)
        for mistake in ex.mistakes:
            if _matches(ex, mistake, outcomes, params):
                return verdict(FAILED, mistake.message, mistake.name)
        generic = _generic_mistake(ex, outcomes)
        if generic:
            return verdict(FAILED, generic[1], generic[0])
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
    o = next(o for o in bad if not o.case.hard)
    if o.kind == "nonfinite":
        return verdict(FAILED, f"your function returned {o.detail} on input {o.case.label}")
    return verdict(FAILED, f"wrong value on input {o.case.label}: got {_short(o.value)}, expected {_short(o.expected)}")


def check_exercise(ex, fn, time_limit=None):
    """Run exercise ``ex`` against the learner's ``fn``; return a :class:`Verdict`, never raise.

    ``time_limit``: seconds for all calls of ``fn`` together (default: ``set_time_limit``'s value).
    """
    try:
        return _verdict(ex, fn, time_limit)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a bug in an odd return value must not become a traceback storm
        return Verdict(ex.id, FAILED, f"could not check your function: {type(exc).__name__}: {exc}", "", ex.noun)
