r"""Numerically stable building blocks in log space: sigmoid, log-sigmoid, softmax, log-softmax.

Every other module computes through these, so that tiny β (huge :math:`r/\beta`) and large
log-ratio differences never overflow into ``inf``/``NaN``.
"""

import numpy as np


def sigmoid(z):
    r"""The logistic function :math:`\sigma(z) = 1 / (1 + e^{-z})`, without overflow."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):  # exp(-z) = inf gives exactly 0, the right limit
        return 1.0 / (1.0 + np.exp(-z))


def log_sigmoid(z):
    r"""log σ(z) = -log(1 + e^{-z}), exact for any finite z (never ``log(sigmoid(z))``).

    Notes
    -----
    .. math:: \log\sigma(z) = \min(z, 0) - \log\!\big(1 + e^{-|z|}\big)

    (the same value as ``-np.logaddexp(0, -z)``, about twice as fast).
    """
    z = np.asarray(z, dtype=np.float64)
    return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))


def log_softmax(logits, axis=-1):
    r"""log softmax along ``axis``: logits minus their log-sum-exp.

    ``-inf`` logits (impossible responses) stay ``-inf``; a row that is all ``-inf`` raises.
    """
    logits = np.asarray(logits, dtype=np.float64)
    return logits - logsumexp(logits, axis=axis, keepdims=True)


def softmax(logits, axis=-1):
    """softmax along ``axis``, computed as exp(log_softmax)."""
    return np.exp(log_softmax(logits, axis=axis))


def logsumexp(a, axis=-1, keepdims=False):
    r"""log Σ exp(a) along ``axis``, shifting by the maximum so nothing overflows."""
    a = np.asarray(a, dtype=np.float64)
    top = np.max(a, axis=axis, keepdims=True)
    if np.any(np.isneginf(top)):
        raise ValueError("logsumexp of an all -inf row: every response has probability zero")
    with np.errstate(under="ignore"):
        out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)
