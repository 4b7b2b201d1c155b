r"""The sliders, in three layers: pure compute → a plot that updates its artists → widget wiring.

Only the last layer touches ipywidgets, so the first two are tested without a kernel. The plot
is drawn by Matplotlib's Agg backend into a JPEG shown by an ``ipywidgets.Image``: no pyplot
state, no figure re-creation, and it works the same in JupyterLab, Voilà and a static page.
"""

import functools
import io
import textwrap
from dataclasses import dataclass

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg, get_hinting_flag
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.patches import Rectangle
from PIL import Image

from . import _validation as v
from . import policy, training
from .plotting import COLORS, OKABE_ITO

JPEG_QUALITY = 90
"""JPEG quality of the slider pictures: text and thin lines stay crisp at 90."""

# --- layer 1: compute ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyState:
    """Everything the slider shows for one β."""

    beta: float
    pi_star: np.ndarray  # (n_responses,)
    kl: float  # KL(π*‖π_ref)
    expected_reward: float  # E_π*[r]
    objective: float  # E_π*[r] − β·KL = β·log Z

    def readout(self):
        """One line with fixed precision, for the widget and for stable notebook output."""
        return (
            f"β = {self.beta:.4f}   KL(π*‖π_ref) = {self.kl:.4f}   "
            f"E_π*[r] = {self.expected_reward:.4f}   objective = {self.objective:.4f}"
        )


def policy_state(toy, beta):
    """Compute π*, KL(π*‖π_ref), E_π*[r] and the objective for ``toy`` at ``beta``."""
    pi_star = policy.optimal_policy(toy.pi_ref, toy.rewards, beta)
    kl = policy.kl_divergence(pi_star, toy.pi_ref)
    reward = policy.expected_reward(pi_star, toy.rewards)
    return PolicyState(float(beta), pi_star, kl, reward, reward - float(beta) * kl)


@dataclass(frozen=True)
class TrainingState:
    """A DPO run at one β next to its target π*: what the retraining slider shows."""

    beta: float
    run: training.TrainingRun  # π_θ after every step
    pi_star: np.ndarray  # the closed-form optimum for the true rewards at this β
    tv: np.ndarray  # (steps + 1,) total variation between π_θ and π* after each step

    @property
    def pi_theta(self):
        """π_θ after the last step."""
        return self.run.final

    def readout(self):
        """One line with fixed precision, for the widget and for stable notebook output."""
        if self.run.losses.size == 0:
            return f"β = {self.beta:.4f}   no Adam steps: π_θ = π_ref   TV(π_θ, π*) = {self.tv[-1]:.1e}"
        return (
            f"β = {self.beta:.4f}   after {self.run.steps[-1]} Adam steps: "
            f"DPO loss = {self.run.losses[-1]:.4f}   TV(π_θ, π*) = {self.tv[-1]:.1e}"
        )


def training_state(toy, pairs, beta, *, steps=300, lr=0.2, loss_type="sigmoid", label_smoothing=0.0):
    """Train a tabular policy from π_ref on ``pairs`` at ``beta`` (NumPy trainer) and compare it with π*.

    The defaults reach TV < 1e-3 on the toy's expected preferences for every β in [0.05, 10].
    """
    v.check_pairs(pairs, len(toy))  # before merging, so bad pairs are named as the caller passed them
    run = training.train_tabular_dpo(
        toy, pairs.merged(), beta, steps=steps, lr=lr, loss_type=loss_type, label_smoothing=label_smoothing
    )
    pi_star = policy.optimal_policy(toy.pi_ref, toy.rewards, beta)
    return TrainingState(float(beta), run, pi_star, training.total_variation(run.policies, pi_star))


# --- layer 2: plot ------------------------------------------------------------------------------


def _wrap(text, width=13):
    return "\n".join(textwrap.wrap(text, width)) or text


class _BarLabel(Artist):
    """A number above a bar, drawn straight from FreeType into the figure.

    A matplotlib ``Text`` costs about 1 ms per draw (font lookup, layout, transforms); these labels
    are redrawn on every slider move, and this draws the same glyphs in a third of that, or, when
    the text has not changed since the last draw, reuses the bitmap. Centred on ``x``, its bottom
    at ``y`` (data coordinates), black, ``fontsize`` points.
    """

    def __init__(self, ax, x, fontsize=8):
        super().__init__()
        self.axes, self.x, self.y, self.text, self.fontsize = ax, x, 0.0, "", fontsize
        self.set_figure(ax.figure)
        self._font_path = findfont(FontProperties(size=fontsize))
        self._drawn = (None, None)  # (text, size, dpi) last drawn and its bitmap: an unchanged label is reused

    def set_y(self, y):
        self.y = y

    def set_text(self, text):
        self.text = str(text)

    def get_text(self):
        return self.text

    def draw(self, renderer):
        if not self.get_visible() or not self.text:
            return
        key = (self.text, self.fontsize, renderer.dpi)
        if self._drawn[0] != key:  # FreeType's layout and rendering are most of the cost of a label
            font = get_font(self._font_path)  # shared and cached by matplotlib: set everything each time
            font.set_size(self.fontsize, renderer.dpi)
            font.set_text(self.text, 0.0, flags=get_hinting_flag())
            font.draw_glyphs_to_bitmap(antialiased=True)
            alpha = np.asarray(font.get_image())  # (height, width), glyph coverage
            rgba = np.zeros((*alpha.shape, 4), np.uint8)
            rgba[..., 3] = alpha
            self._drawn = key, rgba
        rgba = self._drawn[1]
        px, py = self.axes.transData.transform((self.x, self.y))
        gc = renderer.new_gc()
        renderer.draw_image(gc, round(px - rgba.shape[1] / 2), round(py), rgba[::-1])
        gc.restore()


def _set_bars(bars, labels, values, text=lambda x: f"{x:.3f}", label_y=lambda x: x + 0.01, height=lambda x: x):
    """Set each bar to ``height(x)`` and its label to ``text(x)`` at ``label_y(x)``: the one bar-label loop."""
    for bar, label, x in zip(bars, labels, values):
        bar.set_height(height(x))
        label.set_y(label_y(x))
        label.set_text(text(x))


def _plain_bar(artist):
    """Whether ``artist`` is a bar that :func:`_fill_bar` paints exactly as Agg draws it.

    That is an upright, opaque, edgeless, unhatched rectangle, clipped to a box (its axes', as
    matplotlib sets it), in axes with linear scales. Agg snaps such a rectangle to whole pixels, so
    it is a block of pixels in the face colour (``tests/test_widgets.py`` compares the two, pixel
    for pixel).
    """
    if not isinstance(artist, Rectangle) or artist.axes is None:
        return False
    ax = artist.axes
    return (
        artist.get_angle() == 0 and not artist.get_hatch() and artist.get_snap() in (None, True)
        and artist.get_facecolor()[3] == 1 and artist.get_alpha() in (None, 1)
        and (artist.get_edgecolor()[3] == 0 or artist.get_linewidth() == 0)
        and artist.get_clip_on() and artist.get_clip_path() is None and artist.get_clip_box() is not None
        and ax.get_xscale() == "linear" and ax.get_yscale() == "linear"
    )  # fmt: skip


def _fill_bar(pixels, bar):
    """Paint ``bar`` (a :func:`_plain_bar`) into the RGBA ``pixels``: 0.05 ms against 0.3 ms for Agg's path."""
    if not bar.get_visible():
        return
    x, y = bar.get_x(), bar.get_y()
    corners = bar.get_data_transform().transform([(x, y), (x + bar.get_width(), y + bar.get_height())])
    (x0, y0), (x1, y1) = np.sort(corners, axis=0)  # display pixels, origin at the bottom left
    box_x0, box_y0, box_x1, box_y1 = bar.get_clip_box().extents
    left, right = round(max(x0, box_x0)), round(min(x1, box_x1))
    bottom, top = round(max(y0, box_y0)), round(min(y1, box_y1))
    height = pixels.shape[0]
    if right > left and top > bottom:
        colour = np.round(np.asarray(bar.get_facecolor()) * 255).astype(np.uint8)
        pixels[max(height - top, 0) : height - bottom, max(left, 0) : right] = colour


class _BlittedFigure:
    """A figure drawn once; later updates redraw only the artists that move ("blitting").

    The static parts (axes, ticks, labels, reference curves) are kept as a bitmap, and each update
    draws the animated artists on top of it: milliseconds instead of a full redraw.
    """

    def __init__(self, figsize, dpi):
        self.figure = Figure(figsize=figsize, dpi=dpi, layout="none")  # placed by hand, whatever the course style says
        self.canvas = FigureCanvasAgg(self.figure)

    def _freeze(self, animated):
        self.animated = list(animated)
        for artist in self.animated:
            artist.set_animated(True)
        self._filled = {id(artist) for artist in self.animated if _plain_bar(artist)}
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def _blit(self):
        self.canvas.restore_region(self._background)
        pixels = np.asarray(self.canvas.buffer_rgba())  # a writable view of the bitmap
        for artist in self.animated:
            if id(artist) in self._filled:
                _fill_bar(pixels, artist)
            else:
                self.figure.draw_artist(artist)
        return self

    def to_png(self):
        """The current bitmap as PNG bytes (fast compression; lossless, for tests and saving)."""
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(self.canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()

    def to_jpeg(self, quality=JPEG_QUALITY):
        """The current bitmap as JPEG bytes: what the sliders send on every move.

        Measured on a 720×272 plot: about 1 ms to encode against 7 ms for the fastest PNG, at the
        same size in bytes, and the browser decodes it at least as fast (``benchmarks/run.py``).
        """
        buffer = io.BytesIO()
        # The figure is opaque: the encoder reads the RGBA buffer in place as RGBX (alpha ignored),
        # the same bytes as dropping alpha first, without a 0.6 MB strided copy (2.3 → 0.6 ms here).
        rgba = np.asarray(self.canvas.buffer_rgba())  # (height, width, 4), a view: nothing copied
        Image.frombuffer("RGBX", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBX", 0, 1).save(
            buffer, format="jpeg", quality=quality
        )
        return buffer.getvalue()


class PolicyPlot(_BlittedFigure):
    """Bars of π_ref and π* (left) and the reward–KL frontier with the current β marked (right)."""

    def __init__(self, toy, beta_range=(1e-2, 1e2), figsize=(9.0, 3.4), dpi=80):
        super().__init__(figsize, dpi)
        self.toy = toy
        self.ax_bars, self.ax_frontier = self.figure.subplots(1, 2, width_ratios=(1.3, 1.0))
        x = np.arange(len(toy))
        self.ax_bars.bar(x - 0.2, toy.pi_ref, 0.4, color=COLORS["pi_ref"], label="π_ref")
        self.star_bars = self.ax_bars.bar(x + 0.2, toy.pi_ref, 0.4, color=COLORS["pi_star"], label="π*")
        self.star_labels = [self.ax_bars.add_artist(_BarLabel(self.ax_bars, i + 0.2)) for i in x]
        self.ax_bars.set_xticks(x, [_wrap(r) for r in toy.responses], fontsize=8)
        self.ax_bars.set_ylim(0, 1.12)
        self.ax_bars.set_ylabel("probability")
        self.ax_bars.legend(loc="upper right", fontsize=8)

        grid = np.geomspace(beta_range[0], beta_range[1], 200)
        kl, reward = policy.reward_kl_frontier(toy.pi_ref, toy.rewards, grid)
        self.ax_frontier.plot(kl, reward, color="0.4", lw=1.5, label="π*_β, all β")
        (self.marker,) = self.ax_frontier.plot([], [], "o", color=OKABE_ITO["vermillion"], ms=8, label="current β")
        self.ax_frontier.set_xlabel("KL(π*‖π_ref)")
        self.ax_frontier.set_ylabel("E_π*[r]")
        self.ax_frontier.legend(loc="lower right", fontsize=8)
        self.ax_bars.set_title("π_ref and π* (numbers: π*)", fontsize=10)
        self.ax_frontier.set_title("the reward–KL frontier", fontsize=10)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
        # Text is the slow part of a redraw, so the numbers for β, KL and E[r] live in the readout.
        self._freeze([*self.star_bars, *self.star_labels, self.marker])

    def update(self, state):
        """Move the bars, their labels and the frontier marker to ``state`` (a :class:`PolicyState`)."""
        _set_bars(self.star_bars, self.star_labels, state.pi_star)
        self.marker.set_data([state.kl], [state.expected_reward])
        return self._blit()

    def star_heights(self):
        """The π* bar heights as drawn (what the tests compare with π*)."""
        return np.array([bar.get_height() for bar in self.star_bars])


class StrengthPlot(_BlittedFigure):
    """Bradley–Terry ratings as bars (Elo above the field's mean), one per player."""

    def __init__(self, names, elo_limits=(-700, 1500), figsize=(9.0, 3.0), dpi=80):
        super().__init__(figsize, dpi)
        self.ax = self.figure.subplots()
        x = np.arange(len(names))
        self.bars = self.ax.bar(x, np.zeros(len(names)), 0.6, color=COLORS["chosen"])
        self.labels = [self.ax.add_artist(_BarLabel(self.ax, i)) for i in x]
        self.ax.axhline(0, color="0.3", lw=0.8)
        self.ax.set_xticks(x, [_wrap(n, 10) for n in names], fontsize=8)
        self.ax.set_ylim(*elo_limits)
        self.ax.set_ylabel("Elo − mean")
        self.figure.subplots_adjust(left=0.08, right=0.98, bottom=0.2, top=0.95)
        self._freeze([*self.bars, *self.labels])

    def update(self, elo):
        """Set the bars to ``elo`` (ratings minus their mean); off-scale bars say so in their label."""
        top = self.ax.get_ylim()[1]
        _set_bars(
            self.bars, self.labels, elo, text=lambda e: f"{e:+.0f}" + ("↑" if e > top else ""),
            label_y=lambda e: min(max(e, 0), top * 0.92) + 10, height=lambda e: min(e, top),
        )  # fmt: skip
        return self._blit()

    def heights(self):
        """The bar heights as drawn (what the tests compare with the fit)."""
        return np.array([bar.get_height() for bar in self.bars])


class TrainingPlot(_BlittedFigure):
    """Bars of π_ref and the DPO-trained π_θ with π* marked (left); TV(π_θ, π*) per step (right)."""

    def __init__(self, toy, steps, figsize=(9.0, 3.4), dpi=80):
        super().__init__(figsize, dpi)
        self.ax_bars, self.ax_tv = self.figure.subplots(1, 2, width_ratios=(1.3, 1.0))
        x = np.arange(len(toy))
        self.ax_bars.bar(x - 0.2, toy.pi_ref, 0.4, color=COLORS["pi_ref"], label="π_ref")
        self.theta_bars = self.ax_bars.bar(x + 0.2, toy.pi_ref, 0.4, color=COLORS["pi_theta"], label="π_θ (DPO)")
        (self.star_marks,) = self.ax_bars.plot(
            x + 0.2, toy.pi_ref, "_", color="k", ms=22, mew=2.5, label="π* (closed form)"
        )
        self.theta_labels = [self.ax_bars.add_artist(_BarLabel(self.ax_bars, i + 0.2)) for i in x]
        self.ax_bars.set_xticks(x, [_wrap(r) for r in toy.responses], fontsize=8)
        self.ax_bars.set_ylim(0, 1.12)
        self.ax_bars.set_ylabel("probability")
        self.ax_bars.legend(loc="upper right", fontsize=8)
        self.ax_bars.set_title("π_ref, DPO-trained π_θ, and π*", fontsize=10)

        self.ax_tv.axhline(1e-3, color="0.5", ls="--", lw=1, label="TV = 1e-3")
        (self.tv_line,) = self.ax_tv.plot([], [], color=COLORS["pi_theta"], lw=1.5, label="TV(π_θ, π*)")
        self.ax_tv.set_yscale("log")
        self.ax_tv.set_xlim(0, steps)
        self.ax_tv.set_ylim(1e-7, 1.0)
        self.ax_tv.set_xlabel("Adam step")
        self.ax_tv.set_ylabel("total variation to π*")
        self.ax_tv.legend(loc="upper right", fontsize=8)
        self.ax_tv.set_title("distance to π* during training", fontsize=10)
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
        self._freeze([*self.theta_bars, *self.theta_labels, self.star_marks, self.tv_line])

    def update(self, state):
        """Move the π_θ bars, the π* marks and the TV curve to ``state`` (a :class:`TrainingState`)."""
        # Labels sit above whichever is higher, the bar or its π* mark, so the mark stays visible.
        _set_bars(self.theta_bars, self.theta_labels, state.pi_theta)
        for label, p_theta, p_star in zip(self.theta_labels, state.pi_theta, state.pi_star):
            label.set_y(max(p_theta, p_star) + 0.035)
        self.star_marks.set_ydata(state.pi_star)
        self.tv_line.set_data(state.run.steps, np.maximum(state.tv, 1e-12))
        return self._blit()

    def theta_heights(self):
        """The π_θ bar heights as drawn (what the tests compare with the trained policy)."""
        return np.array([bar.get_height() for bar in self.theta_bars])


# --- layer 3: wiring ----------------------------------------------------------------------------


@functools.cache
def _log_slider_class():
    """``FloatLogSlider`` whose moves are not echoed back to the browser.

    ipywidgets 8 answers every value the browser sends with an ``echo_update`` message, sent before
    the observers run; the new picture then waits behind it on the way back (about 5 ms in the
    real-browser benchmark). The echo only matters when several browser tabs show the same slider;
    values set from Python are still sent as usual.
    """
    import ipywidgets as w
    from traitlets import CFloat

    class FloatLogSlider(w.FloatLogSlider):  # the same name: notebooks show "FloatLogSlider(value=…)"
        value = CFloat(1.0, help="Float value").tag(sync=True, echo_update=False)

    return FloatLogSlider


def _log_slider(value, value_range, step, description, readout_format):
    """A log-scale slider over ``value_range`` (what every explorer is driven by)."""
    import ipywidgets as w

    lo, hi = np.log10(value_range[0]), np.log10(value_range[1])
    return _log_slider_class()(
        value=value, base=10, min=lo, max=hi, step=step, description=description, continuous_update=True,
        readout_format=readout_format, layout=w.Layout(width="560px"),
    )  # fmt: skip


class _Explorer:
    """The wiring every explorer shares: a slider, a one-line readout, a plot shown as an image.

    A subclass builds its plot, calls :meth:`_wire`, and implements ``update(value)``, which
    computes the new state and returns ``(readout text, plot to draw or None)``; :meth:`_show`
    puts both on screen. Views beyond the plot (a table, a menu) are passed to :meth:`_wire`.
    """

    def _wire(self, slider, plot, *, controls=(), views=()):
        import ipywidgets as w

        self.slider, self.plot = slider, plot
        self.readout = w.HTML()
        self.image = None
        if plot is not None:  # a fixed size: a new picture repaints the image, not the notebook's layout
            width, height = plot.canvas.get_width_height()
            self.image = w.Image(format="jpeg", width=width, height=height)
        shown = [v for v in (self.image, *views) if v is not None]
        self.widget = w.VBox([slider, *controls, self.readout, *shown])
        slider.observe(self._on_change, names="value")

    def _on_change(self, change):
        self.update(change["new"])

    def _show(self, readout):
        """Send the plot's new picture, then the readout line (the picture is what the eye waits for)."""
        if self.plot is not None:
            self.image.value = self.plot.to_jpeg()
        self.readout.value = f'<code style="white-space: pre">{readout}</code>'

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


class BetaExplorer(_Explorer):
    """A β slider over π*: the plot, a numeric readout and (optionally) the boost-factor table.

    Parameters
    ----------
    toy : ToyPrompt
        The prompt, its responses, π_ref and rewards.
    beta : float
        Starting β.
    beta_range : (float, float)
        Slider limits (log scale).
    show_plot, show_table : bool
        Which views to show under the slider.
    """

    def __init__(self, toy, beta=1.0, beta_range=(1e-2, 1e2), show_plot=True, show_table=False):
        import ipywidgets as w

        self.toy = toy
        self.table = w.HTML() if show_table else None
        plot = PolicyPlot(toy, beta_range) if show_plot else None
        self._wire(_log_slider(beta, beta_range, 0.05, "β", ".3f"), plot, views=[self.table])
        self.update(beta)

    def update(self, beta):
        """Recompute and redraw for ``beta`` (what moving the slider calls)."""
        state = policy_state(self.toy, beta)
        if self.plot is not None:
            self.plot.update(state)
        if self.table is not None:
            table = policy.boost_table(self.toy.responses, self.toy.pi_ref, self.toy.rewards, beta)
            self.table.value = table._repr_html_()
        self._show(state.readout())
        self.state = state
        return state


class PriorExplorer(_Explorer):
    """A slider over the Bradley–Terry L2 prior: watch strengths the data cannot pin run away.

    Parameters
    ----------
    player_a, player_b, score_a : array_like
        The games (as for :func:`dpo_toy.bradley_terry.fit`).
    names : sequence of str
        Player names, one per player.
    l2 : float
        Starting prior strength λ.
    l2_range : (float, float)
        Slider limits (log scale).
    """

    def __init__(self, player_a, player_b, score_a, names, l2=1e-4, l2_range=(1e-8, 10.0)):
        from . import bradley_terry as bt

        self._fit = lambda lam: bt.fit(
            player_a, player_b, score_a, len(names), l2=lam, check=False, standard_errors=False, max_iter=200
        )
        self.names = tuple(names)
        self._wire(_log_slider(l2, l2_range, 0.25, "λ (L2)", ".0e"), StrengthPlot(self.names))
        self.update(l2)

    def update(self, l2):
        """Refit with prior strength ``l2`` and redraw (what moving the slider calls)."""
        fit = self._fit(l2)
        elo = fit.elo() - 1500.0
        top = int(np.argmax(elo))
        self.plot.update(elo)
        self._show(f"λ = {l2:.1e}   top: {self.names[top]} at {elo[top]:+.1f} Elo   Newton steps: {fit.n_iter}")
        self.elo = elo
        return fit


class DPOExplorer(_Explorer):
    """A β slider that retrains DPO from π_ref on every move and shows the result next to π*.

    Parameters
    ----------
    toy : ToyPrompt
        The prompt, its responses, π_ref and true rewards.
    data : PreferencePairs or dict of str to PreferencePairs, optional
        The preference data (default: the toy's expected preferences). With several named
        datasets, a menu switches between them.
    beta : float
        Starting β.
    beta_range : (float, float)
        Slider limits (log scale).
    steps, lr, loss_type, label_smoothing
        As in :func:`training_state`.
    """

    def __init__(
        self, toy, data=None, beta=0.5, beta_range=(0.05, 10.0), *, steps=300, lr=0.2, loss_type="sigmoid",
        label_smoothing=0.0,
    ):  # fmt: skip
        import ipywidgets as w

        self.toy = toy
        if data is None:
            data = {"expected preferences": training.expected_pairs(toy)}
        elif isinstance(data, training.PreferencePairs):
            data = {"preference pairs": data}
        if not data:
            raise ValueError("data must hold at least one set of preference pairs")
        self.datasets = {name: pairs.merged() for name, pairs in data.items()}
        self._options = dict(steps=steps, lr=lr, loss_type=loss_type, label_smoothing=label_smoothing)
        self.menu = w.Dropdown(options=list(self.datasets), description="data")
        controls = [self.menu] if len(self.datasets) > 1 else []
        self._wire(_log_slider(beta, beta_range, 0.05, "β", ".3f"), TrainingPlot(toy, steps), controls=controls)
        self.menu.observe(lambda change: self.update(self.slider.value), names="value")
        self.update(beta)

    def update(self, beta):
        """Retrain at ``beta`` on the selected data and redraw (what moving the slider calls)."""
        state = training_state(self.toy, self.datasets[self.menu.value], beta, **self._options)
        self.plot.update(state)
        self._show(state.readout())
        self.state = state
        return state
