"""Hidden checks of 09_hyperparameter_search.

Samplers are checked statistically, on the scale where the values should be
uniform: u = (t(value) - t(low)) / (t(high) - t(low)) with t = log10 for
"log", t(beta) = -log10(1 - beta) for "beta" and the identity for "linear".
Thousands of draws, and tolerances (range, ends reached, Kolmogorov-Smirnov
distance, independence) that a correct sampler fails with probability below
about 1e-6 whatever draws it makes. Known mistakes are recognised by
re-reading the values as each mistake would make them, and named.

The range rules (best_on_edge, zoom_range) and successive halving are exact
and checked strictly; successive halving is given a probe from
:mod:`grader.checks.probes` as its ``evaluate``.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .probes import LearningCurves
from ._common import call, call_with_inputs, expect_uses_only_rng, fail

SCALES = ("linear", "log", "beta")
N_DRAWS = 4000


# ---------------------------------------------------------------- scales


def to_unit(values, low: float, high: float, scale: str) -> np.ndarray:
    """Where each value sits in [low, high] on ``scale``: 0 at low, 1 at high."""
    t = {"linear": lambda v: v, "log": np.log10, "beta": lambda v: -np.log10(1 - v)}[scale]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (t(np.asarray(values, dtype=np.float64)) - t(low)) / (t(high) - t(low))


def from_unit(u, low: float, high: float, scale: str) -> np.ndarray:
    """The inverse of :func:`to_unit`."""
    u = np.asarray(u, dtype=np.float64)
    if scale == "linear":
        return low + u * (high - low)
    if scale == "log":
        return 10 ** (np.log10(low) + u * (np.log10(high) - np.log10(low)))
    a, b = -np.log10(1 - low), -np.log10(1 - high)
    return 1 - 10 ** -(a + u * (b - a))


# ---------------------------------------------------------------- plain-data helpers


def _call(fn: Callable, who: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(fn, *args, **kwargs)
    except Exception as error:  # the student's code raised: say which call did it
        fail(f"{who} raised {type(error).__name__}: {error}")


def _numbers(got: Any, n: int, who: str) -> np.ndarray:
    """got is a float array of shape (n,) with finite values; returns it as float64."""
    if got is None:
        fail(f"{who}: your function returned None — did you forget `return`?")
    if isinstance(got, (list, tuple)):
        fail(f"{who}: expected a NumPy array of shape ({n},), got a {type(got).__name__}\n"
             "  Hint: draw all n values at once from rng (rng.uniform(a, b, size=n)), which gives an array")
    if not isinstance(got, np.ndarray):
        fail(f"{who}: expected a NumPy array of shape ({n},), got {type(got).__name__}")
    if got.shape != (n,):
        hint = ""
        if got.size == n:
            hint = "\n  Hint: return a 1-D array of n values (size=n, not size=(n, 1)); .ravel() flattens"
        elif got.ndim == 1 and abs(got.size - n) == 1:
            hint = "\n  Hint: one value too many or too few: draw exactly n"
        fail(f"{who}: expected shape ({n},), got {got.shape}{hint}")
    if not np.issubdtype(got.dtype, np.floating):
        fail(f"{who}: expected float values, got dtype {got.dtype}")
    values = got.astype(np.float64)
    if not np.all(np.isfinite(values)):
        fail(f"{who}: {int(np.sum(~np.isfinite(values)))} values are NaN or inf\n"
             "  Hint: a log of a number <= 0 or of 1 - beta <= 0 gives that")
    return values


def _ks(u: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance between the values u and the uniform distribution on [0, 1]."""
    u = np.sort(np.clip(u, 0, 1))
    n = u.size
    return float(max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n)))


def _ks_limit(n: int) -> float:
    # P(sqrt(n) D > 3) ≈ 2 exp(-18) ≈ 3e-8 for uniform draws.
    return 3.0 / math.sqrt(n)


def _looks_uniform(values, low, high, scale) -> bool:
    u = to_unit(values, low, high, scale)
    return bool(np.all(np.isfinite(u)) and np.all((u > -1e-9) & (u < 1 + 1e-9)) and _ks(u) < _ks_limit(u.size))


def _range_hint(values: np.ndarray, low: float, high: float, scale: str) -> str:
    """Name the mistake that puts values outside [low, high], or ''."""
    lo, hi = min(low, high), max(low, high)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_v = np.log10(values)
        ln_v = np.log(values)

    def inside(x, a, b):
        return bool(np.all(np.isfinite(x)) and np.all((x >= min(a, b) - 1e-9) & (x <= max(a, b) + 1e-9)))

    if scale in ("log", "beta") and inside(log_v, lo, hi):
        return ("10 ** uniform(low, high) uses low and high as exponents: take the exponents "
                "log10(low) and log10(high)")
    if scale == "log" and inside(log_v, math.log(lo), math.log(hi)):
        return ("natural log mixed with powers of 10: 10 ** uniform(ln low, ln high); use log10 with 10 **, "
                "or ln with exp, not one with the other")
    if scale == "log" and inside(ln_v, math.log10(lo), math.log10(hi)):
        return ("exp(uniform(log10 low, log10 high)) mixes log10 with exp; use 10 ** with log10, or exp with ln")
    if scale == "beta":
        if inside(values, 1 - hi, 1 - lo) and _looks_uniform(values, 1 - hi, 1 - lo, "log"):
            return ("these look like values of 1 - beta: return beta = 1 - 10 ** r, where r is uniform "
                    "between log10(1 - high) and log10(1 - low)")
        if inside(1 - values, lo, hi):
            return ("1 - 10 ** uniform(log10(low), log10(high)): the exponents must be log10(1 - high) and "
                    "log10(1 - low), the logs of 1 - beta, not of beta")
        with np.errstate(divide="ignore", invalid="ignore"):
            if inside(np.log10(1 - values), lo, hi):
                return ("1 - 10 ** uniform(low, high) uses the betas as exponents: the exponents are "
                        "log10(1 - high) and log10(1 - low)")
    if np.all(values >= 0) and np.all(values < 1) and (lo > 1 or hi - lo > 1):
        return "rng.random() draws in [0, 1): scale and shift the draws to the range"
    return ""


def _distribution_hint(values: np.ndarray, low: float, high: float, scale: str) -> str:
    """Name the distribution the values follow instead, or ''."""
    if scale != "linear" and _looks_uniform(values, low, high, "linear"):
        return ("the values are uniform between low and high: that spends almost every draw on the largest "
                "decade" + (" of beta (0.9 to 0.99 gets 10 times the draws of 0.99 to 0.999)" if scale == "beta"
                            else "") + "; draw the exponent uniformly instead")
    if scale == "beta" and _looks_uniform(values, low, high, "log"):
        return ("beta itself is log-uniform, which is almost uniform so close to 1: make 1 - beta log-uniform, "
                "beta = 1 - 10 ** r")
    if scale == "linear" and _looks_uniform(values, low, high, "log"):
        return "the values are log-uniform; this dimension is on a linear scale: draw uniformly between low and high"
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            ln_exponents, log10_exponents = np.log(values), np.log10(values)
        for exponents, a, b, mistake in (
                (ln_exponents, math.log10(low), math.log10(high),
                 "exp(uniform(log10 low, log10 high)) mixes log10 with exp; use 10 ** with log10, or exp with ln"),
                (log10_exponents, math.log(low), math.log(high),
                 "10 ** uniform(ln low, ln high) mixes the natural log with powers of 10; use log10 with 10 **")):
            if a != b and _looks_uniform(exponents, a, b, "linear"):
                return mistake
    if scale == "log" and _looks_uniform(values, low, high, "beta"):
        return "1 - value is log-uniform (the beta rule); here the value itself should be log-uniform"
    return ""


def expect_uniform_on_scale(values: np.ndarray, low: float, high: float, scale: str, who: str) -> None:
    """The values are independent draws spread uniformly over [low, high] on ``scale``."""
    n = values.size
    tol = 1e-9 * max(abs(low), abs(high), 1e-300)
    outside = (values < low - tol) | (values > high + tol)
    if outside.any():
        hint = _range_hint(values, low, high, scale)
        fail(f"{who}: {int(outside.sum())} of {n} values lie outside [{low:g}, {high:g}] "
             f"(min {values.min():.4g}, max {values.max():.4g})" + (f"\n  Hint: {hint}" if hint else ""))
    if np.all(values == values[0]):
        fail(f"{who}: all {n} values are equal to {values[0]:.6g}; expected random draws from rng")
    u = to_unit(values, low, high, scale)
    where = {"log": "on a log scale", "beta": "on the beta scale (1 - beta on a log scale)",
             "linear": "between low and high"}[scale]
    for end, share in (("low", float(np.mean(u < 0.01))), ("high", float(np.mean(u > 0.99)))):
        if share == 0:
            hint = _distribution_hint(values, low, high, scale)
            fail(f"{who}: none of {n} values falls in the 1% of the range {where} next to the {end} end "
                 f"({low if end == 'low' else high:g}); uniform draws put about {n // 100} there"
                 + (f"\n  Hint: {hint}" if hint else ""))
    distance = _ks(u)
    if distance > _ks_limit(n):
        hint = _distribution_hint(values, low, high, scale)
        quartiles = np.quantile(u, [0.25, 0.5, 0.75])
        fail(f"{who}: the values are not spread evenly {where}: the quartiles of "
             f"their positions in the range are {', '.join(f'{q:.2f}' for q in quartiles)} (expected about "
             f"0.25, 0.50, 0.75)" + (f"\n  Hint: {hint}" if hint else ""))
    # Neighbouring draws must not move together (e.g. a sorted or evenly spaced sequence).
    r = float(np.corrcoef(u[:-1], u[1:])[0, 1])
    if abs(r) > 5 / math.sqrt(n):
        fail(f"{who}: consecutive values are correlated (r = {r:.2f}); expected independent random draws — "
             "a grid or a sorted sequence is not a random search")


def _same_arrays(a: Any, b: Any) -> bool:
    try:
        return np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- sample_log_uniform


def _check_sampler(fn: Callable, name: str, cases, scale: str) -> None:
    for low, high in cases:
        who = f"{name}({low:g}, {high:g}, n={N_DRAWS}, rng)"
        values = _numbers(_call(fn, who, low, high, N_DRAWS, np.random.default_rng(len(who))), N_DRAWS, who)
        expect_uniform_on_scale(values, low, high, scale, who)
    low, high = cases[0]
    for n in (1, 7):
        who = f"{name}({low:g}, {high:g}, n={n}, rng)"
        values = _numbers(_call(fn, who, low, high, n, np.random.default_rng(n)), n, who)
        if np.any((values < low * (1 - 1e-12)) | (values > high * (1 + 1e-12))):
            fail(f"{who}: values outside [{low:g}, {high:g}]: {values}")
    value = cases[-1][0]
    who = f"{name}({value:g}, {value:g}, n=5, rng)"
    values = _numbers(_call(fn, who, value, value, 5, np.random.default_rng(5)), 5, who)
    if not np.allclose(values, value, rtol=1e-12, atol=0):
        fail(f"{who}: when low == high every value is {value:g}, got {values}")
    who = f"{name}({low:g}, {high:g}, n=100, rng)"
    expect_uses_only_rng(lambda rng: _call(fn, who, low, high, 100, rng), who, _same_arrays)


def check_sample_log_uniform(sample_log_uniform: Callable) -> None:
    # Exponents that are whole and not, ranges below and above 1, narrow and wide.
    _check_sampler(sample_log_uniform, "sample_log_uniform",
                   [(1e-4, 1.0), (1e-6, 10.0), (0.003, 0.5), (2.0, 5000.0), (0.5, 0.9)], "log")


def check_sample_beta(sample_beta: Callable) -> None:
    _check_sampler(sample_beta, "sample_beta", [(0.9, 0.999), (0.5, 0.9999), (0.95, 0.99), (0.99, 0.99999)],
                   "beta")


# ---------------------------------------------------------------- sample_configurations


def _space_description(space: dict) -> str:
    return "{" + ", ".join(f"{k!r}: ({lo!r}, {hi!r}, {s!r})" for k, (lo, hi, s) in space.items()) + "}"


def _configurations(got: Any, space: dict, n: int, who: str) -> dict[str, np.ndarray]:
    """got is a list of n dicts with the space's keys; returns name -> the n values (as given)."""
    if got is None:
        fail(f"{who}: your function returned None — did you forget `return`?")
    if isinstance(got, dict):
        fail(f"{who}: expected a list of {n} configurations (one dict each), got one dict"
             + ("\n  Hint: build one dict {name: value} per configuration" if all(
                 isinstance(v, (list, np.ndarray)) for v in got.values()) else ""))
    if not isinstance(got, (list, tuple)):
        fail(f"{who}: expected a list of {n} dicts, got {type(got).__name__}")
    if len(got) != n:
        fail(f"{who}: expected {n} configurations, got {len(got)}")
    for i, config in enumerate(got):
        if not isinstance(config, dict):
            fail(f"{who}: configuration {i} should be a dict {{name: value}}, got {type(config).__name__}")
        if set(config) != set(space):
            fail(f"{who}: configuration {i} has keys {sorted(config)}, expected exactly {sorted(space)}")
    columns = {}
    for name in space:
        raw = [config[name] for config in got]
        bad = [v for v in raw if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number))]
        if bad:
            fail(f"{who}: {name!r} should be one number per configuration, got {type(bad[0]).__name__} "
                 f"({bad[0]!r})")
        columns[name] = raw
    return columns


def _expect_integers(raw: list, low: int, high: int, name: str, who: str) -> np.ndarray:
    if not all(isinstance(v, (int, np.integer)) for v in raw):
        kind = type(next(v for v in raw if not isinstance(v, (int, np.integer)))).__name__
        fail(f"{who}: {name!r} is on the 'int' scale: each value must be a whole number (int), got {kind}\n"
             "  Hint: rng.integers(low, high + 1) draws ints; int(...) converts")
    values = np.asarray(raw, dtype=np.int64)
    if values.min() < low or values.max() > high:
        fail(f"{who}: {name!r} values range over {values.min()}..{values.max()}, expected {low}..{high} "
             "(both ends included)")
    counts = np.bincount(values - low, minlength=high - low + 1)
    expected = values.size / counts.size
    if counts[-1] == 0:
        fail(f"{who}: {name!r} never takes the value {high}: 'int' ranges include high\n"
             "  Hint: rng.integers(low, high) excludes high; use rng.integers(low, high + 1)")
    if counts[0] == 0:
        fail(f"{who}: {name!r} never takes the value {low}: 'int' ranges include low")
    worst = int(np.argmax(np.abs(counts - expected)))
    if abs(counts[worst] - expected) > 5 * math.sqrt(expected) + 1:
        fail(f"{who}: {name!r} takes the value {low + worst} {counts[worst]} times in {values.size}, expected "
             f"about {expected:.0f}: every whole number in {low}..{high} should be equally likely")
    return values


def _unit_column(raw: list, low, high, scale: str, name: str, who: str) -> np.ndarray:
    if scale == "int":
        values = _expect_integers(raw, low, high, name, who)
        # Centres of each integer's bin, so independence is judged like the continuous scales.
        return (values - low + 0.5) / (high - low + 1)
    values = np.asarray(raw, dtype=np.float64)
    expect_uniform_on_scale(values, low, high, scale, f"{who}: {name!r} ({scale} scale)")
    return to_unit(values, low, high, scale)


def check_sample_configurations(sample_configurations: Callable) -> None:
    spaces = [
        {"learning_rate": (1e-4, 1.0, "log"), "beta": (0.9, 0.999, "beta"), "hidden_units": (16, 64, "int"),
         "lambd": (1e-3, 10.0, "log")},
        {"keep_prob": (0.5, 1.0, "linear"), "learning_rate": (1e-5, 0.1, "log"), "layers": (1, 4, "int")},
        {"beta2": (0.99, 0.9999, "beta")},
        {"alpha": (0.003, 3.0, "log"), "mini_batch_exponent": (5, 9, "int"), "momentum": (0.5, 0.99, "beta"),
         "dropout_scale": (-1.0, 1.0, "linear")},
    ]
    n = 3000
    for seed, space in enumerate(spaces):
        who = f"sample_configurations({_space_description(space)}, n={n}, rng)"
        got = _call(sample_configurations, who, space, n, np.random.default_rng(100 + seed))
        columns = _configurations(got, space, n, who)
        units = {name: _unit_column(columns[name], lo, hi, scale, name, who)
                 for name, (lo, hi, scale) in space.items()}
        names = list(units)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                r = float(np.corrcoef(units[a], units[b])[0, 1])
                if abs(r) > 5 / math.sqrt(n):
                    fail(f"{who}: {a!r} and {b!r} move together (correlation {r:.2f} of their positions in "
                         "their ranges); each hyperparameter needs its own draws, or the search only tries "
                         "one line through the space")
    for n in (1, 4):
        space = spaces[0]
        who = f"sample_configurations(..., n={n}, rng)"
        _configurations(_call(sample_configurations, who, space, n, np.random.default_rng(n)), space, n, who)
    space = spaces[1]
    who = f"sample_configurations({_space_description(space)}, n=20, rng)"

    def same(a, b):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            isinstance(x, dict) and isinstance(y, dict) and x.keys() == y.keys()
            and all(float(x[k]) == float(y[k]) for k in x) for x, y in zip(a, b))

    expect_uses_only_rng(lambda rng: _call(sample_configurations, who, space, 20, rng), who, same)


# ---------------------------------------------------------------- best_on_edge


def edge_of_best(values, errors, low, high, scale="log", margin=0.1) -> str | None:
    """The rule of best_on_edge: where the lowest-error value sits on the scale (the checks' answer)."""
    u = float(to_unit(np.asarray(values, dtype=float)[int(np.argmin(errors))], low, high, scale))
    return "low" if u <= margin else "high" if u >= 1 - margin else None


def _edge_cases() -> list[tuple[str, tuple, dict]]:
    rng = np.random.default_rng(90)
    cases = []

    def add(label, values, errors, low, high, scale, margin=None):
        kwargs = {} if margin is None else {"margin": margin}
        cases.append((label, (np.asarray(values, dtype=float), np.asarray(errors, dtype=float), low, high, scale),
                      kwargs))

    # Learning rates in [1e-4, 1]: best at 0.05 is in the upper middle on a log scale, near the low end linearly.
    lr = np.array([2e-4, 3e-3, 0.05, 0.3, 1.2e-3, 8e-4])
    add("best 0.05 in [1e-4, 1]", lr, [0.9, 0.4, 0.1, 0.2, 0.6, 0.8], 1e-4, 1.0, "log")
    add("best 0.6 in [1e-4, 1]", np.append(lr, 0.6), [0.9, 0.4, 0.2, 0.15, 0.6, 0.8, 0.1], 1e-4, 1.0, "log")
    add("best 1.5e-4 in [1e-4, 1]", lr * 0.75, [0.1, 0.4, 0.6, 0.7, 0.3, 0.2], 1e-4, 1.0, "log")
    add("best 2e-4 in [1e-4, 1], margin 0.05", lr, [0.1, 0.4, 0.6, 0.7, 0.3, 0.2], 1e-4, 1.0, "log", 0.05)
    add("best 3e-3 in [1e-4, 1], margin 0.4", lr, [0.5, 0.1, 0.6, 0.7, 0.3, 0.2], 1e-4, 1.0, "log", 0.4)
    # Beta in [0.9, 0.999]: 0.95 is near 0.9 linearly but a third of the way on the beta scale; 0.998 is at the top.
    betas = np.array([0.91, 0.95, 0.99, 0.995, 0.998, 0.93])
    add("best beta 0.95 in [0.9, 0.999]", betas, [0.3, 0.1, 0.2, 0.25, 0.4, 0.35], 0.9, 0.999, "beta")
    add("best beta 0.998 in [0.9, 0.999]", betas, [0.3, 0.2, 0.25, 0.15, 0.1, 0.35], 0.9, 0.999, "beta")
    add("best beta 0.99 in [0.9, 0.999]", betas, [0.3, 0.2, 0.1, 0.15, 0.4, 0.35], 0.9, 0.999, "beta")
    # A linear scale: keep_prob in [0.5, 1].
    add("best keep_prob 0.97 in [0.5, 1]", [0.6, 0.75, 0.97, 0.8], [0.3, 0.2, 0.1, 0.25], 0.5, 1.0, "linear")
    add("best keep_prob 0.53 in [0.5, 1], margin 0.2", [0.53, 0.75, 0.97, 0.8], [0.1, 0.2, 0.15, 0.25], 0.5,
        1.0, "linear", 0.2)
    add("best keep_prob 0.75 in [0.5, 1]", [0.53, 0.75, 0.97, 0.8], [0.2, 0.1, 0.15, 0.25], 0.5, 1.0, "linear")
    # Many random trials, the lowest error where a quadratic bowl in log10(lambda) has its minimum.
    for centre in (-3.9, -1.2, 0.9):
        lam = 10 ** rng.uniform(-4, 1, 40)
        errors = 0.1 + 0.02 * (np.log10(lam) - centre) ** 2 + 0.001 * rng.random(40)
        add(f"40 trials in [1e-4, 10] whose best lambda is {lam[np.argmin(errors)]:.3g}", lam, errors, 1e-4, 10.0,
            "log")
    return cases


def _edge_mistakes(values, errors, low, high, scale, margin) -> dict[str, Any]:
    mistakes = {}
    if scale == "beta":
        mistakes["log10(beta) used for the beta scale; the beta scale is log10(1 - beta)"] = edge_of_best(
            values, errors, low, high, "log", margin)
    if scale != "linear":
        mistakes["positions measured on a linear scale; measure them on the range's scale (log10(value) for "
                 "'log', log10(1 - value) for 'beta')"] = edge_of_best(values, errors, low, high, "linear", margin)
    mistakes["the highest error taken as the best; the best value has the lowest dev error"] = edge_of_best(
        values, -np.asarray(errors), low, high, scale, margin)
    if margin != 0.1:
        mistakes["the margin argument ignored (0.1 used whatever margin is passed)"] = edge_of_best(
            values, errors, low, high, scale, 0.1)
    mistakes["the edges swapped: 'low' is the end at low, 'high' the end at high"] = {
        "low": "high", "high": "low", None: None}[edge_of_best(values, errors, low, high, scale, margin)]
    return mistakes


def _fail_naming_common_mistake(failures: list[tuple[str, Any, dict]]) -> None:
    """Fail with the first failing case; name the known mistake that explains every failing case, if any."""
    if not failures:
        return
    message, _, mistakes = failures[0]
    common = [label for label in mistakes
              if all(label in m and _same_answer(m[label], got) for _, got, m in failures)]
    fail(message + (f"\n  Hint: this looks like: {common[0]}" if common else ""))


def _same_answer(a: Any, b: Any) -> bool:
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return a == b
    return bool(np.allclose(a, b, rtol=1e-6, atol=0, equal_nan=True))


def check_best_on_edge(best_on_edge: Callable) -> None:
    failures = []
    for label, args, kwargs in _edge_cases():
        values, errors, low, high, scale = args
        margin = kwargs.get("margin", 0.1)
        who = f"best_on_edge({label}, scale={scale!r}" + (f", margin={margin}" if kwargs else "") + ")"
        got = _call(best_on_edge, who, *args, **kwargs)
        if isinstance(got, np.str_):
            got = str(got)
        if got not in ("low", "high", None) or isinstance(got, bool):
            fail(f"{who}: expected 'low', 'high' or None, got {got!r}"
                 + ("\n  Hint: say which edge: return 'low' or 'high' (None when the best is inside)"
                    if isinstance(got, (bool, np.bool_)) else ""))
        expected = edge_of_best(values, errors, low, high, scale, margin)
        if got != expected:
            u = float(to_unit(values[int(np.argmin(errors))], low, high, scale))
            failures.append((f"{who}: expected {expected!r}, got {got!r}: the best value, "
                             f"{values[int(np.argmin(errors))]:.4g}, sits at {u:.0%} of the range on the {scale} "
                             f"scale (edges: the outer {margin:.0%} at each end)", got,
                             _edge_mistakes(values, errors, low, high, scale, margin)))
    _fail_naming_common_mistake(failures)


# ---------------------------------------------------------------- zoom_range


def zoom(values, errors, low, high, scale="log", k=3, pad=0.1, *, clip=True, pad_scale=None,
         pad_of_spread=False, best_first=True) -> tuple[float, float]:
    """The rule of zoom_range (defaults), or a known mistake (keyword arguments)."""
    values, errors = np.asarray(values, dtype=float), np.asarray(errors, dtype=float)
    order = np.argsort(errors if best_first else -errors, kind="stable")[:k]
    u = to_unit(values[order], low, high, pad_scale or scale)
    width = (u.max() - u.min()) if pad_of_spread else 1.0
    new = np.array([u.min() - pad * width, u.max() + pad * width])
    if clip:
        new = np.clip(new, 0.0, 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        a, b = from_unit(new, low, high, pad_scale or scale)
    return float(a), float(b)


def _zoom_cases():
    rng = np.random.default_rng(91)
    cases = []
    lr = 10 ** rng.uniform(-5, 0, 30)
    lr_errors = 0.05 + 0.03 * (np.log10(lr) + 2.3) ** 2 + 0.002 * rng.random(30)
    cases.append(("30 learning rates in [1e-5, 1]", (lr, lr_errors, 1e-5, 1.0, "log"), {}))
    cases.append(("30 learning rates in [1e-5, 1], k=5, pad=0.2", (lr, lr_errors, 1e-5, 1.0, "log"),
                  {"k": 5, "pad": 0.2}))
    edge = 10 ** rng.uniform(-4, 1, 25)
    edge_errors = 0.2 + 0.05 * np.abs(np.log10(edge) - 1.2) + 0.001 * rng.random(25)
    cases.append(("25 lambdas in [1e-4, 10], best near 10 (clipped)", (edge, edge_errors, 1e-4, 10.0, "log"), {}))
    cases.append(("25 lambdas in [1e-4, 10], k=1", (edge, edge_errors, 1e-4, 10.0, "log"), {"k": 1}))
    betas = 1 - 10 ** rng.uniform(-3, -1, 20)
    beta_errors = 0.1 + 0.04 * (np.log10(1 - betas) + 1.6) ** 2 + 0.001 * rng.random(20)
    cases.append(("20 betas in [0.9, 0.999]", (betas, beta_errors, 0.9, 0.999, "beta"), {"k": 4}))
    keep = rng.uniform(0.4, 1.0, 15)
    keep_errors = 0.1 + 0.3 * (keep - 0.45) ** 2 + 0.001 * rng.random(15)
    cases.append(("15 keep_probs in [0.4, 1], best near 0.4", (keep, keep_errors, 0.4, 1.0, "linear"),
                  {"pad": 0.15}))
    return cases


def _zoom_mistakes(args, kwargs) -> dict[str, tuple[float, float]]:
    values, errors, low, high, scale = args
    k, pad = kwargs.get("k", 3), kwargs.get("pad", 0.1)
    mistakes = {}
    if scale == "beta":
        mistakes["log10(beta) used for the beta scale; the beta scale is log10(1 - beta)"] = zoom(
            values, errors, low, high, "log", k, pad)
    if scale != "linear":
        mistakes["the padding added on a linear scale; add it on the range's scale (log10(value) for 'log', "
                 "log10(1 - value) for 'beta')"] = zoom(values, errors, low, high, "linear", k, pad)
    mistakes.update({
        "the new range is not clipped to [low, high]: a zoom never leaves the searched range": zoom(
            values, errors, low, high, scale, k, pad, clip=False),
        "the k highest errors used; keep the k values with the lowest dev error": zoom(
            values, errors, low, high, scale, k, pad, best_first=False),
        "the padding taken as a fraction of the top-k spread; it is a fraction of the old range's width": zoom(
            values, errors, low, high, scale, k, pad, pad_of_spread=True),
        "no padding: the new range is widened by pad * the old width on each side": zoom(
            values, errors, low, high, scale, k, 0.0),
    })
    for other, how in ((k - 1, "one value too few: the best k - 1"), (k + 1, "one value too many: the best k + 1")):
        if 1 <= other <= len(values):
            mistakes[f"{how} values used instead of the best k"] = zoom(values, errors, low, high, scale, other, pad)
    return mistakes


def _pair(got: Any, who: str) -> tuple[float, float]:
    if got is None:
        fail(f"{who}: your function returned None — did you forget `return`?")
    if isinstance(got, np.ndarray):
        got = got.tolist() if got.shape == (2,) else got
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{who}: expected a pair (new_low, new_high), got {type(got).__name__}"
             + (f" of length {len(got)}" if hasattr(got, "__len__") else ""))
    try:
        pair = (float(np.squeeze(got[0])), float(np.squeeze(got[1])))
    except (TypeError, ValueError):
        fail(f"{who}: expected two numbers (new_low, new_high), got {got!r}")
    return pair


def check_zoom_range(zoom_range: Callable) -> None:
    failures = []
    for label, args, kwargs in _zoom_cases():
        shown = "".join(f", {key}={value}" for key, value in kwargs.items())
        who = f"zoom_range({label}, scale={args[4]!r}{shown})"
        got = _pair(_call(zoom_range, who, *args, **kwargs), who)
        expected = zoom(*args, **kwargs)
        if np.allclose(got, expected, rtol=1e-9, atol=0):
            continue
        mistakes = _zoom_mistakes(args, kwargs)
        mistakes["the ends are swapped: return (new_low, new_high) with new_low <= new_high"] = expected[::-1]
        failures.append((f"{who}: expected ({expected[0]:.6g}, {expected[1]:.6g}), got ({got[0]:.6g}, "
                         f"{got[1]:.6g})", got, mistakes))
    _fail_naming_common_mistake(failures)


# ---------------------------------------------------------------- successive_halving


def halving(configs: list, evaluate: Callable, min_budget: int, max_budget: int, eta: int = 2, *,
            keep_best=True, grow=True, cap=True, rounding=math.floor, stop_at_max=True) -> list[dict]:
    """The rule of successive_halving (defaults), or a known mistake (keyword arguments)."""
    alive, budget, history = list(range(len(configs))), min_budget, []
    for _ in range(64):
        errors = [evaluate(configs[i], budget) for i in alive]
        history.append({"budget": budget, "indices": list(alive), "errors": errors})
        if len(alive) == 1 or (stop_at_max and budget >= max_budget):
            break
        keep = max(1, int(rounding(len(alive) / eta)))
        order = np.argsort(errors if keep_best else -np.asarray(errors), kind="stable")[:keep]
        alive = [alive[j] for j in order]
        if grow:
            budget = budget * eta
        if cap:
            budget = min(budget, max_budget)
    return history


def _halving_configs(n: int, seed: int) -> list[dict]:
    """n configs whose ranking changes with the budget: error = final + gap / budget (distinct at every budget)."""
    rng = np.random.default_rng(seed)
    final = rng.permutation(n) * 0.01 + 0.05 + 0.001 * rng.random(n)
    gap = rng.uniform(0.0, 0.6, n)
    return [{"id": i, "final": round(float(f), 6), "gap": round(float(g), 6)} for i, (f, g) in
            enumerate(zip(final, gap))]


def _rungs(got: Any, who: str) -> list[tuple[float, list[int], list[float]]]:
    if got is None:
        fail(f"{who}: your function returned None — did you forget `return history`?")
    if not isinstance(got, (list, tuple)) or not got:
        fail(f"{who}: expected a non-empty list of rungs (one dict per rung), got {type(got).__name__}")
    rungs = []
    for r, rung in enumerate(got):
        if not isinstance(rung, dict) or set(rung) != {"budget", "indices", "errors"}:
            keys = sorted(rung) if isinstance(rung, dict) else type(rung).__name__
            fail(f"{who}: rung {r}: expected a dict with keys 'budget', 'indices' and 'errors', got {keys}")
        try:
            budget = float(np.squeeze(rung["budget"]))
            indices = [int(i) for i in np.asarray(rung["indices"]).reshape(-1)]
            errors = [float(e) for e in np.asarray(rung["errors"], dtype=float).reshape(-1)]
        except (TypeError, ValueError) as error:
            fail(f"{who}: rung {r}: budget must be a number, indices whole numbers and errors numbers ({error})")
        if len(indices) != len(errors):
            fail(f"{who}: rung {r}: {len(indices)} indices but {len(errors)} errors; one error per config")
        if len(set(indices)) != len(indices):
            fail(f"{who}: rung {r}: a config appears twice in indices {indices}")
        rungs.append((budget, indices, errors))
    return rungs


def _shape_of(history) -> list[tuple[float, list[int]]]:
    return [(float(r["budget"]), sorted(r["indices"])) for r in history]


def _halving_case(successive_halving: Callable, n: int, min_budget: int, max_budget: int, eta: int | None,
                  seed: int) -> None:
    configs = _halving_configs(n, seed)
    kwargs = {} if eta is None else {"eta": eta}
    eta_value = 2 if eta is None else eta
    who = (f"successive_halving({n} configs, evaluate, min_budget={min_budget}, max_budget={max_budget}"
           + ("" if eta is None else f", eta={eta}") + ")")
    try:
        got, args, _ = call_with_inputs(successive_halving, configs, LearningCurves(), min_budget, max_budget,
                                        **kwargs)
    except Exception as error:
        fail(f"{who} raised {type(error).__name__}: {error}")
    rungs = _rungs(got, who)
    probe = LearningCurves()
    expected = halving(configs, probe, min_budget, max_budget, eta_value)
    # Every reported error must be what evaluate said for that config at that budget.
    for r, (budget, indices, errors) in enumerate(rungs):
        bad = [j for j, i in enumerate(indices) if not 0 <= i < n]
        if bad:
            fail(f"{who}: rung {r}: indices must be positions in configs (0..{n - 1}), got {indices[bad[0]]}")
        true = [probe(configs[i], budget) for i in indices]
        if not np.allclose(errors, true, rtol=1e-9, atol=1e-12):
            j = int(np.argmax(~np.isclose(errors, true, rtol=1e-9, atol=1e-12)))
            fail(f"{who}: rung {r}: config {indices[j]} is reported with error {errors[j]:.6g}, but "
                 f"evaluate(configs[{indices[j]}], {budget:g}) returns {true[j]:.6g}\n"
                 "  Hint: store evaluate's result for each config, in the same order as indices")
    got_shape = [(b, sorted(i)) for b, i, _ in rungs]
    want_shape = _shape_of(expected)
    if got_shape == want_shape:
        return
    mistakes = {
        "the worst configs kept; keep those with the LOWEST dev error": dict(keep_best=False),
        "the budget never grows; multiply it by eta after each rung": dict(grow=False),
        "the budget is not capped: the last rung trains for max_budget, not more": dict(cap=False),
        "ceil(n / eta) configs kept; keep floor(n / eta) (at least 1)": dict(rounding=math.ceil),
        "round(n / eta) configs kept; keep floor(n / eta) (at least 1)": dict(rounding=round),
        "the halving goes on after a rung at max_budget; stop there (or when one config is left)": dict(
            stop_at_max=False),
    }
    hint = next((label for label, how in mistakes.items()
                 if _shape_of(halving(configs, LearningCurves(), min_budget, max_budget, eta_value, **how))
                 == got_shape), None)
    if hint is None and eta is not None and _shape_of(halving(configs, LearningCurves(), min_budget, max_budget,
                                                              2)) == got_shape:
        hint = "eta ignored (2 used whatever eta is passed)"
    r = next((r for r, (g, w) in enumerate(zip(got_shape, want_shape)) if g != w), None)
    if r is None:
        detail = f"expected {len(want_shape)} rungs, got {len(got_shape)}"
    else:
        (gb, gi), (wb, wi) = got_shape[r], want_shape[r]
        detail = f"rung {r}: expected budget {wb:g} and configs {wi}, got budget {gb:g} and configs {gi}"
    fail(f"{who}: {detail}\n  Expected rungs (budget: number of configs): "
         + "; ".join(f"{b:g}: {len(i)}" for b, i in want_shape)
         + "\n  Got: " + "; ".join(f"{b:g}: {len(i)}" for b, i in got_shape)
         + (f"\n  Hint: this looks like: {hint}" if hint else ""))


def check_successive_halving(successive_halving: Callable) -> None:
    # (n, min_budget, max_budget, eta): the cap reached with several left, one left before the cap,
    # floor != ceil (7 / 2, 5 / 3), eta = 3, the default eta, a single config.
    for case, seed in zip(((9, 1, 9, 3), (30, 2, 10, 2), (10, 1, 100, None), (7, 1, 64, 2), (5, 1, 27, 3),
                           (20, 1, 16, 4), (1, 3, 12, 2)), range(200, 300)):
        _halving_case(successive_halving, *case, seed)
