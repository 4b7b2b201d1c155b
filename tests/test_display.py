"""Tests for dpo_toy.display: the chapters' printed numbers against independent computations."""

import math

import numpy as np
import pytest
from scipy.special import expit, rel_entr

from dpo_toy import capital_of_france, display, optimal_policy
from dpo_toy.course import CHAPTERS
from dpo_toy.display import beta_effects, beta_effects_table, course_map_edges, course_map_figure

# --- chapter 0 ---


def test_course_map_edges_chain_the_core_and_leave_the_side_path_optional():
    """Core chapters form one chain in order; 03 branches off; nothing leads from 03 back to 04."""
    edges = course_map_edges()
    core = [ch.stem[:2] for ch in CHAPTERS if ch.track == "core"]
    assert [(a, b) for a, b, kind in edges if kind == "core"] == list(zip(core, core[1:]))
    assert ("02", "03", "branch") in edges
    assert not any(a == "03" for a, _, _ in edges)
    assert {b for _, b, _ in edges} | {core[0]} == {ch.stem[:2] for ch in CHAPTERS}  # every chapter reached


def test_course_map_figure_draws_every_chapter_with_its_time():
    """One text per chapter with its number and minutes, and a legend with each track's total."""
    fig = course_map_figure()
    texts = [t.get_text() for t in fig.axes[0].texts]
    for ch in CHAPTERS:
        assert any(t.startswith(ch.stem[:2] + "\n") and t.endswith(f"{ch.minutes} min") for t in texts), ch.stem
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    core = sum(ch.minutes for ch in CHAPTERS if ch.track == "core")
    assert legend[0] == f"core path: {core} min"


# --- chapter 1 ---


def test_beta_effects_against_the_formula_by_hand():
    """KL, E[r], π*(best) and the moved mass from π_ref·exp(r/β)/Z written out, KL from scipy."""
    toy = capital_of_france()
    for effect in beta_effects(toy.pi_ref, toy.rewards, [0.1, 0.3, 0.5]):
        weights = toy.pi_ref * np.exp(toy.rewards / effect.beta)
        pi = weights / weights.sum()
        assert math.isclose(effect.kl, rel_entr(pi, toy.pi_ref).sum(), rel_tol=1e-10)
        assert math.isclose(effect.expected_reward, float(pi @ toy.rewards), rel_tol=1e-12)
        assert math.isclose(effect.top_probability, pi[0], rel_tol=1e-12)  # reward 2.5 is the best
        assert math.isclose(effect.moved, 0.5 * np.abs(pi - toy.pi_ref).sum(), rel_tol=1e-10)


def test_doubling_gap_doubles_the_odds_and_margin_gives_sigma_one():
    """A reward gap of β·ln 2 doubles π*(a)/π*(b) over π_ref's ratio; σ(β·margin_73) = σ(1)."""
    pi_ref, beta = np.array([0.5, 0.5]), 0.3
    (effect,) = beta_effects(pi_ref, [0.0, 0.0], [beta])

    star = optimal_policy(pi_ref, np.array([effect.doubling_gap, 0.0]), beta)
    assert math.isclose(star[0] / star[1], 2.0, rel_tol=1e-12)
    assert math.isclose(expit(beta * effect.margin_73), expit(1.0), rel_tol=1e-12)


def test_beta_effects_table_has_one_fixed_precision_line_per_beta():
    """The table has a header and one line per β, each starting with β to two decimals."""
    toy = capital_of_france()
    effects = beta_effects(toy.pi_ref, toy.rewards, [0.1, 0.25, 0.5])
    lines = beta_effects_table(effects).splitlines()
    assert len(lines) == 4
    assert [line.split()[0] for line in lines[1:]] == ["0.10", "0.25", "0.50"]
    assert f"{effects[0].kl:.4f}" in lines[1]


# --- chapter 3 ---


def test_table_aligns_columns_and_formats_each_cell():
    """Every line has the header's column positions; numbers use the given format."""
    out = display.table(["name", "score"], [("a", 1.23456), ("longer name", -10.0)], ["s", ".2f"])
    lines = out.split("\n")
    assert lines == ["name         score", "a             1.23", "longer name -10.00"]


def test_table_rejects_ragged_rows_and_wrong_formats():
    """A row or a format list of the wrong length raises a ValueError naming it."""
    with pytest.raises(ValueError, match="each row"):
        display.table(["a", "b"], [(1,)], ["d", "d"])
    with pytest.raises(ValueError, match="formats"):
        display.table(["a", "b"], [(1, 2)], ["d"])


# --- chapter 4 ---


def test_response_table_parses_back_to_the_rounded_values():
    """Each printed number, read back, is the input rounded to the precision."""
    values = np.array([0.123456, -2.5, 1e-7])
    out = display.response_table(["x", "y z", "w"], {"p": values, "q": 2 * values}, precision=3)
    lines = out.split("\n")
    assert lines[0].split() == ["response", "p", "q"]
    for line, v in zip(lines[1:], values):
        p, q = (float(t) for t in line.split()[-2:])
        assert p == round(v, 3) and q == round(2 * v, 3)


def test_response_table_rejects_a_column_of_the_wrong_length():
    """A column without one value per response raises a ValueError naming the column."""
    with pytest.raises(ValueError, match="'p'"):
        display.response_table(["a", "b"], {"p": [1.0]})


# --- chapter 5 ---


def test_vector_never_uses_scientific_notation():
    """Tiny and large entries print in fixed notation, and parse back to the rounded values."""
    values = np.array([3.013e-04, 0.5, 12.25])
    out = display.vector(values, precision=3)
    assert "e" not in out
    np.testing.assert_allclose([float(t) for t in out.strip("[]").split()], np.round(values, 3))


def test_vector_rejects_a_matrix():
    """Only 1-d arrays are accepted."""
    with pytest.raises(ValueError, match="1-dimensional"):
        display.vector(np.zeros((2, 2)))


# --- chapter 6 ---


def test_head_to_head_counts_and_net_wins():
    """Cells count wins of row over column; net wins = row total minus column total; a brute-force count agrees."""
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 50)
    b = (a + rng.integers(1, 3, 50)) % 3
    table = display.head_to_head(a, b, ["x", "y", "z"]).splitlines()
    assert len(table) == 4
    for i, line in enumerate(table[1:]):
        fields = line.split()
        counts = [sum((a == i) & (b == j)) for j in range(3)]
        assert fields[0] == "xyz"[i]
        assert [f for k, f in enumerate(fields[1:4]) if k != i] == [str(c) for k, c in enumerate(counts) if k != i]
        assert fields[1 + i] == "-"
        assert int(fields[4]) == sum(a == i) - sum(b == i)


def test_head_to_head_rejects_bad_indices():
    """Indices outside the names raise ValueError."""
    with pytest.raises(ValueError, match="indices"):
        display.head_to_head([0, 3], [1, 0], ["x", "y", "z"])
    with pytest.raises(ValueError, match="same length"):
        display.head_to_head([0, 1], [1], ["x", "y"])


# --- chapter 7 ---


def test_masses_table_shows_every_value_once_in_order():
    """Each (model, row, group) value appears with 3 decimals, rows in order, models side by side."""
    masses = {
        "pi_ref": {"france": {"a": 0.125, "b": 0.875}, "spain": {"a": 0.5, "b": 0.25}},
        "DPO": {"france": {"a": 0.75, "b": 0.0625}, "spain": {"a": 0.001, "b": 0.999}},
    }
    lines = display.masses_table(masses, ["a", "b"]).splitlines()
    assert len(lines) == 4
    assert "pi_ref" in lines[0] and "DPO" in lines[0] and lines[0].index("pi_ref") < lines[0].index("DPO")
    assert lines[2].split() == ["france", "0.125", "0.875", "|", "0.750", "0.062"]
    assert lines[3].split() == ["spain", "0.500", "0.250", "|", "0.001", "0.999"]


def test_masses_table_rejects_mismatched_rows_and_empty_input():
    """Models with different rows, or no models, are refused with a message."""
    with pytest.raises(ValueError, match="rows"):
        display.masses_table({"x": {"a": {"g": 1.0}}, "y": {"b": {"g": 1.0}}}, ["g"])
    with pytest.raises(ValueError, match="empty"):
        display.masses_table({}, ["g"])


def test_side_by_side_aligns_columns_and_cuts_long_texts():
    """Column j starts at the same offset on every line; a text longer than the width is cut with …."""
    out = display.side_by_side({"before": ["paris .", "x" * 50], "after": ["rome .", "tokyo ."]}, width=20)
    lines = out.splitlines()
    assert [line.find(word) for line, word in zip(lines, ["after", "rome .", "tokyo ."])] == [22, 22, 22]
    assert "x" * 19 + "…" in lines[2] and "x" * 20 not in lines[2]
    with pytest.raises(ValueError, match="same number"):
        display.side_by_side({"a": ["1"], "b": []})
