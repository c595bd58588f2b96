"""Optimizer-path explorer: GD, momentum, RMSprop and Adam on 2-D cost surfaces, driven
by the student's own update functions.

Two layers, kept apart:

* pure math: :func:`optimizer_path` runs one optimizer for a few hundred steps
  on a ``dlutils.surfaces.Surface`` and returns a :class:`Path` (points,
  costs, where it diverged, or the error the student's function raised);
* drawing: :class:`OptimizerExplorer`, an ipywidgets + matplotlib widget. The
  figure is built once, each surface's contours are drawn once, and every
  control change only recomputes the paths that depend on it and moves
  existing lines (``set_data``). In the browser (ipympl) a move is blitted
  (``dlutils.blit.Blitter``): the contours, ticks and labels stay a cached
  background and only the paths, markers, titles and notes are drawn again.

The two parameters (w1, w2) are handed to the student's functions in the
course's layout, ``{"W1": [[w1]], "b1": [[w2]]}`` with gradients
``{"dW1": [[dJ/dw1]], "db1": [[dJ/dw2]]}``, so an update that forgets the
biases visibly moves along w1 only.
"""

import io
import textwrap
from typing import NamedTuple

import numpy as np

from dlutils.blit import Blitter
from dlutils.plotting import PALETTE
from dlutils.surfaces import SURFACES, get_surface

OPTIMIZERS = ("GD", "momentum", "RMSprop", "Adam")

# The student's functions each optimizer needs: (initializer or None, update).
FUNCTIONS = {
    "GD": (None, "update_parameters_gd"),
    "momentum": ("initialize_velocity", "update_parameters_momentum"),
    "RMSprop": ("initialize_rmsprop", "update_parameters_rmsprop"),
    "Adam": ("initialize_adam", "update_parameters_adam"),
}
FUNCTION_NAMES = tuple(name for pair in FUNCTIONS.values() for name in pair if name)

EPSILON = 1e-8
# A path is declared diverged when a coordinate leaves this box or is not
# finite: far outside every plotted surface, still far from float overflow.
BOUND = 1e6


class Path(NamedTuple):
    """One optimizer's trajectory.

    points: (k + 1, 2) the finite points w_0 .. w_k, w_0 the start; costs: (k + 1,)
    the cost at each. diverged_at: the step whose point left the finite box
    (None if none did); error: why the student's function could not run (None if it ran).
    """

    points: np.ndarray
    costs: np.ndarray
    diverged_at: int | None = None
    error: str | None = None


class _StudentError(Exception):
    """A student's function raised or returned something unusable; the message says which and what."""


def _as_parameters(w):
    return {"W1": np.array([[w[0]]]), "b1": np.array([[w[1]]])}


def _as_grads(g):
    return {"dW1": np.array([[g[0]]]), "db1": np.array([[g[1]]])}


def _point(parameters, who):
    """(w1, w2) from a returned parameters dict, or _StudentError saying what came back."""
    if not isinstance(parameters, dict):
        raise _StudentError(f"{who} returned {type(parameters).__name__} as parameters; "
                            "expected the dict {'W1': ..., 'b1': ...}")
    try:
        w1, w2 = (np.asarray(parameters[key], dtype=float) for key in ("W1", "b1"))
    except KeyError as err:
        raise _StudentError(f"{who} returned parameters without key {err}; expected keys 'W1' and 'b1'") from None
    except (TypeError, ValueError):
        raise _StudentError(f"{who} returned parameters that are not numeric arrays") from None
    if w1.size != 1 or w2.size != 1:
        raise _StudentError(f"{who} returned W1 of shape {w1.shape} and b1 of shape {w2.shape}; both should be (1, 1)")
    return float(w1.reshape(())), float(w2.reshape(()))


def _unpack(result, n, who, names):
    if n == 1:
        return (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"a {type(result).__name__}" + (f" of {len(result)} items" if isinstance(result, (tuple, list)) else "")
        raise _StudentError(f"{who} should return ({', '.join(names)}), got {got}")
    return tuple(result)


def _call(functions, name, *args):
    """Call the student's function ``name``; any exception becomes a _StudentError naming it."""
    fn = functions.get(name)
    if fn is None:
        raise _StudentError(f"{name} is not written yet: write it above, run its cell, then run this cell again")
    try:
        return fn(*args)
    except NotImplementedError:
        raise _StudentError(f"{name} is not implemented yet (it raises NotImplementedError): "
                            "write it above, run its cell, then run this cell again") from None
    except Exception as err:  # a student's bug: report it in the figure instead of a traceback
        raise _StudentError(f"{name} raised {type(err).__name__}: {err}") from None


def _initial_state(name, functions, parameters):
    init, _ = FUNCTIONS[name]
    if init is None:
        return None
    if name == "Adam":
        return _unpack(_call(functions, init, parameters), 2, init, ("v", "s"))
    return _call(functions, init, parameters)


def _step(name, functions, parameters, grads, state, t, learning_rate, beta1, beta2):
    _, update = FUNCTIONS[name]
    if name == "GD":
        (parameters,) = _unpack(_call(functions, update, parameters, grads, learning_rate), 1, update, ())
        return parameters, None
    if name == "momentum":
        return _unpack(_call(functions, update, parameters, grads, state, beta1, learning_rate), 2, update,
                       ("parameters", "v"))
    if name == "RMSprop":
        return _unpack(_call(functions, update, parameters, grads, state, beta2, learning_rate, EPSILON), 2,
                       update, ("parameters", "s"))
    v, s = state
    parameters, v, s = _unpack(_call(functions, update, parameters, grads, v, s, t, learning_rate, beta1, beta2,
                                     EPSILON), 3, update, ("parameters", "v", "s"))
    return parameters, (v, s)


def optimizer_path(name, functions, surface, start, num_steps, *, learning_rate, beta1=0.9, beta2=0.999):
    """Run optimizer ``name`` (one of ``OPTIMIZERS``) for ``num_steps`` updates on ``surface``.

    functions: dict name -> the student's function (see ``FUNCTIONS``); surface:
    a ``Surface`` or its name; start: (w1, w2). beta1 is momentum's beta and
    Adam's beta1, beta2 is RMSprop's beta and Adam's beta2; t counts updates
    from 1. Pure: nothing is drawn. Returns a ``Path``; a function that raises
    or returns something unusable gives ``Path(error=message)`` with the start only.
    """
    if name not in FUNCTIONS:
        raise ValueError(f"name: expected one of {', '.join(map(repr, OPTIMIZERS))}, got {name!r}")
    surface = get_surface(surface) if isinstance(surface, str) else surface
    w = (float(start[0]), float(start[1]))
    points, costs = [w], [float(surface.cost(*w))]
    diverged_at, error = None, None
    # Overflow on a diverging path is expected and reported as "diverged", not as warnings.
    with np.errstate(all="ignore"):
        try:
            parameters = _as_parameters(w)
            state = _initial_state(name, functions, parameters)
            for t in range(1, num_steps + 1):
                grads = _as_grads(surface.gradient(*w))
                parameters, state = _step(name, functions, parameters, grads, state, t, learning_rate, beta1, beta2)
                w = _point(parameters, FUNCTIONS[name][1])
                cost = float(surface.cost(*w))
                if not (np.isfinite(w).all() and np.isfinite(cost) and max(abs(w[0]), abs(w[1])) <= BOUND):
                    diverged_at = t
                    break
                points.append(w)
                costs.append(cost)
        except _StudentError as err:
            error = str(err)
            points, costs = points[:1], costs[:1]
    return Path(np.array(points), np.array(costs), diverged_at, error)


def all_paths(functions, surface, start, num_steps, *, learning_rate, beta1=0.9, beta2=0.999):
    """``optimizer_path`` for every optimizer: dict name -> Path, in the order of ``OPTIMIZERS``."""
    return {name: optimizer_path(name, functions, surface, start, num_steps, learning_rate=learning_rate,
                                 beta1=beta1, beta2=beta2) for name in OPTIMIZERS}


# The controls each optimizer's path depends on, besides surface, start and learning rate.
USES = {"GD": (), "momentum": ("beta1",), "RMSprop": ("beta2",), "Adam": ("beta1", "beta2")}


def describe(name, path, step):
    """The one-line status of an optimizer's panel at ``step``: cost, divergence or error."""
    if path.error is not None:
        return f"{name}: not running"
    k = min(step, len(path.points) - 1)
    if path.diverged_at is not None and step >= path.diverged_at:
        return f"{name}: diverged at step {path.diverged_at}"
    return f"{name}: step {k}, cost {path.costs[k]:.3g}"


# ------------------------------------------------------------------ the widget

_GRID = 160  # contour grid resolution: drawn once per surface


class OptimizerExplorer:
    """GD, momentum, RMSprop and Adam paths side by side on a chosen 2-D cost surface.

    Pass the student's functions by their contract names (``FUNCTION_NAMES``), e.g.
    ``OptimizerExplorer(**progress.available(*FUNCTION_NAMES))``: a function left out
    (not written yet) blanks only the panels that need it, which say so.
    Controls (attributes): ``surface`` (Dropdown "surface"), ``learning_rate``
    (FloatLogSlider "learning rate"), ``beta1`` (FloatSlider "β₁ (momentum)"),
    ``beta2`` (SelectionSlider "β₂ (RMSprop)"), ``play`` (Play "step") linked to
    ``step`` (IntSlider "at step"), ``reset`` (Button "reset start"). Clicking
    in a panel moves the start point. ``costs`` (HTML above the figure) shows each
    optimizer's step and cost (``describe``); the panels are titled by optimizer. State: ``fig``, ``axes``/``lines``/
    ``markers`` (dict per optimizer), ``paths`` (dict of ``Path``),
    ``start``, ``message`` (HTML with divergences and errors) and
    ``widget``, the root box (CSS class ``dl-optimizer-explorer``).
    """

    CSS_CLASS = "dl-optimizer-explorer"

    def __init__(self, *, surface="elongated bowl", num_steps=200, **functions):
        import ipywidgets as widgets
        import matplotlib.pyplot as plt

        unknown = sorted(set(functions) - set(FUNCTION_NAMES))
        if unknown:
            raise ValueError(f"unexpected argument(s) {', '.join(unknown)}; "
                             f"the explorer takes {', '.join(FUNCTION_NAMES)}")
        for name, fn in functions.items():
            if not callable(fn):
                raise ValueError(f"{name}: expected your function, got {type(fn).__name__}")
        if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) or num_steps < 1:
            raise ValueError(f"num_steps: expected a positive integer, got {num_steps!r}")
        first = get_surface(surface)

        self.functions = dict(functions)
        self.num_steps = int(num_steps)
        self.start = first.start
        self.paths = {}
        self.background_draws = 0  # contour drawings so far: one per surface shown

        self.surface = widgets.Dropdown(options=list(SURFACES), value=first.name, description="surface")
        self.learning_rate = widgets.FloatLogSlider(value=first.learning_rate, base=10, min=-3, max=0.5, step=0.05,
                                                    description="learning rate", readout_format=".3g",
                                                    continuous_update=True)
        self.beta1 = widgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01, description="β₁ (momentum)")
        self.beta2 = widgets.SelectionSlider(options=[0.5, 0.9, 0.99, 0.999, 0.9999], value=0.999,
                                             description="β₂ (RMSprop)")
        self.play = widgets.Play(value=self.num_steps, min=0, max=self.num_steps, step=1, interval=40,
                                 description="step")
        self.step = widgets.IntSlider(value=self.num_steps, min=0, max=self.num_steps, description="at step")
        self.link = widgets.jslink((self.play, "value"), (self.step, "value"))
        self.reset = widgets.Button(description="reset start", tooltip="start from the surface's own start point")
        self.message = widgets.HTML(description="status")
        # Each panel's step and cost: HTML, not matplotlib text, which would cost a
        # text render per panel on every slider move.
        self.costs = widgets.HTML()
        for control in (self.surface, self.learning_rate, self.beta1, self.beta2, self.step):
            control.style.description_width = "initial"

        # ioff: the canvas is placed inside the widget below, not shown a second time by pyplot.
        with plt.ioff():
            self.fig, grid = plt.subplots(2, 2, figsize=(8.5, 6.4), sharex=True, sharey=True)
        self.axes = dict(zip(OPTIMIZERS, grid.ravel()))
        self.lines, self.markers, self.notes = {}, {}, {}
        self._start_markers, self._minima, self._contours = [], [], []
        for color, (name, ax) in zip(PALETTE, self.axes.items()):
            (self.lines[name],) = ax.plot([], [], color=color, linewidth=1.8, marker=".", markersize=3, zorder=3)
            (self.markers[name],) = ax.plot([], [], "o", color=color, markeredgecolor="black", markersize=8, zorder=4)
            (start,) = ax.plot([], [], "X", color="black", markersize=9, zorder=5, label="start")
            (minima,) = ax.plot([], [], "*", color=PALETTE[7], markeredgecolor="black", markersize=13, zorder=2,
                                label="minimum")
            self._start_markers.append(start)
            self._minima.append(minima)
            self.notes[name] = ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", wrap=True,
                                       fontsize="small", zorder=6,
                                       bbox={"facecolor": "white", "alpha": 0.9, "edgecolor": PALETTE[3]})
            ax.set_title(name, fontsize="medium")
            ax.grid(False)
            ax.locator_params(nbins=5)
        for ax in grid[1]:
            ax.set_xlabel("w1 (W1)")
        for ax in grid[:, 0]:
            ax.set_ylabel("w2 (b1)")
        self.axes["GD"].legend(loc="lower right", fontsize="small", framealpha=0.9)
        self._canvas_is_widget = isinstance(self.fig.canvas, widgets.DOMWidget)
        if self._canvas_is_widget:
            for attr, value in (("header_visible", False), ("footer_visible", False), ("resizable", False),
                                ("toolbar_position", "right")):
                if hasattr(self.fig.canvas, attr):
                    setattr(self.fig.canvas, attr, value)
            view = self.fig.canvas
            self._image = None
        else:
            # Without ipympl (%matplotlib widget) the figure is re-rendered as a PNG image instead.
            self._image = widgets.Image(format="png")
            view = widgets.VBox([widgets.HTML("Static figure: run <code>%matplotlib widget</code> in this cell "
                                              "for a live one (clicks need it)."), self._image])
        self._click = self.fig.canvas.mpl_connect("button_press_event", self._on_click)
        # What changes on a slider move; everything else is the blitted background.
        moving = [*self.lines.values(), *self.markers.values(), *self._start_markers, *self.notes.values()]
        self.blitter = Blitter(self.fig, moving)
        self._path_keys = {}  # name -> the inputs its current path was computed from

        self.widget = widgets.VBox([
            widgets.HBox([self.surface, self.learning_rate, self.reset]),
            widgets.HBox([self.beta1, self.beta2]),
            widgets.HBox([self.play, self.step]),
            self.costs,
            view,
            self.message,
        ])
        self.widget.add_class(self.CSS_CLASS)

        self._draw_background()
        self._recompute()
        self.surface.observe(self._on_surface, names="value")
        for control in (self.learning_rate, self.beta1, self.beta2):
            control.observe(self._on_hyperparameter, names="value")
        self.step.observe(self._on_step, names="value")
        self.reset.on_click(self._on_reset)

    # ---------------------------------------------------------- display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self):
        """Close the figure and the widgets (e.g. at the end of a test)."""
        import matplotlib.pyplot as plt

        self.fig.canvas.mpl_disconnect(self._click)
        self.blitter.disconnect()
        plt.close(self.fig)
        for control in (self.surface, self.learning_rate, self.beta1, self.beta2, self.play, self.step, self.link,
                        self.reset, self.message, self.costs, self.widget):
            control.close()

    # ---------------------------------------------------------- drawing
    def _draw_background(self):
        """Contours, minima and limits of the current surface: once per surface, never on a slider move."""
        surface = get_surface(self.surface.value)
        for contour in self._contours:
            contour.remove()
        xs = np.linspace(*surface.xlim, _GRID)
        ys = np.linspace(*surface.ylim, _GRID)
        W1, W2 = np.meshgrid(xs, ys)
        Z = surface.cost(W1, W2)
        self._contours = [ax.contour(W1, W2, Z, levels=surface.levels, colors="0.55", linewidths=0.7, zorder=1)
                          for ax in self.axes.values()]
        minima = np.array(surface.minima)
        for marker, ax in zip(self._minima, self.axes.values()):
            marker.set_data(minima[:, 0], minima[:, 1])
            ax.set(xlim=surface.xlim, ylim=surface.ylim)
        self.fig.suptitle(f"{surface.name}: {surface.about}  Click a panel to move the start.", fontsize="medium")
        # Fixed margins, set once: a layout engine would redo the layout on every
        # redraw, the slowest part of a slider move.
        if self.background_draws == 0:
            self.fig.subplots_adjust(left=0.08, right=0.98, bottom=0.08, top=0.9, hspace=0.22, wspace=0.06)
        self.background_draws += 1
        self.blitter.invalidate()

    def _recompute(self):
        """New paths for the current controls (the student's functions run here), then redraw the lines.

        Only the optimizers whose inputs changed run again (moving β₂ leaves GD's
        and momentum's paths as they are).
        """
        controls = {"beta1": self.beta1.value, "beta2": self.beta2.value}
        paths = {}
        for name in OPTIMIZERS:
            key = (self.surface.value, self.start, self.learning_rate.value, *(controls[c] for c in USES[name]))
            if self._path_keys.get(name) != key or name not in self.paths:
                self.paths[name] = optimizer_path(name, self.functions, self.surface.value, self.start,
                                                  self.num_steps, learning_rate=self.learning_rate.value,
                                                  beta1=self.beta1.value, beta2=self.beta2.value)
                self._path_keys[name] = key
            paths[name] = self.paths[name]
        self.paths = paths
        for marker in self._start_markers:
            marker.set_data([self.start[0]], [self.start[1]])
        notes = []
        for name, path in self.paths.items():
            # Wrapped to fit inside its panel; the full message is in the status line below.
            self.notes[name].set_text(textwrap.fill(path.error or "", 34))
            self.notes[name].set_visible(path.error is not None)
            if path.error is not None:
                notes.append(f"<b>{name}</b>: {_escape(path.error)}")
            elif path.diverged_at is not None:
                notes.append(f"<b>{name}</b> diverged at step {path.diverged_at}: "
                             "its steps grew without bound (the drawn path stops there); try a smaller learning rate")
        self.message.value = "<br>".join(notes) if notes else "All four optimizers ran."
        self._update_lines()

    def _update_lines(self):
        k = self.step.value
        for name, path in self.paths.items():
            shown = path.points[: k + 1]
            self.lines[name].set_data(shown[:, 0], shown[:, 1])
            self.markers[name].set_data(shown[-1:, 0], shown[-1:, 1])
        self.costs.value = _costs_html({name: describe(name, path, k) for name, path in self.paths.items()})
        self._refresh()

    def _refresh(self):
        self.blitter.update()
        if self._image is not None:
            buffer = io.BytesIO()
            self.fig.savefig(buffer, format="png")
            self._image.value = buffer.getvalue()

    # ---------------------------------------------------------- events
    def _on_surface(self, change):
        surface = get_surface(change["new"])
        self.start = surface.start
        self._draw_background()
        # Each surface comes with a learning rate at which GD converges; setting
        # it recomputes once through _on_hyperparameter, else recompute here.
        if self.learning_rate.value != surface.learning_rate:
            self.learning_rate.value = surface.learning_rate
        else:
            self._recompute()

    def _on_hyperparameter(self, change):
        self._recompute()

    def _on_step(self, change):
        self._update_lines()

    def _on_reset(self, button=None):
        self.start = get_surface(self.surface.value).start
        self._recompute()

    def _on_click(self, event):
        toolbar = getattr(self.fig.canvas, "toolbar", None)
        if getattr(toolbar, "mode", ""):  # zooming or panning: the click is not meant for us
            return
        if event.button != 1 or event.inaxes not in self.axes.values() or event.xdata is None:
            return
        self.start = (float(event.xdata), float(event.ydata))
        self._recompute()


def _costs_html(statuses):
    """Two columns laid out like the panels: a square in each optimizer's line colour, then its
    status (black text stays readable)."""
    cells = (f'<span style="color:{color}">&#9632;</span>&nbsp;{_escape(status)}'
             for color, status in zip(PALETTE, statuses.values()))
    return ('<div style="display:grid; grid-template-columns:1fr 1fr; gap:0 1.5em; max-width:680px; '
            'line-height:1.4">' + "".join(f"<span>{c}</span>" for c in cells) + "</div>")


def _escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
