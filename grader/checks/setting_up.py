"""Hidden checks of 01_setting_up."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dlutils.checks import column_origins, expect_array, expect_partition, expect_shape

from ._common import call, call_each, expect_uses_only_rng, fail

SPLITS = ("train", "dev", "test")


# ---------------------------------------------------------------- shared helpers

def _examples(n_x: int, m: int, seed: int, n_y: int = 1, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """X (n_x, m) with distinct float columns, Y (n_y, m): binary labels, or one-hot when n_y > 1."""
    g = np.random.default_rng(seed)
    X = g.standard_normal((n_x, m)) + offset
    X[0] = offset + np.arange(m) + g.uniform(0.1, 0.9, m)  # distinct, so every column is recognisable
    if n_y == 1:
        Y = (g.random((1, m)) < 0.5).astype(np.int64)
    else:
        Y = np.eye(n_y, dtype=np.int64)[:, g.integers(0, n_y, m)]
    return X, Y


def _three_pairs(result: Any, who: str) -> dict[str, tuple]:
    """The ((X_train, Y_train), (X_dev, Y_dev), (X_test, Y_test)) a split returns, as a dict."""
    if result is None:
        fail(f"{who} returned None — did you forget `return`?")
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        what = f"{len(result)} items" if isinstance(result, (tuple, list)) else type(result).__name__
        fail(f"{who}: expected ((X_train, Y_train), (X_dev, Y_dev), (X_test, Y_test)), got {what}")
    return dict(zip(SPLITS, result))


def _expect_pairs(parts: dict[str, Any], who: str, n_x: int, n_y: int) -> tuple[int, ...]:
    """Each split is a pair (X_s, Y_s) of 2-D arrays with n_x and n_y rows; returns the sizes."""
    for s in SPLITS:
        pair = parts[s]
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            what = f"{len(pair)} items" if isinstance(pair, (tuple, list)) else type(pair).__name__
            fail(f"{who}: expected the {s} split as a pair (X_{s}, Y_{s}), got {what}")
        expect_shape(pair[0], (n_x, None), f"{who}: X_{s}")
        expect_shape(pair[1], (n_y, None), f"{who}: Y_{s}")
    return tuple(int(parts[s][0].shape[1]) for s in SPLITS)


def _same_splits(a: Any, b: Any) -> bool:
    try:
        return all(np.array_equal(x, y) for pa, pb in zip(a, b) for x, y in zip(pa, pb))
    except (TypeError, ValueError):
        return False


def _expect_random_membership(fn: Callable, arguments: Callable[[np.random.Generator], tuple],
                              membership: Callable[[Any], dict[str, np.ndarray]], who: str,
                              m: int, probabilities: dict[str, float], repeats: int = 300) -> None:
    """Over many generators, each example lands in each split with the right probability.

    ``fn(*arguments(rng))`` is called once per generator (all in one round
    trip to a student's kernel: ``_common.call_each``); ``membership`` turns
    its result into split name -> indices of the examples it holds.
    Tolerance: 5.5 standard errors per (example, split), so a correct
    implementation essentially never fails (about 1e-6 for 60 cells).
    Also counts how often neighbouring examples (i, i + 1) share a split,
    which a random contiguous block or a rotation gets far too often.
    """
    counts = {s: np.zeros(m) for s in probabilities}
    together = 0
    calls = [(arguments(np.random.default_rng(1000 + r)), {}) for r in range(repeats)]
    for result in call_each(fn, calls):
        where = membership(result)
        label = np.full(m, -1)
        for k, s in enumerate(probabilities):
            counts[s][where[s]] += 1
            label[where[s]] = k
        together += int(np.sum(label[1:] == label[:-1]))
    for s, p in probabilities.items():
        expected, se = repeats * p, np.sqrt(repeats * p * (1 - p))
        worst = int(np.argmax(np.abs(counts[s] - expected)))
        if abs(counts[s][worst] - expected) > 5.5 * se:
            fail(f"{who}: over {repeats} differently seeded generators, example {worst} landed in {s} "
                 f"{int(counts[s][worst])} times, expected about {expected:.0f} (± {5.5 * se:.0f}): every example "
                 "must be equally likely to land in each split — shuffle all the columns, then cut")
    sizes = {s: round(p * m) for s, p in probabilities.items()}
    p_together = sum(n * (n - 1) for n in sizes.values()) / (m * (m - 1))
    pairs = repeats * (m - 1)
    # Pairs within one split are not independent; 8 binomial standard errors is generous.
    tolerance = 8 * np.sqrt(pairs * p_together * (1 - p_together))
    if abs(together - pairs * p_together) > tolerance:
        fail(f"{who}: neighbouring examples end up in the same split {together / pairs:.0%} of the time, "
             f"a random permutation gives about {p_together:.0%}: the split is not one random permutation "
             "(a random offset or a contiguous block keeps neighbours together)")


# ---------------------------------------------------------------- split_dataset

def _split_size_mistakes(m: int, fractions: tuple[float, float, float]) -> dict[str, tuple[int, int, int]]:
    f_train, f_dev, f_test = fractions
    n_dev, n_test = int(m * f_dev), int(m * f_test)
    right = (m - n_dev - n_test, n_dev, n_test)
    r_dev, r_test = round(m * f_dev), round(m * f_test)
    cut1, cut2 = int(m * f_train), int(m * (f_train + f_dev))
    mistakes = {
        "round() instead of int(): n_dev = int(m * f_dev) rounds down": (m - r_dev - r_test, r_dev, r_test),
        "train took int(m * f_train) and the leftover examples were dropped: "
        "train gets the rest, m - n_dev - n_test": (int(m * f_train), n_dev, n_test),
        "cuts at cumulative fractions: compute n_dev = int(m * f_dev) and n_test = int(m * f_test) "
        "from their own fractions, train gets the rest": (cut1, cut2 - cut1, m - cut2),
        "dev and test swapped: return (train, dev, test) in that order": (right[0], n_test, n_dev),
    }
    return {label: sizes for label, sizes in mistakes.items() if sizes != right}


def _check_split_case(split_dataset: Callable, who: str, X: np.ndarray, Y: np.ndarray,
                      fractions: tuple[float, float, float], seed: int) -> dict[str, np.ndarray]:
    m = X.shape[1]
    call_name = f"{who}(X of shape {X.shape}, Y of shape {Y.shape}, fractions={fractions}, rng)"
    parts = _three_pairs(call(split_dataset, X, Y, fractions, np.random.default_rng(seed)), call_name)
    got = _expect_pairs(parts, call_name, X.shape[0], Y.shape[0])
    n_dev, n_test = int(m * fractions[1]), int(m * fractions[2])
    right = (m - n_dev - n_test, n_dev, n_test)
    if got != right:
        mistake = next((label for label, sizes in _split_size_mistakes(m, fractions).items() if sizes == got), None)
        if mistake is None and fractions[2] == 0 and got[2] == m:
            mistake = "with f_test = 0 the test set must be empty, but X[:, -0:] is all of X: slice from m - n_test"
        fail(f"{call_name}: expected (n_train, n_dev, n_test) = {right} (m = {m}), got {got}"
             + (f"\n  Hint: this looks like: {mistake}" if mistake else ""))
    expect_partition(parts, X, Y, call_name)
    origins = {s: column_origins(parts[s][0], X) for s in SPLITS}
    order = np.concatenate([origins[s] for s in SPLITS])
    if np.array_equal(order, np.arange(m)):
        fail(f"{call_name}: the examples come back in their original order — shuffle the columns "
             "(one random permutation from rng) before cutting")
    for s in SPLITS:
        if origins[s].size >= 10 and np.all(np.diff(origins[s]) > 0):
            fail(f"{call_name}: the columns of X_{s} come out in their original order: keep the shuffled order "
                 "(index with the permutation itself, not with a sorted index or a boolean mask)")
    return origins


def check_split_dataset(split_dataset: Callable) -> None:
    who = "split_dataset"
    # m = 42 and (0.6, 0.3, 0.1): every size mistake of _split_size_mistakes gives other sizes, so the
    # first failure names the right one (a test keeps it so).
    X, Y = _examples(3, 42, seed=1)
    _check_split_case(split_dataset, who, X, Y, (0.6, 0.3, 0.1), seed=0)
    X, Y = _examples(3, 99, seed=7)
    _check_split_case(split_dataset, who, X, Y, (0.6, 0.3, 0.1), seed=4)
    X, Y = _examples(2, 1000, seed=2)
    _check_split_case(split_dataset, who, X, Y, (0.98, 0.01, 0.01), seed=1)
    X, Y = _examples(4, 50, seed=3)  # no test set at all
    _check_split_case(split_dataset, who, X, Y, (0.8, 0.2, 0.0), seed=2)
    X, Y = _examples(2, 40, seed=4, n_y=3)  # one-hot labels: every row of Y travels
    _check_split_case(split_dataset, who, X, Y, (0.5, 0.25, 0.25), seed=3)

    X, Y = _examples(3, 30, seed=5)
    expect_uses_only_rng(lambda rng: call(split_dataset, X, Y, (0.6, 0.2, 0.2), rng), who, _same_splits)

    X, Y = _examples(2, 20, seed=6)

    def membership(result: Any) -> dict[str, np.ndarray]:
        parts = _three_pairs(result, who)
        expect_partition(parts, X, Y, who)
        return {s: column_origins(parts[s][0], X) for s in SPLITS}

    _expect_random_membership(split_dataset, lambda rng: (X, Y, (0.5, 0.25, 0.25), rng), membership, who, 20,
                              {"train": 0.5, "dev": 0.25, "test": 0.25})


# ---------------------------------------------------------------- split_sizes

def _reference_sizes(m: int, cap: int) -> tuple[int, int, int]:
    n = min(m // 5, cap)
    return (m - 2 * n, n, n)


_SIZE_MISTAKES: dict[str, Callable[[int, int], tuple]] = {
    "round() instead of rounding down: 20% of m is m // 5": lambda m, cap: (
        m - 2 * min(round(m * 0.2), cap), min(round(m * 0.2), cap), min(round(m * 0.2), cap)),
    # Before "60/20/20": with cap=100 both give 20%, and only a fixed cap gets that far.
    "the cap is fixed at 10,000: use the `cap` argument": lambda m, cap: _reference_sizes(m, 10_000),
    "60/20/20 for every m: dev and test get at most `cap` examples each": lambda m, cap: (
        m - 2 * (m // 5), m // 5, m // 5),
    "98/1/1 for every m: small data sets need 20% each for dev and test": lambda m, cap: (
        m - 2 * (m // 100), m // 100, m // 100),
    "dev and test share the cap: each of them gets up to `cap` examples": lambda m, cap: (
        m - 2 * min(m // 5, cap // 2), min(m // 5, cap // 2), min(m // 5, cap // 2)),
    "the order is (n_train, n_dev, n_test)": lambda m, cap: _reference_sizes(m, cap)[::-1],
}

_SIZE_CASES = [(10, None), (99, None), (1_000, None), (49_999, None), (50_000, None), (1_000_000, None),
               (100_000_000, None), (1_000, 100), (1_000_000, 50_000), (4, None)]


def check_split_sizes(split_sizes: Callable) -> None:
    who = "split_sizes"
    calls = [((m,) if cap is None else (m, cap), {}) for m, cap in _SIZE_CASES]
    for (m, cap), got in zip(_SIZE_CASES, call_each(split_sizes, calls)):
        shown = f"{who}({m:_})" if cap is None else f"{who}({m:_}, cap={cap:_})"
        if got is None:
            fail(f"{shown} returned None — did you forget `return`?")
        if isinstance(got, np.ndarray) and got.ndim == 1:
            got = tuple(got)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            fail(f"{shown}: expected a tuple (n_train, n_dev, n_test), got {got!r}")
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) for n in got):
            fail(f"{shown}: expected three whole numbers (int), got {got!r}",)
        got = tuple(int(n) for n in got)
        right = _reference_sizes(m, 10_000 if cap is None else cap)
        if got != right:
            mistake = next((label for label, wrong in _SIZE_MISTAKES.items()
                            if tuple(wrong(m, 10_000 if cap is None else cap)) == got), None)
            fail(f"{shown}: expected (n_train, n_dev, n_test) = {right}, got {got}"
                 + (f"\n  Hint: this looks like: {mistake}" if mistake else ""))


# ---------------------------------------------------------------- split_with_extra

def check_split_with_extra(split_with_extra: Callable) -> None:
    who = "split_with_extra"
    for seed, (m_t, m_e, n_dev, n_test) in enumerate([(40, 60, 8, 6), (25, 3, 10, 15), (12, 30, 0, 5)]):
        X_t, Y_t = _examples(3, m_t, seed=10 + seed)
        X_e, Y_e = _examples(3, m_e, seed=20 + seed, offset=1000.0)  # columns differ from every target column
        shown = (f"{who}(target: {m_t} examples, extra: {m_e} examples, n_dev={n_dev}, n_test={n_test}, rng)")
        parts = _three_pairs(call(split_with_extra, X_t, Y_t, X_e, Y_e, n_dev, n_test,
                                  np.random.default_rng(seed)), shown)
        got = _expect_pairs(parts, shown, 3, 1)
        right = (m_t - n_dev - n_test + m_e, n_dev, n_test)
        if got != right:
            hint = None
            if got == (m_e, n_dev, n_test):
                hint = "the target examples left over after dev and test also go to train"
            elif got == (m_t - n_dev - n_test, n_dev, n_test):
                hint = "all the extra examples go to train"
            elif got == (right[0], n_test, n_dev):
                hint = "dev and test swapped: return (train, dev, test) in that order"
            fail(f"{shown}: expected (n_train, n_dev, n_test) = {right}, got {got}"
                 + (f"\n  Hint: {hint}" if hint else ""))
        X_all, Y_all = np.hstack([X_t, X_e]), np.hstack([Y_t, Y_e])
        expect_partition(parts, X_all, Y_all, shown)
        for s in ("dev", "test"):
            extra = int(np.sum(column_origins(parts[s][0], X_all) >= m_t))
            if extra:
                fail(f"{shown}: X_{s} holds {extra} example(s) of X_extra: dev and test must both come from the "
                     "target data only (the distribution the model will meet), extra data only trains")
    X_t, Y_t = _examples(2, 30, seed=30)
    X_e, Y_e = _examples(2, 10, seed=31, offset=1000.0)
    expect_uses_only_rng(lambda rng: call(split_with_extra, X_t, Y_t, X_e, Y_e, 6, 6, rng), who, _same_splits)

    X_t, Y_t = _examples(2, 20, seed=32)
    X_e, Y_e = _examples(2, 5, seed=33, offset=1000.0)
    X_all, Y_all = np.hstack([X_t, X_e]), np.hstack([Y_t, Y_e])

    def membership(result: Any) -> dict[str, np.ndarray]:
        parts = _three_pairs(result, who)
        expect_partition(parts, X_all, Y_all, who)
        where = {s: column_origins(parts[s][0], X_all) for s in SPLITS}
        where["train"] = where["train"][where["train"] < 20]  # the target part of train
        return where

    _expect_random_membership(split_with_extra, lambda rng: (X_t, Y_t, X_e, Y_e, 5, 5, rng), membership,
                              f"{who} (target examples)", 20, {"train": 0.5, "dev": 0.25, "test": 0.25})


# ---------------------------------------------------------------- diagnose and next_step

DIAGNOSES = ("high bias", "high variance", "both", "fine")


def _reference_diagnosis(train_error: float, dev_error: float, human_error: float, tolerance: float) -> str:
    bias = train_error - human_error > tolerance
    variance = dev_error - train_error > tolerance
    return "both" if bias and variance else "high bias" if bias else "high variance" if variance else "fine"


def _as_diagnosis(bias: bool, variance: bool) -> str:
    return "both" if bias and variance else "high bias" if bias else "high variance" if variance else "fine"


_DIAGNOSE_MISTAKES: dict[str, Callable[[float, float, float, float], str]] = {
    "bias measured against 0 instead of human-level error: avoidable bias = train_error - human_error":
        lambda tr, dv, hu, tol: _as_diagnosis(tr > tol, dv - tr > tol),
    "variance measured from human-level error: variance = dev_error - train_error":
        lambda tr, dv, hu, tol: _as_diagnosis(tr - hu > tol, dv - hu > tol),
    "bias measured from dev error: avoidable bias = train_error - human_error":
        lambda tr, dv, hu, tol: _as_diagnosis(dv - hu > tol, dv - tr > tol),
    "'both' never comes back: check bias and variance separately, then combine":
        lambda tr, dv, hu, tol: ("high bias" if tr - hu > tol else "high variance" if dv - tr > tol else "fine"),
    "the tolerance is fixed at 0.02: use the `tolerance` argument":
        lambda tr, dv, hu, tol: _reference_diagnosis(tr, dv, hu, 0.02),
    "errors compared in percent: errors and tolerance are fractions (0.02 is 2%)":
        lambda tr, dv, hu, tol: _reference_diagnosis(tr, dv, hu, 100 * tol),
    "abs() of the train-dev gap: a dev error below the train error is no variance problem":
        lambda tr, dv, hu, tol: _as_diagnosis(tr - hu > tol, abs(dv - tr) > tol),
    "labels swapped: too little fit on train is bias, a train-dev gap is variance":
        lambda tr, dv, hu, tol: {"high bias": "high variance", "high variance": "high bias"}.get(
            _reference_diagnosis(tr, dv, hu, tol), _reference_diagnosis(tr, dv, hu, tol)),
}

# (train_error, dev_error, human_error, tolerance or None for the default). No gap is
# within 1e-6 of its tolerance, so > and >= agree and rounding cannot decide a case.
_DIAGNOSE_CASES = [
    (0.01, 0.11, 0.0, None), (0.15, 0.16, 0.0, None), (0.15, 0.30, 0.0, None), (0.005, 0.01, 0.0, None),
    (0.01, 0.045, 0.0, None), (0.03, 0.06, 0.0, None),
    (0.155, 0.165, 0.15, None), (0.16, 0.30, 0.15, None), (0.25, 0.26, 0.15, None), (0.20, 0.40, 0.10, None),
    (0.04, 0.08, 0.0, 0.05), (0.10, 0.12, 0.0, 0.05), (0.06, 0.02, 0.05, None), (0.30, 0.20, 0.10, None),
    (0.001, 0.012, 0.0, 0.01), (0.08, 0.09, 0.07, 0.005),
]


def check_diagnose(diagnose: Callable) -> None:
    who = "diagnose"
    got_all, want_all = [], []
    first_wrong = None
    calls = [((tr, dv, hu), {} if tol is None else {"tolerance": tol}) for tr, dv, hu, tol in _DIAGNOSE_CASES]
    for (tr, dv, hu, tol), got in zip(_DIAGNOSE_CASES, call_each(diagnose, calls)):
        shown = f"{who}(train_error={tr}, dev_error={dv}, human_error={hu}" + (
            f", tolerance={tol})" if tol is not None else ")")
        if got is None:
            fail(f"{shown} returned None — did you forget `return`?")
        if not isinstance(got, str) or got not in DIAGNOSES:
            fail(f"{shown}: expected one of {', '.join(map(repr, DIAGNOSES))}, got {got!r} "
                 "(return exactly one of these strings)")
        tol_value = 0.02 if tol is None else tol
        want = _reference_diagnosis(tr, dv, hu, tol_value)
        got_all.append(got)
        want_all.append(want)
        if got != want and first_wrong is None:
            first_wrong = (shown, got, want, tr - hu, dv - tr, tol_value)
    if first_wrong is None:
        return
    shown, got, want, bias, variance, tol_value = first_wrong
    mistake = next((label for label, wrong in _DIAGNOSE_MISTAKES.items()
                    if [wrong(tr, dv, hu, 0.02 if tol is None else tol) for tr, dv, hu, tol in _DIAGNOSE_CASES]
                    == got_all), None)
    fail(f"{shown}: expected {want!r} (avoidable bias {bias:.3g} = train - human, variance {variance:.3g} = "
         f"dev - train, each a problem when more than {tol_value}), got {got!r}"
         + (f"\n  Hint: this looks like: {mistake}" if mistake else ""))


REMEDIES = {"bigger network", "train longer", "more data", "regularize"}
_NEXT_STEP = {
    "high bias": {"bigger network", "train longer"},
    "both": {"bigger network", "train longer"},
    "high variance": {"more data", "regularize"},
    "fine": set(),
}


def check_next_step(next_step: Callable) -> None:
    who = "next_step"
    calls = [((diagnosis,), {}) for diagnosis in _NEXT_STEP]
    for (diagnosis, right), got in zip(_NEXT_STEP.items(), call_each(next_step, calls)):
        shown = f"{who}({diagnosis!r})"
        if got is None:
            fail(f"{shown} returned None — did you forget `return`? (return an empty list when nothing needs fixing)")
        if isinstance(got, str) or not isinstance(got, (list, tuple, set, frozenset)):
            fail(f"{shown}: expected a list of remedies, e.g. [\"more data\", \"regularize\"], got {got!r}")
        unknown = [r for r in got if not isinstance(r, str) or r not in REMEDIES]
        if unknown:
            fail(f"{shown}: {unknown[0]!r} is not a remedy of the recipe; use "
                 f"{', '.join(map(repr, sorted(REMEDIES)))} (the constants BIGGER_NETWORK, ...)")
        if len(set(got)) != len(list(got)):
            fail(f"{shown}: a remedy appears twice in {list(got)!r}")
        if set(got) != right:
            hint = None
            bias_fix, variance_fix = _NEXT_STEP["high bias"], _NEXT_STEP["high variance"]
            if diagnosis == "both" and set(got) == bias_fix | variance_fix:
                hint = "the recipe fixes bias first: with both problems, reduce bias, then look at variance again"
            elif diagnosis == "both" and set(got) == variance_fix:
                hint = "the recipe fixes bias first: more data cannot help a model that does not even fit its training set"
            elif diagnosis == "high bias" and set(got) & variance_fix:
                hint = "more data and regularization do not help a model that underfits its own training set"
            elif diagnosis == "high variance" and set(got) & bias_fix:
                hint = "a gap between train and dev is closed by more data or regularization"
            elif diagnosis == "fine" and got:
                hint = "nothing to fix: return an empty list"
            fail(f"{shown}: expected {sorted(right)} (any order), got {list(got)!r}"
                 + (f"\n  Hint: {hint}" if hint else ""))


# ---------------------------------------------------------------- fit_normalizer and normalize

def _feature_data(m: int, seed: int) -> np.ndarray:
    """Three features on very different scales and offsets (no single scale fits all)."""
    g = np.random.default_rng(seed)
    return np.vstack([200 + 10 * g.standard_normal(m), 0.01 * g.standard_normal(m) - 0.5,
                      g.integers(1, 6, m).astype(np.float64)])


def _expect_pair(result: Any, who: str, names: tuple[str, str]) -> tuple:
    if result is None:
        fail(f"{who} returned None — did you forget `return`?")
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        what = f"{len(result)} items" if isinstance(result, (tuple, list)) else type(result).__name__
        fail(f"{who}: expected a pair ({', '.join(names)}), got {what}")
    return tuple(result)


def check_fit_normalizer(fit_normalizer: Callable) -> None:
    who = "fit_normalizer"
    for X in (_feature_data(50, 0), _feature_data(7, 1), _feature_data(1, 2)):
        n_x, m = X.shape
        shown = f"{who}(X_train of shape {X.shape})"
        mu, var = _expect_pair(call(fit_normalizer, X), shown, ("mu", "var"))
        right_mu, right_var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
        for label, got in (("mu", mu), ("var", var)):
            shape = np.shape(got)
            if shape in ((1, m), (m,), (m, 1)) and m != n_x and m > 1:
                fail(f"{shown}: {label} has shape {shape}: one value per example (axis=0); the normalizer "
                     f"needs one value per feature: average over the examples (axis=1), shape ({n_x}, 1)")
        expect_array(mu, right_mu, f"{shown}: mu", mistakes={"(var, mu) returned in the wrong order": right_var})
        with np.errstate(divide="ignore", invalid="ignore"):
            var_mistakes = {
                "the sample variance (ddof=1, divides by m - 1): use the population variance, 1/m": (
                    X.var(axis=1, ddof=1, keepdims=True) if m > 1 else np.full((n_x, 1), np.nan)),
                "the standard deviation: return the variance (its square)": np.sqrt(right_var),
                "the mean of X**2: subtract the mean first, var = mean((X - mu)**2)": np.mean(X**2, axis=1,
                                                                                            keepdims=True),
                "(var, mu) returned in the wrong order": right_mu,
            }
        expect_array(var, right_var, f"{shown}: var",
                     mistakes={k: v for k, v in var_mistakes.items() if not np.allclose(v, right_var)})


def _normalize_mistakes(X: np.ndarray, mu: np.ndarray, var: np.ndarray, eps: float) -> dict[str, np.ndarray]:
    own_mu, own_var = X.mean(axis=1, keepdims=True), X.var(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "ε outside the square root: divide by sqrt(var + epsilon)": (X - mu) / (np.sqrt(var) + eps),
            "no ε: divide by sqrt(var + epsilon), which stays finite for a constant feature": (X - mu) / np.sqrt(var),
            "divided by var + ε: divide by its square root, sqrt(var + epsilon)": (X - mu) / (var + eps),
            "divided by var: divide by sqrt(var + epsilon)": (X - mu) / var,
            "mu not subtracted: (X - mu) / sqrt(var + epsilon)": X / np.sqrt(var + eps),
            "mu added: (X - mu) / sqrt(var + epsilon)": (X + mu) / np.sqrt(var + eps),
            "X's own mean and variance instead of the mu and var you were given — refitting on the data you "
            "normalize leaks dev/test statistics; use the training statistics":
                (X - own_mu) / np.sqrt(own_var + eps),
            "X's own mean instead of mu — use the mu you were given (the training mean)":
                (X - own_mu) / np.sqrt(var + eps),
            "X's own variance instead of var — use the var you were given (the training variance)":
                (X - mu) / np.sqrt(own_var + eps),
        }


def check_normalize(normalize: Callable) -> None:
    who = "normalize"
    train = _feature_data(40, 3)
    mu, var = train.mean(axis=1, keepdims=True), train.var(axis=1, keepdims=True)
    var[1] = 1e-8  # a nearly constant feature: where epsilon is and whether it is there matters
    X = _feature_data(9, 4) + np.array([[5.0], [0.002], [0.5]])  # dev-like data with its own statistics
    one = X[:, :1]  # one example at a time: its own variance is 0
    cases = [
        (X, mu, var, None), (X, mu, var, 0.5), (one, mu, var, None),
        (X, mu, np.array([[4.0], [0.0], [0.25]]), None),  # a feature constant in the training set
    ]
    for X_in, mu_in, var_in, eps in cases:
        kwargs = {} if eps is None else {"epsilon": eps}
        eps_value = 1e-8 if eps is None else eps
        shown = (f"{who}(X of shape {X_in.shape}, mu, var"
                 + (f", epsilon={eps})" if eps is not None else ")")
                 + f" with var = [{', '.join(f'{v:.4g}' for v in var_in.ravel())}]")
        got = call(normalize, X_in, mu_in, var_in, **kwargs)
        right = (X_in - mu_in) / np.sqrt(var_in + eps_value)
        mistakes = _normalize_mistakes(X_in, mu_in, var_in, eps_value)
        if eps is None:
            for other in (1e-5, 1e-7, 1e-10):
                mistakes[f"a default epsilon of {other:g}: the default is epsilon=1e-8"] = (
                    (X_in - mu_in) / np.sqrt(var_in + other))
        else:
            mistakes["epsilon ignored: use the epsilon argument"] = (X_in - mu_in) / np.sqrt(var_in + 1e-8)
        mistakes = {k: v for k, v in mistakes.items()
                    if not (np.shape(v) == right.shape and np.allclose(v, right, rtol=1e-7, atol=1e-12))}
        expect_array(got, right, shown, mistakes=mistakes)
