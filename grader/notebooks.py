"""Notebook helpers for the pipeline and for tests.

Vocabulary (nbgrader metadata in ``cell.metadata.nbgrader``):

* *solution cell*: ``solution: true``; its ``grade_id`` is the name of the
  graded function it defines (see the curriculum's conventions);
* *test cell*: ``grade: true, solution: false``; ``grade_id`` ``test_<name>``;
* everything else is provided material (locked or not).

Public helpers:

* :func:`solution_cells` - ``grade_id -> source`` of a notebook's solution cells
* :func:`strip_solution_markers` - a solution cell's code without the markers
* :func:`make_submission` - a release notebook filled in with reference code
  (or chosen replacements), i.e. a synthetic student submission
* :func:`read_notebook` / :func:`notebook_text` / :func:`write_notebook` -
  nbformat I/O with the canonical, byte-stable formatting used by releases
* :func:`user_work_reasons` - why a student copy must not be overwritten
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from .config import CODE_STUB

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"

NotebookLike = str | os.PathLike | NotebookNode


# --------------------------------------------------------------------- I/O


def read_notebook(path: str | os.PathLike) -> NotebookNode:
    """Read a notebook as nbformat v4 (no minor-version upgrade, so ids are kept as they are)."""
    return nbformat.read(os.fspath(path), as_version=4)


def notebook_text(nb: NotebookNode) -> str:
    """The canonical text of a notebook: nbformat's own formatting plus a trailing newline."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: NotebookNode, path: str | os.PathLike) -> None:
    """Write ``nb`` to ``path`` in the canonical form of :func:`notebook_text` (UTF-8, ``\\n``)."""
    Path(path).write_text(notebook_text(nb), encoding="utf-8", newline="\n")


def _as_notebook(nb: NotebookLike) -> NotebookNode:
    return nb if isinstance(nb, NotebookNode) else read_notebook(nb)


# ----------------------------------------------------------- cell kinds


def nbgrader_metadata(cell: Mapping[str, Any]) -> Mapping[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_solution_cell(cell: Mapping[str, Any]) -> bool:
    return bool(nbgrader_metadata(cell).get("solution", False))


def is_test_cell(cell: Mapping[str, Any]) -> bool:
    """An autograder test cell: graded, not a solution (a graded *solution* is a manually graded answer)."""
    meta = nbgrader_metadata(cell)
    return bool(meta.get("grade", False)) and not meta.get("solution", False)


def grade_id(cell: Mapping[str, Any]) -> str | None:
    return nbgrader_metadata(cell).get("grade_id")


# ------------------------------------------------------------- helpers


def solution_cells(nb: NotebookLike) -> dict[str, str]:
    """Map ``grade_id -> source`` for every solution cell (code or markdown), in notebook order.

    ``nb`` is a ``NotebookNode`` or a path. Raises ``ValueError`` on a solution
    cell without a ``grade_id`` or a ``grade_id`` used twice.
    """
    nb = _as_notebook(nb)
    cells: dict[str, str] = {}
    for index, cell in enumerate(nb.cells):
        if not is_solution_cell(cell):
            continue
        gid = grade_id(cell)
        if not gid:
            raise ValueError(f"solution cell {index} has no nbgrader grade_id")
        if gid in cells:
            raise ValueError(f"grade_id {gid!r} is used by more than one solution cell")
        cells[gid] = cell.source
    return cells


def strip_solution_markers(source: str) -> str:
    """Drop the ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines, keep all other lines.

    A line is a marker when it contains ``BEGIN SOLUTION`` or ``END SOLUTION``
    (nbgrader's own rule). The provided scaffold around the markers (e.g. a
    ``def`` line) stays, so the result is the complete reference code of the
    cell, indentation unchanged.
    """
    lines = source.split("\n")
    kept = [line for line in lines if BEGIN_SOLUTION not in line and END_SOLUTION not in line]
    return "\n".join(kept)


def make_submission(
    release_nb_path: NotebookLike,
    solution_nb_path: NotebookLike,
    replacements: Mapping[str, str] | None = None,
) -> NotebookNode:
    """A student submission built from the release notebook.

    Every solution cell of the release notebook gets the reference code of the
    solution cell with the same ``grade_id`` in the solutions notebook (markers
    stripped), except the ``grade_id``s in ``replacements``, which get the given
    source verbatim (e.g. a wrong implementation of one exercise). All other
    cells stay as released; nothing is executed.

    Raises ``ValueError`` for a replacement naming no solution cell of the
    release, or a release solution cell missing from the solutions notebook.
    """
    if isinstance(release_nb_path, NotebookNode):
        release = copy.deepcopy(release_nb_path)  # never edit the caller's notebook
    else:
        release = read_notebook(release_nb_path)
    reference = solution_cells(solution_nb_path)
    replacements = dict(replacements or {})

    released_ids = set(solution_cells(release))
    unknown = sorted(set(replacements) - released_ids)
    if unknown:
        raise ValueError(
            f"replacements name no solution cell of the release: {', '.join(unknown)} "
            f"(solution cells: {', '.join(sorted(released_ids)) or 'none'})"
        )
    for cell in release.cells:
        if not is_solution_cell(cell):
            continue
        gid = grade_id(cell)
        if gid in replacements:
            cell.source = replacements[gid]
        elif gid in reference:
            cell.source = strip_solution_markers(reference[gid])
        else:
            raise ValueError(f"solution cell {gid!r} of the release is not in the solutions notebook")
    return release


def user_work_reasons(nb: NotebookNode, fresh: NotebookNode | None = None) -> list[str]:
    """Why ``nb`` (a copy in ``notebooks/``) looks like a student's work; empty when it is pristine.

    Work is: outputs or execution counts; a cell whose source no longer matches
    the checksum nbgrader recorded when releasing it (e.g. an answered solution
    cell); a solution cell without checksum that is not the stub; a non-empty
    cell without nbgrader metadata that ``fresh`` (the newly generated
    version, if given) does not contain, such as a cell the student added.
    """
    from nbgrader.utils import compute_checksum  # heavy import, only when needed

    reasons: list[str] = []
    fresh_sources = {(c.cell_type, c.source) for c in fresh.cells} if fresh is not None else None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            reasons.append("has outputs")
        meta = nbgrader_metadata(cell)
        if meta.get("grade_id"):
            checksum = meta.get("checksum")
            if checksum is not None:
                try:
                    edited = compute_checksum(cell) != checksum
                except (KeyError, ValueError, TypeError):
                    edited = True
                if edited:
                    reasons.append(f"cell {meta['grade_id']!r} was edited")
            elif meta.get("solution") and cell.cell_type == "code" and cell.source.strip() != CODE_STUB:
                reasons.append(f"cell {meta['grade_id']!r} was edited")
        elif fresh_sources is not None and cell.source.strip() and (cell.cell_type, cell.source) not in fresh_sources:
            reasons.append(f"cell {index} was added or edited")
    return list(dict.fromkeys(reasons))  # unique, in order
