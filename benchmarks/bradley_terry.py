"""Bradley–Terry fitters head to head: dpo_toy.bradley_terry.fit against the libraries in use.

Peers, all on the same generated games in the same run:

* choix (Maystre): ``ilsr_pairwise`` (iterative Luce spectral ranking), ``mm_pairwise`` (Hunter's
  MM), ``opt_pairwise`` (Newton-CG on the penalised likelihood);
* the Chatbot Arena approach: scikit-learn ``LogisticRegression`` on +1/−1 rows weighted by their
  counts, and scipy L-BFGS on the likelihood of merged (pair, outcome) rows.

Each is timed from the game arrays to strengths, its own data preparation included. Accuracy is
measured on *our* objective (NLL + l2·‖s‖², l2 = 1e-4): the gap of each answer's penalised NLL to
the optimum (relative), and the largest rating difference to the optimum in Elo points. Methods
that optimise a different objective (ilsr, mm and the unpenalised ones) show that difference.

Each method runs in its own process with a time budget (``BUDGET_S``); one that exceeds it is
reported as stopped. Run: ``python benchmarks/bradley_terry.py [--quick]`` (``--quick`` runs only
dpo_toy at 1M games); prints a table and writes ``benchmarks/results/bradley_terry.json``.
"""

import json
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from dpo_toy import bradley_terry as bt

L2 = 1e-4
SIZES = [(100, 10_000), (1_000, 1_000_000), (5_000, 1_000_000)]
RESULTS = Path(__file__).resolve().parent / "results" / "bradley_terry.json"
SEED = 2024
BUDGET_S = 120.0  # per method and size: choix's Python loops take minutes at 1M games


def timed(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def penalised_nll(s, c):
    s = s - s.mean()
    return bt._evaluate(s, c, L2)[0]


def dpo_toy_fit(sim, n):
    return bt.fit(sim.player_a, sim.player_b, sim.score_a, n, l2=L2, standard_errors=False).strengths


def _winner_loser(sim):
    won = sim.score_a == 1
    return np.where(won, sim.player_a, sim.player_b), np.where(won, sim.player_b, sim.player_a)


def choix_ilsr(sim, n):
    import choix

    winner, loser = _winner_loser(sim)
    return choix.ilsr_pairwise(n, list(zip(winner.tolist(), loser.tolist())), alpha=1e-4, max_iter=1000)


def choix_opt(sim, n):
    import choix

    winner, loser = _winner_loser(sim)
    return choix.opt_pairwise(n, list(zip(winner.tolist(), loser.tolist())), alpha=L2, tol=1e-10)


def choix_mm(sim, n, max_iter=100_000):
    import choix

    winner, loser = _winner_loser(sim)
    return choix.mm_pairwise(n, list(zip(winner.tolist(), loser.tolist())), max_iter=max_iter, tol=1e-10)


def _merged_rows(sim, n):
    """Unique (winner, loser) rows with their counts: the Arena's pivot of the battle log."""
    winner, loser = _winner_loser(sim)
    keys, counts = np.unique(winner * n + loser, return_counts=True)
    return keys // n, keys % n, counts.astype(float)


def arena_sklearn(sim, n):
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    w, lose, counts = _merged_rows(sim, n)
    rows = np.arange(w.size)
    # Each unique (w, l) row appears once labelled 1 (x = e_w − e_l) and is weighted by its count.
    x = csr_matrix((np.r_[np.ones(w.size), -np.ones(w.size)], (np.r_[rows, rows], np.r_[w, lose])), shape=(w.size, n))
    x = csr_matrix(np.r_[x.toarray(), -x.toarray()]) if w.size * n <= 2e7 else _stack(x)
    y = np.r_[np.ones(w.size), np.zeros(w.size)]
    # sklearn minimises C·Σ weight·logloss + ½‖β‖²; with half the weight on each mirrored row that is
    # ours (NLL + l2‖s‖²) for C = 1/(2·l2) ... and mirroring keeps both classes present.
    model = LogisticRegression(C=1 / (2 * L2), fit_intercept=False, tol=1e-10, max_iter=10_000)
    model.fit(x, y, sample_weight=np.r_[counts, counts] / 2)
    return model.coef_[0]


def _stack(x):
    from scipy.sparse import vstack

    return vstack([x, -x]).tocsr()


def arena_lbfgs(sim, n):
    from scipy.optimize import minimize

    w, lose, counts = _merged_rows(sim, n)

    def objective(s):
        d = s[w] - s[lose]
        e = np.exp(-np.abs(d))
        f = -np.sum(counts * (np.minimum(d, 0) - np.log1p(e))) + L2 * (s @ s)
        r = counts * (1 - np.where(d >= 0, 1.0, e) / (1 + e))  # counts · σ(−d)
        grad = np.bincount(lose, r, n) - np.bincount(w, r, n) + 2 * L2 * s
        return f, grad

    result = minimize(objective, np.zeros(n), jac=True, method="L-BFGS-B", options={"maxiter": 10_000, "gtol": 1e-10})
    return result.x


PEERS = {
    "dpo_toy fit (Newton)": dpo_toy_fit,
    "choix ilsr_pairwise": choix_ilsr,
    "choix opt_pairwise": choix_opt,
    "choix mm_pairwise": choix_mm,
    "Arena: sklearn LogisticRegression": arena_sklearn,
    "Arena: scipy L-BFGS, merged rows": arena_lbfgs,
}


def run_one(name, n, m):
    """Child process: generate the games (same seed), time one method, print JSON."""
    sim = bt.simulate(n, m, seed=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        PEERS[name](bt.simulate(20, 500, seed=0), 20)  # warm-up: imports are not part of the time
        seconds, s = timed(lambda: PEERS[name](sim, n), repeat=3 if name.startswith("dpo_toy") else 1)
    np.save(_strengths_file(name, n, m), np.asarray(s, float))
    print(json.dumps({"seconds": seconds}))


def _strengths_file(name, n, m):
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower())
    return Path(tempfile.gettempdir()) / f"bt-bench-{slug}-{n}-{m}.npy"


def bench_size(n, m, quick, budget):
    sim = bt.simulate(n, m, seed=SEED)
    c = bt.count_pairs(sim.player_a, sim.player_b, sim.score_a, n)
    optimum = bt.fit(sim.player_a, sim.player_b, sim.score_a, n, l2=L2, tol=1e-14, max_iter=50, standard_errors=False)
    f_star, elo_star = penalised_nll(optimum.strengths, c), bt.to_elo(optimum.strengths)
    results = []
    for name in PEERS:
        if quick and not name.startswith("dpo_toy") and m > 20_000:
            continue
        print(f"  {name}...", file=sys.stderr, flush=True)
        try:  # each method in its own process, so a slow one can be stopped at the budget
            out = subprocess.run(
                [sys.executable, __file__, "--one", name, str(n), str(m)],
                capture_output=True, text=True, timeout=budget, check=True,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            results.append({"method": name, "seconds": None, "nll_gap": None, "max_elo_gap": None,
                            "note": f"stopped after the {budget:.0f} s budget"})  # fmt: skip
            continue
        s = np.load(_strengths_file(name, n, m))
        results.append(
            {
                "method": name,
                "seconds": json.loads(out.stdout.strip().splitlines()[-1])["seconds"],
                "nll_gap": (penalised_nll(s, c) - f_star) / abs(f_star),
                "max_elo_gap": float(np.max(np.abs(bt.to_elo(s) - elo_star))),
                "note": "",
            }
        )
    ours = results[0]["seconds"]
    peers = [r["seconds"] for r in results[1:] if r["seconds"] is not None]
    return {
        "n_players": n,
        "n_games": m,
        "results": results,
        "speedup_vs_fastest_peer": min(peers) / ours if peers else None,
    }


def print_size(block):
    print(f"\n{block['n_players']:,} players, {block['n_games']:,} games")
    print(f"  {'method':36s} {'time':>9s} {'NLL gap (rel)':>14s} {'max Elo gap':>12s}")
    for r in block["results"]:
        if r["seconds"] is None:
            print(f"  {r['method']:36s} {'-':>9s} {'-':>14s} {'-':>12s}  {r['note']}")
            continue
        print(f"  {r['method']:36s} {r['seconds']:8.3f}s {r['nll_gap']:14.1e} {r['max_elo_gap']:12.2e}  {r['note']}")
    if block["speedup_vs_fastest_peer"]:
        print(f"  dpo_toy is {block['speedup_vs_fastest_peer']:.1f}x faster than the fastest peer")


def main(argv):
    if argv[:1] == ["--one"]:
        return run_one(argv[1], int(argv[2]), int(argv[3]))
    quick = "--quick" in argv
    blocks = []
    for n, m in SIZES:
        print(f"benchmarking {n} players, {m} games...", file=sys.stderr, flush=True)
        blocks.append(bench_size(n, m, quick, BUDGET_S))
        print_size(blocks[-1])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(blocks, indent=2) + "\n")
    targets = {(1_000, 1_000_000): 0.15, (5_000, 1_000_000): 0.3}
    print("\ntargets:")
    for block in blocks:
        key = (block["n_players"], block["n_games"])
        ours = block["results"][0]
        if key in targets:
            ok = ours["seconds"] <= targets[key]
            print(
                f"  {key[0]:,} / {key[1]:,}: {ours['seconds']:.3f} s vs <= {targets[key]} s: {'ok' if ok else 'MISSED'}"
            )
        if block["speedup_vs_fastest_peer"] and block["n_games"] >= 1_000_000:
            speedup = block["speedup_vs_fastest_peer"]
            verdict = "ok" if speedup >= 5 else "MISSED"
            print(f"  speed-up at {key[1]:,} games, {key[0]:,} players: {speedup:.1f}x (>= 5x: {verdict})")
        gaps = f"NLL gap {ours['nll_gap']:.1e} (<= 1e-9), Elo gap {ours['max_elo_gap']:.1e} (<= 1e-3)"
        print(f"  {key[0]:,} / {key[1]:,} accuracy: {gaps}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
