"""Input checks shared by the public functions: fail loudly, name the argument, say what to do.

The rule every public function follows: a value that cannot give a meaningful answer raises
``ValueError`` (wrong value) or ``TypeError`` (wrong kind) naming the argument and what was
expected. Scalars (β, learning rates, label smoothing, K-factors, ...) are checked here as Python
numbers *before* they are combined with arrays, so a bad option never reaches a computation.
"""

import numbers

import numpy as np

# Probabilities typed by hand (0.30, 0.40, ...) or produced by softmax sum to 1 within this.
SUM_TOLERANCE = 1e-6

LOSS_TYPES = ("sigmoid", "ipo", "hinge")
REDUCTIONS = ("mean", "sum", "none")


# --- scalars ----------------------------------------------------------------------------------------


def _scalar(x, name, expected):
    """``x`` as a Python number (int or float), or TypeError naming ``name``."""
    if isinstance(x, np.ndarray):
        if x.ndim != 0:
            raise ValueError(f"{name} must be a single number, got an array of shape {x.shape}")
        x = x.item()
    if hasattr(x, "numel") and hasattr(x, "item"):  # a torch tensor, without importing torch
        if x.numel() != 1:
            raise ValueError(f"{name} must be a single number, got a tensor of shape {tuple(x.shape)}")
        x = x.item()
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {type(x).__name__} {x!r}")
    return x


def _range_text(low, high, low_open, high_open):
    if high is None and low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None and high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    if low is None:
        return "finite"
    return ("in (" if low_open else "in [") + f"{low:g}, {high:g}" + (")" if high_open else "]")


def check_real(x, name, *, low=None, high=None, low_open=False, high_open=False, finite=True):
    """A real scalar within [low, high] (open ends with ``low_open``/``high_open``), as a Python float."""
    within = _range_text(low, high, low_open, high_open)
    value = float(_scalar(x, name, f"a real number ({within})"))
    if np.isnan(value) or (finite and not np.isfinite(value)):
        raise ValueError(f"{name} must be a finite number ({within}), got {value}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        raise ValueError(f"{name} must be {within}, got {value:g}")
    return value


def check_positive(x, name):
    """A positive, finite real scalar (a learning rate, a step size), as a Python float."""
    return check_real(x, name, low=0.0, low_open=True)


def check_int(x, name, minimum=None, maximum=None):
    """A whole number (an int, or a float with no fractional part) >= ``minimum``, as a Python int."""
    within = f" >= {minimum}" if minimum is not None else ""
    x = _scalar(x, name, f"a whole number{within}")
    if isinstance(x, float) and not (np.isfinite(x) and x == int(x)):
        raise TypeError(f"{name} must be a whole number{within}, got {x!r}")
    value = int(x)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_beta(beta):
    """β must be a positive, finite real scalar; return it as a Python float."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, (numbers.Real, np.ndarray)):
        if not (hasattr(beta, "numel") and hasattr(beta, "item")):
            raise TypeError(f"beta must be a positive real number, got {type(beta).__name__} {beta!r}")
    beta = float(_scalar(beta, "beta", "a positive real number"))
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a positive, finite number (the KL leash strength), got {beta}")
    return beta


def check_option(value, name, allowed):
    """``value`` must be one of ``allowed`` (strings); None is not an option unless listed."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_loss_options(reduction, loss_type="sigmoid", label_smoothing=0.0):
    """The DPO losses' options; returns label smoothing ε as a Python float in [0, 0.5)."""
    check_option(reduction, "reduction", REDUCTIONS)
    check_option(loss_type, "loss_type", LOSS_TYPES)
    return check_real(label_smoothing, "label_smoothing", low=0.0, high=0.5, high_open=True)


# --- arrays -----------------------------------------------------------------------------------------


def _asarray(x, name):
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a number or an array of numbers, got the string {x!r}")
    if x is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got None")
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged lists, tensors that require grad or are bfloat16, ...
        hint = " (a torch tensor: pass .detach().float().numpy(), or use dpo_toy.torch_losses)"
        hint = hint if type(x).__module__.startswith("torch") else ""
        raise TypeError(f"{name} could not be turned into a NumPy array{hint}: {exc}") from None


def _check_real_dtype(arr, name):
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (int or float), got an array of dtype {arr.dtype}")


def as_real_array(x, name, *, allow_inf=True):
    """Return ``x`` as a float64 array with no NaN, or raise TypeError/ValueError naming ``name``."""
    arr = _asarray(x, name)
    _check_real_dtype(arr, name)
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        where = np.argwhere(np.isnan(arr))[0].tolist()
        raise ValueError(f"{name} contains NaN (first at index {where}); every entry must be a number")
    if not allow_inf and np.isinf(arr).any():
        where = np.argwhere(np.isinf(arr))[0].tolist()
        raise ValueError(f"{name} contains an infinite value (first at index {where}); use finite numbers")
    return arr


def as_finite_array(x, name):
    """A real float64 array with no NaN and no ±inf."""
    return as_real_array(x, name, allow_inf=False)


def as_float_array(x, name, what="finite numbers"):
    """A finite real array computed in at least float32: float32/float64 stay, float16 and ints widen.

    The losses keep float32 inputs in float32 (as a training loop would); float16 has too little
    range for β·h and 1/(2β), so it is widened to float32 before anything is computed.
    """
    arr = _asarray(x, name)
    _check_real_dtype(arr, name)
    arr = arr.astype(np.promote_types(arr.dtype, np.float32) if arr.dtype.kind == "f" else np.float64, copy=False)
    if not np.isfinite(arr).all():
        kind = "NaN" if np.isnan(arr).any() else "an infinite value"
        raise ValueError(f"{name} contains {kind}; {name} must hold {what}")
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


def check_same_shape(a, b, name_a, name_b):
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape (one entry per response), got {a.shape} and {b.shape}"
        )


def same_shape(arrays, names):
    """Arrays of one shape (one entry per pair), not empty, in their common dtype."""
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        listed = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrays))
        raise ValueError(f"{', '.join(names)} must all have the same shape (one entry per pair); got {listed}")
    if arrays[0].size == 0:
        raise ValueError(f"{names[0]} is empty: there are no pairs")
    dtype = np.result_type(*arrays)
    return [a.astype(dtype, copy=False) for a in arrays]


def compute_dtype(dtype, beta):
    """The dtype to compute a loss in: ``dtype`` unless β or 1/(2β) does not fit it, then float64.

    (β = 1e39 is inf in float32, and β = 1e-39 makes 1/(2β) inf: β is never cast where it breaks.)
    """
    info = np.finfo(dtype)
    largest, tiniest = float(info.max) / 4, max(4 / float(info.max), float(info.smallest_normal))
    if not tiniest <= beta <= largest:
        return np.dtype(np.float64)
    return np.dtype(dtype)


# --- preference pairs -----------------------------------------------------------------------------


def check_pairs(pairs, n_responses):
    """Preference pairs over ``n_responses`` responses: valid indices, finite positive weights.

    Returns (chosen, rejected, weight) as int64, int64 and float64 arrays.
    """
    for attr in ("chosen", "rejected", "weight"):
        if not hasattr(pairs, attr):
            raise TypeError(f"pairs must be PreferencePairs (with .chosen, .rejected, .weight), got {pairs!r}")
    out = []
    for name in ("chosen", "rejected"):
        idx = _asarray(getattr(pairs, name), f"pairs.{name}")
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(
                f"pairs.{name} must be a 1-D array of integer response indices, got {idx.dtype} {idx.shape}"
            )
        if idx.size == 0 or idx.min() < 0 or idx.max() >= n_responses:
            raise ValueError(f"pairs.{name} must hold response indices in [0, {n_responses})")
        out.append(idx.astype(np.int64, copy=False))
    weight = as_finite_array(pairs.weight, "pairs.weight")
    if not (weight.shape == out[0].shape == out[1].shape):
        raise ValueError("pairs.chosen, pairs.rejected and pairs.weight must have one entry per pair each")
    if np.any(weight <= 0):
        raise ValueError("pairs.weight must be positive (a pair's share of the data)")
    return out[0], out[1], weight
