r"""The course's exercises and questions, and the one-line checks a notebook calls.

Usage in a notebook::

    from dpo_toy.exercises import check, predict
    check("1.1", my_optimal_policy)   # a function to write: run on many inputs, one-line verdict
    predict("1.p1", 0.6)              # record a prediction before the revealing cell...
    check("1.p1")                     # ...and compare it with the truth after it
    check("1.s1", 0.83)               # a value read off a slider
    check("1.r1", "a")                # a multiple-choice (reading) question
    check("1.d1", my_objective)       # the result of a derivation, as a function or a number

Each chapter has its module (``ch00`` ... ``ch09``) with its own seeded inputs, its references
imported from the library, ``EXERCISES`` (functions to write) and ``QUESTIONS`` (the other kinds).
This package collects them: :func:`ids` lists them, :func:`get` returns one. A check always
returns a :class:`Verdict` (shown as one line) and never raises; with ``$DPO_TOY_VERDICTS`` set,
each verdict is also appended to that file as a JSON line (see :mod:`._record`).
"""

import difflib
import re

from . import _record, _runner, ch00, ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09
from ._engine import FAILED, NOT_ATTEMPTED, PASSED, Case, Exercise, LibraryFunction, Mistake, Verdict, check_exercise
from ._kinds import Choice, Derivation, Prediction, SliderQuestion

__all__ = [
    "stale_tables",
    "write_tables",
    "FAILED",
    "NOT_ATTEMPTED",
    "PASSED",
    "Case",
    "Choice",
    "Derivation",
    "Exercise",
    "LibraryFunction",
    "Mistake",
    "Prediction",
    "SliderQuestion",
    "Verdict",
    "check",
    "check_exercise",
    "get",
    "ids",
    "predict",
    "set_time_limit",
]

CHAPTER_MODULES = (ch00, ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09)
_ID = re.compile(r"^(\d+)\.([psdr]?)(\d+)$")


def _sort_key(exercise_id):
    """Natural order: chapter, then function exercises before questions, then by kind and number."""
    chapter, letter, number = _ID.match(exercise_id).groups()
    return int(chapter), letter, int(number)


def _build_registry():
    registry = {}
    for chapter, module in enumerate(CHAPTER_MODULES):
        for item in (*module.EXERCISES, *module.QUESTIONS):
            match = _ID.match(item.id)
            if not match or int(match.group(1)) != chapter:
                raise ValueError(
                    f"{module.__name__}: id {item.id!r} must be '{chapter}.<n>' or '{chapter}.<p|s|d|r><n>'"
                )
            letter = {"function": "", "prediction": "p", "slider": "s", "choice": "r", "derivation": "d"}[item.kind]
            if match.group(2) != letter:
                raise ValueError(f"{item.id}: a {item.kind} question's id must be '{chapter}.{letter}<n>'")
            if item.id in registry:
                raise ValueError(f"duplicate exercise id {item.id!r}")
            registry[item.id] = item
    return registry


_REGISTRY = _build_registry()


def ids(chapter=None):
    """All exercise and question ids in natural order, or those of one chapter (an int)."""
    found = sorted(_REGISTRY, key=_sort_key)
    return found if chapter is None else [i for i in found if _sort_key(i)[0] == int(chapter)]


def get(exercise_id):
    """The exercise or question object with this id (KeyError naming the nearest ids if none)."""
    try:
        return _REGISTRY[exercise_id]
    except (KeyError, TypeError):
        raise KeyError(f"no exercise {exercise_id!r}; {_nearest(exercise_id)}") from None


def _nearest(exercise_id):
    text = str(exercise_id)
    close = difflib.get_close_matches(text, ids(), n=3, cutoff=0.5)
    if not close and _ID.match(text):
        close = ids(_sort_key(text)[0])[:5]
    return f"did you mean {', '.join(close)}?" if close else f"valid ids look like {', '.join(ids()[:3])}, ..."


_MISSING = object()


def _unknown(exercise_id):
    return Verdict(str(exercise_id), FAILED, f"there is no exercise {exercise_id!r}; {_nearest(exercise_id)}")


def set_time_limit(seconds):
    """Set how many seconds a check may spend in the learner's function (all inputs together).

    The default is a few seconds; ``None`` means no limit. Returns the previous value.
    """
    if seconds is not None and not (isinstance(seconds, int | float) and seconds > 0):
        raise ValueError(f"seconds must be a positive number or None, got {seconds!r}")
    previous, _runner.DEFAULT_TIME_LIMIT = _runner.DEFAULT_TIME_LIMIT, seconds
    return previous


def check(exercise_id, answer=_MISSING, *, time_limit=None, record=True):
    """Check the learner's answer to ``exercise_id`` and return the verdict (one line; never raises).

    ``answer`` is a function (function exercises, derivations), a number (sliders, derivations),
    an option key (choices), or omitted for a prediction (the recorded one is compared).
    ``time_limit``: seconds the learner's function may take over all inputs (default: see
    :func:`set_time_limit`); past it the verdict says so and the kernel keeps running.
    ``record=False`` marks a demonstration (e.g. checking a library function to show a verdict):
    the verdict is shown but not recorded for grading, so it cannot stand in for the learner's.
    """
    try:
        item = _REGISTRY.get(exercise_id) if isinstance(exercise_id, str) else None
        if item is None:
            verdict = _unknown(exercise_id)
        elif item.kind in ("function", "derivation"):
            verdict = item.check(None if answer is _MISSING else answer, time_limit=time_limit)
        else:
            verdict = item.check(None if answer is _MISSING else answer)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a bug in the checker must still end in one line
        verdict = Verdict(str(exercise_id), FAILED, f"could not check your answer: {type(exc).__name__}: {exc}")
    if record:
        _record.emit(verdict)
    return verdict


def predict(exercise_id, prediction):
    """Record a prediction before the cell that reveals the truth; ``check(exercise_id)`` compares later.

    Shows "prediction recorded" (or "not attempted" for ``None``/``...``) without revealing the
    truth. The grading record written now is the compared verdict, so a prediction whose revealing
    cell is never run is still graded; ``check`` after the revealing cell writes the same verdict.
    """
    try:
        item = _REGISTRY.get(exercise_id) if isinstance(exercise_id, str) else None
        if item is None:
            shown = graded = _unknown(exercise_id)
        elif item.kind != "prediction":
            shown = graded = Verdict(
                exercise_id,
                FAILED,
                f"{exercise_id} is a {item.kind} question: answer it with check(...)",
                "",
                item.noun,
            )
        else:
            shown, graded = item.record(prediction)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        shown = graded = Verdict(str(exercise_id), FAILED, f"could not record: {type(exc).__name__}: {exc}")
    _record.emit(graded)
    return shown


def stale_tables():
    """The files (README.md, INSTRUCTORS.md) whose generated exercise tables are out of date."""
    from . import _tables

    return _tables.stale()


def write_tables():
    """Regenerate the exercise tables of README.md and notebooks/INSTRUCTORS.md; return the paths."""
    from . import _tables

    return _tables.write()
