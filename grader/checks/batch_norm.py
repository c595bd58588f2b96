"""Hidden checks of 10_batch_norm.

The forward is compared with batch norm computed here, on random shapes,
inputs with a large mean (5 * randn + 12), nonzero gamma and beta, a single
example (m = 1: the population variance is 0, so the output is beta), rows
whose variance is about epsilon (so epsilon must sit inside the square root)
and an explicit epsilon. Known mistakes are recomputed and named.

The backward is judged with the student's *own* cache, whatever its layout:
the check calls the student's ``batchnorm_forward`` (always with an explicit
epsilon) and hands the cache it returned to ``batchnorm_backward``, as plain data (a NamedTuple arrives as a
tuple, exactly as across the secure grader's process boundary). The answer it
must match is the centred-difference gradient of batch norm itself with a
random upstream gradient (all ones would make dZ exactly 0 and hide bugs),
relative error below 1e-7. Using batch norm itself, rather than the student's
forward, for the differences keeps the hidden checks of the two exercises
independent where the cache allows it: a forward with a wrong default epsilon,
or one that forgets beta, still caches the right values. (The visible check of
the backward compares with centred differences of the student's own forward, so
there a wrong forward shows up too: finish Exercise 1 first, the notebook says.)
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlutils.bn_net import numerical_gradients, relative_error
from dlutils.checks import expect_array, expect_dtype_float, expect_shape

from ..secure import _wire
from ._common import call, fail, sibling

EPSILON = 1e-8
THRESHOLD = 1e-7
_AXIS_HINT = "statistics over the wrong axis: average over the examples, axis=1 with keepdims=True (one row per unit)"


# ---------------------------------------------------------------- batch norm, right and wrong


def _normalize(Z: np.ndarray, epsilon: float, *, ddof: int = 0, axis: int = 1, eps_outside: bool = False,
               no_sqrt: bool = False) -> np.ndarray:
    mu = Z.mean(axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.sum((Z - mu) ** 2, axis=axis, keepdims=True) / (Z.shape[axis] - ddof)
        if no_sqrt:
            return (Z - mu) / (var + epsilon)
        return (Z - mu) / (np.sqrt(var) + epsilon if eps_outside else np.sqrt(var + epsilon))


def _batchnorm(Z, gamma, beta, epsilon=EPSILON):
    """Batch norm in training mode, the answer: gamma * (Z - mu) / sqrt(var + epsilon) + beta."""
    return gamma * _normalize(Z, epsilon) + beta, None


def _forward_mistakes(Z, gamma, beta, epsilon) -> dict[str, np.ndarray]:
    Z_hat = _normalize(Z, epsilon)
    return {
        "the sample variance (ddof=1): batch norm divides by m, the population variance":
            gamma * _normalize(Z, epsilon, ddof=1) + beta,
        _AXIS_HINT: gamma * _normalize(Z, epsilon, axis=0) + beta,
        "epsilon outside the square root: divide by np.sqrt(var + epsilon)":
            gamma * _normalize(Z, epsilon, eps_outside=True) + beta,
        "divided by the variance instead of its square root": gamma * _normalize(Z, epsilon, no_sqrt=True) + beta,
        "gamma is missing: Z_tilde = gamma * Z_hat + beta": Z_hat + beta,
        "beta is missing: Z_tilde = gamma * Z_hat + beta": gamma * Z_hat,
        "returned Z_hat: scale by gamma and shift by beta": Z_hat,
        "gamma and beta swapped: Z_tilde = gamma * Z_hat + beta": beta * Z_hat + gamma,
    }


# ---------------------------------------------------------------- inputs


def _case(seed: int, n: int, m: int, *, mean: float = 0.0, scale: float = 1.0, unit: bool = False):
    """Z (n, m) = scale * randn + mean, gamma and beta (n, 1) (1 and 0 if ``unit``), a random dZ_tilde."""
    g = np.random.default_rng(seed)
    Z = mean + scale * g.standard_normal((n, m))
    if unit:
        gamma, beta = np.ones((n, 1)), np.zeros((n, 1))
    else:
        gamma = g.choice([-1.0, 1.0], (n, 1)) * g.uniform(0.5, 2.0, (n, 1))
        beta = g.standard_normal((n, 1))
    return Z, gamma, beta, g.standard_normal((n, m))


# (label, seed, n, m, keyword args of _case, epsilon or None for the default)
_CASES = (
    ("Z of shape (3, 5), gamma = 1, beta = 0", 0, 3, 5, {"unit": True}, None),
    ("Z = 5 * randn + 12 of shape (4, 6)", 1, 4, 6, {"mean": 12.0, "scale": 5.0}, None),
    ("a square Z (4, 4)", 2, 4, 4, {}, None),
    ("a single example, Z of shape (2, 1)", 3, 2, 1, {}, None),
    ("rows whose variance is about epsilon (Z = 1e-4 * randn)", 4, 3, 5, {"scale": 1e-4}, None),
    ("epsilon=0.5", 5, 5, 3, {}, 0.5),
)


def _epsilon_kwargs(epsilon):
    return {} if epsilon is None else {"epsilon": epsilon}


def _where(label, epsilon):
    return f"for {label}" + (" (default epsilon)" if epsilon is None else "")


# ---------------------------------------------------------------- results


def _tuple(result: Any, n: int, who: str, names: str) -> tuple:
    if result is None:
        fail(f"{who} returned None — did you forget `return {names}`?")
    if not isinstance(result, (tuple, list)) or len(result) != n:
        got = f"{len(result)} items" if isinstance(result, (tuple, list)) else type(result).__name__
        fail(f"{who} should return the tuple ({names}), got {got}")
    return tuple(result)


def _plain(cache: Any, who: str) -> Any:
    """The cache as the grader carries it between two functions: plain tuples, lists, dicts and arrays."""
    try:
        return _wire.decode(_wire.encode(cache))
    except _wire.WireError as exc:
        fail(f"{who}: the cache holds {exc}. The grader hands your cache to batchnorm_backward as data, so "
             "build it from arrays and numbers in a tuple, list or dict")


# ---------------------------------------------------------------- forward


def check_batchnorm_forward(batchnorm_forward: Callable) -> None:
    who = "batchnorm_forward"
    for label, seed, n, m, kwargs, epsilon in _CASES:
        Z, gamma, beta, _ = _case(seed, n, m, **kwargs)
        eps = EPSILON if epsilon is None else epsilon
        Z_tilde, cache = _tuple(call(batchnorm_forward, Z, gamma, beta, **_epsilon_kwargs(epsilon)), 2, who,
                                "Z_tilde, cache")
        name = f"{who}: Z_tilde {_where(label, epsilon)}"
        expect_shape(Z_tilde, (n, m), name)
        expect_dtype_float(Z_tilde, name)
        mistakes = _forward_mistakes(Z, gamma, beta, eps)
        if epsilon is None:
            mistakes["epsilon 1e-5 or another default: the default is epsilon=1e-8"] = (
                gamma * _normalize(Z, 1e-5) + beta)
        else:
            mistakes["epsilon ignored: use the argument"] = _batchnorm(Z, gamma, beta)[0]
        expect_array(Z_tilde, _batchnorm(Z, gamma, beta, eps)[0], name, rtol=1e-7, atol=1e-10, mistakes=mistakes)
        _plain(cache, who)


# ---------------------------------------------------------------- backward


def _student_function(fn: Callable, name: str) -> Callable:
    """The student's function ``name`` from the notebook that defines ``fn`` (see ``_common.sibling``)."""
    found = sibling(fn, name)
    if found is None:
        fail(f"{getattr(fn, '__name__', 'the backward')} is checked with the cache of your {name}: define {name} "
             "first (run its cell)")
    return found


def _backward_mistakes(Z, gamma, dZ_tilde, epsilon):
    """What the usual backward mistakes return, per gradient, for these inputs."""
    m = Z.shape[1]
    Z_hat = _normalize(Z, epsilon)
    inv_std = 1 / np.sqrt(Z.var(axis=1, keepdims=True) + epsilon)
    dbeta = dZ_tilde.sum(axis=1, keepdims=True)
    dgamma = (dZ_tilde * Z_hat).sum(axis=1, keepdims=True)
    dZ_hat = gamma * dZ_tilde
    dZ = {
        "the mean and variance were treated as constants: dZ needs the terms through mu and var too":
            dZ_hat * inv_std,
        "the term through the variance is missing (dvar)":
            inv_std * (dZ_hat - dZ_hat.mean(axis=1, keepdims=True)),
        "the term through the mean is missing (dmu)":
            inv_std * (dZ_hat - Z_hat * (dZ_hat * Z_hat).mean(axis=1, keepdims=True)),
        "gamma is missing from dZ: the gradient flows through Z_tilde = gamma * Z_hat + beta":
            inv_std / m * (m * dZ_tilde - dbeta - Z_hat * dgamma),
        "the 1/m is missing: dZ = gamma * inv_std / m * (m * dZ_tilde - sum(dZ_tilde) - Z_hat * sum(dZ_tilde * Z_hat))":
            gamma * inv_std * (m * dZ_tilde - dbeta - Z_hat * dgamma),
    }
    per_example = "summed over the wrong axis: sum over the examples, axis=1 with keepdims=True"
    dgammas = {
        per_example: (dZ_tilde * Z_hat).sum(axis=0, keepdims=True),
        "averaged instead of summed over the examples": dgamma / m,
        "dgamma and dbeta swapped: dgamma = sum(dZ_tilde * Z_hat), dbeta = sum(dZ_tilde)": dbeta,
        "dgamma = sum(dZ_tilde * Z_hat): Z_hat, not Z": (dZ_tilde * Z).sum(axis=1, keepdims=True),
    }
    dbetas = {
        per_example: dZ_tilde.sum(axis=0, keepdims=True),
        "averaged instead of summed over the examples": dbeta / m,
        "dgamma and dbeta swapped: dgamma = sum(dZ_tilde * Z_hat), dbeta = sum(dZ_tilde)": dgamma,
    }
    return dZ, dgammas, dbetas


def _named(got, mistakes, who):
    """The label of the first mistake ``got`` matches, as a hint."""
    for label, wrong in mistakes.items():
        if np.shape(got) == np.shape(wrong) and relative_error(got, wrong) < 1e-6:
            return f"\n  Hint: this looks like: {label}"
    return ""


def check_batchnorm_backward(batchnorm_backward: Callable, batchnorm_forward: Callable | None = None) -> None:
    _check_backward(batchnorm_backward, batchnorm_forward, "batchnorm_backward")


def check_batchnorm_backward_compact(batchnorm_backward_compact: Callable,
                                     batchnorm_forward: Callable | None = None) -> None:
    """The same contract as the backward (judged by what it returns: any correct form passes)."""
    _check_backward(batchnorm_backward_compact, batchnorm_forward, "batchnorm_backward_compact")


def _check_backward(batchnorm_backward: Callable, batchnorm_forward: Callable | None, who: str) -> None:
    forward = batchnorm_forward if batchnorm_forward is not None else _student_function(
        batchnorm_backward, "batchnorm_forward")
    for label, seed, n, m, kwargs, epsilon in _CASES:
        Z, gamma, beta, dZ_tilde = _case(seed + 10, n, m, **kwargs)
        eps = EPSILON if epsilon is None else epsilon
        where = _where(label, epsilon)
        # epsilon is always passed: the forward's default is the forward's exercise, not this one
        result = call(forward, Z, gamma, beta, epsilon=eps)
        Z_tilde, cache = _tuple(result, 2, f"batchnorm_forward (which makes the cache {who} is checked with)",
                                "Z_tilde, cache")
        note = ""
        if np.shape(Z_tilde) != Z.shape or relative_error(Z_tilde, _batchnorm(Z, gamma, beta, eps)[0]) > 1e-6:
            note = ("\n  Note: your batchnorm_forward does not return batch norm for these inputs yet; the "
                    "backward is checked with the cache it returns, so fix the forward first")
        plain = _plain(cache, "batchnorm_forward")
        try:
            got = call(batchnorm_backward, dZ_tilde, plain)
        except (AttributeError, TypeError, KeyError, IndexError) as exc:
            if type(cache) is type(plain):
                raise
            fail(f"{who} could not read its cache ({type(exc).__name__}: {exc}). Your forward returns a "
                 f"{type(cache).__name__}; the grader hands it to {who} as plain data (a "
                 f"{type(plain).__name__}), so unpack it by position (Z_hat, gamma, inv_std = cache) or use a "
                 "dict" + note)
        dZ, dgamma, dbeta = _tuple(got, 3, who, "dZ, dgamma, dbeta")
        expected = numerical_gradients(_batchnorm, Z, gamma, beta, dZ_tilde, eps)
        mistakes = _backward_mistakes(Z, gamma, dZ_tilde, eps)
        for name, value, want, wrong in zip(("dZ", "dgamma", "dbeta"), (dZ, dgamma, dbeta), expected, mistakes):
            what = f"{who}: {name} {where}"
            if not isinstance(value, np.ndarray):
                fail(f"{what}: expected a NumPy array of shape {want.shape}, got {type(value).__name__}" + note)
            if value.shape != want.shape:
                fail(f"{what}: expected shape {want.shape}, got {value.shape}"
                     + (_named(value, wrong, what) or "\n  Hint: keep (n_l, 1) columns: sum with axis=1, "
                        "keepdims=True") + note)
            if not np.all(np.isfinite(value)):
                fail(f"{what}: contains NaN or inf, a division by zero? (a variance can be 0, e.g. with a single "
                     "example: divide by np.sqrt(var + epsilon), never by np.sqrt(var))" + note)
            error = relative_error(value, want)
            if not error < THRESHOLD:
                fail(f"{what}: relative error {error:.3g} against centred differences of batch norm "
                     f"(should be below {THRESHOLD:g}; the upstream gradient dZ_tilde is random)"
                     + _named(value, wrong, what) + note)


# ---------------------------------------------------------------- running statistics


def check_update_running_stats(update_running_stats: Callable) -> None:
    who = "update_running_stats"
    for seed, n, momentum in ((0, 3, None), (1, 4, 0.7), (2, 2, 0.0), (3, 5, 0.99)):
        g = np.random.default_rng(seed + 20)
        running_mean, mu = g.standard_normal((n, 1)), g.standard_normal((n, 1))
        running_var, var = g.uniform(0.5, 3.0, (n, 1)), g.uniform(0.5, 3.0, (n, 1))
        beta = 0.9 if momentum is None else momentum
        kwargs = {} if momentum is None else {"momentum": momentum}
        where = "(default momentum)" if momentum is None else f"with momentum={momentum}"
        new_mean, new_var = _tuple(call(update_running_stats, running_mean, running_var, mu, var, **kwargs), 2,
                                   who, "running_mean, running_var")
        flipped = "momentum weights the new value (PyTorch's convention); here it weights the OLD one: " \
                  "momentum * running + (1 - momentum) * new"
        no_one_minus = "the new value lacks its weight (1 - momentum)"
        expect_array(new_mean, beta * running_mean + (1 - beta) * mu, f"{who}: running_mean {where}", mistakes={
            flipped: (1 - beta) * running_mean + beta * mu,
            no_one_minus: beta * running_mean + mu,
            "running_mean returned unchanged": running_mean,
            "running_mean and running_var swapped": beta * running_var + (1 - beta) * var,
        })
        expect_array(new_var, beta * running_var + (1 - beta) * var, f"{who}: running_var {where}", mistakes={
            flipped: (1 - beta) * running_var + beta * var,
            no_one_minus: beta * running_var + var,
            "the standard deviation was averaged: average var itself": beta * running_var + (1 - beta) * np.sqrt(var),
            "running_var returned unchanged": running_var,
            "running_mean and running_var swapped": beta * running_mean + (1 - beta) * mu,
        })


# ---------------------------------------------------------------- inference


def check_batchnorm_inference(batchnorm_inference: Callable) -> None:
    who = "batchnorm_inference"
    cases = (("Z of shape (3, 5)", 0, 3, 5, 1.0, None), ("a single example, Z of shape (4, 1)", 1, 4, 1, 1.0, None),
             ("a running variance about epsilon", 2, 3, 4, 1e-8, None), ("epsilon=0.3", 3, 2, 6, 1.0, 0.3))
    for label, seed, n, m, var_scale, epsilon in cases:
        g = np.random.default_rng(seed + 30)
        Z = 5 * g.standard_normal((n, m)) + 12
        gamma = g.choice([-1.0, 1.0], (n, 1)) * g.uniform(0.5, 2.0, (n, 1))
        beta = g.standard_normal((n, 1))
        running_mean = 12 + g.standard_normal((n, 1))
        running_var = var_scale * g.uniform(0.5, 2.0, (n, 1))
        eps = EPSILON if epsilon is None else epsilon
        got = call(batchnorm_inference, Z, gamma, beta, running_mean, running_var, **_epsilon_kwargs(epsilon))
        centred = Z - running_mean
        mistakes = {} if epsilon is None else {
            "epsilon ignored: use the argument": gamma * centred / np.sqrt(running_var + EPSILON) + beta}
        mistakes |= {
            "epsilon outside the square root: divide by np.sqrt(running_var + epsilon)":
                gamma * centred / (np.sqrt(running_var) + eps) + beta,
            "epsilon is missing: divide by np.sqrt(running_var + epsilon)": gamma * centred / np.sqrt(running_var) + beta,
            "divided by the variance instead of its square root": gamma * centred / (running_var + eps) + beta,
            "gamma is missing": centred / np.sqrt(running_var + eps) + beta,
            "beta is missing": gamma * centred / np.sqrt(running_var + eps),
        }
        if m > 1:
            mistakes["the statistics of this batch: at test time use running_mean and running_var"] = \
                _batchnorm(Z, gamma, beta, eps)[0]
        name = f"{who}: Z_tilde {_where(label, epsilon)}"
        expect_shape(got, (n, m), name)
        expect_array(got, gamma * centred / np.sqrt(running_var + eps) + beta, name, rtol=1e-7, atol=1e-10,
                     mistakes=mistakes)
