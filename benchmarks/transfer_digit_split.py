"""Transfer across digit classes: pretrain on digits 0-4, fine-tune on a few examples of 5-9.

13_ml_strategy transfers from clean digits to "camera" digits (the same classes, another
input distribution), where fine-tuning wins. This script measures the other transfer the
lectures describe, to a new set of classes, and prints why the notebook does not use it:
on the 8x8 digits a network trained from scratch on n examples per class of 5-9 is as good
as or better than one fine-tuned from 0-4 (all layers), and much better than a frozen body
with a new head. The source (about 900 images of 5 classes) has no more data than the
target's own pool and raw pixels are already good features, so there is little to transfer:
the lectures' conditions (shared low-level features, far more source data) are not met.

    .venv/bin/python benchmarks/transfer_digit_split.py [--repeats 5]
"""
from __future__ import annotations

import argparse
import copy

import numpy as np

from dlutils import data, nn


def train(model, X, y, epochs, params=None, seed=1):
    optimizer = nn.optim.Adam(params or model.parameters(), learning_rate=1e-2)
    loss_fn = nn.SoftmaxCrossEntropy()
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(y.size)
        for start in range(0, y.size, 32):
            batch = order[start:start + 32]
            loss = loss_fn(model(nn.Tensor(X[batch])), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def error(model, X, y):
    model.eval()
    with nn.no_grad():
        predicted = model(nn.Tensor(X)).data.argmax(axis=1)
    model.train()
    return float(np.mean(predicted != y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="random labelled samples per size")
    args = parser.parse_args()
    nn.set_num_threads(1)
    X, y = data.digits()
    X = X.T                                       # batch first
    source, target = y < 5, y >= 5
    X_src, y_src, X_tgt, y_tgt = X[source], y[source], X[target], y[target] - 5
    order = np.random.default_rng(0).permutation(y_tgt.size)
    test, pool = order[:400], order[400:]

    rng = np.random.default_rng(2)
    body = nn.Sequential(nn.Linear(64, 64, rng=rng), nn.ReLU(), nn.Linear(64, 64, rng=rng), nn.ReLU())
    pretrained = nn.Sequential(body, nn.Linear(64, 5, rng=rng))
    train(pretrained, X_src, y_src, epochs=30)
    print(f"source task (digits 0-4, {y_src.size} images): training error {error(pretrained, X_src, y_src):.3f}")
    print(f"target task: digits 5-9, test error on {test.size} images, mean of {args.repeats} samples")
    print(f"{'n per class':>11}  {'from scratch':>12}  {'fine-tuned':>10}  {'frozen body':>11}  fine-tuned / scratch")
    for n in (1, 2, 5, 10, 20):
        errors = {"scratch": [], "fine-tuned": [], "frozen": []}
        for repeat in range(args.repeats):
            pick = np.random.default_rng(100 + repeat)
            labelled = np.concatenate([pick.choice(pool[y_tgt[pool] == c], n, replace=False) for c in range(5)])
            for kind, found in errors.items():
                init = np.random.default_rng(200 + repeat)
                if kind == "scratch":
                    model = nn.Sequential(nn.Linear(64, 64, rng=init), nn.ReLU(), nn.Linear(64, 64, rng=init),
                                          nn.ReLU(), nn.Linear(64, 5, rng=init))
                    params = None
                else:
                    head = nn.Linear(64, 5, rng=init)
                    model = nn.Sequential(copy.deepcopy(body), head)
                    params = head.parameters() if kind == "frozen" else None
                train(model, X_tgt[labelled], y_tgt[labelled], epochs=100, params=params)
                found.append(error(model, X_tgt[test], y_tgt[test]))
        mean = {kind: float(np.mean(found)) for kind, found in errors.items()}
        print(f"{n:>11}  {mean['scratch']:>12.3f}  {mean['fine-tuned']:>10.3f}  {mean['frozen']:>11.3f}  "
              f"{mean['fine-tuned'] / mean['scratch']:.2f}")


if __name__ == "__main__":
    main()
