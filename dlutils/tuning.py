"""A real task to tune: a one-hidden-layer softmax network on the 8x8 digits.

09_hyperparameter_search searches over four hyperparameters of this network
(``config`` dicts with these keys):

    learning_rate  step size of momentum gradient descent        (log scale)
    beta           momentum, v = beta v + (1 - beta) dW           (1 - beta on a log scale)
    hidden_units   units of the hidden ReLU layer                 (a whole number)
    lambd          L2 strength, dW += lambd / m_batch * W         (log scale)

Shapes follow the course: X (64, m) with pixels in [0, 1], integer labels y
(m,), W1 (hidden_units, 64), b1 (hidden_units, 1), W2 (10, hidden_units),
b2 (10, 1). Every run draws its initial weights and mini-batch order from a
generator seeded by the task's seed and the config's values, so the same
config gives the same model whatever order configs are tried in.

Also here: :func:`map_parallel`, which trains several configs at once in
worker processes (one BLAS thread each) and falls back to one at a time where
processes cannot be started.
"""

import concurrent.futures
import multiprocessing
import os
from typing import Callable, NamedTuple

import numpy as np

from dlutils import multiclass
from dlutils._blas import one_thread as one_blas_thread
from dlutils._validate import as_2d_array, check_positive_int, check_rng

CONFIG_KEYS = ("learning_rate", "beta", "hidden_units", "lambd")
NUM_CLASSES = 10
# A run whose parameters overflow is scored as chance: one digit in ten right.
CHANCE_ERROR = 0.9


class Split(NamedTuple):
    """Training and dev data: X_train (n_x, m_train), y_train (m_train,), X_dev (n_x, m_dev), y_dev (m_dev,)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray


class Run(NamedTuple):
    """A network part-way through training: its parameters, momentum, generator and epochs done."""

    parameters: dict
    velocity: dict
    rng: np.random.Generator
    epochs: int


def make_split(X, y, n_train, n_dev, rng):
    """Shuffle the m columns of X (n_x, m) and labels y (m,) once; the first n_train train, the next n_dev dev.

    Returns a ``Split``. n_train + n_dev must not exceed m.
    """
    X = as_2d_array("X", X, "(n_x, m)")
    y = multiclass.labels_1d(y)
    check_positive_int("n_train", n_train)
    check_positive_int("n_dev", n_dev)
    check_rng("rng", rng)
    m = X.shape[1]
    if y.size != m:
        raise ValueError(f"y: expected {m} labels (one per column of X), got {y.size}")
    if n_train + n_dev > m:
        raise ValueError(f"n_train + n_dev: expected at most m = {m} examples, got {n_train} + {n_dev}")
    order = rng.permutation(m)
    train, dev = order[:n_train], order[n_train:n_train + n_dev]
    return Split(X[:, train], y[train], X[:, dev], y[dev])


def check_config(config):
    """Return config's four values as (learning_rate, beta, hidden_units, lambd); ValueError names a bad one."""
    if not isinstance(config, dict):
        raise ValueError(f"config: expected a dict with keys {CONFIG_KEYS}, got {type(config).__name__}")
    missing = [key for key in CONFIG_KEYS if key not in config]
    if missing:
        raise ValueError(f"config: missing key(s) {missing}; expected {CONFIG_KEYS}, got {sorted(config)}")
    learning_rate, beta, lambd = (float(config[key]) for key in ("learning_rate", "beta", "lambd"))
    hidden_units = config["hidden_units"]
    if not learning_rate > 0:
        raise ValueError(f"config['learning_rate']: expected a number > 0, got {config['learning_rate']!r}")
    if not 0 <= beta < 1:
        raise ValueError(f"config['beta']: expected a number in [0, 1), got {config['beta']!r}")
    if not lambd >= 0:
        raise ValueError(f"config['lambd']: expected a number >= 0, got {config['lambd']!r}")
    if isinstance(hidden_units, (float, np.floating)) and float(hidden_units).is_integer():
        hidden_units = int(hidden_units)
    check_positive_int("config['hidden_units']", hidden_units)
    return learning_rate, beta, int(hidden_units), lambd


def config_seed(config, seed):
    """A SeedSequence from ``seed`` and the config's values (so a config's run does not depend on call order)."""
    values = np.array(check_config(config), dtype=np.float64)
    return np.random.SeedSequence([int(seed)] + [int(v) for v in values.view(np.uint64)])


def start(config, n_x, seed):
    """A fresh ``Run``: He-initialized W1 (h, n_x), W2 (10, h), zero biases and zero momentum."""
    _, _, hidden_units, _ = check_config(config)
    rng = np.random.default_rng(config_seed(config, seed))
    parameters = {}
    for l, (n_out, n_in) in enumerate(((hidden_units, n_x), (NUM_CLASSES, hidden_units)), start=1):
        parameters[f"W{l}"] = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
        parameters[f"b{l}"] = np.zeros((n_out, 1))
    velocity = {"d" + key: np.zeros_like(value) for key, value in parameters.items()}
    return Run(parameters, velocity, rng, 0)


def _forward(parameters, X):
    Z1 = parameters["W1"] @ X + parameters["b1"]
    A1 = np.maximum(Z1, 0.0)
    return Z1, A1, multiclass.softmax(parameters["W2"] @ A1 + parameters["b2"])


def cost(parameters, X, Y, lambd):
    """Mean cross-entropy of the m examples X (n_x, m), one-hot Y (10, m), plus lambd / (2 m) (||W1||² + ||W2||²)."""
    _, _, AL = _forward(parameters, X)
    m = X.shape[1]
    penalty = float(np.sum(parameters["W1"] ** 2) + np.sum(parameters["W2"] ** 2))
    return multiclass.cross_entropy(AL, Y) + lambd / (2 * m) * penalty


def _gradients(parameters, X, Y, lambd):
    """Gradients of the batch's mean cross-entropy + lambd / (2 m) (||W1||² + ||W2||²); Y one-hot (10, m)."""
    m = X.shape[1]
    Z1, A1, AL = _forward(parameters, X)
    dZ2 = multiclass.cross_entropy_backward(AL, Y)  # already divided by m
    dA1 = parameters["W2"].T @ dZ2
    dZ1 = dA1 * (Z1 > 0)
    return {"dW1": dZ1 @ X.T + lambd / m * parameters["W1"], "db1": dZ1.sum(axis=1, keepdims=True),
            "dW2": dZ2 @ A1.T + lambd / m * parameters["W2"], "db2": dZ2.sum(axis=1, keepdims=True)}


def train_more(run, config, X, y, num_epochs, mini_batch_size=64):
    """Train ``run`` for num_epochs more epochs of momentum mini-batch gradient descent; returns the new ``Run``.

    X: (n_x, m); y: (m,) integer labels 0..9. Each epoch shuffles the examples
    with the run's own generator and cuts them into mini-batches of
    ``mini_batch_size`` (the last one smaller). A run whose parameters stop
    being finite stops training (``dev_error`` then scores it as chance).
    """
    learning_rate, beta, _, lambd = check_config(config)
    X = as_2d_array("X", X, "(n_x, m)")
    Y = multiclass.one_hot(y, NUM_CLASSES)
    check_positive_int("mini_batch_size", mini_batch_size)
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, (int, np.integer)) or num_epochs < 0:
        raise ValueError(f"num_epochs: expected a whole number >= 0, got {num_epochs!r}")
    parameters, velocity = dict(run.parameters), dict(run.velocity)
    m = X.shape[1]
    # These matrices are small: one BLAS thread is faster than several waiting for each other.
    with np.errstate(over="ignore", invalid="ignore"), one_blas_thread():
        for _ in range(int(num_epochs)):
            if not finite(parameters):
                break
            order = run.rng.permutation(m)
            X_shuffled, Y_shuffled = X[:, order], Y[:, order]  # one copy per epoch; the batches are views
            for k in range(0, m, mini_batch_size):
                grads = _gradients(parameters, X_shuffled[:, k:k + mini_batch_size],
                                   Y_shuffled[:, k:k + mini_batch_size], lambd)
                for key in parameters:
                    velocity["d" + key] = beta * velocity["d" + key] + (1 - beta) * grads["d" + key]
                    parameters[key] = parameters[key] - learning_rate * velocity["d" + key]
    return Run(parameters, velocity, run.rng, run.epochs + int(num_epochs))


def finite(parameters):
    """True when every parameter array holds only finite numbers."""
    return all(np.all(np.isfinite(value)) for value in parameters.values())


def predict(run, X):
    """The run's predicted digit (m,) for each column of X (n_x, m)."""
    with np.errstate(over="ignore", invalid="ignore"):
        _, _, AL = _forward(run.parameters, as_2d_array("X", X, "(n_x, m)"))
    return multiclass.predict_classes(AL)


def dev_error(run, X, y):
    """Fraction of the m examples of X (n_x, m), y (m,) the run's network gets wrong; chance (0.9) if it diverged."""
    if not finite(run.parameters):
        return CHANCE_ERROR
    return 1.0 - multiclass.accuracy(predict(run, X), y)


def train_and_score(split, config, num_epochs, seed=0, mini_batch_size=64):
    """Dev error of ``config`` trained from scratch for num_epochs epochs on ``split`` (a picklable worker)."""
    run = start(config, split.X_train.shape[0], seed)
    run = train_more(run, config, split.X_train, split.y_train, num_epochs, mini_batch_size)
    return dev_error(run, split.X_dev, split.y_dev)


class DigitsTask:
    """``evaluate(config, budget)`` -> dev error after ``budget`` epochs, for search methods to call.

    A config seen before resumes from the epochs it already has (training to
    8 epochs after 4 costs 4 more), as successive halving does with saved
    checkpoints; asking for fewer epochs than a config already has is refused.
    ``epochs_trained`` counts every epoch actually run and ``history`` holds
    (epochs_trained so far, dev error) after each call, for plots of the best
    error against the training spent.
    """

    def __init__(self, split, seed=0, mini_batch_size=64):
        if not isinstance(split, Split):
            raise ValueError(f"split: expected a dlutils.tuning.Split (see make_split), got {type(split).__name__}")
        self.split, self.seed, self.mini_batch_size = split, int(seed), mini_batch_size
        self.runs = {}
        self.epochs_trained = 0
        self.history = []

    def __call__(self, config, budget):
        return self.evaluate(config, budget)

    def evaluate(self, config, budget):
        check_positive_int("budget", budget)
        key = check_config(config)
        run = self.runs.get(key) or start(config, self.split.X_train.shape[0], self.seed)
        if budget < run.epochs:
            raise ValueError(f"budget: this config already has {run.epochs} epochs; got {budget}")
        self.epochs_trained += budget - run.epochs
        run = train_more(run, config, self.split.X_train, self.split.y_train, budget - run.epochs,
                         self.mini_batch_size)
        self.runs[key] = run
        error = dev_error(run, self.split.X_dev, self.split.y_dev)
        self.history.append((self.epochs_trained, error))
        return error


def _worker_start():
    """Worker initializer: one BLAS thread per process for the worker's life, so workers do not fight over cores."""
    global _LIMITS
    _LIMITS = one_blas_thread()


def _call(job):
    fn, args = job
    return fn(*args)


def map_parallel(fn: Callable, jobs, workers=None):
    """``[fn(*args) for args in jobs]``, computed by ``workers`` processes at once.

    fn must be importable (defined in a module, such as ``train_and_score``),
    and its arguments picklable. workers: None = ``os.cpu_count()``.
    Returns (results in the order of jobs, how): how is "N processes", or
    "1 process (...)" naming why workers could not be started, in which case
    the jobs ran one after another here: where a system forbids new processes
    the result is the same, only slower.
    """
    jobs = [tuple(args) for args in jobs]
    workers = (os.cpu_count() or 1) if workers is None else workers
    check_positive_int("workers", workers)
    if workers > 1 and len(jobs) > 1:
        # Set before the workers start, for BLAS libraries that read them when loaded (spawned workers).
        saved = {name: os.environ.get(name) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        os.environ.update({name: "1" for name in saved})
        try:
            with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                                        mp_context=multiprocessing.get_context(),
                                                        initializer=_worker_start) as pool:
                return list(pool.map(_call, [(fn, args) for args in jobs])), f"{min(workers, len(jobs))} processes"
        except (OSError, NotImplementedError, ImportError, concurrent.futures.process.BrokenProcessPool) as error:
            reason = f"could not start worker processes: {type(error).__name__}: {error}"
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    else:
        reason = "one worker asked for" if workers == 1 else "one job"
    return [fn(*args) for args in jobs], f"1 process ({reason})"
