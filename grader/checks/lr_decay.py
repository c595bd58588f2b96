"""Hidden checks of 08_learning_rate_decay.

Schedules are exact formulas, so the checks are strict: several
(learning_rate0, epoch, ...) cases, epoch 0 among them, each compared with
the formula and with the usual wrong ones, which are named when they match.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from dlutils.checks import expect_scalar

from ._common import call


def _check_cases(fn: Callable, who: str, cases: list) -> None:
    """Compare ``fn`` with the formula on every case (args, expected, {mistake label: its value}).

    Two mistakes can agree on one case (at epoch 0, base * epoch and epoch ** base are both 0),
    so the mistake named is one that matches every failing case, when there is one.
    """
    results = []
    for args, expected, mistakes in cases:
        name = f"{who}({', '.join(repr(a) for a in args)})"
        got = call(fn, *args)
        if not _is_number(got):  # None, an array, a string, NaN: expect_scalar says which
            expect_scalar(got, expected, name, rtol=1e-9, atol=0.0)
        results.append((name, float(got), expected, mistakes))
    failing = [r for r in results if not math.isclose(r[1], r[2], rel_tol=1e-9)]
    if not failing:
        return
    labels = [label for label in failing[0][3]
              if all(label in m and math.isclose(got, m[label], rel_tol=1e-9) for _, got, _, m in failing)]
    name, got, expected, mistakes = failing[0]
    named = {labels[0]: mistakes[labels[0]]} if labels else {
        label: value for label, value in mistakes.items() if not math.isclose(value, expected)}
    expect_scalar(got, expected, name, rtol=1e-9, atol=0.0, mistakes=named)


def _is_number(x) -> bool:
    try:
        return isinstance(x, (int, float, np.number, np.ndarray)) and not isinstance(x, (bool, np.bool_)) and (
            np.ndim(x) == 0) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def check_lr_inverse_time(lr_inverse_time: Callable) -> None:
    cases = []
    for lr0, epoch, decay_rate in ((0.5, 0, 1.0), (0.2, 3, 1.0), (0.1, 10, 0.3), (2.0, 7, 0.05), (0.01, 1000, 0.001)):
        cases.append(((lr0, epoch, decay_rate), lr0 / (1 + decay_rate * epoch), {
            "decay_rate * epoch went into the numerator: divide lr0 by (1 + decay_rate * epoch)":
                lr0 * (1 + decay_rate * epoch),
            "missing brackets: lr0 / (1 + decay_rate * epoch), not lr0 / 1 + decay_rate * epoch":
                lr0 / 1 + decay_rate * epoch,
            "the 1 is missing: lr0 / (1 + decay_rate * epoch)": lr0 / (decay_rate * epoch) if epoch else math.inf,
            "epoch + 1 used: the first epoch is epoch 0, where the rate is lr0": lr0 / (1 + decay_rate * (epoch + 1)),
            "exponential decay instead of 1 / (1 + decay_rate * epoch)": lr0 * decay_rate**epoch,
        }))
    _check_cases(lr_inverse_time, "lr_inverse_time", cases)


def check_lr_exponential(lr_exponential: Callable) -> None:
    cases = []
    for lr0, epoch, base in ((0.5, 0, 0.95), (0.2, 1, 0.9), (0.1, 10, 0.95), (1.0, 100, 0.99), (0.03, 7, 0.5)):
        cases.append(((lr0, epoch, base), lr0 * base**epoch, {
            "base ** (epoch + 1): epochs count from 0, where the rate is lr0": lr0 * base ** (epoch + 1),
            "base * epoch instead of base ** epoch": lr0 * base * epoch,
            "epoch ** base instead of base ** epoch": lr0 * epoch**base,
            "exp(-base * epoch) instead of base ** epoch": lr0 * math.exp(-base * epoch),
            "lr0 ** epoch instead of base ** epoch": lr0 * lr0**epoch,
        }))
    _check_cases(lr_exponential, "lr_exponential", cases)


def check_lr_staircase(lr_staircase: Callable) -> None:
    # Cases where epoch / interval has a fractional part above and below 0.5, is a whole
    # number, and where rounding differs from flooring.
    cases = ((0.5, 0, 1.0, 10), (0.5, 7, 1.0, 10), (0.5, 16, 1.0, 10), (0.2, 20, 0.5, 10), (0.1, 29, 0.3, 10),
             (1.0, 999, 2.0, 1000), (0.3, 5, 0.5, 2))
    checked = []
    for lr0, epoch, decay_rate, interval in cases:
        expected = lr0 / (1 + decay_rate * math.floor(epoch / interval))
        checked.append(((lr0, epoch, decay_rate, interval), expected, {
            "round instead of floor: the rate only drops once a whole interval has passed":
                lr0 / (1 + decay_rate * round(epoch / interval)),
            "epoch / interval without floor: that is smooth decay, not a staircase":
                lr0 / (1 + decay_rate * epoch / interval),
            "the floor applies to epoch / interval only: (decay_rate * epoch) // interval floors the product":
                lr0 / (1 + (decay_rate * epoch) // interval),
            "ceil instead of floor: the first step comes after a whole interval":
                lr0 / (1 + decay_rate * math.ceil(epoch / interval)),
            "decay_rate * floor(epoch / interval) went into the numerator":
                lr0 * (1 + decay_rate * math.floor(epoch / interval)),
            "floor(epoch / interval) is missing decay_rate": lr0 / (1 + math.floor(epoch / interval)),
        }))
    _check_cases(lr_staircase, "lr_staircase", checked)
