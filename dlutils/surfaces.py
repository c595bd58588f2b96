"""Two-parameter cost surfaces for watching optimizers move, each with its exact gradient.

A surface is a pure function ``cost(w1, w2)`` (scalars or arrays that
broadcast) with its gradient ``gradient(w1, w2) -> (dJ/dw1, dJ/dw2)`` next to
it, so a reader checks the calculus without scrolling. They are cheap enough
to draw as contours and to run a few hundred optimizer steps on in
milliseconds; ``SURFACES`` maps each name to its ``Surface``.
"""

from typing import Callable, NamedTuple

import numpy as np


class Surface(NamedTuple):
    """A cost surface J(w1, w2) and what a plot of it needs.

    cost(w1, w2) -> J; gradient(w1, w2) -> (dJ/dw1, dJ/dw2), both elementwise.
    xlim, ylim: the plotted box; start: a starting point that shows the
    surface's character; minima: its minimum points; learning_rate: a rate at
    which plain gradient descent converges from ``start``; levels: the cost
    values to draw contours at; about: one sentence.
    """

    name: str
    cost: Callable
    gradient: Callable
    xlim: tuple
    ylim: tuple
    start: tuple
    minima: tuple
    learning_rate: float
    levels: tuple
    about: str


# Elongated bowl: curvature 0.1 along w1 and 2 along w2 (condition number 20),
# so gradient descent zigzags across the narrow direction while it crawls
# along the long one, and diverges for learning rates above 2 / 2 = 1.
def bowl_cost(w1, w2):
    return 0.05 * w1**2 + w2**2


def bowl_gradient(w1, w2):
    return 0.1 * w1, 2.0 * w2


# Saddle: a minimum along w1, a maximum along w2 at the origin, and two minima
# at (0, ±1). Started just off the ridge w2 = 0, gradient descent slides into
# the saddle, where the gradient vanishes, and takes long to leave it.
def saddle_cost(w1, w2):
    return 0.5 * w1**2 + 0.25 * w2**4 - 0.5 * w2**2


def saddle_gradient(w1, w2):
    return 1.0 * w1, w2**3 - w2


# Plateau: a Gaussian well in a nearly flat plain. Far from the centre the
# gradient is tiny (about 3e-3 at the start), so steps proportional to it
# barely move; steps divided by the gradient's size (RMSprop, Adam) do not.
_PLATEAU_WIDTH = 1.0


def plateau_cost(w1, w2):
    return 1.0 - np.exp(-(w1**2 + w2**2) / (2 * _PLATEAU_WIDTH**2))


def plateau_gradient(w1, w2):
    g = np.exp(-(w1**2 + w2**2) / (2 * _PLATEAU_WIDTH**2)) / _PLATEAU_WIDTH**2
    return w1 * g, w2 * g


# Rosenbrock-like banana valley, (1 - w1)^2 + 5 (w2 - w1^2)^2 (the classic
# uses 100; 5 keeps a few hundred steps enough): a steep-walled curved valley
# whose floor descends gently towards the minimum at (1, 1).
_BANANA = 5.0


def rosenbrock_cost(w1, w2):
    return (1 - w1) ** 2 + _BANANA * (w2 - w1**2) ** 2


def rosenbrock_gradient(w1, w2):
    inner = w2 - w1**2
    return -2 * (1 - w1) - 4 * _BANANA * w1 * inner, 2 * _BANANA * inner


def _levels(values):
    return tuple(float(v) for v in np.round(values, 4))


SURFACES = {
    s.name: s
    for s in (
        Surface("elongated bowl", bowl_cost, bowl_gradient, (-5.0, 5.0), (-2.5, 2.5), (-4.5, 2.0), ((0.0, 0.0),),
                0.1, _levels(np.linspace(0.2, 2.6, 12) ** 2), "J = 0.05 w1² + w2²: steep across, shallow along."),
        Surface("saddle", saddle_cost, saddle_gradient, (-2.5, 2.5), (-1.6, 1.6), (-2.2, 0.01),
                ((0.0, -1.0), (0.0, 1.0)), 0.1, _levels(np.linspace(-0.2, 3.0, 17)),
                "J = w1²/2 + w2⁴/4 − w2²/2: a saddle at the origin between two minima."),
        # Contours only inside the well: the plain around it is drawn empty, as flat as it is.
        Surface("plateau", plateau_cost, plateau_gradient, (-3.5, 3.5), (-3.5, 3.5), (2.8, 2.4), ((0.0, 0.0),),
                0.1, _levels(np.linspace(0.1, 0.9, 9)), "J = 1 − exp(−(w1² + w2²)/2): a well in a nearly flat plain."),
        Surface("Rosenbrock-like", rosenbrock_cost, rosenbrock_gradient, (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.5),
                ((1.0, 1.0),), 0.02, _levels(np.geomspace(0.05, 50, 13)), "J = (1 − w1)² + 5 (w2 − w1²)²: a curved valley with steep walls."),
    )
}


def get_surface(name):
    """The ``Surface`` called ``name`` (one of ``SURFACES``); ValueError naming the choices otherwise."""
    if name not in SURFACES:
        listed = ", ".join(repr(n) for n in SURFACES)
        raise ValueError(f"surface: expected one of {listed}, got {name!r}")
    return SURFACES[name]
