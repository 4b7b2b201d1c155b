"""Bradley–Terry fits against brute force, scipy, each other, and cases solved by hand."""

import warnings

import numpy as np
import pytest
from scipy.optimize import approx_fprime, minimize

from dpo_toy import bradley_terry as bt
from dpo_toy.data import load_chess


def brute_force_nll(s, a, b, score, l2):
    """The penalised NLL summed game by game, with no counting and no tricks."""
    total = 0.0
    for i, j, y in zip(a, b, score):
        p = 1.0 / (1.0 + np.exp(-(s[i] - s[j])))
        total -= y * np.log(p) + (1 - y) * np.log(1 - p)
    return total + l2 * np.sum(s**2)


def small_data(seed=0, n=6, games=60):
    sim = bt.simulate(n, games, spread=1.0, seed=seed, draw_parameter=1.0)
    return sim.player_a, sim.player_b, sim.score_a


def quiet_fit(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bt.BradleyTerryWarning)
        return bt.fit(*args, **kwargs)


def test_win_probability_by_hand():
    """sigma(s_i - s_j) = e^{s_i} / (e^{s_i} + e^{s_j}); equal strengths give one half."""
    np.testing.assert_allclose(bt.win_probability(np.log(3.0), 0.0), 3 / 4)
    np.testing.assert_allclose(bt.win_probability(1.7, 1.7), 0.5)


@pytest.mark.parametrize("n_players", [None, 10**6])  # the table path, then the sort path
def test_count_pairs_matches_a_python_loop(n_players):
    """Per-pair games, score and draws equal a dictionary tally of the games."""
    a, b, score = small_data(seed=3, n=8, games=500)
    c = bt.count_pairs(a, b, score, n_players)
    tally = {}
    for i, j, y in zip(a, b, score):
        lo, hi, y_lo = (i, j, y) if i < j else (j, i, 1 - y)
        games, points, draws = tally.get((lo, hi), (0, 0.0, 0))
        tally[(lo, hi)] = (games + 1, points + y_lo, draws + (y == 0.5))
    got = {(i, j): (g, p, d) for i, j, g, p, d in zip(c.i, c.j, c.games, c.score, c.draws)}
    assert got.keys() == tally.keys()
    for key in tally:
        np.testing.assert_allclose(got[key], tally[key])
    np.testing.assert_allclose(c.player_score.sum(), len(score) * 1.0)  # one point per game


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_matches_scipy_on_the_same_objective(seed):
    """Newton on counts and scipy's BFGS on the game-by-game NLL agree to 1e-6."""
    a, b, score = small_data(seed)
    l2 = 0.05
    result = minimize(
        lambda s: brute_force_nll(s, a, b, score, l2), np.zeros(6), method="BFGS", options={"gtol": 1e-10}
    )
    fit = bt.fit(a, b, score, 6, l2=l2)
    np.testing.assert_allclose(fit.strengths, result.x - result.x.mean(), atol=1e-6)
    np.testing.assert_allclose(fit.penalized_nll, brute_force_nll(fit.strengths, a, b, score, l2), rtol=1e-12)
    assert fit.converged and fit.penalized_nll <= result.fun + 1e-9


def test_gradient_and_hessian_match_finite_differences():
    """The analytic gradient and the Hessian weights agree with finite differences of the NLL."""
    a, b, score = small_data(4)
    c = bt.count_pairs(a, b, score, 6)
    s = np.random.default_rng(0).normal(size=6)
    nll, grad, weights = bt._evaluate(s, c, 0.1)
    np.testing.assert_allclose(nll, brute_force_nll(s, a, b, score, 0.1), rtol=1e-12)
    np.testing.assert_allclose(grad, approx_fprime(s, lambda x: brute_force_nll(x, a, b, score, 0.1), 1e-7), atol=1e-5)
    numeric = np.array([approx_fprime(s, lambda x, k=k: bt._evaluate(x, c, 0.1)[1][k], 1e-7) for k in range(6)])
    np.testing.assert_allclose(bt._dense_hessian(c, weights, 0.1), numeric, atol=1e-5)


@pytest.mark.parametrize("spread", [0.1, 5.0, 80.0, 2000.0])
def test_both_evaluation_paths_match_the_brute_force_nll(spread):
    """e^s per player (spreads up to 600 nats) and the per-pair fallback give the same NLL, gradient, weights.

    The reference is the game-by-game log-likelihood with a stable log-sigmoid (no counting, no e^s).
    """
    a, b, score = small_data(5)
    c = bt.count_pairs(a, b, score, 6)
    s = np.linspace(-0.5, 0.5, 6) * spread
    brute = -bt.log_likelihood(s, a, b, score) + 0.1 * (s @ s)
    fast, slow = bt._evaluate(s, c, 0.1), bt._evaluate_per_pair(s, c, 0.1)
    np.testing.assert_allclose([fast[0], slow[0]], brute, rtol=1e-12)
    np.testing.assert_allclose(fast[1], slow[1], rtol=1e-10, atol=1e-12)
    # games·σ·(1 − σ): the per-pair path loses weights below ~1e-16 to rounding in 1 − σ; e^s keeps them.
    np.testing.assert_allclose(fast[2], slow[2], rtol=1e-10, atol=1e-15)
    assert np.isfinite(fast[0]) and np.isfinite(fast[1]).all()


def test_conjugate_gradient_path_equals_dense_path(monkeypatch):
    """The large-n solver (CG on pairs) lands on the same strengths as the dense solve."""
    sim = bt.simulate(300, 20_000, seed=5, opponents=8)
    dense = bt.fit(sim.player_a, sim.player_b, sim.score_a, 300)
    monkeypatch.setattr(bt, "DENSE_SOLVE_MAX", 10)
    sparse = bt.fit(sim.player_a, sim.player_b, sim.score_a, 300)
    np.testing.assert_allclose(sparse.strengths, dense.strengths, atol=1e-9)


def test_fit_and_fit_mm_agree():
    """Newton and Hunter's MM reach the same optimum of the same penalised objective."""
    sim = bt.simulate(40, 3000, seed=6, opponents=6)
    newton = bt.fit(sim.player_a, sim.player_b, sim.score_a, 40)
    mm = bt.fit_mm(sim.player_a, sim.player_b, sim.score_a, 40)
    assert mm.converged and mm.n_iter > newton.n_iter
    np.testing.assert_allclose(mm.strengths, newton.strengths, atol=1e-7)
    np.testing.assert_allclose(mm.penalized_nll, newton.penalized_nll, rtol=1e-12)


def test_mm_without_prior_is_hunters_update():
    """With l2 = 0, MM and Newton still agree (Hunter's e^s = W / C update) on data with a finite MLE."""
    a, b, score = small_data(7, games=200)
    np.testing.assert_allclose(bt.fit_mm(a, b, score, l2=0).strengths, bt.fit(a, b, score, l2=0).strengths, atol=1e-7)


def test_recovery_improves_with_more_games():
    """The error against the true strengths shrinks as the number of games grows."""
    errors = []
    for games in (2_000, 20_000, 200_000):
        sim = bt.simulate(50, games, seed=8, opponents=10)
        fit = bt.fit(sim.player_a, sim.player_b, sim.score_a, 50)
        errors.append(np.sqrt(np.mean((fit.strengths - sim.strengths) ** 2)))
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.05


def test_shift_and_order_invariance():
    """Shifting strengths leaves the likelihood unchanged; shuffling games or relabelling players changes nothing."""
    a, b, score = small_data(9, games=300)
    s = np.random.default_rng(1).normal(size=6)
    np.testing.assert_allclose(bt.log_likelihood(s + 3.7, a, b, score), bt.log_likelihood(s, a, b, score))
    base = bt.fit(a, b, score, 6)
    order = np.random.default_rng(2).permutation(len(a))
    np.testing.assert_allclose(bt.fit(a[order], b[order], score[order], 6).strengths, base.strengths, atol=1e-12)
    swapped = bt.fit(b, a, 1 - score, 6)  # the same games written from the other side
    np.testing.assert_allclose(swapped.strengths, base.strengths, atol=1e-12)
    relabel = np.random.default_rng(3).permutation(6)
    renamed = bt.fit(relabel[a], relabel[b], score, 6)
    np.testing.assert_allclose(renamed.strengths[relabel], base.strengths, atol=1e-12)


def test_symmetric_three_cycle_gives_equal_strengths():
    """A beats B, B beats C, C beats A (each once): all strengths 0, win probabilities one half."""
    fit = bt.fit(np.array([0, 1, 2]), np.array([1, 2, 0]), np.array([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(fit.strengths, 0.0, atol=1e-12)


def test_half_wins_equal_the_tie_split_trick():
    """Draws as half-wins = each decisive game counted twice and each draw as one win each way (l2 doubled)."""
    a, b, score = small_data(10, games=300)
    decisive = score != 0.5
    a2 = np.r_[a[decisive], a[decisive], a[~decisive], a[~decisive]]
    b2 = np.r_[b[decisive], b[decisive], b[~decisive], b[~decisive]]
    y2 = np.r_[score[decisive], score[decisive], np.ones((~decisive).sum()), np.zeros((~decisive).sum())]
    half = bt.fit(a, b, score, 6, l2=0.01)
    split = bt.fit(a2, b2, y2, 6, l2=0.02)
    np.testing.assert_allclose(split.strengths, half.strengths, atol=1e-10)


def test_davidson_matches_scipy_and_recovers_the_draw_parameter():
    """Davidson's model: Newton equals scipy on its NLL, and nu is recovered from simulated draws."""
    sim = bt.simulate(10, 40_000, seed=11, draw_parameter=1.5, opponents=4)
    fit = bt.fit(sim.player_a, sim.player_b, sim.score_a, 10, draws="davidson")
    assert abs(fit.draw_parameter - 1.5) < 0.05
    assert np.sqrt(np.mean((fit.strengths - sim.strengths) ** 2)) < 0.05
    a, b, y = sim.player_a[:300], sim.player_b[:300], sim.score_a[:300]

    def nll(params):  # game by game: P(win) ∝ e^{d/2}, P(loss) ∝ e^{-d/2}, P(draw) ∝ nu
        s, nu = params[:10], np.exp(params[10])
        d = s[a] - s[b]
        den = np.exp(d / 2) + np.exp(-d / 2) + nu
        p = np.where(y == 1, np.exp(d / 2), np.where(y == 0, np.exp(-d / 2), nu)) / den
        return -np.sum(np.log(p)) + 1e-4 * np.sum(s**2)

    result = minimize(nll, np.zeros(11), method="BFGS", options={"gtol": 1e-9})
    small = bt.fit(a, b, y, 10, draws="davidson")
    np.testing.assert_allclose(small.strengths, result.x[:10] - result.x[:10].mean(), atol=1e-5)
    np.testing.assert_allclose(small.draw_parameter, np.exp(result.x[10]), rtol=1e-5)
    np.testing.assert_allclose(small.penalized_nll, result.fun, rtol=1e-9)


def test_standard_errors_match_a_numerical_hessian():
    """SEs are the square roots of diag(P H^-1 P), H the finite-difference Hessian of the NLL."""
    a, b, score = small_data(12, games=200)
    fit = bt.fit(a, b, score, 6, l2=0.01)
    grad = lambda s: approx_fprime(s, lambda x: brute_force_nll(x, a, b, score, 0.01), 1e-6)
    h = np.array([approx_fprime(fit.strengths, lambda x, k=k: grad(x)[k], 1e-4) for k in range(6)])
    h = (h + h.T) / 2
    p = np.eye(6) - 1 / 6
    expected = np.sqrt(np.diag(p @ np.linalg.inv(h) @ p))
    np.testing.assert_allclose(fit.standard_errors, expected, rtol=1e-3)


@pytest.mark.parametrize(
    "a, b, score, words",
    [
        ([0, 0, 1], [1, 2, 2], [1, 1, 0.5], ["player 0 won every game"]),
        ([0, 0, 1], [1, 2, 2], [0, 0, 0.5], ["player 0 lost every game"]),
        ([0, 1, 2, 3], [1, 0, 3, 2], [1, 0, 1, 0], ["2 groups that never played each other"]),
        (
            [0, 1, 2, 3, 0, 1, 0],
            [1, 0, 3, 2, 2, 3, 3],
            [1, 1, 1, 1, 1, 1, 1],
            ["group {player 0, player 1} took every point", "group {player 2, player 3} lost every game"],
        ),
    ],
)
def test_unpinnable_data_warns_and_stays_finite(a, b, score, words):
    """Undefeated, winless, disconnected and dominating groups: a named warning, finite strengths."""
    a, b, score = np.array(a), np.array(b), np.array(score, dtype=float)
    with pytest.warns(bt.BradleyTerryWarning) as record:
        fit = bt.fit(a, b, score)
    text = " | ".join(str(w.message) for w in record)
    for word in words:
        assert word in text, text
    assert np.isfinite(fit.strengths).all() and fit.converged
    assert fit.warnings and all(m in text for m in fit.warnings)


def test_undefeated_strength_grows_as_the_prior_weakens():
    """Without the prior the undefeated player's MLE is infinite: the fitted strength grows as l2 shrinks."""
    a, b, score = np.array([0, 0, 1, 2]), np.array([1, 2, 2, 1]), np.array([1.0, 1.0, 1.0, 0.0])
    tops = [quiet_fit(a, b, score, l2=l2).strengths[0] for l2 in (1e-1, 1e-3, 1e-5)]
    assert tops[0] < tops[1] < tops[2] and np.isfinite(tops).all()


def test_well_posed_data_gives_no_warning():
    """A connected schedule where everyone scored against someone raises no warning."""
    sim = bt.simulate(30, 3000, seed=13, opponents=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bt.check_schedule(sim.player_a, sim.player_b, sim.score_a) == []


BAD = [
    (lambda: bt.fit([0, 5], [1, 2], [1, 0], n_players=3), ValueError, "out of range"),
    (lambda: bt.fit([0, 1], [0, 2], [1, 0]), ValueError, "plays themself"),
    (lambda: bt.fit([0, 1], [1, 2], [1, np.nan]), ValueError, "score_a must be"),
    (lambda: bt.fit([0, 1], [1, 2], [1, 0.7]), ValueError, "score_a must be"),
    (lambda: bt.fit([0, 1], [1, 2], [1, 2]), ValueError, "score_a must be"),
    (lambda: bt.fit([], [], []), ValueError, "no games"),
    (lambda: bt.fit([0, 1], [1, 2, 0], [1, 0]), ValueError, "same length"),
    (lambda: bt.fit([0, -1], [1, 2], [1, 0]), ValueError, ">= 0"),
    (lambda: bt.fit([0.0, 1.0], [1, 2], [1, 0]), ValueError, "integer player indices"),
    (lambda: bt.fit([0, 1], [1, 2], ["win", "loss"]), TypeError, "score_a must hold numbers"),
    (lambda: bt.fit([0, 1], [1, 2], [1, 0], l2=-1), ValueError, "l2 must be >= 0"),
    (lambda: bt.fit([0, 1], [1, 2], [1, 0], draws="elo"), ValueError, "draws must be"),
    (lambda: bt.fit([0, 1], [1, 2], [1, 0], names=["a", "b"]), ValueError, "names has 2 entries"),
    (lambda: bt.fit([0, 1, 2], [1, 2, 0], [1, 1, 1], draws="davidson"), ValueError, "at least one draw"),
    (lambda: bt.to_elo([0.0, 1.0], anchor="Tal", names=["a", "b"]), ValueError, "anchor"),
    (lambda: bt.elo_ratings([0, 1], [1, 2], [1, 0], k=[16.0, -1.0]), ValueError, "k must be a positive"),
]


@pytest.mark.parametrize("call, exc, words", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_is_named(call, exc, words):
    """Each bad input raises with a message that names the problem."""
    with pytest.raises(exc, match=words):
        call()


def test_not_converging_warns_with_the_numbers():
    """A fit stopped by max_iter says so, with the gradient it reached."""
    a, b, score = small_data(14)
    with pytest.warns(RuntimeWarning, match="did not converge in 1 iterations"):
        fit = bt.fit(a, b, score, max_iter=1)
    assert not fit.converged


def test_elo_scale_and_anchor():
    """400/ln 10 Elo per unit; centred at 1500 by default; an anchor player gets the anchor rating."""
    s = np.array([0.0, np.log(10.0), -1.0])
    elo = bt.to_elo(s)
    np.testing.assert_allclose(elo[1] - elo[0], 400.0)
    np.testing.assert_allclose(elo.mean(), 1500.0)
    anchored = bt.to_elo(s, anchor="b", anchor_rating=2000.0, names=["a", "b", "c"])
    np.testing.assert_allclose(anchored[1], 2000.0)
    np.testing.assert_allclose(np.diff(anchored), np.diff(elo))


def test_elo_update_is_a_gradient_step_on_the_log_likelihood():
    """Rating change = k * d(log-likelihood)/d(s_a), checked by finite differences."""
    ra, rb, k = 1620.0, 1480.0, 24.0
    for y in (1.0, 0.5, 0.0):
        new_a, new_b = bt.elo_update(ra, rb, y, k)
        s = np.array([ra, rb]) / bt.ELO_PER_UNIT
        grad = approx_fprime(s, lambda x, y=y: bt.log_likelihood(x, [0], [1], [y]), 1e-7)
        np.testing.assert_allclose([new_a - ra, new_b - rb], k * grad, atol=1e-5)
        assert new_a + new_b == pytest.approx(ra + rb)  # zero-sum


def test_online_elo_lands_near_the_batch_mle():
    """Elo with a K that decays over shuffled passes settles within a few points of the batch fit."""
    sim = bt.simulate(12, 3000, seed=15, opponents=4)
    fit = bt.fit(sim.player_a, sim.player_b, sim.score_a, 12, l2=1e-6)
    online = bt.elo_ratings(sim.player_a, sim.player_b, sim.score_a, 12, k=np.geomspace(16, 0.1, 60), seed=0)
    gap = np.abs((online - online.mean()) - (fit.elo() - 1500.0))
    assert gap.max() < 3.0
    one_pass = bt.elo_ratings(sim.player_a, sim.player_b, sim.score_a, 12, k=16.0)
    assert np.abs((one_pass - one_pass.mean()) - (fit.elo() - 1500.0)).max() > gap.max()  # fixed K jitters


def test_elo_ratings_replays_elo_update():
    """elo_ratings over two games equals two calls of elo_update by hand."""
    r = [1500.0, 1500.0, 1500.0]
    r[0], r[1] = bt.elo_update(r[0], r[1], 1.0, 20.0)
    r[1], r[2] = bt.elo_update(r[1], r[2], 0.5, 20.0)
    np.testing.assert_allclose(bt.elo_ratings([0, 1], [1, 2], [1.0, 0.5], k=20.0), r)


def test_chess_fit_is_consistent():
    """The 20-player pooled fit converges, warns about nothing, and ranks Smyslov first."""
    games = load_chess()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = bt.fit(games.player_a, games.player_b, games.score_a, names=games.names)
    assert fit.converged and games.names[fit.ranking()[0]] == "Vasily Smyslov"
    assert np.all(fit.standard_errors > 0)


def test_add_player_keeps_old_games_and_plays_only_the_given_opponents():
    """add_player appends games of the new player against the listed opponents, old games untouched."""
    sim = bt.simulate(20, 200, seed=1)
    weakest = np.argsort(sim.strengths)[:3]
    new = bt.add_player(sim, 0.5, weakest, 4000, seed=2)
    np.testing.assert_array_equal(new.player_a[:200], sim.player_a)
    np.testing.assert_array_equal(new.score_a[:200], sim.score_a)
    assert set(new.player_b[200:].tolist()) <= set(weakest.tolist())
    assert np.all(new.player_a[200:] == 20)
    np.testing.assert_allclose(new.strengths.mean(), 0.0, atol=1e-12)
    # its win rate against each opponent matches σ(strength − s_opponent) within sampling noise
    for k in weakest:
        games = new.player_b[200:] == k
        expected = 1 / (1 + np.exp(-(0.5 - sim.strengths[k])))
        observed = new.score_a[200:][games].mean()
        assert abs(observed - expected) < 4 * np.sqrt(expected * (1 - expected) / games.sum())


def test_add_player_rejects_unknown_opponents():
    """Opponent indices outside the simulation raise a ValueError naming the argument."""
    sim = bt.simulate(5, 20, seed=0)
    with pytest.raises(ValueError, match="opponents"):
        bt.add_player(sim, 0.0, [7], 10)
