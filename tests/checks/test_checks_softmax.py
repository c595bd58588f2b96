"""The hidden checks of 11_softmax: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import re

import numpy as np
import pytest

from grader.checks import softmax as checks_softmax

# ================================================================== softmax


def softmax_loops(Z):
    A = np.empty(Z.shape)
    for j in range(Z.shape[1]):
        e = np.exp(Z[:, j] - Z[:, j].max())
        A[:, j] = e / e.sum()
    return A


def softmax_logsumexp(Z):
    top = Z.max(axis=0, keepdims=True)
    lse = top + np.log(np.exp(Z - top).sum(axis=0, keepdims=True))
    return np.exp(Z - lse)


def softmax_in_place_on_copy(Z):
    A = np.array(Z, dtype=np.float64)  # a copy: everything below works in place on it
    A -= A.max(axis=0)
    np.exp(A, out=A)
    A /= A.sum(axis=0)
    return A


def softmax_rows_of_transpose(Z):
    T = Z.T
    E = np.exp(T - T.max(axis=1, keepdims=True))
    return (E / E.sum(axis=1, keepdims=True)).T


SOFTMAX_CORRECT = [softmax_loops, softmax_logsumexp, softmax_in_place_on_copy, softmax_rows_of_transpose]


def test_softmax_reference_passes(reference):
    checks_softmax.check_softmax(reference["softmax"])


@pytest.mark.parametrize("fn", SOFTMAX_CORRECT, ids=lambda f: f.__name__)
def test_softmax_correct_variants_pass(fn):
    checks_softmax.check_softmax(fn)


def _quiet(fn):
    """A wrong softmax overflows on purpose: keep NumPy's warnings out of the test log."""
    def wrapped(Z):
        with np.errstate(all="ignore"):
            return fn(Z)
    return wrapped


def sm_wrong_axis(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def sm_no_shift(Z):
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def sm_global_max(Z):
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=0, keepdims=True)


def sm_zero_floor(Z):
    E = np.exp(Z - np.maximum(Z.max(axis=0, keepdims=True), 0))
    return E / E.sum(axis=0, keepdims=True)


def sm_in_place_shift(Z):
    Z -= Z.max(axis=0, keepdims=True)  # shifts the caller's array
    E = np.exp(Z)
    return E / E.sum(axis=0, keepdims=True)


def sm_whole_sum(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / np.sum(E)


def sm_sum_as_column(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0)[:, None]


def sm_epsilon(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / (E.sum(axis=0, keepdims=True) + 1e-8)


def sm_clipped_logits(Z):
    E = np.exp(np.clip(Z, -500, 500))
    return E / E.sum(axis=0, keepdims=True)


def sm_float32(Z):
    Z = Z.astype(np.float32)
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def sm_unnormalized(Z):
    return np.exp(Z - Z.max(axis=0, keepdims=True))


def sm_hard_max(Z):
    return (Z == Z.max(axis=0, keepdims=True)).astype(float)


def sm_no_return(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    E / E.sum(axis=0, keepdims=True)


SOFTMAX_WRONG = {
    "over the wrong axis": (sm_wrong_axis, "wrong axis"),
    "without the max shift (NaN above ~710)": (sm_no_shift, "no max shift"),
    "one global max": (sm_global_max, "global max"),
    "max(0, max) shift": (sm_zero_floor, r"max\(0, max\)"),
    "shifts the caller's Z in place": (sm_in_place_shift, "changed its input Z in place.*Z_shifted"),
    "sum of the whole array": (sm_whole_sum, "sum of the whole array"),
    "sums broadcast as a column": (sm_sum_as_column, "raised ValueError"),
    "epsilon in the denominator": (sm_epsilon, "epsilon added to the sum"),
    "logits clipped at ±500": (sm_clipped_logits, "clipping or rescaling the logits"),
    "float32": (sm_float32, "float32"),
    "not normalized": (sm_unnormalized, "not divided by their column sums"),
    "hard max instead of softmax": (sm_hard_max, "the hard max"),
    "forgets to return": (sm_no_return, "returned None"),
}


@pytest.mark.parametrize("label", SOFTMAX_WRONG)
def test_softmax_wrong_fail(label):
    fn, words = SOFTMAX_WRONG[label]
    with pytest.raises(AssertionError, match=re.compile(words, re.S)):
        checks_softmax.check_softmax(_quiet(fn))


def test_softmax_sum_as_column_is_named_on_a_square_array():
    # Broadcasting a (m,) sum as a column raises for most shapes; where it does not (C = m) it is named.
    square = next(Z for label, Z in checks_softmax._softmax_cases() if Z.shape[0] == Z.shape[1])
    mistakes = checks_softmax._softmax_mistakes(square)
    got = sm_sum_as_column(square)
    assert any(np.allclose(got, wrong) and "keepdims" in label for label, wrong in mistakes.items())


# ================================================================== one_hot


def one_hot_eye(y, C):
    return np.eye(C)[np.ravel(y).astype(int)].T


def one_hot_loop(y, C):
    labels = [int(k) for k in np.asarray(y).flatten()]
    Y = np.zeros((C, len(labels)))
    for j, k in enumerate(labels):
        Y[k, j] = 1
    return Y


def one_hot_compare(y, C):
    return (np.arange(C).reshape(C, 1) == np.reshape(y, (1, -1))).astype(np.float64)


ONE_HOT_CORRECT = [one_hot_eye, one_hot_loop, one_hot_compare]


def test_one_hot_reference_passes(reference):
    checks_softmax.check_one_hot(reference["one_hot"])


@pytest.mark.parametrize("fn", ONE_HOT_CORRECT, ids=lambda f: f.__name__)
def test_one_hot_correct_variants_pass(fn):
    checks_softmax.check_one_hot(fn)


def oh_transposed(y, C):
    y = np.ravel(y).astype(int)
    Y = np.zeros((y.size, C))
    Y[np.arange(y.size), y] = 1
    return Y


def oh_ignores_row_labels(y, C):
    Y = np.zeros((C, len(y)))  # len of a (1, m) array is 1
    Y[y, np.arange(len(y))] = 1
    return Y


def oh_eye_of_row(y, C):
    return np.eye(C)[y.astype(int)].T  # (1, m) labels give a (C, m, 1) array


def oh_float_labels(y, C):
    y = y.reshape(-1)
    Y = np.zeros((C, y.size))
    Y[y, np.arange(y.size)] = 1  # IndexError for float labels
    return Y


def oh_int(y, C):
    return np.eye(C, dtype=int)[np.ravel(y).astype(int)].T


def oh_classes_present(y, C):
    y = np.ravel(y).astype(int)
    Y = np.zeros((y.max() + 1, y.size))
    Y[y, np.arange(y.size)] = 1
    return Y


def oh_one_based(y, C):
    y = np.ravel(y).astype(int)
    Y = np.zeros((C, y.size))
    Y[y - 1, np.arange(y.size)] = 1
    return Y


def oh_reshapes_caller(y, C):
    y.shape = (-1,)  # changes the caller's array
    Y = np.zeros((C, y.size))
    Y[y.astype(int), np.arange(y.size)] = 1
    return Y


def oh_bool(y, C):
    return np.arange(C).reshape(C, 1) == np.reshape(y, (1, -1))


ONE_HOT_WRONG = {
    "transposed": (oh_transposed, "transposed"),
    "ignores (1, m) labels": (oh_ignores_row_labels, r"shape \(1, m\)"),
    "np.eye of (1, m) labels": (oh_eye_of_row, r"shape \(1, m\)"),
    "float labels used as indices": (oh_float_labels, "whole-number floats"),
    "integer one-hot": (oh_int, "float array"),
    "C from max(y) + 1": (oh_classes_present, r"not max\(y\) \+ 1"),
    "labels taken as 1-based": (oh_one_based, "one row up"),
    "reshapes the caller's y": (oh_reshapes_caller, "changed its input y in place.*y.shape"),
    "boolean one-hot": (oh_bool, "float array"),
}


@pytest.mark.parametrize("label", ONE_HOT_WRONG)
def test_one_hot_wrong_fail(label):
    fn, words = ONE_HOT_WRONG[label]
    with pytest.raises(AssertionError, match=re.compile(words, re.S)):
        checks_softmax.check_one_hot(fn)


# ================================================================== cross_entropy_cost


def cost_clip_1e12(AL, Y):
    return -np.sum(Y * np.log(np.clip(AL, 1e-12, 1.0))) / AL.shape[1]


def cost_epsilon_1e8(AL, Y):
    return float(-np.mean(np.sum(Y * np.log(AL + 1e-8), axis=0)))


def cost_keras_clip(AL, Y):
    return -np.sum(Y * np.log(np.clip(AL, 1e-7, 1 - 1e-7))) / AL.shape[1]


def cost_true_class_only(AL, Y):
    y = Y.argmax(axis=0)
    return -np.mean(np.log(np.maximum(AL[y, np.arange(AL.shape[1])], 1e-15)))


def cost_where(AL, Y):
    with np.errstate(divide="ignore"):
        logs = np.where(Y > 0, np.log(np.maximum(AL, 1e-300)), 0.0)
    return -np.sum(Y * logs) / Y.shape[1]


def cost_loops(AL, Y):
    total = 0.0
    for i in range(AL.shape[0]):
        for j in range(AL.shape[1]):
            if Y[i, j]:
                total += Y[i, j] * np.log(max(AL[i, j], 1e-15))
    return -total / AL.shape[1]


COST_CORRECT = [cost_clip_1e12, cost_epsilon_1e8, cost_keras_clip, cost_true_class_only, cost_where, cost_loops]


def test_cost_reference_passes(reference):
    checks_softmax.check_cross_entropy_cost(reference["cross_entropy_cost"])


@pytest.mark.parametrize("fn", COST_CORRECT, ids=lambda f: f.__name__)
def test_cost_correct_variants_pass(fn):
    checks_softmax.check_cross_entropy_cost(fn)


def _quiet_cost(fn):
    def wrapped(AL, Y):
        with np.errstate(all="ignore"):
            return fn(AL, Y)
    return wrapped


SAFE = 1e-15
COST_WRONG = {
    "sum instead of mean": (lambda AL, Y: -np.sum(Y * np.log(np.maximum(AL, SAFE))), "divide by m"),
    "mean over all C*m entries": (lambda AL, Y: -np.mean(Y * np.log(np.maximum(AL, SAFE))), "C × m"),
    "log of zero (NaN)": (lambda AL, Y: -np.sum(Y * np.log(AL)) / AL.shape[1], "finite cost"),
    "nansum of log(0) (inf)": (lambda AL, Y: -np.nansum(Y * np.log(AL)) / AL.shape[1], "finite cost"),
    "clipped to [1e-3, 1 - 1e-3]": (lambda AL, Y: -np.sum(Y * np.log(np.clip(AL, 1e-3, 1 - 1e-3))) / AL.shape[1],
                                    "clipping AL"),
    "epsilon 1e-4 added": (lambda AL, Y: -np.sum(Y * np.log(AL + 1e-4)) / AL.shape[1], "adding an epsilon"),
    "floor of 1e-2": (lambda AL, Y: -np.sum(Y * np.log(np.maximum(AL, 1e-2))) / AL.shape[1], "clipping AL"),
    "binary cross-entropy": (lambda AL, Y: -np.sum(Y * np.log(np.clip(AL, SAFE, 1)) + (1 - Y) * np.log(
        np.clip(1 - AL, SAFE, 1))) / AL.shape[1], "binary cross-entropy"),
    "missing minus": (lambda AL, Y: np.sum(Y * np.log(np.maximum(AL, SAFE))) / AL.shape[1], "sign is flipped"),
    "log10": (lambda AL, Y: -np.sum(Y * np.log10(np.maximum(AL, SAFE))) / AL.shape[1], "log10"),
    "(1, 1) array": (lambda AL, Y: -np.sum(Y * np.log(np.maximum(AL, SAFE)), keepdims=True) / AL.shape[1],
                     "expected a number"),
    "largest probability, not the true class's": (lambda AL, Y: -np.mean(np.log(AL.max(axis=0))),
                                                  "largest probability"),
    "divided by C": (lambda AL, Y: -np.sum(Y * np.log(np.maximum(AL, SAFE))) / AL.shape[0], "divided by C"),
    "returns None": (lambda AL, Y: None, "returned None"),
}


def cost_fixes_zeros_in_place(AL, Y):
    AL[AL == 0] = 1e-15  # writes into the caller's AL
    return -np.sum(Y * np.log(AL)) / AL.shape[1]


COST_WRONG["clipped only below 1 - 1e-3"] = (
    lambda AL, Y: -np.sum(Y * np.log(np.clip(AL, SAFE, 1 - 1e-3))) / AL.shape[1], "expected 0")
COST_WRONG["floors the caller's AL in place"] = (cost_fixes_zeros_in_place, "changed its input AL in place.*AL\\[AL == 0\\]")


@pytest.mark.parametrize("label", COST_WRONG)
def test_cost_wrong_fail(label):
    fn, words = COST_WRONG[label]
    with pytest.raises(AssertionError, match=re.compile(words, re.S)):
        checks_softmax.check_cross_entropy_cost(_quiet_cost(fn))


# ================================================================== softmax_backward


def backward_subtract(AL, Y):
    return np.subtract(AL, Y)


def backward_copy_in_place(AL, Y):
    dZ = AL.copy()
    dZ -= Y
    return dZ


def backward_true_class(AL, Y):
    dZ = AL.copy()
    dZ[Y == 1] -= 1  # one-hot Y: the same as AL - Y
    return dZ


def backward_loops(AL, Y):
    dZ = np.zeros(AL.shape)
    for i in range(AL.shape[0]):
        for j in range(AL.shape[1]):
            dZ[i, j] = AL[i, j] - Y[i, j]
    return dZ


BACKWARD_CORRECT = [backward_subtract, backward_copy_in_place, backward_true_class, backward_loops]


def test_backward_reference_passes(reference):
    checks_softmax.check_softmax_backward(reference["softmax_backward"])


@pytest.mark.parametrize("fn", BACKWARD_CORRECT, ids=lambda f: f.__name__)
def test_backward_correct_variants_pass(fn):
    checks_softmax.check_softmax_backward(fn)


def backward_in_place(AL, Y):
    AL -= Y  # the caller's AL now holds dZ
    return AL


BACKWARD_WRONG = {
    "divided by m (then twice, in dW)": (lambda AL, Y: (AL - Y) / AL.shape[1], "divided by m"),
    "sign flipped": (lambda AL, Y: Y - AL, "sign is flipped"),
    "transposed": (lambda AL, Y: (AL - Y).T, "transposed"),
    "dAL instead of dZ": (lambda AL, Y: -Y / AL, "dAL"),
    "AL - 1": (lambda AL, Y: AL - 1, "AL - 1"),
    "sigmoid derivative chained": (lambda AL, Y: (AL - Y) * AL * (1 - AL), "sigmoid"),
    "in place on the caller's AL": (backward_in_place, "changed its input AL in place.*AL -= Y"),
    "returns AL": (lambda AL, Y: AL, "values differ"),
    "float32": (lambda AL, Y: (AL - Y).astype(np.float32), "values differ|float"),
}


@pytest.mark.parametrize("label", BACKWARD_WRONG)
def test_backward_wrong_fail(label):
    fn, words = BACKWARD_WRONG[label]

    def quiet(AL, Y):
        with np.errstate(all="ignore"):
            return fn(AL, Y)

    with pytest.raises(AssertionError, match=re.compile(words, re.S)):
        checks_softmax.check_softmax_backward(quiet)


# ================================================================== raising student code


def test_an_exception_in_the_student_code_is_reported_with_the_call():
    def broken(Z):
        raise KeyError("oops")

    with pytest.raises(AssertionError, match=r"softmax\(Z\) for ordinary scores .* raised KeyError"):
        checks_softmax.check_softmax(broken)
