"""Test accuracy of 11_softmax's digits classifiers over several random 80/20 splits.

    .venv/bin/python benchmarks/digits_softmax_splits.py [--splits N]

The notebook shows one split; with 359 test images one image is 0.3 %, so
its prose quotes the spread measured here instead. Same training as the
notebook (``classify.train``, mini-batches of 64, learning rate 0.5, 100
epochs), with the reference solutions of solutions/week3/11_softmax.ipynb as
the four functions, for softmax regression [64, 10] and one hidden layer
[64, 64, 10]. Prints each split's test accuracy, then min, mean and max.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

import numpy as np

from dlutils import classify, data

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "solutions" / "week3" / "11_softmax.ipynb"
sys.path.insert(0, str(REPO / "tests"))  # the tests' helper that loads reference solutions
from reference_functions import load_reference_functions  # noqa: E402
MODELS = {"softmax regression [64, 10]": [64, 10], "one hidden layer [64, 64, 10]": [64, 64, 10]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", type=int, default=10)
    args = parser.parse_args()
    with contextlib.redirect_stdout(io.StringIO()):  # the notebook's own demo cells print
        reference = load_reference_functions(NOTEBOOK)
    hooks = {name: reference[name] for name in classify.HOOKS}
    X, y = data.digits()
    accuracies = {name: [] for name in MODELS}
    for seed in range(args.splits):
        rng = np.random.default_rng(seed)
        order = rng.permutation(X.shape[1])
        n_test = int(0.2 * X.shape[1])
        test, train = order[:n_test], order[n_test:]
        for name, dims in MODELS.items():
            run = classify.train(X[:, train], y[train], dims, rng=rng, learning_rate=0.5, num_epochs=100,
                                 mini_batch_size=64, record_every=100, **hooks)
            accuracies[name].append(float(np.mean(classify.predict(X[:, test], run.parameters) == y[test])))
    for name, values in accuracies.items():
        print(f"{name:>30}: " + " ".join(f"{a:.3f}" for a in values))
        print(f"{'':>30}  min {min(values):.3f}  mean {np.mean(values):.3f}  max {max(values):.3f}")


if __name__ == "__main__":
    main()
