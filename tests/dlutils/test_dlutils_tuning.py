"""dlutils.tuning: the digits network to tune, its search task, and parallel evaluation."""
from __future__ import annotations

import concurrent.futures

import numpy as np
import pytest

from dlutils import data, multiclass, tuning

from _numgrad import numerical_gradient, rel_error

CONFIG = {"learning_rate": 1.0, "beta": 0.9, "hidden_units": 16, "lambd": 1e-3}


@pytest.fixture(scope="module")
def split():
    X, y = data.digits()
    return tuning.make_split(X, y, n_train=300, n_dev=200, rng=np.random.default_rng(0))


def test_make_split_partitions_the_examples_with_their_labels():
    X = np.arange(3 * 10, dtype=float).reshape(3, 10)
    y = np.arange(10) % 10
    s = tuning.make_split(X, y, 6, 3, np.random.default_rng(1))
    assert s.X_train.shape == (3, 6) and s.y_train.shape == (6,) and s.X_dev.shape == (3, 3) and s.y_dev.shape == (3,)
    columns = np.concatenate([s.X_train[0], s.X_dev[0]]).astype(int)
    assert len(set(columns)) == 9, "each example lands in one part only"
    assert np.array_equal(np.concatenate([s.y_train, s.y_dev]), y[columns]), "labels travel with their examples"


@pytest.mark.parametrize("kwargs, message", [
    ({"n_train": 8, "n_dev": 3}, "n_train \\+ n_dev: expected at most m = 10"),
    ({"n_train": 0, "n_dev": 3}, "n_train: expected a positive integer"),
    ({"n_train": 5, "n_dev": 3, "y": np.zeros(9)}, "y: expected 10 labels"),
    ({"n_train": 5, "n_dev": 3, "rng": 0}, "rng: expected an np.random.Generator"),
])
def test_make_split_names_bad_arguments(kwargs, message):
    args = {"X": np.zeros((2, 10)), "y": np.zeros(10), "rng": np.random.default_rng(0)} | kwargs
    with pytest.raises(ValueError, match=message):
        tuning.make_split(**args)


@pytest.mark.parametrize("change, message", [
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"beta": 1.0}, "beta"),
    ({"lambd": -1.0}, "lambd"),
    ({"hidden_units": 2.5}, "hidden_units"),
])
def test_check_config_names_bad_values(change, message):
    with pytest.raises(ValueError, match=message):
        tuning.check_config({**CONFIG, **change})
    with pytest.raises(ValueError, match="missing key"):
        tuning.check_config({"learning_rate": 0.1})


def test_hidden_units_may_be_a_whole_float():
    assert tuning.check_config({**CONFIG, "hidden_units": 16.0})[2] == 16


def test_gradients_match_centred_differences():
    rng = np.random.default_rng(3)
    run = tuning.start({**CONFIG, "hidden_units": 5}, 4, seed=0)
    parameters = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in run.parameters.items()}  # nonzero biases
    X = rng.standard_normal((4, 7))
    Y = multiclass.one_hot(rng.integers(0, 10, 7), 10)
    grads = tuning._gradients(parameters, X, Y, lambd=0.7)
    for key, value in parameters.items():
        numeric = numerical_gradient(lambda: tuning.cost(parameters, X, Y, 0.7), value)
        assert rel_error(grads["d" + key], numeric) < 1e-7, key


def test_training_is_reproducible_and_resumable(split):
    full = tuning.train_more(tuning.start(CONFIG, 64, seed=4), CONFIG, split.X_train, split.y_train, 3)
    part = tuning.train_more(tuning.start(CONFIG, 64, seed=4), CONFIG, split.X_train, split.y_train, 1)
    part = tuning.train_more(part, CONFIG, split.X_train, split.y_train, 2)
    assert full.epochs == part.epochs == 3
    for key in full.parameters:
        assert np.array_equal(full.parameters[key], part.parameters[key])
    other = tuning.train_more(tuning.start(CONFIG, 64, seed=5), CONFIG, split.X_train, split.y_train, 3)
    assert not np.array_equal(full.parameters["W1"], other.parameters["W1"])


def test_a_good_config_learns_and_a_diverging_one_scores_chance(split):
    untrained = tuning.dev_error(tuning.start(CONFIG, 64, seed=0), split.X_dev, split.y_dev)
    trained = tuning.train_and_score(split, CONFIG, 5)
    assert trained < 0.25 < untrained
    diverging = {"learning_rate": 1e4, "beta": 0.0, "hidden_units": 16, "lambd": 100.0}  # W grows 15,000-fold per step
    assert tuning.train_and_score(split, diverging, 20) == tuning.CHANCE_ERROR


def test_digits_task_resumes_and_counts_epochs(split):
    task = tuning.DigitsTask(split, seed=1)
    first = task.evaluate(CONFIG, 2)
    assert task.epochs_trained == 2
    again = task.evaluate(CONFIG, 5)
    assert task.epochs_trained == 5, "resuming from 2 epochs to 5 costs 3"
    assert again == tuning.train_and_score(split, CONFIG, 5, seed=1), "a resumed run equals one trained from scratch"
    task({**CONFIG, "beta": 0.5}, 1)
    assert task.epochs_trained == 6
    assert [e for e, _ in task.history] == [2, 5, 6] and task.history[0][1] == first
    with pytest.raises(ValueError, match="already has 5 epochs"):
        task.evaluate(CONFIG, 3)
    with pytest.raises(ValueError, match="split: expected a dlutils.tuning.Split"):
        tuning.DigitsTask((1, 2, 3, 4))


def test_map_parallel_gives_the_serial_results(split):
    jobs = [(split, {**CONFIG, "learning_rate": lr}, 1) for lr in (0.1, 0.5, 1.0)]
    serial, how_serial = tuning.map_parallel(tuning.train_and_score, jobs, workers=1)
    parallel, how = tuning.map_parallel(tuning.train_and_score, jobs, workers=2)
    assert serial == parallel == [tuning.train_and_score(*job) for job in jobs]
    assert how_serial.startswith("1 process")
    assert how in ("2 processes",) or how.startswith("1 process (could not start")


def test_map_parallel_falls_back_where_processes_cannot_start(split, monkeypatch):
    class NoProcesses:
        def __init__(self, *args, **kwargs):
            raise PermissionError("fork not allowed here")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", NoProcesses)
    jobs = [(split, CONFIG, 1), (split, {**CONFIG, "beta": 0.5}, 1)]
    results, how = tuning.map_parallel(tuning.train_and_score, jobs, workers=2)
    assert results == [tuning.train_and_score(*job) for job in jobs]
    assert how == "1 process (could not start worker processes: PermissionError: fork not allowed here)"


def test_map_parallel_refuses_a_bad_worker_count():
    with pytest.raises(ValueError, match="workers: expected a positive integer"):
        tuning.map_parallel(abs, [(1,)], workers=0)
