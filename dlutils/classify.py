"""Multi-class classification around the student's own softmax (notebook 11_softmax).

What is here is plumbing, never an answer: the training loop takes the four
functions the student writes in 11 (``softmax``, ``one_hot``,
``cross_entropy_cost``, ``softmax_backward``) as hooks, so the demos come alive
as the exercises are done. Other notebooks that need a ready-made multi-class
output use :mod:`dlutils.multiclass`.

Course shapes: ``X`` is (n_x, m), one example per column; integer labels ``y``
are (m,) or (1, m) with values 0..C-1; scores ``Z`` and probabilities ``AL``
are (C, m); ``W{l}`` is (n_l, n_{l-1}), ``b{l}`` is (n_l, 1).

    spiral_classes          C interleaved spiral arms in 2-D: X (2, m), y (m,)
    cost_and_gradients      one forward and backward pass through [LINEAR -> ReLU] x (L-1) -> LINEAR -> softmax
    initialize, train       mini-batch gradient descent with the student's hooks -> train.TrainResult
    probabilities, predict  AL (C, m) and the most probable class (m,)
    confusion_matrix, most_confused, plot_confusion_matrix
    plot_decision_regions   the plane coloured by the predicted class, for C classes
    show_images             a grid of small images with titles
"""

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from dlutils import plotting
from dlutils._validate import as_2d_array, check_choice, check_positive_int, check_rng, check_shape
from dlutils.layers import ACTIVATIONS, linear_activation_backward, linear_activation_forward, linear_backward
from dlutils.layers import linear_forward
from dlutils.multiclass import labels_1d
from dlutils.train import TrainResult

HOOKS = ("softmax", "one_hot", "cross_entropy_cost", "softmax_backward")
_MARKERS = "os^vD<>p"


# --- data ---------------------------------------------------------------------


def spiral_classes(m=300, *, rng, C=3, turns=0.75, noise=0.25):
    """C interleaved spiral arms around the origin, one class per arm.

    Arm k is arm 0 turned by k / C of a full circle. turns: how far each arm
    winds; noise: Gaussian noise in units of half the gap between
    neighbouring arms. Points lie within radius about 1; classes get m // C
    examples each (the first m % C classes one more); columns are shuffled.
    Returns X (2, m) float64 and y (m,) int labels 0..C-1.
    """
    check_positive_int("C", C)
    if C < 2:
        raise ValueError(f"C: expected at least 2 classes, got {C}")
    check_positive_int("m", m)
    if m < C:
        raise ValueError(f"m: expected at least one example per class (m >= C = {C}), got {m}")
    check_rng("rng", rng)
    if not turns > 0:
        raise ValueError(f"turns: expected a number > 0, got {turns!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise: expected a number >= 0, got {noise!r}")
    sizes = [m // C + (k < m % C) for k in range(C)]
    y = np.repeat(np.arange(C), sizes)
    r = np.sqrt(rng.uniform(0.01, 1, m))  # sqrt spreads points evenly along the arm
    angle = 2 * np.pi * (turns * r + y / C)
    gap = r * 2 * np.pi / C  # arc length between neighbouring arms at radius r
    X = r * np.vstack([np.cos(angle), np.sin(angle)]) + noise * gap / 2 * rng.standard_normal((2, m))
    order = rng.permutation(m)
    return X[:, order], y[order].astype(np.int64)


# --- a softmax classifier built from the student's functions ----------------


def _hooks(hooks):
    unknown = sorted(set(hooks) - set(HOOKS))
    if unknown:
        raise ValueError(f"train: unexpected argument(s) {', '.join(unknown)}; the functions it takes are "
                         f"{', '.join(HOOKS)}")
    missing = [name for name in HOOKS if not callable(hooks.get(name))]
    if missing:
        raise ValueError(f"train: expected your functions {', '.join(HOOKS)}; missing or not callable: "
                         f"{', '.join(missing)}")
    return {name: hooks[name] for name in HOOKS if name != "one_hot"}, hooks["one_hot"]


def _expect_returned(name, got, shape):
    """A hook's result must be a finite-or-not array of ``shape``: say which function broke it."""
    if not isinstance(got, np.ndarray) or got.shape != shape:
        what = f"shape {got.shape}" if isinstance(got, np.ndarray) else type(got).__name__
        raise ValueError(f"{name}: returned {what}, expected an array of shape {shape} — run its check cell")


def probabilities(X, parameters, softmax, hidden_activation="relu"):
    """AL (C, m): the network's class probabilities for X (n_x, m), through the given ``softmax``."""
    AL, _ = _forward(as_2d_array("X", X, "(n_x, m)"), parameters, softmax, hidden_activation)
    return AL


def predict(X, parameters, hidden_activation="relu"):
    """The most probable class of each column of X (n_x, m), as a (m,) int array.

    Softmax keeps the order of the scores, so the largest score Z picks the
    class: no softmax is needed to predict.
    """
    X = as_2d_array("X", X, "(n_x, m)")
    L = len(parameters) // 2
    A = X
    for l in range(1, L):
        A, _ = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], hidden_activation)
    Z, _ = linear_forward(A, parameters[f"W{L}"], parameters[f"b{L}"])
    return Z.argmax(axis=0)


def _forward(X, parameters, softmax, hidden_activation):
    L = len(parameters) // 2
    A, caches = X, []
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], hidden_activation)
        caches.append(cache)
    Z, linear_cache = linear_forward(A, parameters[f"W{L}"], parameters[f"b{L}"])
    caches.append(linear_cache)
    AL = softmax(Z)
    _expect_returned("softmax", AL, Z.shape)
    return AL, caches


def cost_and_gradients(X, Y, parameters, *, softmax, cross_entropy_cost, softmax_backward,
                       hidden_activation="relu"):
    """Mean cross-entropy of the network on (X, Y) and its gradients.

    X: (n_x, m); Y: (C, m) one-hot; parameters {"W1", "b1", ..., "WL", "bL"}
    with W{L} of shape (C, n_{L-1}). Hidden layers use ``hidden_activation``
    ("relu", "tanh" or "sigmoid"), the output layer the given ``softmax``.
    ``softmax_backward(AL, Y)`` must return dZ = AL - Y (no 1/m): the 1/m of
    the mean is applied once, in dW and db (``layers.linear_backward``).
    Returns (cost as a float, grads {"dW1", "db1", ...}).
    """
    check_choice("hidden_activation", hidden_activation, tuple(ACTIVATIONS))
    L = len(parameters) // 2
    AL, caches = _forward(X, parameters, softmax, hidden_activation)
    cost = cross_entropy_cost(AL, Y)
    if np.ndim(cost) != 0 or not isinstance(cost, (int, float, np.number, np.ndarray)):
        raise ValueError(f"cross_entropy_cost: returned {type(cost).__name__} of shape {np.shape(cost)}, "
                         "expected a number — run its check cell")
    dZ = softmax_backward(AL, Y)
    _expect_returned("softmax_backward", dZ, AL.shape)
    grads = {}
    dA, grads[f"dW{L}"], grads[f"db{L}"] = linear_backward(dZ, caches[-1])
    for l in range(L - 1, 0, -1):
        dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_activation_backward(dA, caches[l - 1])
    return float(cost), {key: grads[key] for l in range(1, L + 1) for key in (f"dW{l}", f"db{l}")}


def initialize(layer_dims, rng, output_scale=0.01):
    """Starting parameters: hidden W{l} ~ N(0, 2 / n_{l-1}) (He), the output W{L} ~ N(0, output_scale²).

    Small output weights give scores near 0, so every class starts about
    equally likely and the first cost is about ln C: the usual sanity check.
    W{l}: (n_l, n_{l-1}); biases b{l}: zeros (n_l, 1).
    """
    check_rng("rng", rng)
    L = len(layer_dims) - 1
    parameters = {}
    for l in range(1, L + 1):
        scale = output_scale if l == L else np.sqrt(2 / layer_dims[l - 1])
        parameters[f"W{l}"] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * scale
        parameters[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return parameters


def train(X, y, layer_dims, *, rng, learning_rate=0.5, num_epochs=100, mini_batch_size=64,
          hidden_activation="relu", record_every=1, **hooks):
    """Train a softmax classifier with mini-batch gradient descent, using the student's functions.

    X: (n_x, m); y: (m,) or (1, m) integer labels 0..C-1; layer_dims
    [n_x, n_1, ..., C] (just [n_x, C] is softmax regression). hooks: the
    four functions of 11_softmax, passed by name: softmax, one_hot,
    cross_entropy_cost, softmax_backward. Weights start as ``initialize``
    makes them from ``rng``, which also shuffles the examples every epoch.
    The recorded cost of epoch e is the cost of the parameters at the start of
    that epoch on the whole training set, so ``costs[0]`` is the untrained
    cost (about ln C). Training stops, with a message, at a NaN/inf cost.
    Returns a ``train.TrainResult`` (parameters, costs, epochs, diverged_at).
    """
    hooks, one_hot = _hooks(hooks)
    X = as_2d_array("X", X, "(n_x, m)")
    layer_dims = [int(n) for n in layer_dims]
    if len(layer_dims) < 2 or layer_dims[0] != X.shape[0]:
        raise ValueError(f"layer_dims: expected [n_x={X.shape[0]}, ..., C] for X of shape {X.shape}, got {layer_dims}")
    C, m = layer_dims[-1], X.shape[1]
    y = labels_1d(y, C)
    check_shape("y", y, (m,), "one label per column of X")
    check_rng("rng", rng)
    for name, value in (("num_epochs", num_epochs), ("mini_batch_size", mini_batch_size),
                        ("record_every", record_every)):
        check_positive_int(name, value)
    Y = one_hot(y, C)
    _expect_returned("one_hot", Y, (C, m))

    parameters = initialize(layer_dims, rng)
    costs, epochs = [], []
    width = len(str(num_epochs))
    for epoch in range(num_epochs + 1):  # the extra pass records the cost of the trained parameters
        if epoch % record_every == 0 or epoch == num_epochs:
            cost, _ = cost_and_gradients(X, Y, parameters, hidden_activation=hidden_activation, **hooks)
            if not math.isfinite(cost):
                print(f"epoch {epoch:>{width}}/{num_epochs}  cost {cost}: training stopped because the cost is not "
                      "finite (check cross_entropy_cost with zero probabilities, or try a smaller learning_rate)")
                return TrainResult(parameters, np.array(costs), np.array(epochs, dtype=np.int64), epoch)
            costs.append(cost)
            epochs.append(epoch)
        if epoch == num_epochs:
            break
        order = rng.permutation(m)
        for start in range(0, m, mini_batch_size):
            batch = order[start:start + mini_batch_size]
            _, grads = cost_and_gradients(X[:, batch], Y[:, batch], parameters,
                                          hidden_activation=hidden_activation, **hooks)
            parameters = {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}
    return TrainResult(parameters, np.array(costs), np.array(epochs, dtype=np.int64))


# --- evaluation ---------------------------------------------------------------


def confusion_matrix(y_true, y_pred, C):
    """(C, C) int counts: entry [i, j] is the number of examples of class i predicted as j.

    y_true, y_pred: integer labels (m,) or (1, m) in 0..C-1.
    """
    check_positive_int("C", C)
    y_true, y_pred = labels_1d(y_true, C), labels_1d(y_pred, C)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_pred: expected {y_true.size} labels like y_true, got {y_pred.size}")
    return np.bincount(C * y_true + y_pred, minlength=C * C).reshape(C, C)


def most_confused(cm, k=3):
    """The k largest off-diagonal entries of a confusion matrix (C, C), largest first.

    Returns a list of (true class, predicted class, count) with count > 0;
    ties keep the order of the flattened matrix (row by row).
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm: expected a square (C, C) confusion matrix, got shape {cm.shape}")
    check_positive_int("k", k)
    off = cm * (1 - np.eye(cm.shape[0], dtype=cm.dtype))
    order = np.argsort(-off, axis=None, kind="stable")[:k]
    pairs = [(int(i), int(j), int(off[i, j])) for i, j in zip(*np.unravel_index(order, cm.shape))]
    return [pair for pair in pairs if pair[2] > 0]


def plot_confusion_matrix(cm, ax=None, title=None, class_names=None):
    """Draw a confusion matrix (C, C) as a heat map with its counts; rows true, columns predicted.

    The diagonal (correct predictions) is left white so the mistakes stand out;
    its counts are printed in bold. Returns the Axes.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm: expected a square (C, C) confusion matrix, got shape {cm.shape}")
    C = cm.shape[0]
    names = [str(k) for k in range(C)] if class_names is None else [str(n) for n in class_names]
    if len(names) != C:
        raise ValueError(f"class_names: expected {C} names, got {len(names)}")
    ax = plt.subplots(figsize=(5, 4.4))[1] if ax is None else ax
    errors = np.where(np.eye(C, dtype=bool), 0, cm)
    image = ax.imshow(errors, cmap=plotting.sequential_cmap(plotting.PALETTE[3]), vmin=0,
                      vmax=max(int(errors.max()), 1))
    for i in range(C):
        for j in range(C):
            if cm[i, j] or i == j:
                dark = errors[i, j] > 0.6 * max(errors.max(), 1)
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize="small",
                        fontweight="bold" if i == j else "normal", color="white" if dark else "black")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="misclassified examples",
                       ticks=MaxNLocator(integer=True))
    ax.set_xticks(range(C), names)
    ax.set_yticks(range(C), names)
    ax.set(xlabel="predicted class", ylabel="true class")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


# --- pictures -------------------------------------------------------------------


def plot_decision_regions(predict_fn, X, y, ax=None, title=None, resolution=200, class_names=None):
    """Colour the plane by the predicted class and draw the examples on top, for any C <= 8 classes.

    predict_fn maps points (2, k) to labels (k,) or (1, k) in 0..C-1; X: (2, m);
    y: (m,) or (1, m) labels. C is the number of class names, or max(y) + 1.
    Returns the Axes.
    """
    X = as_2d_array("X", X, "(2, m)")
    check_shape("X", X, (2, None), "decision regions are drawn for 2-D inputs")
    y = labels_1d(y)
    check_shape("y", y, (X.shape[1],), "one label per column of X")
    C = int(y.max()) + 1 if class_names is None else len(class_names)
    if not 2 <= C <= len(_MARKERS):
        raise ValueError(f"class_names: expected 2 to {len(_MARKERS)} classes, got {C}")
    names = [f"class {k}" for k in range(C)] if class_names is None else list(class_names)
    ax = plt.subplots()[1] if ax is None else ax
    margin = 0.1 * (X.max(axis=1) - X.min(axis=1)) + 1e-9
    lo, hi = X.min(axis=1) - margin, X.max(axis=1) + margin
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    labels = np.asarray(predict_fn(np.vstack([xx.ravel(), yy.ravel()])))
    if labels.size != xx.size:
        raise ValueError(f"predict_fn: expected {xx.size} labels for {xx.size} points, got shape {labels.shape}")
    colors = plotting.PALETTE[:C]
    ax.contourf(xx, yy, labels.reshape(xx.shape), levels=np.arange(C + 1) - 0.5, colors=colors, alpha=0.25)
    for k in range(C):
        points = X[:, y == k]
        ax.scatter(points[0], points[1], c=colors[k], marker=_MARKERS[k], s=16, edgecolors="black",
                   linewidths=0.4, label=names[k])
    ax.set(xlabel="x1", ylabel="x2", xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    ax.set_aspect("equal")
    ax.grid(False)
    ax.legend(loc="upper right", fontsize="small", framealpha=0.9)
    if title:
        ax.set_title(title)
    return ax


def show_images(images, titles, image_shape=(8, 8), ncols=8, size=1.3):
    """A figure with one small grey-scale image per column of ``images``.

    images: (rows * cols, k), one image per column stored row by row (as
    ``data.digits`` gives them); titles: k strings, one under each image.
    Returns the Figure (show it with ``plotting.show``).
    """
    rows, cols = (int(s) for s in image_shape)
    images = as_2d_array("images", images, "(n_pixels, k)")
    check_shape("images", images, (rows * cols, None), f"one {rows}x{cols} image per column")
    k = images.shape[1]
    if k == 0:
        raise ValueError("images: expected at least one image, got none")
    if len(titles) != k:
        raise ValueError(f"titles: expected {k} titles (one per image), got {len(titles)}")
    check_positive_int("ncols", ncols)
    ncols = min(ncols, k)
    nrows = -(-k // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.35) * nrows), squeeze=False)
    for index, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if index < k:
            ax.imshow(images[:, index].reshape(rows, cols), cmap="gray_r", vmin=0, vmax=max(images.max(), 1e-12))
            ax.set_title(titles[index], fontsize="small")
    fig.tight_layout()
    return fig
