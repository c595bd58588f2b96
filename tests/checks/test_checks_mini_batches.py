"""The hidden check of 05_mini_batches: passes the reference and correct variants,
fails a catalogue of realistic wrong implementations with a message that names the problem."""
from __future__ import annotations

import math

import numpy as np
import pytest

from grader.checks import mini_batches


# ------------------------------------------------------------------ correct variants

def loop_with_remainder(X, Y, mini_batch_size, rng):
    # The classic layout: complete batches first, then the remainder as a special case.
    m = X.shape[1]
    permutation = list(rng.permutation(m))
    X_s, Y_s = X[:, permutation], Y[:, permutation].reshape((1, m))
    batches = []
    complete = math.floor(m / mini_batch_size)
    for k in range(complete):
        batches.append((X_s[:, k * mini_batch_size:(k + 1) * mini_batch_size],
                        Y_s[:, k * mini_batch_size:(k + 1) * mini_batch_size]))
    if m % mini_batch_size != 0:
        batches.append((X_s[:, complete * mini_batch_size:], Y_s[:, complete * mini_batch_size:]))
    return batches


def comprehension_with_shuffled_indices(X, Y, mini_batch_size, rng):
    indices = np.arange(X.shape[1])
    rng.shuffle(indices)  # in place, instead of rng.permutation
    return [(X[:, indices[k:k + mini_batch_size]], Y[:, indices[k:k + mini_batch_size]])
            for k in range(0, X.shape[1], mini_batch_size)]


def array_split(X, Y, mini_batch_size, rng):
    # np.array_split at multiples of the size gives exactly the contract's slices.
    m = X.shape[1]
    cuts = np.arange(mini_batch_size, m, mini_batch_size)
    permutation = rng.permutation(m)
    return list(zip(np.array_split(X[:, permutation], cuts, axis=1), np.array_split(Y[:, permutation], cuts, axis=1)))


def stacked_permutation(X, Y, mini_batch_size, rng):
    # Permute X and Y as one array, so they cannot be unpaired.
    XY = rng.permutation(np.vstack([X, Y]), axis=1)
    X_s, Y_s = XY[:-1], XY[-1:]
    batches = []
    start = 0
    while start < X.shape[1]:
        batches.append((X_s[:, start:start + mini_batch_size].copy(), Y_s[:, start:start + mini_batch_size].copy()))
        start += mini_batch_size
    return batches


def in_place_transpose_shuffle(X, Y, mini_batch_size, rng):
    # Shuffling the rows of [X; Y].T in place shuffles examples; the inputs are the check's copies.
    XY = np.vstack([X, Y]).T.copy()
    rng.shuffle(XY)
    XY = XY.T
    return [(XY[:-1, k:k + mini_batch_size], XY[-1:, k:k + mini_batch_size]) for k in range(0, XY.shape[1],
                                                                                          mini_batch_size)]


@pytest.mark.parametrize("variant", [loop_with_remainder, comprehension_with_shuffled_indices, array_split,
                                     stacked_permutation, in_place_transpose_shuffle])
def test_reference_and_correct_variants_pass(reference, variant):
    mini_batches.check_random_mini_batches(reference["random_mini_batches"])
    mini_batches.check_random_mini_batches(variant)


# ------------------------------------------------------------------ wrong implementations

def _slices(X_s, Y_s, s):
    return [(X_s[:, k:k + s], Y_s[:, k:k + s]) for k in range(0, X_s.shape[1], s)]


def unpaired(X, Y, s, rng):
    m = X.shape[1]
    return _slices(X[:, rng.permutation(m)], Y[:, rng.permutation(m)], s)


def unpaired_in_place(X, Y, s, rng):
    rng.shuffle(X.T)  # shuffles the columns of X in place...
    rng.shuffle(Y.T)  # ...and those of Y with another permutation
    return _slices(X, Y, s)


def labels_not_shuffled(X, Y, s, rng):
    return _slices(X[:, rng.permutation(X.shape[1])], Y, s)


def drops_last(X, Y, s, rng):
    m = X.shape[1]
    p = rng.permutation(m)
    return [(X[:, p][:, k * s:(k + 1) * s], Y[:, p][:, k * s:(k + 1) * s]) for k in range(m // s)]


def with_replacement(X, Y, s, rng):
    idx = rng.integers(0, X.shape[1], X.shape[1])
    return _slices(X[:, idx], Y[:, idx], s)


def choice_default_replace(X, Y, s, rng):
    idx = rng.choice(X.shape[1], size=X.shape[1])  # replace=True is the default
    return _slices(X[:, idx], Y[:, idx], s)


def no_shuffle(X, Y, s, rng):
    return _slices(X, Y, s)


def global_rng(X, Y, s, rng):
    p = np.random.permutation(X.shape[1])
    return _slices(X[:, p], Y[:, p], s)


def new_generator(X, Y, s, rng):
    p = np.random.default_rng().permutation(X.shape[1])
    return _slices(X[:, p], Y[:, p], s)


def fixed_seed(X, Y, s, rng):
    p = np.random.default_rng(0).permutation(X.shape[1])
    return _slices(X[:, p], Y[:, p], s)


def shuffles_rows(X, Y, s, rng):
    rng.shuffle(X)  # shuffles along axis 0: the features, not the examples
    return _slices(X, Y, s)


def permutes_rows_by_index(X, Y, s, rng):
    return _slices(X[rng.permutation(X.shape[0]), :], Y, s)


def permutation_per_batch(X, Y, s, rng):
    m = X.shape[1]
    batches = []
    for k in range(0, m, s):
        p = rng.permutation(m)[:min(s, m - k)]  # a fresh shuffle for every mini-batch
        batches.append((X[:, p], Y[:, p]))
    return batches


def padded_last(X, Y, s, rng):
    m = X.shape[1]
    p = rng.permutation(m)
    p = np.concatenate([p, p[:(-m) % s]])  # wrap around to fill the last batch
    return _slices(X[:, p], Y[:, p], s)


def zero_padded_last(X, Y, s, rng):
    m = X.shape[1]
    p = rng.permutation(m)
    pad = (-m) % s
    return _slices(np.hstack([X[:, p], np.zeros((X.shape[0], pad))]), np.hstack([Y[:, p], np.zeros((1, pad))]), s)


def shuffles_batch_order_only(X, Y, s, rng):
    batches = _slices(X, Y, s)
    return [batches[i] for i in rng.permutation(len(batches))]


def shuffles_complete_blocks(X, Y, s, rng):
    # Whole blocks of s neighbouring examples move, the remainder stays last.
    m = X.shape[1]
    blocks = [np.arange(k, min(k + s, m)) for k in range(0, m, s)]
    complete = [blocks[i] for i in rng.permutation(m // s)]
    p = np.concatenate(complete + blocks[m // s:])
    return _slices(X[:, p], Y[:, p], s)


def one_d_columns_for_single_examples(X, Y, s, rng):
    p = rng.permutation(X.shape[1])
    if s == 1:
        return [(X[:, i], Y[:, i]) for i in p]
    return _slices(X[:, p], Y[:, p], s)


def generator(X, Y, s, rng):
    p = rng.permutation(X.shape[1])
    return ((X[:, p][:, k:k + s], Y[:, p][:, k:k + s]) for k in range(0, X.shape[1], s))


def lists_not_tuples(X, Y, s, rng):
    return [[a, b] for a, b in _slices(*(lambda p: (X[:, p], Y[:, p]))(rng.permutation(X.shape[1])), s)]


def transposed_batches(X, Y, s, rng):
    p = rng.permutation(X.shape[1])
    return [(a.T, b.T) for a, b in _slices(X[:, p], Y[:, p], s)]


def returns_none(X, Y, s, rng):
    _slices(X, Y, s)


def off_by_one_slices(X, Y, s, rng):
    p = rng.permutation(X.shape[1])
    X, Y = X[:, p], Y[:, p]
    return [(X[:, k:k + s - 1], Y[:, k:k + s - 1]) for k in range(0, X.shape[1], s)] if s > 1 else _slices(X, Y, s)


def uses_shape_0_for_m(X, Y, s, rng):
    m = X.shape[0]  # n_x, not the number of examples
    p = rng.permutation(m)
    return _slices(X[:, p], Y[:, p], s)


WRONG = {
    "X and Y with different permutations": (unpaired, "different permutations"),
    "X and Y shuffled separately in place": (unpaired_in_place, "different permutations"),
    "labels left in order": (labels_not_shuffled, "Y was not shuffled"),
    "last smaller batch dropped": (drops_last, "last, smaller one is missing"),
    "sampling with replacement": (with_replacement, "more than once"),
    "rng.choice with replacement": (choice_default_replace, "more than once"),
    "no shuffle": (no_shuffle, "original order"),
    "global np.random": (global_rng, "global random generator"),
    "fresh unseeded generator": (new_generator, "same seed"),
    "own fixed seed": (fixed_seed, "identical results"),
    "rows shuffled in place": (shuffles_rows, "features \\(rows\\)"),
    "rows permuted by index": (permutes_rows_by_index, "features \\(rows\\)"),
    "a new permutation per batch": (permutation_per_batch, "ONE permutation"),
    "last batch padded by wrapping": (padded_last, "do not pad"),
    "last batch padded with zeros": (zero_padded_last, "do not pad"),
    "only the batch order shuffled": (shuffles_batch_order_only, "smaller one must come last"),
    "blocks of examples shuffled": (shuffles_complete_blocks, "barely mixed|original order"),
    "1-D single examples": (one_d_columns_for_single_examples, "2-D"),
    "returns a generator": (generator, "build the list"),
    "pairs as lists": (lists_not_tuples, "as a tuple"),
    "transposed batches": (transposed_batches, "transposed"),
    "returns None": (returns_none, "return"),
    "slices one short": (off_by_one_slices, "sizes"),
    "m from X.shape[0]": (uses_shape_0_for_m, "sizes|raised"),
}


@pytest.mark.parametrize("label", WRONG)
def test_wrong_implementations_fail(label):
    fn, expected_words = WRONG[label]
    with pytest.raises(AssertionError, match=expected_words):
        mini_batches.check_random_mini_batches(fn)


def test_a_crash_names_the_call():
    def crashes(X, Y, s, rng):
        return X[:, rng.permutation(X.shape[1] + 1)]

    with pytest.raises(AssertionError, match=r"random_mini_batches\(X of shape \(3, 10\).*raised IndexError"):
        mini_batches.check_random_mini_batches(crashes)


def test_tagged_columns_name_their_example():
    X, Y = mini_batches._tagged(3, 5)
    assert X.shape == (3, 5) and Y.shape == (1, 5)
    assert np.array_equal(X.min(axis=0), np.arange(5)) and len(np.unique(Y)) == 5


def test_check_leaves_global_random_state_alone(reference):
    np.random.seed(99)
    before = np.random.get_state()
    mini_batches.check_random_mini_batches(reference["random_mini_batches"])
    after = np.random.get_state()
    assert np.array_equal(before[1], after[1]) and before[2:] == after[2:]
