"""Hidden checks of 11_softmax.

The math is exact, so the checks are strict, on inputs chosen to break naive
code: logits of +/-1e4 and around 1000 (exp overflows above about 709),
columns whose every logit is very negative (exp underflows to 0, then 0/0),
ties, one column far larger than the others (a single global max underflows
the rest), square arrays (where a transpose or a sum broadcast along the wrong
axis keeps the shape), labels shaped (m,), (1, m) and as whole-number floats,
and probabilities with exact zeros. Expected values are computed here by
plain loops over Python floats; known mistakes are recomputed on the same
inputs and named when a result matches one. Every function must leave its
inputs unchanged (shifting the caller's Z in place is a classic bug): each
call goes through ``call_with_inputs`` and the arguments are compared after.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from dlutils import checks

from ._common import call_with_inputs, fail

# ---------------------------------------------------------------- shared


def _quiet() -> np.errstate:
    """Known wrong formulas are evaluated on inputs that make them overflow on purpose."""
    return np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore")


# How to leave each function's inputs alone, said in its own terms.
_IN_PLACE_HINTS = {
    "softmax": "build a new array, Z_shifted = Z - np.max(Z, axis=0, keepdims=True); Z -= ... shifts the "
               "caller's scores",
    "one_hot": "y = np.ravel(y) gives a new array to work with; y.shape = ..., y.resize(...) or y[...] = ... "
               "change the caller's labels",
    "cross_entropy_cost": "np.maximum(AL, 1e-15) or np.clip(AL, 1e-15, 1) returns a new array; AL[AL == 0] = ... "
                          "or np.clip(..., out=AL) writes into the caller's probabilities",
    "softmax_backward": "return AL - Y, a new array; AL -= Y turns the caller's probabilities into dZ",
}


def _call(fn: Callable, who: str, args: tuple, names: tuple[str, ...], hint: str = "") -> Any:
    """Call the student's fn on copies; fail naming the call if it raises or changes an argument."""
    try:
        got, after, _ = call_with_inputs(fn, *args)
    except Exception as error:  # the student's code failed: name the call that did it
        fail(f"{who} raised {type(error).__name__}: {error}" + (f"\n  Hint: {hint}" if hint else ""))
    for name, before, now in zip(names, args, after):
        same = isinstance(now, np.ndarray) and now.shape == before.shape and np.array_equal(now, before)
        if not same:
            function = who.split("(")[0]
            fail(f"{who} changed its input {name} in place; the caller's {name} must be left as it was\n"
                 f"  Hint: {_IN_PLACE_HINTS[function]}")
    return got


# ---------------------------------------------------------------- softmax

def _softmax_loops(Z: np.ndarray) -> np.ndarray:
    """Column by column, in Python floats: exp(z - max) / sum."""
    out = np.empty(Z.shape)
    for j in range(Z.shape[1]):
        column = [float(z) for z in Z[:, j]]
        top = max(column)
        exps = [math.exp(z - top) for z in column]
        total = math.fsum(exps)
        out[:, j] = [e / total for e in exps]
    return out


def _softmax_mistakes(Z: np.ndarray) -> dict[str, np.ndarray]:
    with _quiet():
        col_max = Z.max(axis=0, keepdims=True)
        E = np.exp(Z - col_max)
        row = np.exp(Z - Z.max(axis=1, keepdims=True))
        whole = np.exp(Z - Z.max())
        naive = np.exp(Z)
        zero_floor = np.exp(Z - np.maximum(col_max, 0))
        mistakes = {
            "softmax over the wrong axis: each column (one example) must sum to 1, not each row; "
            "use axis=0": row / row.sum(axis=1, keepdims=True),
            "divided by the sum of the whole array: divide each column by its own sum, "
            "np.sum(E, axis=0, keepdims=True)": E / E.sum(),
            "the column sums were broadcast along the wrong axis (a (m,) sum turned into a column): "
            "keep them a row with keepdims=True": E / E.sum(axis=0).reshape(-1, 1) if Z.shape[0] == Z.shape[1]
            else None,
            "an epsilon added to the sum: after subtracting the max the sum is at least 1, so none is needed, "
            "and it stops the columns from summing to exactly 1": E / (E.sum(axis=0, keepdims=True) + 1e-8),
            "max(0, max) subtracted: when a whole column is very negative its exps underflow to 0 and 0 / 0 is "
            "NaN; subtract each column's own max, even when it is negative": zero_floor / zero_floor.sum(axis=0),
            "the hard max (1 for the largest score, 0 elsewhere): softmax gives every class a share, "
            "exp(z_i - max) / sum_j exp(z_j - max)": (Z == col_max).astype(float),
            "the exponentials were not divided by their column sums: each column must sum to 1": E,
            "no max shift: exp overflows to inf above about 709 (inf / inf is NaN) and underflows to 0 for very "
            "negative logits (0 / 0 is NaN); subtract each column's max first": naive / naive.sum(axis=0),
            "one global max (Z.max()) subtracted: a column far below it underflows to 0 / 0; subtract each "
            "column's own max, Z.max(axis=0, keepdims=True)": whole / whole.sum(axis=0),
        }
    right = _softmax_loops(Z)
    return {label: wrong for label, wrong in mistakes.items()
            if wrong is not None and not np.allclose(wrong, right, rtol=1e-9, atol=1e-300)}


_LARGE = ("logits around 1000", "logits of ±1e4", "every logit very negative", "one column far larger than the others")


def _softmax_cases() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(1101)
    return [
        ("ordinary scores", rng.normal(0.0, 2.0, (4, 6))),
        ("a square array", rng.normal(0.0, 1.5, (4, 4))),
        ("logits around 1000", np.array([[1000.0, -1.0], [999.0, 2.0], [998.0, 0.5]])),
        ("logits of ±1e4", np.array([[1e4, -1e4, 0.0], [1e4 - 1, 1e4, 1.0], [-1e4, -1e4, 2.0]])),
        ("every logit very negative", np.array([[-1e4, -800.0, -1e4 - 3], [-1e4 - 1, -802.5, -1e4 - 1],
                                                [-1e4 - 2, -801.0, -1e4 - 2]])),
        ("ties", np.array([[5.0, 2.0, 0.0, -7.0], [5.0, 2.0, 0.0, -7.0], [5.0, -1.0, 0.0, -7.0]])),
        ("one column far larger than the others", np.array([[2000.0, 1.0, -3.0], [1995.0, 2.0, -2.5],
                                                           [1990.0, 3.0, -4.0]])),
        ("a single example", np.array([[3.0], [-1.0], [0.5], [2.0], [40.0]])),
        ("ten classes, scores up to ±40", rng.normal(0.0, 15.0, (10, 30))),
    ]


def check_softmax(softmax: Callable) -> None:
    for label, Z in _softmax_cases():
        who = f"softmax(Z) for {label} (Z of shape {Z.shape})"
        got = _call(softmax, who, (Z,), ("Z",))
        expected = _softmax_loops(Z)
        if isinstance(got, np.ndarray) and got.shape == Z.shape and got.dtype == np.float32:
            fail(f"{who}: returned float32; keep float64 (NumPy's default) for exact probabilities")
        try:
            checks.expect_array(got, expected, who, rtol=1e-9, atol=1e-300, mistakes=_softmax_mistakes(Z))
        except checks.CheckFailure as failure:
            if label in _LARGE and "Hint:" not in str(failure):
                fail(f"{failure}\n  Hint: large logits must give exact probabilities: subtract each column's "
                     "max and nothing else; clipping or rescaling the logits changes the answer")
            raise
        checks.expect_dtype_float(got, who)


# ---------------------------------------------------------------- one_hot

def _one_hot_loops(labels: list[int], C: int) -> np.ndarray:
    Y = np.zeros((C, len(labels)))
    for j, k in enumerate(labels):
        Y[k, j] = 1.0
    return Y


_ONE_HOT_HINTS = {
    "(1, m)": "labels can come as a row of shape (1, m): flatten them first, e.g. y = np.ravel(y) "
              "(or y.reshape(-1)), then use y.size for m",
    "float": "the labels came as whole-number floats (2.0, 0.0, ...): NumPy indexes only with integers, so "
             "convert them first, e.g. y.astype(int)",
}


def check_one_hot(one_hot: Callable) -> None:
    cases = [  # (label, y, C, hint used when the call fails)
        ("labels of shape (m,)", np.array([2, 0, 1, 2, 3]), 4, ""),
        ("labels of shape (1, m)", np.array([[1, 0, 2, 2, 0, 1]]), 3, _ONE_HOT_HINTS["(1, m)"]),
        ("classes that do not appear in y", np.array([0, 0, 1]), 5, ""),
        ("a square result (m = C)", np.array([2, 0, 1]), 3, ""),
        ("a single example of shape (1, 1)", np.array([[4]]), 6, _ONE_HOT_HINTS["(1, m)"]),
        ("whole-number float labels of shape (1, m)", np.array([[2.0, 0.0, 1.0, 1.0]]), 3,
         _ONE_HOT_HINTS["float"] + "; " + _ONE_HOT_HINTS["(1, m)"]),
        ("ten classes", np.arange(20) % 10, 10, ""),
    ]
    for label, y, C, hint in cases:
        who = f"one_hot(y, C={C}) for {label} (y of shape {y.shape})"
        got = _call(one_hot, who, (y, C), ("y",), hint)
        labels = [int(k) for k in np.ravel(y)]
        expected = _one_hot_loops(labels, C)
        m = len(labels)
        if isinstance(got, np.ndarray) and got.shape != (C, m):
            if got.shape == (m, C):
                fail(f"{who}: expected shape {(C, m)}, got {got.shape}\n  Hint: the result looks transposed: "
                     "one row per class and one column per example")
            if y.ndim == 2:  # the same function passed the (m,) case just before
                fail(f"{who}: expected shape {(C, m)}, got {got.shape}\n  Hint: {_ONE_HOT_HINTS['(1, m)']}")
            if got.ndim == 2 and got.shape[1] == m and got.shape[0] == max(labels) + 1:
                fail(f"{who}: expected shape {(C, m)}, got {got.shape}\n  Hint: one row per class for all C "
                     "classes, even those that do not appear in y: use C, not max(y) + 1")
        if isinstance(got, np.ndarray) and got.shape == (C, m) and not np.issubdtype(got.dtype, np.floating):
            fail(f"{who}: expected a float array, got dtype {got.dtype}\n  Hint: Y enters the cost and AL - Y as "
                 "numbers: start from np.zeros((C, m)), which is float64")
        checks.expect_array(got, expected, who, rtol=0, atol=0, mistakes={
            "the result is transposed: one row per class and one column per example": expected.T,
            "every label moved one row up (label k in row k - 1): label k goes in row k, counting from 0":
                np.roll(expected, -1, axis=0)})


# ---------------------------------------------------------------- cross_entropy_cost

def _cost_loops(AL: np.ndarray, Y: np.ndarray) -> float:
    """-(1/m) Σ Y log AL, summing only the terms where Y is not 0 (0 log 0 counts as 0)."""
    terms = [float(Y[i, j]) * math.log(float(AL[i, j]))
             for i in range(AL.shape[0]) for j in range(AL.shape[1]) if Y[i, j] != 0]
    return -math.fsum(terms) / AL.shape[1]


def _cost_mistakes(AL: np.ndarray, Y: np.ndarray, expected: float) -> dict[str, float]:
    C, m = AL.shape
    with _quiet():
        binary = -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m
        argmax = -np.mean(np.log(AL.max(axis=0)))
    return {
        "the sum over the examples, not the mean: divide by m": expected * m,
        "np.mean over all C × m entries divides by C × m: sum over the classes, then divide by m only":
            expected / C,
        "the binary cross-entropy formula: the (1 - Y) log(1 - AL) term belongs to a single sigmoid output; "
        "with softmax the cost is -(1/m) Σ Y log AL": float(binary),
        "log10 instead of the natural log: use np.log": expected / math.log(10),
        "the log of the largest probability of each column: use the probability of the true class (where Y "
        "is 1)": float(argmax),
        "divided by C instead of m": expected * m / C,
    }


def _one_hot(labels, C: int) -> np.ndarray:
    return _one_hot_loops([int(k) for k in labels], C)


def _cost_value(got: Any, who: str) -> float:
    if isinstance(got, np.ndarray) and got.size == 1 and got.ndim > 0:
        fail(f"{who}: expected a number, got an array of shape {got.shape}\n  Hint: return a plain number, "
             "e.g. float(cost) or np.squeeze(cost)")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number, np.ndarray)) or np.ndim(got):
        checks.expect_scalar(got, 0.0, who)  # says what came back instead of a number
    value = float(got)
    if not math.isfinite(value):
        fail(f"{who}: got {value}, expected a finite cost\n  Hint: AL holds exact zeros: log(0) is -inf and "
             "0 × log(0) is NaN; keep AL away from 0 with a tiny floor such as np.maximum(AL, 1e-15), or "
             "np.clip(AL, 1e-15, 1)")
    return value


def _expect_cost(got: Any, expected: float, who: str, mistakes: dict[str, float], rtol: float) -> None:
    value = _cost_value(got, who)
    if abs(value - expected) <= rtol * abs(expected) + 1e-7:
        return
    named = {label: wrong for label, wrong in mistakes.items() if not math.isclose(wrong, expected, rel_tol=1e-6)}
    # A floor or an epsilon raises small probabilities, so it lowers the cost, by a little or a lot.
    if not any(math.isclose(value, wrong, rel_tol=1e-6) for wrong in named.values()) and (
            0.5 * expected < value < expected):
        fail(f"{who}: expected {expected:.10g}, got {value:.10g} (lower by {expected - value:.3g})\n"
             "  Hint: are you clipping AL or adding an epsilon bigger than about 1e-8? That raises small but "
             "correct probabilities and lowers the cost; keep the floor tiny (1e-15) and leave values above it "
             "unchanged")
    checks.expect_scalar(value, expected, who, rtol=rtol, atol=1e-7, mistakes=named)


def check_cross_entropy_cost(cross_entropy_cost: Callable) -> None:
    rng = np.random.default_rng(1102)
    # True-class probabilities from sure to unlikely; the rest of each column spread over the others.
    true_p = np.array([0.9, 0.5, 0.2, 0.01, 1e-3])
    labels = np.array([2, 0, 3, 1, 2])
    AL = np.tile(((1 - true_p) / 3), (4, 1))
    AL[labels, np.arange(5)] = true_p
    AL[:, 1] = [0.5, 0.3, 0.15, 0.05]  # one column that is not uniform elsewhere
    Z = rng.normal(0, 2, (10, 12))
    E = np.exp(Z - Z.max(axis=0))
    random_AL = E / E.sum(axis=0)
    cases = [
        ("probabilities from 0.9 down to 0.001 for the true class", AL, _one_hot(labels, 4)),
        ("ten classes", random_AL, _one_hot(rng.integers(0, 10, 12), 10)),
        ("a single example", np.array([[0.25], [0.7], [0.05]]), _one_hot([2], 3)),
    ]
    for label, probs, Y in cases:
        who = f"cross_entropy_cost(AL, Y) for {label} (AL of shape {probs.shape})"
        got = _call(cross_entropy_cost, who, (probs, Y), ("AL", "Y"))
        expected = _cost_loops(probs, Y)
        _expect_cost(got, expected, who, _cost_mistakes(probs, Y, expected), rtol=1e-5)

    # Exact zeros: a perfect prediction costs exactly 0 (0 log 0 counts as 0) ...
    Y = _one_hot([1, 0, 2, 1], 3)
    who = "cross_entropy_cost(AL, Y) for perfect predictions (AL == Y: exact zeros and ones)"
    got = _call(cross_entropy_cost, who, (Y.copy(), Y), ("AL", "Y"))
    value = _cost_value(got, who)
    if abs(value) > 1e-6:
        fail(f"{who}: expected 0, got {value:.6g}\n  Hint: probabilities of 1 for the true class cost "
             "log(1) = 0; clip only away from 0 (np.maximum(AL, 1e-15)), not from 1 by a noticeable amount")
    # ... and a zero probability for the true class costs a lot, but stays finite.
    probs = np.array([[0.0, 0.8, 0.1], [0.3, 0.2, 0.0], [0.7, 0.0, 0.9]])
    Y = _one_hot([0, 0, 2], 3)
    who = "cross_entropy_cost(AL, Y) when the true class has probability exactly 0"
    got = _call(cross_entropy_cost, who, (probs, Y), ("AL", "Y"))
    value = _cost_value(got, who)
    at_least = _cost_loops(np.maximum(probs, 1e-6), Y)
    if value < at_least - 1e-7:
        fail(f"{who}: got {value:.6g}, expected a large cost (at least {at_least:.4g}, the cost with that 0 "
             "raised to 1e-6)\n  Hint: a zero probability for the true class is the worst possible prediction; "
             "keep the floor tiny (1e-15), not large")


# ---------------------------------------------------------------- softmax_backward

def _backward_mistakes(AL: np.ndarray, Y: np.ndarray) -> dict[str, np.ndarray]:
    m = AL.shape[1]
    with _quiet():
        mistakes = {
            "divided by m: softmax_backward returns dZ = AL - Y exactly; the 1/m of the mean is applied once, "
            "later, in dW = (1/m) dZ A_prev.T and db (dividing here too divides twice)": (AL - Y) / m,
            "Y - AL: the sign is flipped; dZ = AL - Y": Y - AL,
            "dAL = -Y / AL instead of dZ: softmax and cross-entropy together simplify to dZ = AL - Y":
                -Y / AL,
            "AL - 1: only the true class (where Y is 1) gets the -1; subtract Y": AL - 1,
            "(AL - Y) multiplied by AL (1 - AL), the sigmoid's derivative: for softmax with cross-entropy "
            "dZ = AL - Y already includes the softmax's derivative": (AL - Y) * AL * (1 - AL),
        }
        if AL.shape[0] == AL.shape[1]:
            mistakes["the result is transposed: dZ has the shape of AL, (C, m)"] = (AL - Y).T
    return mistakes


def check_softmax_backward(softmax_backward: Callable) -> None:
    rng = np.random.default_rng(1103)
    cases = []
    for label, C, m in (("four classes, six examples", 4, 6), ("a square array (C = m)", 3, 3),
                        ("a single example", 5, 1), ("ten classes", 10, 25)):
        Z = rng.normal(0, 2, (C, m))
        E = np.exp(Z - Z.max(axis=0))
        cases.append((label, E / E.sum(axis=0), _one_hot(rng.integers(0, C, m), C)))
    Y = _one_hot([1, 0, 2, 2], 3)
    cases.append(("perfect predictions (AL == Y: exact zeros and ones)", Y.copy(), Y))
    for label, AL, Y in cases:
        who = f"softmax_backward(AL, Y) for {label} (AL of shape {AL.shape})"
        got = _call(softmax_backward, who, (AL, Y), ("AL", "Y"))
        checks.expect_array(got, AL - Y, who, rtol=1e-12, atol=1e-15, mistakes=_backward_mistakes(AL, Y))
        checks.expect_dtype_float(got, who)
