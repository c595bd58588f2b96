"""dlutils.multiclass: exact softmax, one-hot, cross-entropy and its gradient (centred differences)."""

import numpy as np
import pytest

from _numgrad import numerical_gradient, rel_error
from dlutils import multiclass


def test_softmax_columns_sum_to_one_and_survive_huge_logits():
    Z = np.array([[1000.0, -1e4, 0.0], [1000.0, -1e4, 1.0], [-1000.0, -1e4 - 5, 2.0]])
    A = multiclass.softmax(Z)
    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(A.sum(axis=0), 1.0)
    np.testing.assert_allclose(A[:, 0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(A[:, 2], np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum())


def test_softmax_leaves_input_unchanged():
    Z = np.arange(6.0).reshape(3, 2)
    before = Z.copy()
    multiclass.softmax(Z)
    np.testing.assert_array_equal(Z, before)


@pytest.mark.parametrize("y", [np.array([2, 0, 1]), np.array([[2, 0, 1]]), [2, 0, 1]])
def test_one_hot_accepts_both_label_shapes(y):
    np.testing.assert_array_equal(multiclass.one_hot(y, 3), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("y, words", [(np.array([0, 3]), "0..2"), (np.array([[0], [1]]), "shape"),
                                      (np.array([0.5, 1]), "whole-number"), (None, "None")])
def test_one_hot_names_bad_labels(y, words):
    with pytest.raises(ValueError, match=words):
        multiclass.one_hot(y, 3)


def test_cross_entropy_is_finite_with_exact_zeros_and_ln_c_for_uniform():
    Y = multiclass.one_hot([0, 1], 2)
    assert np.isfinite(multiclass.cross_entropy(np.array([[0.0, 1.0], [1.0, 0.0]]), Y))
    assert multiclass.cross_entropy(np.full((10, 4), 0.1), multiclass.one_hot([0, 3, 9, 2], 10)) == pytest.approx(np.log(10))


def test_cross_entropy_names_a_transposed_y():
    with pytest.raises(ValueError, match="one-hot"):
        multiclass.cross_entropy(np.full((3, 2), 1 / 3), np.ones((2, 3)))


def test_backward_matches_centred_differences():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((4, 5))
    Y = multiclass.one_hot(rng.integers(0, 4, 5), 4)
    dZ = multiclass.cross_entropy_backward(multiclass.softmax(Z), Y)
    numeric = numerical_gradient(lambda: multiclass.cross_entropy(multiclass.softmax(Z), Y), Z)
    assert rel_error(dZ, numeric) < 1e-7


def test_predict_and_accuracy():
    AL = np.array([[0.1, 0.7], [0.9, 0.3]])
    np.testing.assert_array_equal(multiclass.predict_classes(AL), [1, 0])
    assert multiclass.accuracy(np.array([[1, 0]]), np.array([1, 1])) == 0.5
    with pytest.raises(ValueError, match="labels like y"):
        multiclass.accuracy([1, 0, 1], [1, 1])


@pytest.mark.oracle
def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((5, 7)) * 3
    y = rng.integers(0, 5, 7)
    np.testing.assert_allclose(multiclass.softmax(Z), torch.softmax(torch.tensor(Z), dim=0).numpy(), rtol=1e-12)
    expected = torch.nn.functional.cross_entropy(torch.tensor(Z.T), torch.tensor(y)).item()
    assert multiclass.cross_entropy(multiclass.softmax(Z), multiclass.one_hot(y, 5)) == pytest.approx(expected, rel=1e-12)
