"""Building blocks shared by the hidden checks of every week."""
from __future__ import annotations

import contextvars
import copy
from collections.abc import Iterable, Iterator
from typing import Any, Callable, Mapping

import numpy as np

from dlutils.checks import CheckFailure, expect_parameters, expect_statistics  # noqa: F401 (re-exported)


def fail(message: str) -> None:
    raise CheckFailure(message)


def call(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call a student's function on deep copies, so in-place updates are harmless."""
    return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))


def call_each(fn: Callable, calls: Iterable[tuple[tuple, dict]]) -> Iterator[Any]:
    """``call(fn, *args, **kwargs)`` for each ``(args, kwargs)`` of ``calls``, results yielded in order.

    A student's function in the kernel gets all the calls in one round trip
    (``RemoteFunction.call_many``) instead of one each: for checks that call it
    hundreds of times. Consume each result before the next, as a loop of
    :func:`call` would.
    """
    calls = [(copy.deepcopy(tuple(args)), copy.deepcopy(dict(kwargs))) for args, kwargs in calls]
    many = getattr(fn, "call_many", None)
    if many is not None:
        yield from many(calls)
    else:
        for args, kwargs in calls:
            yield fn(*args, **kwargs)


def sibling(fn: Callable, name: str) -> Callable | None:
    """The student's function ``name`` from the notebook that defines ``fn``, or None when there is none.

    In the secure grader ``fn`` stands for a function in the student's kernel and
    ``RemoteFunction.sibling`` reaches ``name`` there; elsewhere (the kernel, pytest)
    ``name`` is looked up where ``fn`` was defined.
    """
    remote = getattr(fn, "sibling", None)
    if remote is not None:
        return remote(name)
    found = getattr(fn, "__globals__", {}).get(name)
    return found if callable(found) else None


def call_with_inputs(fn: Callable, *args: Any, **kwargs: Any) -> tuple[Any, tuple, dict]:
    """Like :func:`call`, and also return the (copied) arguments as the function left them.

    For the few contracts that promise to leave an input unchanged (e.g.
    ``numerical_gradient``'s ``theta``): compare the returned arguments with
    the originals.
    """
    args, kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    result = fn(*args, **kwargs)
    return result, args, kwargs


def expect_zero_biases(params: Mapping, who: str) -> None:
    for key, value in params.items():
        if key.startswith("b") and np.any(value != 0):
            fail(f'{who}: parameters["{key}"] should be all zeros (biases start at zero; '
                 "random weights alone break the symmetry)")


def expect_normal(samples: np.ndarray, std: float, name: str,
                  alternatives: Mapping[str, float] | None = None) -> None:
    """Samples look like N(0, std²): mean, variance and shape of the distribution.

    ``alternatives`` maps a known mistake to the standard deviation it gives.
    Tolerances are 5 standard errors of each statistic, so a correct
    implementation fails with negligible probability whatever draws it makes.
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    expect_statistics(x, name, mean=0.0, var=std**2, rel_tol=0.0,
                      alternatives={label: alt**2 for label, alt in (alternatives or {}).items()})
    z = (x - x.mean()) / x.std()
    kurtosis = np.mean(z**4)
    if abs(kurtosis - 3) > 5 * np.sqrt(24 / x.size) + 0.02:
        kind = " (uniform draws give 1.8: use rng.standard_normal, not rng.random/uniform)" if kurtosis < 2.2 else ""
        fail(f"{name}: the values are not normally distributed (kurtosis {kurtosis:.3g}, normal is 3){kind}")


# When the student's function runs in another process (the secure autograder,
# grader/secure/remote.py), NumPy's global generator that matters is that process's:
# inside expect_uses_only_rng, each remote call appends here whether it moved.
_global_rng_reports: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "global_rng_reports", default=None)


def watching_global_rng() -> list | None:
    """The list a remote call reports global-generator use to, or None outside expect_uses_only_rng."""
    return _global_rng_reports.get()


def expect_uses_only_rng(fn: Callable[[np.random.Generator], Any], who: str,
                         same: Callable[[Any, Any], bool]) -> None:
    """``fn(rng)`` is reproducible from ``rng``, depends on it, and leaves ``np.random`` alone."""
    saved = np.random.get_state()
    reports: list[bool] = []
    token = _global_rng_reports.set(reports)
    try:
        np.random.seed(12345)
        before = np.random.get_state()
        first = fn(np.random.default_rng(2024))
        after = np.random.get_state()
        if not (np.array_equal(before[1], after[1]) and before[2:] == after[2:]) or any(reports):
            fail(f"{who} used NumPy's global random generator (np.random.*); "
                 "draw every random number from the `rng` argument instead")
    finally:
        _global_rng_reports.reset(token)
        np.random.set_state(saved)
    again = fn(np.random.default_rng(2024))
    if not same(first, again):
        fail(f"{who} gave different results for two generators with the same seed: "
             "draw from the `rng` you are given (do not create a new generator)")
    other = fn(np.random.default_rng(7))
    if same(first, other):
        fail(f"{who} gave identical results for differently seeded generators: "
             "it must draw its random numbers from `rng`")


def dicts_equal(a: Mapping, b: Mapping) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
