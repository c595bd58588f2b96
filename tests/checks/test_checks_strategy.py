"""The hidden checks of 13_ml_strategy: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks import strategy as checks_strategy

# ================================================================== pick_model


def pick_sorted(candidates, max_seconds, max_megabytes):
    fits = [c for c in candidates if c["seconds"] <= max_seconds and c["megabytes"] <= max_megabytes]
    if not fits:
        raise ValueError("no candidate meets the limits")
    return sorted(fits, key=lambda c: -c["accuracy"])[0]["name"]  # sorted is stable: first listed wins ties


def pick_numpy(candidates, max_seconds, max_megabytes):
    acc = np.array([c["accuracy"] for c in candidates], dtype=float)
    ok = np.array([c["seconds"] <= max_seconds and c["megabytes"] <= max_megabytes for c in candidates], dtype=bool)
    if ok.size == 0 or not ok.any():
        raise ValueError("nothing fits")
    return candidates[int(np.argmax(np.where(ok, acc, -np.inf)))]["name"]


def pick_filter_in_place(candidates, max_seconds, max_megabytes):
    candidates[:] = [c for c in candidates if c["seconds"] <= max_seconds and c["megabytes"] <= max_megabytes]
    if not candidates:
        raise ValueError("none")
    return max(candidates, key=lambda c: c["accuracy"])["name"]  # max keeps the first on ties


@pytest.mark.parametrize("fn", [pick_sorted, pick_numpy], ids=lambda f: f.__name__)
def test_pick_model_correct_variants_pass(fn):
    checks_strategy.check_pick_model(fn)


def test_pick_model_reference_passes(reference):
    checks_strategy.check_pick_model(reference["pick_model"])


def _pick_wrong(*, time=True, memory=True, strict=False, last=False, key="accuracy", sign=1.0, result="name",
                on_none="raise"):
    def pick_model(candidates, max_seconds, max_megabytes):
        best, best_index = None, None
        for index, c in enumerate(candidates):
            ok_t = (c["seconds"] < max_seconds if strict else c["seconds"] <= max_seconds) or not time
            ok_m = (c["megabytes"] < max_megabytes if strict else c["megabytes"] <= max_megabytes) or not memory
            if ok_t and ok_m and (best is None or sign * c[key] > sign * best[key] or (last and c[key] == best[key])):
                best, best_index = c, index
        if best is None:
            if on_none == "raise":
                raise ValueError("none")
            return None
        return {"name": best["name"], "index": best_index, "dict": best}[result]
    return pick_model


PICK_WRONG = [
    (_pick_wrong(time=False), "time limit was not applied"),
    (_pick_wrong(memory=False), "memory limit was not applied"),
    (_pick_wrong(strict=True), "exactly at a limit meets it"),
    (_pick_wrong(last=True), "listed first"),
    (_pick_wrong(sign=-1.0), "least accurate"),
    (_pick_wrong(key="seconds", sign=-1.0), "fastest model"),
    (_pick_wrong(result="index"), "returned the index"),
    (_pick_wrong(result="dict"), "whole candidate dict"),
    (_pick_wrong(on_none="none"), "returned None; expected it to raise a ValueError"),
    (pick_filter_in_place, "changed its input candidates in place"),
]


@pytest.mark.parametrize("fn, message", PICK_WRONG, ids=[m for _, m in PICK_WRONG])
def test_pick_model_wrong_versions_fail(fn, message):
    with pytest.raises(AssertionError, match=message):
        checks_strategy.check_pick_model(fn)


def test_pick_model_raising_the_wrong_type_fails():
    def pick_model(candidates, max_seconds, max_megabytes):
        fits = [c for c in candidates if c["seconds"] <= max_seconds and c["megabytes"] <= max_megabytes]
        return max(fits, key=lambda c: c["accuracy"])["name"]  # max of an empty list: ValueError, fine

    checks_strategy.check_pick_model(pick_model)  # max() of nothing raises ValueError: accepted

    def pick_model_runtime(candidates, max_seconds, max_megabytes):
        fits = [c for c in candidates if c["seconds"] <= max_seconds and c["megabytes"] <= max_megabytes]
        if not fits:
            raise RuntimeError("nothing fits")
        return max(fits, key=lambda c: c["accuracy"])["name"]

    with pytest.raises(AssertionError, match="raised RuntimeError: nothing fits; expected a ValueError"):
        checks_strategy.check_pick_model(pick_model_runtime)


# ================================================================== error_gaps


def gaps_loop(human, train, train_dev, dev, test):
    errors = [human, train, train_dev, dev, test]
    return {key: errors[i + 1] - errors[i] for i, key in enumerate(checks_strategy.GAP_KEYS)}


def gaps_numpy(human, train, train_dev, dev, test):
    d = np.diff(np.array([human, train, train_dev, dev, test], dtype=float))
    return dict(zip(("avoidable_bias", "variance", "data_mismatch", "overfitting_to_dev"), d))


@pytest.mark.parametrize("fn", [gaps_loop, gaps_numpy], ids=lambda f: f.__name__)
def test_error_gaps_correct_variants_pass(fn):
    checks_strategy.check_error_gaps(fn)


def test_error_gaps_reference_passes(reference):
    checks_strategy.check_error_gaps(reference["error_gaps"])


def _gaps(**override):
    def error_gaps(human, train, train_dev, dev, test):
        gaps = {"avoidable_bias": train - human, "variance": train_dev - train, "data_mismatch": dev - train_dev,
                "overfitting_to_dev": test - dev}
        local = dict(human=human, train=train, train_dev=train_dev, dev=dev, test=test)
        gaps.update({k: eval(v, {}, local) for k, v in override.items()})
        return gaps
    return error_gaps


def gaps_wrong_keys(human, train, train_dev, dev, test):
    return {"bias": train - human, "variance": train_dev - train, "mismatch": dev - train_dev,
            "overfitting_to_dev": test - dev}


def gaps_tuple(human, train, train_dev, dev, test):
    return train - human, train_dev - train, dev - train_dev, test - dev


def gaps_renamed(bayes, training, training_dev, development, testing):
    return gaps_loop(bayes, training, training_dev, development, testing)


GAPS_WRONG = [
    (_gaps(avoidable_bias="train"), "subtract human-level error"),
    (_gaps(avoidable_bias="human - train"), "sign is flipped"),
    (_gaps(variance="dev - train"), "dev minus training mixes in the data mismatch"),
    (_gaps(data_mismatch="dev - train"), "not dev minus training"),
    (_gaps(overfitting_to_dev="dev - test"), "sign is flipped"),
    (_gaps(overfitting_to_dev="test - train_dev"), "test minus dev"),
    (gaps_wrong_keys, "expected the keys"),
    (gaps_tuple, "expected a dict"),
    (gaps_renamed, "keep the parameter names"),
]


@pytest.mark.parametrize("fn, message", GAPS_WRONG, ids=[m for _, m in GAPS_WRONG])
def test_error_gaps_wrong_versions_fail(fn, message):
    with pytest.raises(AssertionError, match=message):
        checks_strategy.check_error_gaps(fn)


# ================================================================== error_ceilings


def ceilings_counter(tags, dev_error):
    from collections import Counter

    if not tags:
        raise ValueError("empty")
    counts = Counter(tag for mistake in tags for tag in set(mistake))
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(tag, n / len(tags), dev_error * (1 - n / len(tags))) for tag, n in rows]


def ceilings_lists_two_sorts(tags, dev_error):
    if len(tags) == 0:
        raise ValueError("no mistakes")
    names = sorted({t for mistake in tags for t in mistake})
    fractions = {t: sum(t in mistake for mistake in tags) / len(tags) for t in names}
    names.sort(key=lambda t: fractions[t], reverse=True)  # stable: alphabetical within ties
    return [[t, fractions[t], dev_error - dev_error * fractions[t]] for t in names]


@pytest.mark.parametrize("fn", [ceilings_counter, ceilings_lists_two_sorts], ids=lambda f: f.__name__)
def test_error_ceilings_correct_variants_pass(fn):
    checks_strategy.check_error_ceilings(fn)


def test_error_ceilings_reference_passes(reference):
    checks_strategy.check_error_ceilings(reference["error_ceilings"])


def _ceilings_wrong(**how):
    def error_ceilings(tags, dev_error):
        if not tags:
            raise ValueError("empty")
        return checks_strategy._ceilings(tags, dev_error, **how)
    return error_ceilings


def ceilings_no_error_on_empty(tags, dev_error):
    return ceilings_counter(tags, dev_error) if tags else []


def ceilings_sorts_input(tags, dev_error):
    for mistake in tags:
        mistake.sort()
    return ceilings_counter(tags, dev_error)


def ceilings_dict(tags, dev_error):
    return {tag: (f, c) for tag, f, c in ceilings_counter(tags, dev_error)}


CEILINGS_WRONG = [
    (_ceilings_wrong(per_tag=True), "counted twice"),
    (_ceilings_wrong(by_tags=True), "divided by the number of tags"),
    (_ceilings_wrong(by_tagged=True), "mistakes with no tag count"),
    (_ceilings_wrong(removed=True), "not the error the fix removes"),
    (_ceilings_wrong(ascending=True), "largest category comes first"),
    (_ceilings_wrong(ties_by_first_seen=True), "alphabetical order"),
    (ceilings_no_error_on_empty, r"returned \[\]; expected it to raise a ValueError"),
    (ceilings_sorts_input, "changed its input tags in place"),
    (ceilings_dict, "expected a list of"),
]


@pytest.mark.parametrize("fn, message", CEILINGS_WRONG, ids=[m for _, m in CEILINGS_WRONG])
def test_error_ceilings_wrong_versions_fail(fn, message):
    with pytest.raises(AssertionError, match=message):
        checks_strategy.check_error_ceilings(fn)


# ================================================================== weighted_error


def weighted_loop(y_true, y_pred, weights):
    num = den = 0.0
    for t, p, w in zip(y_true, y_pred, weights):
        num += w * (t != p)
        den += w
    return num / den


def weighted_average(y_true, y_pred, weights):
    return float(np.average(y_true != y_pred, weights=weights))


@pytest.mark.parametrize("fn", [weighted_loop, weighted_average], ids=lambda f: f.__name__)
def test_weighted_error_correct_variants_pass(fn):
    checks_strategy.check_weighted_error(fn)


def test_weighted_error_reference_passes(reference):
    checks_strategy.check_weighted_error(reference["weighted_error"])


WEIGHTED_WRONG = [
    (lambda t, p, w: float(np.mean(t != p)), "the weights are missing"),
    (lambda t, p, w: float(np.sum(w * (t != p)) / len(t)), "not by the number of examples"),
    (lambda t, p, w: float(np.sum(w * (t == p)) / np.sum(w)), "counts the correct predictions"),
    (lambda t, p, w: np.array([np.sum(w * (t != p)) / np.sum(w)]), "expected a number, got an array"),
]


@pytest.mark.parametrize("fn, message", WEIGHTED_WRONG, ids=[m for _, m in WEIGHTED_WRONG])
def test_weighted_error_wrong_versions_fail(fn, message):
    with pytest.raises(AssertionError, match=message):
        checks_strategy.check_weighted_error(fn)


def test_weighted_error_in_place_fails():
    def weighted_error(y_true, y_pred, weights):
        weights /= weights.sum()  # normalizes the caller's weights
        return float(np.sum(weights * (y_true != y_pred)))

    with pytest.raises(AssertionError, match="changed its input weights in place"):
        checks_strategy.check_weighted_error(weighted_error)


# ================================================================== masked_sigmoid_cost


def masked_loops(Z, Y, mask):
    total, count = 0.0, 0
    for k in range(Z.shape[0]):
        for i in range(Z.shape[1]):
            if mask[k, i]:
                z, y = Z[k, i], Y[k, i]
                total += np.logaddexp(0.0, z) - z * y
                count += 1
    return total / count


def masked_boolean_index(Z, Y, mask):
    keep = mask.astype(bool)
    z, y = Z[keep], Y[keep]
    return float(np.mean(np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y)))


def masked_nan_to_num(Z, Y, mask):
    labels = np.nan_to_num(Y)  # a copy: unknown labels become 0, then masked out
    losses = np.maximum(Z, 0) - Z * labels + np.log1p(np.exp(-np.abs(Z)))
    return float(np.sum(losses * mask) / np.sum(mask))


@pytest.mark.parametrize("fn", [masked_loops, masked_boolean_index, masked_nan_to_num], ids=lambda f: f.__name__)
def test_masked_sigmoid_cost_correct_variants_pass(fn):
    checks_strategy.check_masked_sigmoid_cost(fn)


def test_masked_sigmoid_cost_reference_passes(reference):
    checks_strategy.check_masked_sigmoid_cost(reference["masked_sigmoid_cost"])


def _stable(Z, labels):
    return np.maximum(Z, 0) - Z * labels + np.log1p(np.exp(-np.abs(Z)))


def masked_times_nan(Z, Y, mask):
    return float(np.sum(mask * _stable(Z, Y)) / np.sum(mask))  # 0 * nan is nan


def masked_all_entries(Z, Y, mask):
    labels = np.where(mask > 0, Y, 0.0)
    return float(np.sum(mask * _stable(Z, labels)) / Z.size)


def masked_per_example(Z, Y, mask):
    labels = np.where(mask > 0, Y, 0.0)
    return float(np.sum(mask * _stable(Z, labels)) / Z.shape[1])


def masked_naive_log(Z, Y, mask):
    labels = np.where(mask > 0, Y, 0.0)
    A = 1 / (1 + np.exp(-Z))
    losses = -(labels * np.log(A) + (1 - labels) * np.log(1 - A))
    return float(np.sum(np.where(mask > 0, losses, 0.0)) / np.sum(mask))


def masked_clipped(Z, Y, mask):
    labels = np.where(mask > 0, Y, 0.0)
    A = np.clip(1 / (1 + np.exp(-Z)), 1e-7, 1 - 1e-7)  # a floor that changes the cost of confident answers
    losses = -(labels * np.log(A) + (1 - labels) * np.log(1 - A))
    return float(np.sum(np.where(mask > 0, losses, 0.0)) / np.sum(mask))


def masked_softmax(Z, Y, mask):
    labels = np.where(mask > 0, Y, 0.0)
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    S = E / E.sum(axis=0, keepdims=True)
    return float(-np.sum(np.where(mask > 0, labels * np.log(S), 0.0)) / np.sum(mask))


def masked_no_mask(Z, Y, mask):
    return float(np.mean(_stable(Z, np.nan_to_num(Y))))


def masked_in_place(Z, Y, mask):
    Y[mask == 0] = 0.0  # writes into the caller's labels
    return float(np.sum(mask * _stable(Z, Y)) / np.sum(mask))


MASKED_WRONG = [
    (masked_times_nan, "0 \\* nan is nan"),
    (masked_all_entries, "not by all K \\* m entries"),
    (masked_per_example, "not by the number of examples m"),
    (masked_naive_log, "log1p"),
    (masked_clipped, "expected"),
    (masked_softmax, "each yes/no output is its own sigmoid"),
    (masked_no_mask, "unknown labels were not left out"),
    (masked_in_place, "changed its input Y in place"),
]


@pytest.mark.parametrize("fn, message", MASKED_WRONG, ids=[f.__name__ for f, _ in MASKED_WRONG])
def test_masked_sigmoid_cost_wrong_versions_fail(fn, message):
    with np.errstate(all="ignore"), pytest.raises(AssertionError, match=message):
        checks_strategy.check_masked_sigmoid_cost(fn)
