"""Hidden checks of 02_initialization."""
from __future__ import annotations

from typing import Callable

import numpy as np

from ._common import (call, dicts_equal, expect_normal, expect_parameters,
                      expect_uses_only_rng, expect_zero_biases, fail)

# ---------------------------------------------------------------- 02_initialization

# Shapes chosen so that fan-in and fan-out differ in every layer (a swapped
# n_l / n_{l-1} changes the variance) and the first layers are large enough
# for tight statistics.
_STAT_DIMS = [300, 100, 400, 2]
_SHAPE_DIMS = ([2, 3, 1], [5, 4, 4, 3, 1], [1, 1], [7, 1])


def _fan_alternatives(l: int, dims: list[int], right: float) -> dict[str, float]:
    n, n_prev = dims[l], dims[l - 1]
    alts = {
        "He's variance 2/n_{l-1} (this one wants 1/n_{l-1})": np.sqrt(2 / n_prev),
        "Xavier's variance 1/n_{l-1} (this one wants 2/n_{l-1})": np.sqrt(1 / n_prev),
        "n_l (this layer's size) in place of n_{l-1} (the previous layer's)": right * np.sqrt(n_prev / n),
        "the variance used as the standard deviation: multiply by the square root": right**2,
        "the standard normal without rescaling": 1.0,
    }
    return {k: v for k, v in alts.items() if not np.isclose(v, right)}


def _check_scaled_normal(fn: Callable, who: str, std_of_layer: Callable[[int, list[int]], float],
                         alternatives: Callable[[int, list[int], float], dict[str, float]] = _fan_alternatives,
                         ) -> None:
    for dims in _SHAPE_DIMS:
        params = call(fn, list(dims), np.random.default_rng(0))
        expect_parameters(params, list(dims), who)
        expect_zero_biases(params, who)
    dims = _STAT_DIMS
    params = call(fn, list(dims), np.random.default_rng(1))
    expect_parameters(params, dims, who)
    expect_zero_biases(params, who)
    for l in (1, 2):
        W = params[f"W{l}"]
        if len(np.unique(W, axis=0)) < W.shape[0] or np.unique(W, axis=1).shape[1] < W.shape[1]:
            fail(f"{who}: rows or columns of W{l} repeat — every weight must be its own random draw")
        std = std_of_layer(l, dims)
        expect_normal(W, std, f'{who}({dims})["W{l}"]', alternatives=alternatives(l, dims, std))
    square = call(fn, [60, 60, 60], np.random.default_rng(3))
    if np.array_equal(square["W1"], square["W2"]):
        fail(f"{who}: W1 and W2 are identical — draw each layer's weights separately")
    expect_uses_only_rng(lambda rng: call(fn, [20, 10, 1], rng), who, dicts_equal)


def check_initialize_zeros(initialize_zeros: Callable) -> None:
    who = "initialize_zeros"
    for dims in _SHAPE_DIMS + (_STAT_DIMS,):
        params = call(initialize_zeros, list(dims))
        expect_parameters(params, list(dims), who)
        for key, value in params.items():
            if np.any(value != 0):
                fail(f'{who}: parameters["{key}"] should contain only zeros')


def check_initialize_random(initialize_random: Callable) -> None:
    who = "initialize_random"
    for scale in (10.0, 0.5):
        _check_scaled_normal(
            lambda dims, rng: initialize_random(dims, rng, scale=scale), f"{who}(scale={scale})",
            lambda l, dims: scale,
            lambda l, dims, std: {k: v for k, v in {
                "the standard normal without `* scale`": 1.0,
                "scale squared: multiply the standard normal by scale itself": std**2,
                "the square root of scale: multiply by scale itself": np.sqrt(std),
            }.items() if not np.isclose(v, std)})
    # The default scale is part of the contract.
    params = call(initialize_random, list(_STAT_DIMS), np.random.default_rng(5))
    expect_normal(params["W1"], 10.0, f"{who} with the default scale: W1",
                  alternatives={"scale 1 (the default must be scale=10.0)": 1.0})


def check_initialize_he(initialize_he: Callable) -> None:
    _check_scaled_normal(initialize_he, "initialize_he", lambda l, dims: np.sqrt(2 / dims[l - 1]))


def check_initialize_xavier(initialize_xavier: Callable) -> None:
    _check_scaled_normal(initialize_xavier, "initialize_xavier", lambda l, dims: np.sqrt(1 / dims[l - 1]))
