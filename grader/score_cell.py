"""The score view that ends every notebook, generated from the nbgrader metadata of its test cells.

The points of an exercise have one source: the ``points`` of its test cell
(``grade_id`` ``test_<name>``). The last two cells of every notebook are a short
heading and a locked code cell calling ``dlutils.progress.show`` with those points,
in notebook order; ``python -m grader execute`` adds or refreshes them before it
runs a notebook, and ``tests/test_score_cell.py`` fails for any notebook in
``solutions/`` whose score cell is missing or out of date.

Each test cell must end with ``checks.passed("<name>")``: that call is how the
kernel knows which exercise a check cell belongs to (``dlutils.progress.record``).
"""
from __future__ import annotations

import nbformat
from nbformat import NotebookNode

from .notebooks import grade_id, is_test_cell

HEADING_ID, CELL_ID = "md_score", "score"
HEADING = ("## Your score so far\n\n"
           "Run this cell to see which exercises pass their visible checks in this session. "
           "Your grade also counts hidden tests of the same functions, so passing here is "
           "necessary, not sufficient. Before you submit, click **Validate** in the toolbar: "
           "it runs the whole notebook from the top, as the grader will.")


def exercises(nb: NotebookNode) -> dict[str, float]:
    """Exercise name -> points, from the test cells (``test_<name>``), in notebook order."""
    points: dict[str, float] = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if is_test_cell(cell) and gid and gid.startswith("test_"):
            points[gid[len("test_"):]] = cell.metadata["nbgrader"].get("points", 0)
    return points


def score_source(points: dict[str, float]) -> str:
    entries = ", ".join(f'"{name}": {value:g}' for name, value in points.items())
    return ("# Generated from this notebook's points by `python -m grader execute`; do not edit.\n"
            "from dlutils import progress\n"
            f"progress.show({{{entries}}})")


def _metadata(gid: str) -> dict:
    return {"nbgrader": {"grade": False, "grade_id": gid, "locked": True, "schema_version": 3,
                         "solution": False, "task": False}}


def problems(nb: NotebookNode) -> list[str]:
    """Why ``nb``'s score view is missing or stale, and test cells that lack ``checks.passed``; empty if fine."""
    found: list[str] = []
    points = exercises(nb)
    for cell in nb.cells:
        gid = grade_id(cell)
        if is_test_cell(cell) and gid and gid.startswith("test_"):
            name = gid[len("test_"):]
            if f'checks.passed("{name}")' not in cell.source:
                found.append(f"test cell {gid!r} does not call checks.passed(\"{name}\"), "
                             "so the score view cannot record it")
    if not points:
        return found
    tail = nb.cells[-2:]
    if len(tail) < 2 or [grade_id(c) for c in tail] != [HEADING_ID, CELL_ID]:
        found.append("the notebook does not end with the score view (cells 'md_score' and 'score')")
    elif tail[1].source != score_source(points) or tail[0].source != HEADING:
        found.append("the score view is out of date with the test cells' points")
    return found


def refresh(nb: NotebookNode) -> bool:
    """Add or update the score view at the end of ``nb``; True if anything changed.

    Score cells found elsewhere are removed first (so a moved one is not kept twice).
    A notebook without test cells gets none.
    """
    points = exercises(nb)
    before = [(c.cell_type, c.source, c.metadata) for c in nb.cells]
    kept = [c for c in nb.cells if grade_id(c) not in (HEADING_ID, CELL_ID)]
    if points:
        old = {grade_id(c): c for c in nb.cells if grade_id(c) in (HEADING_ID, CELL_ID)}
        heading = old.get(HEADING_ID) or nbformat.v4.new_markdown_cell(id=HEADING_ID)
        cell = old.get(CELL_ID) or nbformat.v4.new_code_cell(id=CELL_ID)
        heading.source = HEADING
        if cell.source != score_source(points):
            cell.source, cell.outputs, cell.execution_count = score_source(points), [], None
        for c, gid in ((heading, HEADING_ID), (cell, CELL_ID)):
            c.metadata.update(_metadata(gid))  # the nbgrader metadata is ours; tags (e.g. skipping) stay
        kept += [heading, cell]
    nb.cells = kept
    return [(c.cell_type, c.source, c.metadata) for c in nb.cells] != before
