r"""Elo ratings: Bradley–Terry on a different scale, and its online update.

A rating R is a strength in other units, R = s·400/ln 10: a 400-point gap means 10-to-1 odds.
The online Elo rule is stochastic gradient ascent on the Bradley–Terry log-likelihood, one game at
a time (see :func:`elo_update`), so with a small K it settles near the batch maximum-likelihood fit.
"""

import numpy as np

from . import _validation as v
from ._games import as_games
from ._validation import as_finite_array
from .stable import sigmoid

ELO_PER_UNIT = 400.0 / np.log(10.0)
"""Elo points per natural-log unit of strength: a 400-point gap means 10-to-1 odds."""


def to_elo(strengths, anchor=None, anchor_rating=1500.0, names=None):
    """Strengths on the Elo scale (400/ln 10 points per unit): mean ``anchor_rating``, or the
    ``anchor`` player (an index, or a name from ``names``) at ``anchor_rating``."""
    elo = ELO_PER_UNIT * as_finite_array(strengths, "strengths")
    anchor_rating = v.check_real(anchor_rating, "anchor_rating")
    if elo.ndim != 1 or elo.size == 0:
        raise ValueError(f"strengths must be a non-empty 1-D array (one per player), got shape {elo.shape}")
    if anchor is None:
        return elo - elo.mean() + anchor_rating
    if isinstance(anchor, str):
        if names is None or anchor not in names:
            raise ValueError(f"anchor {anchor!r} is not among the names given")
        anchor = list(names).index(anchor)
    anchor = v.check_int(anchor, "anchor", minimum=0, maximum=elo.size - 1)
    return elo - elo[anchor] + anchor_rating


def elo_update(rating_a, rating_b, score_a, k=32.0):
    r"""The online Elo rule for one game: both ratings move by k·(score_a − expected score).

    The expected score is 1 / (1 + 10^{(R_b − R_a)/400}) = σ(s_a − s_b) with s = R·ln 10/400, and
    score_a − σ(s_a − s_b) is the derivative of that game's Bradley–Terry log-likelihood in s_a:
    Elo is stochastic gradient ascent on the Bradley–Terry likelihood, one game at a time.

    Returns
    -------
    (new_rating_a, new_rating_b)
    """
    a, b = as_finite_array(rating_a, "rating_a"), as_finite_array(rating_b, "rating_b")
    score = as_finite_array(score_a, "score_a")
    if not ((score == 0) | (score == 0.5) | (score == 1)).all():
        raise ValueError(f"score_a must be 1 (a won), 0.5 (draw) or 0 (a lost), got {score_a!r}")
    k = v.check_positive(k, "k")
    expected = sigmoid((a - b) / ELO_PER_UNIT)
    delta = k * (score - expected)
    new_a, new_b = rating_a + delta, rating_b - delta
    if not (np.isfinite(new_a).all() and np.isfinite(new_b).all()):
        raise ValueError(f"the ratings overflow with k={k:g}: use a K-factor of a few dozen points")
    return new_a, new_b


def elo_ratings(player_a, player_b, score_a, n_players=None, *, k=32.0, initial=1500.0, passes=1, seed=None):
    """Ratings after applying :func:`elo_update` to every game in order, pass after pass.

    Parameters
    ----------
    k : float or sequence of float
        The K-factor; a sequence gives one K per pass (a decaying K settles like a stochastic
        gradient run with a decaying learning rate), and then ``passes`` is its length.
    passes : int
        Passes over the games when ``k`` is a single number.
    seed : int, optional
        Shuffle the games before each pass (as a stochastic-gradient run would); None keeps their order.
    """
    a, b, score, n = as_games(player_a, player_b, score_a, n_players)
    ks = as_finite_array(k, "k")
    ks = np.full(v.check_int(passes, "passes", minimum=1), float(ks)) if ks.ndim == 0 else ks
    if ks.ndim != 1 or ks.size == 0 or (ks <= 0).any():
        raise ValueError("k must be a positive number or a non-empty 1-D sequence of them (one per pass)")
    ratings = [v.check_real(initial, "initial")] * n  # plain floats: this loop runs once per game
    rng = np.random.default_rng(seed)
    order = np.arange(a.size)
    a, b, score = a.tolist(), b.tolist(), score.tolist()
    for k_pass in ks.tolist():
        if seed is not None:
            rng.shuffle(order)
        for g in order.tolist():
            i, j = a[g], b[g]
            # Capped exponent: 10**300 still gives an expected score of 0 without overflowing.
            expected = 1.0 / (1.0 + 10.0 ** min((ratings[j] - ratings[i]) / 400.0, 300.0))
            change = k_pass * (score[g] - expected)
            ratings[i] += change
            ratings[j] -= change
    ratings = np.array(ratings)
    if not np.isfinite(ratings).all():
        raise ValueError(f"the ratings overflow with k up to {ks.max():g}: use a K-factor of a few dozen points")
    return ratings
