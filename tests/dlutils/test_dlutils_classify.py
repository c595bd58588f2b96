"""dlutils.classify: multi-class data, the training loop around the student's hooks, evaluation, pictures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from _numgrad import numerical_gradient, rel_error  # noqa: E402
from dlutils import classify, multiclass  # noqa: E402

# The hooks a finished 11_softmax provides; dZ = AL - Y is the contract of softmax_backward.
HOOKS = {"softmax": multiclass.softmax, "one_hot": multiclass.one_hot,
         "cross_entropy_cost": multiclass.cross_entropy, "softmax_backward": lambda AL, Y: AL - Y}
GRADIENT_HOOKS = {k: v for k, v in HOOKS.items() if k != "one_hot"}


# --- spiral_classes -------------------------------------------------------------


def test_spiral_classes_shapes_balance_and_seed():
    X, y = classify.spiral_classes(301, rng=np.random.default_rng(0), C=4)
    assert X.shape == (2, 301) and X.dtype == np.float64
    assert y.shape == (301,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [76, 75, 75, 75]
    assert np.abs(X).max() < 1.6
    X2, y2 = classify.spiral_classes(301, rng=np.random.default_rng(0), C=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = classify.spiral_classes(301, rng=np.random.default_rng(1), C=4)
    assert not np.allclose(X, X3)


def test_spiral_arms_are_rotations_of_each_other():
    # Without noise every point of arm k, turned back by k/C of a circle, lies on arm 0's curve r -> angle.
    X, y = classify.spiral_classes(600, rng=np.random.default_rng(3), C=3, turns=0.75, noise=0.0)
    r = np.hypot(*X)
    angle = np.arctan2(X[1], X[0]) - 2 * np.pi * y / 3
    residual = np.angle(np.exp(1j * (angle - 2 * np.pi * 0.75 * r)))
    np.testing.assert_allclose(residual, 0, atol=1e-9)


@pytest.mark.parametrize("kwargs, words", [
    ({"m": 2, "C": 3}, "m >= C"), ({"m": 10, "C": 1}, "at least 2 classes"), ({"m": 0}, "positive integer"),
    ({"turns": 0}, "turns"), ({"noise": -1}, "noise"), ({"rng": 3}, "Generator")])
def test_spiral_classes_names_bad_arguments(kwargs, words):
    args = {"m": 30, "rng": np.random.default_rng(0)} | kwargs
    with pytest.raises(ValueError, match=words):
        classify.spiral_classes(**args)


# --- cost_and_gradients, train ----------------------------------------------------------


@pytest.mark.parametrize("dims, activation", [([3, 4], "relu"), ([3, 5, 4], "tanh"), ([3, 5, 6, 4], "sigmoid")])
def test_gradients_match_centred_differences(dims, activation):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((3, 7))
    Y = multiclass.one_hot(rng.integers(0, 4, 7), 4)
    parameters = {key: value + 0.1 * rng.standard_normal(value.shape)
                  for key, value in classify.initialize(dims, rng, output_scale=1.0).items()}
    cost, grads = classify.cost_and_gradients(X, Y, parameters, hidden_activation=activation, **GRADIENT_HOOKS)
    assert cost == pytest.approx(multiclass.cross_entropy(classify.probabilities(X, parameters, multiclass.softmax,
                                                                                 activation), Y))
    for key, value in parameters.items():
        numeric = numerical_gradient(
            lambda: classify.cost_and_gradients(X, Y, parameters, hidden_activation=activation,
                                                **GRADIENT_HOOKS)[0], value)
        assert rel_error(grads["d" + key], numeric) < 1e-7, key


def test_initialize_scales():
    rng = np.random.default_rng(0)
    parameters = classify.initialize([400, 300, 10], rng)
    assert parameters["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert parameters["W2"].std() == pytest.approx(0.01, rel=0.05)
    assert not parameters["b1"].any() and parameters["b2"].shape == (10, 1)


def test_train_starts_near_ln_c_and_learns_the_spiral():
    rng = np.random.default_rng(0)
    X, y = classify.spiral_classes(300, rng=rng, C=3)
    run = classify.train(X, y.reshape(1, -1), [2, 30, 3], rng=rng, learning_rate=0.5, num_epochs=150,
                         mini_batch_size=32, record_every=10, **HOOKS)
    assert run.costs[0] == pytest.approx(np.log(3), abs=0.02)
    assert run.epochs.tolist() == list(range(0, 151, 10))
    assert run.costs[-1] < 0.5 * run.costs[0]
    assert np.mean(classify.predict(X, run.parameters) == y) > 0.8
    assert run.diverged_at is None


def test_train_is_reproducible_from_rng():
    X, y = classify.spiral_classes(60, rng=np.random.default_rng(0))
    a = classify.train(X, y, [2, 3], rng=np.random.default_rng(1), num_epochs=3, **HOOKS)
    b = classify.train(X, y, [2, 3], rng=np.random.default_rng(1), num_epochs=3, **HOOKS)
    np.testing.assert_array_equal(a.costs, b.costs)


def test_train_stops_at_a_non_finite_cost(capsys):
    X, y = classify.spiral_classes(30, rng=np.random.default_rng(0))
    hooks = HOOKS | {"cross_entropy_cost": lambda AL, Y: float("nan")}
    run = classify.train(X, y, [2, 3], rng=np.random.default_rng(0), num_epochs=5, **hooks)
    assert run.diverged_at == 0 and run.costs.size == 0
    assert "not finite" in capsys.readouterr().out


@pytest.mark.parametrize("hooks, words", [
    ({k: v for k, v in HOOKS.items() if k != "softmax"}, "missing or not callable: softmax"),
    (HOOKS | {"learning_rat": 0.1}, "unexpected argument"),
    (HOOKS | {"softmax": lambda Z: Z.sum(axis=0)}, "softmax: returned shape"),
    (HOOKS | {"one_hot": lambda y, C: np.eye(C)[y]}, "one_hot: returned shape"),
    (HOOKS | {"softmax_backward": lambda AL, Y: (AL - Y).T}, "softmax_backward: returned shape"),
    (HOOKS | {"cross_entropy_cost": lambda AL, Y: np.ones(3)}, "cross_entropy_cost: returned"),
])
def test_train_says_which_hook_is_broken(hooks, words):
    X, y = classify.spiral_classes(30, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=words):
        classify.train(X, y, [2, 3], rng=np.random.default_rng(0), num_epochs=2, **hooks)


@pytest.mark.parametrize("args, words", [
    ({"layer_dims": [3, 3]}, "layer_dims"), ({"y": np.arange(30) % 5}, "0..2"),
    ({"y": np.zeros(29, int)}, "y: expected shape"), ({"num_epochs": 0}, "num_epochs")])
def test_train_names_bad_arguments(args, words):
    X, y = classify.spiral_classes(30, rng=np.random.default_rng(0))
    call = {"X": X, "y": y, "layer_dims": [2, 3], "rng": np.random.default_rng(0)} | args
    with pytest.raises(ValueError, match=words):
        classify.train(**call, **HOOKS)


def test_predict_is_the_argmax_of_the_probabilities():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 50))
    parameters = classify.initialize([4, 6, 5], rng, output_scale=1.0)
    AL = classify.probabilities(X, parameters, multiclass.softmax)
    np.testing.assert_allclose(AL.sum(axis=0), 1)
    np.testing.assert_array_equal(classify.predict(X, parameters), AL.argmax(axis=0))


# --- confusion matrix ----------------------------------------------------------------


def test_confusion_matrix_and_most_confused():
    y_true = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([[0, 1, 1, 2, 2, 2, 0, 0, 0]])
    cm = classify.confusion_matrix(y_true, y_pred, 4)
    np.testing.assert_array_equal(cm, [[1, 1, 0, 0], [0, 1, 2, 0], [3, 0, 1, 0], [0, 0, 0, 0]])
    assert cm.sum() == 9 and np.trace(cm) == 3
    assert classify.most_confused(cm, k=2) == [(2, 0, 3), (1, 2, 2)]
    assert classify.most_confused(cm, k=10) == [(2, 0, 3), (1, 2, 2), (0, 1, 1)]  # only nonzero counts
    assert classify.most_confused(np.eye(3, dtype=int)) == []


@pytest.mark.parametrize("call, words", [
    (lambda: classify.confusion_matrix([0, 1], [0, 1, 1], 2), "y_pred"),
    (lambda: classify.confusion_matrix([0, 3], [0, 1], 3), "0..2"),
    (lambda: classify.most_confused(np.ones((2, 3))), "square"),
    (lambda: classify.plot_confusion_matrix(np.ones((2, 2)), class_names=["a"]), "class_names"),
])
def test_evaluation_names_bad_arguments(call, words):
    with pytest.raises(ValueError, match=words):
        call()
    plt.close("all")


# --- pictures -------------------------------------------------------------------------


def test_plots_draw_without_error():
    X, y = classify.spiral_classes(60, rng=np.random.default_rng(0), C=4)
    ax = classify.plot_decision_regions(lambda P: (P[0] > 0).astype(int) + 2 * (P[1] > 0), X, y, title="t",
                                        resolution=20)
    assert len(ax.get_legend().get_texts()) == 4
    cm = classify.confusion_matrix(y, np.roll(y, 1), 4)
    ax = classify.plot_confusion_matrix(cm, title="cm")
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    fig = classify.show_images(np.random.default_rng(0).random((64, 5)), list("abcde"), ncols=3)
    assert len(fig.axes) == 6 and [a.get_title() for a in fig.axes[:5]] == list("abcde")
    plt.close("all")


@pytest.mark.parametrize("call, words", [
    (lambda: classify.plot_decision_regions(lambda P: P[0] > 0, np.ones((3, 4)), [0, 1, 0, 1]), r"\(2, any\)"),
    (lambda: classify.plot_decision_regions(lambda P: np.zeros(5), np.ones((2, 4)), [0, 1, 0, 1]), "predict_fn"),
    (lambda: classify.show_images(np.ones((64, 2)), ["a"]), "titles"),
    (lambda: classify.show_images(np.ones((63, 2)), ["a", "b"]), "8x8"),
])
def test_pictures_name_bad_arguments(call, words):
    with pytest.raises(ValueError, match=words):
        call()
    plt.close("all")
