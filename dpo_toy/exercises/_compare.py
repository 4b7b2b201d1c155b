r"""Comparing a learner's values with the library's, and the mistakes any exercise can show.

Used by :mod:`._engine`: values are made plain NumPy (tensors detached, in float64), compared
within an exercise's tolerances (and in log space for probabilities), matched against catalogued
mistakes, and, failing those, against generic ones: per-pair values instead of their mean, one
gradient of two, a missing minus sign, an answer rounded to a few decimals.
"""

import copy
import types
import warnings
from collections.abc import Iterator

import numpy as np


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
        return x.detach().cpu().double().numpy() if x.is_floating_point() else x.detach().cpu().numpy()
    if isinstance(x, tuple | list):
        return type(x)(_plain(v) for v in x)
    return x


def _floats(x):
    return np.asarray(_plain(x), dtype=float)


_TINY = 1e-250  # probabilities above this are compared in log space too (log_space exercises)


def _close(a, b, ex):
    a, b = _floats(a), _floats(b)
    if a.shape != b.shape or not np.allclose(a, b, rtol=ex.rtol, atol=ex.atol, equal_nan=True):
        return False
    if getattr(ex, "log_space", False):
        big = np.nan_to_num(b) > _TINY
        if np.any(np.nan_to_num(a[big]) <= 0):
            return False
        with np.errstate(all="ignore"):
            return bool(np.allclose(np.log(a[big]), np.log(b[big]), rtol=1e-6, atol=1e-6))
    return True


def _same(a, b):
    a, b = _plain(a), _plain(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True))
    except TypeError:
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def _dtypes(x):
    """Every dtype name inside a return value (tensors, arrays, tuples of them)."""
    if isinstance(x, tuple | list):
        return {d for v in x for d in _dtypes(v)}
    dtype = getattr(x, "dtype", None)
    return {str(dtype).replace("torch.", "")} if dtype is not None else set()


def _return_problem(out):
    """A named problem with the kind of value returned (not its numbers), or ("", "")."""
    if isinstance(out, types.GeneratorType) or isinstance(out, Iterator) and not hasattr(out, "shape"):
        return "generator", "your function returned a generator (or iterator); return the values, e.g. np.array([...])"
    low = _dtypes(out) & {"float16", "bfloat16"}
    if low:
        kind = low.pop()
        return "low precision", (
            f"your function returned {kind} numbers (about 3 significant digits); compute in float32 or float64"
        )
    try:
        arr = np.asarray(_plain(out))
    except Exception:
        return "", ""
    if np.iscomplexobj(arr):
        return "complex", (
            "your function returned complex numbers; the answer is real (a log or a power of a negative number?)"
        )
    return "", ""


def _matches(ex, mistake, outcomes, params):
    """The learner's output shows the mistake on every ordinary input tried.

    With ``mistake.matches``, that predicate of (value, expected) decides per input; otherwise the
    output must equal ``mistake.compute(*args)``. Extreme (``hard``) inputs are not required to
    match: there a naive formula overflows or underflows where a stable one does not (the
    learner's or the catalogue's), and the mistake is named either way.
    """
    if mistake.params is not None and tuple(mistake.params) != params:
        return False
    if mistake.compute is None and mistake.matches is None:
        return False
    matched = 0
    for o in outcomes:
        if o.case.hard:
            continue
        if o.value is None or o.expected is None:
            return False
        if mistake.matches is not None:
            with np.errstate(all="ignore"):
                if not mistake.matches(o.value, o.expected):
                    return False
        else:
            try:
                wrong = _quiet(mistake.compute, *copy.deepcopy(o.case.args))
            except Exception:
                return False
            if not _close(o.value, wrong, ex):
                return False
        matched += 1
    # A "mistake" that agrees with the reference on every ordinary input tells nothing.
    return matched > 0 and any(o.kind != "ok" for o in outcomes if not o.case.hard)


def proportional(value, expected):
    """``value`` is a positive multiple of ``expected`` (a distribution left unnormalised)."""
    value, expected = np.asarray(value, float), np.asarray(expected, float)
    total = value.sum(axis=-1, keepdims=True)
    if value.shape != expected.shape or not np.isfinite(value).all() or np.any(total <= 0):
        return False
    return bool(np.allclose(value / total, expected, rtol=1e-6, atol=1e-12))


def _short(x):
    arr = _floats(x)
    with np.printoptions(precision=4, suppress=True, threshold=8):
        return np.array2string(arr, separator=", ")


def _all(outcomes, test):
    """``test(value, expected)`` holds on every input (non-finite extreme inputs skipped), and is not trivial."""
    checked = 0
    for o in outcomes:
        if o.case.hard and not (np.isfinite(o.value).all() and np.isfinite(o.expected).all()):
            continue
        with np.errstate(all="ignore"):
            if not test(o.value, o.expected):
                return False
        checked += 1
    return checked > 0


def _generic_mistake(ex, outcomes):
    """Mistakes any exercise can show: per-pair values, one gradient of two, a minus sign, rounding."""

    def close(a, b):
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=max(ex.rtol, 1e-9), atol=ex.atol))

    if _all(outcomes, lambda v, e: e.ndim == 0 and v.ndim == 1 and v.size > 0 and close(np.mean(v), e)):
        return "per-pair values", "you returned per-pair values instead of their mean: the loss is one number (np.mean)"
    if _all(outcomes, lambda v, e: e.ndim == 0 and v.ndim == 1 and v.size > 1 and close(np.sum(v), e)):
        return "per-pair values", "you returned per-pair terms; the answer is one number, their sum"
    for i, which in enumerate(("first", "second")):
        if _all(outcomes, lambda v, e, i=i: e.ndim >= 1 and e.shape[0] == 2 and close(v, e[i])):
            return "one gradient", (
                f"you returned one gradient (the {which}); return both, as a tuple in the order of the signature"
            )
    if _all(outcomes, lambda v, e: close(v, -e)) and any(np.any(o.expected != 0) for o in outcomes):
        return "negated", "your answer is the negative of the right one: a leading minus sign is missing or extra"
    for decimals in range(0, 9):
        if _all(
            outcomes, lambda v, e, d=decimals: v.shape == e.shape and np.allclose(v, np.round(e, d), rtol=0, atol=1e-12)
        ):
            return "rounded", (
                f"your answer is rounded to {decimals} decimals; return the unrounded value (round only when printing)"
            )
    return None
