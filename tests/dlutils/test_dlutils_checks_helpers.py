"""expect_same_draws, expect_shares and expect_records: the helpers that keep check cells short."""
import numpy as np
import pytest

from dlutils import checks
from dlutils.checks import CheckFailure


def test_expect_same_draws_compares_nested_results_and_gives_the_hint():
    rng_result = lambda seed: [(np.random.default_rng(seed).random((2, 3)), np.arange(3))]  # noqa: E731
    checks.expect_same_draws(rng_result(0), rng_result(0), "random_mini_batches")
    with pytest.raises(CheckFailure, match=r"mini: the same seed gave a different result\n  Hint: draw every"):
        checks.expect_same_draws(rng_result(0), rng_result(1), "mini")
    with pytest.raises(CheckFailure, match="Hint: draw the permutation"):
        checks.expect_same_draws(rng_result(0), rng_result(0) * 2, "mini", "draw the permutation from `rng`")
    with pytest.raises(CheckFailure):
        checks.expect_same_draws(np.zeros(3), np.ones(3), "D")


def test_expect_shares_bins_the_values_and_names_a_mistake():
    rng = np.random.default_rng(0)
    log_uniform = 10 ** rng.uniform(-4, 0, 20_000)
    checks.expect_shares(np.log10(log_uniform), (-4, 0), np.full(4, 0.25), "decades", atol=0.02)
    uniform = rng.uniform(1e-4, 1, 20_000)
    mistakes = {"uniform on [low, high]": np.array([0.0009, 0.009, 0.09, 0.9])}
    with pytest.raises(CheckFailure, match="this looks like: uniform on"):
        checks.expect_shares(np.log10(uniform), (-4, 0), np.full(4, 0.25), "decades", atol=0.02, mistakes=mistakes)


def test_expect_records_checks_type_length_and_keys_and_returns_columns():
    records = [{"a": 1, "b": 2.0}, {"a": 3, "b": 4.0}]
    columns = checks.expect_records(records, "configs", length=2, keys={"a": None, "b": None})
    assert columns["a"].tolist() == [1, 3] and columns["b"].tolist() == [2.0, 4.0]
    assert checks.expect_records(records, "rungs") == {}
    with pytest.raises(CheckFailure, match="expected a list of 3 dicts, got list of length 2"):
        checks.expect_records(records, "configs", length=3)
    with pytest.raises(CheckFailure, match="expected a list of rungs, got tuple of length 2"):
        checks.expect_records(tuple(records), "history", what="rungs")
    with pytest.raises(CheckFailure, match="got items of type list"):
        checks.expect_records([[1]], "configs")
    with pytest.raises(CheckFailure, match=r"exactly the keys \['a', 'b'\]; the first is \{'a': 1\}"):
        checks.expect_records([{"a": 1}], "configs", keys=["a", "b"])
    with pytest.raises(CheckFailure, match="returned None"):
        checks.expect_records(None, "configs")


def test_expect_raises_passes_the_error_and_names_a_missing_one():
    def pick(limit):
        if limit < 1:
            raise ValueError("no model fits")
        return "A"

    checks.expect_raises(ValueError, lambda: pick(0.5), "pick(0.5)")
    with pytest.raises(CheckFailure, match=r"pick\(2\): expected a ValueError, but it returned normally\n  Hint: say"):
        checks.expect_raises(ValueError, lambda: pick(2), "pick(2)", hint="say why")
    with pytest.raises(KeyError):  # another error is the student's own: it is not swallowed
        checks.expect_raises(ValueError, lambda: {}["x"], "lookup")
