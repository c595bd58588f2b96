"""Cells the grade does not depend on, and that grading therefore does not run.

Most of a notebook's run time goes into experiments and demos (training
networks, plots, widgets) that show students what their functions do but
that no test needs. An instructor marks such a cell in ``solutions/`` with
the cell tag :data:`SKIP_IN_GRADING`. At grading:

* only *locked* cells of the source carrying the tag are skipped, found by
  their ``grade_id`` in the instructor's source notebook, never by the
  submission's own tags: a student cannot mark a cell of theirs, and cannot
  un-mark one (locked cells are restored from the gradebook before anything
  runs). Cells a student adds always run;
* a skipped cell gets one output saying it was not run for grading and why,
  so the feedback shows it.

``grader release`` refuses a notebook where a cell that still runs at grading
(a graded function's cell, a test cell, its hidden tests, or any other cell
that is not skipped) needs a name that only a skipped cell defines
(:func:`problems`): instructor code is known at release, so this is checked
statically, and a skipped cell can never change a grade.
"""
from __future__ import annotations

import ast
import builtins
from collections.abc import Mapping
from typing import Any

from nbformat import NotebookNode

from .notebooks import grade_id, is_solution_cell, is_test_cell, nbgrader_metadata

SKIP_IN_GRADING = "grader-skip-in-grading"

REASON = ("not run for grading: the instructor marked this cell as an experiment or demo that no graded "
          "function or test depends on (it runs when you run the notebook yourself)")


def is_marked(cell: Mapping[str, Any]) -> bool:
    """The cell carries the tag (says nothing about whether it may be skipped: see :func:`skipped_ids`)."""
    tags = cell.get("metadata", {}).get("tags", []) or []
    return isinstance(tags, list) and SKIP_IN_GRADING in tags


def skipped_ids(source_nb: NotebookNode) -> set[str]:
    """``grade_id``s of the source notebook's cells that grading skips: tagged, locked code cells that
    are neither a solution nor a test."""
    found = set()
    for cell in source_nb.cells:
        meta = nbgrader_metadata(cell)
        if (cell.get("cell_type") == "code" and is_marked(cell) and meta.get("locked")
                and not is_solution_cell(cell) and not is_test_cell(cell) and grade_id(cell)):
            found.add(grade_id(cell))
    return found


# ------------------------------------------------------------------ the static check


def _python(source: str) -> ast.Module | None:
    """The cell's code without IPython-only lines; ``None`` for a cell magic or code that does not parse."""
    if source.lstrip().startswith("%%"):
        return None
    kept = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
    try:
        return ast.parse(kept)
    except SyntaxError:
        return None


def _bound_at_top(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names a cell binds in the notebook's namespace (not inside its functions or classes):
    ``(all of them, those bound to values by assignment)`` - the rest are imports, functions, classes."""
    names: set[str] = set()
    values: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            return
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
            values.add(node.id)
        if isinstance(node, ast.Global):
            names.update(node.names)
            values.update(node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names, values


def _needed(tree: ast.Module) -> set[str]:
    """Names a cell reads that it does not bind anywhere itself (an over-approximation of its globals)."""
    loaded, stored = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else stored).add(node.id)
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            stored.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            stored.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            stored.add(node.name)
    return {n for n in loaded - stored if not hasattr(builtins, n)}


def problems(nb: NotebookNode) -> list[str]:
    """Why skipping the tagged cells of ``nb`` (a source notebook) could change a grade; empty when it cannot.

    Walks the code cells in order; hidden tests count as part of their test
    cell. A cell that runs at grading may use a name only if a cell that also
    runs bound it before (or it binds it itself). Two ways that fails:

    * the name, at that point, is bound only by a skipped cell;
    * a skipped cell used a *value* (a name bound by assignment, e.g. a
      shared ``rng`` or a list) that this later cell uses too: the skipped
      cell may have changed it (drawn from the generator, appended), so
      skipping it could change what the later cell computes.

    A tag on a cell that cannot be skipped (not locked, a solution or a test
    cell) is a problem too.
    """
    from .secure.trusted import split_hidden

    found: list[str] = []
    skipped = skipped_ids(nb)
    running: set[str] = set()            # names bound so far by cells that run
    running_values: set[str] = set()     # ... of which bound by assignment
    only_skipped: dict[str, str] = {}    # name -> the skipped cell that binds it (and no running cell does)
    touched: dict[str, str] = {}         # running value -> the skipped cell that used it since it was bound
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        label = f"cell {index + 1}" + (f" ({grade_id(cell)})" if grade_id(cell) else "")
        if is_marked(cell) and grade_id(cell) not in skipped:
            found.append(f"{label} is tagged {SKIP_IN_GRADING} but only locked cells that are neither a "
                         "solution nor a test can be skipped")
            continue
        visible, hidden = split_hidden(cell.source)
        trees = [t for t in (_python(visible), _python(hidden) if hidden else None) if t is not None]
        bound = [_bound_at_top(t) for t in trees]
        own = set().union(*(b[0] for b in bound)) if trees else set()
        own_values = set().union(*(b[1] for b in bound)) if trees else set()
        needed = set().union(*(_needed(t) for t in trees)) - own if trees else set()
        if grade_id(cell) in skipped:
            for name in own - running:
                only_skipped.setdefault(name, label)
            for name in needed & running_values:
                touched.setdefault(name, label)
            continue
        for name in sorted(needed - running):
            if name in only_skipped:
                found.append(f"{label} runs at grading, but it needs `{name}`, which only "
                             f"{only_skipped[name]} (tagged {SKIP_IN_GRADING}) defines")
        for name in sorted(needed & set(touched)):
            found.append(f"{label} runs at grading and uses `{name}`, which {touched[name]} (tagged "
                         f"{SKIP_IN_GRADING}) uses before it and may change (a random generator draws, "
                         "a list grows): skipping that cell could change this one")
        running |= own
        running_values = (running_values - own) | own_values
        for name in own:
            only_skipped.pop(name, None)
            touched.pop(name, None)
    return found
