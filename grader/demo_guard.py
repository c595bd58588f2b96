"""Which exercises each provided code cell needs, and the guard line that says so.

A provided (non-graded) code cell *needs* an exercise when it uses the function a
solution cell defines, directly or through a name defined by an earlier provided
cell that needs it (e.g. a helper that calls the student's function, or data it
computed). Such a cell must start with ``progress.needs("a", "b")`` naming exactly
those exercises, so that with unfinished work it stops with one sentence instead of
a ``NameError``; a widget that runs with some functions missing uses
``progress.available(...)`` instead and is left alone. ``python -m grader execute``
adds or updates the guard line; ``tests/test_score_cell.py`` fails when one is
missing or stale. Magic lines (``%matplotlib ...``) stay first.
"""
from __future__ import annotations

import ast
import re

from nbformat import NotebookNode

from .notebooks import grade_id, is_solution_cell, is_test_cell

GUARD = re.compile(r"^progress\.needs\((.*)\)\s*$")


def _code(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def _loads(node: ast.AST, params: frozenset[str]):
    """The names ``node`` reads, except a function's or lambda's own parameters read inside it."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = node.args
        params = params | {arg.arg for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if arg}
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in params:
        yield node
    for child in ast.iter_child_nodes(node):
        yield from _loads(child, params)


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names read anywhere, names bound at the top level) of a cell.

    An approximation that errs towards naming more exercises: a name read before the
    cell rebinds it counts as the cell's own.
    """
    used = {n.id for n in _loads(tree, frozenset())}
    bound: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        else:
            for child in ast.walk(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    bound.add(child.id)
    return used, bound


def needed(nb: NotebookNode) -> dict[int, list[str]]:
    """Cell index -> the exercises (in notebook order) a provided code cell needs; only cells that need some."""
    exercises = [grade_id(c) for c in nb.cells if is_solution_cell(c) and c.cell_type == "code"]
    order = {name: i for i, name in enumerate(exercises)}
    carries: dict[str, set[str]] = {name: {name} for name in exercises}  # name -> exercises behind it
    result: dict[int, list[str]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or is_solution_cell(cell) or is_test_cell(cell):
            continue
        try:
            used, bound = _names(ast.parse(_code(cell.source)))
        except SyntaxError:
            continue
        needs: set[str] = set()
        for name in used - (bound - set(order)):  # a name the cell binds itself is read from the cell
            needs |= carries.get(name, set())
        for name in bound:
            if name not in order:
                carries[name] = needs  # rebinding replaces what the name carried
        if needs:
            result[index] = sorted(needs, key=order.__getitem__)
    return result


def guard_line(names: list[str]) -> str:
    return f"progress.needs({', '.join(repr(n).replace(chr(39), chr(34)) for n in names)})"


def _split(source: str) -> tuple[list[str], list[str]]:
    lines = source.split("\n")
    k = 0
    while k < len(lines) and lines[k].startswith("%"):
        k += 1
    return lines[:k], lines[k:]


def _stale(nb: NotebookNode):
    """(cell index, magic lines, body without an old guard, the guard it needs) of each cell to fix."""
    for index, names in needed(nb).items():
        source = nb.cells[index].source
        if "progress.available(" in source:  # a widget that runs with what is written
            continue
        magics, body = _split(source)
        want = guard_line(names)
        if body and body[0] == want:
            continue
        yield index, magics, body[1:] if body and GUARD.match(body[0]) else body, want


IMPORT = "from dlutils import progress"
IMPORTED = re.compile(r"^\s*(from dlutils import .*\bprogress\b|import dlutils\.progress)", re.M)


def _missing_import(nb: NotebookNode) -> bool:
    """Guards are needed but no code cell before the first of them imports ``progress`` from dlutils."""
    guarded = needed(nb)
    return bool(guarded) and not any(c.cell_type == "code" and IMPORTED.search(c.source)
                                     for c in nb.cells[:min(guarded)])


def problems(nb: NotebookNode) -> list[str]:
    found = [f"{grade_id(nb.cells[index]) or f'cell {index}'!r}: its first line (after magics) must be `{want}`"
             for index, _, _, want in _stale(nb)]
    if _missing_import(nb):
        found.append(f"no cell imports progress: add `{IMPORT}` to the setup cell")
    return found


def refresh(nb: NotebookNode) -> bool:
    """Add or update the guard line of every provided cell that needs exercises; True if anything changed.

    Also adds ``from dlutils import progress`` after the last import of the setup cell
    (the first code cell) when no cell imports it.
    """
    stale = list(_stale(nb))
    for index, magics, body, want in stale:
        nb.cells[index].source = "\n".join(magics + [want] + body)
    missing = _missing_import(nb)
    if missing:
        setup = next(c for c in nb.cells if c.cell_type == "code")
        lines = setup.source.split("\n")
        last = max((i for i, line in enumerate(lines) if line.startswith(("import ", "from "))), default=-1)
        setup.source = "\n".join(lines[:last + 1] + [IMPORT] + lines[last + 1:])
    return bool(stale) or missing
