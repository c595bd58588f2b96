import numpy as np
import pytest
from _numgrad import numerical_gradient, rel_error

from dlutils import layers, model

LAYER_DIMS = [3, 5, 4, 1]


def make_parameters(layer_dims, rng, scale=1.0):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = scale * rng.standard_normal((layer_dims[l], layer_dims[l - 1]))
        parameters[f"b{l}"] = 0.1 * rng.standard_normal((layer_dims[l], 1))
    return parameters


@pytest.fixture
def problem():
    rng = np.random.default_rng(5)  # all |Z| > 0.05: finite differences stay off the ReLU kink
    X = rng.standard_normal((3, 6))
    Y = (rng.random((1, 6)) > 0.5).astype(int)
    return X, Y, make_parameters(LAYER_DIMS, rng)


def fixed_mask(A, keep_prob, rng):
    # A mask that depends only on the shape, so finite differences see the same network.
    D = (np.arange(A.size).reshape(A.shape) % 3 != 0).astype(float)
    return A * D / keep_prob, D


def scaled_backward(dA, D, keep_prob):
    return dA * D / keep_prob


def assert_backward_matches_numeric(X, Y, parameters, hidden_activation, tol, dropout=None):
    rng = np.random.default_rng(0)
    AL, caches = model.L_model_forward(X, parameters, hidden_activation, dropout, rng)
    if hidden_activation == "relu":
        Zs = [cache.activation.Z for cache in caches[:-1]]
        assert min(np.min(np.abs(Z)) for Z in Zs) > 1e-3, "fixture too close to the ReLU kink"
    grads = model.L_model_backward(AL, Y, caches)
    assert list(grads) == [f"{p}{l}" for l in range(1, len(caches) + 1) for p in ("dW", "db")]

    def J():
        return model.compute_cost(model.L_model_forward(X, parameters, hidden_activation, dropout, rng)[0], Y)

    for key, value in parameters.items():
        assert grads["d" + key].shape == value.shape
        assert rel_error(grads["d" + key], numerical_gradient(J, value)) < tol, key


@pytest.mark.parametrize("hidden_activation, tol", [("relu", 1e-5), ("tanh", 1e-7), ("sigmoid", 1e-7)])
def test_L_model_backward_matches_finite_differences(problem, hidden_activation, tol):
    X, Y, parameters = problem
    assert_backward_matches_numeric(X, Y, parameters, hidden_activation, tol)


@pytest.mark.parametrize("hidden_activation, tol", [("relu", 1e-5), ("tanh", 1e-7)])
def test_L_model_backward_with_dropout_matches_finite_differences(problem, hidden_activation, tol):
    X, Y, parameters = problem
    dropout = model.Dropout(keep_prob=0.8, forward=fixed_mask, backward=scaled_backward)
    assert_backward_matches_numeric(X, Y, parameters, hidden_activation, tol, dropout)


def test_dropout_touches_hidden_layers_only(problem):
    X, Y, parameters = problem
    seen, rng = [], np.random.default_rng(0)

    def forward(A, keep_prob, rng_arg):
        seen.append((A.shape, keep_prob, rng_arg))
        return fixed_mask(A, keep_prob, rng_arg)

    AL, caches = model.L_model_forward(X, parameters, dropout=model.Dropout(0.5, forward, scaled_backward), rng=rng)
    assert [shape for shape, _, _ in seen] == [(5, 6), (4, 6)]
    assert all(kp == 0.5 and r is rng for _, kp, r in seen)
    assert caches[-1].dropout is None
    np.testing.assert_array_equal(caches[0].dropout.D, fixed_mask(np.ones((5, 6)), 0.5, None)[1])
    # the next layer reads the dropped activation
    np.testing.assert_allclose(caches[1].linear.A_prev, caches[0].activation.A * caches[0].dropout.D / 0.5)
    AL_plain, _ = model.L_model_forward(X, parameters)
    assert not np.allclose(AL, AL_plain)


def test_dropout_needs_an_rng(problem):
    X, _, parameters = problem
    with pytest.raises(ValueError, match="rng"):
        model.L_model_forward(X, parameters, dropout=model.Dropout(0.5, fixed_mask, scaled_backward))


def test_forward_matches_manual_computation_and_caches(problem):
    X, _, p = problem
    AL, caches = model.L_model_forward(X, p, hidden_activation="tanh")
    A1 = np.tanh(p["W1"] @ X + p["b1"])
    A2 = np.tanh(p["W2"] @ A1 + p["b2"])
    np.testing.assert_allclose(AL, 1 / (1 + np.exp(-(p["W3"] @ A2 + p["b3"]))), rtol=1e-12)
    assert [c.activation_name for c in caches] == ["tanh", "tanh", "sigmoid"]
    assert all(isinstance(c, layers.LayerCache) for c in caches)


def test_output_gradient_is_finite_when_the_sigmoid_saturates():
    X = np.array([[1.0, -1.0, 1.0, -1.0]])
    Y = np.array([[1, 0, 0, 1]])  # two right and two badly wrong
    parameters = {"W1": np.array([[1000.0]]), "b1": np.zeros((1, 1))}
    AL, caches = model.L_model_forward(X, parameters)
    np.testing.assert_array_equal(AL, [[1.0, 0.0, 1.0, 0.0]])  # exactly saturated
    grads = model.L_model_backward(AL, Y, caches)
    # dZ = AL - Y = [0, 0, 1, -1]; dW = dZ X^T / m
    np.testing.assert_allclose(grads["dW1"], [[(0 + 0 + 1 + 1) / 4]])
    np.testing.assert_allclose(grads["db1"], [[0.0]])
    cost = model.compute_cost(AL, Y)
    assert np.isfinite(cost) and cost == pytest.approx(-2 * np.log(1e-15) / 4, rel=1e-4)


def test_compute_cost_value():
    AL, Y = np.array([[0.8, 0.3]]), np.array([[1, 0]])
    cost = model.compute_cost(AL, Y)
    assert isinstance(cost, float)
    assert cost == pytest.approx(-(np.log(0.8) + np.log(0.7)) / 2, rel=1e-14)


def test_predict_and_accuracy(problem):
    X, Y, parameters = problem
    Y_pred = model.predict(X, parameters)
    AL, _ = model.L_model_forward(X, parameters)
    assert Y_pred.shape == (1, 6) and np.issubdtype(Y_pred.dtype, np.integer)
    np.testing.assert_array_equal(Y_pred, (AL > 0.5).astype(int))
    assert model.accuracy(np.array([[1, 0, 1, 1]]), np.array([[1, 1, 1, 0]])) == 0.5
    assert isinstance(model.accuracy(Y, Y), float) and model.accuracy(Y, Y) == 1.0


def test_layer_statistics_shapes_and_gradients(problem):
    X, Y, parameters = problem
    stats = model.layer_statistics(X, Y, parameters, hidden_activation="tanh")
    assert [A.shape for A in stats.activations] == [(5, 6), (4, 6), (1, 6)]
    grads = model.L_model_backward(*_forward_for_backward(X, Y, parameters))
    for l, dW in enumerate(stats.weight_gradients, start=1):
        np.testing.assert_allclose(dW, grads[f"dW{l}"])
    assert [dA.shape for dA in stats.activation_gradients] == [(5, 6), (4, 6), (1, 6)]

    # dA{l} is m times the gradient of the mean cost with respect to A{l}
    m = X.shape[1]
    for l in (1, 2):
        A_l = stats.activations[l - 1].copy()

        def J():
            A = A_l
            for k in range(l + 1, 4):
                act = "tanh" if k < 3 else "sigmoid"
                A, _ = layers.linear_activation_forward(A, parameters[f"W{k}"], parameters[f"b{k}"], act)
            return model.compute_cost(A, Y)

        assert rel_error(stats.activation_gradients[l - 1], m * numerical_gradient(J, A_l)) < 1e-7


def _forward_for_backward(X, Y, parameters):
    AL, caches = model.L_model_forward(X, parameters, "tanh")
    return AL, Y, caches


# --- validation ---------------------------------------------------------------


def test_one_dimensional_bias_is_named(problem):
    X, _, parameters = problem
    parameters["b1"] = parameters["b1"].ravel()
    with pytest.raises(ValueError) as err:
        model.L_model_forward(X, parameters)
    assert str(err.value) == "b1: expected shape (5, 1), got (5,) — biases must be 2-D column vectors"


def test_parameter_keys_and_chain_are_checked(problem):
    X, _, parameters = problem
    broken = dict(parameters)
    del broken["b2"]
    with pytest.raises(ValueError, match="missing key.*b2"):
        model.L_model_forward(X, broken)
    broken = dict(parameters, W2=np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"W2: expected shape \(4, 5\), got \(4, 3\)"):
        model.L_model_forward(X, broken)
    with pytest.raises(ValueError, match=r"W1: expected shape \(5, 2\), got \(5, 3\)"):
        model.L_model_forward(X[:2], parameters)


def test_labels_are_checked(problem):
    X, Y, parameters = problem
    AL, caches = model.L_model_forward(X, parameters)
    with pytest.raises(ValueError, match=r"Y: expected shape \(1, 6\), got \(6,\) — .*reshape"):
        model.L_model_backward(AL, Y.ravel(), caches)
    with pytest.raises(ValueError, match=r"Y: expected shape \(1, 6\), got \(6, 1\) — .*transposed"):
        model.compute_cost(AL, Y.T)
    with pytest.raises(ValueError, match="Y: expected binary labels"):
        model.compute_cost(AL, 2 * Y + 1)
    with pytest.raises(ValueError, match="hidden_activation"):
        model.L_model_forward(X, parameters, hidden_activation="elu")
