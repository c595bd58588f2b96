"""The hidden checks of 01_setting_up: pass the reference and correct variants,
fail a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import numpy as np
import pytest

from grader.checks import setting_up


def sizes(m, fractions):
    n_dev, n_test = int(m * fractions[1]), int(m * fractions[2])
    return m - n_dev - n_test, n_dev, n_test


def cut(X, Y, order, n_train, n_dev):
    """Train, dev, test from an order of the columns (the first n_train, the next n_dev, the rest)."""
    parts = np.split(order, [n_train, n_train + n_dev])
    return tuple((X[:, idx], Y[:, idx]) for idx in parts)


# ------------------------------------------------------------------ split_dataset: correct variants

def split_loops(X, Y, fractions, rng):
    m = X.shape[1]
    n_train, n_dev, n_test = sizes(m, fractions)
    order = list(range(m))
    rng.shuffle(order)  # shuffling a Python list of indices
    bounds = [(0, n_train), (n_train, n_train + n_dev), (n_train + n_dev, m)]
    result = []
    for start, stop in bounds:
        X_part = np.empty((X.shape[0], stop - start), dtype=X.dtype)
        Y_part = np.empty((Y.shape[0], stop - start), dtype=Y.dtype)
        for k, j in enumerate(order[start:stop]):
            X_part[:, k], Y_part[:, k] = X[:, j], Y[:, j]
        result.append((X_part, Y_part))
    return tuple(result)


def split_take(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    order = rng.permutation(X.shape[1])
    Xs, Ys = np.take(X, order, axis=1), np.take(Y, order, axis=1)
    return ((Xs[:, :n_train], Ys[:, :n_train]), (Xs[:, n_train:n_train + n_dev], Ys[:, n_train:n_train + n_dev]),
            (Xs[:, n_train + n_dev:], Ys[:, n_train + n_dev:]))


def split_shuffled_index(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    index = np.arange(X.shape[1])
    rng.shuffle(index)
    return cut(X, Y, index, n_train, n_dev)


def split_in_place(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    order = rng.permutation(X.shape[1])
    X[:], Y[:] = X[:, order], Y[:, order]  # the inputs themselves are reordered; views are returned
    return ((X[:, :n_train], Y[:, :n_train]), (X[:, n_train:n_train + n_dev], Y[:, n_train:n_train + n_dev]),
            (X[:, n_train + n_dev:], Y[:, n_train + n_dev:]))


def split_choice(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    return cut(X, Y, rng.choice(X.shape[1], X.shape[1], replace=False), n_train, n_dev)


def split_dev_first(X, Y, fractions, rng):
    # Dev from the front of the permutation, then test, then train: still one permutation, cut differently.
    m = X.shape[1]
    n_train, n_dev, n_test = sizes(m, fractions)
    order = rng.permutation(m)
    dev, test, train = np.split(order, [n_dev, n_dev + n_test])
    return (X[:, train], Y[:, train]), (X[:, dev], Y[:, dev]), (X[:, test], Y[:, test])


def split_stacked_shuffle(X, Y, fractions, rng):
    # Stack X on Y and shuffle the columns together (Y comes back as floats with the same values).
    n_x = X.shape[0]
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    XY = np.vstack([X, Y])
    rng.shuffle(XY, axis=1)
    Xs, Ys = XY[:n_x], XY[n_x:]
    return ((Xs[:, :n_train], Ys[:, :n_train]), (Xs[:, n_train:n_train + n_dev], Ys[:, n_train:n_train + n_dev]),
            (Xs[:, n_train + n_dev:], Ys[:, n_train + n_dev:]))


def split_argsort_random(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    return cut(X, Y, np.argsort(rng.random(X.shape[1])), n_train, n_dev)


SPLIT_VARIANTS = [split_loops, split_take, split_shuffled_index, split_in_place, split_choice, split_dev_first,
                  split_stacked_shuffle, split_argsort_random]


def test_split_dataset_reference_passes(reference):
    setting_up.check_split_dataset(reference["split_dataset"])


@pytest.mark.parametrize("variant", SPLIT_VARIANTS, ids=lambda f: f.__name__)
def test_split_dataset_correct_variants_pass(variant):
    setting_up.check_split_dataset(variant)


# ------------------------------------------------------------------ split_dataset: wrong implementations

def split_with(make_order, size_rule=sizes):
    def split(X, Y, fractions, rng):
        n_train, n_dev, n_test = size_rule(X.shape[1], fractions)
        order = make_order(X.shape[1], rng)
        parts = np.split(order, [n_train, n_train + n_dev, n_train + n_dev + n_test])[:3]
        return tuple((X[:, idx], Y[:, idx]) for idx in parts)
    return split


def separate_permutations(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    Xs, Ys = X[:, rng.permutation(X.shape[1])], Y[:, rng.permutation(X.shape[1])]
    return ((Xs[:, :n_train], Ys[:, :n_train]), (Xs[:, n_train:n_train + n_dev], Ys[:, n_train:n_train + n_dev]),
            (Xs[:, n_train + n_dev:], Ys[:, n_train + n_dev:]))


def only_x_shuffled(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    Xs = X[:, rng.permutation(X.shape[1])]
    return ((Xs[:, :n_train], Y[:, :n_train]), (Xs[:, n_train:n_train + n_dev], Y[:, n_train:n_train + n_dev]),
            (Xs[:, n_train + n_dev:], Y[:, n_train + n_dev:]))


def shuffled_with_in_place_views(X, Y, fractions, rng):
    # rng.shuffle on X.T and on Y.T separately: two different permutations.
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    rng.shuffle(X.T)
    rng.shuffle(Y.T)
    return cut(X, Y, np.arange(X.shape[1]), n_train, n_dev)


def round_sizes(m, fractions):
    n_dev, n_test = round(m * fractions[1]), round(m * fractions[2])
    return m - n_dev - n_test, n_dev, n_test


def dropped_leftovers(m, fractions):
    return int(m * fractions[0]), int(m * fractions[1]), int(m * fractions[2])


def cumulative_cuts(m, fractions):
    first, second = int(m * fractions[0]), int(m * (fractions[0] + fractions[1]))
    return first, second - first, m - second


def swapped_dev_test(X, Y, fractions, rng):
    train, dev, test = split_take(X, Y, fractions, rng)
    return train, test, dev


def negative_zero_slice(X, Y, fractions, rng):
    m = X.shape[1]
    n_train, n_dev, n_test = sizes(m, fractions)
    order = rng.permutation(m)
    Xs, Ys = X[:, order], Y[:, order]
    return ((Xs[:, :n_train], Ys[:, :n_train]), (Xs[:, n_train:n_train + n_dev], Ys[:, n_train:n_train + n_dev]),
            (Xs[:, -n_test:], Ys[:, -n_test:]))  # -0: is everything when n_test == 0


def first_row_of_labels(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    order = rng.permutation(X.shape[1])
    parts = np.split(order, [n_train, n_train + n_dev])
    return tuple((X[:, idx], Y[0, idx]) for idx in parts)  # 1-D labels


def sorted_within_splits(X, Y, fractions, rng):
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    parts = np.split(rng.permutation(X.shape[1]), [n_train, n_train + n_dev])
    return tuple((X[:, np.sort(idx)], Y[:, np.sort(idx)]) for idx in parts)


def boolean_masks(X, Y, fractions, rng):
    m = X.shape[1]
    n_train, n_dev, _ = sizes(m, fractions)
    label = np.zeros(m, dtype=int)
    order = rng.permutation(m)
    label[order[n_train:n_train + n_dev]], label[order[n_train + n_dev:]] = 1, 2
    return tuple((X[:, label == k], Y[:, label == k]) for k in range(3))


def shuffles_train_only(X, Y, fractions, rng):
    # Dev and test are always the last columns; only the training part is shuffled.
    n_train, n_dev, _ = sizes(X.shape[1], fractions)
    train = rng.permutation(n_train)
    rest = np.arange(n_train, X.shape[1])
    rest = np.concatenate([rest[: n_dev][::-1], rest[n_dev:][::-1]])  # reversed, so not in increasing order
    return cut(X, Y, np.concatenate([train, rest]), n_train, n_dev)


def coarse_random_keys(m, rng):
    return np.argsort(rng.integers(0, 3, m), kind="stable")  # ties keep the original order


def random_rotation_shuffled_within(X, Y, fractions, rng):
    # A random rotation keeps neighbours together; shuffling inside each split hides the order.
    m = X.shape[1]
    n_train, n_dev, _ = sizes(m, fractions)
    order = np.roll(np.arange(m), int(rng.integers(m)))
    parts = [rng.permutation(idx) for idx in np.split(order, [n_train, n_train + n_dev])]
    return tuple((X[:, idx], Y[:, idx]) for idx in parts)


SPLIT_WRONG = {
    "X and Y shuffled with different permutations": (separate_permutations, "labels must travel"),
    "only X shuffled": (only_x_shuffled, "labels must travel"),
    "rng.shuffle on X.T and Y.T separately": (shuffled_with_in_place_views, "same permutation"),
    "no shuffle": (split_with(lambda m, rng: np.arange(m)), "original order"),
    "sampling with replacement": (split_with(lambda m, rng: rng.integers(0, m, m)), "more than once"),
    "round() instead of int()": (split_with(lambda m, rng: rng.permutation(m), round_sizes), "round\\(\\)"),
    "train int(m * f_train), leftovers dropped": (split_with(lambda m, rng: rng.permutation(m), dropped_leftovers),
                                                 "leftover examples were dropped"),
    "cumulative cut points": (split_with(lambda m, rng: rng.permutation(m), cumulative_cuts), "cumulative"),
    "dev and test swapped": (swapped_dev_test, "dev and test swapped"),
    "X[:, -n_test:] with n_test = 0": (negative_zero_slice, "-0"),
    "global np.random": (split_with(lambda m, rng: np.random.permutation(m)), "global random generator"),
    "new unseeded generator": (split_with(lambda m, rng: np.random.default_rng().permutation(m)), "same seed"),
    "own fixed seed, ignores rng": (split_with(lambda m, rng: np.random.default_rng(0).permutation(m)),
                                    "identical results for differently seeded"),
    "1-D labels": (first_row_of_labels, "(?s)expected shape \\(1, any\\), got \\(26,\\).*reshape\\(1, -1\\)"),
    "indices sorted within each split": (sorted_within_splits, "original order"),
    "boolean masks": (boolean_masks, "boolean mask"),
    "only the training part shuffled": (shuffles_train_only, "equally likely"),
    "argsort of coarse random keys": (split_with(coarse_random_keys), "original order|equally likely"),
    "random rotation": (random_rotation_shuffled_within, "neighbouring examples"),
    "returns None": (lambda X, Y, fractions, rng: None, "return"),
    "returns X_train, Y_train, ... flat": (lambda X, Y, f, rng: tuple(a for pair in split_take(X, Y, f, rng)
                                                                       for a in pair), "got 6 items"),
}


@pytest.mark.parametrize("label", SPLIT_WRONG)
def test_split_dataset_wrong_implementations_fail(label):
    fn, expected_words = SPLIT_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        setting_up.check_split_dataset(fn)


def test_first_split_case_tells_every_size_mistake_apart():
    mistakes = setting_up._split_size_mistakes(42, (0.6, 0.3, 0.1))
    assert len(mistakes) == 4 and len(set(mistakes.values())) == 4
    assert sizes(42, (0.6, 0.3, 0.1)) not in mistakes.values()


def test_split_checks_leave_global_random_state_alone(reference):
    np.random.seed(99)
    before = np.random.get_state()
    setting_up.check_split_dataset(reference["split_dataset"])
    setting_up.check_split_with_extra(reference["split_with_extra"])
    after = np.random.get_state()
    assert np.array_equal(before[1], after[1]) and before[2:] == after[2:]


# ------------------------------------------------------------------ split_sizes

def sizes_int_of_float(m, cap=10_000):
    n = min(int(m * 0.2), cap)
    return m - 2 * n, n, n


def sizes_numpy(m, cap=10_000):
    n = np.minimum(np.floor_divide(m, 5), cap)
    return np.array([m - 2 * n, n, n])


def sizes_branches(m, cap=10_000):
    if m // 5 > cap:
        return [m - 2 * cap, cap, cap]
    return [m - 2 * (m // 5), m // 5, m // 5]


def test_split_sizes_reference_and_variants_pass(reference):
    for fn in (reference["split_sizes"], sizes_int_of_float, sizes_numpy, sizes_branches):
        setting_up.check_split_sizes(fn)


SIZES_WRONG = {
    "round": (lambda m, cap=10_000: (m - 2 * min(round(m / 5), cap), min(round(m / 5), cap), min(round(m / 5), cap)),
              "round\\(\\)"),
    "no cap": (lambda m, cap=10_000: (m - 2 * (m // 5), m // 5, m // 5), "60/20/20 for every m"),
    "always 98/1/1": (lambda m, cap=10_000: (m - 2 * (m // 100), m // 100, m // 100), "98/1/1 for every m"),
    "cap hard-coded": (lambda m, cap=10_000: (m - 2 * min(m // 5, 10_000), min(m // 5, 10_000), min(m // 5, 10_000)),
                       "`cap` argument"),
    "cap shared by dev and test": (lambda m, cap=10_000: (m - 2 * min(m // 5, cap // 2), min(m // 5, cap // 2),
                                                          min(m // 5, cap // 2)), "share the cap"),
    "reversed order": (lambda m, cap=10_000: (min(m // 5, cap), min(m // 5, cap), m - 2 * min(m // 5, cap)),
                       "order is \\(n_train, n_dev, n_test\\)"),
    "floats": (lambda m, cap=10_000: (m - 2 * min(m * 0.2, cap), min(m * 0.2, cap), min(m * 0.2, cap)),
               "whole numbers"),
    "fractions instead of counts": (lambda m, cap=10_000: (0.6, 0.2, 0.2), "whole numbers"),
    "returns None": (lambda m, cap=10_000: None, "return"),
    "two numbers": (lambda m, cap=10_000: (m - 2 * min(m // 5, cap), min(m // 5, cap)), "expected a tuple"),
}


@pytest.mark.parametrize("label", SIZES_WRONG)
def test_split_sizes_wrong_implementations_fail(label):
    fn, expected_words = SIZES_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        setting_up.check_split_sizes(fn)


# ------------------------------------------------------------------ split_with_extra

def extra_variant(order_fn, extra_first=False):
    def split(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
        order = order_fn(X_t.shape[1], n_dev, n_test, rng)
        dev, test, rest = order[:n_dev], order[n_dev:n_dev + n_test], order[n_dev + n_test:]
        pieces = [(X_e, Y_e), (X_t[:, rest], Y_t[:, rest])]
        if not extra_first:
            pieces = pieces[::-1]
        X_train, Y_train = np.hstack([p[0] for p in pieces]), np.hstack([p[1] for p in pieces])
        return (X_train, Y_train), (X_t[:, dev], Y_t[:, dev]), (X_t[:, test], Y_t[:, test])
    return split


def choose_then_rest(m, n_dev, n_test, rng):
    # Dev and test by rng.choice without replacement; the rest in its original order (allowed for train).
    chosen = rng.choice(m, n_dev + n_test, replace=False)
    return np.concatenate([chosen, np.setdiff1d(np.arange(m), chosen)])


def shuffled_index(m, n_dev, n_test, rng):
    index = np.arange(m)
    rng.shuffle(index)
    return index


def extra_loops(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
    order = rng.permutation(X_t.shape[1])
    columns = {"train": [], "dev": [], "test": []}
    for k, j in enumerate(order):
        where = "dev" if k < n_dev else "test" if k < n_dev + n_test else "train"
        columns[where].append((X_t[:, j], Y_t[:, j]))
    columns["train"] += [(X_e[:, j], Y_e[:, j]) for j in range(X_e.shape[1])]

    def stack(pairs, like_X, like_Y):
        if not pairs:
            return np.empty((like_X.shape[0], 0)), np.empty((like_Y.shape[0], 0), dtype=like_Y.dtype)
        return np.column_stack([p[0] for p in pairs]), np.column_stack([p[1] for p in pairs])

    return tuple(stack(columns[s], X_t, Y_t) for s in ("train", "dev", "test"))


def test_split_with_extra_reference_and_variants_pass(reference):
    for fn in (reference["split_with_extra"], extra_variant(lambda m, d, t, rng: rng.permutation(m)),
               extra_variant(lambda m, d, t, rng: rng.permutation(m), extra_first=True),
               extra_variant(choose_then_rest), extra_variant(shuffled_index), extra_loops):
        setting_up.check_split_with_extra(fn)


def pooled_then_shuffled(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
    X, Y = np.hstack([X_t, X_e]), np.hstack([Y_t, Y_e])
    order = rng.permutation(X.shape[1])
    dev, test, train = np.split(order, [n_dev, n_dev + n_test])
    return (X[:, train], Y[:, train]), (X[:, dev], Y[:, dev]), (X[:, test], Y[:, test])


def dev_target_test_extra(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
    t, e = rng.permutation(X_t.shape[1]), rng.permutation(X_e.shape[1])
    dev, rest_t = t[:n_dev], t[n_dev:]
    test, rest_e = e[:n_test], e[n_test:]
    X_train = np.hstack([X_t[:, rest_t], X_e[:, rest_e]])
    Y_train = np.hstack([Y_t[:, rest_t], Y_e[:, rest_e]])
    return (X_train, Y_train), (X_t[:, dev], Y_t[:, dev]), (X_e[:, test], Y_e[:, test])


def leftovers_dropped(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
    order = rng.permutation(X_t.shape[1])
    dev, test = order[:n_dev], order[n_dev:n_dev + n_test]
    return (X_e, Y_e), (X_t[:, dev], Y_t[:, dev]), (X_t[:, test], Y_t[:, test])


def extra_dropped(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
    order = rng.permutation(X_t.shape[1])
    dev, test, rest = np.split(order, [n_dev, n_dev + n_test])
    return (X_t[:, rest], Y_t[:, rest]), (X_t[:, dev], Y_t[:, dev]), (X_t[:, test], Y_t[:, test])


def dev_test_left_in_train(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
    order = rng.permutation(X_t.shape[1])
    dev, test = order[:n_dev], order[n_dev:n_dev + n_test]
    return ((np.hstack([X_t, X_e]), np.hstack([Y_t, Y_e])), (X_t[:, dev], Y_t[:, dev]),
            (X_t[:, test], Y_t[:, test]))


def extra_labels_shuffled(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
    (X_train, Y_train), dev, test = extra_variant(lambda m, d, t, rng: rng.permutation(m))(
        X_t, Y_t, X_e, Y_e, n_dev, n_test, rng)
    return (X_train, Y_train[:, rng.permutation(Y_train.shape[1])]), dev, test


def fixed_dev_test_shuffled_train(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
    m = X_t.shape[1]
    rest = n_dev + n_test + rng.permutation(m - n_dev - n_test)
    order = np.concatenate([np.arange(n_dev + n_test), rest])
    return extra_variant(lambda *_: order)(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng)


EXTRA_WRONG = {
    "pooled, then shuffled": (pooled_then_shuffled, "of X_extra"),
    "test from the extra data": (dev_target_test_extra, "of X_extra"),
    "target leftovers dropped": (leftovers_dropped, "left over after dev and test also go to train"),
    "extra data dropped": (extra_dropped, "all the extra examples go to train"),
    "dev and test also left in train": (dev_test_left_in_train, "expected \\(n_train, n_dev, n_test\\)"),
    "labels of train shuffled": (extra_labels_shuffled, "labels must travel"),
    "no shuffle": (extra_variant(lambda m, d, t, rng: np.arange(m)), "identical results"),
    "global np.random": (extra_variant(lambda m, d, t, rng: np.random.permutation(m)), "global random generator"),
    "dev and test always the first target columns": (fixed_dev_test_shuffled_train, "equally likely"),
    "returns None": (lambda *args: None, "return"),
}


@pytest.mark.parametrize("label", EXTRA_WRONG)
def test_split_with_extra_wrong_implementations_fail(label):
    fn, expected_words = EXTRA_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        setting_up.check_split_with_extra(fn)


def test_dev_test_left_in_train_is_also_named_as_duplicates_when_sizes_happen_to_match():
    # Same mistake with the train size made to look right: the partition check names the repeats.
    def sneaky(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng):
        (X_train, Y_train), dev, test = dev_test_left_in_train(X_t, Y_t, X_e, Y_e, n_dev, n_test, rng)
        keep = X_train.shape[1] - n_dev - n_test
        return (X_train[:, :keep], Y_train[:, :keep]), dev, test
    with pytest.raises(AssertionError, match="more than once"):
        setting_up.check_split_with_extra(sneaky)


# ------------------------------------------------------------------ diagnose

def diagnose_table(train_error, dev_error, human_error, tolerance=0.02):
    key = (train_error - human_error > tolerance, dev_error - train_error > tolerance)
    return {(True, True): "both", (True, False): "high bias", (False, True): "high variance",
            (False, False): "fine"}[key]


def diagnose_percent(train_error, dev_error, human_error, tolerance=0.02):
    tr, dv, hu, tol = (100 * x for x in (train_error, dev_error, human_error, tolerance))
    return diagnose_table(tr, dv, hu, tol)


def diagnose_at_least(train_error, dev_error, human_error, tolerance=0.02):
    # >= instead of >: the checks never sit on the boundary, so both are accepted.
    bias, variance = train_error - human_error >= tolerance, dev_error - train_error >= tolerance
    return "both" if bias and variance else "high bias" if bias else "high variance" if variance else "fine"


def test_diagnose_reference_and_variants_pass(reference):
    for fn in (reference["diagnose"], diagnose_table, diagnose_percent, diagnose_at_least):
        setting_up.check_diagnose(fn)


def wrong_diagnose(rule):
    def diagnose(train_error, dev_error, human_error, tolerance=0.02):
        return rule(train_error, dev_error, human_error, tolerance)
    return diagnose


DIAGNOSE_WRONG = {
    label: (wrong_diagnose(rule), label.split(":")[0].replace("(", "\\(").replace(")", "\\)"))
    for label, rule in setting_up._DIAGNOSE_MISTAKES.items()
}
DIAGNOSE_WRONG.update({
    "capitalised words": (lambda tr, dv, hu, tolerance=0.02: diagnose_table(tr, dv, hu, tolerance).title(),
                          "expected one of"),
    "'high bias and high variance' instead of 'both'": (
        lambda tr, dv, hu, tolerance=0.02: diagnose_table(tr, dv, hu, tolerance).replace(
            "both", "high bias and high variance"), "expected one of"),
    "a tuple of two booleans": (lambda tr, dv, hu, tolerance=0.02: (tr - hu > tolerance, dv - tr > tolerance),
                                "expected one of"),
    "returns None": (lambda tr, dv, hu, tolerance=0.02: None, "return"),
    "default tolerance 0.05": (lambda tr, dv, hu, tolerance=0.05: diagnose_table(tr, dv, hu, tolerance),
                               "expected 'high variance'"),
})


@pytest.mark.parametrize("label", DIAGNOSE_WRONG)
def test_diagnose_wrong_implementations_fail(label):
    fn, expected_words = DIAGNOSE_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        setting_up.check_diagnose(fn)


def test_each_named_diagnose_mistake_is_recognised():
    """Every mistake model gives a distinct pattern over the cases, so its name is never ambiguous."""
    patterns = {}
    for label, rule in setting_up._DIAGNOSE_MISTAKES.items():
        pattern = tuple(rule(tr, dv, hu, 0.02 if tol is None else tol) for tr, dv, hu, tol in setting_up._DIAGNOSE_CASES)
        right = tuple(setting_up._reference_diagnosis(tr, dv, hu, 0.02 if tol is None else tol)
                      for tr, dv, hu, tol in setting_up._DIAGNOSE_CASES)
        assert pattern != right, label
        assert pattern not in patterns.values(), (label, patterns)
        patterns[label] = pattern


def test_diagnose_cases_stay_off_the_boundary():
    for tr, dv, hu, tol in setting_up._DIAGNOSE_CASES:
        tol = 0.02 if tol is None else tol
        assert abs(tr - hu - tol) > 1e-6 and abs(dv - tr - tol) > 1e-6


# ------------------------------------------------------------------ next_step

def next_step_dict(diagnosis):
    recipe = {"high bias": ("train longer", "bigger network"), "both": ("bigger network", "train longer"),
              "high variance": ("regularize", "more data"), "fine": ()}
    return recipe[diagnosis]


def next_step_set(diagnosis):
    if diagnosis == "high variance":
        return {"more data", "regularize"}
    return set() if diagnosis == "fine" else {"bigger network", "train longer"}


def test_next_step_reference_and_variants_pass(reference):
    for fn in (reference["next_step"], next_step_dict, next_step_set):
        setting_up.check_next_step(fn)


def recipe(table):
    return lambda diagnosis: list(table[diagnosis])


BIAS, VARIANCE = ["bigger network", "train longer"], ["more data", "regularize"]
NEXT_WRONG = {
    "both gets every remedy": (recipe({"high bias": BIAS, "high variance": VARIANCE, "both": BIAS + VARIANCE,
                                       "fine": []}), "fixes bias first"),
    "both gets the variance remedies": (recipe({"high bias": BIAS, "high variance": VARIANCE, "both": VARIANCE,
                                                "fine": []}), "fixes bias first"),
    "bias and variance swapped": (recipe({"high bias": VARIANCE, "high variance": BIAS, "both": BIAS, "fine": []}),
                                  "do not help a model that underfits"),
    "more data for high bias": (recipe({"high bias": BIAS + ["more data"], "high variance": VARIANCE, "both": BIAS,
                                        "fine": []}), "do not help a model that underfits"),
    "bigger network for variance": (recipe({"high bias": BIAS, "high variance": VARIANCE + ["bigger network"],
                                            "both": BIAS, "fine": []}), "closed by more data or regularization"),
    "fine says done": (recipe({"high bias": BIAS, "high variance": VARIANCE, "both": BIAS, "fine": ["done"]}),
                       "not a remedy"),
    "fine returns None": (lambda d: None if d == "fine" else next_step_dict(d), "empty list"),
    "typo": (recipe({"high bias": BIAS, "high variance": ["more datas", "regularize"], "both": BIAS, "fine": []}),
             "'more datas' is not a remedy"),
    "one string": (lambda d: ", ".join(next_step_dict(d)), "expected a list"),
    "a remedy twice": (recipe({"high bias": BIAS + ["train longer"], "high variance": VARIANCE, "both": BIAS,
                               "fine": []}), "appears twice"),
    "only one remedy": (recipe({"high bias": ["bigger network"], "high variance": VARIANCE, "both": BIAS,
                                "fine": []}), "expected \\['bigger network', 'train longer'\\]"),
}


@pytest.mark.parametrize("label", NEXT_WRONG)
def test_next_step_wrong_implementations_fail(label):
    fn, expected_words = NEXT_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        setting_up.check_next_step(fn)


# ------------------------------------------------------------------ fit_normalizer

def fit_np_var(X_train):
    return X_train.mean(axis=1, keepdims=True), X_train.var(axis=1, keepdims=True)


def fit_loops(X_train):
    n_x, m = X_train.shape
    mu, var = np.zeros((n_x, 1)), np.zeros((n_x, 1))
    for j in range(n_x):
        mu[j, 0] = sum(X_train[j]) / m
        var[j, 0] = sum((x - mu[j, 0]) ** 2 for x in X_train[j]) / m
    return mu, var


def fit_one_pass(X_train):
    mu = X_train.mean(axis=1, keepdims=True)
    return mu, (X_train ** 2).mean(axis=1, keepdims=True) - mu ** 2


def fit_in_place(X_train):
    mu = np.mean(X_train, axis=1, keepdims=True)
    X_train -= mu
    X_train **= 2
    return mu, np.mean(X_train, axis=1, keepdims=True)


def fit_std_squared(X_train):
    return [np.mean(X_train, axis=1).reshape(-1, 1), np.std(X_train, axis=1).reshape(-1, 1) ** 2]


def test_fit_normalizer_reference_and_variants_pass(reference):
    for fn in (reference["fit_normalizer"], fit_np_var, fit_loops, fit_one_pass, fit_in_place, fit_std_squared):
        setting_up.check_fit_normalizer(fn)


FIT_WRONG = {
    "ddof=1": (lambda X: (X.mean(axis=1, keepdims=True), X.var(axis=1, ddof=1, keepdims=True)), "ddof=1"),
    "std instead of var": (lambda X: (X.mean(axis=1, keepdims=True), X.std(axis=1, keepdims=True)),
                           "the standard deviation"),
    "axis=0": (lambda X: (X.mean(axis=0, keepdims=True), X.var(axis=0, keepdims=True)), "one value per example"),
    "axis=0 without keepdims": (lambda X: (X.mean(axis=0), X.var(axis=0)), "one value per example"),
    "1-D mu and var": (lambda X: (X.mean(axis=1), X.var(axis=1)), "keepdims=True"),
    "mean of squares": (lambda X: (X.mean(axis=1, keepdims=True), (X ** 2).mean(axis=1, keepdims=True)),
                        "subtract the mean first"),
    "(var, mu)": (lambda X: (X.var(axis=1, keepdims=True), X.mean(axis=1, keepdims=True)), "wrong order"),
    "whole-array statistics": (lambda X: (np.full((X.shape[0], 1), X.mean()), np.full((X.shape[0], 1), X.var())),
                               "values differ"),
    "only mu": (lambda X: X.mean(axis=1, keepdims=True), "expected a pair"),
    "returns None": (lambda X: None, "return"),
}


@pytest.mark.parametrize("label", FIT_WRONG)
def test_fit_normalizer_wrong_implementations_fail(label):
    fn, expected_words = FIT_WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        setting_up.check_fit_normalizer(fn)


# ------------------------------------------------------------------ normalize

def normalize_in_place(X, mu, var, epsilon=1e-8):
    X -= mu
    X /= np.sqrt(var + epsilon)
    return X


def normalize_loops(X, mu, var, epsilon=1e-8):
    out = np.empty_like(X)
    for j in range(X.shape[0]):
        for i in range(X.shape[1]):
            out[j, i] = (X[j, i] - mu[j, 0]) / (var[j, 0] + epsilon) ** 0.5
    return out


def normalize_power(X, mu, var, epsilon=1e-8):
    return np.multiply(X - mu, np.power(var + epsilon, -0.5))


def test_normalize_reference_and_variants_pass(reference):
    for fn in (reference["normalize"], normalize_in_place, normalize_loops, normalize_power):
        setting_up.check_normalize(fn)


def own_statistics(X, mu, var, epsilon=1e-8):
    return (X - X.mean(axis=1, keepdims=True)) / np.sqrt(X.var(axis=1, keepdims=True) + epsilon)


NORMALIZE_WRONG = {
    "epsilon outside the sqrt": (lambda X, mu, var, epsilon=1e-8: (X - mu) / (np.sqrt(var) + epsilon),
                                 "outside the square root"),
    "no epsilon": (lambda X, mu, var, epsilon=1e-8: (X - mu) / np.sqrt(var), "no ε"),
    "divided by var + epsilon": (lambda X, mu, var, epsilon=1e-8: (X - mu) / (var + epsilon), "divided by var \\+ ε"),
    "divided by var": (lambda X, mu, var, epsilon=1e-8: (X - mu) / var, "divided by var"),
    "mu not subtracted": (lambda X, mu, var, epsilon=1e-8: X / np.sqrt(var + epsilon), "mu not subtracted"),
    "mu added": (lambda X, mu, var, epsilon=1e-8: (X + mu) / np.sqrt(var + epsilon), "mu added"),
    "refits on X (the leak)": (own_statistics, "leaks dev/test statistics"),
    "own mean only": (lambda X, mu, var, epsilon=1e-8: (X - X.mean(axis=1, keepdims=True)) / np.sqrt(var + epsilon),
                      "X's own mean"),
    "own variance only": (lambda X, mu, var, epsilon=1e-8: (X - mu) / np.sqrt(X.var(axis=1, keepdims=True) + epsilon),
                          "X's own variance"),
    "default epsilon 1e-5": (lambda X, mu, var, epsilon=1e-5: (X - mu) / np.sqrt(var + epsilon),
                             "default epsilon of 1e-05"),
    "epsilon ignored": (lambda X, mu, var, epsilon=1e-8: (X - mu) / np.sqrt(var + 1e-8), "epsilon ignored"),
    "transposed": (lambda X, mu, var, epsilon=1e-8: ((X - mu) / np.sqrt(var + epsilon)).T, "transposed"),
    "returns None": (lambda X, mu, var, epsilon=1e-8: None, "return"),
    "returns (X_norm, mu, var)": (lambda X, mu, var, epsilon=1e-8: ((X - mu) / np.sqrt(var + epsilon), mu, var),
                                  "tuple of 3"),
}


@pytest.mark.parametrize("label", NORMALIZE_WRONG)
def test_normalize_wrong_implementations_fail(label):
    fn, expected_words = NORMALIZE_WRONG[label]
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(AssertionError, match=expected_words):
        setting_up.check_normalize(fn)
