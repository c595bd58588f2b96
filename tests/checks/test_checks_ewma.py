"""The hidden check of 06_exponentially_weighted_averages: passes the reference and correct
variants, fails a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks import ewma as ewma_checks


# ------------------------------------------------------------------ correct variants

def loop_list(theta, beta, bias_correction=False):
    v, out = 0, []
    for t, x in enumerate(theta, start=1):
        v = beta * v + (1 - beta) * x
        out.append(v / (1 - beta**t) if bias_correction else v)
    return np.array(out, dtype=float)


def cumulative_formula(theta, beta, bias_correction=False):
    # v_t = (1 - beta) beta^t * sum_{k <= t} beta^(-k) theta_k, all at once.
    theta = np.asarray(theta, dtype=float)
    t = np.arange(1, theta.size + 1)
    v = (1 - beta) * beta**t * np.cumsum(beta ** (-t) * theta)
    if bias_correction:
        v = v / (1 - beta**t)
    return v


def weight_matrix(theta, beta, bias_correction=False):
    # Row t of the lower-triangular matrix holds the weights (1 - beta) beta^(t - k).
    theta = np.asarray(theta, dtype=float)
    t = np.arange(theta.size)
    W = np.tril((1 - beta) * beta ** np.clip(t[:, None] - t[None, :], 0, None))
    v = W @ theta
    return v / (1 - beta ** (t + 1)) if bias_correction else v


def in_place(theta, beta, bias_correction=False):
    # Overwrites its own float copy of theta with the averages.
    v = np.array(theta, dtype=np.float64)
    previous = 0.0
    for i in range(v.size):
        previous = beta * previous + (1 - beta) * v[i]
        v[i] = previous
    if bias_correction:
        v /= 1 - beta ** np.arange(1, v.size + 1)
    return v


def incremental_form(theta, beta, bias_correction=False):
    # v_t = v_{t-1} + (1 - beta)(theta_t - v_{t-1}): the same recursion, rearranged.
    theta = np.asarray(theta, dtype=float)
    v = np.zeros_like(theta)
    prev = 0.0
    for i, x in enumerate(theta):
        prev = prev + (1 - beta) * (x - prev)
        v[i] = prev / (1 - beta ** (i + 1)) if bias_correction else prev
    return v


@pytest.mark.parametrize("variant", [loop_list, cumulative_formula, weight_matrix, in_place, incremental_form])
def test_reference_and_correct_variants_pass(reference, variant):
    ewma_checks.check_ewma(reference["ewma"])
    ewma_checks.check_ewma(variant)


def test_a_linear_filter_passes():
    signal = pytest.importorskip("scipy.signal")

    def lfilter(theta, beta, bias_correction=False):
        v = signal.lfilter([1 - beta], [1, -beta], np.asarray(theta, dtype=float))
        return v / (1 - beta ** np.arange(1, len(v) + 1)) if bias_correction else v

    ewma_checks.check_ewma(lfilter)


# ------------------------------------------------------------------ wrong implementations

def _loop(a_of, b_of, *, v0=None, correct=lambda v, t, beta: v / (1 - beta**t), feed_back=False, start=1):
    def ewma(theta, beta, bias_correction=False):
        theta = np.asarray(theta, dtype=float)
        v = theta[0] if v0 == "first" else 0.0
        out = np.zeros(theta.size)
        for i, x in enumerate(theta):
            v = a_of(beta) * v + b_of(beta) * x
            value = correct(v, i + start, beta) if bias_correction else v
            if feed_back:
                v = value
            out[i] = value
        return out
    return ewma


RIGHT_A, RIGHT_B = (lambda beta: beta), (lambda beta: 1 - beta)


def no_correction(theta, beta, bias_correction=False):
    return loop_list(theta, beta)


def always_corrected(theta, beta, bias_correction=True):
    return loop_list(theta, beta, bias_correction=True)


def off_by_one(theta, beta, bias_correction=False):
    theta = np.asarray(theta, dtype=float)
    v = np.zeros(theta.size)
    for t in range(1, theta.size):
        v[t] = beta * v[t - 1] + (1 - beta) * theta[t - 1]
    if bias_correction:
        v[1:] = v[1:] / (1 - beta ** np.arange(1, theta.size))
    return v


def needs_an_array(theta, beta, bias_correction=False):
    v = np.zeros(theta.shape)  # a list has no .shape
    prev = 0.0
    for i in range(theta.shape[0]):
        prev = beta * prev + (1 - beta) * theta[i]
        v[i] = prev / (1 - beta ** (i + 1)) if bias_correction else prev
    return v


def zeros_like_int(theta, beta, bias_correction=False):
    theta = np.asarray(theta)
    v = np.zeros_like(theta)  # integer theta -> integer v: every average truncated
    prev = 0.0
    for i in range(theta.size):
        prev = beta * prev + (1 - beta) * theta[i]
        v[i] = prev / (1 - beta ** (i + 1)) if bias_correction else prev
    return v


def returns_list(theta, beta, bias_correction=False):
    return list(loop_list(theta, beta, bias_correction))


def returns_last(theta, beta, bias_correction=False):
    return loop_list(theta, beta, bias_correction)[-1]


def returns_row(theta, beta, bias_correction=False):
    return loop_list(theta, beta, bias_correction).reshape(1, -1)


def includes_v0(theta, beta, bias_correction=False):
    v = loop_list(theta, beta, bias_correction)
    return np.concatenate([[0.0], v])


def python_floats_t_minus_1(theta, beta, bias_correction=False):
    v, out = 0.0, []
    for t, x in enumerate(theta):  # t from 0: the correction divides by 1 - beta**0 = 0 first
        v = beta * v + (1 - beta) * float(x)
        out.append(v / (1 - beta**t) if bias_correction else v)
    return np.array(out)


def returns_none(theta, beta, bias_correction=False):
    loop_list(theta, beta, bias_correction)


WRONG = {
    "no bias correction when asked": (no_correction, "no bias correction although bias_correction=True"),
    "correction with t + 1": (_loop(RIGHT_A, RIGHT_B, start=2), r"1 - beta\*\*\(t \+ 1\)"),
    "correction with t - 1": (_loop(RIGHT_A, RIGHT_B, start=0), r"1 - beta\*\*\(t - 1\)"),
    "corrected value fed back": (_loop(RIGHT_A, RIGHT_B, feed_back=True), "fed back into the recursion"),
    "beta on the wrong term": (_loop(lambda beta: 1 - beta, lambda beta: beta), "swapped"),
    "v_0 = theta_1": (_loop(RIGHT_A, RIGHT_B, v0="first"), "v_0 = theta_1"),
    "returns v_0 .. v_{T-1}": (off_by_one, "off by one"),
    "corrected by default": (always_corrected, "applied although bias_correction=False"),
    "fails on a list": (needs_an_array, "list of ints.*AttributeError.*np.asarray"),
    "integer output from zeros_like": (zeros_like_int, "dtype int64.*zeros_like"),
    "returns a list": (returns_list, "got list"),
    "returns only the last value": (returns_last, "single number"),
    "returns a (1, T) row": (returns_row, r"expected shape \(200,\), got \(1, 200\)"),
    "returns T + 1 values": (includes_v0, "leave out v_0"),
    "correction squared": (_loop(RIGHT_A, RIGHT_B, correct=lambda v, t, beta: v / (1 - beta**t) ** 2),
                           "values differ"),
    "returns None": (returns_none, "return"),
    "t from 0 with Python floats": (python_floats_t_minus_1, "ZeroDivisionError.*t counts from 1"),
}


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.parametrize("label", WRONG)
def test_wrong_implementations_fail(label):
    fn, expected_words = WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        ewma_checks.check_ewma(fn)


def test_cases_start_far_from_zero():
    # The start-up bias is only visible when the series is far from 0.
    for theta, _beta in ewma_checks._CASES:
        assert theta.min() > 10


def test_mistakes_differ_from_the_right_answer():
    # Each named mistake must be distinguishable from the right answer, or its name could never show.
    theta, beta = ewma_checks._CASES[0]
    for corrected in (False, True):
        right = ewma_checks._expected(theta, beta, corrected)
        for label, wrong in ewma_checks._mistakes(theta, beta, corrected).items():
            assert not np.allclose(wrong, right, equal_nan=True), label
