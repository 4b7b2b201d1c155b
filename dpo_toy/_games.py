"""Pairwise games: validating them, and counting them per pair of players.

Every Bradley–Terry fit works on per-pair counts, so 1M games among 1,000 players become about
half a million rows, counted in one pass.
"""

from dataclasses import dataclass

import numpy as np

from ._validation import check_int

MAX_PLAYERS = 100_000_000
"""Player ids index arrays of strengths, so they are bounded (and pair keys i·n + j fit in int64)."""


@dataclass(frozen=True)
class PairCounts:
    """Games counted per pair of players (i < j): what every fit actually needs."""

    n_players: int
    i: np.ndarray  # (n_pairs,)
    j: np.ndarray  # (n_pairs,)
    games: np.ndarray  # (n_pairs,) games between i and j
    score: np.ndarray  # (n_pairs,) i's score against j, draws counting half
    draws: np.ndarray  # (n_pairs,)
    player_games: np.ndarray  # (n_players,) games each player played
    player_score: np.ndarray  # (n_players,) each player's total score


def as_games(player_a, player_b, score_a, n_players):
    """Validated games: int64 player ids, float scores in {0, 0.5, 1}, and the number of players."""
    if n_players is not None:
        n_players = check_int(n_players, "n_players", minimum=2, maximum=MAX_PLAYERS)
    for name, x in (("player_a", player_a), ("player_b", player_b), ("score_a", score_a)):
        if x is None or isinstance(x, (str, bytes)):
            raise TypeError(f"{name} must be a 1-D array, got {x!r}")
    a, b = np.asarray(player_a), np.asarray(player_b)
    if a.size == 0 and b.size == 0 and np.size(score_a) == 0:
        raise ValueError("no games: player_a, player_b and score_a are empty")
    for name, x in (("player_a", a), ("player_b", b)):
        if x.ndim != 1 or not np.issubdtype(x.dtype, np.integer):
            raise ValueError(
                f"{name} must be a 1-D array of integer player indices, got dtype {x.dtype}, shape {x.shape}"
            )
    score = np.asarray(score_a)
    if score.dtype.kind not in "iuf":
        raise TypeError(f"score_a must hold numbers (1, 0.5 or 0), got an array of dtype {score.dtype}")
    score = score.astype(float, copy=False)
    if not (a.shape == b.shape == score.shape):
        raise ValueError(
            f"player_a, player_b and score_a must have the same length, got {a.size}, {b.size}, {score.size}"
        )
    valid = (score == 0) | (score == 0.5) | (score == 1)  # also rejects NaN and inf
    if not valid.all():
        bad = score[~valid][0]
        raise ValueError(f"score_a must be 1 (a won), 0.5 (draw) or 0 (a lost); found {bad}")
    lowest = min(a.min(), b.min())
    if lowest < 0:
        raise ValueError(f"player indices must be >= 0, found {lowest}")
    highest = int(max(a.max(), b.max()))
    if highest >= MAX_PLAYERS:
        raise ValueError(
            f"player index {highest} is too large: ids index an array of strengths, so they must be "
            f"< {MAX_PLAYERS:,}; renumber the players 0, 1, 2, ..."
        )
    if n_players is None:
        n_players = highest + 1
    elif highest >= n_players:
        raise ValueError(f"player index {highest} is out of range for n_players={n_players}")
    same = a == b
    if same.any():
        k = int(np.flatnonzero(same)[0])
        raise ValueError(f"game {k}: player {a[k]} plays themself; each game needs two different players")
    return a.astype(np.int64, copy=False), b.astype(np.int64, copy=False), score, int(n_players)


def count_pairs(player_a, player_b, score_a, n_players=None):
    """Count games, score and draws per pair of players: the data the fits actually need.

    ``bincount`` over pair keys when a table of all n_players² pairs is small, otherwise one sort.
    """
    a, b, score, n = as_games(player_a, player_b, score_a, n_players)
    lo = np.minimum(a, b)
    key = lo * n + np.maximum(a, b)  # lower index * n + higher index
    score_lo = np.where(a == lo, score, 1.0 - score)  # the lower-numbered player's score
    if n * n <= max(4 * key.size, 1 << 22):
        games = np.bincount(key, minlength=n * n)
        pairs = np.flatnonzero(games)
        games = games[pairs].astype(float)
        scores = np.bincount(key, score_lo, n * n)[pairs]
        draws = np.bincount(key[score == 0.5], minlength=n * n)[pairs].astype(float)
    else:  # too many possible pairs for a table: sort the (pair, half-points) keys instead
        packed = np.sort(key * 3 + (2 * score_lo).astype(np.int64))
        starts = np.flatnonzero(np.r_[True, packed[1:] != packed[:-1]])
        runs = np.diff(np.r_[starts, packed.size]).astype(float)
        pair, half_points = np.divmod(packed[starts], 3)
        first = np.r_[True, pair[1:] != pair[:-1]]
        group = np.cumsum(first) - 1
        pairs = pair[first]
        games = np.bincount(group, runs)
        scores = np.bincount(group, runs * half_points / 2)
        draws = np.bincount(group, runs * (half_points == 1))
    i, j = np.divmod(pairs, n)
    player_games = np.bincount(i, games, n) + np.bincount(j, games, n)
    player_score = np.bincount(i, scores, n) + np.bincount(j, games - scores, n)
    return PairCounts(n, i, j, games, scores, draws, player_games, player_score)
