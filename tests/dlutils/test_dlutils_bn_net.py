"""dlutils.bn_net: the batch-norm network that runs the student's functions, and its gradient check."""
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from dlutils import bn_net, data, multiclass
from dlutils.checks import CheckFailure
from reference_functions import load_reference_functions

from _numgrad import numerical_gradient, rel_error


# The reference solutions of 10_batch_norm (the graded functions are the student's; dlutils holds none).
_REFERENCE = load_reference_functions(Path(__file__).resolve().parents[2] / "solutions" / "week3" / "10_batch_norm.ipynb")
forward, backward = _REFERENCE["batchnorm_forward"], _REFERENCE["batchnorm_backward"]
BN = bn_net.BatchNorm(forward, backward, _REFERENCE["update_running_stats"], _REFERENCE["batchnorm_inference"])


@pytest.fixture
def rng():
    return np.random.default_rng(4)


def test_batch_statistics_is_population_over_examples():
    mu, var = bn_net.batch_statistics(np.array([[1.0, 2.0, 3.0, 6.0], [100.0, 300.0, 200.0, 200.0]]))
    np.testing.assert_allclose(mu, [[3.0], [200.0]])
    np.testing.assert_allclose(var, [[3.5], [5000.0]])
    with pytest.raises(ValueError, match="Z: expected a 2-D array"):
        bn_net.batch_statistics(np.ones(3))


def test_initialize_shapes_with_and_without_batch_norm(rng):
    with_bn = bn_net.initialize([5, 4, 3, 2], rng, weight_scale=0.1, batch_norm=True)
    assert sorted(with_bn) == sorted(["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"])
    assert with_bn["W2"].shape == (3, 4) and with_bn["gamma2"].shape == (3, 1) and with_bn["b3"].shape == (2, 1)
    assert np.all(with_bn["gamma1"] == 1) and np.all(with_bn["beta1"] == 0)
    plain = bn_net.initialize([5, 4, 3, 2], rng, weight_scale=0.1, batch_norm=False)
    assert sorted(plain) == sorted(["W1", "b1", "W2", "b2", "W3", "b3"])
    big = bn_net.initialize([400, 300, 2], np.random.default_rng(0), weight_scale=0.3, batch_norm=False)
    assert abs(big["W1"].std() - 0.3) < 0.01


@pytest.mark.parametrize("kwargs, words", [
    (dict(layer_dims=[5, 2], weight_scale=0.1), "at least one hidden layer"),
    (dict(layer_dims=[5, 3, 2], weight_scale=0.0), "weight_scale"),
])
def test_initialize_refuses_bad_arguments(kwargs, words, rng):
    with pytest.raises(ValueError, match=words):
        bn_net.initialize(kwargs["layer_dims"], rng, weight_scale=kwargs["weight_scale"], batch_norm=True)


def _cost(parameters, X, Y, bn):
    scores, _ = bn_net.forward(X, parameters, bn)
    return multiclass.cross_entropy(multiclass.softmax(scores), Y)


@pytest.mark.parametrize("bn", [BN, None], ids=["with batch norm", "without"])
def test_backward_matches_centred_differences(bn, rng):
    X = rng.standard_normal((4, 9))
    Y = multiclass.one_hot(rng.integers(0, 3, 9), 3)
    parameters = bn_net.initialize([4, 5, 5, 3], rng, weight_scale=0.7, batch_norm=bn is not None)
    for key in parameters:  # nonzero gamma, beta and biases, so every term matters
        if not key.startswith("W"):
            parameters[key] = parameters[key] + 0.3 * rng.standard_normal(parameters[key].shape)
    scores, record = bn_net.forward(X, parameters, bn)
    grads = bn_net.backward(multiclass.cross_entropy_backward(multiclass.softmax(scores), Y), parameters, record, bn)
    assert sorted(grads) == sorted("d" + k for k in parameters)
    for key, value in parameters.items():
        numeric = numerical_gradient(lambda: _cost(parameters, X, Y, bn), value)
        assert rel_error(grads["d" + key], numeric) < 1e-5, key  # ReLU kinks: 1e-5, not 1e-7


def test_training_with_batch_norm_learns_digits_and_tracks_statistics():
    X, y = data.digits()
    X, y = X[:, :600], y[:600]
    result = bn_net.train(X, y, [64, 16, 16, 10], rng=np.random.default_rng(0), bn=BN, weight_scale=0.01,
                          num_epochs=4, mini_batch_size=32, watch_layer=2, probe=X[:, :50], watch_every=5)
    assert result.costs[-1] < 0.5 * result.costs[0]
    accuracy = multiclass.accuracy(bn_net.predict(X, result.parameters, BN, statistics=result.running), y)
    assert accuracy > 0.8
    population = bn_net.population_statistics(X, result.parameters, BN)
    assert sorted(population) == sorted(result.running) == ["mean1", "mean2", "var1", "var2"]
    # the running averages estimate the whole-set statistics (the last updates weigh most)
    np.testing.assert_allclose(result.running["var1"], population["var1"], rtol=0.5)
    assert result.watched.shape == (len(result.watched_steps), 5)
    assert np.all(np.diff(result.watched, axis=1) >= 0)  # percentiles in order


def test_training_is_reproducible_and_without_batch_norm_uses_biases():
    X, y = data.digits()
    X, y = X[:, :200], y[:200]
    runs = [bn_net.train(X, y, [64, 8, 10], rng=np.random.default_rng(1), weight_scale=0.3, num_epochs=2)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0].costs, runs[1].costs)
    assert "b1" in runs[0].parameters and runs[0].running == {}


def test_diverging_run_reports_nan_costs():
    X, y = data.digits()
    result = bn_net.train(X[:, :300], y[:300], [64] + [32] * 6 + [10], rng=np.random.default_rng(0),
                          weight_scale=1.0, num_epochs=3)  # as in the notebook: scale 1 without batch norm diverges
    assert np.isnan(result.costs[-1])
    assert np.all(bn_net.predict(X[:, :5], result.parameters) == -1)


def test_single_example_with_batch_statistics_gives_beta():
    rng = np.random.default_rng(2)
    parameters = bn_net.initialize([3, 4, 2], rng, weight_scale=1.0, batch_norm=True)
    parameters["beta1"] = rng.standard_normal((4, 1))
    _, record = bn_net.forward(rng.standard_normal((3, 1)), parameters, BN)
    np.testing.assert_allclose(record["Z_tilde"][0], parameters["beta1"])


def test_forward_and_train_name_bad_arguments(rng):
    parameters = bn_net.initialize([3, 4, 2], rng, weight_scale=1.0, batch_norm=True)
    with pytest.raises(ValueError, match="bn: these parameters have gamma"):
        bn_net.forward(np.ones((3, 2)), parameters)
    with pytest.raises(ValueError, match="statistics"):
        bn_net.forward(np.ones((3, 2)), parameters, BN, statistics="running")
    broken = BN._replace(forward=lambda Z, gamma, beta, epsilon: Z)
    with pytest.raises(ValueError, match=r"bn.forward: expected the tuple \(Z_tilde, cache\)"):
        bn_net.forward(np.ones((3, 2)), parameters, broken)
    with pytest.raises(ValueError, match="y: expected 5 labels"):
        bn_net.train(np.ones((3, 5)), np.zeros(4), [3, 4, 2], rng=rng, weight_scale=1.0)
    with pytest.raises(ValueError, match="watch_layer"):
        bn_net.train(np.ones((3, 5)), np.zeros(5), [3, 4, 2], rng=rng, weight_scale=1.0, watch_layer=2,
                     probe=np.ones((3, 2)))


# ------------------------------------------------------------ the gradient check


def test_numerical_gradients_match_the_analytic_backward(rng):
    for Z in (rng.standard_normal((3, 5)), 5 * rng.standard_normal((4, 6)) + 12, 1e-4 * rng.standard_normal((3, 4))):
        gamma, beta = rng.uniform(0.5, 2, (Z.shape[0], 1)), rng.standard_normal((Z.shape[0], 1))
        dZ_tilde = rng.standard_normal(Z.shape)
        _, cache = forward(Z, gamma, beta)
        for got, numeric in zip(backward(dZ_tilde, cache), bn_net.numerical_gradients(forward, Z, gamma, beta, dZ_tilde)):
            assert bn_net.relative_error(got, numeric) < 1e-8


def test_expect_gradients_passes_a_right_backward_and_names_a_wrong_one(rng):
    Z, gamma, beta, dZ_tilde = rng.standard_normal((3, 5)), np.ones((3, 1)), np.zeros((3, 1)), rng.standard_normal((3, 5))
    errors = bn_net.expect_gradients(forward, backward, Z, gamma, beta, dZ_tilde)
    assert max(errors.values()) < 1e-7

    def constants(dZ_tilde, cache):  # treats mu and var as constants
        Z_hat, gamma, inv_std = cache
        return gamma * inv_std * dZ_tilde, (dZ_tilde * Z_hat).sum(1, keepdims=True), dZ_tilde.sum(1, keepdims=True)

    with pytest.raises(CheckFailure, match="dZ differs from centred differences"):
        bn_net.expect_gradients(forward, constants, Z, gamma, beta, dZ_tilde)

    def wrong_axis(dZ_tilde, cache):
        dZ, dgamma, dbeta = backward(dZ_tilde, cache)
        return dZ, dgamma, dZ_tilde.sum(axis=0, keepdims=True)

    with pytest.raises(CheckFailure, match=r"(?s)dbeta should have shape \(3, 1\).*axis=1"):
        bn_net.expect_gradients(forward, wrong_axis, Z, gamma, beta, dZ_tilde)


class Cache(NamedTuple):
    Z_hat: np.ndarray
    gamma: np.ndarray
    inv_std: np.ndarray


def test_expect_gradients_hands_the_cache_over_as_plain_data(rng):
    def forward_named(Z, gamma, beta, epsilon=1e-8):
        Z_tilde, cache = forward(Z, gamma, beta, epsilon)
        return Z_tilde, Cache(*cache)

    def backward_by_attribute(dZ_tilde, cache):
        return backward(dZ_tilde, (cache.Z_hat, cache.gamma, cache.inv_std))

    Z, dZ_tilde = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    bn_net.expect_gradients(forward_named, backward, Z, np.ones((2, 1)), np.zeros((2, 1)), dZ_tilde)  # by position
    with pytest.raises(CheckFailure, match="unpack it by position"):
        bn_net.expect_gradients(forward_named, backward_by_attribute, Z, np.ones((2, 1)), np.zeros((2, 1)), dZ_tilde)


def test_as_plain_data():
    cache = Cache(np.ones(2), np.zeros(1), np.ones(1))
    plain = bn_net.as_plain_data({"a": cache, "b": [1, 2.0, None]})
    assert type(plain["a"]) is tuple and len(plain["a"]) == 3
    with pytest.raises(ValueError, match="a function"):
        bn_net.as_plain_data((np.ones(2), lambda: None))


def test_relative_error_floor():
    assert bn_net.relative_error(np.zeros(3), 1e-17 * np.ones(3)) == 0.0
    assert bn_net.relative_error(np.ones(3), 2 * np.ones(3)) == pytest.approx(1 / 3)
