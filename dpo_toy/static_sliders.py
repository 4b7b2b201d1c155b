r"""The course's sliders for a static page: every state on the slider's own grid, computed at build time.

A slider in a notebook needs a kernel; a page on a static host has none. So ``make html`` computes
what each slider shows at every position of its grid (the positions an ``ipywidgets.FloatLogSlider``
can take: ``base**(min + k*step)``) with the same compute functions the widgets call
(:func:`dpo_toy.widgets.policy_state`, :func:`dpo_toy.widgets.training_state`, and
:func:`dpo_toy.bradley_terry.fit` with the options of ``PriorExplorer``), and
``static/sliders.js`` draws them: a range input, the widget's own readout line, and an SVG
picture redrawn from the numbers (smaller than a PNG per position).

:data:`SPECS` says, for each chapter and explorer class, how the notebook builds that explorer
(its data, start value and range): a widget the site finds in a notebook without a spec keeps
a "needs a kernel" note, and the site's tests fail, so a new slider is not forgotten.
"""

import json
from dataclasses import dataclass

import numpy as np

NOTE = (
    "This page holds the slider's states on its grid only ({n} positions), computed when the site "
    "was built; the live notebook (<code>make lab</code>) computes any value."
)


@dataclass(frozen=True)
class SliderSpec:
    """How a chapter's notebook builds one explorer, and the slider it drives."""

    explorer: str  # class name in dpo_toy.widgets, as written in the notebook cell
    label: str  # the slider's description
    value: float  # start value
    value_range: tuple  # (low, high), log scale
    step: float  # step of log10(value)
    build: object  # callable(spec) -> dict of JSON-able data for sliders.js


def log_grid(value_range, step):
    """The positions of a ``FloatLogSlider(base=10, min=log10(lo), max=log10(hi), step=step)``."""
    lo, hi = float(value_range[0]), float(value_range[1])
    if not (0 < lo < hi) or not np.isfinite(hi):
        raise ValueError(f"value_range must be (low, high) with 0 < low < high, got {value_range!r}")
    if not step > 0:
        raise ValueError(f"step must be > 0, got {step!r}")
    e_lo, e_hi = np.log10(lo), np.log10(hi)
    k = np.arange(int(np.floor((e_hi - e_lo) / step + 1e-9)) + 1)
    return 10.0 ** (e_lo + k * step)


def _r(values, digits=6):
    return np.round(np.asarray(values, dtype=float), digits).tolist()


def _start(grid, value):
    return int(np.argmin(np.abs(np.log10(grid) - np.log10(value))))


def policy_data(spec, toy=None, show_table=False):
    """States of a ``BetaExplorer``: π* bars, the frontier marker, the readout (and the boost table)."""
    from . import policy
    from . import toy as toys
    from .widgets import policy_state

    toy = toy if toy is not None else toys.capital_of_france()
    grid = log_grid(spec.value_range, spec.step)
    states = [policy_state(toy, beta) for beta in grid]
    kl, reward = policy.reward_kl_frontier(toy.pi_ref, toy.rewards, np.geomspace(*spec.value_range, 200))
    data = {
        "kind": "policy",
        "responses": list(toy.responses),
        "pi_ref": _r(toy.pi_ref),
        "frontier": [_r(kl, 5), _r(reward, 5)],
        "frames": [[{"bars": _r(s.pi_star), "point": [s.kl, s.expected_reward]} for s in states]],
        "readouts": [[s.readout() for s in states]],
    }
    if show_table:
        data["tables"] = [
            policy.boost_table(toy.responses, toy.pi_ref, toy.rewards, beta)._repr_html_() for beta in grid
        ]
    return data


def _avro_perfect_keres():
    """Chapter 3's data for the prior slider: AVRO 1938 with Keres given every game."""
    from .data import load_chess

    avro = load_chess("AVRO")
    keres = avro.index("Paul Keres")
    perfect = avro.score_a.copy()
    perfect[avro.player_a == keres] = 1.0
    perfect[avro.player_b == keres] = 0.0
    return avro.player_a, avro.player_b, perfect, avro.names


def prior_data(spec, games=None):
    """States of a ``PriorExplorer``: Elo − mean per player after a fit with L2 prior λ."""
    from . import bradley_terry as bt

    player_a, player_b, score_a, names = games if games is not None else _avro_perfect_keres()
    grid = log_grid(spec.value_range, spec.step)
    frames, readouts = [], []
    for lam in grid:  # the fit PriorExplorer makes (same options)
        fit = bt.fit(player_a, player_b, score_a, len(names), l2=lam, check=False, standard_errors=False, max_iter=200)
        elo = fit.elo() - 1500.0
        top = int(np.argmax(elo))
        frames.append({"bars": _r(elo, 2)})
        readouts.append(f"λ = {lam:.1e}   top: {names[top]} at {elo[top]:+.1f} Elo   Newton steps: {fit.n_iter}")
    return {"kind": "prior", "names": list(names), "ylim": [-700, 1500], "frames": [frames], "readouts": [readouts]}


def _chapter6_datasets(toy):
    """Chapter 6's three preference datasets, as the notebook builds them."""
    from . import training

    always = training.PreferencePairs(chosen=np.zeros(200, int), rejected=np.ones(200, int), weight=np.ones(200))
    return {
        "expected preferences": training.expected_pairs(toy),
        "200 sampled pairs": training.sample_pairs(toy, 200, seed=0),
        "'The capital is Paris.' always wins": always,
    }


def training_data(spec, toy=None, datasets=None, steps=300, every=5):
    """States of a ``DPOExplorer``: π_θ bars, π* marks and the TV curve (every ``every``-th step)."""
    from . import toy as toys
    from .widgets import training_state

    toy = toy if toy is not None else toys.capital_of_france()
    datasets = datasets if datasets is not None else _chapter6_datasets(toy)
    grid = log_grid(spec.value_range, spec.step)
    frames, readouts = [], []
    for pairs in datasets.values():
        states = [training_state(toy, pairs.merged(), beta, steps=steps) for beta in grid]
        frames.append(
            [
                {
                    "bars": _r(s.pi_theta),
                    "marks": _r(s.pi_star),
                    "tv": [float(f"{v:.3g}") for v in np.maximum(s.tv, 1e-12)[::every]],
                }
                for s in states
            ]
        )
        readouts.append([s.readout() for s in states])
    return {
        "kind": "training",
        "responses": list(toy.responses),
        "pi_ref": _r(toy.pi_ref),
        "tv_steps": list(range(0, steps + 1, every)),
        "datasets": list(datasets),
        "frames": frames,
        "readouts": readouts,
    }


SPECS = {
    ("01_kl_constrained_optimal_policy", "BetaExplorer"): SliderSpec(
        "BetaExplorer", "β", 1.0, (1e-2, 1e2), 0.05, policy_data
    ),
    ("02_boost_factor_table", "BetaExplorer"): SliderSpec(
        "BetaExplorer", "β", 1.0, (1e-2, 1e2), 0.05, lambda spec: policy_data(spec, show_table=True)
    ),
    ("03_bradley_terry_chess", "PriorExplorer"): SliderSpec(
        "PriorExplorer", "λ (L2)", 1e-4, (1e-8, 10.0), 0.25, prior_data
    ),
    ("06_dpo_loss", "DPOExplorer"): SliderSpec("DPOExplorer", "β", 0.5, (0.05, 10.0), 0.05, training_data),
}


def slider_html(spec, slider_id):
    """The page fragment for one slider: the range input, its label, readout and picture, and its data."""
    import html

    grid = log_grid(spec.value_range, spec.step)
    data = spec.build(spec)
    data.update(label=spec.label, values=grid.tolist(), start=_start(grid, spec.value))
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return (
        f'<div class="dpo-slider" id="{slider_id}">'
        f'<script type="application/json" class="dpo-slider-data">{payload}</script>'
        f'<p class="dpo-slider-note">{NOTE.format(n=len(grid))}</p>'
        f"<noscript>{html.escape(data['readouts'][0][data['start']])}</noscript></div>"
    )
