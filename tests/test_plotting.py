"""The course figure style: readable sizes, a colour-blind-safe palette, applied by every notebook."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dpo_toy import plotting  # noqa: E402

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def _luminance(hex_colour):
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_style_sets_readable_sizes():
    """After use_course_style, every text size is >= 10 pt and figures are >= 110 dpi."""
    plotting.use_course_style()
    rc = matplotlib.rcParams
    for key in ("font.size", "axes.labelsize", "xtick.labelsize", "ytick.labelsize", "legend.fontsize"):
        size = rc[key]
        points = size if isinstance(size, int | float) else matplotlib.font_manager.FontProperties(size=size).get_size()
        assert points >= 10, key
    assert rc["figure.dpi"] >= 110


def test_meaning_colours_are_distinct_okabe_ito():
    """Each meaning has its own colour, all from the Okabe-Ito palette (or grey for pi_ref)."""
    colours = list(plotting.COLORS.values())
    assert len(set(colours)) == len(colours)
    allowed = set(plotting.OKABE_ITO.values()) | {plotting.COLORS["pi_ref"]}
    assert set(colours) <= allowed
    # pi_star and pi_theta, drawn side by side in chapters 1 and 6, differ clearly in lightness.
    assert abs(_luminance(plotting.COLORS["pi_star"]) - _luminance(plotting.COLORS["pi_theta"])) > 0.2


def test_cycle_is_applied():
    """A plain plot takes its first colour from the course cycle."""
    plotting.use_course_style()
    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    assert matplotlib.colors.to_hex(line.get_color()).upper() == plotting.CYCLE[0].upper()
    plt.close(fig)


def test_every_plotting_notebook_uses_the_style():
    """Every solution notebook that imports pyplot applies the course style."""
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        source = "\n".join(
            "".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"
        )
        if "matplotlib.pyplot" in source:
            assert "use_course_style()" in source, path.name
