"""column_origins and expect_partition: which examples came back, and whether they split X, Y."""
import numpy as np
import pytest

from dlutils import checks
from dlutils.checks import CheckFailure

X = np.arange(1.0, 25.0).reshape(2, 12) * np.array([[1.0], [-0.5]])
Y = np.arange(12).reshape(1, 12) % 3
PERM = np.random.default_rng(0).permutation(12)


def failure(*args):
    with pytest.raises(CheckFailure) as err:
        checks.expect_partition(*args)
    return str(err.value)


def split(order, sizes=(6, 3, 3), Xs=X, Ys=Y):
    cuts = np.cumsum(sizes)[:-1]
    return {name: (Xs[:, idx], Ys[:, idx]) for name, idx in zip(("train", "dev", "test"), np.split(order, cuts))}


def test_column_origins_finds_each_column_and_marks_strangers():
    assert checks.column_origins(X[:, PERM], X).tolist() == PERM.tolist()
    assert checks.column_origins(X[:, :0], X).shape == (0,)
    stranger = np.hstack([X[:, [3]], X[:, [4]] + 1e-12])
    assert checks.column_origins(stranger, X).tolist() == [3, -1]
    assert checks.column_origins(X.astype(np.float32), X).tolist() == [-1] * 12


def test_column_origins_rejects_inputs_it_cannot_read():
    with pytest.raises(ValueError, match="distinct columns"):
        checks.column_origins(X, np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"X_part: expected shape \(2, k\)"):
        checks.column_origins(X.T, X)


def test_expect_partition_passes_any_order_and_a_list_of_parts():
    checks.expect_partition(split(PERM), X, Y, "split")
    checks.expect_partition(split(np.arange(12)), X, Y, "split")
    checks.expect_partition(split(PERM, (12, 0, 0)), X, Y, "split")  # empty parts are fine
    one_hot = np.eye(3)[:, Y[0]]
    checks.expect_partition(split(PERM, Ys=one_hot), X, one_hot, "split")
    batches = [(X[:, PERM[i:i + 5]], Y[:, PERM[i:i + 5]]) for i in range(0, 12, 5)]
    checks.expect_partition(batches, X, Y, "mini-batches")


def test_expect_partition_names_a_label_that_did_not_travel():
    parts = split(PERM)
    X_dev, Y_dev = parts["dev"]
    parts["dev"] = (X_dev, Y[:, np.random.default_rng(1).permutation(12)[:3]])
    X_train, _ = parts["train"]
    parts["train"] = (X_train, Y[:, PERM[::-1][:6]])  # another permutation for the labels
    message = failure(parts, X, Y, "split")
    assert message.startswith("split: ") and "Y_train" in message and "same permutation" in message


def test_expect_partition_names_repeats_and_missing_examples():
    with_replacement = np.random.default_rng(2).integers(0, 12, 12)
    message = failure(split(with_replacement), X, Y, "split")
    assert "more than once" in message and "rng.permutation" in message
    message = failure(split(PERM[:10], (6, 2, 2)), X, Y, "split")
    assert "2 of the 12 examples are missing" in message and "all that is left" in message


def test_expect_partition_names_broken_shapes_and_columns():
    parts = split(PERM)
    parts["dev"] = (parts["dev"][0], parts["dev"][1][:, :2])
    assert "X_dev has 3 columns but Y_dev has 2" in failure(parts, X, Y, "split")
    parts = split(PERM)
    parts["test"] = (parts["test"][0].T, parts["test"][1])
    assert "split: X_test: expected shape (2, any), got (3, 2)" in failure(parts, X, Y, "split")
    parts = split(PERM)
    parts["train"] = (np.sort(parts["train"][0], axis=1), parts["train"][1])  # entries moved within rows
    assert "not columns (examples) of X" in failure(parts, X, Y, "split")
    parts = split(PERM)
    parts["train"] = (parts["train"][0].astype(np.float32), parts["train"][1])
    assert "dtype float32" in failure(parts, X, Y, "split")
    assert "returned None" in failure({"train": None}, X, Y, "split")
    assert "expected a pair (X_dev, Y_dev), got 3 items" in failure({"dev": (X, Y, Y)}, X, Y, "split")
    assert "expected a pair (X of part 0, Y of part 0), got ndarray" in failure([X], X, Y, "batches")


def test_expect_shape_with_an_any_size_axis_and_the_wrong_rank():
    with pytest.raises(CheckFailure) as err:
        checks.expect_shape(np.zeros(7), (1, None), "Y_dev")
    assert "expected shape (1, any), got (7,)" in str(err.value) and "reshape(1, -1)" in str(err.value)
    with pytest.raises(CheckFailure) as err:
        checks.expect_shape(np.zeros((2, 3, 4)), (2, None), "X_dev")
    assert "expected shape (2, any), got (2, 3, 4)" in str(err.value)


def test_expect_partition_with_sizes_checks_the_count_and_each_size_first():
    checks.expect_partition(split(PERM), X, Y, "split", sizes=[6, 3, 3])
    with pytest.raises(CheckFailure, match=r"expected 3 parts \(of 6, 3, 3 examples\), got 2"):
        checks.expect_partition(list(split(PERM).values())[:2], X, Y, "split", sizes=[6, 3, 3])
    with pytest.raises(CheckFailure, match=r"X_train: expected shape \(2, 6\), got \(2, 5\)"):
        checks.expect_partition(split(PERM, sizes=(5, 4, 3)), X, Y, "split", sizes=[6, 3, 3])


def test_expect_split_returns_the_named_parts_and_names_each_mistake():
    result = tuple(split(PERM).values())
    parts = checks.expect_split(result, X, Y, {"train": 6, "dev": 3, "test": 3}, "split_dataset")
    assert list(parts) == ["train", "dev", "test"] and parts["dev"] is result[1]
    with pytest.raises(CheckFailure, match=r"return 3 pairs: \(\(X_train, Y_train\), \(X_dev, Y_dev\), "
                                           r"\(X_test, Y_test\)\), got a tuple of 2"):
        checks.expect_split(result[:2], X, Y, {"train": 6, "dev": 3, "test": 3}, "split_dataset")
    with pytest.raises(CheckFailure, match="got list"):
        checks.expect_split(list(result), X, Y, {"train": 6, "dev": 3, "test": 3}, "split_dataset")
    shuffled_labels = tuple((Xp, Yp[:, ::-1]) for Xp, Yp in result)
    with pytest.raises(CheckFailure, match="labels must travel with their examples"):
        checks.expect_split(shuffled_labels, X, Y, {"train": 6, "dev": 3, "test": 3}, "split_dataset")


def test_expect_partition_can_require_tuples_and_a_shuffle():
    batches = [(X[:, idx], Y[:, idx]) for idx in np.split(PERM, [4, 8])]
    checks.expect_partition(batches, X, Y, "batches", pair_type=tuple, shuffled=True)
    with pytest.raises(CheckFailure, match=r"expected the pair \(X of part 0, Y of part 0\) as a tuple, got a list"):
        checks.expect_partition([list(b) for b in batches], X, Y, "batches", pair_type=tuple)
    in_order = [(X[:, idx], Y[:, idx]) for idx in np.split(np.arange(12), [4, 8])]
    checks.expect_partition(in_order, X, Y, "batches")
    with pytest.raises(CheckFailure, match="the examples came back in their original order: shuffle them first"):
        checks.expect_partition(in_order, X, Y, "batches", shuffled=True)
