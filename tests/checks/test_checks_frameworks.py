"""The hidden checks of 12_frameworks: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import re

import numpy as np
import pytest

from grader.checks import frameworks as checks_frameworks


def _fails(check, fn, words):
    with pytest.raises(AssertionError, match=re.compile(words, re.S)):
        with np.errstate(all="ignore"):
            check(fn)


# ================================================================== unbroadcast


def unbroadcast_loop_axes(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def unbroadcast_reshape(grad, shape):
    lead = grad.ndim - len(shape)
    padded = (1,) * lead + tuple(shape)
    axes = tuple(i for i, (g, s) in enumerate(zip(grad.shape, padded)) if s == 1 and g != 1)
    return np.sum(grad, axis=axes, keepdims=True).reshape(shape)


def unbroadcast_ones_matmul(grad, shape):
    # The sum as a product with ones, one axis at a time (a correct, if roundabout, way).
    out = np.array(grad)
    while out.ndim > len(shape):
        out = np.tensordot(np.ones(out.shape[0], dtype=out.dtype), out, axes=(0, 0))
    for axis, size in enumerate(shape):
        if size == 1 and out.shape[axis] != 1:
            out = np.add.reduce(out, axis=axis, keepdims=True)
    return out


UNBROADCAST_CORRECT = [unbroadcast_loop_axes, unbroadcast_reshape, unbroadcast_ones_matmul]


def test_unbroadcast_reference_passes(reference):
    checks_frameworks.check_unbroadcast(reference["unbroadcast"])


@pytest.mark.parametrize("fn", UNBROADCAST_CORRECT, ids=lambda f: f.__name__)
def test_unbroadcast_correct_variants_pass(fn):
    checks_frameworks.check_unbroadcast(fn)


def ub_no_keepdims(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes)


def ub_leading_only(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    return grad


def ub_mean(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.mean(axis=0)
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.mean(axis=axes, keepdims=True)


def ub_last_axes(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=-1)  # aligns from the left
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    return grad.sum(axis=axes, keepdims=True)


def ub_ones_only(grad, shape):
    lead = grad.ndim - len(shape)
    axes = tuple(i + lead for i, s in enumerate(shape) if s == 1 and grad.shape[i + lead] != 1)
    out = grad.sum(axis=axes, keepdims=True)
    return out.reshape(shape) if out.size == int(np.prod(shape)) else out


def ub_float64(grad, shape):
    out = np.zeros(shape)
    out += unbroadcast_loop_axes(grad, shape)
    return out


def ub_in_place(grad, shape):
    grad *= 1.0  # harmless, but then:
    grad[...] = grad  # noqa: PLW0127 (writes into the caller's array)
    grad += 0.0
    out = unbroadcast_loop_axes(grad, shape)
    grad.fill(0.0)  # "free" the buffer
    return out


def ub_everything(grad, shape):
    return np.sum(grad) * np.ones(shape)


def ub_no_return(grad, shape):
    unbroadcast_loop_axes(grad, shape)


UNBROADCAST_WRONG = {
    "sums without keepdims": (ub_no_keepdims, "without keepdims"),
    "sums only the leading axes": (ub_leading_only, "only the leading axes"),
    "means instead of sums": (ub_mean, "the mean instead of the sum"),
    "aligns shapes from the left": (ub_last_axes, "aligns shapes from the RIGHT"),
    "sums only the size-1 axes": (ub_ones_only, "added in front were not summed away"),
    "returns float64 for float32": (ub_float64, "dtype float64, expected float32"),
    "zeroes the caller's grad": (ub_in_place, "changed its input grad in place"),
    "sums everything": (ub_everything, "values differ"),
    "forgets to return": (ub_no_return, "returned None"),
}


@pytest.mark.parametrize("label", UNBROADCAST_WRONG)
def test_unbroadcast_wrong_fail(label):
    fn, words = UNBROADCAST_WRONG[label]
    _fails(checks_frameworks.check_unbroadcast, fn, words)


# ================================================================== matmul_backward


def matmul_backward_einsum(grad, A, B):
    dA = np.einsum("...ij,kj->...ik", grad, B)
    stack = (-1,) + A.shape[-2:]
    dB = np.einsum("bji,bjk->ik", A.reshape(stack), grad.reshape(stack[:2] + grad.shape[-1:]))
    return dA, dB


def matmul_backward_flatten(grad, A, B):
    # Stack the batch into rows: (b, m, n) -> (b*m, n), then the 2-D formulas.
    A2, g2 = A.reshape(-1, A.shape[-1]), grad.reshape(-1, grad.shape[-1])
    return (g2 @ B.T).reshape(A.shape), A2.T @ g2


def matmul_backward_loops(grad, A, B):
    dA = np.zeros_like(A)
    dB = np.zeros_like(B)
    for index in np.ndindex(A.shape[:-1]):
        dA[index] = B @ grad[index]
        dB += np.outer(A[index], grad[index])
    return dA, dB


MATMUL_CORRECT = [matmul_backward_einsum, matmul_backward_flatten, matmul_backward_loops]


def test_matmul_backward_reference_passes(reference):
    checks_frameworks.check_matmul_backward(reference["matmul_backward"])


@pytest.mark.parametrize("fn", MATMUL_CORRECT, ids=lambda f: f.__name__)
def test_matmul_backward_correct_variants_pass(fn):
    checks_frameworks.check_matmul_backward(fn)


def mm_no_transpose_dA(grad, A, B):
    return grad @ B, np.swapaxes(A, -1, -2) @ grad if A.ndim == 2 else (np.swapaxes(A, -1, -2) @ grad).sum(0)


def mm_dB_transposed(grad, A, B):
    return grad @ B.T, grad.T @ A


def mm_swapped(grad, A, B):
    dA, dB = matmul_backward_flatten(grad, A, B)
    return dB, dA


def mm_no_batch_sum(grad, A, B):
    return grad @ B.T, np.swapaxes(A, -1, -2) @ grad


def mm_batch_mean(grad, A, B):
    dB = np.swapaxes(A, -1, -2) @ grad
    return grad @ B.T, dB.mean(axis=0) if A.ndim == 3 else dB


def mm_capital_T(grad, A, B):
    dB = A.T @ grad  # for 3-D A, .T reverses every axis
    return grad @ B.T, dB


def mm_divided(grad, A, B):
    dA, dB = matmul_backward_flatten(grad, A, B)
    m = A.shape[-2]
    return dA / m, dB / m


def mm_float64(grad, A, B):
    dA, dB = matmul_backward_flatten(grad, A, B)
    return dA.astype(np.float64), dB.astype(np.float64)


def mm_in_place(grad, A, B):
    dA, dB = matmul_backward_flatten(grad, A, B)
    A -= A  # "free" the saved input
    return dA, dB


MATMUL_WRONG = {
    "dA without the transpose": (mm_no_transpose_dA, "dA = grad @ B without the transpose"),
    "dB transposed": (mm_dB_transposed, r"transpose of dB|raised ValueError"),
    "dA and dB swapped": (mm_swapped, "wrong order"),
    "dB not summed over the batch": (mm_no_batch_sum, "not summed over the batch axis"),
    "dB averaged over the batch": (mm_batch_mean, "averaged over the batch axis"),
    "A.T on a 3-D array": (mm_capital_T, "swapaxes"),
    "divided by m": (mm_divided, "divided by the batch size"),
    "float32 turned into float64": (mm_float64, "expected float32"),
    "zeroes the caller's A": (mm_in_place, "changed its input A in place"),
}


@pytest.mark.parametrize("label", MATMUL_WRONG)
def test_matmul_backward_wrong_fail(label):
    fn, words = MATMUL_WRONG[label]
    _fails(checks_frameworks.check_matmul_backward, fn, words)


def test_matmul_dB_transposed_is_named_on_square_matrices():
    # grad.T @ A fails with a shape error for most shapes; on square ones it is named.
    rng = np.random.default_rng(0)
    A, B, grad = (rng.normal(size=(4, 4)) for _ in range(3))
    _, dB_mistakes = checks_frameworks._matmul_mistakes(grad, A, B)
    assert any("transpose of dB" in label and np.allclose(w, grad.T @ A) for label, w in dB_mistakes.items())


# ================================================================== dropout_layer


def dropout_bool_mask(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = rng.random(X.shape) < keep_prob
    return X * mask / keep_prob, mask


def dropout_uniform_float_mask(X, keep_prob, training, rng):
    if training:
        mask = (rng.uniform(0.0, 1.0, size=X.shape) < keep_prob).astype(X.dtype)
        out = X * mask
        out /= keep_prob
        return out, mask
    return X.copy(), np.ones_like(X)


def dropout_binomial(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = rng.binomial(1, keep_prob, size=X.shape).astype(X.dtype)
    return np.where(mask == 1, X / keep_prob, 0).astype(X.dtype), mask


def dropout_greater_than(X, keep_prob, training, rng):
    # keep where a draw exceeds the drop probability: also probability keep_prob
    if not training:
        return X, None
    mask = (rng.random(X.shape) >= 1 - keep_prob).astype(X.dtype)
    return X * mask * (1 / keep_prob), mask


DROPOUT_CORRECT = [dropout_bool_mask, dropout_uniform_float_mask, dropout_binomial, dropout_greater_than]


def test_dropout_layer_reference_passes(reference):
    checks_frameworks.check_dropout_layer(reference["dropout_layer"])


@pytest.mark.parametrize("fn", DROPOUT_CORRECT, ids=lambda f: f.__name__)
def test_dropout_layer_correct_variants_pass(fn):
    checks_frameworks.check_dropout_layer(fn)


def do_no_rescale(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = rng.random(X.shape) < keep_prob
    return X * mask, mask


def do_drop_prob(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = rng.random(X.shape) < 1 - keep_prob  # PyTorch's p
    return X * mask / keep_prob, mask


def do_rng_in_eval(X, keep_prob, training, rng):
    mask = rng.random(X.shape) < keep_prob  # drawn in both modes
    if not training:
        return X, None
    return X * mask / keep_prob, mask


def do_scaled_in_eval(X, keep_prob, training, rng):
    if not training:
        return X / keep_prob, None
    mask = rng.random(X.shape) < keep_prob
    return X * mask / keep_prob, mask


def do_times_keep_in_eval(X, keep_prob, training, rng):
    if not training:
        return X * keep_prob, None
    mask = rng.random(X.shape) < keep_prob
    return X * mask / keep_prob, mask


def do_drops_in_eval(X, keep_prob, training, rng):
    mask = rng.random(X.shape) < keep_prob
    return X * mask / keep_prob, mask


def do_one_mask_per_unit(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = np.broadcast_to(rng.random((1, X.shape[1])) < keep_prob, X.shape)
    return X * mask / keep_prob, mask


def do_scaled_mask(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = (rng.random(X.shape) < keep_prob) / keep_prob
    return X * mask, mask


def do_in_place(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = rng.random(X.shape) < keep_prob
    X *= mask / keep_prob
    return X, mask


def do_global_rng(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = np.random.random(X.shape) < keep_prob
    return X * mask / keep_prob, mask


def do_float64_mask(X, keep_prob, training, rng):
    if not training:
        return X, None
    mask = (rng.random(X.shape) < keep_prob).astype(np.float64)
    return X * mask / keep_prob, mask


DROPOUT_WRONG = {
    "no rescale": (do_no_rescale, "rescale is missing"),
    "drops with probability keep_prob": (do_drop_prob, "DROP probability"),
    "uses rng in eval": (do_rng_in_eval, "drew random numbers in eval mode"),
    "rescales in eval": (do_scaled_in_eval, "TRAINING mode only"),
    "multiplies by keep_prob in eval": (do_times_keep_in_eval, "plain \\(not inverted\\) dropout"),
    "drops in eval": (do_drops_in_eval, "nothing is dropped"),
    "one mask per unit for all examples": (do_one_mask_per_unit, "masks of different examples"),
    "mask holds 1/keep_prob": (do_scaled_mask, "1/keep_prob where a unit is kept"),
    "changes X in place": (do_in_place, "changed its input X in place"),
    "NumPy's global generator": (do_global_rng, "global random generator"),
    "float32 turned into float64": (do_float64_mask, "expected float32 like X"),
}


@pytest.mark.parametrize("label", DROPOUT_WRONG)
def test_dropout_layer_wrong_fail(label):
    fn, words = DROPOUT_WRONG[label]
    _fails(checks_frameworks.check_dropout_layer, fn, words)


# ================================================================== adam_step


def adam_in_place(params, grads, state, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    if not state:
        state.update(t=0, v=[np.zeros_like(p) for p in params], s=[np.zeros_like(p) for p in params])
    state["t"] += 1
    t = state["t"]
    for p, g, v, s in zip(params, grads, state["v"], state["s"]):
        v *= beta1
        v += (1 - beta1) * g
        s *= beta2
        s += (1 - beta2) * g * g
        p -= learning_rate * (v / (1 - beta1**t)) / (np.sqrt(s / (1 - beta2**t)) + epsilon)
    return params, state


def adam_copies(params, grads, state, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    t = state.get("t", 0) + 1
    v = state.get("v", [np.zeros_like(p) for p in params])
    s = state.get("s", [np.zeros_like(p) for p in params])
    v = [beta1 * vi + (1 - beta1) * g for vi, g in zip(v, grads)]
    s = [beta2 * si + (1 - beta2) * g**2 for si, g in zip(s, grads)]
    lr_t = learning_rate * np.sqrt(1 - beta2**t) / (1 - beta1**t)  # the folded form, epsilon rescaled to match
    eps_t = epsilon * np.sqrt(1 - beta2**t)
    new = [p - lr_t * vi / (np.sqrt(si) + eps_t) for p, vi, si in zip(params, v, s)]
    return new, {"t": t, "v": v, "s": s}


ADAM_CORRECT = [adam_in_place, adam_copies]


def test_adam_step_reference_passes(reference):
    checks_frameworks.check_adam_step(reference["adam_step"])


@pytest.mark.parametrize("fn", ADAM_CORRECT, ids=lambda f: f.__name__)
def test_adam_step_correct_variants_pass(fn):
    checks_frameworks.check_adam_step(fn)


def _adam_variant(*, correct=True, eps_inside=False, stored_hat=False, increment=1, old_t=False, ascend=False,
                  keep_t=False, no_init=False):
    def adam_step(params, grads, state, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        if not state and not no_init:
            state = {"t": 0, "v": [np.zeros_like(p) for p in params], "s": [np.zeros_like(p) for p in params]}
        t = state["t"] + increment
        tc = state["t"] if old_t else t
        v = [beta1 * vi + (1 - beta1) * g for vi, g in zip(state["v"], grads)]
        s = [beta2 * si + (1 - beta2) * g**2 for si, g in zip(state["s"], grads)]
        v_hat = [vi / (1 - beta1**tc) for vi in v] if correct else v
        s_hat = [si / (1 - beta2**tc) for si in s] if correct else s
        if eps_inside:
            steps = [learning_rate * vh / np.sqrt(sh + epsilon) for vh, sh in zip(v_hat, s_hat)]
        else:
            steps = [learning_rate * vh / (np.sqrt(sh) + epsilon) for vh, sh in zip(v_hat, s_hat)]
        sign = -1 if ascend else 1
        new = [p - sign * d for p, d in zip(params, steps)]
        if stored_hat:
            v, s = v_hat, s_hat
        return new, {"t": state["t"] if keep_t else t, "v": v, "s": s}
    return adam_step


def adam_one_moment_for_all(params, grads, state, learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
    # one scalar moment shared by every parameter (their gradients' mean) instead of one per entry
    t = state.get("t", 0) + 1
    g_all = np.mean([np.mean(g) for g in grads])
    v = beta1 * state.get("v", [0.0])[0] + (1 - beta1) * g_all
    s = beta2 * state.get("s", [0.0])[0] + (1 - beta2) * g_all**2
    step = learning_rate * (v / (1 - beta1**t)) / (np.sqrt(s / (1 - beta2**t)) + epsilon)
    return [p - step for p in params], {"t": t, "v": [v] * len(params), "s": [s] * len(params)}


ADAM_WRONG = {
    "no bias correction": (_adam_variant(correct=False), "no bias correction"),
    "t not incremented": (_adam_variant(increment=0, keep_t=True), r"NaN|t was not incremented"),
    "t stored unincremented": (_adam_variant(keep_t=True), "t was not incremented"),
    "bias correction with the old t": (_adam_variant(old_t=True), "the old t"),
    "epsilon inside the square root": (_adam_variant(eps_inside=True), "epsilon inside the square root"),
    "state stored bias-corrected": (_adam_variant(stored_hat=True), "bias-corrected moments were stored"),
    "moves uphill": (_adam_variant(ascend=True), "uphill"),
    "does not create the state": (_adam_variant(no_init=True), "raised KeyError.*state is \\{\\}"),
    "one moment shared by all parameters": (adam_one_moment_for_all, "values differ|expected shape"),
}


@pytest.mark.parametrize("label", ADAM_WRONG)
def test_adam_step_wrong_fail(label):
    fn, words = ADAM_WRONG[label]
    _fails(checks_frameworks.check_adam_step, fn, words)
