"""Hidden checks of 06_exponentially_weighted_averages."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlutils.checks import expect_array

from ._common import call, fail

# ---------------------------------------------------------------- 06_exponentially_weighted_averages

# Exact math: the tolerance only absorbs rounding (e.g. of a vectorized cumulative formula).
_RTOL, _ATOL = 1e-9, 1e-9


def _temperatures(T: int, seed: int) -> np.ndarray:
    """A series far from 0, like daily temperatures in °C, so the start-up bias is large."""
    rng = np.random.default_rng(seed)
    days = np.arange(T)
    return 24 + 5 * np.sin(2 * np.pi * days / 365) + 2 * rng.standard_normal(T)


# (theta, beta): a long warm series, a very smooth one, a short-memory one, a window far longer
# than the series (correction matters everywhere), a single value.
_CASES = (
    (_temperatures(200, 1), 0.9),
    (_temperatures(300, 2), 0.98),
    (_temperatures(60, 3), 0.5),
    (_temperatures(50, 4), 0.999),
    (np.array([21.5]), 0.9),
)


def _recursion(theta: np.ndarray, beta: float, *, a: float, b: float, v0: float = 0.0) -> np.ndarray:
    """v_t = a v_{t-1} + b theta_t from v_0 = v0, for t = 1..T."""
    v, out = v0, np.empty(theta.size)
    for i, x in enumerate(theta):
        v = a * v + b * x
        out[i] = v
    return out


def _expected(theta: np.ndarray, beta: float, corrected: bool) -> np.ndarray:
    v = _recursion(theta, beta, a=beta, b=1 - beta)
    return v / (1 - beta ** np.arange(1, theta.size + 1)) if corrected else v


def _mistakes(theta: np.ndarray, beta: float, corrected: bool) -> dict[str, np.ndarray]:
    """What the usual wrong implementations return for this call, by the name of the mistake."""
    t = np.arange(1, theta.size + 1)
    v = _recursion(theta, beta, a=beta, b=1 - beta)
    swapped = _recursion(theta, beta, a=1 - beta, b=beta)
    first = _recursion(theta[1:], beta, a=beta, b=1 - beta, v0=theta[0])
    from_first = np.concatenate([theta[:1], first])
    shifted = np.concatenate([[0.0], v[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        if not corrected:
            return {
                "beta and 1 - beta swapped: v_t = beta v_{t-1} + (1 - beta) theta_t": swapped,
                "v_0 = theta_1 instead of v_0 = 0 (the first average must be (1 - beta) theta_1)": from_first,
                "off by one step: the array holds v_0 .. v_{T-1} instead of v_1 .. v_T": shifted,
                "bias correction applied although bias_correction=False": v / (1 - beta**t),
            }
        propagated = np.empty(theta.size)
        state = 0.0
        for i, x in enumerate(theta):
            state = (beta * state + (1 - beta) * x) / (1 - beta ** (i + 1))
            propagated[i] = state
        return {
            "no bias correction although bias_correction=True: divide v_t by 1 - beta**t": v,
            "the corrected value was fed back into the recursion: keep v_t uncorrected for the next step "
            "and divide only the value you return": propagated,
            "divided by 1 - beta**(t + 1) instead of 1 - beta**t (t counts from 1)": v / (1 - beta ** (t + 1)),
            "divided by 1 - beta**(t - 1) instead of 1 - beta**t (t counts from 1: at t = 1, 1 - beta**0 = 0)":
                v / (1 - beta ** (t - 1)),
            "beta and 1 - beta swapped: v_t = beta v_{t-1} + (1 - beta) theta_t": swapped / (1 - beta**t),
            "v_0 = theta_1 instead of v_0 = 0: with v_0 = 0 the correction does the rest": from_first / (1 - beta**t),
        }


def _call(fn: Callable, who: str, *args: Any, hint: str = "", **kwargs: Any) -> Any:
    try:
        return call(fn, *args, **kwargs)
    except Exception as error:  # the student's code failed: name the call that did it
        if isinstance(error, ZeroDivisionError):
            hint = "is the correction dividing by 1 - beta**0 = 0? t counts from 1"
        fail(f"{who} raised {type(error).__name__}: {error}" + (f" — {hint}" if hint else ""))


def _expect_ewma(got: Any, theta: np.ndarray, beta: float, corrected: bool, who: str) -> None:
    if isinstance(got, np.ndarray) and got.dtype.kind in "iub":
        fail(f"{who} returned an array of dtype {got.dtype}: averages need floats — np.zeros_like(theta) copies "
             "an integer theta's dtype; use np.zeros(len(theta)) or theta = np.asarray(theta, dtype=float)")
    if np.ndim(got) == 0 and isinstance(got, (int, float, np.number, np.ndarray)):
        fail(f"{who} returned a single number ({got!r}); expected one average per step: an array v_1 .. v_T "
             f"of shape {theta.shape}")
    if isinstance(got, np.ndarray) and got.shape == (theta.size + 1,):
        fail(f"{who} returned {got.size} values for {theta.size} steps: leave out v_0 = 0, return v_1 .. v_T")
    expect_array(got, _expected(theta, beta, corrected), who, rtol=_RTOL, atol=_ATOL,
                 mistakes=_mistakes(theta, beta, corrected))


def check_ewma(ewma: Callable) -> None:
    for theta, beta in _CASES:
        shape = f"theta of shape {theta.shape}"
        who = f"ewma({shape}, {beta})"
        _expect_ewma(_call(ewma, who, theta, beta), theta, beta, False, who)
        who = f"ewma({shape}, {beta}, bias_correction=False)"
        _expect_ewma(_call(ewma, who, theta, beta, bias_correction=False), theta, beta, False, who)
        who = f"ewma({shape}, {beta}, bias_correction=True)"
        _expect_ewma(_call(ewma, who, theta, beta, bias_correction=True), theta, beta, True, who)

    # Whole degrees in a plain list, as data often arrives.
    temps = [20, 22, 21, 25, 19, 23, 24]
    hint = "accept any sequence of numbers: theta = np.asarray(theta, dtype=float)"
    for corrected in (False, True):
        who = f"ewma({temps}, 0.8, bias_correction={corrected})  (a Python list of ints)"
        got = _call(ewma, who, list(temps), 0.8, bias_correction=corrected, hint=hint)
        _expect_ewma(got, np.array(temps, dtype=np.float64), 0.8, corrected, who)

    # With correction, a constant series averages to itself from the first step: nothing is biased towards 0.
    flat = np.full(40, 25.0)
    who = "ewma(theta = 25.0 for 40 steps, 0.95, bias_correction=True)"
    _expect_ewma(_call(ewma, who, flat, 0.95, bias_correction=True), flat, 0.95, True, who)
