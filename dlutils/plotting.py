"""Course figures: one colour-blind-safe palette, small PNGs, alt text on every figure.

Plot helpers draw on an Axes and return it; only ``show`` displays, so a
notebook cell reads: draw, then ``show(fig, "what the figure shows")``.
"""

import base64
import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from IPython.display import display
from matplotlib.colors import LinearSegmentedColormap

# Okabe & Ito (2008), ordered so the first two (used for classes 0 and 1)
# differ in hue and in lightness; yellow, weak on white, comes last.
PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
]


def use_course_style():
    """Set matplotlib defaults for the course: palette, (6, 4) figures at 80 dpi, light grid."""
    mpl.rcParams.update(
        {
            "axes.prop_cycle": cycler(color=PALETTE),
            "figure.figsize": (6, 4),
            "figure.dpi": 80,  # small PNGs keep the notebooks light
            "savefig.dpi": 80,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": "medium",
            "image.cmap": "cividis",  # perceptually uniform and colour-blind safe
        }
    )


def show(fig, alt):
    """Display ``fig`` as a PNG with alt text, then close it.

    The output carries the PNG with metadata {"image/png": {"alt": alt}} and the
    text "[figure] <alt>", which screen readers and text-only outputs show.
    """
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("alt: expected a sentence saying what the figure shows, got an empty text")
    buffer = io.BytesIO()
    # No "Software" stamp: the PNG then depends only on what is drawn.
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    # Closing stops the inline backend from drawing the same figure a second time.
    plt.close(fig)
    data = {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": "[figure] " + alt}
    display(data, raw=True, metadata={"image/png": {"alt": alt}})


def _axes(ax):
    return plt.subplots()[1] if ax is None else ax


def sequential_cmap(color=PALETTE[0]):
    """A colormap from white to one palette colour, for heat maps of one quantity."""
    return LinearSegmentedColormap.from_list("course_" + color, ["#FFFFFF", color])


def plot_decision_boundary(predict_fn, X, Y, ax=None, title=None, resolution=200, class_names=("class 0", "class 1")):
    """Colour the plane by the predicted class and draw the examples on top.

    predict_fn maps points (2, k) to labels (1, k); X: (2, m); Y: (1, m) labels 0/1.
    Returns the Axes.
    """
    X, Y = np.asarray(X, dtype=float), np.asarray(Y).reshape(-1)
    if X.ndim != 2 or X.shape[0] != 2 or Y.shape[0] != X.shape[1]:
        raise ValueError(f"X, Y: expected shapes (2, m) and (1, m), got {X.shape} and {np.shape(Y)}")
    ax = _axes(ax)
    margin = 0.1 * (X.max(axis=1) - X.min(axis=1)) + 1e-9
    lo, hi = X.min(axis=1) - margin, X.max(axis=1) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.vstack([xx.ravel(), yy.ravel()])
    labels = np.asarray(predict_fn(grid))
    if labels.size != grid.shape[1]:
        raise ValueError(f"predict_fn: expected labels of shape (1, {grid.shape[1]}), got {labels.shape}")
    colors = PALETTE[:2]
    ax.contourf(xx, yy, labels.reshape(xx.shape), levels=[-0.5, 0.5, 1.5], colors=colors, alpha=0.25)
    for label, (color, marker) in enumerate(zip(colors, "os")):
        points = X[:, Y == label]
        ax.scatter(points[0], points[1], c=color, marker=marker, s=18, edgecolors="black", linewidths=0.4,
                   label=class_names[label])
    ax.set(xlabel="x1", ylabel="x2", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    ax.grid(False)
    ax.legend(loc="best", framealpha=0.9)
    if title:
        ax.set_title(title)
    return ax


def plot_costs(curves, ax=None, title=None, xlabel="epoch", ylabel="cost", log=False):
    """One line per run. curves: dict label -> (epochs, costs) or a ``TrainResult``.

    log=True uses a log scale on the cost axis. Returns the Axes.
    """
    ax = _axes(ax)
    for label, curve in curves.items():
        epochs, costs = (curve.epochs, curve.costs) if hasattr(curve, "costs") else curve
        ax.plot(epochs, costs, label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if log:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_layer_histograms(values_per_layer, axes=None, title=None, xlabel="value", bins=50, layers=None):
    """One small histogram per layer, in a row, each titled "layer l" with its std.

    values_per_layer: list of arrays (any shape), index 0 is layer 1 (e.g.
    ``layer_statistics(...).activations``), unless ``layers`` gives the layer
    number of each entry (to show a selection). Returns the array of Axes.
    """
    L = len(values_per_layer)
    if L == 0:
        raise ValueError("values_per_layer: expected at least one layer, got an empty list")
    layers = list(range(1, L + 1)) if layers is None else list(layers)
    if len(layers) != L:
        raise ValueError(f"layers: expected {L} layer numbers (one per array), got {len(layers)}")
    if axes is None:
        _, axes = plt.subplots(1, L, figsize=(min(2.2 * L, 12), 2.4), squeeze=False)
        axes = axes[0]
    axes = np.atleast_1d(axes)
    if len(axes) != L:
        raise ValueError(f"axes: expected {L} Axes (one per layer), got {len(axes)}")
    for l, ax, values in zip(layers, axes, values_per_layer):
        values = np.asarray(values, dtype=float).ravel()
        ax.hist(values, bins=bins, color=PALETTE[0])
        ax.set_title(f"layer {l}\nstd {values.std():.2g}", fontsize="small")
        ax.set_xlabel(xlabel, fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.set_yticks([])
    if title:
        axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes

