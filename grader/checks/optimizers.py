"""Hidden checks of 07_optimizers.

Every update rule is checked on a 3-layer network (so a loop that stops one
layer early, or forgets the biases, changes something), with optimizer state
that is not zero (so every term of the update matters), for one step and for
three steps chained through the student's own returned state. Known mistakes
are recomputed here and named when the student's result matches one.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from dlutils.checks import expect_dict_of_arrays

from ._common import call, fail

# Layer sizes [n_0, n_1, n_2, n_3]: L = 3, biases (3, 1), (2, 1), (1, 1).
_DIMS = (4, 3, 2, 1)
_KEY_HINT = ("parameters are keyed 'W1', 'b1', ..., 'WL', 'bL'; grads and the optimizer state "
             "'dW1', 'db1', ... (loop l = 1 .. L with L = len(parameters) // 2)")


def _problem(seed: int, dims=_DIMS, *, scale: float = 1.0):
    """Random parameters and gradients for a network with layer sizes ``dims``."""
    rng = np.random.default_rng(seed)
    parameters, grads = {}, {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1]))
        parameters[f"b{l}"] = rng.standard_normal((dims[l], 1))
        grads[f"dW{l}"] = scale * rng.standard_normal((dims[l], dims[l - 1]))
        grads[f"db{l}"] = scale * rng.standard_normal((dims[l], 1))
    return parameters, grads


def _state(seed: int, grads: dict, *, positive: bool = False) -> dict:
    """Optimizer state keyed like ``grads``: random, or random and positive (squared averages)."""
    rng = np.random.default_rng(seed)
    state = {k: rng.standard_normal(g.shape) for k, g in grads.items()}
    return {k: np.abs(s) + 0.1 for k, s in state.items()} if positive else state


def _zeros_like(grads: dict) -> dict:
    return {k: np.zeros_like(g) for k, g in grads.items()}


def _run(fn: Callable, who: str, *args, **kwargs):
    """Call the student's function; a KeyError gets the key convention as a hint."""
    try:
        return call(fn, *args, **kwargs)
    except KeyError as err:
        fail(f"{who} raised KeyError {err}: {_KEY_HINT}")


def _unpack(result, n: int, who: str, names: str):
    if result is None:
        fail(f"{who} returned None — did you forget `return {names}`?")
    if not isinstance(result, tuple) or len(result) != n:
        got = f"a tuple of {len(result)} items" if isinstance(result, tuple) else type(result).__name__
        fail(f"{who} should return the tuple ({names}), got {got}")
    return result


def _apply(parameters: dict, step: dict, sign: float = 1.0, keep: Callable[[str], bool] = lambda k: True) -> dict:
    """parameters - sign * step[d<key>] for every key that ``keep``; the others unchanged."""
    return {k: (p - sign * step["d" + k] if keep(k) else p.copy()) for k, p in parameters.items()}


def _last_layer(parameters: dict) -> int:
    return len(parameters) // 2


def _layout_mistakes(parameters: dict, step: dict) -> dict:
    """What the usual loop and sign mistakes make of ``parameters`` for a correct ``step``."""
    L = _last_layer(parameters)
    return {
        "the sign is flipped: subtract the step (parameters move against the gradient)": _apply(parameters, step, -1),
        "the biases were not updated: update b{l} as well as W{l}": _apply(
            parameters, step, keep=lambda k: k.startswith("W")),
        "the last layer was not updated: loop l = 1 .. L (range(1, L + 1))": _apply(
            parameters, step, keep=lambda k: int(k[1:]) != L),
    }


def _check_parameters(got, expected_step, parameters, who, extra_mistakes=None, rtol=1e-7):
    mistakes = {**(extra_mistakes or {}), **_layout_mistakes(parameters, expected_step)}
    expect_dict_of_arrays(got, _apply(parameters, expected_step), f"{who}: the returned parameters",
                          rtol=rtol, mistakes=mistakes)


# ---------------------------------------------------------------- gradient descent


def check_update_parameters_gd(update_parameters_gd: Callable) -> None:
    who = "update_parameters_gd"
    for seed, dims, lr in ((0, _DIMS, 0.1), (1, (3, 1), 0.5), (2, (2, 5, 5, 3, 1), 0.01)):
        parameters, grads = _problem(seed, dims)
        got = _run(update_parameters_gd, who, parameters, grads, lr)
        step = {k: lr * g for k, g in grads.items()}
        _check_parameters(got, step, parameters, who, {
            "the learning rate was not applied: parameters - learning_rate * grads": _apply(parameters, grads),
        })


# ---------------------------------------------------------------- state initializers


def _expect_state(got, expected, name, **options):
    """expect_dict_of_arrays for an optimizer state, naming state keyed like the parameters."""
    if isinstance(got, dict) and got and all(("d" + str(k)) in expected for k in got):
        fail(f"{name}: keyed {', '.join(map(repr, list(got)[:2]))}, ... like the parameters; optimizer state is "
             "keyed like the gradients: 'dW1', 'db1', ...")
    expect_dict_of_arrays(got, expected, name, **options)


def _check_zero_state(got, parameters, who, what):
    expected = {"d" + k: np.zeros_like(p) for k, p in parameters.items()}
    _expect_state(got, expected, f"{who}: {what}")


def _check_initializer(fn: Callable, who: str) -> None:
    for seed, dims in ((0, _DIMS), (1, (3, 1)), (2, (2, 5, 5, 3, 1))):
        parameters, _ = _problem(seed, dims)
        _check_zero_state(_run(fn, who, parameters), parameters, who, "the returned state")


def check_initialize_velocity(initialize_velocity: Callable) -> None:
    _check_initializer(initialize_velocity, "initialize_velocity")


def check_initialize_rmsprop(initialize_rmsprop: Callable) -> None:
    _check_initializer(initialize_rmsprop, "initialize_rmsprop")


def check_initialize_adam(initialize_adam: Callable) -> None:
    who = "initialize_adam"
    for seed, dims in ((0, _DIMS), (1, (3, 1))):
        parameters, _ = _problem(seed, dims)
        v, s = _unpack(_run(initialize_adam, who, parameters), 2, who, "v, s")
        _check_zero_state(v, parameters, who, "v")
        _check_zero_state(s, parameters, who, "s")
        if v is s:
            fail(f"{who}: v and s are the same dict; Adam needs two separate averages (make two dicts)")
        # An update that works in place (v[k] *= beta1) would then change s as well.
        for key in v:
            if np.shares_memory(v[key], s[key]):
                fail(f'{who}: v["{key}"] and s["{key}"] are the same array in memory, so updating v in place '
                     "changes s too; make separate zero arrays (dict(v) or v.copy() copies the dict, not the "
                     "arrays)")


# ---------------------------------------------------------------- momentum


def _momentum(parameters, grads, v, beta, lr, *, form="right"):
    if form == "swapped":
        new_v = {k: (1 - beta) * v[k] + beta * g for k, g in grads.items()}
    elif form == "no 1 - beta":
        new_v = {k: beta * v[k] + g for k, g in grads.items()}
    else:
        new_v = {k: beta * v[k] + (1 - beta) * g for k, g in grads.items()}
    return {k: lr * x for k, x in new_v.items()}, new_v


def check_update_parameters_momentum(update_parameters_momentum: Callable) -> None:
    who = "update_parameters_momentum"
    for seed, beta, lr in ((0, 0.8, 0.1), (1, 0.9, 0.05), (2, 0.0, 0.3)):
        parameters, grads = _problem(seed)
        v = _state(seed + 100, grads)
        got = _unpack(_run(update_parameters_momentum, who, parameters, grads, v, beta, lr), 2, who,
                      "parameters, v")
        step, new_v = _momentum(parameters, grads, v, beta, lr)
        swapped, v_swapped = _momentum(parameters, grads, v, beta, lr, form="swapped")
        plain, v_plain = _momentum(parameters, grads, v, beta, lr, form="no 1 - beta")
        beta_wrong = "beta on the wrong term: v = beta * v + (1 - beta) * dW"
        no_one_minus = "the gradient term lacks (1 - beta): v = beta * v + (1 - beta) * dW"
        _check_parameters(got[0], step, parameters, who, {
            beta_wrong: _apply(parameters, swapped),
            no_one_minus: _apply(parameters, plain),
            "the step used the gradient, not the velocity: parameters - learning_rate * v": _apply(
                parameters, {k: lr * g for k, g in grads.items()}),
            "the step used the old velocity: update v first, then step with the new v": _apply(
                parameters, {k: lr * x for k, x in v.items()}),
        })
        _expect_state(got[1], new_v, f"{who}: the returned v", mistakes={
            beta_wrong: v_swapped, no_one_minus: v_plain,
            "v was returned unchanged: return the updated velocity": v,
        })
    # Three steps in a row, each from the student's own returned state.
    parameters, grads = _problem(7)
    v = _zeros_like(grads)
    p_mine, v_mine = parameters, v
    for _ in range(3):
        step, v_mine = _momentum(p_mine, grads, v_mine, 0.9, 0.1)
        p_mine = _apply(p_mine, step)
        parameters, v = _unpack(_run(update_parameters_momentum, who, parameters, grads, v, 0.9, 0.1), 2, who,
                                "parameters, v")
    expect_dict_of_arrays(parameters, p_mine, f"{who}: parameters after three steps from v = 0")


# ---------------------------------------------------------------- RMSprop


def _rmsprop(grads, s, beta2, lr, eps, *, form="right"):
    if form == "no 1 - beta":
        new_s = {k: beta2 * s[k] + g**2 for k, g in grads.items()}
    elif form == "no square":
        new_s = {k: beta2 * s[k] + (1 - beta2) * g for k, g in grads.items()}
    elif form == "swapped":
        new_s = {k: (1 - beta2) * s[k] + beta2 * g**2 for k, g in grads.items()}
    else:
        new_s = {k: beta2 * s[k] + (1 - beta2) * g**2 for k, g in grads.items()}
    denominator = {
        "eps inside": lambda k: np.sqrt(new_s[k] + eps),
        "old s": lambda k: np.sqrt(s[k]) + eps,
        "no sqrt": lambda k: new_s[k] + eps,
    }.get(form, lambda k: np.sqrt(new_s[k]) + eps)
    return {k: lr * g / denominator(k) for k, g in grads.items()}, new_s


def check_update_parameters_rmsprop(update_parameters_rmsprop: Callable) -> None:
    who = "update_parameters_rmsprop"
    # epsilon=0.3 makes sqrt(s) + epsilon and sqrt(s + epsilon) clearly different.
    for seed, beta2, lr, eps in ((0, 0.9, 0.01, 0.3), (1, 0.99, 0.1, 1e-8), (2, 0.5, 0.05, 0.3)):
        parameters, grads = _problem(seed)
        s = _state(seed + 100, grads, positive=True)
        got = _unpack(_run(update_parameters_rmsprop, who, parameters, grads, s, beta2, lr, epsilon=eps), 2, who,
                      "parameters, s")
        step, new_s = _rmsprop(grads, s, beta2, lr, eps)
        wrong = {
            "epsilon inside the square root: divide by sqrt(s) + epsilon": "eps inside",
            "the step used the old s: update s first, then divide by its square root": "old s",
            "beta2 on the wrong term: s = beta2 * s + (1 - beta2) * dW**2": "swapped",
            "the squared-gradient term lacks (1 - beta2)": "no 1 - beta",
            "divided by s, not by its square root": "no sqrt",
            "averaged the gradient instead of its square: use dW**2": "no square",
        }
        with np.errstate(invalid="ignore"):  # the last one takes square roots of negative numbers
            variants = {label: _rmsprop(grads, s, beta2, lr, eps, form=form) for label, form in wrong.items()}
        _check_parameters(got[0], step, parameters, who,
                          {label: _apply(parameters, st) for label, (st, _) in variants.items()})
        _expect_state(got[1], new_s, f"{who}: the returned s", mistakes={
            **{label: ns for label, (_, ns) in variants.items()},
            "s was returned unchanged: return the updated average": s,
        })
    # The default epsilon is 1e-8: with gradients near 1e-7 it changes the step by about 10%.
    parameters, grads = _problem(3, scale=1e-7)
    got = _unpack(_run(update_parameters_rmsprop, who, parameters, grads, _zeros_like(grads), 0.9, 0.01), 2, who,
                  "parameters, s")
    step, _ = _rmsprop(grads, _zeros_like(grads), 0.9, 0.01, 1e-8)
    _check_parameters(got[0], step, parameters, f"{who} with the default epsilon (1e-8)", rtol=1e-6)


# ---------------------------------------------------------------- Adam


def _adam(grads, v, s, t, lr, beta1, beta2, eps, *, mistake=None):
    """One Adam step: (step, new_v, new_s), or what ``mistake`` makes of it."""
    g2 = {k: g**2 for k, g in grads.items()}
    if mistake == "swapped":
        new_v = {k: (1 - beta1) * v[k] + beta1 * g for k, g in grads.items()}
        new_s = {k: (1 - beta2) * s[k] + beta2 * g2[k] for k in grads}
    elif mistake == "no 1 - beta":
        new_v = {k: beta1 * v[k] + g for k, g in grads.items()}
        new_s = {k: beta2 * s[k] + g2[k] for k in grads}
    else:
        new_v = {k: beta1 * v[k] + (1 - beta1) * g for k, g in grads.items()}
        new_s = {k: beta2 * s[k] + (1 - beta2) * g2[k] for k in grads}
    tc = {"t + 1": t + 1, "t - 1": t - 1}.get(mistake, t)
    correct_v = 1.0 if mistake == "no correction" else 1 - beta1**tc
    correct_s = 1.0 if mistake in ("no correction", "only v corrected") else 1 - beta2**tc
    v_hat = {k: x / correct_v for k, x in new_v.items()}
    s_hat = {k: x / correct_s for k, x in new_s.items()}
    if mistake == "eps inside":
        step = {k: lr * v_hat[k] / np.sqrt(s_hat[k] + eps) for k in grads}
    else:
        step = {k: lr * v_hat[k] / (np.sqrt(s_hat[k]) + eps) for k in grads}
    if mistake == "stored corrected":
        return step, v_hat, s_hat
    return step, new_v, new_s


_ADAM_MISTAKES = {
    "no bias correction: divide v by (1 - beta1**t) and s by (1 - beta2**t)": "no correction",
    "bias correction with t + 1: t already counts updates from 1, use beta**t": "t + 1",
    "bias correction with t - 1: t counts updates from 1, use beta**t": "t - 1",
    "epsilon inside the square root: divide by sqrt(s_hat) + epsilon": "eps inside",
    "the bias-corrected moments were stored in v and s: return the uncorrected averages, use v_hat and s_hat "
    "only for the step": "stored corrected",
    "only v was bias-corrected: correct s too, s_hat = s / (1 - beta2**t)": "only v corrected",
    "beta on the wrong term: v = beta1 * v + (1 - beta1) * dW, s = beta2 * s + (1 - beta2) * dW**2": "swapped",
    "the gradient terms lack (1 - beta1) and (1 - beta2)": "no 1 - beta",
}


def _check_adam_step(fn, who, parameters, grads, v, s, t, hyper, rtol=1e-7):
    if hyper is None:  # the defaults of the contract
        result = _run(fn, who, parameters, grads, v, s, t)
        hyper = {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
        label = f"{who} with the default learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8"
    else:
        result = _run(fn, who, parameters, grads, v, s, t, **hyper)
        label = who
    got = _unpack(result, 3, who, "parameters, v, s")
    args = (grads, v, s, t, hyper["learning_rate"], hyper["beta1"], hyper["beta2"], hyper["epsilon"])
    step, new_v, new_s = _adam(*args)
    with np.errstate(divide="ignore", invalid="ignore"):  # "t - 1" divides by 1 - beta**0 = 0 at t = 1
        variants = {text: _adam(*args, mistake=mistake) for text, mistake in _ADAM_MISTAKES.items()}
    _check_parameters(got[0], step, parameters, label,
                      {text: _apply(parameters, st) for text, (st, _, _) in variants.items()}, rtol=rtol)
    for name, index, expected in (("v", 1, new_v), ("s", 2, new_s)):
        _expect_state(got[index], expected, f"{label}: the returned {name}", rtol=rtol, mistakes={
            **{text: var[index] for text, var in variants.items()},
            f"{name} was returned unchanged: return the updated average": (v, s)[index - 1],
        })
    return got


def check_update_parameters_adam(update_parameters_adam: Callable) -> None:
    who = "update_parameters_adam"
    hyper = {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "epsilon": 0.3}
    for seed, t in ((0, 3), (1, 1), (2, 10)):
        parameters, grads = _problem(seed)
        v, s = _state(seed + 100, grads), _state(seed + 200, grads, positive=True)
        _check_adam_step(update_parameters_adam, who, parameters, grads, v, s, t, hyper)
    # The defaults, with gradients near 1e-7 so that epsilon=1e-8 matters, and t = 2 with a nonzero
    # state so that both betas do (from zero state at t = 1 the bias correction cancels them).
    parameters, grads = _problem(3, scale=1e-7)
    v = {k: 1e-7 * x for k, x in _state(103, grads).items()}
    s = {k: 1e-14 * x for k, x in _state(203, grads, positive=True).items()}
    _check_adam_step(update_parameters_adam, who, parameters, grads, v, s, 2, None, rtol=1e-6)
    # Three steps in a row, t = 1, 2, 3, each from the student's own returned state.
    parameters, grads = _problem(4)
    v, s = _zeros_like(grads), _zeros_like(grads)
    p_mine, v_mine, s_mine = parameters, v, s
    for t in (1, 2, 3):
        step, v_mine, s_mine = _adam(grads, v_mine, s_mine, t, 0.05, 0.9, 0.999, 1e-8)
        p_mine = _apply(p_mine, step)
        parameters, v, s = _unpack(_run(update_parameters_adam, who, parameters, grads, v, s, t, learning_rate=0.05),
                                   3, who, "parameters, v, s")
    expect_dict_of_arrays(parameters, p_mine, f"{who}: parameters after steps t = 1, 2, 3 from zero state")


# ---------------------------------------------------------------- Adagrad


def _adagrad(grads, cache, lr, eps, *, mistake=None):
    if mistake == "not accumulated":
        new_cache = {k: g**2 for k, g in grads.items()}
    else:
        new_cache = {k: cache[k] + g**2 for k, g in grads.items()}
    denominator = {
        "eps inside": lambda k: np.sqrt(new_cache[k] + eps),
        "old cache": lambda k: np.sqrt(cache[k]) + eps,
        "no sqrt": lambda k: new_cache[k] + eps,
    }.get(mistake, lambda k: np.sqrt(new_cache[k]) + eps)
    return {k: lr * g / denominator(k) for k, g in grads.items()}, new_cache


_ADAGRAD_MISTAKES = {
    "the cache was not accumulated: cache += dW**2 adds to the running sum": "not accumulated",
    "epsilon inside the square root: divide by sqrt(cache) + epsilon": "eps inside",
    "the step used the old cache: add dW**2 first, then divide": "old cache",
    "divided by the cache, not by its square root": "no sqrt",
}


def check_update_parameters_adagrad(update_parameters_adagrad: Callable) -> None:
    who = "update_parameters_adagrad"
    for seed, lr, eps in ((0, 0.1, 0.3), (1, 0.5, 1e-8)):
        parameters, grads = _problem(seed)
        cache = _state(seed + 100, grads, positive=True)
        got = _unpack(_run(update_parameters_adagrad, who, parameters, grads, cache, lr, epsilon=eps), 2, who,
                      "parameters, cache")
        step, new_cache = _adagrad(grads, cache, lr, eps)
        variants = {text: _adagrad(grads, cache, lr, eps, mistake=m) for text, m in _ADAGRAD_MISTAKES.items()}
        _check_parameters(got[0], step, parameters, who,
                          {text: _apply(parameters, st) for text, (st, _) in variants.items()})
        _expect_state(got[1], new_cache, f"{who}: the returned cache", mistakes={
            **{text: nc for text, (_, nc) in variants.items()},
            "the cache was returned unchanged: return cache + dW**2": cache,
        })
    # The default epsilon is 1e-8.
    parameters, grads = _problem(2, scale=1e-7)
    got = _unpack(_run(update_parameters_adagrad, who, parameters, grads, _zeros_like(grads), 0.1), 2, who,
                  "parameters, cache")
    step, _ = _adagrad(grads, _zeros_like(grads), 0.1, 1e-8)
    _check_parameters(got[0], step, parameters, f"{who} with the default epsilon (1e-8)", rtol=1e-6)
