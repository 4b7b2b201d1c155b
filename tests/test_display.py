"""Tests for dpo_toy.display: the notebooks' text tables."""

import numpy as np
import pytest

from dpo_toy import display

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
