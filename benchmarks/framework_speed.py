"""Training steps per second of dlutils.nn vs PyTorch CPU on the same MLP, side by side in one run.

The model: 64-256-256-10 with ReLU ("mlp"), and the same with BatchNorm1d + Dropout(keep 0.9) after each
hidden Linear ("bn+dropout"); softmax cross-entropy, Adam (learning rate 1e-3), float32, on the 8x8 digits,
batch sizes 64 and 512; both frameworks start from the same weights. Each thread setting (one thread; the
default) runs in its own subprocess, because NumPy's BLAS reads its thread count (OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS) only when it loads; torch gets torch.set_num_threads to match. Inside a subprocess the two
frameworks alternate, round after round, so both see the same machine load; the best round counts.
Also measured in the same subprocess: this machine's float32 matmul peak (a large square matmul), and
the fraction of it each framework reaches (the MLP's matmul flops per step / time per step).
PyTorch is optional: without it, only dlutils.nn is timed and the script says so.
--malloc adds a third setting: one thread with glibc told to keep freed memory (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_). At batch 512 each activation is 512 KB, above glibc's first mmap threshold, so
an allocation pattern that keeps the threshold low maps and page-faults every fresh array: an earlier
dlutils.nn (gradients written into the optimizer's buffer) spent 6.0-6.2 ms a step at batch 512 and
3.6-3.9 ms with this setting; the current one spends 3.7-3.9 ms either way (process CPU time). The
setting checks that this stays so, for both frameworks. Run:
    nice .venv/bin/python benchmarks/framework_speed.py            # a few minutes
    nice .venv/bin/python benchmarks/framework_speed.py --quick    # fewer, shorter rounds
"""
import argparse
import json
import os
import subprocess
import sys
import time

SIZES = (64, 256, 256, 10)
BATCHES = (64, 512)
VARIANTS = ("mlp", "bn+dropout")
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


def matmul_flops_per_step(m):
    """Multiply-adds x 2 of one training step: forward, weight gradients, input gradients (not layer 1's)."""
    pairs = list(zip(SIZES[:-1], SIZES[1:]))
    forward = sum(2 * m * a * b for a, b in pairs)
    return forward + forward + sum(2 * m * a * b for a, b in pairs[1:])


def matmul_peak(np, n=768, repeats=40):
    """Best float32 flops per second of an n x n matmul (many short tries: one may find the machine quiet)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def dlutils_trainer(np, variant, X, y, batch, seed=0):
    from dlutils import nn

    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(nn.Linear(a, b, rng=rng, dtype=np.float32))
        if i < len(SIZES) - 2:
            if variant == "bn+dropout":
                layers += [nn.BatchNorm1d(b, dtype=np.float32), nn.ReLU(), nn.Dropout(0.9, rng=rng)]
            else:
                layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    weights = [p.data.copy() for p in model.parameters()]  # for torch: the same start
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = nn.optim.Adam(model.parameters(), learning_rate=1e-3)
    starts = list(range(0, len(y) - batch + 1, batch))
    position = [0]

    def run(steps):
        for _ in range(steps):
            i = starts[position[0] % len(starts)]
            position[0] += 1
            loss = loss_fn(model(nn.Tensor(X[i:i + batch])), y[i:i + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()
    return run, weights


def torch_trainer(torch, variant, X, y, batch, weights):
    layers = []
    for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(SIZES) - 2:
            if variant == "bn+dropout":  # torch's momentum 0.1 = our 0.9; p drops = 1 - keep_prob
                layers += [torch.nn.BatchNorm1d(b, momentum=0.1, eps=1e-8), torch.nn.ReLU(), torch.nn.Dropout(p=0.1)]
            else:
                layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(torch.from_numpy(w))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    starts = list(range(0, len(y) - batch + 1, batch))
    position = [0]
    loss_fn = torch.nn.functional.cross_entropy

    def run(steps):
        for _ in range(steps):
            i = starts[position[0] % len(starts)]
            position[0] += 1
            loss = loss_fn(model(Xt[i:i + batch]), yt[i:i + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()
    return run


def steps_per_second(run, seconds):
    """(steps per wall-clock second, steps per CPU second of this process) of run over about ``seconds``.

    On a shared machine the CPU-time rate leaves out the time other processes had the core: with one thread
    it is the fairer number; with several it also counts what every thread spent (spinning included).
    """
    steps = 5
    start = time.perf_counter()
    run(steps)
    per_step = (time.perf_counter() - start) / steps
    steps = max(5, int(seconds / per_step))
    start, cpu = time.perf_counter(), time.process_time()
    run(steps)
    return steps / (time.perf_counter() - start), steps / (time.process_time() - cpu)


def worker(threads, rounds, seconds):
    """One thread setting (the environment is already set by the parent): prints a JSON line of results."""
    import numpy as np

    from dlutils import data

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None and threads == 1:
        torch.set_num_threads(1)
    X, y = data.digits()
    X = np.ascontiguousarray(X.T, dtype=np.float32)  # batch first (m, 64)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    result = {"peak": matmul_peak(np), "torch_threads": torch.get_num_threads() if torch else None, "runs": []}
    for variant in VARIANTS:
        for batch in BATCHES:
            ours, weights = dlutils_trainer(np, variant, X, y, batch)
            theirs = torch_trainer(torch, variant, X, y, batch, weights) if torch else None
            ours(20)  # warm-up: caches, allocator, BLAS threads
            if theirs:
                theirs(20)
            best = {"dlutils": (0.0, 0.0), "torch": (0.0, 0.0)}
            for _ in range(rounds):  # alternate: both frameworks see the same load
                for name, run in (("dlutils", ours), ("torch", theirs)):
                    if run:
                        best[name] = tuple(map(max, best[name], steps_per_second(run, seconds)))
            result["runs"].append({"variant": variant, "batch": batch, **best})
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 rounds of 0.2 s instead of 12 of 0.25 s")
    parser.add_argument("--malloc", action="store_true", help="also: one thread with glibc keeping freed memory")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    rounds, seconds = (4, 0.2) if args.quick else (12, 0.25)
    if args.worker is not None:
        worker(args.worker, rounds, seconds)
        return
    try:
        import torch
        print(f"PyTorch {torch.__version__} (CPU)")
    except ImportError:
        torch = None
        print("PyTorch is not installed (pip install torch==2.13.0 for the comparison): timing dlutils.nn only")
    results = {}
    settings = [("1 thread", 1, {}), ("default", 0, {})]
    if args.malloc:
        settings.append(("1 thread, glibc keeps freed memory", 1, KEEP_FREED_MEMORY))
    for label, threads, extra in settings:
        env = dict(os.environ, **extra)
        for key in THREAD_ENV:
            env.pop(key, None)
            if threads:
                env[key] = str(threads)
        cmd = [sys.executable, __file__, "--worker", str(threads)] + (["--quick"] if args.quick else [])
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        results[label] = json.loads(out.strip().splitlines()[-1])
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores (at the end); float32; "
          f"Adam; best of {rounds} alternating rounds of ~{seconds} s each")
    for label, result in results.items():
        threads = "" if result["torch_threads"] is None else f", torch threads {result['torch_threads']}"
        print(f"\n{label}: float32 matmul peak {result['peak'] / 1e9:.1f} GFLOP/s{threads}")
        print(f"{'':17} {'steps per second':^27}   {'steps per CPU second':^27}   {'% of matmul peak':^17}")
        print(f"{'model':<11} {'batch':>5} {'dlutils.nn':>10} {'PyTorch':>9} {'ratio':>6}   "
              f"{'dlutils.nn':>10} {'PyTorch':>9} {'ratio':>6}   {'nn':>8} {'torch':>8}")
        for run in result["runs"]:
            flops = matmul_flops_per_step(run["batch"])
            (ours, ours_cpu), (theirs, theirs_cpu) = run["dlutils"], run["torch"]
            cells = []
            for a, b in ((ours, theirs), (ours_cpu, theirs_cpu)):
                cells.append(f"{a:10.0f} " + (f"{b:9.0f} {a / b:6.2f}" if b else f"{'-':>9} {'-':>6}"))
            peak = f"{100 * flops * ours / result['peak']:7.1f}% " + (
                f"{100 * flops * theirs / result['peak']:7.1f}%" if theirs else f"{'-':>8}")
            print(f"{run['variant']:<11} {run['batch']:>5} {cells[0]}   {cells[1]}   {peak}")
    print("\nA step: forward, backward, Adam. ratio = dlutils.nn / PyTorch (above 1: dlutils.nn faster). "
          "Steps per CPU second: per second of this process's CPU time (all its threads), which leaves out "
          "other processes' turns on a shared machine. % of matmul peak: the MLP's matmul flops per wall "
          "second over the best measured float32 matmul rate.")


if __name__ == "__main__":
    main()
