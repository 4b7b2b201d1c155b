"""Chapter 3, Bradley–Terry on chess: the log-likelihood with draws, the Elo update, one MM step."""

import numpy as np

from .. import bradley_terry, elo, stable
from ..data import load_chess
from ._engine import Case, Exercise, Mistake
from ._kinds import Choice, Prediction, SliderQuestion

_rng = np.random.default_rng([11, 3])  # this chapter's inputs; other chapters draw from their own

_AVRO = load_chess("AVRO")
_ZURICH = load_chess("Zurich Candidates")


def _avro():
    return _AVRO.player_a.copy(), _AVRO.player_b.copy(), _AVRO.score_a.copy()


def _zurich():
    return _ZURICH.player_a.copy(), _ZURICH.player_b.copy(), _ZURICH.score_a.copy()


def _simulated(n_players, n_games, seed):
    sim = bradley_terry.simulate(n_players, n_games, spread=0.7, draw_parameter=0.8, seed=seed)
    return sim.player_a, sim.player_b, sim.score_a


_BT_CASES = (
    Case("AVRO 1938, all strengths 0", (np.zeros(8), *_avro())),
    Case("AVRO 1938, random strengths", (_rng.normal(size=8), *_avro())),
    Case(
        "three games with a draw",
        (np.array([0.5, -0.2, 1.0]), np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([1.0, 0.5, 0.0])),
    ),
    Case("Zurich 1953, all strengths 0", (np.zeros(15), *_zurich())),
    Case("Zurich 1953, random strengths", (_rng.normal(size=15), *_zurich())),
    Case("60 simulated games with draws", (_rng.normal(size=6), *_simulated(6, 60, 1))),
    Case("AVRO 1938, strengths of +-5", (_rng.choice([-5.0, 5.0], 8), *_avro())),
    Case("AVRO 1938, strengths of +-400", (_rng.choice([-400.0, 400.0], 8), *_avro()), hard=True),
)
_ELO_CASES = (
    Case("1500 vs 1500, a wins, k=32", (1500.0, 1500.0, 1.0, 32.0)),
    Case("1700 vs 1500, draw, k=20", (1700.0, 1500.0, 0.5, 20.0)),
    Case("1400 vs 1800, a loses, k=16", (1400.0, 1800.0, 0.0, 16.0)),
    Case("2100 vs 1900, a wins, k=10", (2100.0, 1900.0, 1.0, 10.0)),
    Case("random ratings, a wins, k=24", (*_rng.uniform(1000, 2800, 2), 1.0, 24.0)),
    Case("random ratings, draw, k=40", (*_rng.uniform(1000, 2800, 2), 0.5, 40.0)),
    Case("1000 vs 2400, a wins, k=40", (1000.0, 2400.0, 1.0, 40.0)),
    Case("ratings 6000 apart, a loses, k=32", (6000.0, 0.0, 0.0, 32.0), hard=True),
)
_MM_CASES = (
    Case("AVRO 1938 from zeros", (np.zeros(8), *_avro())),
    Case("AVRO 1938 from random strengths", (_rng.normal(size=8), *_avro())),
    Case("Zurich 1953 from zeros", (np.zeros(15), *_zurich())),
    Case("Zurich 1953 from random strengths", (_rng.normal(size=15), *_zurich())),
    *(
        Case(
            f"{n} games of {k} simulated players, from random strengths", (_rng.normal(size=k), *_simulated(k, n, seed))
        )
        for k, n, seed in ((4, 200, 2), (6, 300, 3), (10, 600, 4))
    ),
    Case("AVRO 1938 from strengths of +-30", (_rng.choice([-30.0, 30.0], 8), *_avro()), hard=True),
)


def _bt_terms(s, a, b, y, draw_as):
    """The log-likelihood with draws dropped ("ignore") or scored as losses (mistakes of 3.1)."""
    d = s[a] - s[b]
    win, loss = (y == 1).astype(float), (y == 0).astype(float)
    if draw_as == "loss":
        loss = (y < 1).astype(float)
    return np.sum(win * stable.log_sigmoid(d) + loss * stable.log_sigmoid(-d))


def _naive_log_sigmoid(x):
    return np.log(1 / (1 + np.exp(-x)))


def _bt_sum(log_sig, s, a, b, y, win, loss, swap=False):
    """Σ win·log σ(d) + loss·log σ(−d) over games, d = s_a − s_b (or s_b − s_a): learner-style forms."""
    d = s[b] - s[a] if swap else s[a] - s[b]
    return np.sum(win(y) * log_sig(d) + loss(y) * log_sig(-d))


def _draws_half(y):
    return y


def _learner_forms(win, loss, *, sign=1.0, swap=False):
    """A slip in the log-likelihood as learners write it: once with a naive log σ, once with a stable one."""
    return tuple(
        lambda s, a, b, y, f=f: sign * _bt_sum(f, s, a, b, y, win, loss, swap)
        for f in (_naive_log_sigmoid, stable.log_sigmoid)
    )


def _mm_no_centre(s, a, b, y):
    """Hunter's MM step without the final centring (a mistake of 3.3)."""
    new = bradley_terry.mm_update(s, a, b, y)
    c = bradley_terry.count_pairs(a, b, y, s.size)
    gamma = np.exp(s)
    ratio = c.games / (gamma[c.i] + gamma[c.j])
    c_sum = np.bincount(c.i, ratio, s.size) + np.bincount(c.j, ratio, s.size)
    return new - new.mean() + np.mean(np.log(c.player_score / c_sum))


def _mm_wins_only(s, a, b, y):
    # The update with draws dropped, as a learner computes it: a player left without a decisive
    # win gets log 0, and the centred result turns NaN (the library's mm_update refuses that case).
    with np.errstate(divide="ignore", invalid="ignore"):
        return _learner_mm(s, a, b, y, draws=False)


def _elo_with(expected):
    """An Elo update whose expected score is ``expected(rating_a, rating_b)`` (mistakes of 3.2)."""

    def update(ra, rb, y, k):
        step = k * (y - expected(ra, rb))
        return ra + step, rb - step

    return update


def _learner_elo(direction=1.0, base=10.0, scale=400.0, move_b=True):
    """The Elo update the way a learner writes it, with a slip chosen by the flags."""

    def update(rating_a, rating_b, score_a, k):
        expected = 1.0 / (1.0 + np.power(base, (rating_b - rating_a) / scale))
        change = direction * k * (score_a - expected)
        return rating_a + change, rating_b - change if move_b else rating_b

    return update


def _learner_mm(s, a, b, y, centre=True, draws=True):
    """Hunter's MM step the way a learner writes it (wins and game counts by bincount)."""
    if not draws:
        keep = y != 0.5
        a, b, y = a[keep], b[keep], y[keep]
    n = s.size
    pi = np.exp(s)
    per_game = 1.0 / (pi[a] + pi[b])
    wins = np.bincount(a, y, n) + np.bincount(b, 1 - y, n)
    c = np.bincount(a, per_game, n) + np.bincount(b, per_game, n)
    new = np.log(wins / c)
    return new - new.mean() if centre else new


EXERCISES = (
    Exercise(
        "3.1",
        "bt_log_likelihood(strengths, player_a, player_b, score_a)",
        bradley_terry.log_likelihood,
        _BT_CASES,
        (
            Mistake(
                "sign",
                "the sign is flipped: a log-likelihood is <= 0; you returned the loss (-log L)",
                lambda *x: -bradley_terry.log_likelihood(*x),
                examples=_learner_forms(_draws_half, lambda y: 1 - y, sign=-1.0),
            ),
            Mistake(
                "forgot draws",
                "draws are missing: a draw counts as half a win, y = 0.5 in y log s(d) + (1-y) log s(-d)",
                lambda s, a, b, y: _bt_terms(s, a, b, y, "ignore"),
                examples=_learner_forms(lambda y: y == 1, lambda y: y == 0),
            ),
            Mistake(
                "draws as losses",
                "you scored draws as losses; a draw is y = 0.5, half a win for each player",
                lambda s, a, b, y: _bt_terms(s, a, b, y, "loss"),
                examples=_learner_forms(lambda y: y == 1, lambda y: y < 1),
            ),
            Mistake(
                "players swapped",
                "you used s_b - s_a: player_a wins with probability sigma(s_a - s_b)",
                lambda s, a, b, y: bradley_terry.log_likelihood(s, b, a, y),
                examples=_learner_forms(_draws_half, lambda y: 1 - y, swap=True),
            ),
        ),
        arg_names=("strengths", "player_a", "player_b", "score_a"),
        title="the Bradley–Terry log-likelihood with draws",
        difficulty=2,
    ),
    Exercise(
        "3.2",
        "elo_update(rating_a, rating_b, score_a, k)",
        elo.elo_update,
        _ELO_CASES,
        (
            Mistake(
                "sign",
                "the update points the wrong way: a rating rises by k * (score - expected)",
                lambda ra, rb, y, k: tuple(2 * np.array([ra, rb]) - np.array(elo.elo_update(ra, rb, y, k))),
                examples=(_learner_elo(direction=-1.0),),
            ),
            Mistake(
                "base e",
                "the expected score uses base 10: 1 / (1 + 10 ** ((rating_b - rating_a) / 400))",
                _elo_with(lambda ra, rb: 1 / (1 + np.exp((rb - ra) / 400))),
                examples=(_learner_elo(base=np.e),),
            ),
            Mistake(
                "only a",
                "player b's rating must move too, by the opposite amount (Elo is zero-sum)",
                lambda ra, rb, y, k: (elo.elo_update(ra, rb, y, k)[0], rb),
                examples=(_learner_elo(move_b=False),),
            ),
            Mistake(
                "no /400",
                "divide the rating gap by 400 before using it as an exponent of 10",
                _elo_with(lambda ra, rb: 1 / (1 + np.power(10.0, rb - ra))),
                examples=(_learner_elo(scale=1.0),),
            ),
        ),
        arg_names=("rating_a", "rating_b", "score_a", "k"),
        title="the Elo update",
        difficulty=1,
    ),
    Exercise(
        "3.3",
        "mm_step(strengths, player_a, player_b, score_a)",
        bradley_terry.mm_update,
        _MM_CASES,
        (
            Mistake(
                "not centred",
                "right update, but not centred: subtract the mean so strengths keep mean 0",
                _mm_no_centre,
                examples=(lambda s, a, b, y: _learner_mm(s, a, b, y, centre=False),),
            ),
            Mistake(
                "forgot draws",
                "draws are missing from W_i and from the game counts: a draw is half a win for each player",
                _mm_wins_only,
                examples=(lambda s, a, b, y: _learner_mm(s, a, b, y, draws=False),),
            ),
        ),
        arg_names=("strengths", "player_a", "player_b", "score_a"),
        title="one MM step of Hunter's algorithm",
        difficulty=3,
    ),
)


# --- questions placed inline in the chapter ----------------------------------------------------------


def newcomer_games():
    """The chapter's schedule: 100 simulated players, plus an average newcomer who meets only the 10 weakest."""
    sim = bradley_terry.simulate(100, 3000, spread=1.0, opponents=6, seed=7)
    return bradley_terry.add_player(sim, 0.0, np.argsort(sim.strengths)[:10], 60, seed=3)


def _rank(values, k):
    return int(np.sum(values > values[k])) + 1


def _newcomer_win_rate_rank():
    g = newcomer_games()
    n = g.strengths.size
    games = np.bincount(g.player_a, minlength=n) + np.bincount(g.player_b, minlength=n)
    points = np.bincount(g.player_a, g.score_a, n) + np.bincount(g.player_b, 1 - g.score_a, n)
    rank = _rank(points / games, n - 1)
    return "a" if rank <= 10 else ("c" if rank > n - 10 else "b")


_SLIDER_GRID = 10.0 ** np.arange(-8.0, 1.0 + 1e-9, 0.25)  # the λ values the chapter's slider can show


def _keres_perfect():
    keres = _AVRO.index("Paul Keres")
    perfect = _AVRO.score_a.copy()
    perfect[_AVRO.player_a == keres] = 1.0
    perfect[_AVRO.player_b == keres] = 0.0
    return keres, perfect


def keres_elo(l2):
    """Keres's Elo above the mean when he wins every AVRO game, fitted with prior strength ``l2``."""
    keres, perfect = _keres_perfect()
    fit = bradley_terry.fit(
        _AVRO.player_a, _AVRO.player_b, perfect, len(_AVRO.names), l2=float(l2), check=False, standard_errors=False,
        max_iter=200,
    )  # fmt: skip
    return float(fit.elo()[keres] - 1500.0)


def _strongest_prior_above(elo_points):
    """The largest λ on the slider's grid at which Keres still stands more than ``elo_points`` above the mean."""
    above = [lam for lam in _SLIDER_GRID if keres_elo(lam) > elo_points]
    return float(max(above))


def _p_elo(gap):
    return float(bradley_terry.win_probability(gap / bradley_terry.ELO_PER_UNIT, 0.0))


QUESTIONS = (
    Prediction(
        "3.p1",
        "where the win rate ranks the average newcomer who met only weak players",
        truth=_newcomer_win_rate_rank,
        options={
            "a": "near the top (in the top 10 of 101)",
            "b": "in the middle, where its true strength puts it",
            "c": "near the bottom (below rank 91)",
        },
        why={
            "b": "that is where its true strength (and Bradley–Terry) puts it; the win rate cannot see "
            "that every opponent was one of the 10 weakest players",
            "c": "an average player beats weak players most of the time, so its share of points is high",
        },
        explain="A share of points ignores whom the points came from; the fit weighs each win by the opponent's "
        "strength.",
    ),
    Choice(
        "3.r1",
        "P(win) for a 200-Elo-point edge",
        options={
            "a": f"{2 / 3:.2f}",
            "b": f"{_p_elo(200):.2f}",
            "c": f"{_p_elo(400):.2f}",
            "d": f"{(0.5 + _p_elo(400)) / 2:.2f}",
        },
        answer="b",
        why={
            "a": "that is 2-to-1 odds; but 400 points is 10-to-1, and half the gap gives the square root of "
            "the odds, √10 ≈ 3.16-to-1, not half of them",
            "c": "that is a 400-point edge (10-to-1 odds); 200 points is half the gap",
            "d": "probabilities are not linear in the gap: the odds multiply, so 200 points gives √10-to-1 odds",
        },
        names={"a": "odds halved", "c": "400-point value", "d": "linear in the gap"},
        explain="200 Elo points = 200·ln10/400 = 1.151 strength units; σ(1.151) = √10/(1 + √10) ≈ 0.76.",
    ),
    SliderQuestion(
        "3.s1",
        "the strongest prior λ at which undefeated Keres is still more than 1200 Elo above the mean",
        truth=lambda: _strongest_prior_above(1200.0),
        rtol=0.25,  # one slider step is a factor 10^0.25 ≈ 1.78: only the right position is accepted
        variable="λ",
        measure=lambda lam: f"Keres at {keres_elo(lam):+.1f} Elo",
        target="Keres more than +1200 Elo, at the largest λ",
    ),
)
