"""dlutils.nn.modules and dlutils.nn.course: registration, modes, layers' statistics and conventions, conversions."""

import numpy as np
import pytest

from dlutils import nn


@pytest.fixture
def rng():
    return np.random.default_rng(2)


class TwoLayer(nn.Module):
    def __init__(self, rng):
        super().__init__()
        self.hidden = nn.Linear(3, 4, rng=rng)
        self.scale = nn.Parameter(np.ones(4))
        self.note = "not registered"
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(4, 2, rng=rng))

    def forward(self, x):
        return self.out(self.hidden(x) * self.scale)


def test_registration_order_names_and_sharing(rng):
    model = TwoLayer(rng)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "hidden.weight", "hidden.bias", "out.1.weight", "out.1.bias"]
    assert model.parameters()[0] is model.scale
    assert model.children() == [model.hidden, model.out]
    model.shared = model.hidden  # the same layer twice: its parameters once
    assert len(model.parameters()) == 5
    del model.shared
    model.scale = None  # reassigned to a non-Parameter: no longer registered
    assert [name for name, _ in model.named_parameters()][0] == "hidden.weight"


def test_forgotten_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(2))

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Broken()


def test_train_eval_propagate(rng):
    model = TwoLayer(rng)
    assert model.training and model.out[1].training
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="mode: "):
        model.train("no")


def test_zero_grad_and_backward_through_a_module(rng):
    model = TwoLayer(rng)
    x = nn.Tensor(rng.standard_normal((5, 3)))
    model(x).sum().backward()
    first = model.hidden.weight.grad.copy()
    model(x).sum().backward()
    np.testing.assert_allclose(model.hidden.weight.grad, 2 * first)  # accumulates until zero_grad
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_sequential_indexing_and_errors(rng):
    seq = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.ReLU(), nn.Linear(4, 2, rng=rng))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and seq[-1] is list(seq)[2]
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    assert "(0): Linear(3, 4)" in repr(seq)
    with pytest.raises(ValueError, match=r"modules\[1\]: expected a Module"):
        nn.Sequential(nn.ReLU(), nn.functional.relu)


def test_linear_forward_shapes_and_he_statistics():
    layer = nn.Linear(500, 400, rng=np.random.default_rng(0))
    assert layer.weight.shape == (400, 500) and layer.bias.shape == (400,)
    np.testing.assert_array_equal(layer.bias.data, 0)
    assert layer.weight.data.mean() == pytest.approx(0, abs=3e-3)
    assert layer.weight.data.var() == pytest.approx(2 / 500, rel=0.02)  # He: variance 2 / n_in
    xavier = nn.Linear(500, 400, rng=np.random.default_rng(0), init="xavier")
    assert xavier.weight.data.var() == pytest.approx(1 / 500, rel=0.02)
    np.testing.assert_array_equal(nn.Linear(3, 2, init="zeros").weight.data, 0)
    x = np.random.default_rng(1).standard_normal((7, 500))
    np.testing.assert_allclose(layer(nn.Tensor(x)).data, x @ layer.weight.data.T)


def test_linear_is_drawn_from_rng_only_and_dtype_is_kept():
    a = nn.Linear(4, 3, rng=np.random.default_rng(5))
    b = nn.Linear(4, 3, rng=np.random.default_rng(5), dtype=np.float32)
    np.testing.assert_array_equal(a.weight.data.astype(np.float32), b.weight.data)
    assert b.weight.dtype == np.float32 and b.bias.dtype == np.float32


def test_linear_bad_arguments(rng):
    with pytest.raises(ValueError, match="n_in: "):
        nn.Linear(0, 3, rng=rng)
    with pytest.raises(ValueError, match="rng: "):
        nn.Linear(3, 3)
    with pytest.raises(ValueError, match="init: "):
        nn.Linear(3, 3, rng=rng, init="glorot")
    with pytest.raises(ValueError, match="dtype: "):
        nn.Linear(3, 3, rng=rng, dtype=np.int64)


def test_activation_modules(rng):
    x = rng.standard_normal((3, 4))
    t = nn.Tensor(x)
    np.testing.assert_array_equal(nn.ReLU()(t).data, np.maximum(x, 0))
    np.testing.assert_allclose(nn.Tanh()(t).data, np.tanh(x))
    np.testing.assert_allclose(nn.Sigmoid()(t).data, 1 / (1 + np.exp(-x)))


def test_softmax_cross_entropy_module_trains_a_model(rng):
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = nn.Sequential(nn.Linear(2, 8, rng=rng), nn.ReLU(), nn.Linear(8, 2, rng=rng))
    optimizer = nn.optim.Adam(model.parameters(), learning_rate=0.05)
    loss_fn = nn.SoftmaxCrossEntropy()
    first = loss_fn(model(nn.Tensor(X)), y).item()
    for _ in range(100):
        loss = loss_fn(model(nn.Tensor(X)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.2 * first
    assert (model(nn.Tensor(X)).data.argmax(axis=1) == y).mean() > 0.95


def test_batchnorm1d_running_stats_follow_the_course_momentum(rng):
    bn = nn.BatchNorm1d(3, momentum=0.8)
    np.testing.assert_array_equal(bn.running_mean, 0)
    np.testing.assert_array_equal(bn.running_var, 1)
    expected_mean, expected_var = np.zeros(3), np.ones(3)
    for _ in range(4):
        x = rng.standard_normal((10, 3)) * 3 + 5
        bn(nn.Tensor(x))
        expected_mean = 0.8 * expected_mean + 0.2 * x.mean(axis=0)  # momentum weighs the OLD value
        expected_var = 0.8 * expected_var + 0.2 * x.var(axis=0)  # population variance (ddof = 0)
    np.testing.assert_allclose(bn.running_mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, expected_var, rtol=1e-12)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]  # gamma, beta


def test_batchnorm1d_train_normalizes_eval_uses_running_stats(rng):
    bn = nn.BatchNorm1d(4)
    bn.weight.data[:] = [1.0, 2.0, 3.0, 4.0]
    bn.bias.data[:] = [10.0, 11.0, 12.0, 13.0]
    x = rng.standard_normal((50, 4)) * 5 + 12
    out = bn(nn.Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=0), bn.bias.data, rtol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), bn.weight.data, rtol=1e-6)
    bn.eval()
    stats = bn.running_mean.copy(), bn.running_var.copy()
    out = bn(nn.Tensor(x[:1])).data  # one example works in eval
    np.testing.assert_allclose(out, bn.weight.data * (x[:1] - stats[0]) / np.sqrt(stats[1] + 1e-8) + bn.bias.data)
    np.testing.assert_array_equal(bn.running_mean, stats[0])  # eval does not update


def test_batchnorm1d_bad_arguments():
    for kwargs, name in (({"n": 0}, "n"), ({"n": 3, "momentum": 1.5}, "momentum"),
                         ({"n": 3, "epsilon": -1}, "epsilon"), ({"n": 3, "dtype": np.int32}, "dtype")):
        with pytest.raises(ValueError, match=f"{name}: "):
            nn.BatchNorm1d(**kwargs)
    assert nn.BatchNorm1d(3, dtype=np.float32).running_var.dtype == np.float32


def test_dropout_keeps_with_keep_prob_and_is_identity_in_eval():
    drop = nn.Dropout(0.8, rng=np.random.default_rng(4))
    x = nn.Tensor(np.ones((400, 250)))
    out = drop(x).data
    assert (out != 0).mean() == pytest.approx(0.8, abs=0.01)  # keep_prob KEEPS (PyTorch's p would drop)
    assert out.mean() == pytest.approx(1.0, abs=0.02)  # inverted: the expected value is unchanged
    np.testing.assert_array_equal(out != 0, np.random.default_rng(4).random((400, 250)) < 0.8)  # rng only
    second = drop(x).data
    assert not np.array_equal(second, out)  # a new mask each call
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout(1.0)(x) is x
    for bad in (0, 1.2, True):
        with pytest.raises(ValueError, match="keep_prob: "):
            nn.Dropout(bad, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng: "):
        nn.Dropout(0.5)


def test_sigmoid_cross_entropy_module(rng):
    z, t, mask = rng.standard_normal((4, 3)), rng.integers(0, 2, (4, 3)), rng.integers(0, 2, (4, 3))
    mask[0, 0] = 1
    loss = nn.SigmoidCrossEntropy()(nn.Tensor(z), t, mask)
    assert loss.item() == pytest.approx(nn.functional.sigmoid_cross_entropy(nn.Tensor(z), t, mask).item())


def bn_model(rng, dtype=np.float64):
    return nn.Sequential(nn.Linear(4, 5, rng=rng, dtype=dtype), nn.BatchNorm1d(5, dtype=dtype), nn.ReLU(),
                         nn.Dropout(0.9, rng=rng), nn.Linear(5, 3, rng=rng, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_course_params_round_trip(rng, dtype):
    model = bn_model(rng, dtype)
    params = nn.to_course_params(model)
    assert list(params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2"]
    assert params["W1"].shape == (5, 4) and params["b1"].shape == (5, 1) and params["gamma1"].shape == (5, 1)
    assert params["W2"].shape == (3, 5) and params["b2"].shape == (3, 1)
    assert all(v.dtype == dtype for v in params.values())
    params["W1"][0, 0] = 99.0  # copies: the model is untouched
    assert model[0].weight.data[0, 0] != 99.0
    other = bn_model(np.random.default_rng(9), dtype)
    nn.load_course_params(other, params)
    again = nn.to_course_params(other)
    for key in params:
        np.testing.assert_array_equal(again[key], params[key])


def test_course_params_agree_with_the_course_forward(rng):
    from dlutils import layers

    model = nn.Sequential(nn.Linear(4, 6, rng=rng), nn.ReLU(), nn.Linear(6, 2, rng=rng))
    x = rng.standard_normal((7, 4))
    p = nn.to_course_params(model)
    A1, _ = layers.relu_forward(layers.linear_forward(x.T, p["W1"], p["b1"])[0])
    Z2, _ = layers.linear_forward(A1, p["W2"], p["b2"])
    np.testing.assert_allclose(model(nn.Tensor(x)).data, Z2.T, rtol=1e-12)  # batch first = the course's transpose


def test_load_course_params_errors_name_the_key(rng):
    model = bn_model(rng)
    good = nn.to_course_params(model)
    before = nn.to_course_params(model)
    bad = dict(good, W2=np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"W2: expected shape \(3, 5\), got \(5, 3\)"):
        nn.load_course_params(model, dict(bad, W1=good["W1"] + 1))
    np.testing.assert_array_equal(nn.to_course_params(model)["W1"], before["W1"])  # nothing half-written
    with pytest.raises(ValueError, match="params: missing key.*gamma1"):
        nn.load_course_params(model, {k: v for k, v in good.items() if k != "gamma1"})
    with pytest.raises(ValueError, match="params: unexpected key.*W3"):
        nn.load_course_params(model, dict(good, W3=np.zeros((1, 3))))
    with pytest.raises(ValueError, match="params: expected a dict"):
        nn.load_course_params(model, [1, 2])
    with pytest.raises(ValueError, match="model: "):
        nn.to_course_params(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="model: expected an nn.Module"):
        nn.to_course_params({"W1": 1})
    bias_as_row = dict(good, b1=good["b1"].ravel())  # (n,) accepted too
    nn.load_course_params(model, bias_as_row)


def test_set_num_threads_sets_numpys_blas_threads():
    pytest.importorskip("threadpoolctl")
    before = nn.get_num_threads()
    try:
        nn.set_num_threads(1)
        assert nn.get_num_threads() == 1
        x = np.ones((300, 300))
        np.testing.assert_array_equal(x @ x, np.full((300, 300), 300.0))  # still multiplies
    finally:
        nn.set_num_threads(before)
    assert nn.get_num_threads() == before
    with pytest.raises(ValueError, match="n: "):
        nn.set_num_threads(0)
