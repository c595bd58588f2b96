import warnings

import numpy as np
import pytest

from dlutils import data, model
from dlutils.train import Optimizer, TrainResult, train


def he_init(layer_dims, rng):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters[f"W{l}"] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2 / layer_dims[l - 1])
        parameters[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return parameters


@pytest.fixture
def circles():
    return data.circles(200, rng=np.random.default_rng(0))


def run(X, Y, **kwargs):
    kwargs = {"initialize": he_init, "rng": np.random.default_rng(1), "num_epochs": 20, **kwargs}
    return train(X, Y, [2, 6, 1], **kwargs)


def test_training_lowers_the_cost_and_fits(circles):
    X, Y = circles
    result = train(X, Y, [2, 10, 5, 1], initialize=he_init, rng=np.random.default_rng(1),
                   learning_rate=0.5, num_epochs=2000, record_every=500)
    assert isinstance(result, TrainResult) and result.diverged_at is None
    np.testing.assert_array_equal(result.epochs, [0, 500, 1000, 1500, 1999])
    assert result.costs.shape == (5,)
    assert result.costs[-1] < 0.1 * result.costs[0]
    assert model.accuracy(model.predict(X, result.parameters), Y) > 0.95


def test_first_recorded_cost_is_the_initial_cost(circles):
    X, Y = circles
    result = run(X, Y, num_epochs=3)
    initial = he_init([2, 6, 1], np.random.default_rng(1))
    assert result.costs[0] == pytest.approx(model.compute_cost(model.L_model_forward(X, initial)[0], Y))


def test_default_step_is_plain_gradient_descent(circles):
    X, Y = circles
    result = run(X, Y, num_epochs=1, learning_rate=0.1)
    initial = he_init([2, 6, 1], np.random.default_rng(1))
    AL, caches = model.L_model_forward(X, initial)
    grads = model.L_model_backward(AL, Y, caches)
    for key, value in initial.items():
        np.testing.assert_allclose(result.parameters[key], value - 0.1 * grads["d" + key])


def test_optimizer_hook_gets_state_and_update_count(circles):
    X, Y = circles
    calls = []

    def init(parameters):
        calls.append("init")
        return 0

    def update(parameters, grads, state, t, learning_rate):
        calls.append((t, state, learning_rate))
        return {k: v - learning_rate * grads["d" + k] for k, v in parameters.items()}, state + 1

    run(X, Y, num_epochs=4, learning_rate=0.3, optimizer=Optimizer(init, update))
    assert calls == ["init", (1, 0, 0.3), (2, 1, 0.3), (3, 2, 0.3), (4, 3, 0.3)]


def test_mini_batches_hook_and_cost_average(circles):
    X, Y = circles
    seen_m, seen_t = [], []

    def make_batches(X_, Y_, rng):
        assert isinstance(rng, np.random.Generator)
        return [(X_[:, :50], Y_[:, :50]), (X_[:, 50:], Y_[:, 50:])]  # sizes 50 and 150

    def grads_fn(grads, parameters, m):
        seen_m.append(m)
        return grads

    def update(parameters, grads, state, t, learning_rate):
        seen_t.append(t)
        return parameters, state  # frozen parameters: the epoch cost is easy to predict

    result = run(X, Y, num_epochs=3, make_batches=make_batches, grads_fn=grads_fn,
                 optimizer=Optimizer(lambda p: None, update), record_every=1)
    assert seen_m == [50, 150] * 3 and seen_t == [1, 2, 3, 4, 5, 6]
    p = he_init([2, 6, 1], np.random.default_rng(1))
    cost = lambda a, b: model.compute_cost(model.L_model_forward(X[:, a:b], p)[0], Y[:, a:b])
    np.testing.assert_allclose(result.costs, [(50 * cost(0, 50) + 150 * cost(50, 200)) / 200] * 3)


def test_bad_batches_are_reported(circles):
    X, Y = circles
    with pytest.raises(ValueError, match=r"make_batches: batch 0: Y_batch: expected shape \(1, 200\)"):
        run(X, Y, make_batches=lambda X_, Y_, rng: [(X_, Y_.ravel())])


def test_cost_and_grads_hooks(circles):
    X, Y = circles
    plain = run(X, Y, num_epochs=5, record_every=1)
    seen = []

    def cost_fn(AL, Y_, parameters):
        seen.append(sorted(parameters))
        return model.compute_cost(AL, Y_) + 1.0

    shifted = run(X, Y, num_epochs=5, record_every=1, cost_fn=cost_fn)
    np.testing.assert_allclose(shifted.costs, plain.costs + 1.0)
    assert seen[0] == ["W1", "W2", "b1", "b2"]

    frozen = run(X, Y, num_epochs=5, grads_fn=lambda grads, p, m: {k: 0 * v for k, v in grads.items()})
    initial = he_init([2, 6, 1], np.random.default_rng(1))
    for key in initial:
        np.testing.assert_array_equal(frozen.parameters[key], initial[key])


def test_learning_rate_schedule_is_called_per_epoch(circles):
    X, Y = circles
    epochs = []

    def schedule(epoch):
        epochs.append(epoch)
        return 0.0

    result = run(X, Y, num_epochs=4, learning_rate=schedule)
    assert epochs == [0, 1, 2, 3]
    initial = he_init([2, 6, 1], np.random.default_rng(1))
    for key in initial:
        np.testing.assert_array_equal(result.parameters[key], initial[key])


def test_dropout_is_used_in_training_only(circles):
    X, Y = circles
    shapes = []

    def forward(A, keep_prob, rng):
        shapes.append(A.shape)
        D = rng.random(A.shape) < keep_prob
        return A * D / keep_prob, D

    dropout = model.Dropout(0.8, forward, lambda dA, D, keep_prob: dA * D / keep_prob)
    with_dropout = run(X, Y, num_epochs=3, dropout=dropout, record_every=1)
    assert shapes == [(6, 200)] * 3
    without = run(X, Y, num_epochs=3, record_every=1)
    assert with_dropout.costs[0] != without.costs[0]
    model.predict(X, with_dropout.parameters)
    assert len(shapes) == 3


def test_progress_lines(circles, capsys):
    X, Y = circles
    run(X, Y, num_epochs=25, print_every=10)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  cost")[0] for line in lines] == ["epoch  0/25", "epoch 10/25", "epoch 20/25", "epoch 24/25"]
    assert all(len(line.split("cost ")[1]) == 6 for line in lines)  # e.g. 0.6931


def test_non_finite_cost_stops_cleanly(circles, capsys):
    X, Y = circles
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        result = run(X, Y, num_epochs=500, learning_rate=1e200, record_every=1)
    assert result.diverged_at is not None and result.diverged_at < 499
    assert len(result.costs) == len(result.epochs) == result.diverged_at
    assert np.all(np.isfinite(result.costs))
    assert "training stopped" in capsys.readouterr().out

    costs = iter([0.5, 0.4, float("nan")])
    stopped = run(X, Y, num_epochs=10, record_every=1, cost_fn=lambda AL, Y_, p: next(costs))
    assert stopped.diverged_at == 2
    np.testing.assert_array_equal(stopped.costs, [0.5, 0.4])
    np.testing.assert_array_equal(stopped.epochs, [0, 1])


def test_inputs_are_validated(circles):
    X, Y = circles
    with pytest.raises(ValueError, match=r"layer_dims: expected \[n_x=2, \.\.\., 1\]"):
        train(X, Y, [3, 5, 1], initialize=he_init, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="layer_dims"):
        train(X, Y, [2, 5, 2], initialize=he_init, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"Y: expected shape \(1, 200\), got \(200,\)"):
        train(X, Y.ravel(), [2, 5, 1], initialize=he_init, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng: expected an np.random.Generator"):
        train(X, Y, [2, 5, 1], initialize=he_init, rng=None)
    bad_init = lambda dims, rng: {k: (v.ravel() if k == "b1" else v) for k, v in he_init(dims, rng).items()}
    with pytest.raises(ValueError, match=r"b1: expected shape \(5, 1\), got \(5,\)"):
        train(X, Y, [2, 5, 1], initialize=bad_init, rng=np.random.default_rng(0))
