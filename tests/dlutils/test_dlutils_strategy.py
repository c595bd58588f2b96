"""dlutils.strategy: the mismatched "camera" data, train-dev split, label flips, error tags, model costs,
the masked multi-task network; and tuning.predict."""
import numpy as np
import pytest

from dlutils import data, strategy, tuning


@pytest.fixture(scope="module")
def digits():
    X, y = data.digits()
    return X[:, :300], y[:300]


def test_random_shifts_moves_each_image_by_one_of_the_eight_shifts(digits):
    X, _ = digits
    shifted = strategy.random_shifts(X, np.random.default_rng(0))
    assert shifted.shape == X.shape
    shifts = [(d, r) for d in (-1, 0, 1) for r in (-1, 0, 1) if (d, r) != (0, 0)]
    used = set()
    for j in range(X.shape[1]):
        matches = [s for s in shifts if np.array_equal(shifted[:, j], data.shift_images(X[:, j:j + 1], s)[:, 0])]
        assert matches, f"image {j} is not a one-pixel shift of the original"
        used.update(matches)
    assert len(used) == 8  # every direction occurs among 300 images
    np.testing.assert_array_equal(strategy.random_shifts(X, np.random.default_rng(0)), shifted)


def test_camera_images_are_noisy_clipped_and_reproducible(digits):
    X, _ = digits
    a = strategy.camera_images(X, np.random.default_rng(1), noise=0.1)
    b = strategy.camera_images(X, np.random.default_rng(1), noise=0.1)
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    clean = strategy.camera_images(X, np.random.default_rng(1), noise=0.0)
    inside = (clean > 0.2) & (clean < 0.8)  # away from the clipping edges the noise is Gaussian
    assert abs(np.std((a - clean)[inside]) - 0.1) < 0.01
    with pytest.raises(ValueError, match="noise"):
        strategy.camera_images(X, np.random.default_rng(1), noise=-1)


def test_train_dev_split_partitions_the_training_data(digits):
    X, y = digits
    X_tr, y_tr, X_td, y_td = strategy.make_train_dev_split(X, y, 50, np.random.default_rng(2))
    assert X_tr.shape == (64, 250) and X_td.shape == (64, 50) and y_tr.shape == (250,) and y_td.shape == (50,)
    both = np.hstack([X_tr, X_td])
    labels = np.concatenate([y_tr, y_td])
    # the same examples, each once, labels still attached to their images
    order_all = np.lexsort(np.vstack([X, y]))
    order_split = np.lexsort(np.vstack([both, labels]))
    np.testing.assert_array_equal(X[:, order_all], both[:, order_split])
    np.testing.assert_array_equal(y[order_all], labels[order_split])
    with pytest.raises(ValueError, match="n_train_dev"):
        strategy.make_train_dev_split(X, y, 300, np.random.default_rng(2))
    with pytest.raises(ValueError, match="y"):
        strategy.make_train_dev_split(X, y[:10], 5, np.random.default_rng(2))


def test_flip_labels_changes_exactly_the_fraction_to_other_classes(digits):
    _, y = digits
    y_noisy, flipped = strategy.flip_labels(y, 0.2, np.random.default_rng(3))
    assert flipped.sum() == 60
    assert np.all(y_noisy[flipped] != y[flipped]) and np.all(y_noisy[~flipped] == y[~flipped])
    assert y_noisy.min() >= 0 and y_noisy.max() <= 9
    assert np.array_equal(y, digits[1])  # the caller's labels are left alone
    with pytest.raises(ValueError, match="fraction"):
        strategy.flip_labels(y, 1.5, np.random.default_rng(3))


def test_tag_errors_rules():
    reference = np.zeros((64, 20))
    reference.reshape(8, 8, 20)[2:6, 2:6] = 1.0  # centred squares, 16 units of ink
    faint = np.zeros(64)
    faint.reshape(8, 8)[3:5, 3:5] = 0.5          # centred, little ink
    corner = np.zeros(64)
    corner.reshape(8, 8)[:4, :4] = 1.0          # enough ink, centre (1.5, 1.5): far from (3.5, 3.5)
    centred = reference[:, 0]
    X = np.stack([faint, corner, centred], axis=1)
    tags = strategy.tag_errors(X, np.array([4, 1, 2]), np.array([9, 2, 3]), reference,
                               mislabelled=np.array([False, False, True]))
    assert tags == [["look-alike digits", "faint"], ["off-centre"], ["mislabelled"]]
    with pytest.raises(ValueError, match="mislabelled"):
        strategy.tag_errors(X, np.array([4, 1, 2]), np.array([9, 2, 3]), reference, mislabelled=np.array([True]))


def test_model_costs_counts_parameters():
    cost = strategy.model_costs(32)
    assert cost["parameters"] == 64 * 32 + 32 + 32 * 10 + 10
    assert cost["multiply_adds"] == 64 * 32 + 32 * 10
    assert cost["megabytes"] == pytest.approx(cost["parameters"] * 4 / 1e6)


def _masked_cost(params, X, Y, mask):
    Z = strategy.sigmoid_net_scores(X, params)
    losses = np.maximum(Z, 0) - Z * np.where(mask > 0, Y, 0) + np.log1p(np.exp(-np.abs(Z)))
    return np.sum(losses * mask) / mask.sum()


def test_sigmoid_net_learns_with_unknown_labels_and_ignores_them(digits):
    X, y = digits
    Y = np.vstack([y % 2 == 0, y >= 5]).astype(float)
    mask = (np.random.default_rng(4).random(Y.shape) < 0.5).astype(float)
    with_nan = np.where(mask > 0, Y, np.nan)
    with_junk = np.where(mask > 0, Y, 7.0)
    a = strategy.sigmoid_net(X, with_nan, mask, rng=np.random.default_rng(5), num_epochs=30)
    b = strategy.sigmoid_net(X, with_junk, mask, rng=np.random.default_rng(5), num_epochs=30)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])  # unknown labels never reach the gradient
    untrained = strategy.sigmoid_net(X, with_nan, mask, rng=np.random.default_rng(5), num_epochs=0)
    assert _masked_cost(a, X, Y, mask) < 0.5 * _masked_cost(untrained, X, Y, mask)
    assert np.mean((strategy.sigmoid_net_scores(X, a) > 0) == Y) > 0.9


def test_sigmoid_net_gradient_matches_the_masked_cost(digits):
    """One full-batch step equals a step along the numerical gradient of the masked cost."""
    X, y = digits
    X = X[:, :40]
    Y = np.vstack([y[:40] % 2 == 0, y[:40] >= 5, y[:40] == 3]).astype(float)
    mask = (np.random.default_rng(6).random(Y.shape) < 0.6).astype(float)
    lr = 1e-3
    start = strategy.sigmoid_net(X, Y, mask, rng=np.random.default_rng(7), hidden_units=5, num_epochs=0)
    stepped = strategy.sigmoid_net(X, Y, mask, rng=np.random.default_rng(7), hidden_units=5, num_epochs=1,
                                   learning_rate=lr, mini_batch_size=40)
    h = 1e-6
    for key in ("W2", "b2", "b1"):
        numerical = np.zeros_like(start[key])
        for index in np.ndindex(start[key].shape):
            plus = {k: v.copy() for k, v in start.items()}
            minus = {k: v.copy() for k, v in start.items()}
            plus[key][index] += h
            minus[key][index] -= h
            numerical[index] = (_masked_cost(plus, X, Y, mask) - _masked_cost(minus, X, Y, mask)) / (2 * h)
        analytic = (start[key] - stepped[key]) / lr
        assert np.max(np.abs(analytic - numerical)) < 1e-6 * max(1.0, np.max(np.abs(numerical)))


def test_tuning_predict_agrees_with_dev_error(digits):
    X, y = digits
    config = {"learning_rate": 0.5, "beta": 0.9, "hidden_units": 16, "lambd": 0.0}
    run = tuning.train_more(tuning.start(config, 64, 0), config, X, y, 5)
    predicted = tuning.predict(run, X)
    assert predicted.shape == (300,)
    assert tuning.dev_error(run, X, y) == pytest.approx(np.mean(predicted != y))


def test_hand_features_are_block_means_and_row_column_ink():
    image = np.arange(64, dtype=float).reshape(8, 8) / 64
    F = strategy.hand_features(np.stack([image.ravel(), 1 - image.ravel()], axis=1))
    assert F.shape == (32, 2)
    assert F[0, 0] == pytest.approx(np.mean(image[:2, :2]))          # top-left 2x2 block
    assert F[15, 0] == pytest.approx(np.mean(image[6:, 6:]))         # bottom-right block
    np.testing.assert_allclose(F[16:24, 0], image.mean(axis=0))      # ink of each column
    np.testing.assert_allclose(F[24:, 0], image.mean(axis=1))        # ink of each row
    np.testing.assert_allclose(F[:, 1], 1 - F[:, 0])
    with pytest.raises(ValueError, match="64 pixels"):
        strategy.hand_features(np.zeros((16, 3)))


def test_softmax_regression_fits_separable_features():
    rng = np.random.default_rng(8)
    y = np.repeat(np.arange(3), 30)
    centres = np.array([[3.0, 0.0], [0.0, 3.0], [-3.0, -3.0]])
    F = (centres[y] + 0.3 * rng.standard_normal((90, 2))).T
    predict = strategy.softmax_regression(F, y, num_classes=3, num_epochs=200)
    assert np.mean(predict(F) == y) == 1.0
    assert predict(np.array([[3.0], [0.0]]))[0] == 0
    with pytest.raises(ValueError, match="y"):
        strategy.softmax_regression(F, y[:10], num_classes=3)
