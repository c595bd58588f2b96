"""Hidden checks: one module per notebook, one ``check_<name>`` per graded function.

The hidden part of every notebook test cell is the same two lines::

    import grader.checks
    grader.checks.run("initialize_he", initialize_he)

:func:`run` finds ``check_initialize_he`` in whichever module of this package
defines it. Each check takes the student's function, calls it on fresh inputs
and raises ``AssertionError`` (``dlutils.checks.CheckFailure``) with a message
that says what is wrong. Because they are ordinary Python, ``tests/checks/``
runs every check against the reference solution, correct variants and a
catalogue of wrong ones.

Rules every check follows (see ``_common``), so that a check can run either in
the student's kernel or in a trusted process that calls the student's function
across a process boundary:

* it touches the student's function only through :func:`_common.call`,
  :func:`_common.call_with_inputs` and :func:`_common.expect_uses_only_rng`;
* arguments are plain data (NumPy arrays, numbers, strings, ``None``, and
  dicts/lists/tuples of them), ``np.random.Generator`` objects, or callables
  defined at module level in :mod:`grader.checks.probes`;
* it judges only what comes back (plain data), never the function object.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import Callable


def check_modules() -> list[str]:
    """Names of the modules that hold checks (every public module of this package)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
                  and m.name != "probes")


def find(name: str) -> Callable:
    """The check of graded function ``name``: ``check_<name>`` in exactly one module."""
    found = []
    for module_name in check_modules():
        module = importlib.import_module(f"{__name__}.{module_name}")
        check = getattr(module, f"check_{name}", None)
        if check is not None:
            found.append(check)
    if len(found) != 1:
        where = "no module" if not found else f"{len(found)} modules"
        raise LookupError(f"check_{name} is defined in {where} of grader.checks (expected exactly one)")
    return found[0]


def run(name: str, fn: Callable) -> None:
    """Run the hidden check of graded function ``name`` on the student's ``fn``."""
    find(name)(fn)
