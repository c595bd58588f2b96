import numpy as np
import pytest

from dlutils import data, model
from dlutils.train import train

GENERATORS = {
    "circles": (data.circles, 300),
    "moons": (data.moons, 300),
    "flower": (data.flower, 400),
    "spiral": (data.spiral, 300),
    "noisy_overfit": (data.noisy_overfit, 200),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_shapes_labels_and_determinism(name):
    generate, default_m = GENERATORS[name]
    X, Y = generate(rng=np.random.default_rng(0))
    assert X.shape == (2, default_m) and X.dtype == np.float64 and np.all(np.isfinite(X))
    assert Y.shape == (1, default_m) and np.issubdtype(Y.dtype, np.integer)
    assert set(np.unique(Y)) == {0, 1}
    assert 0.3 < Y.mean() < 0.7
    X2, Y2 = generate(rng=np.random.default_rng(0))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(Y, Y2)
    X3, _ = generate(rng=np.random.default_rng(1))
    assert not np.allclose(X, X3)
    X_odd, Y_odd = generate(51, rng=np.random.default_rng(0))
    assert X_odd.shape == (2, 51) and Y_odd.shape == (1, 51)


@pytest.mark.parametrize("name", GENERATORS)
def test_arguments_are_validated(name):
    generate, _ = GENERATORS[name]
    with pytest.raises(ValueError, match="m: expected a positive integer, got 0"):
        generate(0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng: expected an np.random.Generator"):
        generate(10, rng=None)


def test_noise_and_shape_arguments():
    rng = np.random.default_rng(0)
    X, Y = data.circles(400, rng=rng, noise=0.0, factor=0.3)
    radii = np.linalg.norm(X, axis=0)
    np.testing.assert_allclose(radii[Y[0] == 0], 1.0)
    np.testing.assert_allclose(radii[Y[0] == 1], 0.3)
    with pytest.raises(ValueError, match="factor"):
        data.circles(rng=rng, factor=1.5)
    with pytest.raises(ValueError, match="noise"):
        data.moons(rng=rng, noise=-1)
    with pytest.raises(ValueError, match="petals"):
        data.flower(rng=rng, petals=0)


def test_columns_are_shuffled():
    _, Y = data.moons(100, rng=np.random.default_rng(0))
    assert np.count_nonzero(np.diff(Y[0])) > 10  # not 50 zeros then 50 ones


def he_init(layer_dims, rng):
    return {key: value for l in range(1, len(layer_dims)) for key, value in (
        (f"W{l}", rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * np.sqrt(2 / layer_dims[l - 1])),
        (f"b{l}", np.zeros((layer_dims[l], 1))))}


def test_noisy_overfit_lets_a_big_network_overfit():
    rng = np.random.default_rng(0)
    X, Y = data.noisy_overfit(rng=rng)
    X_dev, Y_dev = data.noisy_overfit(1000, rng=rng)
    result = train(X, Y, [2, 64, 32, 1], initialize=he_init, rng=rng, learning_rate=0.3, num_epochs=3000)
    train_acc = model.accuracy(model.predict(X, result.parameters), Y)
    dev_acc = model.accuracy(model.predict(X_dev, result.parameters), Y_dev)
    assert train_acc - dev_acc > 0.05


def test_digits():
    X, y = data.digits()
    assert X.shape == (64, 1797) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.shape == (1797,) and set(np.unique(y)) == set(range(10))
    Xb, Yb = data.digits(binary=(3, 8))
    assert Xb.shape[0] == 64 and Yb.shape == (1, Xb.shape[1])
    assert Xb.shape[1] == np.sum((y == 3) | (y == 8))
    assert set(np.unique(Yb)) == {0, 1}
    np.testing.assert_array_equal(Xb[:, Yb[0] == 1], X[:, y == 8])
    with pytest.raises(ValueError, match="binary"):
        data.digits(binary=(3, 3))
    with pytest.raises(ValueError, match="binary"):
        data.digits(binary=(3, 10))
