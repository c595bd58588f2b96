"""One training loop for every notebook; the student's functions plug into it.

Epochs are counted from 0: epoch 0 is the first pass over the data, so a
schedule ``learning_rate(0)`` gives the initial rate and ``costs[0]`` is the
cost of the initial parameters (for full-batch training).
"""

import math
from typing import Callable, NamedTuple

import numpy as np

from dlutils._validate import (
    as_2d_array,
    check_choice,
    check_labels,
    check_parameters,
    check_positive_int,
    check_rng,
    check_shape,
)
from dlutils.model import HIDDEN_ACTIVATIONS, L_model_backward, L_model_forward, compute_cost


class Optimizer(NamedTuple):
    """An update rule as two pure functions.

    init(parameters) -> state;
    update(parameters, grads, state, t, learning_rate) -> (parameters, state),
    with t counting updates from 1.
    """

    init: Callable
    update: Callable


class TrainResult(NamedTuple):
    """parameters: the trained dict; costs[i] was recorded at epoch epochs[i].

    ``diverged_at`` is the epoch whose cost was NaN/inf, or None.
    """

    parameters: dict
    costs: np.ndarray
    epochs: np.ndarray
    diverged_at: int | None = None


def _gradient_descent_step(parameters, grads, learning_rate):
    # Plain gradient descent, the default every notebook can train with.
    return {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}


def _check_batches(batches, n_x):
    if not isinstance(batches, (list, tuple)) or not batches:
        raise ValueError(f"make_batches: expected a non-empty list of (X_batch, Y_batch), got {type(batches).__name__}")
    for i, batch in enumerate(batches):
        if not isinstance(batch, tuple) or len(batch) != 2:
            raise ValueError(f"make_batches: batch {i}: expected a pair (X_batch, Y_batch), got {type(batch).__name__}")
        X_batch, Y_batch = batch
        check_shape(f"make_batches: batch {i}: X_batch", X_batch, (n_x, None))
        check_shape(f"make_batches: batch {i}: Y_batch", Y_batch, (1, np.shape(X_batch)[1]))


def train(
    X,
    Y,
    layer_dims,
    *,
    initialize,
    rng,
    learning_rate=0.01,
    num_epochs=1000,
    hidden_activation="relu",
    optimizer=None,
    make_batches=None,
    cost_fn=None,
    grads_fn=None,
    dropout=None,
    record_every=100,
    print_every=None,
):
    """Train an L-layer binary classifier and record its cost.

    X: (n_x, m); Y: (1, m) labels 0/1; layer_dims: [n_x, n_1, ..., 1].
    Hooks (the student's functions):
      initialize(layer_dims, rng) -> parameters
      learning_rate: a float, or a schedule epoch -> float
      optimizer: an ``Optimizer``; None = plain gradient descent
      make_batches(X, Y, rng) -> [(X_batch, Y_batch), ...]; None = one full batch
      cost_fn(AL, Y, parameters) -> float; None = ``compute_cost``
      grads_fn(grads, parameters, m) -> grads, m the batch size; None = unchanged
      dropout: a ``model.Dropout`` applied while training only
    The cost of an epoch is the mean over its examples of the mini-batch costs
    (each batch weighted by its size); it is recorded every ``record_every``
    epochs and at the last one, and printed every ``print_every`` epochs.
    A NaN/inf cost stops training with a message. Returns a ``TrainResult``.
    """
    X = as_2d_array("X", X, "(n_x, m)")
    Y = check_labels("Y", Y, X.shape[1])
    layer_dims = [int(n) for n in layer_dims]
    if len(layer_dims) < 2 or layer_dims[0] != X.shape[0] or layer_dims[-1] != 1:
        raise ValueError(
            f"layer_dims: expected [n_x={X.shape[0]}, ..., 1] for X of shape {X.shape}, got {layer_dims}"
        )
    check_rng("rng", rng)
    check_positive_int("num_epochs", num_epochs)
    check_positive_int("record_every", record_every)
    if print_every is not None:
        check_positive_int("print_every", print_every)
    check_choice("hidden_activation", hidden_activation, HIDDEN_ACTIVATIONS)
    schedule = learning_rate if callable(learning_rate) else (lambda epoch: learning_rate)
    cost_fn = cost_fn or (lambda AL, Y_batch, parameters: compute_cost(AL, Y_batch))

    parameters = initialize(layer_dims, rng)
    check_parameters(parameters, layer_dims=layer_dims)
    state = optimizer.init(parameters) if optimizer is not None else None
    m, t = X.shape[1], 0
    costs, epochs = [], []
    width = len(str(num_epochs))

    def result(diverged_at=None):
        return TrainResult(parameters, np.array(costs), np.array(epochs, dtype=np.int64), diverged_at)

    # A diverging run overflows to inf/NaN; the finiteness check below reports
    # it in plain words, so NumPy's overflow warnings would only add noise.
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(num_epochs):
            lr = schedule(epoch)
            batches = [(X, Y)] if make_batches is None else make_batches(X, Y, rng)
            if make_batches is not None:
                _check_batches(batches, X.shape[0])
            epoch_cost = 0.0
            for X_batch, Y_batch in batches:
                m_batch = np.shape(Y_batch)[1]
                AL, caches = L_model_forward(X_batch, parameters, hidden_activation, dropout, rng)
                cost = float(cost_fn(AL, Y_batch, parameters))
                if not math.isfinite(cost):
                    print(f"epoch {epoch:>{width}}/{num_epochs}  cost {cost}: training stopped because the cost "
                          "is not finite (diverging? try a smaller learning_rate)")
                    return result(diverged_at=epoch)
                epoch_cost += cost * m_batch / m
                grads = L_model_backward(AL, Y_batch, caches)
                if grads_fn is not None:
                    grads = grads_fn(grads, parameters, m_batch)
                t += 1
                if optimizer is None:
                    parameters = _gradient_descent_step(parameters, grads, lr)
                else:
                    parameters, state = optimizer.update(parameters, grads, state, t, lr)

            last = epoch == num_epochs - 1
            if epoch % record_every == 0 or last:
                costs.append(epoch_cost)
                epochs.append(epoch)
            if print_every is not None and (epoch % print_every == 0 or last):
                print(f"epoch {epoch:>{width}}/{num_epochs}  cost {epoch_cost:.4f}")

    return result()
