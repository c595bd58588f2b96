"""What every solutions notebook must have for students, applied and checked in one place.

* the score view at the end (``grader.score_cell``), points from the test cells' metadata;
* the demo guard first in every provided cell that uses an exercise (``grader.demo_guard``);
* the introduction (first markdown cell) says how to work through the notebook: ``HOW_TO``,
  which warns that Run All stops at the first unfinished exercise;
* long provided code cells collapsed in the release (``metadata.jupyter.source_hidden``):
  more than ``COLLAPSE_LINES`` lines of code a student does not need to read to do the
  exercises. Test cells, solution cells and short cells stay open.

``python -m grader execute NOTEBOOK`` applies all three (:func:`conform`) before it runs
the notebook; ``tests/test_score_cell.py`` fails for any notebook with :func:`problems`.

One rule is checked but not applied, since only an author can shorten a check: the visible
part of every test cell (before ``### BEGIN HIDDEN TESTS``) reads in at most ``CHECK_LINES``
lines; toy inputs, expected values and mistake catalogues go into a provided cell just above
it (grade_id ``<name>_fixtures``), collapsed like any long provided cell (:func:`long_checks`).
"""
from __future__ import annotations

from nbformat import NotebookNode

from . import demo_guard, score_cell
from .notebooks import grade_id, is_solution_cell, is_test_cell
from .secure.trusted import split_hidden

COLLAPSE_LINES = 15
CHECK_LINES = 10
HOW_TO = ("**How to work through it.** Run the cells in order. *Run All* stops at the first exercise you "
          "have not finished (its check cell raises `NotImplementedError`): that is expected, finish it and "
          "run on. A failed check says what differs; a demo that needs an unfinished exercise says which one. "
          "The last cell shows your score so far.")


def _intro(nb: NotebookNode):
    return next((c for c in nb.cells if c.cell_type == "markdown"), None)


def _intro_missing(nb: NotebookNode) -> bool:
    intro = _intro(nb)
    return intro is not None and HOW_TO not in intro.source


def _long_provided(cell) -> bool:
    return (cell.cell_type == "code" and not is_solution_cell(cell) and not is_test_cell(cell)
            and len(cell.source.strip().splitlines()) > COLLAPSE_LINES)


def _collapse(nb: NotebookNode) -> bool:
    changed = False
    for cell in nb.cells:
        if _long_provided(cell) and not cell.metadata.get("jupyter", {}).get("source_hidden"):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            changed = True
    return changed


def conform(nb: NotebookNode) -> list[str]:
    """Apply the three rules to ``nb`` in place; what changed, as short phrases."""
    done = []
    if _intro_missing(nb):
        intro = _intro(nb)
        intro.source = intro.source.rstrip() + "\n\n" + HOW_TO
        done.append("how-to paragraph in the introduction")
    if demo_guard.refresh(nb):
        done.append("demo guards")
    if _collapse(nb):
        done.append("collapsed long provided cells")
    if score_cell.refresh(nb):
        done.append("score view")
    return done


def problems(nb: NotebookNode) -> list[str]:
    found = score_cell.problems(nb) + demo_guard.problems(nb)
    found += [f"fixture cell {grade_id(nb.cells[i])!r} uses the exercise(s) {', '.join(names)}: a check's fixtures hold "
              "plain inputs and expected values, so that the check runs whatever else is unfinished"
              for i, names in demo_guard.needed(nb).items() if (grade_id(nb.cells[i]) or "").endswith("_fixtures")]
    if _intro_missing(nb):
        found.append("the introduction lacks the how-to paragraph (grader.conform.HOW_TO)")
    found += [f"provided cell {grade_id(c) or i!r} has more than {COLLAPSE_LINES} lines and is not collapsed "
              "(metadata jupyter.source_hidden)"
              for i, c in enumerate(nb.cells) if _long_provided(c) and not c.metadata.get("jupyter", {}).get("source_hidden")]
    return found


def visible_check_lines(cell) -> int:
    """Lines of a test cell a student reads: its source before the hidden tests, blank lines inside included."""
    return len(split_hidden(cell.source)[0].strip().splitlines())


def long_checks(nb: NotebookNode) -> list[str]:
    """Test cells whose visible part is longer than ``CHECK_LINES`` lines, as sentences; empty if none."""
    return [f"test cell {grade_id(c)!r} shows {visible_check_lines(c)} lines of checks (at most {CHECK_LINES}): "
            f"move its inputs, expected values and mistakes into a provided cell '{grade_id(c)[len('test_'):]}_fixtures' "
            "above it, or fold a repeated check into a dlutils.checks helper"
            for c in nb.cells if is_test_cell(c) and visible_check_lines(c) > CHECK_LINES]
