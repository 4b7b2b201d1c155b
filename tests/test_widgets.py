"""The beta slider's three layers: compute, plot (Agg, no kernel) and widget wiring."""

import io

import numpy as np
import pytest
from PIL import Image

import dpo_toy as d
from dpo_toy.widgets import BetaExplorer, PolicyPlot, policy_state

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


def test_table_only_explorer_has_no_image():
    """show_plot=False builds the table view alone."""
    explorer = BetaExplorer(TOY, show_plot=False, show_table=True)
    explorer.slider.value = 0.1
    assert explorer.image is None and "<table>" in explorer.table.value
