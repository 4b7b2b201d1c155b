"""Bad input raises ValueError/TypeError that names the argument and what was expected."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dpo_toy as d
from dpo_toy import bradley_terry as bt
from dpo_toy import elo, rlhf, sequences, torch_losses, torch_training, training, widgets
from dpo_toy import losses as npl
from dpo_toy.data import load_chess

GOOD_PI = np.array([0.3, 0.4, 0.001, 0.299])
GOOD_R = np.array([2.5, 2.0, -1.0, 0.0])

CASES = [
    # (call, exception, words the message must contain)
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R[:3], 1.0), ValueError, ["pi_ref", "rewards", "same shape"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, 0.0), ValueError, ["beta", "positive"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, -1.0), ValueError, ["beta", "positive"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, float("nan")), ValueError, ["beta"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, "1.0"), TypeError, ["beta", "real number"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, True), TypeError, ["beta"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R, np.array([1.0, 2.0])), ValueError, ["beta", "single number"]),
    (
        lambda: d.optimal_policy([0.3, 0.4, 0.001], [2.5, 2.0, -1.0], 1.0),
        ValueError,
        ["pi_ref", "sums to 0.701", "every other string"],
    ),
    (lambda: d.optimal_policy([1.2, -0.2], [0.0, 1.0], 1.0), ValueError, ["pi_ref", "negative"]),
    (lambda: d.optimal_policy([0.5, np.nan], [0.0, 1.0], 1.0), ValueError, ["pi_ref", "NaN"]),
    (lambda: d.optimal_policy(GOOD_PI, [2.5, np.nan, 0, 0], 1.0), ValueError, ["rewards", "NaN"]),
    (lambda: d.optimal_policy(GOOD_PI, [2.5, np.inf, 0, 0], 1.0), ValueError, ["rewards", "infinite"]),
    (lambda: d.optimal_policy(["a", "b"], [0.0, 1.0], 1.0), TypeError, ["pi_ref", "dtype"]),
    (lambda: d.optimal_policy(GOOD_PI, GOOD_R.astype(complex), 1.0), TypeError, ["rewards", "dtype"]),
    (lambda: d.optimal_policy(np.full((2, 2, 2), 0.5), np.zeros((2, 2, 2)), 1.0), ValueError, ["pi_ref", "1-D", "2-D"]),
    (
        lambda: d.optimal_policy([[0.5, 0.5], [0.9, 0.2]], np.zeros((2, 2)), 1.0),
        ValueError,
        ["row 1", "pi_ref", "sums to"],
    ),
    (lambda: d.optimal_policy([], [], 1.0), ValueError, ["pi_ref", "empty"]),
    (lambda: d.log_partition(GOOD_PI, GOOD_R, -2), ValueError, ["beta"]),
    (lambda: d.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5]), ValueError, ["p", "q", "same shape"]),
    (lambda: d.kl_divergence([0.5, 0.6], [0.5, 0.5]), ValueError, ["p", "sums to"]),
    (lambda: d.implied_reward([0.5, 0.5, 0.0], [0.5, 0.5, 0.0], 1.0), ValueError, ["pi", "pi_ref", "both 0"]),
    (
        lambda: d.kl_regularized_objective(GOOD_PI, GOOD_PI[:3] / GOOD_PI[:3].sum(), GOOD_R, 1.0),
        ValueError,
        ["pi", "pi_ref"],
    ),
    (lambda: d.boost_table(["a", "b"], GOOD_PI, GOOD_R, 1.0), ValueError, ["responses", "4"]),
    (lambda: d.boost_table([1, 2, 3, 4], GOOD_PI, GOOD_R, 1.0), TypeError, ["responses", "strings"]),
    (lambda: d.capital_of_france(other_reward=float("nan")), ValueError, ["other_reward", "NaN"]),
]


@pytest.mark.parametrize("call, exc, words", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_is_named(call, exc, words):
    """Each bad input raises the expected exception with a message naming the argument."""
    with pytest.raises(exc) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} missing from: {info.value}"


def test_import_is_numpy_only():
    """import dpo_toy loads neither torch, matplotlib, ipywidgets nor scipy."""
    heavy = "{'torch', 'matplotlib', 'ipywidgets', 'scipy'}"
    code = f"import sys, dpo_toy; print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- every module: the calls issue 14 found returning NaN/inf, accepting nonsense or raising bare errors --

TOY = d.capital_of_france()
PAIRS = training.expected_pairs(TOY)
Z = np.zeros(3)
T = torch.zeros(3)
VOCAB = sequences.vocabulary()
EXAMPLES = sequences.capitals_data(4)


def _pairs(chosen=(0,), rejected=(1,), weight=(1.0,)):
    return training.PreferencePairs(np.array(chosen), np.array(rejected), np.array(weight))


def _tiny_reference():
    return sequences.freeze(sequences.TinyLM(len(VOCAB), dim=4, hidden=4))


MODULE_CASES = [
    # losses and their torch twin: options
    ("losses", lambda: npl.dpo_loss(Z, Z, Z, Z, loss_type=None), ValueError, "loss_type must be one of"),
    ("losses", lambda: npl.dpo_loss_grad(Z, Z, Z, Z, loss_type=None), ValueError, "loss_type must be one of"),
    ("losses", lambda: torch_losses.dpo_loss(T, T, T, T, loss_type=None), ValueError, "loss_type must be one of"),
    ("losses", lambda: npl.dpo_loss(Z, Z, Z, Z, label_smoothing="0.1"), TypeError, "label_smoothing must be a real"),
    ("losses", lambda: torch_losses.dpo_loss(T, T, T, T, label_smoothing="0.1"), TypeError, "label_smoothing"),
    ("losses", lambda: npl.dpo_loss(Z, Z, Z, Z, label_smoothing=True), TypeError, "label_smoothing"),
    ("losses", lambda: npl.dpo_loss(Z, Z, Z, Z, label_smoothing=np.nan), ValueError, "label_smoothing"),
    ("losses", lambda: npl.dpo_loss(Z, Z, Z, Z, reduction=None), ValueError, "reduction must be one of"),
    ("losses", lambda: npl.reward_model_loss(Z, Z, reduction="avg"), ValueError, "reduction must be one of"),
    ("losses", lambda: torch_losses.reward_model_loss(T, T, reduction=None), ValueError, "reduction"),
    ("losses", lambda: npl.dpo_loss(Z, Z, Z, Z, beta=np.inf), ValueError, "beta must be a positive, finite"),
    ("losses", lambda: torch_losses.dpo_loss(T, T, T, T, beta=torch.tensor([1.0, 2.0])), ValueError, "beta"),
    ("losses", lambda: npl.dpo_rewards(Z, Z, Z, Z, beta=np.nan), ValueError, "beta"),
    ("losses", lambda: torch_losses.dpo_rewards(T, T, T, T, beta="0.1"), TypeError, "beta"),
    # losses: arrays of the wrong kind
    (
        "losses",
        lambda: npl.dpo_loss(torch.zeros(3, requires_grad=True), Z, Z, Z),
        TypeError,
        "policy_chosen_logps could not be turned into a NumPy array.*torch",
    ),
    (
        "losses",
        lambda: npl.dpo_loss(Z, Z, Z, torch.zeros(3, dtype=torch.bfloat16)),
        TypeError,
        "ref_rejected_logps could not be turned into a NumPy array",
    ),
    ("losses", lambda: npl.dpo_loss(None, Z, Z, Z), TypeError, "policy_chosen_logps must be a number"),
    ("losses", lambda: npl.reward_model_loss([1.0, np.nan], [0.0, 0.0]), ValueError, "r_chosen contains NaN"),
    ("losses", lambda: torch_losses.dpo_loss(None, T, T, T), TypeError, "policy_chosen_logps must hold real"),
    (
        "losses",
        lambda: npl.dpo_loss(Z[:1], np.array([1e300]), Z[:1], Z[:1], beta=1e10),
        ValueError,
        "overflows float64",
    ),
    # trainers
    (
        "training",
        lambda: training.train_tabular_dpo(TOY, PAIRS, loss_type=None),
        ValueError,
        "loss_type must be one of",
    ),
    ("training", lambda: torch_training.train_tabular_dpo(TOY, PAIRS, loss_type=None), ValueError, "loss_type"),
    ("training", lambda: training.train_tabular_dpo(TOY, PAIRS, lr=np.inf), ValueError, "lr must be"),
    ("training", lambda: torch_training.train_tabular_dpo(TOY, PAIRS, lr=np.inf), ValueError, "lr must be"),
    ("training", lambda: training.train_tabular_dpo(TOY, PAIRS, lr=-0.1), ValueError, "lr must be > 0"),
    ("training", lambda: training.train_tabular_dpo(TOY, _pairs(weight=[np.nan])), ValueError, "pairs.weight"),
    ("training", lambda: torch_training.train_tabular_dpo(TOY, _pairs(weight=[np.nan])), ValueError, "weight"),
    ("training", lambda: training.train_tabular_dpo(TOY, _pairs(weight=[np.inf])), ValueError, "pairs.weight"),
    ("training", lambda: training.train_tabular_dpo(TOY, PAIRS, init=np.zeros(5)), ValueError, "init must hold one"),
    ("training", lambda: torch_training.train_tabular_dpo(TOY, PAIRS, init=np.zeros(3)), ValueError, "init"),
    ("training", lambda: training.train_tabular_dpo(TOY, PAIRS, init=[0, 0, 0, np.nan]), ValueError, "init"),
    ("training", lambda: training.train_tabular_dpo(TOY, PAIRS, steps=2.5), TypeError, "steps must be a whole"),
    ("training", lambda: training.train_tabular_dpo(TOY, PAIRS, record_every=0), ValueError, "record_every"),
    ("training", lambda: training.train_tabular_dpo(TOY, [(0, 1)]), TypeError, "pairs must be PreferencePairs"),
    ("training", lambda: training.train_tabular_dpo(TOY, _pairs(chosen=[0.0])), TypeError, "pairs.chosen must be"),
    ("training", lambda: training.sample_pairs(TOY, 0), ValueError, "n_pairs must be >= 1"),
    ("training", lambda: training.sample_pairs(TOY, "10"), TypeError, "n_pairs"),
    (
        "training",
        lambda: training.weighted_dpo_loss_and_grad(np.zeros(3), np.log(TOY.pi_ref), PAIRS, 1.0),
        ValueError,
        "logits and ref_logps",
    ),
    ("training", lambda: training.total_variation([0.5, 0.5], [1.0, 0.0, 0.0]), ValueError, "p and q"),
    ("training", lambda: training.total_variation([0.5, np.nan], [1.0, 0.0]), ValueError, "p contains NaN"),
    ("widgets", lambda: widgets.training_state(TOY, PAIRS, 1.0, loss_type=None), ValueError, "loss_type"),
    ("widgets", lambda: widgets.training_state(TOY, _pairs(weight=[np.nan]), 1.0), ValueError, "pairs.weight"),
    ("widgets", lambda: widgets.training_state(TOY, PAIRS, 1.0, lr=np.inf), ValueError, "lr"),
    # RLHF
    ("rlhf", lambda: rlhf.train_rl(TOY.pi_ref, TOY.rewards, 1.0, lr=np.inf), ValueError, "lr must be"),
    ("rlhf", lambda: rlhf.train_rl(TOY.pi_ref, TOY.rewards, 1.0, clip=1.5), ValueError, "clip must be in"),
    ("rlhf", lambda: rlhf.train_rl(TOY.pi_ref, [0, np.nan, 0, 0], 1.0), ValueError, "rewards contains NaN"),
    (
        "rlhf",
        lambda: rlhf.policy_gradient(np.zeros(4), np.log(TOY.pi_ref), TOY.rewards, np.array([0, 7]), 1.0),
        ValueError,
        "samples must be",
    ),
    ("rlhf", lambda: rlhf.fit_reward_model(_pairs(weight=[np.nan]), 4), ValueError, "pairs.weight"),
    # sequences
    ("sequences", lambda: sequences.pretrain_reference(VOCAB, lr=np.inf, progress=False), ValueError, "lr must"),
    (
        "sequences",
        lambda: sequences.train_sequence_dpo(_tiny_reference(), EXAMPLES, VOCAB, loss_type=None, progress=False),
        ValueError,
        "loss_type must be one of",
    ),
    (
        "sequences",
        lambda: sequences.train_sequence_dpo(_tiny_reference(), EXAMPLES, VOCAB, lr=np.nan, progress=False),
        ValueError,
        "lr must be",
    ),
    (
        "sequences",
        lambda: sequences.train_sequence_dpo(_tiny_reference(), EXAMPLES, VOCAB, beta=0, progress=False),
        ValueError,
        "beta",
    ),
    (
        "sequences",
        lambda: sequences.train_sequence_dpo(_tiny_reference(), [("q", "a", "b")], VOCAB, progress=False),
        TypeError,
        "examples must be PreferenceExample",
    ),
    ("sequences", lambda: sequences.capitals_data(0), ValueError, "n_pairs must be >= 1"),
    ("sequences", lambda: sequences.capitals_data(3, countries=("atlantis",)), ValueError, "countries"),
    # Bradley–Terry
    ("bradley_terry", lambda: bt.fit([0, 1, 0], [1, 0, 1], [1, 0, 0.5], 4, l2=0), ValueError, "l2=0.*played no"),
    ("bradley_terry", lambda: bt.fit_mm([0], [1], [1], l2=0), ValueError, "l2=0.*won every game"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 2], [1, 1], l2=0), ValueError, "l2=0.*won every game"),
    (
        "bradley_terry",
        lambda: bt.fit([0, 1, 2, 3], [1, 0, 3, 2], [1, 0, 1, 0], l2=0),
        ValueError,
        "l2=0.*groups that never played each other",
    ),
    ("bradley_terry", lambda: bt.mm_update([0.0, 0.0, 0.0], [0], [1], [1]), ValueError, "player 2 played no games"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], n_players=2.5), TypeError, "n_players must be a whole"),
    ("bradley_terry", lambda: bt.fit([0, 2**62], [1, 0], [1, 0]), ValueError, "player index .* is too large"),
    ("bradley_terry", lambda: bt.count_pairs([0], [1], [1], n_players="2"), TypeError, "n_players"),
    ("bradley_terry", lambda: bt.fit(None, [1], [1]), TypeError, "player_a must be a 1-D array"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], l2=np.nan), ValueError, "l2 must be a finite"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], l2="0"), TypeError, "l2 must be a real number"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], tol=0), ValueError, "tol must be > 0"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], max_iter=0), ValueError, "max_iter must be >= 1"),
    ("bradley_terry", lambda: bt.fit_mm([0, 1], [1, 0], [1, 0], max_iter=1.5), TypeError, "max_iter"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], callback=5), TypeError, "callback must be callable"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], standard_errors="yes"), ValueError, "standard_errors"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], names="ab"), TypeError, "names must be a sequence"),
    ("bradley_terry", lambda: bt.fit([0, 1], [1, 0], [1, 0], draws=None), ValueError, "draws must be one of"),
    (
        "bradley_terry",
        lambda: bt.fit([0, 1], [1, 0], [0.5, 0.5], draws="davidson"),
        ValueError,
        "at least one decisive game",
    ),
    ("bradley_terry", lambda: bt.win_probability(np.nan, 0.0), ValueError, "s_i contains NaN"),
    ("bradley_terry", lambda: bt.win_probability(np.inf, np.inf), ValueError, "s_i contains an infinite"),
    ("bradley_terry", lambda: bt.win_probability([0.0, 1.0], [0.0, 1.0, 2.0]), ValueError, "s_i and s_j"),
    ("bradley_terry", lambda: bt.log_likelihood([0.0, np.nan], [0], [1], [1]), ValueError, "strengths contains"),
    ("bradley_terry", lambda: bt.mm_update(np.zeros((2, 2)), [0], [1], [1]), ValueError, "strengths must be 1-D"),
    ("bradley_terry", lambda: bt.mm_update([0.0, 0.0], [0], [1], [1], l2=-1), ValueError, "l2 must be >= 0"),
    ("bradley_terry", lambda: bt.simulate(4, 10, spread=np.nan), ValueError, "spread must be a finite"),
    ("bradley_terry", lambda: bt.simulate(4, 10, spread=-1.0), ValueError, "spread must be >= 0"),
    ("bradley_terry", lambda: bt.simulate(1, 10), ValueError, "n_players must be >= 2"),
    ("bradley_terry", lambda: bt.simulate(4, 2.5), TypeError, "n_games must be a whole"),
    ("bradley_terry", lambda: bt.simulate(4, 10, draw_parameter=-1.0), ValueError, "draw_parameter"),
    ("bradley_terry", lambda: bt.simulate(4, 10, draw_parameter=np.inf), ValueError, "draw_parameter"),
    ("bradley_terry", lambda: bt.simulate(4, 10, opponents=0), ValueError, "opponents must be >= 1"),
    # Elo
    ("elo", lambda: elo.elo_update(np.nan, 1500, 1), ValueError, "rating_a contains NaN"),
    ("elo", lambda: elo.elo_update(1500, np.inf, 1), ValueError, "rating_b contains an infinite"),
    ("elo", lambda: elo.elo_update(1500, 1500, 2), ValueError, "score_a must be 1"),
    ("elo", lambda: elo.elo_update(1500, 1500, np.nan), ValueError, "score_a contains NaN"),
    ("elo", lambda: elo.elo_update(1500, 1500, 1, k=-32), ValueError, "k must be > 0"),
    ("elo", lambda: elo.elo_update(1500, 1500, 1, k=np.inf), ValueError, "k must be a finite"),
    ("elo", lambda: elo.elo_ratings([0, 1], [1, 0], [1, 0], initial=np.nan), ValueError, "initial must be a finite"),
    ("elo", lambda: elo.elo_ratings([0, 1], [1, 0], [1, 0], passes=0), ValueError, "passes must be >= 1"),
    ("elo", lambda: elo.elo_ratings([0, 1], [1, 0], [1, 0], k=np.nan), ValueError, "k contains NaN"),
    ("elo", lambda: elo.to_elo([0.0, 1.0], anchor=5), ValueError, "anchor must be <= 1"),
    ("elo", lambda: elo.to_elo([0.0, 1.0], anchor_rating=np.nan), ValueError, "anchor_rating"),
    ("elo", lambda: elo.to_elo([], anchor_rating=1500), ValueError, "strengths must be a non-empty"),
]


@pytest.mark.parametrize(
    "call, exc, words",
    [case[1:] for case in MODULE_CASES],
    ids=[f"{case[0]}-{i}" for i, case in enumerate(MODULE_CASES)],
)
def test_bad_input_is_named_in_every_module(call, exc, words):
    """Issue 14's list and more: each call raises the expected exception, naming the argument."""
    with pytest.raises(exc, match=words):
        call()


# --- where a meaningful answer exists, it is given (in at least float32, never NaN) ----------------


def test_beta_is_never_cast_to_float16():
    """float16 zeros with β = 1e5 give ln 2 (computed in float32), as float64 zeros do."""
    z16 = np.zeros(3, np.float16)
    loss = npl.dpo_loss(z16, z16, z16, z16, beta=1e5)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss, np.log(2.0), rtol=1e-6)
    grads = npl.dpo_loss_grad(z16, z16, z16, z16, beta=1e5)
    np.testing.assert_allclose(grads[0], npl.dpo_loss_grad(Z, Z, Z, Z, beta=1e5)[0], rtol=1e-6)


def test_float16_ipo_at_a_large_log_ratio_is_finite_and_exact():
    """IPO at h = 1e4 in float16 inputs: (h − 1/(2β))² = 9999.5² computed in float32, not inf."""
    h16 = np.array([1e4], np.float16)
    zero = np.zeros(1, np.float16)
    expected = (float(h16[0]) - 0.5) ** 2
    np.testing.assert_allclose(npl.dpo_loss(h16, zero, zero, zero, beta=1.0, loss_type="ipo"), expected, rtol=1e-6)
    t16 = torch.tensor([1e4], dtype=torch.float16)
    t0 = torch.zeros(1, dtype=torch.float16)
    np.testing.assert_allclose(torch_losses.dpo_loss(t16, t0, t0, t0, 1.0, loss_type="ipo").item(), expected, rtol=1e-6)


LOSS_TYPES_ALL = ("sigmoid", "ipo", "hinge")


@pytest.mark.parametrize("beta", [1e39, 1e-39, 1e300])
def test_beta_beyond_float32_is_computed_in_float64(beta):
    """β that float32 cannot hold (or whose 1/(2β) it cannot) gives the float64 answer in both twins."""
    z32 = np.zeros(3, np.float32)
    for loss_type in LOSS_TYPES_ALL:
        want = npl.dpo_loss(Z, Z, Z, Z, beta=beta, loss_type=loss_type)
        assert np.isfinite(want)
        np.testing.assert_allclose(npl.dpo_loss(z32, z32, z32, z32, beta=beta, loss_type=loss_type), want)
        t32 = torch.zeros(3)
        got = torch_losses.dpo_loss(t32, t32, t32, t32, beta=beta, loss_type=loss_type)
        np.testing.assert_allclose(got.item(), want)


def test_float32_inputs_stay_float32_for_ordinary_beta():
    """The widening to float64 only happens when β needs it: float32 in, float32 out at β = 0.1."""
    z32 = np.zeros(3, np.float32)
    assert npl.dpo_loss(z32, z32, z32, z32).dtype == np.float32
    assert torch_losses.dpo_loss(torch.zeros(3), torch.zeros(3), torch.zeros(3), torch.zeros(3)).dtype == torch.float32


def test_first_training_loss_is_ln2_not_hinge():
    """The default loss type is the sigmoid one: both toy trainers start at ln 2 (the hinge would start at 1)."""
    for train in (training.train_tabular_dpo, torch_training.train_tabular_dpo):
        run = train(TOY, PAIRS, 1.0, steps=1)
        np.testing.assert_allclose(run.losses[0], np.log(2.0), rtol=1e-12)


def test_trainers_have_one_name_each():
    """The old ambiguous name train_dpo is gone: each trainer is named for what it trains."""
    for module in (training, torch_training, sequences):
        assert not hasattr(module, "train_dpo"), module.__name__
    assert callable(training.train_tabular_dpo) and callable(torch_training.train_tabular_dpo)
    assert callable(sequences.train_sequence_dpo)


def test_a_diverging_learning_rate_is_named():
    """lr = 1e308 is a number but blows the logits up: the error names lr, not the log-probabilities."""
    with pytest.raises(ValueError, match="diverged.*lr=1e\\+308"):
        training.train_tabular_dpo(TOY, PAIRS, 1.0, steps=3, lr=1e308)
    with pytest.raises(ValueError, match="diverged.*lr=1e\\+308"):
        torch_training.train_tabular_dpo(TOY, PAIRS, 1.0, steps=3, lr=1e308)


def test_training_state_without_steps_has_a_readout():
    """steps=0 is a valid request (π_θ = π_ref): its readout says so instead of raising IndexError."""
    state = widgets.training_state(TOY, PAIRS, 1.0, steps=0)
    assert "no Adam steps" in state.readout()
    np.testing.assert_allclose(state.pi_theta, TOY.pi_ref)
    np.testing.assert_allclose(state.tv[-1], training.total_variation(TOY.pi_ref, state.pi_star))


def test_unregularised_fit_on_avro_works_with_both_draw_models():
    """l2 = 0 on AVRO 1938 (the MLE exists): Newton converges, and a vanishing prior gives the same strengths."""
    g = load_chess("AVRO")
    for draws in ("half", "davidson"):
        mle = bt.fit(g.player_a, g.player_b, g.score_a, g.n_players, l2=0, draws=draws)
        tiny = bt.fit(g.player_a, g.player_b, g.score_a, g.n_players, l2=1e-12, draws=draws)
        assert mle.converged
        np.testing.assert_allclose(mle.strengths, tiny.strengths, atol=1e-8)
    mm = bt.fit_mm(g.player_a, g.player_b, g.score_a, g.n_players, l2=0)
    np.testing.assert_allclose(mm.strengths, bt.fit(g.player_a, g.player_b, g.score_a, l2=0).strengths, atol=1e-7)


def test_fit_mm_stops_at_its_cap_and_says_so():
    """fit_mm has an iteration cap; stopping there warns with the count and the gradient reached."""
    sim = bt.simulate(30, 300, seed=2)
    with pytest.warns(RuntimeWarning, match="mm did not converge in 5 iterations.*relative gradient"):
        fit = bt.fit_mm(sim.player_a, sim.player_b, sim.score_a, max_iter=5)
    assert not fit.converged and fit.n_iter == 5
    assert np.isfinite(fit.strengths).all()


def test_mm_update_without_prior_warns_about_a_pointless_player():
    """Hunter's update with l2 = 0 sends a player without points to −inf: it warns, and the rest stay centred."""
    a, b, score = np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([1.0, 1.0, 1.0])
    with pytest.warns(bt.BradleyTerryWarning, match="player 2 scored no points"):
        s = bt.mm_update(np.zeros(3), a, b, score)
    # By hand from s = 0: C_i = games_i / 2 = 1, so e^{s_i} = W_i = (2, 1, 0), then centred over 0 and 1.
    np.testing.assert_allclose(s, [np.log(2) / 2, -np.log(2) / 2, -np.inf], rtol=1e-15)


def test_huge_k_factor_does_not_overflow_the_expected_score():
    """k = 1e306 is absurd but finite: the expected score saturates at 0 or 1 instead of raising OverflowError."""
    ratings = elo.elo_ratings([0, 1] * 50, [1, 0] * 50, [1, 0] * 50, k=1e306)
    assert np.isfinite(ratings).all()
    np.testing.assert_allclose(ratings.sum(), 3000.0, rtol=1e-12, atol=1e292)


@settings(max_examples=150, deadline=None)
@given(
    arrays(
        st.sampled_from([np.float16, np.float32, np.float64]),
        st.integers(1, 5),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=16),
    ),
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3), st.just("0.1"), st.none()),
    st.sampled_from(["sigmoid", "ipo", "hinge", None, "kto"]),
    st.one_of(st.floats(-1.0, 1.0), st.just(np.nan), st.just("0.1")),
)
def test_losses_never_return_nan_or_inf(logps, beta, loss_type, smoothing):
    """Any inputs, options and dtypes: both twins either return a finite loss or raise ValueError/TypeError."""
    args = (logps, logps[::-1].copy(), np.zeros_like(logps), logps / 2)
    for module, cast in ((npl, lambda x: x), (torch_losses, torch.from_numpy)):
        try:
            out = module.dpo_loss(*map(cast, args), beta, loss_type=loss_type, label_smoothing=smoothing)
        except (ValueError, TypeError):
            continue
        assert np.isfinite(float(out)), (module.__name__, logps, beta, loss_type, smoothing, out)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.sampled_from([0.0, 0.5, 1.0])), min_size=1, max_size=9),
    st.sampled_from([0.0, 1e-4]),
    st.sampled_from(["half", "davidson"]),
)
def test_bradley_terry_fits_never_fail_bare(games, l2, draws):
    """Random small schedules: finite strengths or a named ValueError, never LinAlgError or NaN."""
    a, b, score = (np.array(x) for x in zip(*games))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fitter in (bt.fit, bt.fit_mm) if draws == "half" else (bt.fit,):
            try:
                fit = fitter(a, b, score, l2=l2, **({"draws": draws} if fitter is bt.fit else {}))
            except ValueError:
                continue
            assert np.isfinite(fit.strengths).all()
