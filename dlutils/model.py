"""An L-layer binary classifier: [LINEAR -> hidden activation] x (L-1) -> LINEAR -> SIGMOID.

``X`` is (n_x, m), ``Y`` is (1, m), ``AL`` is (1, m); ``parameters`` holds
``W{l}`` (n_l, n_{l-1}) and ``b{l}`` (n_l, 1) for l = 1..L.
"""

from typing import Callable, NamedTuple

import numpy as np

from dlutils._validate import as_2d_array, check_choice, check_labels, check_parameters, check_rng, check_shape
from dlutils.layers import ACTIVATIONS, linear_activation_backward, linear_activation_forward, linear_backward

HIDDEN_ACTIVATIONS = tuple(ACTIVATIONS)

# Probabilities are kept this far from 0 and 1 in the cost: log(0) is -inf,
# and 1e-15 is far below any probability a trained model is judged on.
_CLIP = 1e-15


class Dropout(NamedTuple):
    """Inverted dropout supplied by the student's own functions.

    forward(A, keep_prob, rng) -> (A_out, D); backward(dA, D, keep_prob) -> dA.
    """

    keep_prob: float
    forward: Callable
    backward: Callable


class DropoutCache(NamedTuple):
    """What backprop needs to undo dropout on one hidden layer: the mask D (n_l, m)."""

    D: np.ndarray
    keep_prob: float
    backward: Callable


class LayerStats(NamedTuple):
    """Per-layer values for histograms; index 0 is layer 1.

    activations[l-1]: A{l} (n_l, m); weight_gradients[l-1]: dW{l} (n_l, n_{l-1});
    activation_gradients[l-1]: dA{l} (n_l, m), the gradient flowing into A{l}.
    """

    activations: list
    weight_gradients: list
    activation_gradients: list


def _apply_dropout(dropout, A, rng, layer):
    A_out, D = dropout.forward(A, dropout.keep_prob, rng)
    for what, arr in (("A_out", A_out), ("D", D)):
        if np.shape(arr) != A.shape:
            raise ValueError(
                f"dropout.forward: expected {what} of shape {A.shape} (like A{layer}), got {np.shape(arr)}"
            )
    return A_out, DropoutCache(D, dropout.keep_prob, dropout.backward)


def L_model_forward(X, parameters, hidden_activation="relu", dropout=None, rng=None):
    """Forward pass through all L layers.

    X: (n_x, m). Hidden layers use ``hidden_activation``, the output layer a sigmoid.
    ``dropout`` (a ``Dropout``, training only) is applied to every hidden
    activation A1..A{L-1}, never to X or AL, drawing masks from ``rng``.
    Returns AL: (1, m) and a list of L ``LayerCache`` (index 0 is layer 1).
    """
    X = as_2d_array("X", X, "(n_x, m)")
    L = len(check_parameters(parameters, n_x=X.shape[0])) - 1
    check_choice("hidden_activation", hidden_activation, HIDDEN_ACTIVATIONS)
    if dropout is not None:
        if not isinstance(dropout, Dropout):
            raise ValueError(f"dropout: expected a Dropout(keep_prob, forward, backward), got {type(dropout).__name__}")
        if not 0 < dropout.keep_prob <= 1:
            raise ValueError(f"dropout.keep_prob: expected a probability in (0, 1], got {dropout.keep_prob!r}")
        check_rng("rng (needed for dropout)", rng)

    A, caches = X, []
    for l in range(1, L + 1):
        activation = hidden_activation if l < L else "sigmoid"
        A, cache = linear_activation_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], activation)
        if dropout is not None and l < L:
            A, dropout_cache = _apply_dropout(dropout, A, rng, l)
            cache = cache._replace(dropout=dropout_cache)
        caches.append(cache)
    check_shape("AL (output layer)", A, (1, X.shape[1]), "the last layer must have 1 unit")
    return A, caches


def _backward(AL, Y, caches):
    """Return grads and the list of dA{l} for l = 1..L (see ``L_model_backward``)."""
    if not caches or caches[-1].activation_name != "sigmoid":
        raise ValueError("caches: expected the caches of L_model_forward, ending with a sigmoid layer")
    AL = as_2d_array("AL", AL, "(1, m)")
    check_shape("AL", AL, (1, None))
    Y = check_labels("Y", Y, AL.shape[1])
    L = len(caches)

    # dA_L itself is only reported (for histograms); backprop uses dZ_L = AL - Y,
    # the exact simplification of sigmoid + cross-entropy, finite even at AL = 0 or 1.
    A_safe = np.clip(AL, _CLIP, 1 - _CLIP)
    dAs = [-(Y / A_safe - (1 - Y) / (1 - A_safe))]
    grads = {}
    dA_prev, grads[f"dW{L}"], grads[f"db{L}"] = linear_backward(AL - Y, caches[-1].linear)
    for l in range(L - 1, 0, -1):
        cache = caches[l - 1]
        dAs.append(dA_prev)
        if cache.dropout is not None:
            D, keep_prob, backward = cache.dropout
            dA_prev = backward(dA_prev, D, keep_prob)
        dA_prev, grads[f"dW{l}"], grads[f"db{l}"] = linear_activation_backward(dA_prev, cache)
    grads = {key: grads[key] for l in range(1, L + 1) for key in (f"dW{l}", f"db{l}")}
    return grads, dAs[::-1]


def L_model_backward(AL, Y, caches):
    """Gradients of the mean binary cross-entropy with respect to every W{l}, b{l}.

    AL: (1, m) from ``L_model_forward``; Y: (1, m) labels 0/1; caches: its caches.
    Returns grads {"dW1": (n_1, n_0), "db1": (n_1, 1), ..., "dWL", "dbL"}.
    """
    grads, _ = _backward(AL, Y, caches)
    return grads


def compute_cost(AL, Y):
    """Binary cross-entropy -(1/m) sum(Y log AL + (1 - Y) log(1 - AL)) as a float.

    AL: (1, m) probabilities; Y: (1, m) labels 0/1.
    """
    AL = as_2d_array("AL", AL, "(1, m)")
    check_shape("AL", AL, (1, None))
    Y = check_labels("Y", Y, AL.shape[1])
    # A saturated sigmoid returns exactly 0.0 or 1.0 in float64; clipping keeps
    # the cost finite (at most -log(1e-15) ≈ 34.5 per example) instead of inf.
    A = np.clip(AL, _CLIP, 1 - _CLIP)
    m = AL.shape[1]
    return float(-(Y * np.log(A) + (1 - Y) * np.log(1 - A)).sum() / m)


def predict(X, parameters, hidden_activation="relu"):
    """Labels 0/1 (int) of shape (1, m) for X (n_x, m): 1 where AL > 0.5. No dropout."""
    AL, _ = L_model_forward(X, parameters, hidden_activation)
    return (AL > 0.5).astype(np.int64)


def accuracy(Y_pred, Y):
    """Fraction of the m examples where Y_pred (1, m) equals Y (1, m), in [0, 1]."""
    Y = check_labels("Y", Y)
    Y_pred = check_labels("Y_pred", Y_pred, Y.shape[1])
    return float(np.mean(Y_pred == Y))


def layer_statistics(X, Y, parameters, hidden_activation="relu"):
    """One forward and backward pass, keeping every layer's values for histograms.

    X: (n_x, m); Y: (1, m). Returns ``LayerStats`` with, for l = 1..L,
    A{l} (n_l, m), dW{l} (n_l, n_{l-1}) and dA{l} (n_l, m).
    """
    AL, caches = L_model_forward(X, parameters, hidden_activation)
    grads, dAs = _backward(AL, Y, caches)
    activations = [cache.activation.A for cache in caches]
    weight_gradients = [grads[f"dW{l}"] for l in range(1, len(caches) + 1)]
    return LayerStats(activations, weight_gradients, dAs)

