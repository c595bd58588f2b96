"""The hidden checks of 07_optimizers: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from grader.checks import optimizers


def layers(parameters):
    return range(1, len(parameters) // 2 + 1)


# ------------------------------------------------------------------ gradient descent

def gd_in_place(parameters, grads, learning_rate):
    for l in layers(parameters):
        parameters["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
        parameters["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return parameters


def gd_comprehension(parameters, grads, learning_rate):
    return {k: np.subtract(p, learning_rate * grads["d" + k]) for k, p in parameters.items()}


def gd_wrong(sign=1.0, biases=True, last=True, lr_used=True):
    def update(parameters, grads, learning_rate):
        L = len(parameters) // 2
        new = dict(parameters)
        for l in range(1, L + 1 if last else L):
            for p in ("Wb" if biases else "W"):
                step = learning_rate * grads[f"d{p}{l}"] if lr_used else grads[f"d{p}{l}"]
                new[f"{p}{l}"] = parameters[f"{p}{l}"] - sign * step
        return new
    return update


def gd_keyed_wrong(parameters, grads, learning_rate):
    return {k: p - learning_rate * grads[k] for k, p in parameters.items()}


def gd_L_wrong(parameters, grads, learning_rate):
    for l in range(1, len(parameters) + 1):  # L = len(parameters): twice too many layers
        parameters[f"W{l}"] = parameters[f"W{l}"] - learning_rate * grads[f"dW{l}"]
        parameters[f"b{l}"] = parameters[f"b{l}"] - learning_rate * grads[f"db{l}"]
    return parameters


def test_gd_reference_and_variants_pass(reference):
    optimizers.check_update_parameters_gd(reference["update_parameters_gd"])
    optimizers.check_update_parameters_gd(gd_in_place)
    optimizers.check_update_parameters_gd(gd_comprehension)
    optimizers.check_update_parameters_gd(gd_wrong())  # the factory with no mistake is right


GD_WRONG = {
    "sign error": (gd_wrong(sign=-1.0), "sign is flipped"),
    "weights only": (gd_wrong(biases=False), "biases were not updated"),
    "skips the last layer": (gd_wrong(last=False), "last layer was not updated"),
    "no learning rate": (gd_wrong(lr_used=False), "learning rate was not applied"),
    "grads keyed like parameters": (gd_keyed_wrong, "KeyError 'W1'.*'dW1'"),
    "L = len(parameters)": (gd_L_wrong, "KeyError 'W4'.*len\\(parameters\\) // 2"),
    "returns None": (lambda p, g, lr: None, "return"),
}


@pytest.mark.parametrize("label", GD_WRONG)
def test_gd_wrong_implementations_fail(label):
    fn, words = GD_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        optimizers.check_update_parameters_gd(fn)


# ------------------------------------------------------------------ initializers

def zeros_loop(parameters):
    v = {}
    for l in layers(parameters):
        v[f"dW{l}"] = np.zeros(parameters[f"W{l}"].shape)
        v[f"db{l}"] = np.zeros((parameters[f"b{l}"].shape[0], 1))
    return v


def zeros_comprehension(parameters):
    return {"d" + k: np.zeros_like(p) for k, p in parameters.items()}


def zeros_keyed_like_parameters(parameters):
    return {k: np.zeros_like(p) for k, p in parameters.items()}


def zeros_int(parameters):
    return {"d" + k: np.zeros(p.shape, dtype=int) for k, p in parameters.items()}


def zeros_1d_bias(parameters):
    return {"d" + k: np.zeros(p.shape[0]) if k.startswith("b") else np.zeros_like(p) for k, p in parameters.items()}


def zeros_copies_parameters(parameters):
    return {"d" + k: p.copy() for k, p in parameters.items()}


def zeros_skip_last(parameters):
    L = len(parameters) // 2
    return {f"d{p}{l}": np.zeros_like(parameters[f"{p}{l}"]) for l in range(1, L) for p in "Wb"}


INIT_WRONG = {
    "keyed W1 instead of dW1": (zeros_keyed_like_parameters, "keyed 'W1', 'b1', ... like the parameters.*'dW1'"),
    "integer zeros": (zeros_int, "float"),
    "1-D bias state": (zeros_1d_bias, "shape"),
    "copies the parameters": (zeros_copies_parameters, "values differ"),
    "skips the last layer": (zeros_skip_last, "missing key.*'dW3'"),
    "returns None": (lambda p: None, "return"),
}


@pytest.mark.parametrize("check", [optimizers.check_initialize_velocity, optimizers.check_initialize_rmsprop])
def test_state_initializers_pass(reference, check):
    name = check.__name__.removeprefix("check_")
    check(reference[name])
    check(zeros_loop)
    check(zeros_comprehension)


@pytest.mark.parametrize("check", [optimizers.check_initialize_velocity, optimizers.check_initialize_rmsprop])
@pytest.mark.parametrize("label", INIT_WRONG)
def test_state_initializers_wrong_fail(check, label):
    fn, words = INIT_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        check(fn)


def adam_init_two_comprehensions(parameters):
    return zeros_comprehension(parameters), zeros_comprehension(parameters)


def adam_init_deepcopy(parameters):
    v = zeros_loop(parameters)
    return v, copy.deepcopy(v)


def test_initialize_adam_variants_pass(reference):
    optimizers.check_initialize_adam(reference["initialize_adam"])
    optimizers.check_initialize_adam(adam_init_two_comprehensions)
    optimizers.check_initialize_adam(adam_init_deepcopy)


def adam_init_same_dict(parameters):
    v = zeros_loop(parameters)
    return v, v


def adam_init_shallow_copy(parameters):
    v = zeros_loop(parameters)
    return v, dict(v)


def adam_init_shared_zero_arrays(parameters):
    v, s = {}, {}
    for k, p in parameters.items():
        zeros = np.zeros_like(p)
        v["d" + k] = s["d" + k] = zeros
    return v, s


ADAM_INIT_WRONG = {
    "same dict twice": (adam_init_same_dict, "same dict"),
    "shallow copy shares the arrays": (adam_init_shallow_copy, "same array in memory"),
    "one zero array stored in both": (adam_init_shared_zero_arrays, "same array in memory"),
    "returns only v": (lambda p: zeros_loop(p), "should return the tuple \\(v, s\\)"),
    "returns a list": (lambda p: [zeros_loop(p), zeros_loop(p)], "should return the tuple"),
    "keyed W1": (lambda p: (zeros_keyed_like_parameters(p), zeros_keyed_like_parameters(p)), "'dW1'"),
    "s keyed wrong": (lambda p: (zeros_loop(p), zeros_keyed_like_parameters(p)), "s: keyed 'W1'"),
}


@pytest.mark.parametrize("label", ADAM_INIT_WRONG)
def test_initialize_adam_wrong_fail(label):
    fn, words = ADAM_INIT_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        optimizers.check_initialize_adam(fn)


# ------------------------------------------------------------------ momentum

def momentum_in_place(parameters, grads, v, beta, learning_rate):
    for l in layers(parameters):
        for p in "Wb":
            v[f"d{p}{l}"] *= beta
            v[f"d{p}{l}"] += (1 - beta) * grads[f"d{p}{l}"]
            parameters[f"{p}{l}"] -= learning_rate * v[f"d{p}{l}"]
    return parameters, v


def momentum_comprehension(parameters, grads, v, beta, learning_rate):
    v = {k: beta * v[k] + (1 - beta) * grads[k] for k in grads}
    return {k: p - learning_rate * v["d" + k] for k, p in parameters.items()}, v


def momentum_wrong(mistake):
    def update(parameters, grads, v, beta, learning_rate):
        L = len(parameters) // 2
        new_p, new_v = dict(parameters), dict(v)
        for l in range(1, L if mistake == "skip last" else L + 1):
            for p in ("W" if mistake == "weights only" else "Wb"):
                k, g = f"d{p}{l}", grads[f"d{p}{l}"]
                if mistake == "swapped":
                    new_v[k] = (1 - beta) * v[k] + beta * g
                elif mistake == "no 1 - beta":
                    new_v[k] = beta * v[k] + g
                else:
                    new_v[k] = beta * v[k] + (1 - beta) * g
                step = {"grad step": g, "old v": v[k]}.get(mistake, new_v[k])
                sign = -1 if mistake == "sign" else 1
                new_p[f"{p}{l}"] = parameters[f"{p}{l}"] - sign * learning_rate * step
        return new_p, (v if mistake == "old v returned" else new_v)
    return update


def test_momentum_reference_and_variants_pass(reference):
    optimizers.check_update_parameters_momentum(reference["update_parameters_momentum"])
    optimizers.check_update_parameters_momentum(momentum_in_place)
    optimizers.check_update_parameters_momentum(momentum_comprehension)
    optimizers.check_update_parameters_momentum(momentum_wrong(None))


MOMENTUM_WRONG = {
    "beta on the wrong term": ("swapped", "beta on the wrong term"),
    "v without (1 - beta)": ("no 1 - beta", "lacks \\(1 - beta\\)"),
    "sign error": ("sign", "sign is flipped"),
    "weights only": ("weights only", "biases were not updated"),
    "skips the last layer": ("skip last", "last layer was not updated"),
    "steps with the gradient": ("grad step", "used the gradient, not the velocity"),
    "steps with the old v": ("old v", "used the old velocity"),
    "returns the old v": ("old v returned", "v was returned unchanged"),
}


@pytest.mark.parametrize("label", MOMENTUM_WRONG)
def test_momentum_wrong_implementations_fail(label):
    mistake, words = MOMENTUM_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        optimizers.check_update_parameters_momentum(momentum_wrong(mistake))


def test_momentum_with_v_keyed_like_parameters_fails():
    def update(parameters, grads, v, beta, learning_rate):
        v = {k: beta * v["d" + k] + (1 - beta) * grads["d" + k] for k in parameters}  # keyed W1, ...
        return {k: p - learning_rate * v[k] for k, p in parameters.items()}, v

    with pytest.raises(AssertionError, match="the returned v: keyed 'W1', 'b1', ... like the parameters"):
        optimizers.check_update_parameters_momentum(update)


def test_momentum_torch_style_fails():
    # PyTorch's SGD momentum: v = beta v + dW (no 1 - beta), a different convention.
    def update(parameters, grads, v, beta, learning_rate):
        v = {k: beta * v[k] + grads[k] for k in grads}
        return {k: p - learning_rate * v["d" + k] for k, p in parameters.items()}, v

    with pytest.raises(AssertionError, match="lacks \\(1 - beta\\)"):
        optimizers.check_update_parameters_momentum(update)


# ------------------------------------------------------------------ RMSprop

def rmsprop_in_place(parameters, grads, s, beta2, learning_rate, epsilon=1e-8):
    for l in layers(parameters):
        for p in "Wb":
            k = f"d{p}{l}"
            s[k] = beta2 * s[k] + (1 - beta2) * np.square(grads[k])
            parameters[f"{p}{l}"] -= learning_rate * grads[k] / (s[k] ** 0.5 + epsilon)
    return parameters, s


def rmsprop_wrong(mistake, default_epsilon=1e-8):
    def update(parameters, grads, s, beta2, learning_rate, epsilon=default_epsilon):
        L = len(parameters) // 2
        new_p, new_s = dict(parameters), dict(s)
        for l in range(1, L if mistake == "skip last" else L + 1):
            for p in ("W" if mistake == "weights only" else "Wb"):
                k, g = f"d{p}{l}", grads[f"d{p}{l}"]
                if mistake == "swapped":
                    new_s[k] = (1 - beta2) * s[k] + beta2 * g**2
                elif mistake == "no square":
                    new_s[k] = beta2 * s[k] + (1 - beta2) * g
                else:
                    new_s[k] = beta2 * s[k] + (1 - beta2) * g**2
                denominator = {
                    "eps inside": lambda: np.sqrt(new_s[k] + epsilon),
                    "old s": lambda: np.sqrt(s[k]) + epsilon,
                    "no sqrt": lambda: new_s[k] + epsilon,
                }.get(mistake, lambda: np.sqrt(new_s[k]) + epsilon)()
                sign = -1 if mistake == "sign" else 1
                new_p[f"{p}{l}"] = parameters[f"{p}{l}"] - sign * learning_rate * g / denominator
        return new_p, new_s
    return update


def test_rmsprop_reference_and_variants_pass(reference):
    optimizers.check_update_parameters_rmsprop(reference["update_parameters_rmsprop"])
    optimizers.check_update_parameters_rmsprop(rmsprop_in_place)
    optimizers.check_update_parameters_rmsprop(rmsprop_wrong(None))


RMSPROP_WRONG = {
    "eps inside the sqrt": (rmsprop_wrong("eps inside"), "epsilon inside the square root"),
    "old s in the step": (rmsprop_wrong("old s"), "used the old s"),
    "beta2 on the wrong term": (rmsprop_wrong("swapped"), "beta2 on the wrong term"),
    "no square root": (rmsprop_wrong("no sqrt"), "not by its square root"),
    "sign error": (rmsprop_wrong("sign"), "sign is flipped"),
    "weights only": (rmsprop_wrong("weights only"), "biases were not updated"),
    "skips the last layer": (rmsprop_wrong("skip last"), "last layer was not updated"),
    "gradient not squared": (rmsprop_wrong("no square"), "instead of its square"),
    "default epsilon 1e-7": (rmsprop_wrong(None, default_epsilon=1e-7), "default epsilon"),
    "default epsilon 0": (rmsprop_wrong(None, default_epsilon=0.0), "default epsilon"),
}


@pytest.mark.parametrize("label", RMSPROP_WRONG)
def test_rmsprop_wrong_implementations_fail(label):
    fn, words = RMSPROP_WRONG[label]
    with np.errstate(invalid="ignore"), pytest.raises(AssertionError, match=words):
        optimizers.check_update_parameters_rmsprop(fn)


# ------------------------------------------------------------------ Adam

def adam_in_place(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    for l in layers(parameters):
        for p in "Wb":
            k = f"d{p}{l}"
            v[k] = beta1 * v[k] + (1 - beta1) * grads[k]
            s[k] = beta2 * s[k] + (1 - beta2) * grads[k] ** 2
            v_hat = v[k] / (1 - beta1**t)
            s_hat = s[k] / (1 - beta2**t)
            parameters[f"{p}{l}"] -= learning_rate * v_hat / (np.sqrt(s_hat) + epsilon)
    return parameters, v, s


def adam_comprehension(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    v = {k: beta1 * v[k] + (1 - beta1) * g for k, g in grads.items()}
    s = {k: beta2 * s[k] + (1 - beta2) * g * g for k, g in grads.items()}
    step = {k: (v[k] / (1 - beta1**t)) / ((s[k] / (1 - beta2**t)) ** 0.5 + epsilon) for k in grads}
    return {k: p - learning_rate * step["d" + k] for k, p in parameters.items()}, v, s


def adam_wrong(mistake, defaults=(0.01, 0.9, 0.999, 1e-8)):
    lr0, b10, b20, eps0 = defaults

    def update(parameters, grads, v, s, t, learning_rate=lr0, beta1=b10, beta2=b20, epsilon=eps0):
        L = len(parameters) // 2
        new_p, new_v, new_s = dict(parameters), dict(v), dict(s)
        for l in range(1, L if mistake == "skip last" else L + 1):
            for p in ("W" if mistake == "weights only" else "Wb"):
                k, g = f"d{p}{l}", grads[f"d{p}{l}"]
                if mistake == "swapped":
                    new_v[k] = (1 - beta1) * v[k] + beta1 * g
                    new_s[k] = (1 - beta2) * s[k] + beta2 * g**2
                elif mistake == "no 1 - beta":
                    new_v[k] = beta1 * v[k] + g
                    new_s[k] = beta2 * s[k] + g**2
                else:
                    new_v[k] = beta1 * v[k] + (1 - beta1) * g
                    new_s[k] = beta2 * s[k] + (1 - beta2) * g**2
                tc = t + 1 if mistake == "t + 1" else t
                v_hat = new_v[k] if mistake == "no correction" else new_v[k] / (1 - beta1**tc)
                s_hat = new_s[k] if mistake in ("no correction", "only v") else new_s[k] / (1 - beta2**tc)
                if mistake == "stored corrected":
                    new_v[k], new_s[k] = v_hat, s_hat
                denominator = np.sqrt(s_hat + epsilon) if mistake == "eps inside" else np.sqrt(s_hat) + epsilon
                sign = -1 if mistake == "sign" else 1
                new_p[f"{p}{l}"] = parameters[f"{p}{l}"] - sign * learning_rate * v_hat / denominator
        return new_p, new_v, new_s
    return update


def test_adam_reference_and_variants_pass(reference):
    optimizers.check_update_parameters_adam(reference["update_parameters_adam"])
    optimizers.check_update_parameters_adam(adam_in_place)
    optimizers.check_update_parameters_adam(adam_comprehension)
    optimizers.check_update_parameters_adam(adam_wrong(None))


ADAM_WRONG = {
    "no bias correction": (adam_wrong("no correction"), "no bias correction"),
    "correction with t + 1": (adam_wrong("t + 1"), "bias correction with t \\+ 1"),
    "eps inside the sqrt": (adam_wrong("eps inside"), "epsilon inside the square root"),
    "corrected moments stored back": (adam_wrong("stored corrected"), "bias-corrected moments were stored"),
    "only v corrected": (adam_wrong("only v"), "only v was bias-corrected"),
    "beta on the wrong term": (adam_wrong("swapped"), "beta on the wrong term"),
    "no (1 - beta)": (adam_wrong("no 1 - beta"), "lack \\(1 - beta1\\)"),
    "sign error": (adam_wrong("sign"), "sign is flipped"),
    "weights only": (adam_wrong("weights only"), "biases were not updated"),
    "skips the last layer": (adam_wrong("skip last"), "last layer was not updated"),
    "default learning rate 0.001": (adam_wrong(None, (0.001, 0.9, 0.999, 1e-8)), "default"),
    "default beta2 0.99": (adam_wrong(None, (0.01, 0.9, 0.99, 1e-8)), "default"),
    "default epsilon 1e-7": (adam_wrong(None, (0.01, 0.9, 0.999, 1e-7)), "default"),
    "returns two values": (lambda p, g, v, s, t, **kw: adam_comprehension(p, g, v, s, t, **kw)[:2],
                           "should return the tuple \\(parameters, v, s\\)"),
}


@pytest.mark.parametrize("label", ADAM_WRONG)
def test_adam_wrong_implementations_fail(label):
    fn, words = ADAM_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        optimizers.check_update_parameters_adam(fn)


def test_adam_counting_t_from_zero_fails():
    # beta**(t - 1) in the correction: 1 - beta**0 = 0, a division by zero at the first update.
    def update(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
        v = {k: beta1 * v[k] + (1 - beta1) * g for k, g in grads.items()}
        s = {k: beta2 * s[k] + (1 - beta2) * g**2 for k, g in grads.items()}
        step = {k: (v[k] / (1 - beta1 ** (t - 1))) / (np.sqrt(s[k] / (1 - beta2 ** (t - 1))) + epsilon) for k in v}
        return {k: p - learning_rate * step["d" + k] for k, p in parameters.items()}, v, s

    with np.errstate(all="ignore"), pytest.raises(AssertionError, match="bias correction with t - 1"):
        optimizers.check_update_parameters_adam(update)


# ------------------------------------------------------------------ Adagrad

def adagrad_in_place(parameters, grads, cache, learning_rate, epsilon=1e-8):
    for l in layers(parameters):
        for p in "Wb":
            k = f"d{p}{l}"
            cache[k] += grads[k] ** 2
            parameters[f"{p}{l}"] -= learning_rate * grads[k] / (np.sqrt(cache[k]) + epsilon)
    return parameters, cache


def adagrad_wrong(mistake, default_epsilon=1e-8):
    def update(parameters, grads, cache, learning_rate, epsilon=default_epsilon):
        L = len(parameters) // 2
        new_p, new_c = dict(parameters), dict(cache)
        for l in range(1, L if mistake == "skip last" else L + 1):
            for p in ("W" if mistake == "weights only" else "Wb"):
                k, g = f"d{p}{l}", grads[f"d{p}{l}"]
                new_c[k] = g**2 if mistake == "not accumulated" else cache[k] + g**2
                denominator = {
                    "eps inside": lambda: np.sqrt(new_c[k] + epsilon),
                    "old cache": lambda: np.sqrt(cache[k]) + epsilon,
                    "no sqrt": lambda: new_c[k] + epsilon,
                }.get(mistake, lambda: np.sqrt(new_c[k]) + epsilon)()
                sign = -1 if mistake == "sign" else 1
                new_p[f"{p}{l}"] = parameters[f"{p}{l}"] - sign * learning_rate * g / denominator
        return new_p, (cache if mistake == "old cache returned" else new_c)
    return update


def test_adagrad_reference_and_variants_pass(reference):
    optimizers.check_update_parameters_adagrad(reference["update_parameters_adagrad"])
    optimizers.check_update_parameters_adagrad(adagrad_in_place)
    optimizers.check_update_parameters_adagrad(adagrad_wrong(None))


ADAGRAD_WRONG = {
    "cache = dW**2": (adagrad_wrong("not accumulated"), "cache was not accumulated"),
    "eps inside the sqrt": (adagrad_wrong("eps inside"), "epsilon inside the square root"),
    "old cache in the step": (adagrad_wrong("old cache"), "used the old cache"),
    "no square root": (adagrad_wrong("no sqrt"), "not by its square root"),
    "sign error": (adagrad_wrong("sign"), "sign is flipped"),
    "weights only": (adagrad_wrong("weights only"), "biases were not updated"),
    "skips the last layer": (adagrad_wrong("skip last"), "last layer was not updated"),
    "returns the old cache": (adagrad_wrong("old cache returned"), "returned unchanged"),
    "default epsilon 1e-6": (adagrad_wrong(None, default_epsilon=1e-6), "default epsilon"),
}


@pytest.mark.parametrize("label", ADAGRAD_WRONG)
def test_adagrad_wrong_implementations_fail(label):
    fn, words = ADAGRAD_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        optimizers.check_update_parameters_adagrad(fn)
