"""Checks for notebook test cells: they raise ``CheckFailure`` saying what differs.

Each ``expect_*`` returns None when the value is right and otherwise raises
with a short message: what was expected, what came back, and when the
difference looks like a common mistake, which one. ``mistakes`` maps a label
to what a known wrong implementation returns, so a check can name it.
"""

import numpy as np

from dlutils._validate import fmt_shape


class CheckFailure(AssertionError):
    """A notebook check failed; the message says what differs and why it may.

    In a notebook it is shown as that message and the failing line of the check
    cell, without frames of this module (see ``dlutils.progress``).
    """

    def _render_traceback_(self):  # IPython's hook for how an exception is shown
        from dlutils.progress import _render

        return _render(self)


def _n(x):
    """A number with 4 significant digits."""
    return f"{x:.4g}"


def _fail(name, message, hint=None):
    raise CheckFailure(f"{name}: {message}" + (f"\n  Hint: {hint}" if hint else ""))


def _check_returned(got, name):
    if got is None:
        _fail(name, "your function returned None — did you forget `return`?")


def _shape_hint(got_shape, expected_shape):
    """Name the usual cause of a shape mismatch, or return None."""
    g, e = tuple(got_shape), tuple(expected_shape)
    if len(g) == 2 and len(e) == 2 and g == e[::-1]:
        return "the result looks transposed (rows and columns swapped)"
    if len(g) == 1 and len(e) == 2 and e[1] == 1 and g[0] == e[0]:
        return "got a 1-D array where a column is expected: use keepdims=True in the sum, or reshape(-1, 1)"
    if len(g) == 1 and len(e) == 2 and e[0] == 1 and g[0] == e[1]:
        return "got a 1-D array where a row is expected: use keepdims=True in the sum, or reshape(1, -1)"
    if len(g) == 2 and len(e) == 1 and g[0] * g[1] == e[0] and 1 in g:
        return "expected a 1-D array: flatten it, e.g. with .ravel()"
    if len(g) == 2 and len(e) == 2 and e[1] == 1 and g[0] == e[0] and g[1] == g[0] and g[0] > 1:
        return f"a ({e[0]},) array was probably broadcast against a ({e[0]}, 1) one: keep biases and sums 2-D"
    if len(g) == 2 and len(e) == 2 and e[0] == 1 and g[1] == e[1] and g[0] == g[1] and g[0] > 1:
        return f"a ({e[1]},) array was probably broadcast against a (1, {e[1]}) one: keep labels and sums 2-D"
    if None not in e and np.prod(g) == np.prod(e):
        return "same number of entries in a different layout: check your reshape"
    return None


def _close(got, wrong, rtol, atol):
    try:
        wrong = np.asarray(wrong)
        return np.shape(got) == wrong.shape and bool(np.allclose(got, wrong, rtol=rtol, atol=atol, equal_nan=True))
    except (TypeError, ValueError):  # got is not numeric: it matches no mistake
        return False


def _matching_mistake(got, mistakes, rtol, atol):
    return next((label for label, wrong in (mistakes or {}).items() if _close(got, wrong, rtol, atol)), None)


def _value_hint(got, expected, rtol, atol):
    """Name a sign flip, a constant factor, a transpose or all zeros, or return None."""
    if not np.any(expected):
        return None
    if not np.any(got):
        return "got all zeros"
    if np.allclose(got, -expected, rtol=rtol, atol=atol):
        return "the sign is flipped (got == -expected)"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got, expected.T, rtol=rtol, atol=atol):
        return "got the transpose of the expected array"
    c = float(np.vdot(expected, got) / np.vdot(expected, expected))  # least-squares factor
    if np.isfinite(c) and np.allclose(got, c * expected, rtol=max(rtol, 1e-6), atol=atol) and not np.isclose(c, 1.0):
        return f"off by a factor of {_n(c)} (got ≈ {_n(c)} × expected)"
    return None


def _simple_ratio(c):
    # For two numbers any ratio exists; only a whole number or its inverse hints at a cause.
    return any(abs(x - round(x)) < 1e-6 * abs(x) and round(x) >= 2 for x in (abs(c), 1 / abs(c)))


def expect_shape(got, shape, name):
    """Fail unless ``got`` is an array of shape ``shape`` (None entries: any size)."""
    _check_returned(got, name)
    if not hasattr(got, "shape"):
        _fail(name, f"expected an array of shape {fmt_shape(shape)}, got {type(got).__name__}")
    fits = len(got.shape) == len(shape) and all(e is None or e == g for e, g in zip(shape, got.shape))
    if not fits:
        same_rank = len(got.shape) == len(shape)
        if same_rank:
            concrete = tuple(g if e is None else e for e, g in zip(shape, got.shape))
        elif len(got.shape) == 1:  # e.g. (59,) for (1, any): read "any" as 59 to name the missing axis
            concrete = tuple(got.shape[0] if e is None else e for e in shape)
        else:
            concrete = shape
        _fail(name, f"expected shape {fmt_shape(shape)}, got {got.shape}", _shape_hint(got.shape, concrete))


def expect_dtype_float(got, name):
    """Fail unless ``got`` is a float64 array."""
    _check_returned(got, name)
    if not isinstance(got, np.ndarray):
        _fail(name, f"expected a NumPy array, got {type(got).__name__}")
    if not np.issubdtype(got.dtype, np.floating):
        _fail(name, f"expected a float array, got dtype {got.dtype}",
              "np.zeros and rng.standard_normal give float64; avoid dtype=int and integer division")
    if got.dtype != np.float64:
        _fail(name, f"expected float64, got {got.dtype}", "keep float64 (the NumPy default) for exact checks")


def expect_array(got, expected, name, *, rtol=1e-7, atol=1e-12, mistakes=None):
    """Fail unless ``got`` is an array with the shape, dtype kind and values of ``expected``."""
    _check_returned(got, name)
    expected = np.asarray(expected)
    if not isinstance(got, np.ndarray):
        hint = None
        if isinstance(got, tuple):
            hint = f"got a tuple of {len(got)} items: did you return more values than asked?"
        elif isinstance(got, list):
            hint = "wrap it with np.array(...)"
        _fail(name, f"expected a NumPy array of shape {expected.shape}, got {type(got).__name__}", hint)
    mistake = _matching_mistake(got, mistakes, rtol, atol)
    mistake_hint = f"this looks like: {mistake}" if mistake else None
    if got.shape != expected.shape:
        _fail(name, f"expected shape {expected.shape}, got {got.shape}",
              mistake_hint or _shape_hint(got.shape, expected.shape))
    if np.issubdtype(expected.dtype, np.floating) and not np.issubdtype(got.dtype, np.floating):
        _fail(name, f"expected a float array, got dtype {got.dtype}",
              mistake_hint or "avoid dtype=int and integer division (//)")
    bad = ~np.isfinite(got) & np.isfinite(expected) if np.issubdtype(got.dtype, np.inexact) else None
    if bad is not None and bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(name, f"contains {int(bad.sum())} NaN/inf value(s), the first at index {first}",
              mistake_hint or "look for overflow in exp, log(0) or a division by zero")
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    error = float(np.max(np.abs(got.astype(float) - expected.astype(float))))
    _fail(name, f"values differ (max abs error {_n(error)}); first at index {first}: "
          f"expected {_n(expected[first])}, got {_n(got[first])}",
          mistake_hint or _value_hint(got.astype(float), expected.astype(float), rtol, atol)
          or ("your array is float32: keep float64" if got.dtype == np.float32 else None))


def expect_dict_of_arrays(got, expected, name, *, rtol=1e-7, atol=1e-12, mistakes=None):
    """Fail unless ``got`` has exactly the keys of ``expected`` and each array matches."""
    _check_returned(got, name)
    if not isinstance(got, dict):
        _fail(name, f"expected a dict with keys {sorted(expected)}, got {type(got).__name__}")
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    if missing:
        renamed = [k for k in missing if ("d" + k) in got or (k.startswith("d") and k[1:] in got)]
        hint = "gradients are keyed 'dW1', 'db1', ... and parameters 'W1', 'b1', ..." if renamed else None
        _fail(name, f"missing key(s) {', '.join(map(repr, missing))}", hint)
    if extra:
        _fail(name, f"unexpected key(s) {', '.join(map(repr, extra))}")
    mistakes = mistakes or {}
    whole = [label for label, wrong in mistakes.items()
             if wrong.keys() == got.keys() and all(_close(got[k], wrong[k], rtol, atol) for k in got)]
    for key in expected:
        per_key = {label: wrong[key] for label, wrong in mistakes.items() if key in wrong}
        try:
            expect_array(got[key], expected[key], f'{name}["{key}"]', rtol=rtol, atol=atol, mistakes=per_key)
        except CheckFailure as failure:
            if whole and "this looks like" not in str(failure):
                raise CheckFailure(f"{failure}\n  Hint: this looks like: {whole[0]}") from None
            raise


def expect_scalar(got, expected, name, *, rtol=1e-7, atol=1e-12, mistakes=None):
    """Fail unless ``got`` is a number (Python or NumPy scalar, or a 0-d array) close to ``expected``.

    A (1, 1) or (1,) array is refused: the contract asks for a plain number.
    """
    _check_returned(got, name)
    if isinstance(got, np.ndarray) and got.ndim > 0:
        _fail(name, f"expected a number, got an array of shape {got.shape}",
              "turn it into a number with float(...) or np.squeeze(...)")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number, np.ndarray)):
        _fail(name, f"expected a number, got {type(got).__name__}")
    value = float(got)
    if not np.isfinite(value):
        _fail(name, f"expected {_n(expected)}, got {value}", "look for log(0), overflow in exp or a division by zero")
    if np.isclose(value, expected, rtol=rtol, atol=atol):
        return
    mistake = next((label for label, wrong in (mistakes or {}).items()
                    if np.isclose(value, wrong, rtol=rtol, atol=atol)), None)
    hint = f"this looks like: {mistake}" if mistake else None
    if hint is None and expected != 0:
        if np.isclose(value, -expected, rtol=rtol, atol=atol):
            hint = "the sign is flipped (got == -expected)"
        elif value != 0 and _simple_ratio(value / expected):
            hint = f"off by a factor of {_n(value / expected)}"
    _fail(name, f"expected {_n(expected)}, got {_n(value)} (abs error {_n(abs(value - expected))})", hint)


def expect_parameters(parameters, layer_dims, name):
    """Fail unless ``parameters`` is ``{"W1", "b1", ..., "WL", "bL"}`` for ``layer_dims``.

    ``W{l}`` must be a float64 array of shape (n_l, n_{l-1}) and ``b{l}`` one of
    shape (n_l, 1), all finite. Values are not checked.
    """
    _check_returned(parameters, name)
    if not isinstance(parameters, dict):
        _fail(name, f"expected a dict of arrays, got {type(parameters).__name__}")
    L = len(layer_dims) - 1
    expected = [f"{p}{l}" for l in range(1, L + 1) for p in "Wb"]
    missing = [k for k in expected if k not in parameters]
    extra = [k for k in parameters if k not in expected]
    if missing or extra:
        hint = None
        if any(str(k).endswith("0") for k in extra):
            hint = "layers are numbered from 1: W1 connects the input to layer 1"
        elif missing and not extra:
            hint = f"layer_dims={list(layer_dims)} has {L} layers: W1..W{L} and b1..b{L}"
        _fail(name, f"for layer_dims={list(layer_dims)}: missing keys {missing}, unexpected keys {extra}", hint)
    for l in range(1, L + 1):
        shapes = {f"W{l}": (layer_dims[l], layer_dims[l - 1]), f"b{l}": (layer_dims[l], 1)}
        for key, shape in shapes.items():
            value = parameters[key]
            label = f'{name}["{key}"]'
            if not isinstance(value, np.ndarray):
                _fail(label, f"expected a NumPy array, got {type(value).__name__}")
            if value.shape != shape:
                hint = _shape_hint(value.shape, shape)
                if key.startswith("b") and value.ndim == 1:
                    hint = "biases must be 2-D column vectors of shape (n_l, 1)"
                elif key.startswith("W") and value.shape == shape[::-1]:
                    hint = "it looks transposed: W{l} has shape (n_l, n_{l-1})"
                _fail(label, f"expected shape {shape}, got {value.shape}", hint)
            expect_dtype_float(value, label)
            if not np.all(np.isfinite(value)):
                _fail(label, "contains NaN or inf")


def expect_zeros(got, name):
    """Fail unless ``got`` is an array of zeros."""
    _check_returned(got, name)
    if not isinstance(got, np.ndarray):
        _fail(name, f"expected a NumPy array of zeros, got {type(got).__name__}")
    nonzero = np.count_nonzero(got)
    if nonzero:
        _fail(name, f"expected all zeros, got {nonzero} nonzero entries (max |value| {_n(np.max(np.abs(got)))})")


def _same(before, after):
    if isinstance(before, dict):
        return isinstance(after, dict) and before.keys() == after.keys() and all(
            _same(before[k], after[k]) for k in before
        )
    return np.shape(before) == np.shape(after) and np.array_equal(before, after, equal_nan=True)


def expect_unchanged(before, after, name):
    """Fail if ``after`` (an argument after the call) differs from ``before`` (a copy taken before).

    Works for arrays and for dicts of arrays.
    """
    if not _same(before, after):
        _fail(name, f"your function modified its input {name} in place",
              "work on a copy (x = x.copy()) or build new arrays (x = x - step, not x -= step)")


def expect_raises(error, call, name, hint=None):
    """Fail unless ``call()`` raises ``error`` (e.g. a ValueError for an input no answer fits).

    ``call`` takes no arguments: ``lambda: pick_model(models, 0.01, 10)``. Any other
    exception propagates with its own traceback (it is the student's).
    """
    try:
        call()
    except error:
        return
    _fail(name, f"expected a {error.__name__}, but it returned normally", hint)


def expect_statistics(samples, name, *, mean=None, var=None, rel_tol=0.05, abs_tol=None, alternatives=None):
    """Fail unless random ``samples`` have about the given mean and variance.

    The mean may be off by ``abs_tol`` + rel_tol * |mean|; abs_tol defaults to
    5 standard errors of the sample mean. The variance may be off by rel_tol,
    widened to 5 standard errors for small samples. ``alternatives`` maps a
    label to a wrong variance (e.g. "1/n_{l-1} (Xavier) instead of 2/n_{l-1} (He)")
    that is named when the samples fit it.
    """
    _check_returned(samples, name)
    x = np.asarray(samples, dtype=float).ravel()
    if x.size < 2:
        raise ValueError(f"samples: expected at least 2 values, got {x.size}")
    n, x_mean, x_var = x.size, float(x.mean()), float(x.var())
    if not np.isfinite(x_var):
        _fail(name, "contains NaN/inf values")
    if var is not None and var > 0 and x_var == 0:
        _fail(name, f"all {n} values are equal to {_n(x[0])}; expected random values with variance {_n(var)}",
              "did you draw them from rng?")
    if mean is not None:
        tol = (5 * np.sqrt(x_var / n) if abs_tol is None else abs_tol) + rel_tol * abs(mean)
        if abs(x_mean - mean) > tol:
            _fail(name, f"sample mean {_n(x_mean)}, expected about {_n(mean)} (± {_n(tol)})")
    if var is not None:
        rel = max(rel_tol, 5 * np.sqrt(2 / (n - 1)))  # std of a sample variance is about var * sqrt(2/(n-1))
        if abs(x_var - var) > rel * var:
            label = next((label for label, alt in (alternatives or {}).items() if abs(x_var - alt) <= rel * alt), None)
            _fail(name, f"sample variance {_n(x_var)}, expected about {_n(var)} (± {_n(100 * rel)}%)",
                  f"this looks like: {label}" if label else f"that is {_n(x_var / var)} × the expected variance")


def passed(what):
    """Print the one line a test cell shows when all its checks passed.

    Every test cell ends with ``checks.passed("<name>")``: the score view
    (``dlutils.progress``) knows the cell by that call.
    """
    print(f"✓ {what}: all visible checks passed")


def column_origins(X_part, X):
    """Index in ``X`` of each column of ``X_part``, or -1 where it is not a column of ``X``.

    X: (n, m) with distinct columns (the examples a function was given);
    X_part: (n, k), e.g. one split or one mini-batch it returned. Columns are
    matched exactly, so a check can tell which examples came back and in what order.
    Returns an int array of shape (k,).
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (n, m), got shape {X.shape}")
    index = {np.ascontiguousarray(X[:, j]).tobytes(): j for j in range(X.shape[1])}
    if len(index) < X.shape[1]:
        raise ValueError("X: expected distinct columns, so that each example can be recognised")
    X_part = np.asarray(X_part)
    if X_part.ndim != 2 or X_part.shape[0] != X.shape[0]:
        raise ValueError(f"X_part: expected shape ({X.shape[0]}, k), got {X_part.shape}")
    if X_part.dtype != X.dtype:
        return np.full(X_part.shape[1], -1, dtype=np.int64)
    return np.array([index.get(np.ascontiguousarray(X_part[:, j]).tobytes(), -1)
                     for j in range(X_part.shape[1])], dtype=np.int64)


def _pairs(parts):
    """(label of X, label of Y, pair) for a dict name -> pair or a list of pairs."""
    if isinstance(parts, dict):
        return [(f"X_{key}", f"Y_{key}", pair) for key, pair in parts.items()]
    return [(f"X of part {i}", f"Y of part {i}", pair) for i, pair in enumerate(parts)]


def expect_partition(parts, X, Y, name, *, sizes=None, pair_type=(tuple, list), shuffled=False):
    """Fail unless ``parts`` split the examples of ``X``, ``Y``: each exactly once, with its label.

    parts: dict part name -> (X_part, Y_part), e.g. {"train": (X_train, Y_train), "dev": ...}
    (messages then say X_train, Y_dev, ...), or a list of (X_part, Y_part) pairs such as
    mini-batches. X: (n_x, m) with distinct columns; Y: (n_y, m). Each X_part must be
    (n_x, k) with whole columns of X (any order), each Y_part (n_y, k) with their labels.
    sizes: optionally the number of examples k of each part, in order (e.g. [4, 4, 2] for
    mini-batches of 4 from m = 10); then the number of parts and each k are checked first.
    pair_type: the type(s) each (X_part, Y_part) may have, e.g. ``tuple`` where the contract says tuples.
    shuffled: also fail when the parts, read in order, hold the examples in their original order.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(f"X, Y: expected shapes (n_x, m) and (n_y, m), got {X.shape} and {Y.shape}")
    m = X.shape[1]
    labelled = _pairs(parts)
    if sizes is not None and len(labelled) != len(sizes):
        _fail(name, f"expected {len(sizes)} parts (of {', '.join(map(str, sizes))} examples), got {len(labelled)}")
    counts = np.zeros(m, dtype=np.int64)
    where = [[] for _ in range(m)]
    order = []  # the origins of each part's columns, part after part
    for i, (x_label, y_label, pair) in enumerate(labelled):
        _check_returned(pair, name)
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            what = f"{len(pair)} items" if isinstance(pair, (tuple, list)) else type(pair).__name__
            _fail(name, f"expected a pair ({x_label}, {y_label}), got {what}")
        if not isinstance(pair, pair_type):
            wanted = " or ".join(t.__name__ for t in (pair_type if isinstance(pair_type, tuple) else (pair_type,)))
            _fail(name, f"expected the pair ({x_label}, {y_label}) as a {wanted}, got a {type(pair).__name__}")
        X_part, Y_part = pair
        k = None if sizes is None else sizes[i]
        expect_shape(X_part, (X.shape[0], k), f"{name}: {x_label}")
        expect_shape(Y_part, (Y.shape[0], k), f"{name}: {y_label}")
        k = X_part.shape[1]
        if Y_part.shape[1] != k:
            _fail(name, f"{x_label} has {k} columns but {y_label} has {Y_part.shape[1]}",
                  "split X and Y with the same indices")
        origins = column_origins(X_part, X)
        strangers = int(np.sum(origins < 0))
        if strangers:
            hint = (f"{x_label} has dtype {X_part.dtype}, X has {X.dtype}: keep the dtype"
                    if X_part.dtype != X.dtype else
                    "move whole columns (examples), e.g. X[:, indices]; never shuffle rows or single entries")
            _fail(name, f"{strangers} of the {k} columns of {x_label} are not columns (examples) of X", hint)
        wrong = np.flatnonzero(np.any(Y_part != Y[:, origins], axis=0))
        if wrong.size:
            j = int(wrong[0])
            _fail(name, f"{wrong.size} of the {k} columns of {y_label} are not the labels of the matching "
                  f"columns of {x_label}: its column {j} is example {origins[j]} of X, whose label is "
                  f"{Y[:, origins[j]].tolist()}, but got {Y_part[:, j].tolist()}",
                  "labels must travel with their examples: index X and Y with the same permutation")
        np.add.at(counts, origins, 1)
        order.append(origins)
        for j in origins:
            where[j].append(x_label)
    repeated = np.flatnonzero(counts > 1)
    if repeated.size:
        j = int(repeated[0])
        _fail(name, f"{repeated.size} example(s) appear more than once, e.g. example {j} of X is in "
              f"{', '.join(where[j])}",
              "each example goes to exactly one place: split one permutation of the indices "
              "(rng.permutation), not draws with replacement")
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        _fail(name, f"{missing.size} of the {m} examples are missing, e.g. example {int(missing[0])} of X",
              "every example must land somewhere: the last part takes all that is left")
    if shuffled and m > 1 and np.array_equal(np.concatenate(order), np.arange(m)):
        _fail(name, "the examples came back in their original order: shuffle them first")


def expect_split(result, X, Y, sizes, name, *, shuffled=False):
    """Fail unless ``result`` is ``((X_train, Y_train), (X_dev, Y_dev), (X_test, Y_test))`` splitting ``X``, ``Y``.

    sizes: part name -> number of examples, e.g. {"train": 6, "dev": 2, "test": 2}; the parts
    come back in that order. Each example must land in exactly one part, with its label
    (``expect_partition``; ``shuffled``: and not in their original order). Returns the dict
    part name -> (X_part, Y_part).
    """
    _check_returned(result, name)
    if not isinstance(result, tuple) or len(result) != len(sizes):
        pairs = ", ".join(f"(X_{part}, Y_{part})" for part in sizes)
        _fail(name, f"return {len(sizes)} pairs: ({pairs}), got "
              + (f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__))
    parts = dict(zip(sizes, result))
    expect_partition(parts, X, Y, name, sizes=list(sizes.values()), shuffled=shuffled)
    return parts


def expect_same_draws(first, again, name, hint="draw every random number from `rng`"):
    """Fail unless two results of the same call with equally seeded generators are identical.

    ``first`` and ``again`` may be arrays or nested tuples, lists and dicts of arrays (e.g. the
    pairs of a split or a list of mini-batches).
    """
    if not _same_nested(first, again):
        _fail(name, "the same seed gave a different result", hint)


def _same_nested(a, b):
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(map(_same_nested, a, b))
    return _same(a, b)


def expect_shares(values, value_range, expected, name, *, atol, mistakes=None):
    """Fail unless the share of ``values`` in each of ``len(expected)`` equal bins of ``value_range`` is close to
    ``expected`` (within ``atol``).

    E.g. ``expect_shares(np.log10(samples), (-4, 0), np.full(4, 0.25), ...)``: a quarter of the samples in each
    decade of [1e-4, 1]. ``mistakes`` maps a label to the shares a known mistake gives (``expect_array``).
    """
    values = np.asarray(values, dtype=float).ravel()
    expected = np.asarray(expected, dtype=float)
    shares = np.histogram(values, bins=expected.size, range=value_range)[0] / values.size
    expect_array(shares, expected, name, atol=atol, mistakes=mistakes)


def expect_records(got, name, *, length=None, keys=None, what="dicts"):
    """Fail unless ``got`` is a list of dicts (``length`` of them, each with exactly ``keys``, when given).

    Returns the columns: key -> np.array of that key's values over the records (for ``keys``).
    """
    _check_returned(got, name)
    if not isinstance(got, list) or (length is not None and len(got) != length):
        count = "" if length is None else f"{length} "
        size = f" of length {len(got)}" if hasattr(got, "__len__") else ""
        _fail(name, f"expected a list of {count}{what}, got {type(got).__name__}{size}")
    if not all(isinstance(record, dict) for record in got):
        _fail(name, f"expected a list of {what}, got items of type "
              + ", ".join(sorted({type(record).__name__ for record in got})))
    if keys is None:
        return {}
    if not all(sorted(record) == sorted(keys) for record in got):
        _fail(name, f"each of the {what} must have exactly the keys {sorted(keys)}; the first is {got[0]!r}")
    return {key: np.array([record[key] for record in got]) for key in keys}
