"""Training step time of dlutils.bn_net with one BLAS thread vs the default, side by side in one run.

The network's matrices are tiny (32 x 32 by 32 x m), so a multi-threaded BLAS mostly pays for
waking its threads; on a busy machine that dominates. Prints the time of a 6-epoch run each way,
alternating to share the machine's load fairly, and the ratio. Run:
    .venv/bin/python benchmarks/bn_net_threads.py
"""
import os
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from dlutils import bn_net, data

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the tests' helper that loads reference solutions
from reference_functions import load_reference_functions  # noqa: E402


def bn_reference():
    """The reference solutions of 10_batch_norm (the graded functions are the student's)."""
    functions = load_reference_functions(REPO / "solutions" / "week3" / "10_batch_norm.ipynb")
    return bn_net.BatchNorm(*(functions[name] for name in (
        "batchnorm_forward", "batchnorm_backward", "update_running_stats", "batchnorm_inference")))


def main():
    X, y = data.digits()
    bn = bn_reference()
    dims = [64] + [32] * 6 + [10]
    controller = ThreadpoolController()
    default_threads = max(info["num_threads"] for info in controller.info() if info["user_api"] == "blas")

    def one_run():
        start = time.perf_counter()
        bn_net.train(X, y, dims, rng=np.random.default_rng(1), bn=bn, weight_scale=0.1, num_epochs=6,
                     watch_layer=4, probe=X[:, :256])
        return time.perf_counter() - start

    # bn_net.train limits BLAS to one thread itself; to time the default, neutralise that limit.
    real = bn_net._one_blas_thread
    times = {"one thread (bn_net)": [], f"default ({default_threads} threads)": []}
    for _ in range(3):
        times["one thread (bn_net)"].append(one_run())
        bn_net._one_blas_thread = lambda: controller.limit(limits=default_threads, user_api="blas")
        try:
            times[f"default ({default_threads} threads)"].append(one_run())
        finally:
            bn_net._one_blas_thread = real
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    best = {label: min(t) for label, t in times.items()}
    for label, t in best.items():
        print(f"{label:>24}: {t:.2f} s per 6-epoch run (best of 3)")
    one, default = best.values()
    print(f"one BLAS thread is {default / one:.1f}x faster")


if __name__ == "__main__":
    main()
