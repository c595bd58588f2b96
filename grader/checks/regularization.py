"""Hidden checks of 03_regularization."""
from __future__ import annotations

from typing import Callable

import numpy as np

from dlutils.checks import CheckFailure, expect_array, expect_dict_of_arrays, expect_scalar
from dlutils.model import compute_cost

from ._common import call, call_each, expect_uses_only_rng, fail

# ---------------------------------------------------------------- shared inputs

# Layer sizes differ from each other and from every m used below, so taking m
# from a weight's shape, or mixing up layers, changes the answer.
_DIMS = ([4, 3, 2, 1], [3, 1], [5, 6, 3, 2, 1])


def _network(dims: list[int], seed: int) -> dict[str, np.ndarray]:
    """Parameters with nonzero biases (so a penalty that includes them shows)."""
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.uniform(-1.5, 1.5, (dims[l], dims[l - 1]))
        params[f"b{l}"] = rng.uniform(-1.0, 1.0, (dims[l], 1))
    return params


def _gradients(dims: list[int], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"{p}{l}": rng.standard_normal((dims[l], dims[l - 1]) if p == "dW" else (dims[l], 1))
            for l in range(1, len(dims)) for p in ("dW", "db")}


def _predictions(m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """AL away from 0 and 1 (no clipping question) and labels with both classes."""
    rng = np.random.default_rng(seed)
    AL = rng.uniform(0.05, 0.95, (1, m))
    Y = (np.arange(m) % 2).reshape(1, m)
    return AL, Y[:, rng.permutation(m)]


def _weights(params: dict) -> list[np.ndarray]:
    L = len(params) // 2
    return [params[f"W{l}"] for l in range(1, L + 1)]


def _describe(dims: list[int], m: int, lambd: float) -> str:
    return f"layer_dims={dims}, m={m}, lambd={lambd}"


# ---------------------------------------------------------------- l2_cost

def check_l2_cost(l2_cost: Callable) -> None:
    cases = [(_DIMS[0], 5, 0.7), (_DIMS[1], 7, 2.5), (_DIMS[2], 11, 0.1), (_DIMS[0], 6, 0.0)]
    for case, (dims, m, lambd) in enumerate(cases):
        params = _network(dims, seed=10 + case)
        AL, Y = _predictions(m, seed=20 + case)
        got = call(l2_cost, AL, Y, params, lambd)
        ce = compute_cost(AL, Y)
        W = _weights(params)
        squares = sum(float(np.sum(w**2)) for w in W)
        biases = sum(float(np.sum(params[f"b{l}"] ** 2)) for l in range(1, len(W) + 1))
        expected = ce + lambd / (2 * m) * squares
        mistakes = {
            "the biases are in the penalty too (only the weights W{l} are)": expected + lambd / (2 * m) * biases,
            "lambd / m instead of lambd / (2m): the 1/2 is missing": ce + lambd / m * squares,
            "the penalty is not divided by m (the number of examples, Y.shape[1])": ce + lambd / 2 * squares,
            "only the last layer's weights are penalised: sum over all layers": ce + lambd / (2 * m) * np.sum(W[-1] ** 2),
            "the last layer is left out of the penalty (loop up to L inclusive)":
                ce + lambd / (2 * m) * sum(np.sum(w**2) for w in W[:-1]),
            "only the first layer's weights are penalised: sum over all layers": ce + lambd / (2 * m) * np.sum(W[0] ** 2),
            "the Frobenius norms are not squared: use np.sum(W**2)":
                ce + lambd / (2 * m) * sum(np.linalg.norm(w) for w in W),
            "the mean of the squared weights instead of their sum": ce + lambd / (2 * m) * sum(np.mean(w**2) for w in W),
            "the penalty is subtracted instead of added": ce - lambd / (2 * m) * squares,
            "the cross-entropy part is missing: add the cost of AL and Y": lambd / (2 * m) * squares,
            "the cross-entropy is summed over the examples instead of averaged": m * ce + lambd / (2 * m) * squares,
        }
        expect_scalar(got, expected, f"l2_cost ({_describe(dims, m, lambd)})", rtol=1e-9, atol=1e-12,
                      mistakes={k: v for k, v in mistakes.items() if not np.isclose(v, expected, rtol=1e-9)})


# ---------------------------------------------------------------- add_l2_gradients

def check_add_l2_gradients(add_l2_gradients: Callable) -> None:
    cases = [(_DIMS[0], 5, 0.7), (_DIMS[2], 40, 3.0), (_DIMS[1], 9, 1.5), (_DIMS[0], 8, 0.0)]
    for case, (dims, m, lambd) in enumerate(cases):
        params = _network(dims, seed=30 + case)
        grads = _gradients(dims, seed=40 + case)
        got = call(add_l2_gradients, grads, params, lambd, m)
        L = len(dims) - 1

        def penalised(factor, *, layers=range(1, L + 1), biases=False, sign=1.0, power=1):
            out = {k: v.copy() for k, v in grads.items()}
            for l in layers:
                out[f"dW{l}"] = out[f"dW{l}"] + sign * factor * params[f"W{l}"] ** power
                if biases:
                    out[f"db{l}"] = out[f"db{l}"] + factor * params[f"b{l}"]
            return out

        expected = penalised(lambd / m)
        mistakes = {
            "the biases are regularised too: leave db{l} unchanged": penalised(lambd / m, biases=True),
            "lambd / (2m) instead of lambd / m (the derivative of lambd/(2m) * W**2 is lambd/m * W)":
                penalised(lambd / (2 * m)),
            "lambd * W without dividing by m": penalised(lambd),
            "2 * lambd / m: the 2 of the square cancels the 1/2 of the cost": penalised(2 * lambd / m),
            "the penalty is subtracted instead of added": penalised(lambd / m, sign=-1.0),
            "lambd / m * W**2: the derivative of W**2 / 2 is W": penalised(lambd / m, power=2),
        }
        if L > 1:
            mistakes["the last layer is left out (loop up to L inclusive)"] = penalised(lambd / m, layers=range(1, L))
            mistakes["the first layer is left out (layers are numbered from 1)"] = penalised(
                lambd / m, layers=range(2, L + 1))
            mistakes["only the last layer is regularised"] = penalised(lambd / m, layers=[L])
        if lambd == 0:
            mistakes = {}
        expect_dict_of_arrays(got, expected, f"add_l2_gradients ({_describe(dims, m, lambd)})",
                              rtol=1e-9, atol=1e-12, mistakes=mistakes)


# ---------------------------------------------------------------- dropout_forward

def _as_mask(D: np.ndarray, who: str, keep_prob: float) -> np.ndarray:
    """D as float 0/1, after checking it is a 0/1 (or boolean) keep mask."""
    D = np.asarray(D)
    if D.dtype == bool:
        return D.astype(np.float64)
    if not np.issubdtype(D.dtype, np.number):
        fail(f"{who}: D should be an array of 0/1 (or True/False), got dtype {D.dtype}")
    values = np.unique(D)
    if np.all(np.isin(values, (0.0, 1.0))):
        return D.astype(np.float64)
    if keep_prob < 1 and np.all(np.isclose(values[:, None], [0.0, 1.0 / keep_prob]).any(axis=1)):
        fail(f"{who}: D holds 1/keep_prob where a unit is kept. Return the plain 0/1 keep mask as D; "
             "the 1/keep_prob scaling belongs in A_out only (dropout_backward applies it again)")
    if values.min() >= 0 and values.max() < 1 and values.size > 2:
        fail(f"{who}: D holds values between 0 and 1, like the raw draws of rng.random: "
             "compare them with keep_prob to get the 0/1 mask (D = rng.random(A.shape) < keep_prob)")
    fail(f"{who}: D should contain only 0 and 1 (or False and True); got values such as {values[:4].tolist()}")


def _unpack_forward(result, A: np.ndarray, keep_prob: float, who: str) -> tuple[np.ndarray, np.ndarray]:
    if result is None:
        fail(f"{who} returned None — did you forget `return A_out, D`?")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{who}: expected a pair (A_out, D), got {type(result).__name__}"
             + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    A_out, D = result
    for name, arr in (("A_out", A_out), ("D", D)):
        if not isinstance(arr, np.ndarray):
            fail(f"{who}: {name} should be a NumPy array, got {type(arr).__name__}")
    n, m = A.shape
    if D.shape != A.shape:
        hint = ""
        if D.shape in ((n, 1), (n,)):
            hint = (" — one keep decision per unit shared by every example; "
                    "draw one per unit AND per example: rng.random(A.shape)")
        elif D.shape in ((1, m), (m,)):
            hint = " — one keep decision per example shared by every unit; draw rng.random(A.shape)"
        fail(f"{who}: D should have the shape of A, {A.shape}, got {D.shape}{hint}")
    if A_out.shape != A.shape:
        fail(f"{who}: A_out should have the shape of A, {A.shape}, got {A_out.shape}")
    D_values = np.unique(D)
    out_binary = np.all(np.isin(np.unique(A_out), (0.0, 1.0)))
    if not np.all(np.isin(D_values, (0.0, 1.0))) and out_binary and D.dtype != bool:
        fail(f"{who}: the first value returned holds only 0s and 1s and the second does not: "
             "return them in the order (A_out, D)")
    return A_out, _as_mask(D, who, keep_prob)


def _expect_scaled(A_out, A, D, keep_prob, who):
    expect_array(A_out, A * D / keep_prob, f"{who}: A_out", rtol=1e-9, atol=1e-12, mistakes={
        "A * D: the 1/keep_prob rescale is missing (inverted dropout divides the kept units by keep_prob)": A * D,
        "A * D * keep_prob: divide by keep_prob, do not multiply": A * D * keep_prob,
        "A / keep_prob: the mask D is not applied": A / keep_prob,
        "A * (1 - D) / keep_prob: the dropped units are kept and the kept ones dropped": A * (1 - D) / keep_prob,
    })


def _lag_correlation(D: np.ndarray, axis: int) -> float:
    """Correlation between neighbouring entries of D along ``axis`` (0 for independent draws)."""
    a = np.moveaxis(D, axis, 0)
    x, y = a[:-1].ravel(), a[1:].ravel()
    if x.std() == 0 or y.std() == 0:
        return 1.0
    return float(np.corrcoef(x, y)[0, 1])


def check_dropout_forward(dropout_forward: Callable) -> None:
    who = "dropout_forward"
    # Small case: exact relation between A_out, A and D (negative values too, as with tanh).
    A = np.random.default_rng(50).standard_normal((6, 9))
    for keep_prob in (0.8, 0.35):
        A_out, D = _unpack_forward(call(dropout_forward, A, keep_prob, np.random.default_rng(51)), A, keep_prob,
                                   f"{who}(A of shape {A.shape}, keep_prob={keep_prob}, rng)")
        if D.all() or not D.any():
            fail(f"{who}(A of shape {A.shape}, keep_prob={keep_prob}, rng): the mask D keeps "
                 f"{'every' if D.all() else 'no'} unit; each unit should be kept with probability keep_prob")
        _expect_scaled(A_out, A, D, keep_prob, f"{who}(A of shape {A.shape}, keep_prob={keep_prob}, rng)")

    # Large case: keep rate, and independence across units (rows) and examples (columns).
    n, m = 200, 500
    A_big = np.random.default_rng(53).uniform(0.5, 2.0, (n, m))
    for keep_prob, seed in ((0.8, 54), (0.3, 55)):
        label = f"{who}(A of shape {(n, m)}, keep_prob={keep_prob}, rng)"
        A_out, D = _unpack_forward(call(dropout_forward, A_big, keep_prob, np.random.default_rng(seed)),
                                   A_big, keep_prob, label)
        # Dependence first: a mask repeated along one axis has too few independent draws for the rate test.
        tolerance = 5 / np.sqrt(D.size)
        dependence = {
            "examples": (_lag_correlation(D, axis=1), "the masks of different examples (columns of D) are alike",
                         "identical columns mean one mask shared by all examples"),
            "units": (_lag_correlation(D, axis=0), "the keep decisions of different units (rows of D) are alike",
                      "identical rows mean one keep decision per example shared by all units"),
        }
        correlation, what, meaning = max(dependence.values(), key=lambda item: item[0])
        if correlation > tolerance:
            fail(f"{label}: {what} (correlation {correlation:.2f}); {meaning}. Draw an independent keep "
                 "decision for every unit of every example: rng.random(A.shape)")
        rate, se = float(D.mean()), np.sqrt(keep_prob * (1 - keep_prob) / D.size)
        if abs(rate - keep_prob) > 5 * se:
            hint = ""
            if abs(rate - (1 - keep_prob)) <= 5 * se:
                hint = (" — that is the DROP probability 1 - keep_prob: keep a unit where "
                        "rng.random(A.shape) < keep_prob")
            fail(f"{label}: D keeps {rate:.3f} of the units, expected about keep_prob = {keep_prob} "
                 f"(± {5 * se:.3f}){hint}")
        _expect_scaled(A_out, A_big, D, keep_prob, label)

    # keep_prob = 1 keeps everything and changes nothing.
    A_out, D = _unpack_forward(call(dropout_forward, A, 1.0, np.random.default_rng(52)), A, 1.0,
                               f"{who}(A, keep_prob=1.0, rng)")
    if not D.all():
        fail(f"{who}(A, keep_prob=1.0, rng): with keep_prob = 1 every unit must be kept, "
             f"but D drops {int((D == 0).sum())} of {D.size}")
    expect_array(A_out, A, f"{who}(A, keep_prob=1.0, rng): A_out", rtol=1e-12, atol=0)

    def masks(rng):
        A_out, D = call(dropout_forward, A_big[:40, :60], 0.6, rng)
        return np.asarray(A_out), np.asarray(D)

    expect_uses_only_rng(masks, who, lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b)))


# ---------------------------------------------------------------- dropout_backward

def check_dropout_backward(dropout_backward: Callable) -> None:
    who = "dropout_backward"
    rng = np.random.default_rng(60)
    for keep_prob, shape in ((0.8, (5, 8)), (0.5, (3, 12)), (0.25, (7, 4))):
        dA = rng.standard_normal(shape)
        D = (rng.random(shape) < keep_prob).astype(np.float64)
        D.flat[:2] = (0.0, 1.0)  # at least one dropped and one kept unit
        expected = dA * D / keep_prob
        label = f"{who}(dA of shape {shape}, D, keep_prob={keep_prob})"
        got = call(dropout_backward, dA, D, keep_prob)
        expect_array(got, expected, f"{label} with a 0/1 float mask D", rtol=1e-9, atol=1e-12, mistakes={
            "dA * D: the 1/keep_prob rescale is missing (the forward pass divided by keep_prob, so must the "
            "backward pass)": dA * D,
            "dA * D * keep_prob: divide by keep_prob, do not multiply": dA * D * keep_prob,
            "dA / keep_prob: the mask D is not applied (dropped units get no gradient)": dA / keep_prob,
            "dA unchanged: apply the mask and the rescale": dA,
            "dA * (1 - D) / keep_prob: the mask is inverted": dA * (1 - D) / keep_prob,
        })
        for kind, mask in (("boolean", D.astype(bool)), ("0/1 integer", D.astype(np.int64))):
            try:
                got = call(dropout_backward, dA, mask, keep_prob)
            except Exception as error:  # noqa: BLE001 - reported to the student as a failed check
                raise CheckFailure(
                    f"{label}: works with a 0/1 float mask D but raises {type(error).__name__}: {error} with a "
                    f"{kind} mask; dropout_forward may return D either way, so handle both "
                    "(dA * D / keep_prob does)") from None
            expect_array(got, expected, f"{label} with a {kind} mask D", rtol=1e-9, atol=1e-12)
    dA = rng.standard_normal((4, 6))
    got = call(dropout_backward, dA, np.ones((4, 6)), 1.0)
    expect_array(got, dA, f"{who}(dA, D of ones, keep_prob=1.0)", rtol=1e-12, atol=0)


# ---------------------------------------------------------------- early_stopping_epoch

def _simulate(costs, patience: int, *, ties_improve: bool = False) -> tuple[int, int | None]:
    """(best epoch, epoch at which training stops or None), the rule of the docstring."""
    best, stop = 0, None
    for epoch in range(1, len(costs)):
        better = costs[epoch] <= costs[best] if ties_improve else costs[epoch] < costs[best]
        if better:
            best = epoch
        elif epoch - best >= patience:
            stop = epoch
            break
    return best, stop


def _early_stopping_alternatives(costs, patience: int) -> dict[str, int]:
    """What each known mistake returns for these costs (may equal the right answer)."""
    best, stop = _simulate(costs, patience)
    return {
        "the epoch where training stops (or the last one), not the best epoch before it":
            len(costs) - 1 if stop is None else stop,
        "an equal cost counted as a new best (only a strictly lower cost is)":
            _simulate(costs, patience, ties_improve=True)[0],
        "waits one epoch too many: stop once `patience` epochs have passed without a new best, "
        "not patience + 1": _simulate(costs, patience + 1)[0],
        "stops one epoch too early: wait `patience` epochs without a new best, not patience - 1":
            _simulate(costs, patience - 1)[0],
        "the lowest cost overall, ignoring patience (training stops before it)": int(np.argmin(costs)),
        "the last epoch": len(costs) - 1,
        "the best epoch plus one: epochs are indices into dev_costs, counted from 0": best + 1,
    }


def _early_stopping_mistakes(costs, patience: int) -> dict[str, int]:
    """The mistakes whose answer differs from the right one for these costs."""
    best, _ = _simulate(costs, patience)
    return {label: value for label, value in _early_stopping_alternatives(costs, patience).items()
            if value != best}


# Each hand-made case separates the right answer from at least one mistake.
_EARLY_CASES = [
    ([0.9, 0.7, 0.8, 0.75, 0.6], 2),  # stops at epoch 3: best 1, not the later lower cost
    ([0.9, 0.7, 0.8, 0.75, 0.6], 3),  # patience 3 reaches the new best at epoch 4
    ([0.9, 0.7, 0.8, 0.6, 0.9, 0.95], 2),  # a new best exactly `patience` epochs after the previous one
    ([3.0, 2.0, 2.0, 2.0, 1.0], 2),  # ties do not reset patience
    ([2.0, 1.0, 1.0], 5),  # never stops, tie: the first of the equal lowest costs
    ([5.0, 4.0, 3.0, 2.0, 1.0], 2),  # never stops, still improving: the last epoch
    ([1.0, 0.9, 1.0, 0.8, 1.0, 0.7, 1.0, 0.6], 2),  # patience counts from the LATEST best
    ([1.0, 0.5, 0.9, 0.8, 0.7, 0.6, 0.4], 2),  # rising then falling again after the stop
    ([3.0, 2.0, 2.5, 1.0], 1),  # patience 1 stops at the first epoch that is not a new best
    ([1.0, 2.0, 3.0, 0.5], 1),  # the first epoch is the best
    ([0.42], 3),  # a single epoch
    ([0.5, 0.5, 0.5, 0.5], 1),  # all equal
    ([1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6], 4),
]


def _random_cases():
    rng = np.random.default_rng(70)
    cases = []
    for _ in range(40):
        T = int(rng.integers(2, 60))
        # A noisy U-shaped curve, like a dev cost, rounded so that ties happen.
        t = np.arange(T)
        curve = 1 + (t - rng.uniform(0, T)) ** 2 / T**2 + 0.05 * rng.standard_normal(T)
        cases.append((np.round(curve, 2).tolist(), int(rng.integers(1, 9))))
    return cases


def check_early_stopping_epoch(early_stopping_epoch: Callable) -> None:
    who = "early_stopping_epoch"
    cases = _EARLY_CASES + _random_cases()
    answers = []
    asked = []  # (label, costs, patience) of each call, in order
    calls = []
    for costs, patience in cases:
        shown = costs if len(costs) <= 12 else f"a list of {len(costs)} costs {costs[:6]}..."
        for kind, dev_costs in (("list", list(costs)), ("NumPy array", np.array(costs))):
            asked.append((f"{who}({shown}, patience={patience}) with dev_costs as a {kind}", costs, patience))
            calls.append(((dev_costs, patience), {}))
    results = call_each(early_stopping_epoch, calls)  # one round trip to a student's kernel, not 100
    for label, costs, patience in asked:
        try:
            got = next(results)
        except Exception as error:  # noqa: BLE001 - reported to the student as a failed check
            raise CheckFailure(f"{label} raised {type(error).__name__}: {error}; dev_costs may be a list "
                               "or a 1-D NumPy array") from None
        if got is None:
            fail(f"{label} returned None — did you forget `return`?")
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
            if isinstance(got, (float, np.floating)) and float(got).is_integer():
                hint = ": return the epoch as an int, e.g. int(best)"
            else:
                hint = ": return the index (an int) of the epoch, not a cost"
            fail(f"{label}: expected an int epoch index, got {type(got).__name__} {got!r}{hint}")
        answers.append((label, costs, patience, int(got)))
    wrong = [(label, costs, patience, got) for label, costs, patience, got in answers
             if got != _simulate(costs, patience)[0]]
    if wrong:
        # Name a mistake only when it accounts for every wrong answer, so a hint is never a guess.
        mistake = next((text for text in _early_stopping_alternatives([1.0], 1)
                        if all(_early_stopping_alternatives(costs, patience)[text] == got
                               for _, costs, patience, got in wrong)), None)
        label, costs, patience, got = wrong[0]
        fail(f"{label}: expected epoch {_simulate(costs, patience)[0]}, got {got}"
             + (f"\n  Hint: this looks like: {mistake}" if mistake else ""))
