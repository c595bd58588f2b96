"""The reference implementations of a solutions notebook as callables: for tests of the hidden checks.

Test-only (tests/checks runs every hidden check against the reference and
against catalogues of wrong implementations), so it lives here and not in
the grader package.
"""
from __future__ import annotations

import builtins
import contextlib
import os
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader.notebooks import grade_id, is_solution_cell, is_test_cell, read_notebook, strip_solution_markers

# Cell tag for locked demo cells that load_reference_functions must not run (invisible to students).
SKIP_IN_REFERENCE = "grader-skip-in-reference"


def load_reference_functions(solution_nb_path: str | os.PathLike) -> dict[str, Callable[..., Any]]:
    """The reference implementations of a solutions notebook, as callables keyed by ``grade_id``.

    The rule, explicitly: in one fresh module namespace, with the working
    directory set to the notebook's folder, run in notebook order every code
    cell up to and including the last solution code cell, except

    * test cells (``grade: true, solution: false``): they call hidden checks;
    * cells tagged ``grader-skip-in-reference`` (the opt-out for slow demos,
      widgets, training runs; a tag, so students never see it);
    * IPython-only syntax: a cell starting with ``%%`` is skipped, and top-level
      lines starting with ``%`` or ``!`` are dropped.

    Solution cells run with their marker lines removed. Cells after the last
    solution cell never run. The result maps each solution code cell's
    ``grade_id`` to the callable of that name (grade_ids naming no callable,
    such as an ungraded activity, are left out). A cell that raises is
    reported as ``RuntimeError`` naming the cell.
    """
    path = Path(solution_nb_path).resolve()
    nb = read_notebook(path)
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    solution_positions = [k for k, (_, c) in enumerate(code_cells) if is_solution_cell(c)]
    if not solution_positions:
        return {}
    to_run = code_cells[: solution_positions[-1] + 1]

    module = types.ModuleType(f"_grader_reference_{_identifier(path.stem)}")
    module.__dict__["__builtins__"] = builtins
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses and pickle look classes up here

    with _working_directory(path.parent), _headless_matplotlib():
        for index, cell in to_run:
            if is_test_cell(cell):
                continue
            source = cell.source
            if SKIP_IN_REFERENCE in cell.metadata.get("tags", []) or source.lstrip().startswith("%%"):
                continue
            if is_solution_cell(cell):
                source = strip_solution_markers(source)
            source = _drop_ipython_lines(source)
            label = f"cell {index}" + (f" (grade_id {grade_id(cell)!r})" if grade_id(cell) else "")
            try:
                code = compile(source, f"<{path.name} {label}>", "exec")
                exec(code, module.__dict__)  # noqa: S102 - the instructor's own notebook
            except Exception as exc:
                raise RuntimeError(f"{path.name}: {label} failed: {type(exc).__name__}: {exc}") from exc

    functions: dict[str, Callable[..., Any]] = {}
    for _, cell in to_run:
        gid = grade_id(cell) if is_solution_cell(cell) else None
        if gid and callable(module.__dict__.get(gid)):
            functions[gid] = module.__dict__[gid]
    return functions



# ------------------------------------------------------------ internals


def _identifier(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def _drop_ipython_lines(source: str) -> str:
    return "\n".join(line for line in source.split("\n") if not line.startswith(("%", "!")))


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@contextlib.contextmanager
def _headless_matplotlib() -> Iterator[None]:
    """No windows from notebook plots; figures made while loading are closed afterwards."""
    had_backend = "MPLBACKEND" in os.environ
    if not had_backend and "matplotlib" not in sys.modules:
        os.environ["MPLBACKEND"] = "Agg"
    try:
        yield
    finally:
        if not had_backend:
            os.environ.pop("MPLBACKEND", None)
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")
