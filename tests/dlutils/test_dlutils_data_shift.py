"""data.shift_images: whole-pixel shifts of images stored one per column."""
import numpy as np
import pytest

from dlutils import data


def test_shift_moves_pixels_and_blanks_the_border():
    image = np.arange(1, 10, dtype=float).reshape(3, 3)  # 1..9, row by row
    X = np.stack([image.ravel(), -image.ravel()], axis=1)  # two images, one per column
    down = data.shift_images(X, (1, 0), image_shape=(3, 3))
    np.testing.assert_array_equal(down[:, 0].reshape(3, 3), [[0, 0, 0], [1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(down[:, 1], -down[:, 0])  # each column shifted on its own
    left = data.shift_images(X, (0, -1), image_shape=(3, 3))
    np.testing.assert_array_equal(left[:, 0].reshape(3, 3), [[2, 3, 0], [5, 6, 0], [8, 9, 0]])
    diagonal = data.shift_images(X, (-1, 1), image_shape=(3, 3))
    np.testing.assert_array_equal(diagonal[:, 0].reshape(3, 3), [[0, 4, 5], [0, 7, 8], [0, 0, 0]])


def test_zero_shift_copies_and_shifts_compose():
    X, _ = data.digits()
    X = X[:, :20]
    same = data.shift_images(X, (0, 0))
    np.testing.assert_array_equal(same, X)
    assert same is not X
    there_and_back = data.shift_images(data.shift_images(X, (0, 1)), (0, -1))
    # Only the last column of pixels, pushed out of frame, is lost.
    kept = np.ones((8, 8), bool)
    kept[:, 7] = False
    np.testing.assert_array_equal(there_and_back.reshape(8, 8, -1)[kept], X.reshape(8, 8, -1)[kept])
    assert np.all(data.shift_images(X, (8, 0)) == 0)  # moved entirely out of frame


def test_input_left_unchanged_and_dtype():
    X = np.random.default_rng(0).random((64, 5))
    before = X.copy()
    out = data.shift_images(X, (1, -1))
    np.testing.assert_array_equal(X, before)
    assert out.dtype == np.float64 and out.shape == (64, 5)


@pytest.mark.parametrize("X, shift, words", [
    (np.zeros((63, 4)), (1, 0), r"expected shape \(64, m\)"),
    (np.zeros(64), (1, 0), r"expected shape \(64, m\)"),
    (np.zeros((64, 4)), (0.5, 0), "two whole numbers"),
    (np.zeros((64, 4)), 1, "two whole numbers"),
    (np.zeros((64, 4)), (1, 0, 0), "two whole numbers"),
])
def test_bad_input_is_named(X, shift, words):
    with pytest.raises(ValueError, match=words):
        data.shift_images(X, shift)
