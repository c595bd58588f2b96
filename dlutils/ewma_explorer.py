"""The moving-average explorer of notebook 06: pick beta, toggle bias correction, play t.

The math lives in small pure functions (``effective_window``, ``ewma_weights``,
``window_span``, ``explorer_curves``); :class:`EwmaExplorer` only draws what
they return. It takes the student's ``ewma`` as an argument, so the widget
shows *their* averages, and says in words what to do when ``ewma`` is not
written yet or returns something unusable, instead of showing a traceback.

The figure is built once. Every control updates the existing artists in place
(``line.set_data``), which is what keeps an ipympl figure (``%matplotlib widget``)
live. On ipympl only the moving artists are redrawn, blitted over a cached
background (``dlutils.blit.Blitter``): the axes, ticks, title, data and legend depend
only on beta and the bias-correction box, so there is one background per such
pair and a step of t, or a return to a beta seen before, costs no full render.
With any other backend the same object calls ``draw_idle`` and still works in
plain Python, which is how the tests drive it.
"""

from typing import Callable, NamedTuple

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from dlutils.blit import Blitter
from dlutils.plotting import PALETTE

# From a 2-day window to a 1000-day one; 0.5, 0.9, 0.98 and 0.999 are the values the lectures compare.
BETAS = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)

_EMPTY = np.empty(0)

NOT_IMPLEMENTED = "implement ewma above to see its moving averages here"


def _check_beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.floating, np.integer)) or not 0 <= beta < 1:
        raise ValueError(f"beta: expected a number with 0 <= beta < 1, got {beta!r}")


def effective_window(beta):
    """About how many of the latest values an average with ``beta`` remembers: 1 / (1 - beta).

    beta ** (1 / (1 - beta)) is about 1/e: values older than the window weigh
    less than about a third of the newest one's weight.
    """
    _check_beta(beta)
    return 1.0 / (1.0 - beta)


def ewma_weights(beta, t):
    """The weight of each theta_k, k = 1..t, in v_t (with v_0 = 0): (1 - beta) * beta ** (t - k).

    Returns an array of shape (t,); entry k - 1 is the weight of theta_k. The
    weights add up to 1 - beta ** t, which is what bias correction divides by.
    """
    _check_beta(beta)
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 1:
        raise ValueError(f"t: expected a whole number >= 1, got {t!r}")
    k = np.arange(1, t + 1)
    return (1.0 - beta) * beta ** (t - k).astype(np.float64)


def window_span(beta, t):
    """The stretch of steps ``(start, t)`` that the effective window covers at step t, cut at 0."""
    return max(t - effective_window(beta), 0.0), float(t)


class Curves(NamedTuple):
    """Both averages of one series, shape (T,) each: v_t and v_t / (1 - beta^t), t = 1..T."""

    raw: np.ndarray
    corrected: np.ndarray


def explorer_curves(ewma, theta, beta):
    """Call the student's ``ewma`` for both curves and check what comes back.

    theta: (T,) series. Raises ValueError saying what is wrong when a result is
    not a finite array of shape (T,); exceptions raised by ``ewma`` itself
    (e.g. NotImplementedError) pass through.
    """
    theta = np.asarray(theta, dtype=np.float64)
    curves = []
    for correction in (False, True):
        call = f"ewma(theta, {beta:g}, bias_correction={correction})"
        # A copy per call: an ewma that works in place must not change the data shown.
        got = ewma(theta.copy(), beta, bias_correction=correction)
        if not isinstance(got, np.ndarray):
            raise ValueError(f"{call} returned {type(got).__name__}, expected a NumPy array")
        if got.shape != theta.shape:
            raise ValueError(f"{call} returned shape {got.shape}, expected {theta.shape} (one v_t per theta_t)")
        if not np.all(np.isfinite(got)):
            raise ValueError(f"{call} returned NaN or inf values (a division by 1 - beta**0 = 0?)")
        curves.append(got.astype(np.float64))
    return Curves(*curves)


def _series(theta):
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1 or theta.size < 2:
        raise ValueError(f"theta: expected a 1-D series of at least 2 values, got shape {theta.shape}")
    if not np.all(np.isfinite(theta)):
        raise ValueError("theta: expected finite values, got NaN or inf")
    return theta


class EwmaExplorer:
    """A noisy series, its moving average up to step t, and the weights behind it.

    ewma: the student's ``ewma(theta, beta, bias_correction=False)``.
    theta: (T,) the series. Controls (ipywidgets, each with a ``description``):
    ``beta`` ("β", a SelectionSlider over ``betas``), ``bias_correction``
    ("bias correction", a Checkbox), ``t`` ("t", an IntSlider) driven by
    ``play`` (a Play button, linked in the browser with ``jslink``).
    ``fig`` and ``lines`` (dict of the Line2D artists: "data", "ewma",
    "uncorrected", "now", "weights") are what gets redrawn; ``message`` (an HTML
    widget) says what to fix when ``ewma`` cannot be drawn. Display the object
    (or ``explorer.widget``, whose DOM class is "dl-ewma-explorer").
    """

    def __init__(self, ewma: Callable, theta, *, betas=BETAS, beta=0.9, xlabel="t", ylabel="θ_t",
                 title="Exponentially weighted average"):
        if not callable(ewma):
            raise ValueError(f"ewma: expected your function ewma(theta, beta, bias_correction=False), "
                             f"got {type(ewma).__name__}")
        self.theta = _series(theta)
        betas = tuple(float(b) for b in betas)
        for b in betas:
            _check_beta(b)
        if beta not in betas:
            raise ValueError(f"beta: expected one of betas {betas}, got {beta!r}")
        self.ewma_fn = ewma
        self.title = title
        self._cache: dict[float, Curves | str] = {}
        T = self.theta.size

        self.beta = widgets.SelectionSlider(options=[(f"{b:g}", b) for b in betas], value=beta, description="β",
                                            continuous_update=True)
        self.bias_correction = widgets.Checkbox(value=False, description="bias correction")
        self.t = widgets.IntSlider(value=T, min=1, max=T, description="t", continuous_update=True)
        self.play = widgets.Play(value=T, min=1, max=T, step=1, interval=60, description="t")
        # jslink runs in the browser: the Play button moves the slider even while the kernel is busy.
        self._link = widgets.jslink((self.play, "value"), (self.t, "value"))
        self.message = widgets.HTML(value="")

        self._build_figure(xlabel, ylabel)
        for control in (self.beta, self.bias_correction, self.t):
            control.observe(self._on_change, names="value")

        canvas = self.fig.canvas
        if isinstance(canvas, widgets.DOMWidget):  # ipympl: the figure itself is a widget
            canvas.header_visible = False
            canvas.footer_visible = False
            canvas.resizable = False
            canvas.toolbar_position = "right"  # on the left, shown on hover, it covered the y-axis label
            view = canvas
        else:
            view = widgets.HTML("<i>This figure is live only with the ipympl backend: run "
                                "<code>%matplotlib widget</code> before building the explorer.</i>")
        self.widget = widgets.VBox([
            widgets.HBox([self.play, self.t]),
            widgets.HBox([self.beta, self.bias_correction]),
            self.message,
            view,
        ]).add_class("dl-ewma-explorer")
        self.update()

    # ------------------------------------------------------------ drawing

    def _build_figure(self, xlabel, ylabel):
        theta, T = self.theta, self.theta.size
        steps = np.arange(1, T + 1)
        with plt.ioff():  # shown inside self.widget, never on its own
            fig, (ax, ax_w) = plt.subplots(2, 1, figsize=(9, 5.6), sharex=True, height_ratios=[3, 1.4])
        self.fig, self.ax, self.ax_weights = fig, ax, ax_w
        self.lines = {
            "data": ax.plot(steps, theta, ".", color=PALETTE[6], alpha=0.35, markersize=4, label="θ_t (data)")[0],
            "uncorrected": ax.plot(_EMPTY, _EMPTY, "--", color=PALETTE[0], linewidth=1.2, alpha=0.7,
                                   label="v_t without correction")[0],
            "ewma": ax.plot(_EMPTY, _EMPTY, color=PALETTE[0], linewidth=2.2, label="v_t")[0],
            "now": ax.plot(_EMPTY, _EMPTY, "o", color=PALETTE[3], markersize=7, label="step t")[0],
            "weights": ax_w.plot(_EMPTY, _EMPTY, color=PALETTE[2], linewidth=1.8, drawstyle="steps-mid")[0],
        }
        self.windows = [a.axvspan(0, 1, color=PALETTE[1], alpha=0.18, linewidth=0) for a in (ax, ax_w)]
        self.windows[0].set_label("window 1/(1-β)")
        low, high = min(0.0, theta.min()), max(0.0, theta.max())
        pad = 0.06 * (high - low or 1.0)
        # The title is set by update(); one of full length now lets tight_layout leave room for it.
        ax.set(xlim=(0, T + 1), ylim=(low - pad, high + pad), ylabel=ylabel, title=self.title + ": β, window")
        self.legend = ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
        self._ewma_entry = ax.get_legend_handles_labels()[1].index("v_t")  # relabelled by update()
        self.status_text = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", fontsize="large",
                                   color=PALETTE[3], bbox={"facecolor": "white", "edgecolor": PALETTE[3]})
        ax_w.set(xlabel=xlabel, ylabel="weight of θ_k in v_t")
        self.weights_text = ax_w.set_title("weights (1-β)·β^(t-k) add up to 1 - β^t", loc="left", fontsize="small")
        fig.tight_layout()
        # What t moves; everything else is fixed by beta and the correction box (the Blitter's key).
        moving = [self.lines[name] for name in ("uncorrected", "ewma", "now", "weights")]
        self.blitter = Blitter(fig, moving + self.windows + [self.weights_text, self.status_text])

    def _curves(self, beta):
        """Curves for ``beta`` (cached: playing t does not call ewma again), or a message string."""
        if beta not in self._cache:
            try:
                self._cache[beta] = explorer_curves(self.ewma_fn, self.theta, beta)
            except NotImplementedError:
                self._cache[beta] = NOT_IMPLEMENTED
            except Exception as error:  # the student's code: say what went wrong, keep the widget alive
                self._cache[beta] = f"ewma failed: {type(error).__name__}: {error}"
        return self._cache[beta]

    def _on_change(self, change):
        self.update()

    def update(self):
        """Redraw every artist for the current beta, bias correction and t."""
        beta, t, corrected = self.beta.value, self.t.value, self.bias_correction.value
        steps = np.arange(1, t + 1)
        window = effective_window(beta)
        start, end = window_span(beta, t)
        for patch in self.windows:
            patch.set_x(start)
            patch.set_width(end - start)
        weights = ewma_weights(beta, t)
        self.lines["weights"].set_data(steps, weights)
        self.ax_weights.set_ylim(0, 1.15 * (1 - beta))
        self.weights_text.set_text(f"at t = {t}, the weights (1-β)·β^(t-k) add up to 1 - β^t = {1 - beta ** t:.3f}"
                                   + ("  → v_t is divided by it" if corrected else ""))
        # Without t, the title belongs to the background of this beta: a step of t draws less text.
        self.ax.set_title(f"{self.title}: β = {beta:g}, window 1/(1-β) = {window:g} steps")

        curves = self._curves(beta)
        if isinstance(curves, str):
            self.message.value = f"<b>{_escape(curves)}</b>"
            self.status_text.set_text(curves if curves == NOT_IMPLEMENTED else "ewma failed: see the message above")
            self.status_text.set_visible(True)
            for name in ("ewma", "uncorrected", "now"):
                self.lines[name].set_data(_EMPTY, _EMPTY)
        else:
            self.message.value = ""
            self.status_text.set_visible(False)
            shown = curves.corrected if corrected else curves.raw
            self.lines["ewma"].set_data(steps, shown[:t])
            # With correction on, the uncorrected curve stays faintly visible for comparison.
            self.lines["uncorrected"].set_data(*((steps, curves.raw[:t]) if corrected else (_EMPTY, _EMPTY)))
            self.lines["now"].set_data([t], [shown[t - 1]])
        label = "v_t / (1 - β^t)" if corrected else "v_t"
        self.lines["ewma"].set_label(label)
        self.legend.get_texts()[self._ewma_entry].set_text(label)
        self.blitter.update(key=(beta, corrected))

    # ------------------------------------------------------------ display

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self):
        """Close the figure and the widgets (e.g. at the end of a test)."""
        self.blitter.disconnect()
        plt.close(self.fig)
        self.widget.close()
        for control in (self.beta, self.bias_correction, self.t, self.play, self.message):
            control.close()


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
