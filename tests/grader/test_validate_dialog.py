"""Validate's failure dialog leads with the message: grader.validate_dialog on nbgrader's real Validator."""
from __future__ import annotations

import runpy

from pathlib import Path

from grader.notebooks import make_submission, write_notebook
from grader.validate_dialog import message_first

REPO = Path(__file__).resolve().parents[2]
# The e2e catalogue's wrong ewma: it feeds the bias-corrected value back into the recursion.
WRONG_EWMA = runpy.run_path(str(REPO / "tests/e2e/wrong_06_exponentially_weighted_averages.py"))["WRONG"]["ewma"]


def test_message_first_reorders_a_failed_cell_and_leaves_the_rest():
    result = {"success": True, "value": {"failed": [
        {"source": "long check cell", "error": "<html>", "raw_error": "\x1b[31m✗ f(1): expected 1\x1b[0m\n  Hint: h"},
        {"source": "f(1)", "error": "...", "raw_error": "Traceback (most recent call last)\n  frames\nNameError: f"},
        {"source": "x", "old_type": "code", "new_type": "markdown"}]}}
    failed = message_first(result)["value"]["failed"]
    assert failed[0]["source"] == "✗ f(1): expected 1\n  Hint: h"
    assert failed[0]["error"] == "in this cell:\n\nlong check cell"
    assert failed[1]["source"].startswith("NameError: f\n\nTraceback")
    assert failed[2] == {"source": "x", "old_type": "code", "new_type": "markdown"}
    assert message_first({"success": False, "value": "a traceback"}) == {"success": False, "value": "a traceback"}


def test_validate_of_a_wrong_answer_shows_the_check_message_first(tmp_path):
    """nbgrader's Validator runs the student's notebook; the first thing shown is the check's sentence."""
    from nbgrader.validator import Validator

    release = REPO / "notebooks/week2/06_exponentially_weighted_averages.ipynb"
    solution = REPO / "solutions/week2/06_exponentially_weighted_averages.ipynb"
    path = tmp_path / release.name
    write_notebook(make_submission(release, solution, {"ewma": WRONG_EWMA}), path)
    result = message_first({"success": True, "value": Validator().validate(str(path))})
    (failed,) = result["value"]["failed"]
    first_line = failed["source"].splitlines()[0]
    assert first_line.startswith("✗ ewma([20, 22, 21], 0.9, bias_correction=True): values differ"), failed["source"]
    assert "this looks like: the corrected value was fed back into the recursion" in failed["source"]
    assert "checks.py" not in failed["source"] and "Traceback" not in failed["source"]
    assert failed["error"].startswith("in this cell:")
