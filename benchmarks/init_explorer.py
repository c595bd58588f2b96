"""Kernel-side cost of one move of 02's initialization explorer: before and after, same run.

    .venv/bin/python benchmarks/init_explorer.py [--repeat N]

"before": what the explorer did until issue 12 (widgets.interact with an inline PNG): a
new figure per move, a forward and backward pass on all 1000 examples
(model.layer_statistics) and a tight bounding box (two renders). "after": what 02's
explorer did per move after that: a forward pass on a column slice of 250 examples and one
Agg render of the same figure, moved in place (ipympl renders with Agg and sends the image,
as here). "contiguous": the same on a contiguous copy of those 250 examples, made once, as the
explorer does now (NumPy multiplies a column slice without BLAS); the explorer also keeps
each setting's result and blits, which this kernel-side count leaves out.
Prints the median per move and the ratios; nothing is written. The browser round trip
is benchmarks/widget_latency.py.
"""
from __future__ import annotations

import argparse
import io
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from dlutils import model  # noqa: E402

WIDTH, DEPTH = 100, 15


def he(dims, rng):
    return {k: v for l in range(1, len(dims)) for k, v in (
        (f"W{l}", rng.standard_normal((dims[l], dims[l - 1])) * np.sqrt(2 / dims[l - 1])),
        (f"b{l}", np.zeros((dims[l], 1))))}


def before(X, Y, dims):
    stats = model.layer_statistics(X, Y, he(dims, np.random.default_rng(3)))
    stds = [A.std() for A in stats.activations[:-1]]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.semilogy(range(1, DEPTH + 1), stds, marker="o")
    ax.axhline(stds[0], linestyle="--", label="layer 1 level")
    ax.legend(fontsize="small")
    fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close(fig)


def make_after(contiguous=False):
    fig = Figure(figsize=(6, 3.2))
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.13, right=0.97, bottom=0.16, top=0.9)
    (line,) = ax.semilogy([1, 2], [1, 1], marker="o")
    level = ax.axhline(1, linestyle="--", label="layer 1 level")
    ax.legend(fontsize="small")

    examples = {}

    def after(X, Y, dims):
        if id(X) not in examples:
            examples[id(X)] = np.ascontiguousarray(X[:, :250]) if contiguous else X[:, :250]
        _, caches = model.L_model_forward(examples[id(X)], he(dims, np.random.default_rng(3)))
        stds = [cache.activation.A.std() for cache in caches[:-1]]
        line.set_data(range(1, DEPTH + 1), stds)
        level.set_ydata([stds[0], stds[0]])
        ax.set(xlim=(0.5, DEPTH + 0.5), ylim=(min(stds) / 2, max(stds) * 2))
        fig.savefig(io.BytesIO(), format="png")
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((WIDTH, 1000)), (rng.random((1, 1000)) < 0.5).astype(int)
    dims = [WIDTH] * (DEPTH + 1) + [1]
    runs = {"before": before, "after": make_after(), "contiguous": make_after(contiguous=True)}
    times = {name: [] for name in runs}
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        for name, run in runs.items():
            start = time.perf_counter()
            run(X, Y, dims)
            times[name].append(1000 * (time.perf_counter() - start))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:>10}: median {median:6.1f} ms per move")
    print(f"after / before: {medians['after'] / medians['before']:.2f}, "
          f"contiguous / after: {medians['contiguous'] / medians['after']:.2f}")


if __name__ == "__main__":
    main()
