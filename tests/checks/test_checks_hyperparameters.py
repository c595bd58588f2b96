"""The hidden checks of 09_hyperparameter_search: they pass the reference and correct variants,
and fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import math

import numpy as np
import pytest

from grader.checks import hyperparameters as hp
from grader.checks.probes import LearningCurves

# ------------------------------------------------------------------ sample_log_uniform


def log_uniform_ln(low, high, n, rng):
    # Natural logs with exp are just as right as log10 with 10 **.
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def log_uniform_from_random(low, high, n, rng):
    a, b = np.log10(low), np.log10(high)
    return 10.0 ** (a + (b - a) * rng.random(n))


def log_uniform_loop(low, high, n, rng):
    values = np.empty(n)
    for i in range(n):
        values[i] = 10 ** rng.uniform(math.log10(low), math.log10(high))
    return values


def log_uniform_reversed(low, high, n, rng):
    # Measuring the exponent down from high gives the same distribution.
    return 10.0 ** (np.log10(high) - rng.random(n) * (np.log10(high) - np.log10(low)))


def log_uniform_geomspace_noise(low, high, n, rng):
    # Inverse CDF of the log-uniform distribution.
    u = rng.random(n)
    return low * (high / low) ** u


@pytest.mark.parametrize("variant", [log_uniform_ln, log_uniform_from_random, log_uniform_loop, log_uniform_reversed,
                                     log_uniform_geomspace_noise])
def test_sample_log_uniform_passes_reference_and_variants(reference, variant):
    hp.check_sample_log_uniform(reference["sample_log_uniform"])
    hp.check_sample_log_uniform(variant)


def uniform_not_log(low, high, n, rng):
    return rng.uniform(low, high, n)


def exponents_not_logged(low, high, n, rng):
    return 10.0 ** rng.uniform(low, high, n)


def ln_with_power_of_ten(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log(low), np.log(high), n)


def log10_with_exp(low, high, n, rng):
    return np.exp(rng.uniform(np.log10(low), np.log10(high), n))


def global_generator(low, high, n, rng):
    return 10.0 ** np.random.uniform(np.log10(low), np.log10(high), n)


def new_generator(low, high, n, rng):
    return 10.0 ** np.random.default_rng().uniform(np.log10(low), np.log10(high), n)


def returns_list(low, high, n, rng):
    return [10.0 ** rng.uniform(np.log10(low), np.log10(high)) for _ in range(n)]


def column_shape(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), (n, 1))


def one_too_many(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), n + 1)


def linspace_grid(low, high, n, rng):
    return np.logspace(np.log10(low), np.log10(high), n)


def random_without_scaling(low, high, n, rng):
    return 10.0 ** rng.random(n)


@pytest.mark.parametrize("wrong, message", [
    (uniform_not_log, "uniform between low and high"),
    (exponents_not_logged, "uses low and high as exponents"),
    (ln_with_power_of_ten, "natural log mixed with powers of 10"),
    (log10_with_exp, "mixes log10 with exp"),
    (global_generator, "global random generator"),
    (new_generator, "do not create a new generator"),
    (returns_list, "got a list"),
    (column_shape, r"size=n, not size=\(n, 1\)"),
    (one_too_many, "one value too many"),
    (linspace_grid, "correlated|identical results"),
    (random_without_scaling, "outside"),
])
def test_sample_log_uniform_fails_wrong_implementations(wrong, message):
    with pytest.raises(AssertionError, match=message):
        hp.check_sample_log_uniform(wrong)


# ------------------------------------------------------------------ sample_beta


def beta_inverse_cdf(low, high, n, rng):
    return 1 - (1 - low) * ((1 - high) / (1 - low)) ** rng.random(n)


def beta_ln(low, high, n, rng):
    return 1 - np.exp(rng.uniform(np.log(1 - high), np.log(1 - low), n))


def beta_negative_exponent(low, high, n, rng):
    r = rng.uniform(-np.log10(1 - low), -np.log10(1 - high), n)
    return 1 - 10.0 ** (-r)


@pytest.mark.parametrize("variant", [beta_inverse_cdf, beta_ln, beta_negative_exponent])
def test_sample_beta_passes_reference_and_variants(reference, variant):
    hp.check_sample_beta(reference["sample_beta"])
    hp.check_sample_beta(variant)


def beta_uniform(low, high, n, rng):
    return rng.uniform(low, high, n)


def beta_log_uniform_itself(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), n)


def beta_returns_one_minus(low, high, n, rng):
    return 10.0 ** rng.uniform(np.log10(1 - high), np.log10(1 - low), n)


def beta_exponents_are_betas(low, high, n, rng):
    return 1 - 10.0 ** rng.uniform(low, high, n)


def beta_log_of_beta_mirrored(low, high, n, rng):
    return 1 - 10.0 ** rng.uniform(np.log10(low), np.log10(high), n)


def beta_global(low, high, n, rng):
    return 1 - 10.0 ** np.random.uniform(np.log10(1 - high), np.log10(1 - low), n)


def beta_fixed_seed(low, high, n, rng):
    return 1 - 10.0 ** np.random.default_rng(0).uniform(np.log10(1 - high), np.log10(1 - low), n)


def beta_fixed_decades(low, high, n, rng):
    # The lecture's example range hard-coded: -3..-1 whatever low and high are.
    return 1 - 10.0 ** rng.uniform(-3, -1, n)


@pytest.mark.parametrize("wrong, message", [
    (beta_uniform, "uniform between low and high"),
    (beta_log_uniform_itself, "beta itself is log-uniform|uniform between low and high"),
    (beta_returns_one_minus, "look like values of 1 - beta"),
    (beta_exponents_are_betas, "uses the betas as exponents"),
    (beta_log_of_beta_mirrored, "the logs of 1 - beta, not of beta"),
    (beta_global, "global random generator"),
    (beta_fixed_seed, "different results for two generators|identical results"),
    (beta_fixed_decades, "outside|none of"),
])
def test_sample_beta_fails_wrong_implementations(wrong, message):
    with pytest.raises(AssertionError, match=message):
        hp.check_sample_beta(wrong)


# ------------------------------------------------------------------ sample_configurations


def configurations_one_at_a_time(space, n, rng):
    configs = []
    for _ in range(n):
        config = {}
        for name, (low, high, scale) in space.items():
            if scale == "log":
                config[name] = float(np.exp(rng.uniform(np.log(low), np.log(high))))
            elif scale == "beta":
                config[name] = float(1 - 10 ** rng.uniform(np.log10(1 - high), np.log10(1 - low)))
            elif scale == "int":
                config[name] = int(rng.integers(low, high, endpoint=True))
            else:
                config[name] = float(low + (high - low) * rng.random())
        configs.append(config)
    return configs


def configurations_numpy_values(space, n, rng):
    # NumPy scalars (np.float64, np.int64) and a choice over the integers are fine too.
    columns = {}
    for name, (low, high, scale) in space.items():
        if scale == "int":
            columns[name] = rng.choice(np.arange(low, high + 1), size=n)
        elif scale == "linear":
            columns[name] = rng.uniform(low, high, n)
        elif scale == "log":
            columns[name] = np.geomspace(low, high, 2)[0] * (high / low) ** rng.random(n)
        else:
            columns[name] = 1 - (1 - low) * ((1 - high) / (1 - low)) ** rng.random(n)
    return [{name: columns[name][i] for name in space} for i in range(n)]


@pytest.mark.parametrize("variant", [configurations_one_at_a_time, configurations_numpy_values])
def test_sample_configurations_passes_reference_and_variants(reference, variant):
    hp.check_sample_configurations(reference["sample_configurations"])
    hp.check_sample_configurations(variant)


def _draw(scale, low, high, size, rng, *, int_high_excluded=False, log_as_linear=False, beta_as_linear=False,
          u=None):
    if u is None:
        u = rng.random(size)
    if scale == "int":
        top = high if int_high_excluded else high + 1
        return (low + np.floor(u * (top - low))).astype(int)
    if scale == "linear" or (scale == "log" and log_as_linear) or (scale == "beta" and beta_as_linear):
        return low + u * (high - low)
    if scale == "log":
        return 10 ** (np.log10(low) + u * (np.log10(high) - np.log10(low)))
    return 1 - 10 ** (np.log10(1 - low) + u * (np.log10(1 - high) - np.log10(1 - low)))


def _configs(space, n, rng, shared=False, **how):
    u = rng.random(n) if shared else None
    columns = {name: _draw(scale, low, high, n, rng, u=u, **how) for name, (low, high, scale) in space.items()}
    return [{name: (int(v[i]) if space[name][2] == "int" else float(v[i])) for name, v in columns.items()}
            for i in range(n)]


def configs_int_excludes_high(space, n, rng):
    return _configs(space, n, rng, int_high_excluded=True)


def configs_log_linear(space, n, rng):
    return _configs(space, n, rng, log_as_linear=True)


def configs_beta_linear(space, n, rng):
    return _configs(space, n, rng, beta_as_linear=True)


def configs_one_draw_for_all(space, n, rng):
    return _configs(space, n, rng, shared=True)


def configs_dict_of_arrays(space, n, rng):
    configs = _configs(space, n, rng)
    return {name: np.array([c[name] for c in configs]) for name in space}


def configs_int_as_float(space, n, rng):
    return [{k: (float(v) if space[k][2] == "int" else v) for k, v in c.items()} for c in _configs(space, n, rng)]


def configs_one_short(space, n, rng):
    return _configs(space, n, rng)[:-1] if n > 1 else []


def configs_global_rng(space, n, rng):
    return _configs(space, n, np.random.default_rng(np.random.randint(2**31)))


def configs_same_for_all(space, n, rng):
    config = _configs(space, 1, rng)[0]
    return [dict(config) for _ in range(n)]


@pytest.mark.parametrize("wrong, message", [
    (configs_int_excludes_high, "never takes the value"),
    (configs_log_linear, "(?s)'learning_rate' \\(log scale\\).*uniform between low and high"),
    (configs_beta_linear, "'beta' \\(beta scale\\)"),
    (configs_one_draw_for_all, "move together"),
    (configs_dict_of_arrays, "got one dict"),
    (configs_int_as_float, "whole number"),
    (configs_one_short, "expected 3000 configurations, got 2999"),
    (configs_global_rng, "global random generator"),
    (configs_same_for_all, "all 3000 values are equal"),
])
def test_sample_configurations_fails_wrong_implementations(wrong, message):
    with pytest.raises(AssertionError, match=message):
        hp.check_sample_configurations(wrong)


# ------------------------------------------------------------------ best_on_edge

_T = {"linear": lambda v: v, "log": np.log10, "beta": lambda v: -np.log10(1 - v)}


def edge_with_sorting(values, errors, low, high, scale="log", margin=0.1):
    order = np.argsort(errors)
    best = np.asarray(values)[order[0]]
    t = _T[scale]
    position = (t(best) - t(low)) / (t(high) - t(low))
    return "low" if position <= margin else ("high" if position >= 1 - margin else None)


def edge_with_math_and_lists(values, errors, low, high, scale="log", margin=0.1):
    values, errors = list(values), list(errors)
    best = values[errors.index(min(errors))]
    if scale == "log":
        best, low, high = math.log10(best), math.log10(low), math.log10(high)
    elif scale == "beta":
        best, low, high = math.log10(1 - best), math.log10(1 - low), math.log10(1 - high)
    position = (best - low) / (high - low)
    if position <= margin:
        return "low"
    return "high" if position >= 1 - margin else None


def edge_comparing_values(values, errors, low, high, scale="log", margin=0.1):
    # Compare the best value with the two edge values mapped back from the scale.
    best = float(np.asarray(values)[np.argmin(errors)])
    if scale == "linear":
        lo_edge, hi_edge = low + margin * (high - low), high - margin * (high - low)
    elif scale == "log":
        lo_edge = 10 ** (np.log10(low) + margin * np.log10(high / low))
        hi_edge = 10 ** (np.log10(high) - margin * np.log10(high / low))
    else:
        span = np.log10((1 - low) / (1 - high))
        lo_edge = 1 - (1 - low) * 10 ** (-margin * span)
        hi_edge = 1 - (1 - high) * 10 ** (margin * span)
    return "low" if best <= lo_edge else "high" if best >= hi_edge else None


@pytest.mark.parametrize("variant", [edge_with_sorting, edge_with_math_and_lists, edge_comparing_values])
def test_best_on_edge_passes_reference_and_variants(reference, variant):
    hp.check_best_on_edge(reference["best_on_edge"])
    hp.check_best_on_edge(variant)


def edge_linear_always(values, errors, low, high, scale="log", margin=0.1):
    return hp.edge_of_best(values, errors, low, high, "linear", margin)


def edge_argmax(values, errors, low, high, scale="log", margin=0.1):
    return hp.edge_of_best(values, -np.asarray(errors), low, high, scale, margin)


def edge_fixed_margin(values, errors, low, high, scale="log", margin=0.1):
    return hp.edge_of_best(values, errors, low, high, scale, 0.1)


def edge_beta_as_log(values, errors, low, high, scale="log", margin=0.1):
    return hp.edge_of_best(values, errors, low, high, "log" if scale == "beta" else scale, margin)


def edge_boolean(values, errors, low, high, scale="log", margin=0.1):
    return hp.edge_of_best(values, errors, low, high, scale, margin) is not None


def edge_swapped(values, errors, low, high, scale="log", margin=0.1):
    return {"low": "high", "high": "low", None: None}[hp.edge_of_best(values, errors, low, high, scale, margin)]


def edge_strings_for_inside(values, errors, low, high, scale="log", margin=0.1):
    return hp.edge_of_best(values, errors, low, high, scale, margin) or "inside"


@pytest.mark.parametrize("wrong, message", [
    (edge_linear_always, "measured on a linear scale"),
    (edge_argmax, "highest error taken as the best"),
    (edge_fixed_margin, "margin argument ignored"),
    (edge_beta_as_log, "log10\\(beta\\) used"),
    (edge_boolean, "Hint: say which edge"),
    (edge_swapped, "edges swapped"),
    (edge_strings_for_inside, "expected 'low', 'high' or None"),
])
def test_best_on_edge_fails_wrong_implementations(wrong, message):
    with pytest.raises(AssertionError, match=message):
        hp.check_best_on_edge(wrong)


# ------------------------------------------------------------------ zoom_range


def zoom_sorted_pairs(values, errors, low, high, scale="log", k=3, pad=0.1):
    best = [v for _, v in sorted(zip(errors, values))[:k]]
    t, width = _T[scale], _T[scale](high) - _T[scale](low)
    a = max(min(t(np.array(best))) - pad * width, t(low))
    b = min(max(t(np.array(best))) + pad * width, t(high))
    back = {"linear": lambda s: s, "log": lambda s: 10 ** s, "beta": lambda s: 1 - 10 ** (-s)}[scale]
    return back(a), back(b)


def zoom_np_clip_array(values, errors, low, high, scale="log", k=3, pad=0.1):
    # Returns a (2,) array and works on positions in [0, 1].
    u = hp.to_unit(np.asarray(values)[np.argpartition(errors, k - 1)[:k]], low, high, scale)
    return hp.from_unit(np.clip([u.min() - pad, u.max() + pad], 0, 1), low, high, scale)


@pytest.mark.parametrize("variant", [zoom_sorted_pairs, zoom_np_clip_array])
def test_zoom_range_passes_reference_and_variants(reference, variant):
    hp.check_zoom_range(reference["zoom_range"])
    hp.check_zoom_range(variant)


def zoom_linear_padding(values, errors, low, high, scale="log", k=3, pad=0.1):
    return hp.zoom(values, errors, low, high, "linear", k, pad)


def zoom_not_clipped(values, errors, low, high, scale="log", k=3, pad=0.1):
    return hp.zoom(values, errors, low, high, scale, k, pad, clip=False)


def zoom_worst(values, errors, low, high, scale="log", k=3, pad=0.1):
    return hp.zoom(values, errors, low, high, scale, k, pad, best_first=False)


def zoom_pad_of_spread(values, errors, low, high, scale="log", k=3, pad=0.1):
    return hp.zoom(values, errors, low, high, scale, k, pad, pad_of_spread=True)


def zoom_off_by_one(values, errors, low, high, scale="log", k=3, pad=0.1):
    return hp.zoom(values, errors, low, high, scale, k + 1, pad)


def zoom_swapped(values, errors, low, high, scale="log", k=3, pad=0.1):
    a, b = hp.zoom(values, errors, low, high, scale, k, pad)
    return b, a


def zoom_no_pad(values, errors, low, high, scale="log", k=3, pad=0.1):
    return hp.zoom(values, errors, low, high, scale, k, 0.0)


def zoom_beta_as_log(values, errors, low, high, scale="log", k=3, pad=0.1):
    return hp.zoom(values, errors, low, high, "log" if scale == "beta" else scale, k, pad)


def zoom_returns_none(values, errors, low, high, scale="log", k=3, pad=0.1):
    hp.zoom(values, errors, low, high, scale, k, pad)


@pytest.mark.parametrize("wrong, message", [
    (zoom_linear_padding, "padding added on a linear scale"),
    (zoom_not_clipped, "not clipped"),
    (zoom_worst, "k highest errors"),
    (zoom_pad_of_spread, "fraction of the top-k spread"),
    (zoom_off_by_one, "one value too many"),
    (zoom_swapped, "ends are swapped"),
    (zoom_no_pad, "no padding"),
    (zoom_beta_as_log, "log10\\(beta\\) used"),
    (zoom_returns_none, "returned None"),
])
def test_zoom_range_fails_wrong_implementations(wrong, message):
    with pytest.raises(AssertionError, match=message):
        hp.check_zoom_range(wrong)


# ------------------------------------------------------------------ successive_halving


def halving_recursive(configs, evaluate, min_budget, max_budget, eta=2, _alive=None):
    alive = list(range(len(configs))) if _alive is None else _alive
    errors = np.array([evaluate(configs[i], min_budget) for i in alive])
    rung = {"budget": min_budget, "indices": np.array(alive), "errors": errors}
    if len(alive) == 1 or min_budget >= max_budget:
        return [rung]
    ranked = [alive[j] for j in np.argsort(errors)]
    keep = ranked[:max(1, len(alive) // eta)]
    return [rung] + halving_recursive(configs, evaluate, min(min_budget * eta, max_budget), max_budget, eta,
                                      sorted(keep))


def halving_sorted_rungs(configs, evaluate, min_budget, max_budget, eta=2):
    # Each rung listed best first, budgets as floats, errors as a NumPy array.
    alive, budget, history = list(range(len(configs))), float(min_budget), []
    while alive:
        scored = sorted((evaluate(configs[i], budget), i) for i in alive)
        history.append({"budget": budget, "indices": [i for _, i in scored],
                        "errors": np.array([e for e, _ in scored])})
        if len(alive) == 1 or budget >= max_budget:
            break
        alive = [i for _, i in scored[:max(1, math.floor(len(alive) / eta))]]
        budget = min(budget * eta, max_budget)
    return history


def halving_evaluates_twice(configs, evaluate, min_budget, max_budget, eta=2):
    # Calling evaluate more than needed wastes time but returns the same history.
    history = hp.halving(configs, evaluate, min_budget, max_budget, eta)
    for rung in history:
        rung["errors"] = [evaluate(configs[i], rung["budget"]) for i in rung["indices"]]
    return history


@pytest.mark.parametrize("variant", [halving_recursive, halving_sorted_rungs, halving_evaluates_twice])
def test_successive_halving_passes_reference_and_variants(reference, variant):
    hp.check_successive_halving(reference["successive_halving"])
    hp.check_successive_halving(variant)


def _wrong_halving(**how):
    def successive_halving(configs, evaluate, min_budget, max_budget, eta=2):
        return hp.halving(configs, evaluate, min_budget, max_budget, eta, **how)
    return successive_halving


def halving_eta_ignored(configs, evaluate, min_budget, max_budget, eta=2):
    return hp.halving(configs, evaluate, min_budget, max_budget, 2)


def halving_made_up_errors(configs, evaluate, min_budget, max_budget, eta=2):
    history = hp.halving(configs, evaluate, min_budget, max_budget, eta)
    for rung in history:
        rung["errors"] = sorted(rung["errors"])  # errors reordered, no longer matching indices
    return history


def halving_budget_in_errors_key(configs, evaluate, min_budget, max_budget, eta=2):
    return [{"budget": r["budget"], "configs": r["indices"], "errors": r["errors"]}
            for r in hp.halving(configs, evaluate, min_budget, max_budget, eta)]


def halving_returns_best_index(configs, evaluate, min_budget, max_budget, eta=2):
    history = hp.halving(configs, evaluate, min_budget, max_budget, eta)
    return history[-1]["indices"][0]


def halving_wrong_budget_passed(configs, evaluate, min_budget, max_budget, eta=2):
    # Evaluates at the budget of the next rung but records the current one.
    history = hp.halving(configs, evaluate, min_budget, max_budget, eta)
    for rung in history:
        rung["errors"] = [evaluate(configs[i], rung["budget"] * eta) for i in rung["indices"]]
    return history


@pytest.mark.parametrize("wrong, message", [
    (_wrong_halving(keep_best=False), "worst configs kept"),
    (_wrong_halving(grow=False), "budget never grows"),
    (_wrong_halving(cap=False), "not capped"),
    (_wrong_halving(rounding=math.ceil), "ceil\\(n / eta\\)"),
    (_wrong_halving(stop_at_max=False), "goes on after a rung at max_budget"),
    (halving_eta_ignored, "eta ignored"),
    (halving_made_up_errors, "is reported with error"),
    (halving_budget_in_errors_key, "keys 'budget', 'indices' and 'errors'"),
    (halving_returns_best_index, "expected a non-empty list of rungs"),
    (halving_wrong_budget_passed, "is reported with error"),
])
def test_successive_halving_fails_wrong_implementations(wrong, message):
    with pytest.raises(AssertionError, match=message):
        hp.check_successive_halving(wrong)


def test_learning_curves_probe_records_calls_and_refuses_bad_input():
    probe = LearningCurves()
    assert probe({"id": 3, "final": 0.1, "gap": 0.4}, 2) == pytest.approx(0.3)
    assert probe.calls == [[3, 2.0]]
    with pytest.raises(ValueError, match="configs you were given"):
        probe({"learning_rate": 0.1}, 1)
    with pytest.raises(ValueError, match="budget > 0"):
        probe({"final": 0.1, "gap": 0.4}, 0)


def test_scale_round_trip():
    for low, high, scale in ((1e-4, 1.0, "log"), (0.9, 0.999, "beta"), (-1.0, 3.0, "linear")):
        u = np.linspace(0, 1, 7)
        assert np.allclose(hp.to_unit(hp.from_unit(u, low, high, scale), low, high, scale), u)
