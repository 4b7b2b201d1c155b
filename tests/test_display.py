"""Tests of the notebooks' display helpers (each section belongs to one chapter)."""

import pytest

from dpo_toy import display

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
