r"""Small display helpers: the numbers a chapter prints, computed and formatted outside the notebook.

Each chapter's helpers sit under a ``# --- chapter N ---`` header. They compute with the library
and return plain data or text, so that a notebook's code cell shows the idea, not the printing.
"""

from dataclasses import dataclass

import numpy as np

from . import policy

# --- chapter 0 ---

#: Where each chapter's box sits in the course-map picture, by its two-digit number: the core
#: path on the top row, the side path (03) below it, the chapters after the core on the right.
_MAP_POSITIONS = {
    "00": (0, 2),
    "01": (1, 2),
    "02": (2, 2),
    "04": (3, 2),
    "05": (4, 2),
    "06": (5, 2),
    "03": (2.5, 1),
    "07": (4, 1),
    "08": (5, 1),
    "09": (6, 1),
}


def course_map_edges(chapters=None):
    """The arrows of the course-map picture as (from, to, kind) with chapter numbers ("00" ...).

    The core path is one chain in chapter order; the side path branches off from the core chapter
    before it ("branch"); the chapters after the core hang off the last core chapter and follow
    each other. No arrow leads from a side chapter back into the core: the core does not need it.
    """
    from .course import CHAPTERS

    chapters = CHAPTERS if chapters is None else chapters
    edges, last_core, last_further = [], None, None
    for ch in chapters:
        number = ch.stem[:2]
        if ch.track == "core":
            if last_core is not None:
                edges.append((last_core, number, "core"))
            last_core = number
        elif ch.track == "side":
            edges.append((last_core, number, "branch"))
        else:
            edges.append((last_further or last_core, number, "further"))
            last_further = number
    return edges


def course_map_figure(chapters=None):
    """The course map as a Matplotlib figure: one box per chapter (number, title, minutes), by track."""
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Patch

    from .course import CHAPTERS
    from .plotting import COLORS

    chapters = CHAPTERS if chapters is None else chapters
    colours = {"core": COLORS["pi_star"], "side": COLORS["pi_theta"], "further": COLORS["pi_ref"]}
    fig, ax = plt.subplots(figsize=(12, 4.2))
    for ch in chapters:
        x, y = _MAP_POSITIONS[ch.stem[:2]]
        ax.add_patch(
            FancyBboxPatch(
                (x - 0.4, y - 0.36), 0.8, 0.72, boxstyle="round,pad=0.02", fc=colours[ch.track], alpha=0.25,
                ec=colours[ch.track], lw=1.5,
            )
        )  # fmt: skip
        label = f"{ch.stem[:2]}\n{textwrap.fill(ch.title, 15)}\n{ch.minutes} min"
        ax.text(x, y, label, ha="center", va="center", fontsize=9.5)
    for start, end, kind in course_map_edges(chapters):
        p0, p1 = np.array(_MAP_POSITIONS[start], float), np.array(_MAP_POSITIONS[end], float)
        step = p1 - p0
        # leave each box at its border: the largest t with |t·step| inside the half-sizes (0.42, 0.38)
        t = min(0.42 / abs(step[0]) if step[0] else np.inf, 0.38 / abs(step[1]) if step[1] else np.inf)
        ax.annotate(
            "",
            xy=tuple(p1 - t * step),
            xytext=tuple(p0 + t * step),
            arrowprops={"arrowstyle": "-|>", "ls": "--" if kind == "branch" else "-", "color": "0.3", "lw": 1.5},
        )
    totals = {t: sum(ch.minutes for ch in chapters if ch.track == t) for t in colours}
    names = {"core": "core path", "side": "side path (not needed by 04)", "further": "after the core"}
    handles = [Patch(fc=c, alpha=0.4, ec=c, label=f"{names[t]}: {totals[t]} min") for t, c in colours.items()]
    ax.legend(handles=handles, loc="lower left", ncol=1)
    ax.set_xlim(-0.6, 6.6)
    ax.set_ylim(0.5, 2.5)
    ax.set_axis_off()
    ax.set_title("The course map: follow the top row; branch off when you want more")
    plt.close(fig)
    return fig


# --- chapter 1 ---


@dataclass(frozen=True)
class BetaEffect:
    r"""What one β does to the optimal policy of one prompt.

    Attributes
    ----------
    beta : float
    kl : float
        KL(π*‖π_ref) in nats.
    expected_reward : float
        E_{π*}[r].
    top_probability : float
        π* of the highest-reward response.
    moved : float
        Total variation ½·Σ|π* − π_ref|: the share of probability that changed hands.
    doubling_gap : float
        The reward gap that doubles the odds π*(a)/π*(b) relative to π_ref's, β·ln 2.
    margin_73 : float
        The log-ratio margin, in nats, at which DPO's σ(β·margin) reaches σ(1) ≈ 0.73: 1/β.
    """

    beta: float
    kl: float
    expected_reward: float
    top_probability: float
    moved: float
    doubling_gap: float
    margin_73: float


def beta_effects(pi_ref, rewards, betas):
    """One :class:`BetaEffect` per β in ``betas`` for the prompt (``pi_ref``, ``rewards``)."""
    rewards = np.asarray(rewards, dtype=float)
    best = int(np.argmax(rewards))
    out = []
    for beta in betas:
        pi_star = policy.optimal_policy(pi_ref, rewards, beta)
        out.append(
            BetaEffect(
                beta=float(beta),
                kl=float(policy.kl_divergence(pi_star, pi_ref)),
                expected_reward=float(policy.expected_reward(pi_star, rewards)),
                top_probability=float(pi_star[best]),
                moved=float(0.5 * np.abs(pi_star - np.asarray(pi_ref)).sum()),
                doubling_gap=float(beta * np.log(2.0)),
                margin_73=float(1.0 / beta),
            )
        )
    return out


def beta_effects_table(effects):
    """The :func:`beta_effects` rows as a fixed-precision text table (one line per β)."""
    header = (
        f"{'beta':>6s} {'KL (nats)':>10s} {'E[r]':>7s} {'pi*(best)':>10s} {'moved':>7s} "
        f"{'gap x2 odds':>12s} {'margin for 73%':>15s}"
    )
    lines = [header]
    for e in effects:
        lines.append(
            f"{e.beta:6.2f} {e.kl:10.4f} {e.expected_reward:7.4f} {e.top_probability:10.4f} {e.moved:7.4f} "
            f"{e.doubling_gap:12.4f} {e.margin_73:11.1f} nats"
        )
    return "\n".join(lines)


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
