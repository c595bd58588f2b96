"""Flatten a dict of arrays into one column vector and back (for gradient checking).

The default order is by layer, weights before biases: W1, b1, W2, b2, ...
(and dW1, db1, ... for grads), so ``parameters`` and ``grads`` flatten to
vectors whose entries line up.
"""

import re

import numpy as np

_LAYER_KEY = re.compile(r"^(d?)([A-Za-z_]*?)([0-9]+)$")


def _order(key, position):
    # Layer number first, then W before b, then anything else in insertion order.
    match = _LAYER_KEY.match(str(key))
    if match is None:
        return (float("inf"), 2, position)
    name, layer = match.group(2), int(match.group(3))
    return (layer, {"W": 0, "b": 1}.get(name, 2), position)


def dictionary_to_vector(d, keys=None):
    """Stack the arrays of ``d`` into theta, a float64 column of shape (n, 1).

    keys: the order to use; None = W1, b1, W2, b2, ... (see the module docstring).
    Returns (theta, spec) with spec a tuple of (key, shape) for ``vector_to_dictionary``.
    """
    if not isinstance(d, dict) or not d:
        raise ValueError(f"d: expected a non-empty dict of arrays, got {type(d).__name__}")
    if keys is None:
        position = {k: i for i, k in enumerate(d)}
        keys = sorted(d, key=lambda k: _order(k, position[k]))
    missing = [k for k in keys if k not in d]
    if missing:
        raise ValueError(f"keys: {missing} not in d (its keys: {list(d)})")
    arrays = [np.asarray(d[k], dtype=np.float64) for k in keys]
    spec = tuple((k, a.shape) for k, a in zip(keys, arrays))
    theta = np.concatenate([a.reshape(-1) for a in arrays]).reshape(-1, 1)
    return theta, spec


def vector_to_dictionary(theta, spec):
    """Inverse of ``dictionary_to_vector``: theta (n, 1) and spec -> dict of arrays (copies)."""
    theta = np.asarray(theta, dtype=np.float64)
    n = sum(int(np.prod(shape)) for _, shape in spec)
    if theta.shape not in ((n, 1), (n,)):
        raise ValueError(f"theta: expected shape ({n}, 1) for this spec, got {theta.shape}")
    flat, d, start = theta.reshape(-1), {}, 0
    for key, shape in spec:
        size = int(np.prod(shape))
        d[key] = flat[start : start + size].reshape(shape).copy()
        start += size
    return d
