"""Small text tables for the notebooks, so that their code cells show the idea, not the printing.

Each chapter's helpers sit under their own header comment; they format numbers the library has
already computed (fixed precision, so stored outputs are stable) and compute nothing themselves.
"""

import numpy as np

# --- chapter 6 ---


def head_to_head(chosen, rejected, names, width=14):
    """A table of wins: row i, column j = how often response i was chosen over response j.

    Parameters
    ----------
    chosen, rejected : array_like of int, shape (n_pairs,)
        y_w and y_l of each pair (indices into ``names``).
    names : sequence of str
        The responses (shortened to ``width`` characters in the table).
    width : int
        Column width.
    """
    chosen, rejected = np.asarray(chosen), np.asarray(rejected)
    n = len(names)
    if chosen.shape != rejected.shape or chosen.ndim != 1:
        raise ValueError("chosen and rejected must be 1-d arrays of the same length")
    if chosen.size and (min(chosen.min(), rejected.min()) < 0 or max(chosen.max(), rejected.max()) >= n):
        raise ValueError(f"chosen and rejected must hold indices in [0, {n}) of names")
    wins = np.zeros((n, n), dtype=int)
    np.add.at(wins, (chosen, rejected), 1)
    short = [str(name)[:width] for name in names]
    lines = [f"{'row beat column':>{width + 2}s}" + "".join(f"{s:>{width + 2}s}" for s in short) + f"{'net wins':>10s}"]
    for i in range(n):
        cells = "".join(f"{'-' if i == j else wins[i, j]:>{width + 2}}" for j in range(n))
        lines.append(f"{short[i]:>{width + 2}s}" + cells + f"{wins[i].sum() - wins[:, i].sum():>+10d}")
    return "\n".join(lines)
