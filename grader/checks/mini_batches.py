"""Hidden checks of 05_mini_batches."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ._common import call, expect_uses_only_rng, fail

# ---------------------------------------------------------------- 05_mini_batches

# (n_x, m, mini_batch_size): a remainder, an exact multiple, a batch larger than m,
# a single example, stochastic (s = 1), full batch (s = m), and a long uneven one.
_CASES = ((3, 10, 4), (2, 64, 16), (4, 7, 10), (3, 1, 1), (2, 100, 1), (2, 100, 100), (5, 257, 64))
_ROW = 10_000  # X[i, j] = j + _ROW * i: a column's smallest entry names it, its rows keep their order


def _tagged(n_x: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """X (n_x, m) and Y (1, m) whose every column says which example it is."""
    j = np.arange(m, dtype=np.float64)
    X = j + _ROW * np.arange(n_x, dtype=np.float64).reshape(-1, 1)
    Y = (0.25 + j).reshape(1, m)  # distinct labels: a label that moved to another example shows
    return X, Y


def _call(fn: Callable, who: str, *args: Any) -> Any:
    try:
        return call(fn, *args)
    except Exception as error:  # the student's code failed: name the call that did it
        fail(f"{who} raised {type(error).__name__}: {error}")


def _sizes(m: int, s: int) -> list[int]:
    return [s] * (m // s) + ([m % s] if m % s else [])


def _expect_pairs(batches: Any, who: str, n_x: int) -> list[int]:
    """The returned value is a list of (X_batch, Y_batch) 2-D arrays; returns the batch sizes."""
    if batches is None:
        fail(f"{who} returned None — did you forget `return mini_batches`?")
    if not isinstance(batches, (list, tuple)):
        fail(f"{who}: expected a list of (X_batch, Y_batch) pairs, got {type(batches).__name__}"
             + (" — build the list and return it" if hasattr(batches, "__next__") else ""))
    got = []
    for i, batch in enumerate(batches):
        if not isinstance(batch, tuple) or len(batch) != 2:
            fail(f"{who}: mini-batch {i}: expected a pair (X_batch, Y_batch) as a tuple, got "
                 f"{type(batch).__name__}" + (f" of length {len(batch)}" if hasattr(batch, "__len__") else ""))
        X_batch, Y_batch = batch
        for name, arr, rows in (("X_batch", X_batch, n_x), ("Y_batch", Y_batch, 1)):
            if not isinstance(arr, np.ndarray):
                fail(f"{who}: mini-batch {i}: {name} should be a NumPy array, got {type(arr).__name__}")
            if arr.ndim != 2:
                fail(f"{who}: mini-batch {i}: {name} has shape {arr.shape}, expected 2-D ({rows}, s) — "
                     "slice columns with a range (X[:, k:k + s]) so a single example stays a column")
            if arr.shape[0] != rows:
                hint = " (it looks transposed: examples are columns)" if arr.shape[1] == rows else ""
                fail(f"{who}: mini-batch {i}: {name} has shape {arr.shape}, expected ({rows}, s){hint}")
        if X_batch.shape[1] != Y_batch.shape[1]:
            fail(f"{who}: mini-batch {i}: X_batch has {X_batch.shape[1]} examples but Y_batch has {Y_batch.shape[1]}")
        got.append(X_batch.shape[1])
    return got


def _expect_sizes(got: list[int], m: int, s: int, who: str) -> None:
    want = _sizes(m, s)
    if got == want:
        return
    if m % s and got == want[:-1]:
        fail(f"{who}: got {len(got)} mini-batches of {s}; the last, smaller one is missing. m = {m} is not a "
             f"multiple of {s}, so the remaining {m % s} examples make one more mini-batch: sizes {want}")
    if m % s and len(got) == len(want) and all(g == s for g in got):
        fail(f"{who}: the last mini-batch has {s} examples; it should hold only the {m % s} remaining ones "
             f"(m = {m}, sizes {want}) — do not pad it")
    if sorted(got) == sorted(want):
        fail(f"{who}: got mini-batches of sizes {got}; the smaller one must come last, sizes {want} — "
             "shuffle the examples once, then cut consecutive slices in order")
    fail(f"{who}: expected {len(want)} mini-batches of sizes {want} (m = {m}, mini_batch_size = {s}), "
         f"got {len(got)} of sizes {got}")


def _expect_columns(batches: list, X: np.ndarray, Y: np.ndarray, who: str) -> np.ndarray:
    """Every column is a whole column of X with its own label; returns the example order."""
    m = X.shape[1]
    X_all = np.concatenate([b[0] for b in batches], axis=1)
    Y_all = np.concatenate([b[1] for b in batches], axis=1)
    ids = np.rint(X_all.min(axis=0)).astype(np.int64)
    known = (ids >= 0) & (ids < m)
    if not known.all() or not np.array_equal(np.sort(X_all, axis=0), np.sort(X[:, ids.clip(0, m - 1)], axis=0)):
        fail(f"{who}: the mini-batches hold columns that are not examples of X — take whole columns, "
             "X[:, permutation], and leave the values as they are")
    if not np.array_equal(X_all, X[:, ids]):
        fail(f"{who}: the features (rows) of X were reordered: shuffle the examples (columns), "
             "X[:, permutation], not the rows")
    counts = np.bincount(ids, minlength=m)
    if counts.max() > 1 or counts.min() == 0:
        fail(f"{who}: {int((counts > 1).sum())} examples appear more than once and {int((counts == 0).sum())} "
             "never — draw ONE permutation of all m columns and cut it into slices (sampling with replacement, "
             "or a new permutation per mini-batch, repeats some examples and skips others)")
    if not np.array_equal(Y_all, Y[:, ids]):
        hint = ("Y was not shuffled at all" if m > 1 and np.array_equal(Y_all, Y)
                else "X and Y were shuffled with different permutations")
        fail(f"{who}: labels no longer sit with their examples ({hint}) — apply the SAME permutation to X and Y")
    return ids


def _expect_shuffled(ids: np.ndarray, who: str) -> None:
    m = ids.size
    if m >= 10 and np.array_equal(ids, np.arange(m)):
        fail(f"{who}: the examples are in their original order — shuffle them first (rng.permutation(m))")
    if m >= 50:
        # A random permutation keeps about 2 originally neighbouring examples side by side
        # (Poisson, mean 2(m-1)/m); more than 15 has probability below 1e-8.
        neighbours = int(np.sum(np.abs(np.diff(ids)) == 1))
        if neighbours > 15:
            fail(f"{who}: the order is barely mixed ({neighbours} neighbouring examples still sit side by side; "
                 "a random permutation keeps about 2) — shuffle the individual examples, not blocks of them")


def _same_batches(a: list, b: list) -> bool:
    return len(a) == len(b) and all(np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1]) for x, y in zip(a, b))


def check_random_mini_batches(random_mini_batches: Callable) -> None:
    for seed, (n_x, m, s) in enumerate(_CASES):
        X, Y = _tagged(n_x, m)
        who = f"random_mini_batches(X of shape {X.shape}, Y, mini_batch_size={s}, rng)"
        batches = _call(random_mini_batches, who, X, Y, s, np.random.default_rng(seed))
        _expect_sizes(_expect_pairs(batches, who, n_x), m, s, who)
        _expect_shuffled(_expect_columns(batches, X, Y, who), who)
    X, Y = _tagged(3, 50)
    who = "random_mini_batches(X of shape (3, 50), Y, mini_batch_size=16, rng)"
    expect_uses_only_rng(lambda rng: _call(random_mini_batches, who, X, Y, 16, rng), who, _same_batches)
