"""Hidden checks of 13_ml_strategy.

Every exercise is exact arithmetic on plain data, so the checks are strict:
expected values are computed here by plain loops, on inputs chosen to tell
the usual mistakes apart (ties, models exactly at a limit, a limit broken by
the most accurate model, gaps of either sign, mistakes with several tags or
the same tag twice, equal fractions, zero weights, unknown labels stored as
NaN, logits of +/-800). When a result matches a known mistake recomputed on
the same inputs, the failure names it. No function may change its inputs:
every call goes through ``call_with_inputs`` and the arguments are compared
afterwards.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Callable

import numpy as np

from ._common import call_with_inputs, fail

# ---------------------------------------------------------------- shared


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and np.array_equal(a, b, equal_nan=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, type(a)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _call(fn: Callable, who: str, args: tuple, names: tuple[str, ...], hint: str = "") -> Any:
    """Call the student's fn on copies; fail naming the call if it raises or changes an argument."""
    before = copy.deepcopy(args)
    try:
        got, after, _ = call_with_inputs(fn, *args)
    except Exception as error:  # the student's code failed: name the call that did it
        fail(f"{who} raised {type(error).__name__}: {error}" + (f"\n  Hint: {hint}" if hint else ""))
    for name, old, now in zip(names, before, after):
        if not _same(old, now):
            fail(f"{who} changed its input {name} in place; the caller's {name} must be left as it was\n"
                 "  Hint: build new arrays and lists (x = x - y, sorted(...)), never x -= y, x.sort() or x[...] = ...")
    return got


def _expect_raises_value_error(fn: Callable, who: str, args: tuple, why: str) -> None:
    try:
        got = fn(*copy.deepcopy(args))
    except ValueError:
        return
    except Exception as error:
        fail(f"{who} raised {type(error).__name__}: {error}; expected a ValueError ({why})")
    fail(f"{who} returned {got!r}; expected it to raise a ValueError ({why})")


def _number(got: Any, who: str) -> float:
    if isinstance(got, np.ndarray) and got.ndim > 0:
        fail(f"{who}: expected a number, got an array of shape {got.shape}\n"
             "  Hint: turn it into a number with float(...)")
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.number, np.ndarray)):
        fail(f"{who}: expected a number, got {type(got).__name__}")
    return float(got)


def _expect_number(got: Any, expected: float, who: str, mistakes: dict[str, float], rtol: float = 1e-9,
                   atol: float = 1e-12) -> None:
    value = _number(got, who)
    if math.isclose(value, expected, rel_tol=rtol, abs_tol=atol):
        return
    for label, wrong in mistakes.items():
        if wrong is not None and not math.isclose(wrong, expected, rel_tol=rtol, abs_tol=atol) and (
                (math.isnan(value) and math.isnan(wrong)) or math.isclose(value, wrong, rel_tol=rtol, abs_tol=atol)):
            fail(f"{who}: expected {expected:.6g}, got {value:.6g}\n  Hint: this looks like: {label}")
    fail(f"{who}: expected {expected:.6g}, got {value:.6g}")


# ---------------------------------------------------------------- pick_model


def _pick(candidates: list[dict], max_seconds: float, max_megabytes: float, *, time=True, memory=True,
          strict=False, last_on_ties=False, key="accuracy", sign=1.0) -> Any:
    best = None
    for c in candidates:
        fits_time = (c["seconds"] < max_seconds if strict else c["seconds"] <= max_seconds) or not time
        fits_memory = (c["megabytes"] < max_megabytes if strict else c["megabytes"] <= max_megabytes) or not memory
        if fits_time and fits_memory:
            if best is None or sign * c[key] > sign * best[key] or (last_on_ties and c[key] == best[key]):
                best = c
    return None if best is None else best["name"]


def _pick_mistakes(candidates: list[dict], max_seconds: float, max_megabytes: float) -> dict[str, Any]:
    return {
        "the time limit was not applied: a model slower than max_seconds is out, however accurate":
            _pick(candidates, max_seconds, max_megabytes, time=False),
        "the memory limit was not applied: a model bigger than max_megabytes is out, however accurate":
            _pick(candidates, max_seconds, max_megabytes, memory=False),
        "a model exactly at a limit meets it: use <=, not <": _pick(candidates, max_seconds, max_megabytes, strict=True),
        "on equal accuracy return the candidate listed first (compare with >, not >=)":
            _pick(candidates, max_seconds, max_megabytes, last_on_ties=True),
        "the least accurate model was picked: maximize accuracy": _pick(candidates, max_seconds, max_megabytes,
                                                                        sign=-1.0),
        "the fastest model was picked: running time is only a limit, accuracy is the metric to maximize":
            _pick(candidates, max_seconds, max_megabytes, key="seconds", sign=-1.0),
    }


def _pick_cases() -> list[tuple[str, list[dict], float, float]]:
    def model(name, accuracy, seconds, megabytes):
        return {"name": name, "accuracy": accuracy, "seconds": seconds, "megabytes": megabytes}

    rng = np.random.default_rng(1301)
    random_models = [model(f"net{k}", float(np.round(rng.uniform(0.8, 0.99), 2)), float(np.round(rng.uniform(0, 20), 1)),
                           float(np.round(rng.uniform(0, 20), 1))) for k in range(25)]
    return [
        ("the most accurate model too slow", [model("fast", 0.90, 1.0, 5.0), model("slow", 0.97, 12.0, 5.0),
                                              model("mid", 0.93, 8.0, 9.0), model("poor", 0.85, 3.0, 2.0)], 10.0, 10.0),
        ("the most accurate model too big", [model("small", 0.91, 3.0, 1.0), model("huge", 0.98, 2.0, 40.0),
                                             model("medium", 0.94, 9.0, 8.0)], 10.0, 10.0),
        ("models exactly at the limits", [model("under", 0.90, 9.9, 9.9), model("at", 0.95, 10.0, 10.0)], 10.0, 10.0),
        ("equally accurate models", [model("x", 0.80, 1.0, 1.0), model("first", 0.92, 5.0, 5.0),
                                     model("second", 0.92, 1.0, 1.0), model("third", 0.92, 2.0, 3.0)], 10.0, 10.0),
        ("one candidate", [model("only", 0.5, 0.1, 0.1)], 1.0, 1.0),
        ("25 models with random costs", random_models, 10.0, 10.0),
        ("25 models with random costs, tight limits", random_models, 4.0, 15.0),
    ]


def check_pick_model(pick_model: Callable) -> None:
    for label, candidates, max_seconds, max_megabytes in _pick_cases():
        who = f"pick_model(candidates, {max_seconds}, {max_megabytes}) with {label}"
        expected = _pick(candidates, max_seconds, max_megabytes)
        got = _call(pick_model, who, (candidates, max_seconds, max_megabytes),
                    ("candidates", "max_seconds", "max_megabytes"))
        if isinstance(got, (int, np.integer)) and not isinstance(got, bool) and 0 <= got < len(candidates) \
                and candidates[got]["name"] == expected:
            fail(f"{who}: returned the index {got}; return the candidate's name, {expected!r}")
        if isinstance(got, dict) and got.get("name") == expected:
            fail(f"{who}: returned the whole candidate dict; return its name, {expected!r}")
        if got != expected:
            hint = next((why for why, wrong in _pick_mistakes(candidates, max_seconds, max_megabytes).items()
                         if wrong == got and wrong != expected), None)
            fail(f"{who}: expected {expected!r}, got {got!r}" + (f"\n  Hint: this looks like: {hint}" if hint else ""))
    cases = _pick_cases()
    _expect_raises_value_error(pick_model, "pick_model(candidates, 0.5, 10.0) when every model takes over 1 s",
                               (cases[0][1], 0.5, 10.0), "no candidate meets the limits")
    _expect_raises_value_error(pick_model, "pick_model([], 10.0, 10.0)", ([], 10.0, 10.0), "there is no candidate")


# ---------------------------------------------------------------- error_gaps

GAP_KEYS = ("avoidable_bias", "variance", "data_mismatch", "overfitting_to_dev")


def _gap_mistakes(human, train, train_dev, dev, test) -> dict[str, dict[str, float]]:
    flip = "a gap is the later error minus the earlier one (the sign is flipped)"
    return {
        "avoidable_bias": {"the training error itself is not the bias to fix: subtract human-level error": train,
                           flip: human - train, "avoidable bias is training minus human-level error": dev - human},
        "variance": {"variance is train-dev minus training error; dev minus training mixes in the data mismatch":
                     dev - train, flip: train - train_dev,
                     "variance is train-dev minus training error, not train-dev minus human-level": train_dev - human},
        "data_mismatch": {"data mismatch is dev minus train-dev error, not dev minus training": dev - train,
                          flip: train_dev - dev, "data mismatch is dev minus train-dev error": test - train_dev},
        "overfitting_to_dev": {flip: dev - test, "overfitting to dev is test minus dev error": test - train_dev},
    }


def check_error_gaps(error_gaps: Callable) -> None:
    cases = [("the course's numbers (percent)", (0.5, 8.8, 9.1, 14.3, 14.8)),
             ("errors as fractions, a large variance", (0.01, 0.015, 0.09, 0.1, 0.102)),
             ("a test error below dev error", (0.2, 1.0, 1.5, 6.0, 5.0)),
             ("a train-dev error below training error", (1.0, 10.0, 9.5, 20.0, 20.5)),
             ("whole numbers", (0, 2, 4, 9, 10))]
    for label, args in cases:
        who = f"error_gaps{args} ({label})"
        got = _call(error_gaps, who, args, ("human", "train", "train_dev", "dev", "test"))
        if not isinstance(got, dict):
            fail(f"{who}: expected a dict with keys {list(GAP_KEYS)}, got {type(got).__name__}")
        if sorted(got) != sorted(GAP_KEYS):
            fail(f"{who}: expected the keys {list(GAP_KEYS)}, got {sorted(got)}")
        human, train, train_dev, dev, test = args
        expected = {"avoidable_bias": train - human, "variance": train_dev - train, "data_mismatch": dev - train_dev,
                    "overfitting_to_dev": test - dev}
        mistakes = _gap_mistakes(*args)
        for key in GAP_KEYS:
            _expect_number(got[key], expected[key], f'{who}["{key}"]', mistakes[key])
    by_name = dict(human=0.1, train=0.3, train_dev=0.7, dev=1.5, test=3.1)
    try:
        got = error_gaps(**by_name)
    except TypeError as error:
        fail(f"error_gaps(human=..., train=..., train_dev=..., dev=..., test=...) raised TypeError: {error}\n"
             "  Hint: keep the parameter names human, train, train_dev, dev, test")
    _expect_number(got.get("data_mismatch") if isinstance(got, dict) else got, 0.8,
                   'error_gaps(human=0.1, train=0.3, train_dev=0.7, dev=1.5, test=3.1)["data_mismatch"]', {})


# ---------------------------------------------------------------- error_ceilings


def _ceilings(tags: list[list[str]], dev_error: float, *, per_tag=False, by_tags=False, removed=False,
              ascending=False, ties_by_first_seen=False, by_tagged=False) -> list[tuple[str, float, float]]:
    counts: dict[str, int] = {}
    for mistake in tags:
        for tag in (mistake if per_tag else dict.fromkeys(mistake)):
            counts[tag] = counts.get(tag, 0) + 1
    if by_tags:
        total = sum(len(m) for m in tags)
    elif by_tagged:
        total = sum(1 for m in tags if m)
    else:
        total = len(tags)
    first_seen = list(counts)
    if ties_by_first_seen:
        order = sorted(counts, key=lambda t: (-counts[t], first_seen.index(t)))
    else:
        order = sorted(counts, key=lambda t: (counts[t] if ascending else -counts[t], t))
    rows = []
    for tag in order:
        fraction = counts[tag] / total
        rows.append((tag, fraction, dev_error * fraction if removed else dev_error * (1 - fraction)))
    return rows


def _ceiling_mistakes(tags, dev_error) -> dict[str, list]:
    return {
        "a tag listed twice for one mistake was counted twice: count each tag once per mistake (set(...))":
            _ceilings(tags, dev_error, per_tag=True),
        "divided by the number of tags: fraction = mistakes with the tag / number of mistakes (len(tags))":
            _ceilings(tags, dev_error, by_tags=True),
        "divided by the number of tagged mistakes: mistakes with no tag count in the total too":
            _ceilings(tags, dev_error, by_tagged=True),
        "the ceiling is the best error left, dev_error * (1 - fraction), not the error the fix removes":
            _ceilings(tags, dev_error, removed=True),
        "ordered smallest fraction first: the largest category comes first": _ceilings(tags, dev_error, ascending=True),
        "equal fractions must be in alphabetical order of the tag, not in the order first seen":
            _ceilings(tags, dev_error, ties_by_first_seen=True),
    }


def _rows_close(got: list, expected: list) -> bool:
    return len(got) == len(expected) and all(
        g[0] == e[0] and math.isclose(g[1], e[1], rel_tol=1e-9, abs_tol=1e-12)
        and math.isclose(g[2], e[2], rel_tol=1e-9, abs_tol=1e-12) for g, e in zip(got, expected))


def _ceiling_cases() -> list[tuple[str, list[list[str]], float]]:
    rng = np.random.default_rng(1302)
    names = ["blurry", "dark", "fog", "glare", "mislabelled", "small"]
    random_tags = []
    for _ in range(60):
        k = int(rng.integers(0, 4))
        random_tags.append([names[int(i)] for i in rng.integers(0, len(names), size=k)])  # repeats possible
    return [
        ("the course's foggy images", [["fog"]] * 11 + [["fog", "blurry"]] * 3 + [["great cat"], ["blurry"]] + [[]] * 9,
         14.3),
        ("equal fractions", [["zebra"], ["mislabelled"], ["blurry", "zebra"], ["mislabelled", "blurry"]], 0.08),
        ("a tag listed twice for one mistake", [["faint", "faint"], ["faint"], ["off-centre"], ["off-centre"],
                                                ["look-alike", "off-centre"], []], 0.2),
        ("60 mistakes with random tags", random_tags, 0.123),
        ("one mistake", [["only"]], 0.01),
    ]


def check_error_ceilings(error_ceilings: Callable) -> None:
    for label, tags, dev_error in _ceiling_cases():
        who = f"error_ceilings(tags, {dev_error}) for {label}"
        got = _call(error_ceilings, who, (tags, dev_error), ("tags", "dev_error"))
        expected = _ceilings(tags, dev_error)
        if not isinstance(got, (list, tuple)) or not all(isinstance(r, (list, tuple)) and len(r) == 3 for r in got):
            fail(f"{who}: expected a list of (tag, fraction, ceiling) tuples, got {got!r}"[:400])
        rows = [(r[0], _number(r[1], f"{who}: a fraction"), _number(r[2], f"{who}: a ceiling")) for r in got]
        if _rows_close(rows, expected):
            continue
        hint = next((why for why, wrong in _ceiling_mistakes(tags, dev_error).items()
                     if not _rows_close(wrong, expected) and _rows_close(rows, wrong)), None)
        if [r[0] for r in rows] != [e[0] for e in expected]:
            message = f"expected the tags in the order {[e[0] for e in expected]}, got {[r[0] for r in rows]}"
        else:
            first = next(i for i, (r, e) in enumerate(zip(rows, expected)) if not _rows_close([r], [e]))
            message = f"row {first} ({expected[first][0]!r}): expected {expected[first][1:]}, got {rows[first][1:]}"
        fail(f"{who}: {message}" + (f"\n  Hint: this looks like: {hint}" if hint else ""))
    _expect_raises_value_error(error_ceilings, "error_ceilings([], 0.1)", ([], 0.1), "no mistakes were examined")


# ---------------------------------------------------------------- weighted_error


def _weighted_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1303)
    y = rng.integers(0, 10, 200)
    guess = np.where(rng.random(200) < 0.2, rng.integers(0, 10, 200), y)
    return [
        ("postcode weights", np.array([1, 7, 7, 3, 3, 3, 1]), np.array([7, 7, 1, 3, 8, 3, 1]),
         np.array([10.0, 10.0, 10.0, 1.0, 1.0, 1.0, 10.0])),
        ("some zero weights", np.array([0, 1, 1, 0, 1]), np.array([1, 1, 0, 0, 0]), np.array([0.0, 2.0, 0.0, 1.0, 3.0])),
        ("whole-number weights", np.array([2, 2, 5, 9]), np.array([2, 3, 5, 4]), np.array([1, 4, 2, 3])),
        ("200 digits with random weights", y, guess, rng.uniform(0.1, 5.0, 200)),
        ("no mistakes", np.array([4, 5]), np.array([4, 5]), np.array([1.0, 3.0])),
    ]


def check_weighted_error(weighted_error: Callable) -> None:
    for label, y_true, y_pred, weights in _weighted_cases():
        who = f"weighted_error(y_true, y_pred, weights) for {label} (m = {y_true.size})"
        got = _call(weighted_error, who, (y_true, y_pred, weights), ("y_true", "y_pred", "weights"))
        wrong = (y_true != y_pred).astype(float)
        w = weights.astype(float)
        expected = float(np.sum(w * wrong) / np.sum(w))
        _expect_number(got, expected, who, {
            "the weights are missing: each mistake counts its weight, over the sum of the weights": wrong.mean(),
            "divide by the sum of the weights, not by the number of examples": float(np.sum(w * wrong) / w.size),
            "a mistake is y_pred != y_true: this counts the correct predictions": float(np.sum(w * (1 - wrong))
                                                                                         / np.sum(w)),
            "divide by the sum of all weights, not only the weights of the mistakes":
                float(np.sum(w * wrong) / np.sum(w * wrong)) if np.sum(w * wrong) > 0 else None,
        })


# ---------------------------------------------------------------- masked_sigmoid_cost


def _bce(z: float, y: float) -> float:
    """-(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))), exact for any z, in Python floats."""
    return max(z, 0.0) - z * y + math.log1p(math.exp(-abs(z)))


def _masked_cost(Z: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
    losses = [_bce(float(Z[k, i]), float(Y[k, i])) for k in range(Z.shape[0]) for i in range(Z.shape[1])
              if mask[k, i]]
    return math.fsum(losses) / len(losses)


def _masked_mistakes(Z: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> dict[str, float | None]:
    known = mask > 0
    with np.errstate(all="ignore"):
        labels = np.where(known, Y, 0.0)
        losses = np.maximum(Z, 0) - Z * labels + np.log1p(np.exp(-np.abs(Z)))
        total = float(np.sum(np.where(known, losses, 0.0)))
        A = 1 / (1 + np.exp(-Z))
        naive = -(labels * np.log(A) + (1 - labels) * np.log(1 - A))
        E = np.exp(Z - Z.max(axis=0, keepdims=True))
        S = E / E.sum(axis=0, keepdims=True)
        softmax_cost = float(-np.sum(np.where(known, labels * np.log(S), 0.0)) / known.sum())
    return {
        "divide by the number of known labels (mask.sum()), not by all K * m entries": total / Z.size,
        "divide by the number of known labels (mask.sum()), not by the number of examples m": total / Z.shape[1],
        "log(sigmoid(z)) computed directly is log(0) = -inf for very negative z: use max(z, 0) - z y + "
        "log1p(exp(-|z|))": float(np.sum(np.where(known, naive, 0.0)) / known.sum()),
        "softmax makes the outputs compete; each yes/no output is its own sigmoid": softmax_cost,
        "the unknown labels were not left out: the mask must select the known entries only":
            float(np.mean(np.maximum(Z, 0) - Z * np.nan_to_num(Y) + np.log1p(np.exp(-np.abs(Z))))),
    }


def _masked_cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1304)
    Z = rng.normal(0.0, 3.0, (3, 40))
    Y = (rng.random((3, 40)) < 0.5).astype(float)
    mask = (rng.random((3, 40)) < 0.6).astype(float)
    nan = np.nan
    return [
        ("unknown labels stored as NaN", np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]]),
         np.array([[1.0, 0.0, nan], [nan, 1.0, 0.0]]), np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])),
        ("logits of ±800", np.array([[800.0, -800.0], [-800.0, 0.0]]), np.array([[1.0, 1.0], [0.0, nan]]),
         np.array([[1.0, 1.0], [1.0, 0.0]])),
        ("every label known (the plain mean cross-entropy)", Z[:, :10], Y[:, :10], np.ones((3, 10))),
        ("3 tasks, 40 examples, 40 % unknown (NaN)", Z, np.where(mask > 0, Y, nan), mask),
        ("unknown labels stored as 0.5", Z[:2, :7], np.where(mask[:2, :7] > 0, Y[:2, :7], 0.5), mask[:2, :7]),
        ("a mask of whole numbers", Z[:, 5:15], np.where(mask[:, 5:15] > 0, Y[:, 5:15], nan),
         mask[:, 5:15].astype(np.int64)),
    ]


def check_masked_sigmoid_cost(masked_sigmoid_cost: Callable) -> None:
    for label, Z, Y, mask in _masked_cases():
        who = f"masked_sigmoid_cost(Z, Y, mask) for {label} (Z of shape {Z.shape})"
        with np.errstate(all="ignore"):
            got = _call(masked_sigmoid_cost, who, (Z, Y, mask), ("Z", "Y", "mask"))
        value = _number(got, who)
        if math.isnan(value) and np.isnan(Y).any() and np.abs(Z).max() < 50:
            fail(f"{who}: got nan\n  Hint: unknown labels are NaN and 0 * nan is nan: select the known labels "
                 "with np.where(mask > 0, Y, 0) (and the losses with np.where too) instead of multiplying by the mask")
        if not math.isfinite(value):
            fail(f"{who}: got {value}\n  Hint: log(sigmoid(z)) underflows to log(0) for very negative z: use the "
                 "stable form max(z, 0) - z y + log1p(exp(-|z|))")
        _expect_number(value, _masked_cost(Z, Y, mask), who, _masked_mistakes(Z, Y, mask), rtol=1e-9)
