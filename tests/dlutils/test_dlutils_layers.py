import warnings

import numpy as np
import pytest
from _numgrad import numerical_gradient, rel_error

from dlutils import layers

SMOOTH, KINKED = 1e-7, 1e-5


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def away_from_kink(Z):
    # Finite differences straddling Z = 0 measure the ReLU kink, not the gradient.
    return Z + 0.3 * np.sign(Z)


# --- linear -------------------------------------------------------------------


def test_linear_forward_values_and_cache(rng):
    A_prev, W, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    Z, cache = layers.linear_forward(A_prev, W, b)
    assert Z.shape == (5, 4)
    np.testing.assert_allclose(Z, W @ A_prev + b)
    assert isinstance(cache, layers.LinearCache)
    assert cache.A_prev is A_prev and cache.W is W and cache.b is b


def test_linear_backward_matches_finite_differences(rng):
    A_prev, W, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    dZ = rng.standard_normal((5, 4))
    m = A_prev.shape[1]
    _, cache = layers.linear_forward(A_prev, W, b)
    dA_prev, dW, db = layers.linear_backward(dZ, cache)

    # Course convention: dW and db are averaged over m, dA_prev is not.
    def J():
        return np.sum(layers.linear_forward(A_prev, W, b)[0] * dZ)

    assert rel_error(dA_prev, numerical_gradient(J, A_prev)) < SMOOTH
    assert rel_error(dW, numerical_gradient(J, W) / m) < SMOOTH
    assert rel_error(db, numerical_gradient(J, b) / m) < SMOOTH
    assert db.shape == (5, 1)


# --- activations --------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activation_backward_matches_finite_differences(rng, name):
    forward = getattr(layers, f"{name}_forward")
    backward = getattr(layers, f"{name}_backward")
    Z = away_from_kink(rng.standard_normal((4, 6)) * 2)
    dA = rng.standard_normal((4, 6))
    A, cache = forward(Z)
    assert isinstance(cache, layers.ActivationCache)
    assert cache.Z is Z and cache.A is A
    dZ = backward(dA, cache)
    numeric = numerical_gradient(lambda: np.sum(forward(Z)[0] * dA), Z)
    assert rel_error(dZ, numeric) < (KINKED if name == "relu" else SMOOTH)


def test_activation_forward_values():
    Z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(layers.relu_forward(Z)[0], [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(layers.sigmoid_forward(Z)[0], 1 / (1 + np.exp(-Z)), rtol=1e-15)
    np.testing.assert_allclose(layers.tanh_forward(Z)[0], np.tanh(Z), rtol=1e-15)


def test_relu_backward_is_zero_where_z_is_not_positive():
    Z = np.array([[-1.0, 0.0, 2.0]])
    dZ = layers.relu_backward(np.ones((1, 3)), layers.relu_forward(Z)[1])
    np.testing.assert_array_equal(dZ, [[0.0, 0.0, 1.0]])


def test_sigmoid_is_stable_for_large_inputs():
    Z = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning fails the test
        A, _ = layers.sigmoid_forward(Z)
    assert np.all(np.isfinite(A)) and np.all((A >= 0) & (A <= 1))
    assert A[0, 0] == 0.0 and A[0, 2] == 0.5 and A[0, 4] == 1.0
    # full relative precision on the negative side, where 1 - sigmoid(40) would round to 0
    assert A[0, 1] == pytest.approx(np.exp(-40.0) / (1 + np.exp(-40.0)), rel=1e-14)
    np.testing.assert_allclose(layers.sigmoid_forward(-Z)[0], 1 - A, atol=1e-16)


# --- linear + activation ------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_linear_activation_backward_matches_finite_differences(rng, activation):
    A_prev, W = rng.standard_normal((3, 5)), rng.standard_normal((4, 3))
    b = rng.standard_normal((4, 1))
    if activation == "relu":
        Z = W @ A_prev + b
        assert np.min(np.abs(Z)) > 1e-3, "fixture too close to the ReLU kink"
    dA = rng.standard_normal((4, 5))
    m = A_prev.shape[1]
    A, cache = layers.linear_activation_forward(A_prev, W, b, activation)
    assert isinstance(cache, layers.LayerCache)
    assert cache.activation_name == activation and cache.dropout is None
    assert cache.linear.W is W and cache.activation.A is A
    dA_prev, dW, db = layers.linear_activation_backward(dA, cache)

    def J():
        return np.sum(layers.linear_activation_forward(A_prev, W, b, activation)[0] * dA)

    tol = KINKED if activation == "relu" else SMOOTH
    assert rel_error(dA_prev, numerical_gradient(J, A_prev)) < tol
    assert rel_error(dW, numerical_gradient(J, W) / m) < tol
    assert rel_error(db, numerical_gradient(J, b) / m) < tol


# --- validation ---------------------------------------------------------------


def test_unknown_activation_lists_the_choices(rng):
    with pytest.raises(ValueError, match="activation") as err:
        layers.linear_activation_forward(np.ones((2, 3)), np.ones((1, 2)), np.ones((1, 1)), "softplus")
    for choice in ("relu", "sigmoid", "tanh", "softplus"):
        assert choice in str(err.value)


def test_one_dimensional_bias_is_refused_with_shapes():
    with pytest.raises(ValueError) as err:
        layers.linear_forward(np.ones((3, 4)), np.ones((5, 3)), np.ones(5))
    message = str(err.value)
    assert message.startswith("b:") and "(5, 1)" in message and "(5,)" in message and "2-D" in message


def test_weight_columns_must_match_inputs():
    with pytest.raises(ValueError) as err:
        layers.linear_forward(np.ones((3, 4)), np.ones((5, 2)), np.ones((5, 1)))
    message = str(err.value)
    assert message.startswith("W:") and "(any, 3)" in message and "(5, 2)" in message


def test_inputs_must_be_2d():
    with pytest.raises(ValueError, match=r"A_prev: expected a 2-D array .*\(4,\)"):
        layers.linear_forward(np.ones(4), np.ones((5, 4)), np.ones((5, 1)))
    with pytest.raises(ValueError, match="Z: expected a 2-D array"):
        layers.relu_forward(np.ones(3))


def test_backward_checks_the_upstream_gradient_shape(rng):
    _, cache = layers.linear_activation_forward(np.ones((3, 4)), np.ones((5, 3)), np.ones((5, 1)), "tanh")
    with pytest.raises(ValueError, match=r"dA: expected shape \(5, 4\), got \(4, 5\)"):
        layers.linear_activation_backward(np.ones((4, 5)), cache)
