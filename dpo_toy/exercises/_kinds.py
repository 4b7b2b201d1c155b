r"""The question kinds beyond "write this function", each checked into one :class:`Verdict` line.

- :class:`Prediction`: predict, then run. ``predict(id, value)`` records the learner's guess
  before a revealing cell; ``check(id)`` after it compares the guess with the truth, which the
  chapter module computes with the library.
- :class:`SliderQuestion`: the value the learner read off a slider, accepted within a band;
  otherwise the verdict says which way to move.
- :class:`Choice`: a reading question on a figure or table; a wrong option gets its explanation.
- :class:`Derivation`: the final result of pen-and-paper steps, entered as a function (checked on
  many inputs against the library, by the same engine as the function exercises) or a number.

An answer of ``None`` or ``...`` (the learner edition's placeholder), or a function that raises
``NotImplementedError``, is "not attempted".
"""

import math
import numbers
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from . import _runner
from ._engine import FAILED, NOT_ATTEMPTED, PASSED, Exercise, Verdict, check_exercise
from ._runner import TimeLimitExceeded, call_with_time_limit


def _missing(answer):
    return answer is None or answer is Ellipsis


def _as_number(answer):
    """A real number from a learner's answer (int, float, NumPy or 0-d tensor), else None."""
    if isinstance(answer, bool):
        return None
    if hasattr(answer, "detach"):
        answer = answer.detach().cpu().numpy()
    if isinstance(answer, np.ndarray) and answer.size == 1 and np.isrealobj(answer):
        answer = answer.reshape(()).item()
    if isinstance(answer, numbers.Real):
        return float(answer)
    return None


def _fmt(x):
    return f"{x:.4g}"


def _within(value, truth, atol, rtol):
    return math.isfinite(value) and abs(value - truth) <= atol + rtol * abs(truth)


def _band(truth, atol, rtol):
    return _fmt(atol + rtol * abs(truth))


def _normalise_key(answer, options):
    """An option key from "b", "B", " b) ", or the option's exact text; None if it is none of them."""
    if not isinstance(answer, str):
        return None
    text = answer.strip()
    key = text.rstrip(").:").strip().lower()
    if key in options:
        return key
    for k, option in options.items():
        if text.lower() == str(option).strip().lower():
            return k
    return None


def _named_mistake(mistakes, value, atol, rtol):
    """The first catalogued mistake whose value (``compute()``) the learner's number matches."""
    for m in mistakes:
        try:
            wrong = float(m.compute())
        except Exception:
            continue
        if _within(value, wrong, atol, rtol) and math.isfinite(wrong):
            return m
    return None


@dataclass(frozen=True)
class Choice:
    r"""A multiple-choice question (e.g. on a figure or table): each wrong option explains itself.

    Parameters
    ----------
    id : str
        "<chapter>.r<n>", e.g. "2.r1".
    title : str
        Short, for the tables.
    options : dict
        Option key ("a", "b", ...) → its text.
    answer : str
        The key of the right option.
    why : dict
        For every wrong option, the explanation the learner gets when choosing it.
    names : dict, optional
        A misconception name per wrong option for the class report; default "chose <key>".
    explain : str
        Said after "right" (one sentence).
    """

    kind: ClassVar[str] = "choice"
    noun: ClassVar[str] = "Question"

    id: str
    title: str
    options: dict
    answer: str
    why: dict
    names: dict = field(default_factory=dict)
    explain: str = ""

    def __post_init__(self):
        if self.answer not in self.options:
            raise ValueError(f"{self.id}: answer must be one of the option keys {list(self.options)}")
        missing = set(self.options) - {self.answer} - set(self.why)
        if missing:
            raise ValueError(f"{self.id}: every wrong option needs an explanation in `why`; missing {sorted(missing)}")

    @property
    def chapter(self):
        return int(self.id.split(".")[0])

    @property
    def mistake_names(self):
        return tuple(self.names.get(k, f"chose {k}") for k in self.options if k != self.answer)

    def check(self, answer):
        if _missing(answer):
            return Verdict(self.id, NOT_ATTEMPTED, "not attempted yet (choose one option)", "", self.noun)
        key = _normalise_key(answer, self.options)
        if key is None:
            keys = ", ".join(f'"{k}"' for k in self.options)
            return Verdict(self.id, FAILED, f"{answer!r} is not one of the options: answer with {keys}", "", self.noun)
        if key == self.answer:
            return Verdict(self.id, PASSED, f"right, ({key}). {self.explain}".rstrip(), "", self.noun)
        name = self.names.get(key, f"chose {key}")
        return Verdict(self.id, FAILED, f"not ({key}): {self.why[key]}", name, self.noun)


_PREDICTIONS = {}  # exercise id -> the learner's recorded prediction (this kernel's)


@dataclass(frozen=True)
class Prediction:
    r"""Predict, then run: a number (accepted within a band) or one of a few options.

    Parameters
    ----------
    id : str
        "<chapter>.p<n>", e.g. "6.p1".
    title : str
        Short, for the tables.
    truth : callable
        ``truth()`` → the true value (a number, or an option key when ``options`` is given),
        computed with the library. Called once, then cached.
    atol, rtol : float
        A number is accepted when ``|prediction - truth| <= atol + rtol * |truth|``.
    options : dict, optional
        For a choice prediction: option key → text (then ``why`` explains each wrong option).
    why : dict, optional
        Choice predictions: option key → why it is not what happens.
    mistakes : tuple of Mistake, optional
        Number predictions: misconceptions whose value ``compute()`` a prediction may match
        (within the same band), named in the verdict.
    explain : str
        One sentence said with the truth, whether the prediction was right or not.
    """

    kind: ClassVar[str] = "prediction"
    noun: ClassVar[str] = "Question"

    id: str
    title: str
    truth: object
    atol: float = 0.0
    rtol: float = 0.1
    options: dict = None
    why: dict = field(default_factory=dict)
    mistakes: tuple = ()
    explain: str = ""

    @property
    def chapter(self):
        return int(self.id.split(".")[0])

    @property
    def mistake_names(self):
        if self.options:
            return tuple(f"predicted {k}" for k in self.options)
        return tuple(m.name for m in self.mistakes) + ("too high", "too low")

    def true_value(self):
        cache = _TRUTHS.get(self.id)
        if cache is None:
            cache = _TRUTHS[self.id] = self.truth()
        return cache

    def record(self, value):
        """``predict(id, value)``: store the prediction; return (shown verdict, graded verdict)."""
        if callable(value):
            try:
                value = value()
            except NotImplementedError:
                value = None
        if _missing(value):
            _PREDICTIONS.pop(self.id, None)
            v = Verdict(self.id, NOT_ATTEMPTED, "not attempted yet (no prediction recorded)", "", self.noun)
            return v, v
        problem = self._problem(value)
        if problem:
            v = Verdict(self.id, FAILED, problem, "", self.noun)
            return v, v
        _PREDICTIONS[self.id] = value
        shown = Verdict(
            self.id, NOT_ATTEMPTED, f"prediction recorded ({self._show(value)}); run on to see the truth", "", self.noun
        )
        return shown, self.compare(value)

    def _problem(self, value):
        if self.options:
            if _normalise_key(value, self.options) is None:
                keys = ", ".join(f'"{k}"' for k in self.options)
                return f"{value!r} is not one of the options: predict one of {keys}"
        elif _as_number(value) is None or not math.isfinite(_as_number(value)):
            return f"predict a finite number, not a {type(value).__name__}"
        return ""

    def _show(self, value):
        return f"({_normalise_key(value, self.options)})" if self.options else _fmt(_as_number(value))

    def check(self, answer=None):
        """The revealing cell: compare the recorded prediction (or ``answer``) with the truth."""
        if _missing(answer):
            answer = _PREDICTIONS.get(self.id)
        if _missing(answer):
            return Verdict(
                self.id, NOT_ATTEMPTED, f'not attempted yet: record a prediction with predict("{self.id}", ...)',
                "", self.noun,
            )  # fmt: skip
        problem = self._problem(answer)
        if problem:
            return Verdict(self.id, FAILED, problem, "", self.noun)
        return self.compare(answer)

    def compare(self, value):
        truth = self.true_value()
        tail = f" {self.explain}" if self.explain else ""
        if self.options:
            key = _normalise_key(value, self.options)
            if key == truth:
                return Verdict(
                    self.id, PASSED, f"you predicted ({key}), and that is what happens.{tail}", "", self.noun
                )
            why = f" {self.why[key]}" if key in self.why else ""
            msg = f"you predicted ({key}); what happens is ({truth}).{why}{tail}"
            return Verdict(self.id, FAILED, msg, f"predicted {key}", self.noun)
        p, t = _as_number(value), float(truth)
        if _within(p, t, self.atol, self.rtol):
            msg = f"you predicted {_fmt(p)}; the run gives {_fmt(t)}: within ±{_band(t, self.atol, self.rtol)}.{tail}"
            return Verdict(self.id, PASSED, msg, "", self.noun)
        named = _named_mistake(self.mistakes, p, self.atol, self.rtol)
        if named:
            msg = f"you predicted {_fmt(p)}; the run gives {_fmt(t)}. {named.message}"
            return Verdict(self.id, FAILED, msg, named.name, self.noun)
        side = "too high" if p > t else "too low"
        msg = f"you predicted {_fmt(p)}; the run gives {_fmt(t)} ({side}).{tail}"
        return Verdict(self.id, FAILED, msg, side, self.noun)


_TRUTHS = {}  # exercise id -> the cached truth of a Prediction or SliderQuestion


@dataclass(frozen=True)
class SliderQuestion:
    r"""A value read off a slider ("drag β until KL(π*‖π_ref) = 0.5; what is β?").

    Parameters
    ----------
    id : str
        "<chapter>.s<n>", e.g. "1.s1".
    title : str
        Short, for the tables.
    truth : callable
        ``truth()`` → the slider value that hits the target, computed with the library (cached).
    atol, rtol : float
        The accepted band around the truth: a slider has steps, so the band should cover one.
    variable : str
        The slider's name in messages ("β").
    measure : callable, optional
        ``measure(value)`` → what the plot shows at the learner's value, as text
        ("KL = 0.62"), quoted in the verdict.
    target : str
        What the learner was asked to reach, as text ("KL = 0.5").
    mistakes : tuple of Mistake, optional
        Misconceptions whose slider value ``compute()`` the answer may match (named).
    """

    kind: ClassVar[str] = "slider"
    noun: ClassVar[str] = "Question"

    id: str
    title: str
    truth: object
    atol: float = 0.0
    rtol: float = 0.05
    variable: str = "β"
    measure: object = None
    target: str = ""
    mistakes: tuple = ()

    @property
    def chapter(self):
        return int(self.id.split(".")[0])

    @property
    def mistake_names(self):
        return tuple(m.name for m in self.mistakes) + ("too high", "too low")

    def true_value(self):
        cache = _TRUTHS.get(self.id)
        if cache is None:
            cache = _TRUTHS[self.id] = float(self.truth())
        return cache

    def check(self, answer):
        if _missing(answer):
            return Verdict(
                self.id, NOT_ATTEMPTED, f"not attempted yet (read {self.variable} off the slider)", "", self.noun
            )
        value = _as_number(answer)
        if value is None or not math.isfinite(value):
            msg = f"answer with the number you read off the slider, not a {type(answer).__name__}"
            return Verdict(self.id, FAILED, msg, "", self.noun)
        truth = self.true_value()
        shows = ""
        if self.measure is not None:
            try:
                shows = f" shows {self.measure(value)}"
            except Exception:  # an answer outside the measure's domain: the direction is still given
                shows = ""
        target = f" (the target is {self.target})" if self.target else ""
        if _within(value, truth, self.atol, self.rtol):
            msg = f"right: at {self.variable} = {_fmt(value)} the plot{shows or ' hits the target'}{target}."
            return Verdict(self.id, PASSED, msg, "", self.noun)
        where = (
            f"at {self.variable} = {_fmt(value)} the plot{shows}{target}"
            if shows
            else f"{self.variable} = {_fmt(value)}"
        )
        named = _named_mistake(self.mistakes, value, self.atol, self.rtol)
        if named:
            return Verdict(self.id, FAILED, f"{where}: {named.message}", named.name, self.noun)
        move = "lower: move the slider left" if value > truth else "higher: move the slider right"
        side = "too high" if value > truth else "too low"
        return Verdict(self.id, FAILED, f"not yet, {where}; try {self.variable} {move}", side, self.noun)


@dataclass(frozen=True)
class Derivation(Exercise):
    r"""A pen-and-paper derivation whose final result is entered as a function or as a number.

    As a function (``cases`` given): exactly a function exercise (same arguments as
    :class:`Exercise`: ``id, signature, reference, cases, mistakes, ...``), checked on every case
    against the library's ``reference``.

    As a number (``cases=()``): ``reference()`` (no arguments) gives the true value; ``mistakes``
    hold ``compute()`` (no arguments) values of classic slips; ``rtol``/``atol`` the tolerance.
    """

    kind: ClassVar[str] = "derivation"
    noun: ClassVar[str] = "Question"
    cases: object = ()

    @property
    def wants_number(self):
        return not self.cases

    def check(self, answer, time_limit=None):
        if self.wants_number and callable(answer):
            try:
                answer = call_with_time_limit(
                    answer, (), _runner.DEFAULT_TIME_LIMIT if time_limit is None else time_limit
                )
            except NotImplementedError:
                answer = None
            except TimeLimitExceeded:
                return Verdict(self.id, FAILED, "your code took longer than the time limit", "timeout", self.noun)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:
                return Verdict(self.id, FAILED, f"your code raised {type(exc).__name__}: {exc}", "", self.noun)
        if _missing(answer):
            return Verdict(self.id, NOT_ATTEMPTED, "not attempted yet", "", self.noun)
        if not self.wants_number:
            return check_exercise(self, answer, time_limit)
        value = _as_number(answer)
        if value is None:
            return Verdict(
                self.id, FAILED, f"expected a number ({self.signature}), got {type(answer).__name__}", "", self.noun
            )
        truth = float(self.reference())
        if _within(value, truth, self.atol, self.rtol):
            return Verdict(self.id, PASSED, f"right: {_fmt(value)}.", "", self.noun)
        named = _named_mistake(self.mistakes, value, self.atol, self.rtol)
        if named:
            return Verdict(self.id, FAILED, named.message, named.name, self.noun)
        return Verdict(self.id, FAILED, f"got {_fmt(value)}, expected {_fmt(truth)}", "", self.noun)
