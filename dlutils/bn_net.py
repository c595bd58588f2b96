"""A deep multi-class network with batch norm, run by the student's own batch-norm functions.

Layers: [LINEAR -> BATCH NORM -> RELU] x (L-1) -> LINEAR -> SOFTMAX, or without
batch norm [LINEAR (with bias) -> RELU] x (L-1) -> LINEAR -> SOFTMAX. Shapes in
the course letters: ``X`` is (n_x, m), integer labels ``y`` are (m,), scores and
probabilities are (C, m); ``W{l}`` is (n_l, n_{l-1}); ``b{l}``, ``gamma{l}``,
``beta{l}`` and the running statistics are (n_l, 1).

This module holds no batch-norm answer: the four functions of 10_batch_norm
come in as a :class:`BatchNorm` of hooks, like ``train.train`` takes the
student's functions. A hidden layer with batch norm has no bias ``b{l}``: batch
norm subtracts the mean of ``Z = W A + b`` over the batch, which removes any
constant ``b`` (its ``beta`` plays that role).

Gradients follow the chain rule of the *mean* cost exactly
(``multiclass.cross_entropy_backward`` includes the 1/m), so ``dW = dZ A_prevᵀ``
with no further division, and the student's ``backward`` receives the true
gradient with respect to ``Z_tilde``.

Also here, for checking the exercises: :func:`numerical_gradients` (centred
differences of any batch-norm forward against a random upstream gradient) and
:func:`expect_gradients` (the visible check built on it).
"""

import math
from typing import Callable, NamedTuple

import numpy as np

from dlutils import multiclass
from dlutils._blas import one_thread as _one_blas_thread  # tiny matrices: one BLAS thread is faster
from dlutils._validate import as_2d_array, check_positive_int, check_rng, check_shape
from dlutils.checks import CheckFailure


class BatchNorm(NamedTuple):
    """The student's batch-norm functions, plugged into the network.

    forward(Z, gamma, beta, epsilon) -> (Z_tilde, cache)
    backward(dZ_tilde, cache) -> (dZ, dgamma, dbeta)
    update_running_stats(running_mean, running_var, mu, var, momentum) -> (running_mean, running_var)
    inference(Z, gamma, beta, running_mean, running_var, epsilon) -> Z_tilde
    """

    forward: Callable
    backward: Callable
    update_running_stats: Callable
    inference: Callable
    momentum: float = 0.9
    epsilon: float = 1e-8


class TrainResult(NamedTuple):
    """parameters: the trained dict; running: {"mean{l}", "var{l}"} running averages (empty without
    batch norm); costs: (num_epochs,) mean training cost per epoch (NaN once diverged);
    watched: (k, 5) the 5th, 25th, 50th, 75th and 95th percentiles of the watched layer's input to
    its ReLU on the probe batch, recorded every ``watch_every`` updates (steps given in ``watched_steps``).
    """

    parameters: dict
    running: dict
    costs: np.ndarray
    watched: np.ndarray
    watched_steps: np.ndarray


PERCENTILES = (5, 25, 50, 75, 95)


def batch_statistics(Z):
    """Mean and population variance of each row of Z (n_l, m) over the examples: (mu, var), each (n_l, 1)."""
    Z = as_2d_array("Z", Z, "(n_l, m)")
    mu = Z.mean(axis=1, keepdims=True)
    return mu, np.mean((Z - mu) ** 2, axis=1, keepdims=True)


def _layers(parameters):
    return sum(1 for key in parameters if key.startswith("W"))


def initialize(layer_dims, rng, *, weight_scale, batch_norm):
    """Parameters of a network with layer sizes [n_x, n_1, ..., n_{L-1}, C].

    W{l} = weight_scale * N(0, 1) of shape (n_l, n_{l-1}). Hidden layers get gamma{l} = 1 and
    beta{l} = 0 with batch norm, a zero bias b{l} without; the output layer always has b{L}.
    """
    check_rng("rng", rng)
    dims = [int(n) for n in layer_dims]
    if len(dims) < 3 or min(dims) < 1:
        raise ValueError(f"layer_dims: expected [n_x, n_1, ..., C] with at least one hidden layer, got {dims}")
    if not (np.isfinite(weight_scale) and weight_scale > 0):
        raise ValueError(f"weight_scale: expected a number > 0, got {weight_scale!r}")
    L = len(dims) - 1
    parameters = {}
    for l in range(1, L + 1):
        parameters[f"W{l}"] = weight_scale * rng.standard_normal((dims[l], dims[l - 1]))
        if batch_norm and l < L:
            parameters[f"gamma{l}"] = np.ones((dims[l], 1))
            parameters[f"beta{l}"] = np.zeros((dims[l], 1))
        else:
            parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def _check_result(who, result, n, names):
    if not isinstance(result, tuple) or len(result) != n:
        got = f"a tuple of {len(result)} items" if isinstance(result, tuple) else type(result).__name__
        raise ValueError(f"{who}: expected the tuple ({names}), got {got}")
    return result


def forward(X, parameters, bn=None, *, statistics="batch"):
    """Scores (C, m) of X (n_x, m), and what backprop needs.

    statistics: "batch" normalizes each hidden layer with the statistics of this batch (training
    mode, the student's ``bn.forward``); a dict {"mean{l}", "var{l}"} uses those instead (test
    mode, the student's ``bn.inference``), e.g. the running averages of ``train``.
    Returns (scores, record): record["A"] the inputs of each layer (index 0 is X), record["Z"]
    each hidden layer's W A (pre-norm), record["Z_tilde"] its input to the ReLU, record["cache"]
    the student's caches (training mode only).
    """
    with _one_blas_thread():
        return _forward(as_2d_array("X", X, "(n_x, m)"), parameters, bn, statistics)


def _forward(X, parameters, bn, statistics):
    L = _layers(parameters)
    use_bn = "gamma1" in parameters
    if use_bn and bn is None:
        raise ValueError("bn: these parameters have gamma/beta, so pass the BatchNorm of your functions")
    if not (statistics == "batch" or isinstance(statistics, dict)):
        raise ValueError(f"statistics: expected 'batch' or a dict of running statistics, got {statistics!r}")
    record = {"A": [X], "Z": [], "Z_tilde": [], "cache": []}
    A = X
    for l in range(1, L):
        Z = parameters[f"W{l}"] @ A
        if not use_bn:
            Z_tilde = Z + parameters[f"b{l}"]
        elif statistics == "batch":
            Z_tilde, cache = _check_result("bn.forward", bn.forward(Z, parameters[f"gamma{l}"],
                                                                    parameters[f"beta{l}"], bn.epsilon),
                                           2, "Z_tilde, cache")
            record["cache"].append(cache)
        else:
            Z_tilde = bn.inference(Z, parameters[f"gamma{l}"], parameters[f"beta{l}"], statistics[f"mean{l}"],
                                   statistics[f"var{l}"], bn.epsilon)
        check_shape(f"Z_tilde of layer {l}", Z_tilde, Z.shape)
        record["Z"].append(Z)
        record["Z_tilde"].append(Z_tilde)
        A = np.maximum(0.0, Z_tilde)
        record["A"].append(A)
    scores = parameters[f"W{L}"] @ A + parameters[f"b{L}"]
    return scores, record


def backward(dscores, parameters, record, bn=None):
    """Gradients {"dW1", ..., "dgamma1", "dbeta1", ..., "db{L}"} from dscores (C, m), the gradient
    of the mean cost with respect to the scores (e.g. ``multiclass.cross_entropy_backward``)."""
    L = _layers(parameters)
    use_bn = "gamma1" in parameters
    grads = {}
    dZ = dscores
    for l in range(L, 0, -1):
        grads[f"dW{l}"] = dZ @ record["A"][l - 1].T
        if f"b{l}" in parameters:
            grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True)
        if l == 1:
            break
        dZ_tilde = (parameters[f"W{l}"].T @ dZ) * (record["Z_tilde"][l - 2] > 0)
        if use_bn:
            dZ, grads[f"dgamma{l - 1}"], grads[f"dbeta{l - 1}"] = _check_result(
                "bn.backward", bn.backward(dZ_tilde, record["cache"][l - 2]), 3, "dZ, dgamma, dbeta")
        else:
            dZ = dZ_tilde
    return grads


def initial_running(parameters):
    """Running statistics to start from: mean 0 and variance 1 for every hidden layer with batch norm."""
    L = _layers(parameters)
    running = {}
    for l in range(1, L):
        if f"gamma{l}" in parameters:
            n = parameters[f"gamma{l}"].shape[0]
            running[f"mean{l}"], running[f"var{l}"] = np.zeros((n, 1)), np.ones((n, 1))
    return running


def _update_running(running, record, bn):
    for l, Z in enumerate(record["Z"], start=1):
        mu, var = batch_statistics(Z)
        running[f"mean{l}"], running[f"var{l}"] = _check_result(
            "bn.update_running_stats",
            bn.update_running_stats(running[f"mean{l}"], running[f"var{l}"], mu, var, bn.momentum),
            2, "running_mean, running_var")


def train(X, y, layer_dims, *, rng, bn=None, weight_scale, learning_rate=0.1, num_epochs=5, mini_batch_size=32,
          watch_layer=None, probe=None, watch_every=10):
    """Train with mini-batch gradient descent on the mean cross-entropy.

    X: (n_x, m); y: (m,) integer labels 0..C-1; layer_dims: [n_x, n_1, ..., C]. bn: the student's
    functions (a ``BatchNorm``), or None for the same network without batch norm. Each epoch
    shuffles the examples with ``rng`` and takes consecutive mini-batches (the last one smaller).
    With batch norm the running statistics are updated after every forward pass. A cost that is
    not finite stops training: the remaining epochs' costs are NaN.
    watch_layer, probe (n_x, k): every ``watch_every`` updates, record percentiles of that hidden
    layer's input to its ReLU on the probe batch (normalized with the probe's own statistics).
    Returns a ``TrainResult``.
    """
    X = as_2d_array("X", X, "(n_x, m)")
    y = multiclass.labels_1d(y)
    if y.size != X.shape[1]:
        raise ValueError(f"y: expected {X.shape[1]} labels (one per column of X), got {y.size}")
    check_positive_int("num_epochs", num_epochs)
    check_positive_int("mini_batch_size", mini_batch_size)
    check_positive_int("watch_every", watch_every)
    if layer_dims[0] != X.shape[0]:
        raise ValueError(f"layer_dims: expected n_x = {X.shape[0]} first for X of shape {X.shape}, got {layer_dims}")
    if watch_layer is not None and not 1 <= watch_layer < len(layer_dims) - 1:
        raise ValueError(f"watch_layer: expected a hidden layer 1..{len(layer_dims) - 2}, got {watch_layer}")
    if watch_layer is not None:
        probe = as_2d_array("probe", probe, "(n_x, k)")
    parameters = initialize(layer_dims, rng, weight_scale=weight_scale, batch_norm=bn is not None)
    running = initial_running(parameters)
    Y = multiclass.one_hot(y, layer_dims[-1])
    m = X.shape[1]
    costs = np.full(num_epochs, np.nan)
    watched, watched_steps = [], []
    step = 0

    def watch():
        _, record = _forward(probe, parameters, bn, "batch")
        watched.append(np.percentile(record["Z_tilde"][watch_layer - 1], PERCENTILES))
        watched_steps.append(step)

    # A diverging run overflows to inf/NaN; the cost check below reports it as NaN costs.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), _one_blas_thread():
        for epoch in range(num_epochs):
            order = rng.permutation(m)
            total = 0.0
            for start in range(0, m, mini_batch_size):
                if watch_layer is not None and step % watch_every == 0:
                    watch()
                batch = order[start:start + mini_batch_size]
                scores, record = _forward(X[:, batch], parameters, bn, "batch")
                AL = multiclass.softmax(scores)
                cost = multiclass.cross_entropy(AL, Y[:, batch])
                if not math.isfinite(cost) or not np.all(np.isfinite(AL)):
                    return TrainResult(parameters, running, costs, np.array(watched), np.array(watched_steps))
                total += cost * batch.size / m
                if bn is not None:
                    _update_running(running, record, bn)
                grads = backward(multiclass.cross_entropy_backward(AL, Y[:, batch]), parameters, record, bn)
                parameters = {k: v - learning_rate * grads["d" + k] for k, v in parameters.items()}
                step += 1
            costs[epoch] = total
        if watch_layer is not None:
            watch()
    return TrainResult(parameters, running, costs, np.array(watched), np.array(watched_steps))


def population_statistics(X, parameters, bn):
    """Statistics {"mean{l}", "var{l}"} of every hidden layer's Z over all of X (n_x, m) at once:
    what the running averages estimate. Layer l's Z is computed with the whole-set statistics of
    the layers below it."""
    _, record = forward(X, parameters, bn)
    statistics = {}
    for l, Z in enumerate(record["Z"], start=1):
        statistics[f"mean{l}"], statistics[f"var{l}"] = batch_statistics(Z)
    return statistics


def predict(X, parameters, bn=None, *, statistics="batch"):
    """Predicted classes (m,) of X (n_x, m), -1 where the scores are not finite; ``statistics`` as in
    :func:`forward`."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged network predicts -1 (no class)
        scores, _ = forward(X, parameters, bn, statistics=statistics)
    return np.where(np.all(np.isfinite(scores), axis=0), scores.argmax(axis=0), -1)


# ------------------------------------------------------------ checking a backward


def numerical_gradients(forward_fn, Z, gamma, beta, dZ_tilde, epsilon=1e-8, h=1e-5):
    """(dZ, dgamma, dbeta) of f = sum(dZ_tilde * Z_tilde) by centred differences, Z_tilde =
    forward_fn(Z, gamma, beta, epsilon)[0].

    Z: (n_l, m); gamma, beta: (n_l, 1); dZ_tilde: (n_l, m), a random upstream gradient (with all
    ones, dZ of batch norm is exactly 0 and a wrong backward can hide). Row i of Z is stepped by
    h times its own spread, so tiny and large rows are differentiated equally well. float64.
    """
    Z = as_2d_array("Z", Z, "(n_l, m)")
    n, m = Z.shape
    gamma = as_2d_array("gamma", gamma, "(n_l, 1)")
    beta = as_2d_array("beta", beta, "(n_l, 1)")
    dZ_tilde = as_2d_array("dZ_tilde", dZ_tilde, "(n_l, m)")
    for name, arr, shape in (("gamma", gamma, (n, 1)), ("beta", beta, (n, 1)), ("dZ_tilde", dZ_tilde, (n, m))):
        check_shape(name, arr, shape)

    def f(values):
        # copies: a forward that works in place must not move the point being differentiated
        Z_tilde = forward_fn(values["Z"].copy(), values["gamma"].copy(), values["beta"].copy(), epsilon)[0]
        return float(np.sum(dZ_tilde * np.asarray(Z_tilde, dtype=np.float64)))

    spread = np.sqrt(Z.var(axis=1, keepdims=True) + epsilon)
    steps = {"Z": h * np.broadcast_to(spread, Z.shape), "gamma": np.full((n, 1), h), "beta": np.full((n, 1), h)}
    values = {"Z": Z, "gamma": gamma, "beta": beta}
    grads = {}
    for name, x in values.items():
        grad = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            step = steps[name][index]
            cost = {}
            for sign in (1, -1):
                moved = x.copy()
                moved[index] += sign * step
                cost[sign] = f({**values, name: moved})
            grad[index] = (cost[1] - cost[-1]) / (2 * step)
        grads[name] = grad
    return grads["Z"], grads["gamma"], grads["beta"]


def relative_error(got, expected, floor=1e-10):
    """||got - expected|| / (||got|| + ||expected||), or 0 when every entry differs by less than ``floor``."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    difference = np.linalg.norm(got - expected)
    if np.max(np.abs(got - expected), initial=0.0) < floor:
        return 0.0
    return float(difference / (np.linalg.norm(got) + np.linalg.norm(expected)))


def as_plain_data(obj):
    """``obj`` rebuilt from plain tuples, lists, dicts, arrays, numbers, strings and None.

    A NamedTuple becomes a tuple and a dict subclass a dict: what the autograder does to a cache
    when it hands it from your forward to your backward. Anything else raises ValueError.
    """
    if obj is None or isinstance(obj, (bool, int, float, complex, str, np.generic)):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufcUS":
            raise ValueError(f"an array of dtype {obj.dtype}")
        return obj
    if isinstance(obj, dict):
        return {key: as_plain_data(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [as_plain_data(item) for item in obj]
        return items if isinstance(obj, list) else tuple(items)
    raise ValueError(f"a {'function' if callable(obj) else type(obj).__name__}")


def expect_gradients(forward_fn, backward_fn, Z, gamma, beta, dZ_tilde, epsilon=1e-8, threshold=1e-7,
                     name="batchnorm_backward"):
    """Visible check: backward_fn(dZ_tilde, cache of forward_fn) matches centred differences of
    forward_fn (relative error below ``threshold`` for dZ, dgamma and dbeta). The cache is passed
    as plain data (:func:`as_plain_data`), as the autograder passes it. Raises
    ``checks.CheckFailure`` naming the gradient that differs; returns the three errors otherwise."""
    Z_tilde, cache = forward_fn(Z.copy(), gamma.copy(), beta.copy(), epsilon)
    try:
        plain = as_plain_data(cache)
    except ValueError as err:
        raise CheckFailure(f"batchnorm_forward: the cache holds {err}; the grader hands your cache to the backward "
                           "as data, so build it from arrays and numbers in a tuple, list or dict") from None
    try:
        result = backward_fn(dZ_tilde.copy(), plain)
    except AttributeError as err:
        if type(plain) is type(cache):
            raise
        raise CheckFailure(f"{name} could not read its cache ({err}). Your forward returns a "
                           f"{type(cache).__name__}; the grader hands it over as a plain {type(plain).__name__}, so "
                           "unpack it by position (e.g. Z_hat, gamma, inv_std = cache) or use a dict") from None
    if not isinstance(result, tuple) or len(result) != 3:
        got = "None" if result is None else (f"a tuple of {len(result)} items" if isinstance(result, tuple)
                                             else type(result).__name__)
        raise CheckFailure(f"{name}: expected the tuple (dZ, dgamma, dbeta), got {got}")
    expected = numerical_gradients(forward_fn, Z, gamma, beta, dZ_tilde, epsilon)
    errors = {}
    for grad, got, want in zip(("dZ", "dgamma", "dbeta"), result, expected):
        if np.shape(got) != want.shape:
            raise CheckFailure(f"{name}: {grad} should have shape {want.shape}, got {np.shape(got)}"
                               + ("\n  Hint: sum over the examples (axis=1, keepdims=True)"
                                  if grad != "dZ" else ""))
        errors[grad] = relative_error(got, want)
        if not errors[grad] < threshold:
            raise CheckFailure(f"{name}: {grad} differs from centred differences of your batchnorm_forward "
                               f"(relative error {errors[grad]:.2g}, should be below {threshold:g}; the upstream "
                               "gradient dZ_tilde is random)")
    return errors
