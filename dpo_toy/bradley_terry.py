r"""Bradley–Terry: one strength per player from a pile of pairwise results.

Player i beats player j with probability σ(s_i − s_j) (Bradley & Terry 1952). Only differences
are identified, so strengths are reported centred (mean 0), in natural-log units; ``to_elo``
converts to the Elo scale, 400/ln 10 points per unit. The fit maximises the likelihood with a small
L2 prior, which keeps strengths finite when the data cannot pin them (an undefeated player):

.. math:: \min_s\; -\sum_{\text{games}} \big[\,y\log\sigma(s_a - s_b) + (1-y)\log\sigma(s_b - s_a)\big]
          + \lambda\,\lVert s\rVert^2

with y = 1, ½, 0 for a win, draw or loss of player a. Games are counted per pair first; then
Newton's method runs on the counts (a dense solve up to ``DENSE_SOLVE_MAX`` players,
preconditioned conjugate gradients beyond). ``fit_mm`` is Hunter's (2004) MM iteration on the same objective,
the slow-but-simple baseline. ``draws="davidson"`` fits Davidson's (1970) draw model instead.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from . import _validation as v
from ._games import MAX_PLAYERS, PairCounts, as_games, count_pairs
from ._schedule import check_counts
from ._validation import as_finite_array
from .elo import ELO_PER_UNIT, elo_ratings, elo_update, to_elo
from .stable import log_sigmoid, sigmoid

__all__ = [
    "DENSE_MAX", "ELO_PER_UNIT", "BradleyTerryWarning", "Fit", "PairCounts", "Simulation", "add_player",
    "check_schedule", "count_pairs", "elo_ratings", "elo_update", "fit", "fit_mm", "log_likelihood", "mm_update",
    "simulate", "to_elo", "win_probability",
]  # fmt: skip

DENSE_MAX = 2000
"""Up to this many players, standard errors come from the dense inverse Hessian by default."""

DENSE_SOLVE_MAX = 400
"""Up to this many players Newton's linear systems are solved densely; beyond, by conjugate
gradients on the pairs, which is cheaper once the dense matrix costs more than a pass over pairs."""


def win_probability(s_i, s_j):
    r"""P(i beats j) = σ(s_i − s_j) = e^{s_i} / (e^{s_i} + e^{s_j})."""
    s_i, s_j = as_finite_array(s_i, "s_i"), as_finite_array(s_j, "s_j")
    try:
        return sigmoid(s_i - s_j)
    except ValueError:
        raise ValueError(f"s_i and s_j must have broadcastable shapes, got {s_i.shape} and {s_j.shape}") from None


# --- the objective and its derivatives --------------------------------------------------------------


_SPREAD_MAX = 600.0
"""Strength spreads (nats) up to which :func:`_evaluate` may use e^{s} per player: e^{-600} is a
normal float64, so no γ underflows to 0."""


def _evaluate(s, c, l2):
    """Penalised NLL, its gradient, and the per-pair Hessian weights games·σ(d)·σ(−d), in one pass.

    With γ = e^{s − max s}, one exp per *player*: σ(s_i − s_j) = γ_i / t and σ(s_j − s_i) = γ_j / t
    with t = γ_i + γ_j, and a pair's NLL is games·log t − score·log γ_i − (games − score)·log γ_j.
    Summed over pairs, the log γ terms collapse to per-player totals, so each pair costs one
    division and one log. (Float64 exp and log cost ~10 ns each here; they dominate a Newton step.)
    Spreads beyond ``_SPREAD_MAX`` would underflow γ and take :func:`_evaluate_per_pair` instead.
    """
    top = s.max()
    if top - s.min() > _SPREAD_MAX:
        return _evaluate_per_pair(s, c, l2)
    gamma = np.exp(s - top)  # γ_i = e^{s_i − max s}
    g_i, g_j = gamma[c.i], gamma[c.j]
    t = g_i + g_j
    p_i = g_i / t  # σ(s_i − s_j)
    # Σ_pairs [score·log γ_i + (games − score)·log γ_j] = Σ_players score_p·(s_p − top)
    nll = c.games @ np.log(t) - c.player_score @ (s - top) + l2 * (s @ s)
    residual = c.score - c.games * p_i
    n = c.n_players
    grad = np.bincount(c.j, residual, n) - np.bincount(c.i, residual, n) + 2 * l2 * s
    return float(nll), grad, c.games * p_i * (g_j / t)


def _evaluate_per_pair(s, c, l2):
    """:func:`_evaluate` for any spread: with d = s_i − s_j and q = σ(|d|), which never overflows.

    σ(d) = q or 1 − q by the sign of d, log σ(d) = min(d, 0) + log q, and
    score·log σ(d) + (games − score)·log σ(−d) = games·log σ(d) − (games − score)·d.
    """
    d = s[c.i] - s[c.j]  # (n_pairs,)
    q = 1.0 / (1.0 + np.exp(-np.abs(d)))
    nll = -(c.games @ (np.minimum(d, 0.0) + np.log(q)) - (c.games - c.score) @ d) + l2 * (s @ s)
    residual = c.score - c.games * np.where(d >= 0, q, 1.0 - q)
    n = c.n_players
    grad = np.bincount(c.j, residual, n) - np.bincount(c.i, residual, n) + 2 * l2 * s
    return nll, grad, c.games * q * (1.0 - q)


def _initial_strengths(c):
    """Log-odds of each player's smoothed score: a cheap start that saves Newton a few steps."""
    s = np.log((c.player_score + 0.5) / (c.player_games - c.player_score + 0.5))
    return s - s.mean()


def _relative_gradient(grad, c):
    """The stopping measure: max over players of |∂f/∂s_i| / (1 + games_i)."""
    return float(np.max(np.abs(grad) / (1.0 + c.player_games)))


def _dense_hessian(c, weights, l2):
    """The penalised NLL's Hessian: the Laplacian of the pair weights plus 2·l2 on the diagonal."""
    n = c.n_players
    h = np.zeros((n, n))
    h.flat[c.i * n + c.j] = -weights
    h.flat[c.j * n + c.i] = -weights
    h.flat[:: n + 1] = np.bincount(c.i, weights, n) + np.bincount(c.j, weights, n) + 2 * l2
    return h


def _cg_solve(c, weights, l2, rhs, rtol, max_iter=500):
    """Solve (Laplacian(weights) + 2·l2·I) x = rhs for mean-zero rhs by Jacobi-preconditioned CG."""
    n = c.n_players
    diag = np.bincount(c.i, weights, n) + np.bincount(c.j, weights, n) + 2 * l2

    def matvec(x):
        return diag * x - np.bincount(c.i, weights * x[c.j], n) - np.bincount(c.j, weights * x[c.i], n)

    def precondition(r):
        z = r / diag
        return z - z.mean()  # stay in the mean-zero subspace the solution lives in

    x = np.zeros(n)
    r = rhs - rhs.mean()
    z = precondition(r)
    p, rz = z.copy(), r @ z
    stop = rtol * np.linalg.norm(r)
    for _ in range(max_iter):
        if np.linalg.norm(r) <= stop:
            break
        hp = matvec(p)
        alpha = rz / (p @ hp)
        x += alpha * p
        r -= alpha * hp
        z = precondition(r)
        rz, rz_old = r @ z, rz
        p = z + (rz / rz_old) * p
    return x


def _covariance_diag(hessian):
    """Variances of the centred strengths: diag of P·H⁻¹·P, with P the centring projection."""
    n = hessian.shape[0]
    cov = np.linalg.inv(hessian + 1.0 / n)  # adding 11ᵀ/n only changes the constant direction
    cov -= cov.mean(axis=0, keepdims=True)
    cov -= cov.mean(axis=1, keepdims=True)
    return np.clip(np.diag(cov), 0.0, None)


# --- results ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """A fitted Bradley–Terry model."""

    strengths: np.ndarray  # (n_players,) natural-log units, mean 0
    standard_errors: np.ndarray | None  # (n_players,) or None when not computed
    penalized_nll: float  # NLL + l2·‖s‖² at the solution
    n_iter: int
    converged: bool
    gradient_norm: float  # max over players of |∂f/∂s_i| / (1 + games_i)
    method: str  # "newton", "mm" or "davidson"
    draw_parameter: float | None = None  # Davidson's ν (draws="davidson" only)
    names: tuple | None = None
    warnings: tuple = ()

    def ranking(self):
        """Player indices, strongest first; players tied to 1e-9 keep their index order.

        (Equal records give strengths equal up to rounding noise, which must not reorder them.)
        """
        return np.argsort(-np.round(self.strengths, 9), kind="stable")

    def elo(self, anchor=None, anchor_rating=1500.0):
        """Strengths on the Elo scale; see :func:`to_elo`."""
        return to_elo(self.strengths, anchor=anchor, anchor_rating=anchor_rating, names=self.names)

    def table(self, top=None):
        """A text table: rank, name, strength ± standard error, Elo."""
        names = self.names or tuple(f"player {k}" for k in range(self.strengths.size))
        width = max(len(n) for n in names)
        elo = self.elo()
        lines = []
        for rank, k in enumerate(self.ranking()[:top], start=1):
            se = f" ± {self.standard_errors[k]:.3f}" if self.standard_errors is not None else ""
            lines.append(f"{rank:3d}  {names[k]:{width}s}  {self.strengths[k]:+.3f}{se}   Elo {elo[k]:7.1f}")
        return "\n".join(lines)


def _check_fit_options(l2, tol, max_iter, callback=None):
    l2 = v.check_real(l2, "l2", low=0.0)
    tol = v.check_positive(tol, "tol")
    max_iter = v.check_int(max_iter, "max_iter", minimum=1)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable as callback(iteration, strengths), got {callback!r}")
    return l2, tol, max_iter


def _require_mle(c, names, l2):
    """With l2 = 0 the fit is the plain MLE: raise, naming the reason, when it does not exist."""
    if l2 > 0:
        return
    reasons = check_counts(c, names)
    if reasons:
        raise ValueError(
            "l2=0 asks for the maximum-likelihood strengths, which do not exist for these games: "
            + "; ".join(reasons)
            + ". Use l2 > 0 (the default 1e-4) to let the prior place them."
        )


def _finish(method, s, nll, n_iter, rel_grad, tol, hessian, names, messages, draw_parameter=None):
    converged = rel_grad <= tol
    if not converged:
        advice = "; MM converges linearly: raise max_iter or use fit (Newton)" if method == "mm" else ""
        warnings.warn(
            f"{method} did not converge in {n_iter} iterations (max_iter): relative gradient "
            f"{rel_grad:.2e} > tol {tol:.0e}{advice}",
            RuntimeWarning,
            stacklevel=3,
        )
    se = np.sqrt(_covariance_diag(hessian)) if hessian is not None else None
    return Fit(
        strengths=s - s.mean(),
        standard_errors=se,
        penalized_nll=float(nll),
        n_iter=n_iter,
        converged=converged,
        gradient_norm=rel_grad,
        method=method,
        draw_parameter=draw_parameter,
        names=None if names is None else tuple(names),
        warnings=tuple(messages),
    )


# --- fitting ------------------------------------------------------------------------------------------


def _line_search(evaluate, x, f, grad, step):
    """Backtrack from the full Newton step until it decreases the objective enough (Armijo).

    ``evaluate(x)`` returns a tuple whose first item is the objective; the tuple at the accepted
    point is returned with the step length, so the next iteration reuses its gradient. Near the
    optimum the predicted decrease drops below the rounding error of f; the full step is then
    taken as it is (Newton's step is exact there) instead of halving on noise.
    """
    slope = grad @ step
    if -slope <= 1e-13 * (1.0 + abs(f)):
        return 1.0, evaluate(x + step)
    t = 1.0
    while True:
        values = evaluate(x + t * step)
        if values[0] <= f + 1e-4 * t * slope or t < 1e-10:
            return t, values
        t /= 2


def _prepare(player_a, player_b, score_a, n_players, names, check, l2):
    c = count_pairs(player_a, player_b, score_a, n_players)
    if isinstance(names, str):
        raise TypeError(f"names must be a sequence of player names, one per player, got the string {names!r}")
    if names is not None and len(names) != c.n_players:
        raise ValueError(f"names has {len(names)} entries for {c.n_players} players")
    _require_mle(c, names, l2)
    messages = check_counts(c, names) if check else []
    for message in messages:
        warnings.warn(message, BradleyTerryWarning, stacklevel=3)
    return c, messages


class BradleyTerryWarning(UserWarning):
    """The data cannot pin the maximum-likelihood strengths; the L2 prior decides them."""


def fit(
    player_a,
    player_b,
    score_a,
    n_players=None,
    *,
    l2=1e-4,
    draws="half",
    tol=1e-9,
    max_iter=100,
    names=None,
    standard_errors="auto",
    check=True,
    callback=None,
):
    r"""Fit Bradley–Terry strengths by Newton's method on per-pair counts.

    Parameters
    ----------
    player_a, player_b : array_like of int, shape (n_games,)
        The two players of each game (indices from 0).
    score_a : array_like, shape (n_games,)
        1 if player_a won, 0.5 for a draw, 0 if player_a lost.
    n_players : int, optional
        Number of players (default: the largest index + 1).
    l2 : float, default 1e-4
        Strength λ of the L2 prior λ‖s‖²: keeps strengths finite when the data cannot.
    draws : {"half", "davidson"}
        "half" counts a draw as half a win for each player; "davidson" fits Davidson's draw model
        P(draw) ∝ ν·sqrt(γ_i γ_j) with γ_i = e^{s_i} and estimates ν (``Fit.draw_parameter``).
    tol : float
        Stop when every |∂f/∂s_i| / (1 + games_i) ≤ tol.
    max_iter : int
        At most this many Newton steps; a fit that does not converge warns with the numbers.
    names : sequence of str, optional
        Player names, used in warnings and tables.
    standard_errors : "auto", True or False
        Standard errors from the inverse Hessian (curvature of the penalised NLL); "auto" computes
        them up to ``DENSE_MAX`` players.
    check : bool
        Run :func:`check_schedule` first and warn about data that cannot pin the MLE.
    callback : callable, optional
        Called as ``callback(iteration, strengths)`` after each step (for plots of convergence).

    Returns
    -------
    Fit
        Centred strengths, standard errors, penalised NLL, iterations, convergence flag.
    """
    v.check_option(draws, "draws", ("half", "davidson"))
    if not (standard_errors == "auto" or isinstance(standard_errors, bool)):
        raise ValueError(f"standard_errors must be 'auto', True or False, got {standard_errors!r}")
    l2, tol, max_iter = _check_fit_options(l2, tol, max_iter, callback)
    c, messages = _prepare(player_a, player_b, score_a, n_players, names, check, l2)
    if draws == "davidson":
        return _fit_davidson(c, l2, tol, max_iter, names, messages, standard_errors, callback)
    n = c.n_players
    s = _initial_strengths(c)
    f, grad, weights = _evaluate(s, c, l2)
    for it in range(max_iter + 1):
        rel = _relative_gradient(grad, c)
        if rel <= tol or it == max_iter:
            break
        if n <= DENSE_SOLVE_MAX:
            # The NLL is flat along "everyone +1"; adding 11ᵀ/n fixes that direction (s stays centred).
            step = np.linalg.solve(_dense_hessian(c, weights, l2) + 1.0 / n, -grad)
        else:  # inexact Newton: CG to a relative residual ~ the gradient size keeps convergence quadratic,
            # but no tighter than the next step needs to bring the gradient below tol.
            step = _cg_solve(c, weights, l2, -grad, rtol=min(0.1, max(rel, 0.1 * tol / rel)))
        t, (f, grad, weights) = _line_search(lambda x: _evaluate(x, c, l2), s, f, grad, step)
        s = s + t * step
        if callback is not None:
            callback(it + 1, s - s.mean())
    dense = n <= DENSE_MAX
    want_se = standard_errors is True or (standard_errors == "auto" and dense)
    hessian = _dense_hessian(c, weights, l2) if want_se else None
    return _finish("newton", s, f, it, rel, tol, hessian, names, messages)


def _mm_solve_1d(wins, c_sum, s, l2):
    """Maximise wins·s − c_sum·e^s − l2·s² per player (the MM surrogate) by a few Newton steps."""
    if l2 == 0:
        with np.errstate(divide="ignore"):
            return np.log(wins / c_sum)
    for _ in range(50):
        e = c_sum * np.exp(s)
        grad = wins - e - 2 * l2 * s
        s = s + grad / (e + 2 * l2)
        if np.max(np.abs(grad)) < 1e-13 * (1 + np.max(wins)):
            break
    return s


def _mm_c_sum(c, s):
    """C_i = Σ_j n_ij / (e^{s_i} + e^{s_j}), computed with e^{s − max s} so nothing overflows."""
    n = c.n_players
    gamma = np.exp(s - s.max())  # rescaled: C_i and e^{s_i} carry the same factor
    ratio = c.games / (gamma[c.i] + gamma[c.j])
    return (np.bincount(c.i, ratio, n) + np.bincount(c.j, ratio, n)) * np.exp(-s.max())


def _mm_step(c, s, l2):
    s = _mm_solve_1d(c.player_score, _mm_c_sum(c, s), s, l2)
    # Centring never raises the objective (the NLL is shift invariant, λ‖s‖² is smallest at
    # mean 0) and it fixes the one direction MM would otherwise crawl along at rate ~λ.
    return s - s.mean()


def mm_update(strengths, player_a, player_b, score_a, l2=0.0):
    r"""One MM step from ``strengths``: the centred strengths after Hunter's update.

    With l2 = 0: e^{s_i} ← W_i / Σ_j n_ij/(e^{s_i} + e^{s_j}), W_i player i's score (draws ½),
    then centring. Never decreases the (penalised) likelihood.
    """
    s = as_finite_array(strengths, "strengths")
    l2 = v.check_real(l2, "l2", low=0.0)
    if s.ndim != 1:
        raise ValueError(f"strengths must be 1-D (one per player), got shape {s.shape}")
    c = count_pairs(player_a, player_b, score_a, s.size)
    if l2 > 0:
        return _mm_step(c, s, l2)
    # Hunter's update e^{s_i} = W_i / C_i: 0/0 for a player without games, log 0 for one without points.
    idle = np.flatnonzero(c.player_games == 0)
    if idle.size:
        raise ValueError(f"player {idle[0]} played no games: with l2=0 its MM update is 0/0; use l2 > 0")
    winless = c.player_score == 0
    if winless.any():
        warnings.warn(
            f"player {np.flatnonzero(winless)[0]} scored no points: with l2=0 Hunter's update sends its "
            "strength to -inf (the other strengths are centred without it); use l2 > 0 to keep it finite",
            BradleyTerryWarning,
            stacklevel=2,
        )
    with np.errstate(divide="ignore"):
        new = _mm_solve_1d(c.player_score, _mm_c_sum(c, s), s, 0.0)
    return new - new[~winless].mean()


def fit_mm(
    player_a, player_b, score_a, n_players=None, *, l2=1e-4, tol=1e-9, max_iter=10_000, names=None, callback=None
):
    r"""Fit the same penalised objective as :func:`fit` by Hunter's (2004) MM iteration.

    Each iteration replaces −log(e^{s_i} + e^{s_j}) by its tangent bound at the current strengths,
    which makes the problem separable: player i's new strength maximises
    W_i·s − C_i·e^{s} − λ s², with W_i its score and C_i = Σ_j n_ij / (e^{s_i} + e^{s_j}).
    With λ = 0 that is Hunter's update e^{s_i} = W_i / C_i. Simple and monotone, but it converges
    linearly — the notebook shows how much slower than Newton. It stops after ``max_iter``
    iterations and then warns (``RuntimeWarning``) with the gradient it reached.

    Notes
    -----
    Hunter, D. R. (2004). MM algorithms for generalized Bradley–Terry models. Ann. Statist. 32(1).
    """
    l2, tol, max_iter = _check_fit_options(l2, tol, max_iter, callback)
    c, messages = _prepare(player_a, player_b, score_a, n_players, names, True, l2)
    n = c.n_players
    s = np.zeros(n)
    for it in range(max_iter + 1):
        f, grad, weights = _evaluate(s, c, l2)
        rel = _relative_gradient(grad, c)
        if rel <= tol or it == max_iter:
            break
        s = _mm_step(c, s, l2)
        if callback is not None:
            callback(it + 1, s - s.mean())
    hessian = _dense_hessian(c, weights, l2) if n <= DENSE_MAX else None
    return _finish("mm", s, f, it, rel, tol, hessian, names, messages)


# --- Davidson's draw model ------------------------------------------------------------------------------


def _davidson_terms(params, c, l2):
    """Penalised NLL, gradient and Hessian of Davidson's model in (s, θ = log ν)."""
    n = c.n_players
    s, theta = params[:n], params[n]
    d = s[c.i] - s[c.j]
    log_den = np.logaddexp(np.logaddexp(d / 2, -d / 2), theta)
    p_win, p_loss, p_draw = np.exp(d / 2 - log_den), np.exp(-d / 2 - log_den), np.exp(theta - log_den)
    games = c.games
    margin = 2 * c.score - games  # wins − losses, per pair
    nll = -np.sum(margin * d / 2 + c.draws * theta - games * log_den) + l2 * (s @ s)
    g_d = -(margin / 2 - games * (p_win - p_loss) / 2)  # ∂NLL/∂d per pair
    h_dd = games / 4 * ((p_win + p_loss) - (p_win - p_loss) ** 2)
    h_dt = -games * p_draw * (p_win - p_loss) / 2
    grad = np.empty(n + 1)
    grad[:n] = np.bincount(c.i, g_d, n) - np.bincount(c.j, g_d, n) + 2 * l2 * s
    grad[n] = -np.sum(c.draws - games * p_draw)
    hess = np.zeros((n + 1, n + 1))
    hess[:n, :n] = _dense_hessian(c, h_dd, l2)
    hess[:n, n] = hess[n, :n] = np.bincount(c.i, h_dt, n) - np.bincount(c.j, h_dt, n)
    hess[n, n] = np.sum(games * p_draw * (1 - p_draw))
    return nll, grad, hess


def _fit_davidson(c, l2, tol, max_iter, names, messages, standard_errors, callback):
    if c.draws.sum() == 0:
        raise ValueError("draws='davidson' needs at least one draw in the data; use draws='half'")
    if c.draws.sum() == c.games.sum():
        raise ValueError("draws='davidson' needs at least one decisive game: with only draws ν runs to infinity")
    if c.n_players > DENSE_MAX:
        raise ValueError(f"draws='davidson' uses a dense Newton solve: at most {DENSE_MAX} players")
    n = c.n_players
    params = np.zeros(n + 1)
    params[n] = np.log(c.draws.sum() / c.games.sum())  # start ν at the overall draw rate
    f, grad, hess = _davidson_terms(params, c, l2)
    for it in range(max_iter + 1):
        rel = _relative_gradient(grad[:n], c)
        rel = max(rel, abs(grad[n]) / (1.0 + c.games.sum()))
        if rel <= tol or it == max_iter:
            break
        # As in fit: the NLL is flat along "everyone +1"; 11ᵀ/n on the strengths fixes it (l2 = 0).
        step = np.linalg.solve(hess + np.pad(np.full((n, n), 1.0 / n), (0, 1)), -grad)
        t, (f, grad, hess) = _line_search(lambda x: _davidson_terms(x, c, l2), params, f, grad, step)
        params = params + t * step
        if callback is not None:
            callback(it + 1, params[:n] - params[:n].mean())
    want_se = standard_errors in (True, "auto")
    return _finish(
        "davidson", params[:n], f, it, rel, tol, hess[:n, :n] if want_se else None, names, messages,
        draw_parameter=float(np.exp(params[n])),
    )  # fmt: skip


def log_likelihood(strengths, player_a, player_b, score_a):
    r"""Σ over games of y·log σ(s_a − s_b) + (1 − y)·log σ(s_b − s_a), draws as y = ½."""
    s = as_finite_array(strengths, "strengths")
    a, b, score, _ = as_games(player_a, player_b, score_a, s.size)
    d = s[a] - s[b]
    return float(np.sum(score * log_sigmoid(d) + (1 - score) * log_sigmoid(-d)))


def check_schedule(player_a, player_b, score_a, n_players=None, names=None):
    """Warn (and return the messages) when the games cannot pin the maximum-likelihood strengths.

    Named cases: a player who won every game or lost every game; players who never played;
    groups that never played each other; a group that took every point against the rest.
    :func:`fit` runs this first; with such data it still returns finite strengths (the L2 prior).
    """
    c = count_pairs(player_a, player_b, score_a, n_players)
    messages = check_counts(c, names)
    for message in messages:
        warnings.warn(message, BradleyTerryWarning, stacklevel=2)
    return messages


# --- simulation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    """Synthetic games with known true strengths."""

    strengths: np.ndarray  # (n_players,) true, centred
    player_a: np.ndarray  # (n_games,)
    player_b: np.ndarray
    score_a: np.ndarray


def simulate(n_players, n_games, *, spread=1.0, opponents=None, draw_parameter=0.0, strengths=None, seed=0):
    """Chess-style synthetic data: known strengths, a random schedule, Bradley–Terry outcomes.

    Parameters
    ----------
    n_players, n_games : int
    spread : float
        Standard deviation of the true strengths (drawn normal, then centred), if not given.
    opponents : int, optional
        Sparse schedule: each player only ever meets about this many opponents (the union of
        ⌈opponents/2⌉ random round trips through all players, so everyone is connected).
        Default: any two players can meet.
    draw_parameter : float
        Davidson's ν: 0 for no draws; ν > 0 gives P(draw) = ν/(e^{d/2} + e^{−d/2} + ν).
    strengths : array_like, optional
        True strengths to use instead of drawing them.
    seed : int
    """
    n_players = v.check_int(n_players, "n_players", minimum=2, maximum=MAX_PLAYERS)
    n_games = v.check_int(n_games, "n_games", minimum=1)
    spread = v.check_real(spread, "spread", low=0.0)
    draw_parameter = v.check_real(draw_parameter, "draw_parameter", low=0.0)
    if opponents is not None:
        opponents = v.check_int(opponents, "opponents", minimum=1)
    rng = np.random.default_rng(seed)
    if strengths is None:
        s = rng.normal(0.0, spread, n_players)
    else:
        s = as_finite_array(strengths, "strengths")
        if s.shape != (n_players,):
            raise ValueError(f"strengths must have shape ({n_players},), got {s.shape}")
    s = s - s.mean()
    n = s.size
    if opponents is None:
        a = rng.integers(0, n, n_games)
        b = (a + rng.integers(1, n, n_games)) % n
    else:
        rounds = max(1, -(-int(opponents) // 2))
        perms = [rng.permutation(n) for _ in range(rounds)]
        src = np.concatenate(perms)
        dst = np.concatenate([np.roll(p, -1) for p in perms])
        edge = rng.integers(0, src.size, n_games)
        flip = rng.random(n_games) < 0.5
        a, b = np.where(flip, dst[edge], src[edge]), np.where(flip, src[edge], dst[edge])
    d = s[a] - s[b]
    u = rng.random(n_games)
    if draw_parameter > 0:
        log_den = np.logaddexp(np.logaddexp(d / 2, -d / 2), np.log(draw_parameter))
        p_win, p_draw = np.exp(d / 2 - log_den), np.exp(np.log(draw_parameter) - log_den)
        score = np.where(u < p_win, 1.0, np.where(u < p_win + p_draw, 0.5, 0.0))
    else:
        score = (u < sigmoid(d)).astype(float)
    return Simulation(s, a, b, score)


def add_player(sim, strength, opponents, n_games, seed=0):
    """The simulation plus one player of known ``strength`` who plays only the given ``opponents``.

    The new player (index ``sim.strengths.size``) plays ``n_games`` games as player a, each against
    an opponent drawn uniformly from ``opponents`` and won with probability σ(strength − s_opponent)
    (no draws). The true strengths are re-centred, so ``strength`` is relative to the old mean.
    """
    opponents = np.asarray(opponents)
    n = sim.strengths.size
    if opponents.size == 0 or opponents.min() < 0 or opponents.max() >= n:
        raise ValueError(f"opponents must be player indices in [0, {n}), got {opponents}")
    if int(n_games) < 1:
        raise ValueError(f"n_games must be >= 1, got {n_games}")
    rng = np.random.default_rng(seed)
    against = rng.choice(opponents, size=int(n_games))
    wins = rng.random(int(n_games)) < sigmoid(float(strength) - sim.strengths[against])
    strengths = np.r_[sim.strengths, float(strength)]
    return Simulation(
        strengths - strengths.mean(),
        np.r_[sim.player_a, np.full(int(n_games), n)],
        np.r_[sim.player_b, against],
        np.r_[sim.score_a, wins.astype(float)],
    )
