import numpy as np
import pytest

from dlutils.params import dictionary_to_vector, vector_to_dictionary


def test_round_trip_in_layer_order():
    rng = np.random.default_rng(0)
    # inserted W1, W2, b1, b2: the vector must still read W1, b1, W2, b2
    d = {"W1": rng.standard_normal((3, 2)), "W2": rng.standard_normal((1, 3)),
         "b1": rng.standard_normal((3, 1)), "b2": rng.standard_normal((1, 1))}
    theta, spec = dictionary_to_vector(d)
    assert theta.shape == (13, 1) and theta.dtype == np.float64
    assert spec == (("W1", (3, 2)), ("b1", (3, 1)), ("W2", (1, 3)), ("b2", (1, 1)))
    np.testing.assert_array_equal(theta[:6, 0], d["W1"].ravel())
    np.testing.assert_array_equal(theta[6:9, 0], d["b1"].ravel())
    back = vector_to_dictionary(theta, spec)
    assert list(back) == ["W1", "b1", "W2", "b2"]
    for key in d:
        np.testing.assert_array_equal(back[key], d[key])
    back["W1"][0, 0] = 99.0  # copies, not views of theta
    assert theta[0, 0] != 99.0


def test_grads_line_up_with_parameters():
    grads = {"db2": np.ones((1, 1)), "dW2": np.ones((1, 3)), "db1": np.ones((3, 1)), "dW1": np.ones((3, 2))}
    _, spec = dictionary_to_vector(grads)
    assert [key for key, _ in spec] == ["dW1", "db1", "dW2", "db2"]
    assert dictionary_to_vector({"W10": np.ones(1), "W2": np.ones(1), "b2": np.ones(1)})[1][0][0] == "W2"


def test_any_dict_and_explicit_keys():
    d = {"gamma1": np.ones((2, 1)), "beta1": np.zeros((2, 1)), "x": np.arange(3.0)}
    theta, spec = dictionary_to_vector(d)
    assert [key for key, _ in spec] == ["gamma1", "beta1", "x"]  # no W/b: insertion order
    theta, spec = dictionary_to_vector(d, keys=["x", "beta1"])
    np.testing.assert_array_equal(theta.ravel(), [0, 1, 2, 0, 0])
    assert set(vector_to_dictionary(theta, spec)) == {"x", "beta1"}


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="keys"):
        dictionary_to_vector({"W1": np.ones((1, 1))}, keys=["W2"])
    _, spec = dictionary_to_vector({"W1": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"theta: expected shape \(4, 1\) for this spec, got \(5, 1\)"):
        vector_to_dictionary(np.ones((5, 1)), spec)
