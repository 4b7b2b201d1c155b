"""Tests of the notebooks' text tables (dpo_toy.display)."""

import numpy as np
import pytest

from dpo_toy import display

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
