"""Small display helpers: the table formatting that would otherwise crowd the notebooks' code cells.

Each returns a string (the notebook prints it), so it can be tested.
"""

# --- chapter 7 ---


def masses_table(masses, groups):
    """A table of probability masses: one row per question, one column per (model, group).

    Parameters
    ----------
    masses : dict
        Model label → {row label (e.g. a country) → {group → probability}}; every model has the
        same rows.
    groups : sequence of str
        The groups to show, in order.

    Returns
    -------
    str
    """
    if not masses:
        raise ValueError("masses is empty: give at least one model")
    labels = list(masses)
    rows = list(masses[labels[0]])
    for label in labels[1:]:
        if list(masses[label]) != rows:
            raise ValueError(f"model {label!r} has rows {list(masses[label])}, expected {rows}")
    width = max(9, *(len(g) for g in groups))
    header = f"{'':10s} " + " | ".join(f"{label:^{len(groups) * (width + 1) - 1}s}" for label in labels)
    sub = f"{'':10s} " + " | ".join(" ".join(f"{g:>{width}s}" for g in groups) for _ in labels)
    lines = [header, sub]
    for row in rows:
        cells = " | ".join(" ".join(f"{masses[label][row][g]:>{width}.3f}" for g in groups) for label in labels)
        lines.append(f"{row:10s} {cells}")
    return "\n".join(lines)


def side_by_side(columns, width=34):
    """Texts in columns: ``columns`` maps a heading to a list of texts (all lists equally long).

    Texts longer than ``width`` are cut with "…".
    """
    if not columns:
        raise ValueError("columns is empty")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"every column needs the same number of texts, got lengths {sorted(lengths)}")

    def cut(text):
        return text if len(text) <= width else text[: width - 1] + "…"

    lines = ["  ".join(f"{h:{width}s}" for h in columns).rstrip()]
    for row in zip(*columns.values()):
        lines.append("  ".join(f"{cut(t):{width}s}" for t in row).rstrip())
    return "\n".join(lines)
