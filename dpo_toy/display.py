"""Small text tables for the notebooks, so that a code cell shows the idea and not the printing.

Each chapter's helpers sit under its own header comment. Everything returns a string (print it);
numbers are formatted with a fixed precision so that stored notebook outputs are stable.
"""

import numpy as np

# --- chapter 3 ---


def table(header, rows, formats):
    """Rows as fixed-width text: the first column left-aligned, the others right-aligned.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : iterable of sequences
        One sequence of values per row, as many values as titles.
    formats : sequence of str
        One format spec per column (``"s"``, ``".4f"``, ``"+.1f"``, ...).

    Returns
    -------
    str
        The header line and one line per row, joined by newlines.
    """
    header, formats = list(header), list(formats)
    if len(formats) != len(header):
        raise ValueError(f"formats must have one spec per column ({len(header)}), got {len(formats)}")
    cells = []
    for row in rows:
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"each row must have {len(header)} values, got {len(row)}: {row!r}")
        cells.append([format(value, spec) for value, spec in zip(row, formats)])
    widths = [max([len(title)] + [len(r[k]) for r in cells]) for k, title in enumerate(header)]

    def line(values):
        first = values[0].ljust(widths[0])
        return " ".join([first] + [v.rjust(w) for v, w in zip(values[1:], widths[1:])]).rstrip()

    return "\n".join([line(header)] + [line(r) for r in cells])


# --- chapter 4 ---


def response_table(responses, columns, precision=4):
    """One row per response, one column per named array (``{"title": values}``), fixed precision."""
    names = [str(r) for r in responses]
    arrays = {title: np.asarray(values, float) for title, values in columns.items()}
    for title, values in arrays.items():
        if values.shape != (len(names),):
            raise ValueError(f"column {title!r} must have one value per response ({len(names)}), got {values.shape}")
    rows = zip(names, *arrays.values())
    return table(["response", *arrays], rows, ["s"] + [f".{int(precision)}f"] * len(arrays))


# --- chapter 5 ---


def vector(values, precision=3):
    """A 1-d array as ``[0.366 0.000 0.443]``: fixed precision, never scientific notation."""
    values = np.asarray(values, float)
    if values.ndim != 1:
        raise ValueError(f"values must be 1-dimensional, got shape {values.shape}")
    return "[" + " ".join(f"{v:.{int(precision)}f}" for v in values) + "]"
