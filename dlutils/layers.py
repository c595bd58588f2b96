"""Layers with the CS231n contract: ``*_forward(...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients``, each backward right below its forward.

Shapes use the course letters: ``A_prev`` is (n_{l-1}, m), ``W`` is
(n_l, n_{l-1}), ``b`` is (n_l, 1), ``Z`` and ``A`` are (n_l, m).
"""

from typing import Any, NamedTuple

import numpy as np

from dlutils._validate import check_choice, check_shape


class LinearCache(NamedTuple):
    """What ``linear_backward`` needs: the layer's input and parameters."""

    A_prev: np.ndarray  # (n_{l-1}, m)
    W: np.ndarray  # (n_l, n_{l-1})
    b: np.ndarray  # (n_l, 1)


class ActivationCache(NamedTuple):
    """What an activation's backward needs: its input ``Z`` and output ``A``, both (n_l, m)."""

    Z: np.ndarray
    A: np.ndarray


class LayerCache(NamedTuple):
    """Cache of one ``linear_activation_forward`` call.

    ``dropout`` is filled by ``model.L_model_forward`` when dropout was applied
    to this layer's output (a ``model.DropoutCache``), else None.
    """

    linear: LinearCache
    activation: ActivationCache
    activation_name: str
    dropout: Any = None


def _check_array_2d(name, x, letters):
    if not isinstance(x, np.ndarray) or x.ndim != 2:
        got = np.shape(x) if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{name}: expected a 2-D array {letters}, got {got}")


# --- linear -------------------------------------------------------------------


def linear_forward(A_prev, W, b):
    """Z = W A_prev + b.

    A_prev: (n_{l-1}, m); W: (n_l, n_{l-1}); b: (n_l, 1).
    Returns Z: (n_l, m) and a ``LinearCache``.
    """
    _check_array_2d("A_prev", A_prev, "(n_{l-1}, m)")
    _check_array_2d("W", W, "(n_l, n_{l-1})")
    check_shape("W", W, (None, A_prev.shape[0]), "W must have one column per row of A_prev")
    check_shape("b", b, (W.shape[0], 1), "biases must be 2-D column vectors" if np.ndim(b) != 2 else "")
    Z = W @ A_prev + b
    return Z, LinearCache(A_prev, W, b)


def linear_backward(dZ, cache):
    """Gradients of the cost through Z = W A_prev + b, averaged over the m examples.

    dZ: (n_l, m). Returns dA_prev (n_{l-1}, m), dW (n_l, n_{l-1}), db (n_l, 1).
    """
    A_prev, W, _ = cache
    check_shape("dZ", dZ, (W.shape[0], A_prev.shape[1]))
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T / m
    db = dZ.sum(axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ  # not divided by m: the 1/m is applied once, in dW and db
    return dA_prev, dW, db


# --- activations --------------------------------------------------------------


def relu_forward(Z):
    """A = max(0, Z). Z: (n_l, m). Returns A (n_l, m) and an ``ActivationCache``."""
    _check_array_2d("Z", Z, "(n_l, m)")
    A = np.maximum(0.0, Z)
    return A, ActivationCache(Z, A)


def relu_backward(dA, cache):
    """dZ = dA where Z > 0, else 0 (the subgradient 0 is used at Z = 0). dA: (n_l, m)."""
    check_shape("dA", dA, cache.Z.shape)
    return dA * (cache.Z > 0)


def sigmoid_forward(Z):
    """A = 1 / (1 + exp(-Z)), stable for any Z. Z: (n_l, m). Returns A and a cache."""
    _check_array_2d("Z", Z, "(n_l, m)")
    # exp(-|Z|) is at most 1, so neither branch can overflow; each branch is
    # the form that keeps full relative precision on its side of 0.
    E = np.exp(-np.abs(Z))
    A = np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))
    return A, ActivationCache(Z, A)


def sigmoid_backward(dA, cache):
    """dZ = dA * A (1 - A). dA: (n_l, m)."""
    check_shape("dA", dA, cache.A.shape)
    A = cache.A
    return dA * A * (1.0 - A)


def tanh_forward(Z):
    """A = tanh(Z). Z: (n_l, m). Returns A and a cache."""
    _check_array_2d("Z", Z, "(n_l, m)")
    A = np.tanh(Z)
    return A, ActivationCache(Z, A)


def tanh_backward(dA, cache):
    """dZ = dA * (1 - A^2). dA: (n_l, m)."""
    check_shape("dA", dA, cache.A.shape)
    return dA * (1.0 - cache.A**2)


ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
}


# --- linear followed by an activation -----------------------------------------


def linear_activation_forward(A_prev, W, b, activation):
    """A = g(W A_prev + b) with g one of "relu", "sigmoid", "tanh".

    A_prev: (n_{l-1}, m); W: (n_l, n_{l-1}); b: (n_l, 1).
    Returns A: (n_l, m) and a ``LayerCache``.
    """
    check_choice("activation", activation, tuple(ACTIVATIONS))
    forward, _ = ACTIVATIONS[activation]
    Z, linear_cache = linear_forward(A_prev, W, b)
    A, activation_cache = forward(Z)
    return A, LayerCache(linear_cache, activation_cache, activation)


def linear_activation_backward(dA, cache):
    """Backward through the activation, then the linear part.

    dA: (n_l, m). Returns dA_prev (n_{l-1}, m), dW (n_l, n_{l-1}), db (n_l, 1).
    """
    _, backward = ACTIVATIONS[cache.activation_name]
    dZ = backward(dA, cache.activation)
    return linear_backward(dZ, cache.linear)
