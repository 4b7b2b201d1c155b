r"""Numerically stable building blocks in log space: sigmoid, log-sigmoid, softmax, log-softmax.

Every other module computes through these (or through their unchecked twins in the private
``_numerics`` module, inside training loops), so that tiny β (huge :math:`r/\beta`) and large
log-ratio differences never overflow into ``inf``/``NaN``. Inputs are checked: NaN, a logit of
``+inf`` and empty input raise a ``ValueError`` naming the argument; everything is computed in
float64.
"""

import numpy as np

from ._validation import as_real_array, check_int


def sigmoid(z):
    r"""The logistic function :math:`\sigma(z) = 1 / (1 + e^{-z})`, without overflow (σ(±inf) = 1, 0)."""
    z = as_real_array(z, "z")
    with np.errstate(over="ignore"):  # exp(-z) = inf gives exactly 0, the right limit
        return 1.0 / (1.0 + np.exp(-z))


def log_sigmoid(z):
    r"""log σ(z) = -log(1 + e^{-z}), exact for any finite z (never ``log(sigmoid(z))``).

    Notes
    -----
    .. math:: \log\sigma(z) = \min(z, 0) - \log\!\big(1 + e^{-|z|}\big)

    (the same value as ``-np.logaddexp(0, -z)``, about twice as fast). log σ(−inf) = −inf.
    """
    z = as_real_array(z, "z")
    return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))


def _logits(a, name, axis):
    """Checked float64 logits: no NaN, no +inf, at least one entry along ``axis``."""
    a = as_real_array(a, name)
    if a.ndim == 0:
        raise ValueError(f"{name} must be an array with at least one axis, got a single number")
    axis = check_int(axis, "axis", minimum=-a.ndim, maximum=a.ndim - 1)
    if a.shape[axis] == 0:
        raise ValueError(f"{name} is empty along axis {axis}: there is nothing to normalise")
    if np.isposinf(a).any():
        where = np.argwhere(np.isposinf(a))[0].tolist()
        raise ValueError(f"{name} contains +inf (first at index {where}); logits must be finite or -inf")
    top = np.max(a, axis=axis, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError(f"{name} has a row that is all -inf: every response has probability zero")
    return a, axis, top


def log_softmax(logits, axis=-1):
    r"""log softmax along ``axis``: logits minus their log-sum-exp.

    ``-inf`` logits (impossible responses) stay ``-inf``; a row that is all ``-inf`` raises. The
    maximum is subtracted first, so logits as large as 1e16 keep their differences.
    """
    a, axis, top = _logits(logits, "logits", axis)
    shifted = a - top
    with np.errstate(under="ignore"):
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(logits, axis=-1):
    """softmax along ``axis``: exp of the max-shifted logits over their sum (sums to 1)."""
    a, axis, top = _logits(logits, "logits", axis)
    with np.errstate(under="ignore"):
        e = np.exp(a - top)
    return e / np.sum(e, axis=axis, keepdims=True)


def logsumexp(a, axis=-1, keepdims=False):
    r"""log Σ exp(a) along ``axis``, shifting by the maximum so nothing overflows."""
    a, axis, top = _logits(a, "a", axis)
    with np.errstate(under="ignore"):
        out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)
