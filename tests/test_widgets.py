"""The beta slider's three layers: compute, plot (Agg, no kernel) and widget wiring."""

import io

import numpy as np
import pytest
from PIL import Image

import dpo_toy as d
from dpo_toy import training
from dpo_toy.widgets import (
    BetaExplorer,
    DPOExplorer,
    PolicyPlot,
    PriorExplorer,
    StrengthPlot,
    policy_state,
    training_state,
)

TOY = d.capital_of_france()


def test_state_matches_library():
    """The compute layer returns pi*, KL and E[r] from the library, and objective = beta log Z."""
    s = policy_state(TOY, 0.4)
    np.testing.assert_allclose(s.pi_star, d.optimal_policy(TOY.pi_ref, TOY.rewards, 0.4))
    np.testing.assert_allclose(s.kl, d.kl_divergence(s.pi_star, TOY.pi_ref))
    np.testing.assert_allclose(s.expected_reward, s.pi_star @ TOY.rewards)
    np.testing.assert_allclose(s.objective, 0.4 * d.log_partition(TOY.pi_ref, TOY.rewards, 0.4))


def test_smaller_beta_moves_further_and_earns_more():
    """Along the slider, lowering beta raises both KL(pi*||pi_ref) and E[r] (monotone)."""
    states = [policy_state(TOY, b) for b in np.geomspace(100, 0.05, 40)]
    kls = np.array([s.kl for s in states])
    rewards = np.array([s.expected_reward for s in states])
    assert (np.diff(kls) > 0).all() and (np.diff(rewards) > 0).all()


def test_frontier_points_are_pi_star_points():
    """reward_kl_frontier equals (KL, E[r]) of optimal_policy at each beta."""
    betas = np.array([0.05, 0.3, 1.0, 7.0])
    kl, reward = d.reward_kl_frontier(TOY.pi_ref, TOY.rewards, betas)
    for b, k, r in zip(betas, kl, reward):
        s = policy_state(TOY, b)
        np.testing.assert_allclose([k, r], [s.kl, s.expected_reward], rtol=1e-10)


def test_plot_update_moves_bars_and_marker():
    """After update, the drawn bar heights are pi* and the marker sits at (KL, E[r])."""
    plot = PolicyPlot(TOY)
    for beta in (0.05, 2.0):
        state = policy_state(TOY, beta)
        plot.update(state)
        np.testing.assert_allclose(plot.star_heights(), state.pi_star)
        np.testing.assert_allclose(np.ravel(plot.marker.get_data()), [state.kl, state.expected_reward])
        assert plot.star_labels[0].get_text() == f"{state.pi_star[0]:.3f}"


def test_plot_pixels_change_with_beta():
    """The rendered PNG differs between two betas (the blit really draws)."""
    plot = PolicyPlot(TOY)
    a = np.asarray(Image.open(io.BytesIO(plot.update(policy_state(TOY, 0.05)).to_png())))
    b = np.asarray(Image.open(io.BytesIO(plot.update(policy_state(TOY, 20.0)).to_png())))
    assert a.shape == b.shape and (a != b).any()


@pytest.mark.parametrize("beta", [0.02, 0.5, 30.0])
def test_setting_the_slider_redraws(beta):
    """Setting slider.value (as a drag does) updates the plotted pi*, the readout and the image."""
    explorer = BetaExplorer(TOY, beta=1.0, show_table=True)
    before_png, before_text = explorer.image.value, explorer.readout.value
    explorer.slider.value = beta
    expected = d.optimal_policy(TOY.pi_ref, TOY.rewards, explorer.slider.value)
    np.testing.assert_allclose(explorer.plot.star_heights(), expected)
    assert explorer.readout.value != before_text and f"{explorer.slider.value:.4f}" in explorer.readout.value
    assert explorer.image.value != before_png
    table = d.boost_table(TOY.responses, TOY.pi_ref, TOY.rewards, explorer.slider.value)
    assert explorer.table.value == table._repr_html_()


def test_jpeg_is_the_opaque_bitmap():
    """to_jpeg encodes the figure's RGB (alpha dropped), byte for byte as Pillow does from a copied array."""
    plot = PolicyPlot(TOY).update(policy_state(TOY, 0.3))
    rgba = np.asarray(Image.open(io.BytesIO(plot.to_png())))
    assert (rgba[..., 3] == 255).all(), "the figure must be opaque for alpha to be dropped"
    reference = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(reference, format="jpeg", quality=90)
    jpeg = plot.to_jpeg()
    assert jpeg == reference.getvalue()
    decoded = np.asarray(Image.open(io.BytesIO(jpeg))).astype(int)
    assert decoded.shape == rgba[..., :3].shape and np.abs(decoded - rgba[..., :3]).mean() < 2


@pytest.mark.parametrize("kind", ["policy", "strength", "training"])
def test_filled_bars_are_the_pixels_agg_draws(kind):
    """The blit paints plain bars as pixel blocks: the bitmap equals Agg drawing every artist, over random heights.

    Heights include negative ones and ones past the top of the axes (the strength plot clips them).
    """
    from dpo_toy.widgets import TrainingPlot, _set_bars

    rng = np.random.default_rng(7)
    if kind == "policy":
        plot = PolicyPlot(TOY)
        bars, labels, draw = plot.star_bars, plot.star_labels, lambda: rng.dirichlet(np.full(len(TOY), 0.5))
    elif kind == "strength":
        plot = StrengthPlot([f"player {i}" for i in range(8)])
        bars, labels, draw = plot.bars, plot.labels, lambda: rng.normal(0, 700, 8)
    else:
        plot = TrainingPlot(TOY, steps=100)
        bars, labels, draw = plot.theta_bars, plot.theta_labels, lambda: rng.dirichlet(np.full(len(TOY), 0.5))
    filled = plot._filled
    assert filled == {id(bar) for bar in bars}, "every bar takes the fast path, and nothing else does"
    for _ in range(60):
        _set_bars(bars, labels, draw())
        plot._filled = filled
        fast = np.asarray(plot._blit().canvas.buffer_rgba()).copy()
        plot._filled = set()  # Agg draws every artist
        slow = np.asarray(plot._blit().canvas.buffer_rgba()).copy()
        np.testing.assert_array_equal(fast, slow)


def test_unchanged_labels_reuse_their_bitmap_and_draw_the_same(monkeypatch):
    """A label whose text did not change is not laid out again, and the picture is what a fresh plot draws."""
    import dpo_toy.widgets as widgets

    calls = []
    real_get_font = widgets.get_font
    monkeypatch.setattr(widgets, "get_font", lambda path: calls.append(path) or real_get_font(path))
    plot = PolicyPlot(TOY)
    a, b = policy_state(TOY, 0.3), policy_state(TOY, 3.0)
    plot.update(a)
    calls.clear()
    plot.update(a)
    assert calls == [], "the same state again: no label is laid out"
    plot.update(b).update(a)
    changed = sum(f"{p:.3f}" != f"{q:.3f}" for p, q in zip(a.pi_star, b.pi_star))
    assert 0 < changed and len(calls) == 2 * changed, "each label whose text changed is laid out, twice"
    np.testing.assert_array_equal(
        np.asarray(plot.canvas.buffer_rgba()), np.asarray(PolicyPlot(TOY).update(a).canvas.buffer_rgba())
    )


def _sent(monkeypatch):
    """Record every comm message any widget sends: (widget, message)."""
    import ipywidgets

    messages = []
    monkeypatch.setattr(ipywidgets.Widget, "_send", lambda self, msg, buffers=None: messages.append((self, msg)))
    return messages


def test_a_browser_move_is_not_echoed_but_redraws(monkeypatch):
    """A value from the browser (set_state, as the comm delivers it) gets no echo_update; the picture is sent.

    A plain FloatLogSlider in the same harness does echo, so the check can fail.
    """
    import ipywidgets

    explorer = BetaExplorer(TOY, beta=1.0)
    plain = ipywidgets.FloatLogSlider(value=1.0, min=-2, max=2)
    messages = _sent(monkeypatch)
    explorer.slider.set_state({"value": 0.25})
    plain.set_state({"value": 0.25})
    echoes = [w for w, m in messages if m["method"] == "echo_update"]
    assert echoes == [plain]
    updates = {id(w): m for w, m in messages if m["method"] == "update"}
    assert ["value"] in updates[id(explorer.image)]["buffer_paths"]  # the picture's bytes go as a binary buffer
    assert "0.2500" in updates[id(explorer.readout)]["state"]["value"]
    np.testing.assert_allclose(explorer.plot.star_heights(), d.optimal_policy(TOY.pi_ref, TOY.rewards, 0.25))
    explorer.slider.value = 3.0  # a value set from Python still reaches the browser
    assert any(w is explorer.slider and m["state"].get("value") == 3.0 for w, m in messages)


def test_table_only_explorer_has_no_image():
    """show_plot=False builds the table view alone."""
    explorer = BetaExplorer(TOY, show_plot=False, show_table=True)
    explorer.slider.value = 0.1
    assert explorer.image is None and "<table>" in explorer.table.value


def _perfect_keres():
    from dpo_toy.data import load_chess

    avro = load_chess("AVRO")
    k = avro.index("Paul Keres")
    score = avro.score_a.copy()
    score[avro.player_a == k], score[avro.player_b == k] = 1.0, 0.0
    return avro, score


def test_strength_plot_draws_elo_and_flags_off_scale_bars():
    """Bars are the Elo values, clipped at the top of the axis with an arrow in the label."""
    plot = StrengthPlot(["a", "b", "c"], elo_limits=(-500, 1000))
    plot.update(np.array([1500.0, -200.0, 40.0]))
    np.testing.assert_allclose(plot.heights(), [1000.0, -200.0, 40.0])
    assert plot.labels[0].get_text() == "+1500↑" and plot.labels[1].get_text() == "-200"


def test_prior_slider_refits_and_redraws():
    """Setting λ refits: the drawn bars equal fit(..., l2=λ) in Elo, and a weaker prior lifts the unbeaten player."""
    from dpo_toy import bradley_terry as bt

    avro, score = _perfect_keres()
    explorer = PriorExplorer(avro.player_a, avro.player_b, score, avro.names, l2=1e-1)
    before = explorer.elo.copy()
    explorer.slider.value = 1e-6
    with pytest.warns(bt.BradleyTerryWarning):
        expected = bt.fit(avro.player_a, avro.player_b, score, l2=explorer.slider.value).elo() - 1500.0
    np.testing.assert_allclose(explorer.elo, expected)
    top = explorer.plot.ax.get_ylim()[1]
    np.testing.assert_allclose(explorer.plot.heights(), np.minimum(expected, top))
    k = avro.index("Paul Keres")
    assert explorer.elo[k] > before[k] + 500 and "Paul Keres" in explorer.readout.value


@pytest.mark.parametrize("beta", np.geomspace(0.05, 10.0, 7))
def test_retraining_defaults_reach_pi_star_across_the_slider(beta):
    """The retraining slider's defaults (300 Adam steps, lr 0.2) land within TV 1e-3 of pi* at every beta."""
    state = training_state(TOY, training.expected_pairs(TOY), beta)
    pi_star = d.optimal_policy(TOY.pi_ref, TOY.rewards, beta)
    assert training.total_variation(state.pi_theta, pi_star) < 1e-3
    np.testing.assert_allclose(state.tv, training.total_variation(state.run.policies, pi_star))


def test_training_state_is_the_trainer_on_merged_pairs():
    """Merging duplicate pairs into weights changes nothing: the state equals train_tabular_dpo on the raw pairs."""
    pairs = training.sample_pairs(TOY, 400, seed=3)
    state = training_state(TOY, pairs, 0.7, steps=50, lr=0.1)
    direct = training.train_tabular_dpo(TOY, pairs, 0.7, steps=50, lr=0.1)
    np.testing.assert_allclose(state.run.policies, direct.policies, rtol=0, atol=1e-12)
    np.testing.assert_allclose(state.run.losses, direct.losses, rtol=1e-12)


def test_dpo_slider_retrains_and_redraws():
    """Setting beta retrains: drawn bars = a fresh NumPy run, black marks = pi*, the TV curve = the run's TV."""
    explorer = DPOExplorer(TOY, beta=1.0)
    before_png = explorer.image.value
    explorer.slider.value = 0.2
    beta = explorer.slider.value
    run = training.train_tabular_dpo(TOY, training.expected_pairs(TOY), beta, steps=300, lr=0.2)
    np.testing.assert_allclose(explorer.plot.theta_heights(), run.final, atol=1e-12)
    np.testing.assert_allclose(explorer.plot.star_marks.get_ydata(), d.optimal_policy(TOY.pi_ref, TOY.rewards, beta))
    np.testing.assert_allclose(explorer.plot.tv_line.get_ydata(), np.maximum(explorer.state.tv, 1e-12))
    assert explorer.image.value != before_png and f"{beta:.4f}" in explorer.readout.value


def test_dpo_slider_switches_data():
    """With several datasets a menu appears; deterministic data keeps pi_theta far from pi* at any beta."""
    always = training.PreferencePairs(np.zeros(20, int), np.ones(20, int), np.ones(20))
    explorer = DPOExplorer(TOY, {"expected": training.expected_pairs(TOY), "always": always}, beta=2.0)
    assert explorer.menu in explorer.widget.children
    near = explorer.state.tv[-1]
    explorer.menu.value = "always"
    assert near < 1e-3 < 0.1 < explorer.state.tv[-1]
    assert explorer.state.pi_theta[1] < 0.05 < explorer.state.pi_star[1]
    single = DPOExplorer(TOY, always)
    assert single.menu not in single.widget.children
    with pytest.raises(ValueError, match="data"):
        DPOExplorer(TOY, {})
