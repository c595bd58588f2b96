"""Hidden checks of 04_gradient_checking.

The answers are computed here, by straightforward loops over copies of theta,
on probes from :mod:`grader.checks.probes`. Where the math is exact the checks
are strict: a centred difference of a quadratic is exact for any epsilon, and
with a large epsilon (1e-2) on a curved function every formula (one-sided,
divided by epsilon, epsilon ignored, ...) gives a clearly different, fully
reproducible result, so rounding noise (about 1e-16 |f| / epsilon) is far
below the tolerances. Known mistakes are recomputed the same way and named
when a result matches one.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from dlutils import checks
from dlutils.params import dictionary_to_vector, vector_to_dictionary

from ._common import call, call_each, call_with_inputs, fail
from .probes import NetCost, Quadratic, Sines

DEFAULT_EPSILON = 1e-7


# ---------------------------------------------------------------- finite differences, done right and wrong

def _differences(f: Callable, theta: np.ndarray, epsilon: float, kind: str = "centred") -> np.ndarray:
    """Finite-difference gradient of f at theta (any shape), one entry at a time, on copies."""
    grad = np.zeros(theta.shape)
    for i in np.ndindex(theta.shape):
        plus, minus = theta.copy(), theta.copy()
        plus[i] = theta[i] + epsilon
        minus[i] = theta[i] - epsilon
        if kind == "centred":
            grad[i] = (f(plus) - f(minus)) / (2 * epsilon)
        elif kind == "forward":
            grad[i] = (f(plus) - f(theta)) / epsilon
        elif kind == "backward":
            grad[i] = (f(theta) - f(minus)) / epsilon
        else:
            raise ValueError(kind)
    return grad


def _all_at_once(f: Callable, theta: np.ndarray, epsilon: float) -> np.ndarray:
    value = (f(theta + epsilon) - f(theta - epsilon)) / (2 * epsilon)
    return np.full(theta.shape, value)


def _numerical_mistakes(f: Callable, theta: np.ndarray, epsilon: float) -> dict[str, np.ndarray]:
    right = _differences(f, theta, epsilon)
    mistakes = {
        "one-sided (forward) differences (f(θ+ε) − f(θ)) / ε; use centred ones, (f(θ+ε) − f(θ−ε)) / (2ε)":
            _differences(f, theta, epsilon, "forward"),
        "one-sided (backward) differences (f(θ) − f(θ−ε)) / ε; use centred ones, (f(θ+ε) − f(θ−ε)) / (2ε)":
            _differences(f, theta, epsilon, "backward"),
        "divided by ε instead of 2ε (θ+ε and θ−ε are 2ε apart)": 2 * right,
        "θ perturbed by ±2ε but divided by 2ε": 2 * _differences(f, theta, 2 * epsilon),
        "every coordinate of θ perturbed at once; perturb one entry at a time": _all_at_once(f, theta, epsilon),
    }
    if epsilon != DEFAULT_EPSILON:
        mistakes["the epsilon argument ignored (1e-7 used whatever epsilon is passed)"] = (
            _differences(f, theta, DEFAULT_EPSILON))
    return mistakes


def _noise(f: Callable, theta: np.ndarray, epsilon: float) -> float:
    """Rounding a correct implementation may add to an entry: a few ulps of f (and of θ) over 2ε."""
    scale = max(abs(f(theta)), 1.0)
    return 64 * np.finfo(float).eps * scale / epsilon


def _expect_theta_unchanged(before: np.ndarray, after, who: str) -> None:
    if np.shape(after) == before.shape and np.array_equal(after, before):
        return
    if np.shape(after) != before.shape:
        fail(f"{who}: theta's shape changed from {before.shape} to {np.shape(after)}; leave theta unchanged")
    drift = np.abs(np.asarray(after, dtype=float) - before)
    index = tuple(int(i) for i in np.argwhere(drift > 0)[0])
    message = (f"{who} changed its input theta (at index {index}: was {float(before[index])!r}, "
               f"now {float(np.asarray(after)[index])!r}); theta must be left unchanged.")
    if drift.max() <= 1e-12 * max(np.abs(before).max(), 1.0):
        message += ("\n  Hint: a tiny change like this is floating-point drift: θ + ε − 2ε + ε is not always "
                    "exactly θ. Save the original entry and put it back (θ[i] = saved), or perturb a copy.")
    else:
        message += ("\n  Hint: restore each entry after perturbing it (θ[i] = saved), "
                    "or perturb a copy (theta.copy()).")
    fail(message)


# ---------------------------------------------------------------- numerical_gradient

def _numerical_case(numerical_gradient: Callable, f, theta: np.ndarray, label: str,
                    epsilon: float | None, mistakes: bool = True) -> None:
    who = "numerical_gradient"
    eps = DEFAULT_EPSILON if epsilon is None else epsilon
    kwargs = {} if epsilon is None else {"epsilon": epsilon}
    got, (_, theta_after), _ = call_with_inputs(numerical_gradient, f, theta, **kwargs)
    _expect_theta_unchanged(theta, theta_after, who)  # first: a moved theta also spoils the values
    expected = _differences(f, theta, eps)
    name = f"{who}({label}{'' if epsilon is None else f', epsilon={epsilon:g}'})"
    checks.expect_array(got, expected, name, rtol=1e-7, atol=_noise(f, theta, eps),
                        mistakes=_numerical_mistakes(f, theta, eps) if mistakes else None)
    checks.expect_dtype_float(got, name)


def check_numerical_gradient(numerical_gradient: Callable) -> None:
    rng = np.random.default_rng(40)
    n = 6
    # A curved function and a large epsilon first: the formula used shows in the result.
    sines = Sines(rng.uniform(0.5, 2.0, n), rng.uniform(1.0, 3.0, n))
    _numerical_case(numerical_gradient, sines, rng.uniform(-2, 2, (n, 1)), "Sines", epsilon=1e-2)
    _numerical_case(numerical_gradient, sines, rng.uniform(-2, 2, n), "Sines", epsilon=0.1)

    # A quadratic: the default epsilon, both vector shapes, against the exact gradient.
    quadratic = Quadratic(rng.standard_normal((n, n)), rng.standard_normal(n))
    for theta in (rng.standard_normal((n, 1)), rng.standard_normal(n)):
        got, (_, theta_after), _ = call_with_inputs(numerical_gradient, quadratic, theta)
        _expect_theta_unchanged(theta, theta_after, "numerical_gradient")
        name = f"numerical_gradient(Quadratic, theta of shape {theta.shape})"
        checks.expect_array(got, quadratic.gradient(theta), name, rtol=1e-6,
                            atol=_noise(quadratic, theta, DEFAULT_EPSILON),
                            mistakes=_numerical_mistakes(quadratic, theta, DEFAULT_EPSILON))
        checks.expect_dtype_float(got, name)

    # The default must be 1e-7: with frequency 300 a default of 1e-5 is off by about 1e-6 relative.
    fast = Sines(np.ones(4), [300.0, 250.0, 280.0, 310.0])
    theta = rng.uniform(-1, 1, (4, 1))
    got = call(numerical_gradient, fast, theta)
    expected = _differences(fast, theta, DEFAULT_EPSILON)
    checks.expect_array(got, expected, "numerical_gradient(Sines of frequency ~300, default epsilon)",
                        rtol=1e-7, atol=_noise(fast, theta, DEFAULT_EPSILON),
                        mistakes={f"a default epsilon of {e:g} (the contract's default is 1e-7)":
                                  _differences(fast, theta, e) for e in (1e-4, 1e-5, 1e-6)})


# ---------------------------------------------------------------- relative_difference

def _rel(g, a) -> float:
    g, a = np.asarray(g, dtype=float), np.asarray(a, dtype=float)
    denominator = np.linalg.norm(g) + np.linalg.norm(a)
    return 0.0 if denominator == 0 else float(np.linalg.norm(g - a) / denominator)


def _relative_mistakes(g: np.ndarray, a: np.ndarray) -> dict[str, float]:
    ng, na, nd = np.linalg.norm(g), np.linalg.norm(a), np.linalg.norm(g - a)
    mistakes = {
        "no denominator: ||g − a|| alone is not relative (divide by ||g|| + ||a||)": nd,
        "squared norms; use the norms themselves": nd**2 / (ng**2 + na**2),
        "the largest |entry| (max norm) in place of the 2-norm": np.max(np.abs(g - a)) / (
            np.max(np.abs(g)) + np.max(np.abs(a))),
        "the sum of |entries| (1-norm) in place of the 2-norm": np.sum(np.abs(g - a)) / (
            np.sum(np.abs(g)) + np.sum(np.abs(a))),
        "only ||grad|| in the denominator; use ||grad|| + ||grad_approx||": nd / ng if ng else np.inf,
        "only ||grad_approx|| in the denominator; use ||grad|| + ||grad_approx||": nd / na if na else np.inf,
        "||g + a|| in the denominator; use ||g|| + ||a|| (two norms added)": nd / np.linalg.norm(g + a),
        "||g − a|| / ||g|| + ||a||: put the denominator in parentheses": nd / ng + na if ng else np.inf,
    }
    for constant in (1e-8, 1e-10, 1e-12):
        mistakes[f"a small constant ({constant:g}) added to the denominator, which changes the result; "
                 "return 0.0 when both norms are 0 instead"] = nd / (ng + na + constant)
    if g.ndim == 2 and min(g.shape) > 1:
        mistakes["the spectral norm of a matrix (np.linalg.norm(x, 2)); use np.linalg.norm(x) "
                 "(all entries, the Frobenius norm)"] = (
            np.linalg.norm(g - a, 2) / (np.linalg.norm(g, 2) + np.linalg.norm(a, 2)))
    return {k: float(v) for k, v in mistakes.items() if np.isfinite(v)}


def check_relative_difference(relative_difference: Callable) -> None:
    who = "relative_difference"
    rng = np.random.default_rng(41)
    g = rng.standard_normal((5, 1))
    cases = [
        ("two (5, 1) columns", g, g + 0.1 * rng.standard_normal((5, 1))),
        ("two (5, 1) columns of different sizes", g, 3 * g + rng.standard_normal((5, 1))),
        ("two (7,) vectors", rng.standard_normal(7), 0.5 * rng.standard_normal(7)),
        ("two (3, 4) matrices", rng.standard_normal((3, 4)), rng.standard_normal((3, 4))),
        ("two (6, 1) columns with entries about 1e-9", 1e-9 * rng.standard_normal((6, 1)),
         1e-9 * rng.standard_normal((6, 1))),
        ("grad all zeros, grad_approx not", np.zeros((4, 1)), rng.standard_normal((4, 1))),
        ("two equal columns", g, g.copy()),
    ]
    calls = [((grad, approx), {}) for _, grad, approx in cases]
    for (label, grad, approx), got in zip(cases, call_each(relative_difference, calls)):
        checks.expect_scalar(got, _rel(grad, approx), f"{who}({label})", rtol=1e-9, atol=1e-15,
                             mistakes=_relative_mistakes(grad, approx))
    zeros = np.zeros((3, 1))
    got = call(relative_difference, zeros, zeros)
    if isinstance(got, (float, np.floating)) and np.isnan(got):
        fail(f"{who}(zeros, zeros) returned nan: 0/0 when both norms are 0. "
             "Return 0.0 in that case (test the denominator before dividing).")
    checks.expect_scalar(got, 0.0, f"{who}(zeros, zeros)", atol=0.0)


# ---------------------------------------------------------------- gradient_check

def _net_problem(seed: int, layer_dims: list[int], m: int, lambd: float = 0.0):
    """A NetCost probe, random parameters (moderate, so tanh is neither flat nor saturated) and exact grads."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((layer_dims[0], m))
    Y = (rng.random((1, m)) < 0.5).astype(np.float64)
    cost = NetCost(X, Y, "tanh", lambd)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = rng.standard_normal((layer_dims[l], layer_dims[l - 1]))
        parameters[f"b{l}"] = 0.5 * rng.standard_normal((layer_dims[l], 1))
    return cost, parameters, cost.gradients(parameters)


def _reversed(grads: Mapping) -> dict:
    """grads in the order backprop fills them: last layer first."""
    return dict(reversed(list(grads.items())))


class _CostOf:
    """The cost as a function of some of the parameters, the others held at their values."""

    def __init__(self, parameters, cost_fn):
        self.parameters, self.cost_fn = parameters, cost_fn

    def __call__(self, sub):
        return self.cost_fn({**self.parameters, **sub})


def _vectors(parameters: Mapping, grads: Mapping, cost_fn: Callable, epsilon: float, kind: str = "centred",
             keys=None):
    theta, spec = dictionary_to_vector(dict(parameters), keys)
    grad, _ = dictionary_to_vector(dict(grads), ["d" + k for k, _ in spec])
    approx = _differences(lambda t: cost_fn(vector_to_dictionary(t, spec)), theta, epsilon, kind)
    return grad, approx


def _check_value(parameters, grads, cost_fn, epsilon):
    grad, approx = _vectors(parameters, grads, cost_fn, epsilon)
    return _rel(grad, approx)


def _check_mistakes(parameters, grads, cost_fn, epsilon) -> dict[str, float]:
    grad, approx = _vectors(parameters, grads, cost_fn, epsilon)
    forward = _vectors(parameters, grads, cost_fn, epsilon, "forward")[1]
    weights = [k for k in dictionary_to_vector(dict(parameters))[1] if k[0].startswith("W")]
    w_grad, w_approx = _vectors({k: parameters[k] for k, _ in weights}, grads, _CostOf(parameters, cost_fn),
                                epsilon)
    mistakes = {
        "one-sided (forward) differences; use centred ones, (J(θ+ε) − J(θ−ε)) / (2ε)": _rel(grad, forward),
        "divided by ε instead of 2ε": _rel(grad, 2 * approx),
        "only the weights W{l} are checked; the biases b{l} belong in the check too": _rel(w_grad, w_approx),
        "the difference without the denominator (||g − a||, not relative)": float(np.linalg.norm(grad - approx)),
        "squared norms in the relative difference": float(np.linalg.norm(grad - approx) ** 2 / (
            np.linalg.norm(grad) ** 2 + np.linalg.norm(approx) ** 2)),
        "the max norm in place of the 2-norm": float(np.max(np.abs(grad - approx)) / (
            np.max(np.abs(grad)) + np.max(np.abs(approx)))),
    }
    if epsilon != DEFAULT_EPSILON:
        mistakes["the epsilon argument ignored (1e-7 used whatever epsilon is passed)"] = _check_value(
            parameters, grads, cost_fn, DEFAULT_EPSILON)
    # grads flattened in their own order (insertion or alphabetical), parameters in layer order
    theta_keys = [k for k, _ in dictionary_to_vector(dict(parameters))[1]]
    for how, grad_keys in (("in the order of the grads dict", list(grads)),
                           ("in alphabetical order", sorted(grads))):
        if grad_keys != ["d" + k for k in theta_keys]:
            g = np.concatenate([np.asarray(grads[k]).reshape(-1) for k in grad_keys]).reshape(-1, 1)
            if g.shape == approx.shape:
                mistakes[f"grads flattened {how} but parameters in layer order (W1, b1, W2, ...): entries "
                         "no longer line up; pair dW{l} with W{l}, db{l} with b{l}"] = _rel(g, approx)
    return mistakes


def _number(got, who: str) -> float:
    """got as a float, failing unless it is one finite number (a 0-d array is fine)."""
    if got is None:
        fail(f"{who}: your function returned None — did you forget `return`?")
    if isinstance(got, np.ndarray) and got.ndim > 0:
        fail(f"{who}: expected a number, got an array of shape {got.shape}\n"
             "  Hint: turn it into a number with float(...)")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number, np.ndarray)):
        fail(f"{who}: expected a number, got {type(got).__name__}")
    value = float(got)
    if not np.isfinite(value):
        fail(f"{who}: expected a finite number, got {value}")
    return value


def _gradient_check_case(gradient_check: Callable, label: str, parameters, grads, cost_fn,
                         epsilon: float | None) -> None:
    who = f"gradient_check({label}{'' if epsilon is None else f', epsilon={epsilon:g}'})"
    eps = DEFAULT_EPSILON if epsilon is None else epsilon
    kwargs = {} if epsilon is None else {"epsilon": epsilon}
    got = call(gradient_check, parameters, grads, cost_fn, **kwargs)
    expected = _check_value(parameters, grads, cost_fn, eps)
    mistakes = _check_mistakes(parameters, grads, cost_fn, eps)
    if expected < 1e-7 and eps == DEFAULT_EPSILON:
        # Correct gradients: the result is rounding noise (about 1e-9); any value below 1e-6 is right.
        value = _number(got, who)
        if not 0 <= value < 1e-6:
            mistake = next((m for m, v in mistakes.items() if np.isclose(value, v, rtol=1e-3)), None)
            fail(f"{who}: the gradients are correct, so the relative difference should be tiny "
                 f"(about {expected:.0e}, anything below 1e-6), got {value:.4g}"
                 + (f"\n  Hint: this looks like: {mistake}" if mistake else ""))
        return
    checks.expect_scalar(got, expected, who, rtol=1e-5, atol=1e-12, mistakes=mistakes)


def check_gradient_check(gradient_check: Callable) -> None:
    cost, parameters, grads = _net_problem(42, [3, 4, 3, 1], m=8)
    _gradient_check_case(gradient_check, "correct gradients", parameters, grads, cost, None)
    # Backprop fills grads from the last layer down: the dict order differs from parameters'.
    _gradient_check_case(gradient_check, "correct gradients, grads ordered dW3, db3, dW2, ...",
                         parameters, _reversed(grads), cost, None)
    bias_bug = {**grads, "db2": 3 * grads["db2"]}
    _gradient_check_case(gradient_check, "db2 three times too large", parameters, bias_bug, cost, None)
    weight_bug = _reversed(grads)
    weight_bug["dW1"] = weight_bug["dW1"].copy()
    weight_bug["dW1"][1, 2] += 0.05
    _gradient_check_case(gradient_check, "one entry of dW1 off by 0.05, grads ordered dW3, db3, ...",
                         parameters, weight_bug, cost, None)
    # A large epsilon: the truncation error (about 1e-5 here) shows which epsilon and formula were used.
    _gradient_check_case(gradient_check, "correct gradients", parameters, grads, cost, 1e-2)
    # Another net, with an L2 term in the cost and in the gradients.
    cost, parameters, grads = _net_problem(43, [2, 5, 1], m=6, lambd=0.7)
    _gradient_check_case(gradient_check, "L2-regularized cost, correct gradients", parameters, grads, cost, None)


# ---------------------------------------------------------------- suspect_gradients

def _per_key(parameters, grads, cost_fn, epsilon) -> dict[str, float]:
    """Relative difference of each gradient, checked against the cost as a function of its parameter alone."""
    differences = {}
    for key in grads:
        name = key[1:]
        sub = _CostOf(parameters, cost_fn)
        approx = _differences(lambda value: sub({name: value}), np.asarray(parameters[name], dtype=float), epsilon)
        differences[key] = _rel(grads[key], approx)
    return differences


def _suspect_case(suspect_gradients: Callable, label: str, parameters, grads, cost_fn,
                  threshold: float | None, epsilon: float | None) -> None:
    args = {k: v for k, v in (("threshold", threshold), ("epsilon", epsilon)) if v is not None}
    shown = "".join(f", {k}={v:g}" for k, v in args.items())
    who = f"suspect_gradients({label}{shown})"
    t = 1e-5 if threshold is None else threshold
    differences = _per_key(parameters, grads, cost_fn, DEFAULT_EPSILON if epsilon is None else epsilon)
    # Keys within a factor 1.5 of the threshold could honestly go either way: accept both.
    required = [k for k in sorted(differences, key=differences.get, reverse=True) if differences[k] > 1.5 * t]
    allowed = {k for k, d in differences.items() if d > t / 1.5}
    got = call(suspect_gradients, parameters, grads, cost_fn, **args)
    if got is None:
        fail(f"{who}: your function returned None — did you forget `return`?")
    if isinstance(got, np.ndarray):
        got = got.tolist()
    if not isinstance(got, (list, tuple)) or not all(isinstance(k, str) for k in got):
        fail(f"{who}: expected a list of keys of grads, such as ['dW2', 'db1'], got {got!r}")
    got = list(got)
    shown_diffs = ", ".join(f"{k}: {d:.1e}" for k, d in differences.items())
    for key in got:
        if key not in grads:
            hint = (f"name the gradients (keys of grads, e.g. 'd{key}'), not the parameters"
                    if ("d" + key) in grads else f"the keys of grads are {list(grads)}")
            fail(f"{who}: {key!r} is not a key of grads\n  Hint: {hint}")
    if len(set(got)) != len(got):
        fail(f"{who}: some keys are listed twice: {got}; list each suspect once")
    missing = [k for k in required if k not in got]
    if missing:
        hint = ""
        if epsilon is not None and all(d < 1e-6 for d in _per_key(parameters, grads, cost_fn,
                                                                    DEFAULT_EPSILON).values()):
            hint = (f"\n  Hint: with epsilon={epsilon:g} even correct gradients differ by the truncation error "
                    "of the finite difference: use the epsilon argument")
        fail(f"{who}: missing {missing}: their relative differences are above the threshold {t:g} "
             f"(relative difference of each gradient, checked on its own: {shown_diffs}){hint}")
    extra = [k for k in got if k not in allowed]
    if extra:
        hint = ""
        if threshold is not None and all(differences[k] > 1e-5 / 1.5 for k in got):
            hint = "\n  Hint: use the threshold argument, not a fixed 1e-5"
        fail(f"{who}: {extra} should not be listed: their relative differences are not above the threshold "
             f"{t:g} (relative difference of each gradient, checked on its own: {shown_diffs}){hint}")
    values = [differences[k] for k in got]
    if any(later > earlier * (1 + 1e-6) for earlier, later in zip(values, values[1:])):
        fail(f"{who}: list the suspects worst first (largest relative difference first): got {got}, "
             f"expected {sorted(got, key=differences.get, reverse=True)} ({shown_diffs})")


def check_suspect_gradients(suspect_gradients: Callable) -> None:
    cost, parameters, grads = _net_problem(44, [3, 4, 3, 1], m=8)
    _suspect_case(suspect_gradients, "correct gradients", parameters, grads, cost, None, None)
    # Ordered as backprop fills them, so that the dict order is not the order of the answer.
    buggy = _reversed(grads)
    buggy["db2"] = 1.5 * buggy["db2"]
    buggy["dW1"] = buggy["dW1"].copy()
    buggy["dW1"][0, 1] += 0.5
    _suspect_case(suspect_gradients, "db2 and dW1 wrong, grads ordered dW3, db3, ...",
                  parameters, buggy, cost, None, None)
    swapped = {**grads, "dW3": 2 * grads["dW3"], "db1": 0.0 * grads["db1"], "dW2": grads["dW2"].T.reshape(
        grads["dW2"].shape)}
    _suspect_case(suspect_gradients, "dW3 doubled, db1 zeroed, dW2 scrambled", parameters, swapped, cost,
                  None, None)
    # A small error: suspect at the default threshold, not at a looser one.
    slight = {**grads, "dW3": grads["dW3"] * (1 + 1e-4)}
    _suspect_case(suspect_gradients, "dW3 off by 0.01 %", parameters, slight, cost, None, None)
    _suspect_case(suspect_gradients, "dW3 off by 0.01 %", parameters, slight, cost, 1e-3, None)
    # A large epsilon makes every (correct) gradient differ by its truncation error: epsilon must be used.
    # The threshold goes in the widest gap between those errors (1.2e-6 and 1.6e-5 here).
    d = np.log(sorted(_per_key(parameters, grads, cost, 1e-2).values()))
    gap = int(np.argmax(np.diff(d)))
    threshold = float(np.exp((d[gap] + d[gap + 1]) / 2))
    _suspect_case(suspect_gradients, "correct gradients", parameters, grads, cost, threshold, 1e-2)
