import numpy as np
import pytest

from dlutils import checks
from dlutils.checks import CheckFailure

rng = np.random.default_rng(0)
W = rng.standard_normal((3, 2))
b = rng.standard_normal((3, 1))


def failure(check, *args, **kwargs):
    with pytest.raises(CheckFailure) as err:
        check(*args, **kwargs)
    return str(err.value)


def test_check_failure_is_an_assertion_error():
    assert issubclass(CheckFailure, AssertionError)


# --- expect_array ---------------------------------------------------------------


def test_expect_array_passes_on_right_values():
    checks.expect_array(W.copy(), W, "W1")
    checks.expect_array(W + 1e-12, W, "W1")


def test_expect_array_none_and_non_arrays():
    assert "returned None" in failure(checks.expect_array, None, W, "W1")
    assert "forget `return`" in failure(checks.expect_array, None, W, "W1")
    message = failure(checks.expect_array, W.tolist(), W, "W1")
    assert "got list" in message and "np.array" in message
    assert "tuple of 2" in failure(checks.expect_array, (W, b), W, "W1")


def test_expect_array_shape_diagnoses():
    message = failure(checks.expect_array, W.T, W, "W1")
    assert message.startswith("W1: expected shape (3, 2), got (2, 3)") and "transposed" in message
    message = failure(checks.expect_array, b.ravel(), b, "db1")
    assert "expected shape (3, 1), got (3,)" in message and "keepdims=True" in message
    message = failure(checks.expect_array, b.ravel() + b, b, "db1")  # (3,) + (3, 1) -> (3, 3)
    assert "broadcast" in message and "(3,)" in message
    row = np.ones((1, 4))
    assert "reshape(1, -1)" in failure(checks.expect_array, row.ravel(), row, "Y")


def test_expect_array_dtype_and_non_finite():
    message = failure(checks.expect_array, np.zeros((3, 2), dtype=int), np.zeros((3, 2)), "W1")
    assert "float" in message and "int64" in message
    bad = W.copy()
    bad[1, 0] = np.nan
    bad[2, 1] = np.inf
    message = failure(checks.expect_array, bad, W, "A")
    assert "2 NaN/inf" in message and "(1, 0)" in message


def test_expect_array_value_diagnoses():
    message = failure(checks.expect_array, W + 1e-3, W, "dW1")
    assert "max abs error 0.001" in message and "index (0, 0)" in message
    assert f"expected {W[0, 0]:.4g}, got {W[0, 0] + 1e-3:.4g}" in message
    assert "Hint" not in message
    assert "sign is flipped" in failure(checks.expect_array, -W, W, "dW1")
    message = failure(checks.expect_array, W / 4, W, "dW1")
    assert "off by a factor of 0.25" in message
    assert "factor of 6" in failure(checks.expect_array, 6 * W, W, "dW1")
    square = rng.standard_normal((3, 3))
    assert "transpose" in failure(checks.expect_array, square.T, square, "W2")
    assert "all zeros" in failure(checks.expect_array, np.zeros_like(W), W, "W1")
    message = failure(checks.expect_array, (W + 1e-3).astype(np.float32), W, "dW1")
    assert "float32" in message


def test_expect_array_names_known_mistakes():
    mistakes = {"scale 10 instead of sqrt(2 / n_{l-1})": 10 * W, "transposed weights": W.T}
    message = failure(checks.expect_array, 10 * W, W, "W1", mistakes=mistakes)
    assert "this looks like: scale 10 instead of sqrt(2 / n_{l-1})" in message
    message = failure(checks.expect_array, W.T, W, "W1", mistakes=mistakes)
    assert "this looks like: transposed weights" in message
    assert "this looks like" not in failure(checks.expect_array, W + 1, W, "W1", mistakes=mistakes)


# --- expect_dict_of_arrays -------------------------------------------------------


def test_expect_dict_of_arrays():
    expected = {"W1": W, "b1": b}
    checks.expect_dict_of_arrays({"W1": W.copy(), "b1": b.copy()}, expected, "parameters")
    assert "returned None" in failure(checks.expect_dict_of_arrays, None, expected, "parameters")
    assert "got list" in failure(checks.expect_dict_of_arrays, [W, b], expected, "parameters")
    assert "missing key(s) 'b1'" in failure(checks.expect_dict_of_arrays, {"W1": W}, expected, "parameters")
    message = failure(checks.expect_dict_of_arrays, {"W1": W, "b1": b, "W2": W}, expected, "parameters")
    assert "unexpected key(s) 'W2'" in message
    message = failure(checks.expect_dict_of_arrays, {"W1": W, "b1": b}, {"dW1": W, "db1": b}, "grads")
    assert "'dW1'" in message and "keyed 'dW1'" in message
    message = failure(checks.expect_dict_of_arrays, {"W1": W, "b1": b.ravel()}, expected, "parameters")
    assert message.startswith('parameters["b1"]: expected shape (3, 1), got (3,)')


def test_expect_dict_of_arrays_names_mistakes():
    expected = {"W1": W, "b1": b}
    wrong = {"W1": W + 0.1 * W, "b1": b}
    message = failure(checks.expect_dict_of_arrays, dict(wrong), expected, "parameters",
                      mistakes={"added the gradient instead of subtracting it": wrong})
    assert 'parameters["W1"]' in message and "this looks like: added the gradient" in message


# --- expect_scalar ------------------------------------------------------------------


def test_expect_scalar_accepts_numbers():
    for value in (0.5, np.float64(0.5), np.array(0.5), np.float32(0.5)):
        checks.expect_scalar(value, 0.5, "cost")
    checks.expect_scalar(3, 3.0, "n")


def test_expect_scalar_failures():
    assert "returned None" in failure(checks.expect_scalar, None, 0.5, "cost")
    message = failure(checks.expect_scalar, np.array([[0.5]]), 0.5, "cost")
    assert "array of shape (1, 1)" in message and "float(" in message
    assert "got str" in failure(checks.expect_scalar, "0.5", 0.5, "cost")
    assert "got bool" in failure(checks.expect_scalar, True, 1.0, "flag")
    assert "sign is flipped" in failure(checks.expect_scalar, -0.6931, 0.6931, "cost", rtol=1e-3)
    assert "factor of 2" in failure(checks.expect_scalar, 1.0, 0.5, "cost")
    message = failure(checks.expect_scalar, 0.51, 0.5, "cost")
    assert "expected 0.5, got 0.51" in message and "factor" not in message
    assert "got nan" in failure(checks.expect_scalar, float("nan"), 0.5, "cost")
    message = failure(checks.expect_scalar, 0.7, 0.5, "cost", mistakes={"forgot the 1/m": 0.7})
    assert "this looks like: forgot the 1/m" in message


# --- small checks ---------------------------------------------------------------------


def test_expect_shape():
    checks.expect_shape(W, (3, 2), "W1")
    checks.expect_shape(W, (None, 2), "W1")
    assert "returned None" in failure(checks.expect_shape, None, (3, 2), "W1")
    message = failure(checks.expect_shape, W, (None, 3), "W1")
    assert "expected shape (any, 3), got (3, 2)" in message
    assert "keepdims" in failure(checks.expect_shape, b.ravel(), (3, 1), "b1")
    assert "transposed" in failure(checks.expect_shape, W.T, (3, 2), "W1")


def test_expect_dtype_float():
    checks.expect_dtype_float(W, "W1")
    assert "got dtype int64" in failure(checks.expect_dtype_float, np.zeros(3, dtype=np.int64), "W1")
    assert "float64, got float32" in failure(checks.expect_dtype_float, W.astype(np.float32), "W1")
    assert "got list" in failure(checks.expect_dtype_float, [1.0], "W1")


def test_expect_zeros():
    checks.expect_zeros(np.zeros((3, 1)), "b1")
    message = failure(checks.expect_zeros, b, "b1")
    assert "3 nonzero" in message and f"{np.max(np.abs(b)):.4g}" in message


def test_expect_unchanged():
    before = W.copy()
    checks.expect_unchanged(before, W, "theta")
    assert "modified its input theta in place" in failure(checks.expect_unchanged, before, 2 * W, "theta")
    params = {"W1": W, "b1": b}
    snapshot = {k: v.copy() for k, v in params.items()}
    checks.expect_unchanged(snapshot, params, "parameters")
    changed = dict(params, b1=b + 1)
    assert "parameters in place" in failure(checks.expect_unchanged, snapshot, changed, "parameters")


# --- expect_statistics -------------------------------------------------------------------


def test_expect_statistics_passes_for_a_right_draw():
    n_prev = 50
    for seed in range(5):
        samples = np.random.default_rng(seed).standard_normal((100, n_prev)) * np.sqrt(2 / n_prev)
        checks.expect_statistics(samples, "W1", mean=0.0, var=2 / n_prev)
    small = np.random.default_rng(1).standard_normal(50)  # few samples: the tolerance widens
    checks.expect_statistics(small, "x", mean=0.0, var=1.0)


def test_expect_statistics_names_the_wrong_scale():
    n_prev = 50
    xavier = np.random.default_rng(0).standard_normal((100, n_prev)) * np.sqrt(1 / n_prev)
    alternatives = {"1/n_{l-1} (Xavier) instead of 2/n_{l-1} (He)": 1 / n_prev, "scale 10": 100.0}
    message = failure(checks.expect_statistics, xavier, "W1", mean=0.0, var=2 / n_prev, alternatives=alternatives)
    assert "sample variance" in message and "this looks like: 1/n_{l-1} (Xavier)" in message
    message = failure(checks.expect_statistics, 3 * xavier, "W1", mean=0.0, var=2 / n_prev, alternatives=alternatives)
    assert "this looks like" not in message and "× the expected variance" in message


def test_expect_statistics_other_failures():
    assert "all 100 values are equal" in failure(checks.expect_statistics, np.zeros(100), "W1", var=0.04)
    shifted = np.random.default_rng(0).standard_normal(10000) + 0.2
    assert "sample mean" in failure(checks.expect_statistics, shifted, "x", mean=0.0)
    assert "returned None" in failure(checks.expect_statistics, None, "x", mean=0.0)


def test_passed_prints_one_line(capsys):
    checks.passed("initialize_he")
    assert capsys.readouterr().out == "✓ initialize_he: all visible checks passed\n"


# --- expect_parameters -------------------------------------------------------------------

def _params(dims):
    return {k: v for l in range(1, len(dims))
            for k, v in ((f"W{l}", np.ones((dims[l], dims[l - 1]))), (f"b{l}", np.zeros((dims[l], 1))))}


def test_expect_parameters_accepts_course_shapes():
    checks.expect_parameters(_params([3, 2, 1]), [3, 2, 1], "p")


def test_expect_parameters_diagnoses():
    p = _params([3, 2, 1])
    assert "did you forget `return`" in failure(checks.expect_parameters, None, [3, 2, 1], "p")
    assert "W1..W2" in failure(checks.expect_parameters, {k: v for k, v in p.items() if k != "W2"}, [3, 2, 1], "p")
    zero_based = {k[0] + str(int(k[1:]) - 1): v for k, v in p.items()}
    assert "numbered from 1" in failure(checks.expect_parameters, zero_based, [3, 2, 1], "p")
    assert "transposed" in failure(checks.expect_parameters, {**p, "W1": p["W1"].T}, [3, 2, 1], "p")
    assert "column vectors" in failure(checks.expect_parameters, {**p, "b1": np.zeros(2)}, [3, 2, 1], "p")
    assert "float" in failure(checks.expect_parameters, {**p, "b2": np.zeros((1, 1), int)}, [3, 2, 1], "p")
    assert "NaN" in failure(checks.expect_parameters, {**p, "W2": np.full((1, 2), np.nan)}, [3, 2, 1], "p")
