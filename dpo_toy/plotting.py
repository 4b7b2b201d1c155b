r"""The course's figure style: readable at 100 % zoom, colour-blind safe, the same in every chapter.

Every notebook calls :func:`use_course_style` once, after importing Matplotlib, and picks colours
by meaning from :data:`COLORS` rather than by hand, so that π_ref, π*, π_θ, chosen and rejected
look the same in every figure of the course.

The palette is Okabe & Ito (2008), "Color Universal Design", distinguishable under the common
forms of colour blindness; the reference policy is grey because it is the backdrop of every plot.
"""

#: Okabe–Ito colours, by name.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}

#: One colour per meaning, used by every chapter and by the widgets.
COLORS = {
    "pi_ref": "#999999",  # the reference: grey, the backdrop
    "pi_star": OKABE_ITO["blue"],  # the optimal policy π*
    "pi_theta": OKABE_ITO["orange"],  # the policy being trained
    "chosen": OKABE_ITO["bluish green"],  # y_w
    "rejected": OKABE_ITO["vermillion"],  # y_l
    "reward": OKABE_ITO["reddish purple"],
    "kl": OKABE_ITO["sky blue"],
    "other": OKABE_ITO["black"],
}

#: The colour cycle for plots of several series with no fixed meaning (black last).
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "bluish green", "vermillion", "reddish purple", "sky blue")]

#: Matplotlib settings: text of at least 10 pt, 110 dpi, the palette, light grids, no top/right spines.
RC = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10.5,
    "axes.titlesize": 11,
    "axes.labelsize": 10.5,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.8,
    "figure.constrained_layout.use": True,
}


def use_course_style():
    """Apply the course style to Matplotlib (call once per notebook, after importing pyplot)."""
    import matplotlib as mpl  # loaded here: `import dpo_toy` must not import Matplotlib
    from cycler import cycler

    mpl.rcParams.update(RC)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=CYCLE)
