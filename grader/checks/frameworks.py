"""Hidden checks of 12_frameworks: the pieces a framework is made of, as functions of plain data.

* ``unbroadcast(grad, shape)``: the gradient of a broadcast operand, summed back to its shape;
* ``matmul_backward(grad, A, B)``: ``(dA, dB)`` of ``A @ B``, batch first, ``A`` possibly 3-D;
* ``dropout_layer(X, keep_prob, training, rng)``: a Module's forward in both modes, ``(out, mask)``;
* ``adam_step(params, grads, state, ...)``: one Adam step over a LIST of parameters, with its state.

The math is exact, so the checks are strict: shapes chosen so that a missing transpose or a sum
over the wrong axis changes values, not only shapes (square matrices, ``(n,)`` against ``(n, n)``),
float32 as well as float64, and every input compared after the call (a framework must not change
the caller's arrays). Dropout is random: any correct use of ``rng`` passes, with tolerances of 5
standard errors. Known mistakes are recomputed on the same inputs and named when a result matches.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlutils import checks

from ._common import call, call_with_inputs, expect_uses_only_rng, fail
from .optimizers import _adam
from .regularization import _lag_correlation


def _call(fn: Callable, who: str, args: tuple, names: tuple[str, ...], hint: str = "") -> Any:
    """The student's fn on copies; fail naming the call if it raises or changes an array argument."""
    try:
        got, after, _ = call_with_inputs(fn, *args)
    except Exception as error:  # the student's code failed: say which call did it
        fail(f"{who} raised {type(error).__name__}: {error}" + (f"\n  Hint: {hint}" if hint else ""))
    for name, before, now in zip(names, args, after):
        if isinstance(before, np.ndarray) and not (isinstance(now, np.ndarray) and now.shape == before.shape
                                                   and np.array_equal(now, before)):
            fail(f"{who} changed its input {name} in place; the caller's {name} must be left as it was "
                 "(a framework reuses it: the same array may feed several operations)")
    return got


def _pair(got: Any, who: str, names: str) -> tuple:
    if got is None:
        fail(f"{who} returned None — did you forget `return {names}`?")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        size = f" of {len(got)} items" if isinstance(got, (tuple, list)) else ""
        fail(f"{who}: expected the pair ({names}), got {type(got).__name__}{size}")
    return tuple(got)


# ---------------------------------------------------------------- unbroadcast

def _unbroadcast_loops(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Entry by entry: every entry of grad adds into the operand entry it was broadcast from."""
    out = np.zeros(shape, dtype=np.float64)
    lead = grad.ndim - len(shape)
    for index in np.ndindex(grad.shape):
        target = tuple(0 if size == 1 else i for i, size in zip(index[lead:], shape))
        out[target] += float(grad[index])
    return out


def _unbroadcast_mistakes(grad: np.ndarray, shape: tuple) -> dict[str, np.ndarray]:
    lead = grad.ndim - len(shape)
    leading = grad.sum(axis=tuple(range(lead))) if lead else grad
    ones = tuple(i for i, size in enumerate(shape) if size == 1 and leading.shape[i] != 1)
    mistakes = {
        "only the leading axes were summed: also sum (keepdims=True) over every axis where `shape` has a 1 "
        "and grad does not": leading,
        "the size-1 axes were summed without keepdims=True, so they disappeared: keep them": (
            leading.sum(axis=ones) if ones else None),
        "the mean instead of the sum: a broadcast operand feeds every copy of itself, so the gradients of "
        "the copies add up": grad.mean(axis=tuple(range(lead))).mean(axis=ones, keepdims=True) if lead else (
            grad.mean(axis=ones, keepdims=True) if ones else None),
        "the axes broadcasting added in front were not summed away: sum over them (without keepdims) as well "
        "as over the size-1 axes": grad.sum(axis=tuple(i + lead for i in ones), keepdims=True) if lead else None,
        "everything was summed: sum only the axes broadcasting added or stretched": np.asarray(grad.sum()),
    }
    if lead:
        # Broadcasting aligns shapes from the right: (n,) against (m, n) is a row, copied down the rows.
        left = grad.sum(axis=tuple(range(len(shape), grad.ndim)))
        stretched = tuple(i for i, size in enumerate(shape) if size == 1 and left.shape[i] != 1)
        mistakes["the last axes were summed: broadcasting aligns shapes from the RIGHT, so a (n,) operand is a "
                 "row copied down the rows; sum over the leading axes (axis 0)"] = left.sum(axis=stretched,
                                                                                           keepdims=True)
    right = _unbroadcast_loops(grad, shape)
    return {label: wrong for label, wrong in mistakes.items()
            if wrong is not None and not (np.shape(wrong) == right.shape and np.allclose(wrong, right))}


def _unbroadcast_cases() -> list[tuple[str, tuple, tuple, type]]:
    """(label, grad's shape, operand's shape, dtype)."""
    return [
        ("a bias (n,) added to a batch (m, n)", (5, 3), (3,), np.float64),
        ("a row (1, n) added to (m, n)", (5, 3), (1, 3), np.float64),
        ("a column (m, 1) multiplied into (m, n)", (5, 3), (5, 1), np.float64),
        ("a (n,) bias added to a square (n, n) batch", (4, 4), (4,), np.float64),
        ("a (n, 1) column against a square (n, n)", (4, 4), (4, 1), np.float64),
        ("a (n, 1) operand broadcast into a batch of 3-D (b, n, k)", (2, 4, 3), (4, 1), np.float64),
        ("a (1, 1, k) operand broadcast into (b, n, k)", (2, 4, 3), (1, 1, 3), np.float64),
        ("a scalar parameter of shape ()", (3, 2), (), np.float64),
        ("no broadcasting at all (the same shape)", (3, 2), (3, 2), np.float64),
        ("a float32 bias (n,) added to float32 (m, n)", (6, 4), (4,), np.float32),
    ]


def check_unbroadcast(unbroadcast: Callable) -> None:
    rng = np.random.default_rng(1201)
    for label, grad_shape, shape, dtype in _unbroadcast_cases():
        grad = rng.normal(0.0, 1.0, grad_shape).astype(dtype)
        who = f"unbroadcast(grad of shape {grad_shape}, shape={shape}) for {label}"
        got = _call(unbroadcast, who, (grad, shape), ("grad",),
                    "np.sum(grad, axis=..., keepdims=...) with axis a tuple of ints (an empty tuple sums nothing)")
        if shape == () and isinstance(got, (float, np.floating)):
            got = np.asarray(got)
        expected = _unbroadcast_loops(grad, shape)
        if isinstance(got, np.ndarray) and got.shape == expected.shape and got.dtype != dtype:
            fail(f"{who}: returned dtype {got.dtype}, expected {np.dtype(dtype).name} like grad\n  Hint: a "
                 "framework keeps the dtype of its data; np.sum keeps it, np.zeros(shape) is float64")
        tolerance = 1e-5 if dtype == np.float32 else 1e-10
        checks.expect_array(got if not isinstance(got, np.ndarray) else got.astype(np.float64), expected, who,
                            rtol=tolerance, atol=tolerance, mistakes=_unbroadcast_mistakes(grad.astype(np.float64),
                                                                                            shape))


# ---------------------------------------------------------------- matmul_backward

def _matmul_expected(grad: np.ndarray, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """dA = grad Bᵀ for each example block; dB = Σ over the batch of Aᵀ grad (B is shared)."""
    dA = grad @ B.T
    blocks = [A] if A.ndim == 2 else list(A)
    grads = [grad] if A.ndim == 2 else list(grad)
    dB = sum(a.T @ g for a, g in zip(blocks, grads))
    return dA, dB


def _matmul_mistakes(grad, A, B) -> tuple[dict, dict]:
    dA, dB = _matmul_expected(grad, A, B)

    def attempt(f):
        try:
            return f()
        except ValueError:
            return None

    dA_wrong = {
        "dA = grad @ B without the transpose: dA = grad @ B.T (shapes (m, p) @ (p, n))": attempt(lambda: grad @ B),
        "dA = B.T @ grad puts the factors in the wrong order: dA = grad @ B.T": attempt(lambda: B.T @ grad),
        "dA and dB were returned in the wrong order: return (dA, dB)": dB,
        "dA was divided by the batch size: the 1/m of a mean cost is already in grad": dA / A.shape[-2],
    }
    swap = np.swapaxes(A, -1, -2)
    per_example = swap @ grad
    dB_wrong = {
        "dB = grad.T @ A is the transpose of dB: dB = A.T @ grad (shapes (n, m) @ (m, p))":
            attempt(lambda: np.swapaxes(grad, -1, -2) @ A) if A.ndim == 2 else None,
        "dB = A @ grad without the transpose: dB = A.T @ grad": attempt(lambda: A @ grad),
        "dB was not summed over the batch axis: B is shared by every matrix of the batch, so the gradients "
        "A[i].T @ grad[i] add up (sum over axis 0)": per_example if A.ndim == 3 else None,
        "dB was averaged over the batch axis: B is shared, its gradient is the SUM over the examples":
            per_example.mean(axis=0) if A.ndim == 3 else None,
        "dA and dB were returned in the wrong order: return (dA, dB)": dA,
        "dB was divided by the batch size: the 1/m of a mean cost is already in grad": dB / A.shape[-2],
    }

    def keep(catalogue, right):
        return {label: w for label, w in catalogue.items()
                if w is not None and not (np.shape(w) == right.shape and np.allclose(w, right))}

    return keep(dA_wrong, dA), keep(dB_wrong, dB)


def _matmul_cases() -> list[tuple[str, tuple, tuple]]:
    return [
        ("square A (n, n) @ B (n, n)", (4, 4), (4, 4)),
        ("A (m, n) @ B (n, p)", (5, 3), (3, 2)),
        ("a single example, A (1, n) @ B (n, p)", (1, 3), (3, 4)),
        ("a batch of matrices, A (b, m, n) @ a shared B (n, p)", (2, 5, 3), (3, 4)),
        ("a batch of square matrices, A (b, n, n) @ B (n, n)", (3, 3, 3), (3, 3)),
    ]


def check_matmul_backward(matmul_backward: Callable) -> None:
    rng = np.random.default_rng(1202)
    for label, a_shape, b_shape in _matmul_cases():
        A, B = rng.normal(0.0, 1.0, a_shape), rng.normal(0.0, 1.0, b_shape)
        grad = rng.normal(0.0, 1.0, a_shape[:-1] + b_shape[-1:])
        who = f"matmul_backward(grad {grad.shape}, A {A.shape}, B {B.shape}) for {label}"
        hint = ("each gradient has the shape of its input: dA (m, n) = grad (m, p) @ B.T (p, n) and "
                "dB (n, p) = A.T (n, m) @ grad (m, p)")
        if A.ndim == 3:
            hint = ("with A of shape (b, m, n), A.T reverses EVERY axis; np.swapaxes(A, -1, -2) transposes each "
                    "matrix, and dB (n, p) sums the b products")
        got = _pair(_call(matmul_backward, who, (grad, A, B), ("grad", "A", "B"), hint), who, "dA, dB")
        dA, dB = _matmul_expected(grad, A, B)
        dA_mistakes, dB_mistakes = _matmul_mistakes(grad, A, B)
        checks.expect_array(got[0], dA, f"{who}: dA", rtol=1e-9, atol=1e-12, mistakes=dA_mistakes)
        checks.expect_array(got[1], dB, f"{who}: dB", rtol=1e-9, atol=1e-12, mistakes=dB_mistakes)
    # float32 stays float32: a framework keeps the dtype of its data.
    A, B = rng.normal(0.0, 1.0, (6, 3)).astype(np.float32), rng.normal(0.0, 1.0, (3, 2)).astype(np.float32)
    grad = rng.normal(0.0, 1.0, (6, 2)).astype(np.float32)
    who = "matmul_backward(grad, A, B) with float32 arrays"
    got = _pair(_call(matmul_backward, who, (grad, A, B), ("grad", "A", "B")), who, "dA, dB")
    for name, value, expected in zip(("dA", "dB"), got, _matmul_expected(grad, A, B)):
        if isinstance(value, np.ndarray) and value.dtype != np.float32:
            fail(f"{who}: {name} has dtype {value.dtype}, expected float32 like the inputs")
        checks.expect_array(value, expected, f"{who}: {name}", rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- dropout_layer

def _train_result(got: Any, X: np.ndarray, keep_prob: float, who: str) -> tuple[np.ndarray, np.ndarray]:
    out, mask = _pair(got, who, "out, mask")
    if mask is None:
        fail(f"{who}: in training mode the mask is None; return the 0/1 mask of the units kept, so that the "
             "backward pass can use it")
    for name, value in (("out", out), ("mask", mask)):
        if not isinstance(value, np.ndarray):
            fail(f"{who}: {name} should be a NumPy array, got {type(value).__name__}")
    if mask.shape != X.shape:
        fail(f"{who}: the mask should have the shape of X, {X.shape}, got {mask.shape}\n  Hint: one keep "
             "decision for every unit of every example: rng.random(X.shape) < keep_prob")
    if out.shape != X.shape:
        fail(f"{who}: out should have the shape of X, {X.shape}, got {out.shape}")
    values = np.unique(mask)
    if mask.dtype != bool and not np.all(np.isin(values, (0.0, 1.0))):
        if keep_prob < 1 and np.allclose(values[values != 0], 1 / keep_prob):
            fail(f"{who}: the mask holds 1/keep_prob where a unit is kept; return the plain 0/1 mask "
                 "(the rescale belongs in out)")
        fail(f"{who}: the mask should hold only 0 and 1 (or False and True), got values such as "
             f"{values[:4].tolist()}\n  Hint: compare the draws with keep_prob: rng.random(X.shape) < keep_prob")
    return out, mask.astype(np.float64)


def _expect_inverted(out, X, mask, keep_prob, who):
    checks.expect_array(out, X * mask / keep_prob, f"{who}: out", rtol=1e-6, atol=1e-7, mistakes={
        "X * mask: the 1/keep_prob rescale is missing (inverted dropout divides the kept units by keep_prob, "
        "so that nothing changes in eval mode)": X * mask,
        "X * mask * keep_prob: divide by keep_prob, do not multiply": X * mask * keep_prob,
        "X / keep_prob: the mask was not applied": X / keep_prob,
        "X * (1 - mask) / keep_prob: the dropped units were kept and the kept ones dropped":
            X * (1 - mask) / keep_prob,
    })


_DROP_HINT = ("\n  Hint: that is the DROP probability 1 - keep_prob (PyTorch's p); keep_prob is the probability to "
              "KEEP a unit: rng.random(X.shape) < keep_prob")


def _expect_keep_rate(mask: np.ndarray, keep_prob: float, label: str) -> None:
    """The mask keeps about keep_prob of the units: within 5 standard errors of a binomial rate."""
    margin = 5 * np.sqrt(keep_prob * (1 - keep_prob) / mask.size)
    rate = float(mask.mean())
    if abs(rate - keep_prob) > margin:
        fail(f"{label}: the mask keeps {rate:.3f} of the units, expected about keep_prob = {keep_prob} "
             f"(± {margin:.3f})" + (_DROP_HINT if abs(rate - (1 - keep_prob)) <= margin else ""))


def check_dropout_layer(dropout_layer: Callable) -> None:
    who = "dropout_layer"
    data = np.random.default_rng(1203)
    X = data.normal(0.0, 1.0, (6, 9))  # batch first: 6 examples, 9 units; negative values too

    # Training mode, small: the exact relation between out, X and the mask, float32 as well.
    for keep_prob, dtype in ((0.8, np.float64), (0.35, np.float64), (0.5, np.float32)):
        Xd = X.astype(dtype)
        label = f"{who}(X {Xd.shape} {np.dtype(dtype).name}, keep_prob={keep_prob}, training=True, rng)"
        out, mask = _train_result(_call(dropout_layer, label, (Xd, keep_prob, True, np.random.default_rng(51)),
                                        ("X",)), Xd, keep_prob, label)
        if mask.all() or not mask.any():
            fail(f"{label}: the mask keeps {'every' if mask.all() else 'no'} unit; in training mode each unit "
                 "is kept with probability keep_prob")
        if out.dtype != dtype:
            fail(f"{label}: out has dtype {out.dtype}, expected {np.dtype(dtype).name} like X\n  Hint: a "
                 "boolean mask keeps X's dtype (X * mask / keep_prob); a float64 mask turns float32 into float64:"
                 " use mask.astype(X.dtype)")
        _expect_inverted(out.astype(np.float64), Xd.astype(np.float64), mask, keep_prob, label)

    # Training mode, large: the keep rate, and independent decisions across examples and units.
    m, n = 400, 250
    X_big = data.uniform(0.5, 2.0, (m, n))
    for keep_prob, seed in ((0.8, 54), (0.3, 55)):
        label = f"{who}(X {X_big.shape}, keep_prob={keep_prob}, training=True, rng)"
        out, mask = _train_result(call(dropout_layer, X_big, keep_prob, True, np.random.default_rng(seed)),
                                  X_big, keep_prob, label)
        tolerance = 5 / np.sqrt(mask.size)
        for axis, what in ((0, "examples (rows)"), (1, "units (columns)")):
            correlation = _lag_correlation(mask, axis)
            if correlation > tolerance:
                fail(f"{label}: the masks of different {what} are alike (correlation {correlation:.2f}); draw "
                     "an independent keep decision for every unit of every example: rng.random(X.shape)")
        _expect_keep_rate(mask, keep_prob, label)
        _expect_inverted(out, X_big, mask, keep_prob, label)

    # keep_prob = 1 keeps everything.
    label = f"{who}(X, keep_prob=1.0, training=True, rng)"
    out, mask = _train_result(call(dropout_layer, X, 1.0, True, np.random.default_rng(52)), X, 1.0, label)
    if not mask.all():
        fail(f"{label}: with keep_prob = 1 every unit must be kept, but the mask drops {int((mask == 0).sum())}")
    checks.expect_array(out, X, f"{label}: out", rtol=1e-12, atol=0)

    # Eval mode: the identity, no mask, and the generator untouched.
    for keep_prob in (0.8, 0.5):
        label = f"{who}(X, keep_prob={keep_prob}, training=False, rng)"
        rng = np.random.default_rng(53)
        try:
            got, after, _ = call_with_inputs(dropout_layer, X, keep_prob, False, rng)
        except Exception as error:
            fail(f"{label} raised {type(error).__name__}: {error}")
        out, mask = _pair(got, label, "out, mask")
        if not np.array_equal(after[0], X):
            fail(f"{label} changed its input X in place; the caller's X must be left as it was")
        if not isinstance(out, np.ndarray) or out.shape != X.shape:
            checks.expect_array(out, X, f"{label}: out")
        if mask is not None and not (isinstance(mask, np.ndarray) and mask.shape == X.shape and np.all(mask == 1)):
            fail(f"{label}: in eval mode nothing is dropped: return (X, None)\n  Hint: the mask is None in eval "
                 "mode (or all ones); only training mode draws one")
        checks.expect_array(out, X, f"{label}: out (eval mode is the identity)", rtol=0, atol=0, mistakes={
            "X / keep_prob: inverted dropout rescales in TRAINING mode only, so eval mode returns X unchanged":
                X / keep_prob,
            "X * keep_prob: that is the test-time rule of plain (not inverted) dropout; inverted dropout already "
            "rescaled during training, so eval mode returns X unchanged": X * keep_prob,
        })
        if after[3].bit_generator.state != np.random.default_rng(53).bit_generator.state:
            fail(f"{label} drew random numbers in eval mode: eval mode is deterministic; draw from rng only "
                 "when training is True (otherwise the rest of the program's random numbers shift)")

    def masks(rng):
        out, mask = call(dropout_layer, X_big[:50, :40], 0.6, True, rng)
        return np.asarray(out), np.asarray(mask)

    expect_uses_only_rng(masks, who, lambda a, b: all(np.array_equal(x, y) for x, y in zip(a, b)))


# ---------------------------------------------------------------- adam_step

# Mistakes of the update itself, as the week-2 Adam (grader.checks.optimizers._adam) computes them,
# said for a function that counts t itself.
_ADAM_STEP_MISTAKES = {
    "no bias correction: divide v by (1 - beta1**t) and s by (1 - beta2**t), t the count after this step":
        "no correction",
    "bias correction with the old t: increment state['t'] first, then correct with beta**t": "t - 1",
    "bias correction with t + 1: increment t once, then use beta**t": "t + 1",
    "epsilon inside the square root: divide by sqrt(s_hat) + epsilon": "eps inside",
    "the bias-corrected moments were stored in the state: keep the uncorrected averages v and s, use v_hat and "
    "s_hat only for the step": "stored corrected",
    "only v was bias-corrected: correct s too, s_hat = s / (1 - beta2**t)": "only v corrected",
    "beta on the wrong term: v = beta1 * v + (1 - beta1) * g, s = beta2 * s + (1 - beta2) * g**2": "swapped",
    "the gradient terms lack (1 - beta1) and (1 - beta2)": "no 1 - beta",
}


def _as_dict(arrays: list) -> dict:
    return {str(i): np.asarray(a, dtype=np.float64) for i, a in enumerate(arrays)}


def _as_list(arrays: dict) -> list:
    return [arrays[str(i)] for i in range(len(arrays))]


def _adam_expected(params, grads, state, hyper, mistake=None):
    """(params, state) after one step from ``state`` ({} before the first), or what ``mistake`` makes of it."""
    zeros = [np.zeros_like(p, dtype=np.float64) for p in params]
    t = state.get("t", 0) + 1
    v, s = state.get("v", zeros), state.get("s", zeros)
    with np.errstate(divide="ignore", invalid="ignore"):  # "t - 1" divides by 1 - beta**0 = 0 at t = 1
        step, new_v, new_s = _adam(_as_dict(grads), _as_dict(v), _as_dict(s), t, hyper["learning_rate"],
                                   hyper["beta1"], hyper["beta2"], hyper["epsilon"], mistake=mistake)
    new_params = [p - d for p, d in zip(params, _as_list(step))]
    return new_params, {"t": t, "v": _as_list(new_v), "s": _as_list(new_s)}


def _adam_result(got: Any, params: list, who: str) -> tuple[list, dict]:
    new_params, state = _pair(got, who, "params, state")
    if not isinstance(new_params, (list, tuple)) or len(new_params) != len(params):
        fail(f"{who}: params should come back as a list of {len(params)} arrays (one per parameter), got "
             f"{type(new_params).__name__}" + (f" of {len(new_params)}" if isinstance(new_params, (list, tuple))
                                               else ""))
    if not isinstance(state, dict) or not {"t", "v", "s"} <= set(state):
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        fail(f"{who}: the state should be a dict with keys 't', 'v' and 's', got {keys}\n  Hint: before the first "
             "step the state is {}: start from t = 0 and lists of zeros shaped like the parameters")
    for key in ("v", "s"):
        if not isinstance(state[key], (list, tuple)) or len(state[key]) != len(params):
            fail(f"{who}: state['{key}'] should be a list of {len(params)} arrays, one moment per parameter")
    return list(new_params), state


def _check_adam_once(adam_step, who, params, grads, state, hyper, *, defaults=False, rtol=1e-7):
    args = (params, grads, state) if defaults else (params, grads, state, hyper["learning_rate"], hyper["beta1"],
                                                    hyper["beta2"], hyper["epsilon"])
    got = _call(adam_step, who, args, (), "before the first step the state is {}: create state['t'] = 0 and "
                "zero moments (np.zeros_like(p) for each parameter p) when it is empty")
    new_params, new_state = _adam_result(got, params, who)
    expected_params, expected_state = _adam_expected(params, grads, state, hyper)
    variants = {label: _adam_expected(params, grads, state, hyper, mistake)
                for label, mistake in _ADAM_STEP_MISTAKES.items()}
    for i, (got_p, want) in enumerate(zip(new_params, expected_params)):
        checks.expect_array(got_p, want, f"{who}: params[{i}]", rtol=rtol, atol=1e-12, mistakes={
            **{label: var[0][i] for label, var in variants.items()},
            "the parameters moved uphill: subtract the step, p - learning_rate * v_hat / (sqrt(s_hat) + epsilon)":
                2 * params[i] - want,
            "the parameters were returned unchanged": params[i],
        })
    t = new_state["t"]
    if not isinstance(t, (int, np.integer, float)) or t != expected_state["t"]:
        hint = (" — t was not incremented: count this step, t = state['t'] + 1, and store it"
                if t == state.get("t", 0) else "")
        fail(f"{who}: state['t'] should be {expected_state['t']} after this step, got {t!r}{hint}")
    for key in ("v", "s"):
        for i, want in enumerate(expected_state[key]):
            checks.expect_array(new_state[key][i], want, f"{who}: state['{key}'][{i}]", rtol=rtol, atol=1e-12,
                                mistakes={label: var[1][key][i] for label, var in variants.items()})
    return expected_params, expected_state


def _adam_problem(seed: int, scale: float = 1.0) -> tuple[list, list]:
    """Parameters of three shapes (a weight matrix, a bias vector, a BatchNorm-like (1, n)), and gradients."""
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (4,), (1, 2)]
    params = [rng.normal(0.0, 1.0, shape) for shape in shapes]
    grads = [scale * rng.normal(0.0, 1.0, shape) for shape in shapes]
    return params, grads


def check_adam_step(adam_step: Callable) -> None:
    hyper = {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "epsilon": 0.3}
    who = "adam_step(params, grads, state, learning_rate=0.02, beta1=0.8, beta2=0.95, epsilon=0.3)"
    # Three steps from the empty state, each from the expected state of the step before.
    params, grads = _adam_problem(1204)
    state: dict = {}
    for step in range(1, 4):
        label = f"{who}, step {step} " + ("from the empty state {}" if step == 1 else f"(state['t'] = {step - 1})")
        params, state = _check_adam_once(adam_step, label, params, grads, state, hyper)
        grads = [0.5 * g[::-1] if g.ndim == 1 else -0.7 * g for g in grads]  # a different gradient each step
    # From a state with nonzero moments, t = 5.
    rng = np.random.default_rng(1205)
    params, grads = _adam_problem(1206)
    state = {"t": 5, "v": [rng.normal(0.0, 0.5, p.shape) for p in params],
             "s": [rng.uniform(0.1, 1.0, p.shape) for p in params]}
    _check_adam_once(adam_step, f"{who} from a state with t = 5", params, grads, state, hyper)
    # The defaults, with gradients near 1e-7 so that epsilon = 1e-8 matters, and t = 2 with a nonzero
    # state so that both betas do (from the empty state the bias correction cancels them).
    defaults = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    params, grads = _adam_problem(1207, scale=1e-7)
    state = {"t": 2, "v": [1e-7 * rng.normal(0.0, 1.0, p.shape) for p in params],
             "s": [1e-14 * rng.uniform(0.5, 2.0, p.shape) for p in params]}
    _check_adam_once(adam_step, "adam_step(params, grads, state) with the default learning_rate=1e-3, beta1=0.9, "
                     "beta2=0.999, epsilon=1e-8", params, grads, state, defaults, defaults=True, rtol=1e-6)
