"""The hidden checks of 08_learning_rate_decay: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import math

import numpy as np
import pytest

from grader.checks import lr_decay

# ------------------------------------------------------------------ inverse time


def test_inverse_time_reference_and_variants_pass(reference):
    lr_decay.check_lr_inverse_time(reference["lr_inverse_time"])
    lr_decay.check_lr_inverse_time(lambda lr0, epoch, decay_rate: 1 / (1 + decay_rate * epoch) * lr0)
    lr_decay.check_lr_inverse_time(lambda lr0, epoch, decay_rate: np.float64(lr0) / np.add(1, decay_rate * epoch))


INVERSE_WRONG = {
    "decay in the numerator": (lambda lr0, e, d: lr0 * (1 + d * e), "into the numerator"),
    "missing brackets": (lambda lr0, e, d: lr0 / 1 + d * e, "missing brackets"),
    "epoch + 1": (lambda lr0, e, d: lr0 / (1 + d * (e + 1)), "epoch \\+ 1"),
    "exponential instead": (lambda lr0, e, d: lr0 * d**e, "exponential"),
    "integer division": (lambda lr0, e, d: lr0 / (1 + d * e // 1), "expected"),
    "returns an array": (lambda lr0, e, d: np.array([lr0 / (1 + d * e)]), "a number"),
    "returns None": (lambda lr0, e, d: None, "return"),
}


@pytest.mark.parametrize("label", INVERSE_WRONG)
def test_inverse_time_wrong_fail(label):
    fn, words = INVERSE_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        lr_decay.check_lr_inverse_time(fn)


# ------------------------------------------------------------------ exponential


def test_exponential_reference_and_variants_pass(reference):
    lr_decay.check_lr_exponential(reference["lr_exponential"])
    lr_decay.check_lr_exponential(lambda lr0, epoch, base: lr0 * math.pow(base, epoch))
    lr_decay.check_lr_exponential(lambda lr0, epoch, base: lr0 * np.exp(epoch * np.log(base)))


EXPONENTIAL_WRONG = {
    "base ** (epoch + 1)": (lambda lr0, e, b: lr0 * b ** (e + 1), "epoch \\+ 1"),
    "base * epoch": (lambda lr0, e, b: lr0 * b * e, "base \\* epoch"),
    "epoch ** base": (lambda lr0, e, b: lr0 * e**b, "epoch \\*\\* base"),
    "exp(-base * epoch)": (lambda lr0, e, b: lr0 * math.exp(-b * e), "exp"),
    "forgets lr0": (lambda lr0, e, b: b**e, "expected"),
}


@pytest.mark.parametrize("label", EXPONENTIAL_WRONG)
def test_exponential_wrong_fail(label):
    fn, words = EXPONENTIAL_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        lr_decay.check_lr_exponential(fn)


# ------------------------------------------------------------------ staircase


def test_staircase_reference_and_variants_pass(reference):
    lr_decay.check_lr_staircase(reference["lr_staircase"])
    lr_decay.check_lr_staircase(lambda lr0, epoch, d, interval: lr0 / (1 + d * (epoch // interval)))
    lr_decay.check_lr_staircase(lambda lr0, epoch, d, interval: lr0 / (1 + d * int(epoch / interval)))
    lr_decay.check_lr_staircase(lambda lr0, epoch, d, interval: lr0 / (1 + d * np.floor(epoch / interval)))


STAIRCASE_WRONG = {
    "round instead of floor": (lambda lr0, e, d, i: lr0 / (1 + d * round(e / i)), "round instead of floor"),
    "no floor": (lambda lr0, e, d, i: lr0 / (1 + d * e / i), "without floor"),
    "floors the product": (lambda lr0, e, d, i: lr0 / (1 + d * e // i), "floors the product"),
    "ceil": (lambda lr0, e, d, i: lr0 / (1 + d * math.ceil(e / i)), "ceil instead of floor"),
    "decay in the numerator": (lambda lr0, e, d, i: lr0 * (1 + d * math.floor(e / i)), "into the numerator"),
    "decay_rate forgotten": (lambda lr0, e, d, i: lr0 / (1 + math.floor(e / i)), "missing decay_rate"),
    "interval and epoch swapped": (lambda lr0, e, d, i: lr0 / (1 + d * math.floor(i / max(e, 1))), "expected"),
}


@pytest.mark.parametrize("label", STAIRCASE_WRONG)
def test_staircase_wrong_fail(label):
    fn, words = STAIRCASE_WRONG[label]
    with pytest.raises(AssertionError, match=words):
        lr_decay.check_lr_staircase(fn)
