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
