"""Input checks shared by the public functions: fail loudly, name the argument, say what to do."""

import numbers

import numpy as np

# Probabilities typed by hand (0.30, 0.40, ...) or produced by softmax sum to 1 within this.
SUM_TOLERANCE = 1e-6


def as_real_array(x, name):
    """Return ``x`` as a float64 array, or raise TypeError/ValueError naming ``name``."""
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a number or an array of numbers, got the string {x!r}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be turned into an array: {exc}") from None
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers (int or float), got an array of dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        where = np.argwhere(np.isnan(arr))[0].tolist()
        raise ValueError(f"{name} contains NaN (first at index {where}); every entry must be a number")
    return arr


def as_finite_array(x, name):
    """A real array with no NaN and no ±inf."""
    arr = as_real_array(x, name)
    if not np.isfinite(arr).all():
        where = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ValueError(f"{name} contains an infinite value (first at index {where}); use finite numbers")
    return arr


def as_distribution(x, name):
    """A 1-D or 2-D array of probabilities, each row summing to 1."""
    arr = as_finite_array(x, name)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (one prompt) or 2-D (one row per prompt), got {arr.ndim}-D shape {arr.shape}"
        )
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} is empty; it needs at least one response")
    if (arr < 0).any():
        where = np.argwhere(arr < 0)[0].tolist()
        raise ValueError(f"{name} has a negative probability at index {where}; probabilities must be >= 0")
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > SUM_TOLERANCE
    if np.any(bad):
        row = int(np.argmax(np.atleast_1d(bad)))
        total = float(np.atleast_1d(sums)[row])
        which = f"row {row} of {name}" if arr.ndim == 2 else name
        raise ValueError(
            f"{which} sums to {total:.6f}, not 1: it must be a probability distribution over all "
            "responses (add an 'every other string' entry for the missing mass, or divide by the sum)"
        )
    return arr


def check_beta(beta):
    """β must be a positive, finite real scalar; return it as a float."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, (numbers.Real, np.ndarray)):
        raise TypeError(f"beta must be a positive real number, got {type(beta).__name__} {beta!r}")
    if isinstance(beta, np.ndarray):
        if beta.ndim != 0:
            raise ValueError(f"beta must be a single number, got an array of shape {beta.shape}")
        return check_beta(beta.item())
    beta = float(beta)
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a positive, finite number (the KL leash strength), got {beta}")
    return beta


def check_same_shape(a, b, name_a, name_b):
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape (one entry per response), got {a.shape} and {b.shape}"
        )
