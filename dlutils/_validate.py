"""Input checks shared by the public entry points of dlutils.

Every failure is a ``ValueError`` whose message names the argument, the
expected shape and the received one, so a student reads what to fix instead
of a NumPy broadcasting traceback ten frames deeper.
"""

import re

import numpy as np


def fmt_shape(shape):
    """Format a shape such as ``(5, None)`` as ``(5, any)``."""
    parts = ["any" if s is None else str(s) for s in shape]
    return "(" + ", ".join(parts) + (",)" if len(parts) == 1 else ")")


def as_2d_array(name, x, letters="(rows, columns)"):
    """Return ``x`` as a 2-D float64 array, or raise ValueError naming ``name``.

    ``letters`` describes the expected shape in course letters, e.g. ``"(n_x, m)"``.
    """
    if x is None:
        raise ValueError(f"{name}: expected a 2-D array {letters}, got None")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: expected a 2-D numeric array {letters}, got {type(x).__name__}") from err
    if arr.ndim != 2:
        hint = " — reshape to a 2-D array, e.g. x.reshape(1, -1) for a row" if arr.ndim == 1 else ""
        raise ValueError(f"{name}: expected a 2-D array {letters}, got shape {arr.shape}{hint}")
    return arr


def check_shape(name, x, expected, hint=""):
    """Raise ValueError unless ``x.shape`` matches ``expected`` (None = any size)."""
    shape = x.shape if isinstance(x, np.ndarray) else np.shape(x)
    if shape == expected:  # fast path: called a few times per layer per update
        return
    ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
    if not ok:
        hint = f" — {hint}" if hint else ""
        raise ValueError(f"{name}: expected shape {fmt_shape(expected)}, got {shape}{hint}")


def check_choice(name, value, choices):
    """Raise ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}: expected one of {listed}, got {value!r}")


def check_positive_int(name, value):
    """Raise ValueError unless ``value`` is an int > 0 (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: expected a positive integer, got {value!r}")


def check_rng(name, rng):
    """Raise ValueError unless ``rng`` is an ``np.random.Generator``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{name}: expected an np.random.Generator (e.g. np.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )


def check_labels(name, Y, m=None):
    """Return binary labels ``Y`` of shape (1, m) as float64; ValueError otherwise.

    Labels must be 0 or 1. ``m`` None accepts any number of examples.
    """
    if Y is None:
        raise ValueError(f"{name}: expected labels of shape (1, m), got None")
    Y = np.asarray(Y)
    expected = (1, m)
    if Y.ndim == 1 and (m is None or Y.shape[0] == m):
        check_shape(name, Y, expected, "labels must be a row vector: use Y.reshape(1, -1)")
    if Y.ndim == 2 and Y.shape[1] == 1 and Y.shape[0] != 1:
        check_shape(name, Y, expected, "labels look transposed: one example per column")
    check_shape(name, Y, expected)
    if not ((Y == 0) | (Y == 1)).all():
        raise ValueError(f"{name}: expected binary labels 0/1, got values {np.unique(Y)[:5].tolist()}")
    return Y.astype(np.float64, copy=False)


_PARAM_KEY = re.compile(r"^([Wb])([1-9][0-9]*)$")


def check_parameters(parameters, layer_dims=None, n_x=None):
    """Validate a ``parameters`` dict and return its layer sizes ``[n_0, ..., n_L]``.

    Keys must be exactly W1..WL and b1..bL (other keys are ignored); ``W{l}``
    is (n_l, n_{l-1}) and ``b{l}`` is (n_l, 1). If ``layer_dims`` is given
    the shapes must match it; if ``n_x`` is given, ``W1`` must have n_x columns.
    """
    if not isinstance(parameters, dict):
        raise ValueError(f"parameters: expected a dict {{'W1': ..., 'b1': ...}}, got {type(parameters).__name__}")
    indices = {k: int(mt.group(2)) for k in parameters if (mt := _PARAM_KEY.match(str(k)))}
    L = max((i for k, i in indices.items() if k[0] == "W"), default=0)
    if L == 0:
        raise ValueError("parameters: expected keys W1, b1, ..., got none of them")
    wanted = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    missing = sorted(wanted - indices.keys(), key=lambda k: (int(k[1:]), k))
    extra = sorted(indices.keys() - wanted)
    if missing:
        raise ValueError(f"parameters: missing key(s) {', '.join(missing)} for a {L}-layer network")
    if extra:
        raise ValueError(f"parameters: unexpected key(s) {', '.join(extra)} for a {L}-layer network")
    if layer_dims is not None and len(layer_dims) != L + 1:
        raise ValueError(
            f"parameters: expected {len(layer_dims) - 1} layers for layer_dims {list(layer_dims)}, got {L}"
        )

    dims = [layer_dims[0] if layer_dims is not None else n_x]
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        for key, arr in ((f"W{l}", W), (f"b{l}", b)):
            if not isinstance(arr, np.ndarray):
                raise ValueError(f"{key}: expected a NumPy array, got {type(arr).__name__}")
        n_l = layer_dims[l] if layer_dims is not None else (W.shape[0] if W.ndim == 2 else None)
        check_shape(f"W{l}", W, (n_l, dims[l - 1]), f"W{l} must be (n_{l}, n_{l-1})" if W.ndim == 2 else "")
        n_l = W.shape[0]
        bias_hint = "biases must be 2-D column vectors" if b.ndim != 2 else ""
        check_shape(f"b{l}", b, (n_l, 1), bias_hint)
        dims[l - 1] = W.shape[1] if dims[l - 1] is None else dims[l - 1]
        dims.append(n_l)
    return dims
