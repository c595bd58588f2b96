"""dlutils.progress in a real kernel: failed checks as messages, the demo guard, the score record."""
from __future__ import annotations

import re

import nbformat
import pytest

from dlutils import progress
from grader.execute import notebook_client

ANSI = re.compile(r"\x1b\[[0-9;]*m")

CELLS = {
    "setup": "import numpy as np\nfrom dlutils import checks, progress",
    "stub": "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    "check_fails": "value = 2.0\nchecks.expect_scalar(value, 1.0, 'f(1)')\nchecks.passed('f')",
    "assert_in_cell": "assert 1 == 2, 'the same seed gave a different split'\nchecks.passed('g')",
    "assert_in_own_code": "def h(a):\n    assert a > 0, 'my own assert'\n    return a\nh(-1)",
    "stub_in_check": "f(1)\nchecks.passed('f2')",
    "needs": "progress.needs('f', 'not_defined_anywhere')",
    "available": "d = progress.available('f', 'h')\nprint(sorted(d))",
    "passes": "checks.passed('h')",
    "score": "progress.show({'f': 2, 'g': 1, 'f2': 1, 'h': 1, 'never': 3})",
}


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS.values()]
    path = tmp_path_factory.mktemp("progress") / "p.ipynb"
    notebook_client(nb, path, allow_errors=True, timeout=120).execute()
    return dict(zip(CELLS, nb.cells))


def _error(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0], ANSI.sub("", "\n".join(errors[0].traceback))


def _text(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_failed_check_shows_message_hint_and_cell_line_without_library_frames(ran):
    error, text = _error(ran["check_fails"])
    assert error.ename == "CheckFailure"
    assert text.splitlines()[0] == "✗ f(1): expected 1, got 2 (abs error 1)"
    assert "Hint: off by a factor of 2" in text
    assert "line 2 of this cell: checks.expect_scalar(value, 1.0, 'f(1)')" in text
    assert "checks.py" not in text and "_fail" not in text and "Traceback" not in text


def test_assert_in_a_check_cell_shows_its_message_only(ran):
    error, text = _error(ran["assert_in_cell"])
    assert error.ename == "AssertionError"
    assert text.splitlines()[0] == "✗ the same seed gave a different split" and "Traceback" not in text


def test_errors_in_the_students_own_code_keep_their_traceback(ran):
    _, text = _error(ran["assert_in_own_code"])
    assert "Traceback" in text and "assert a > 0" in text and "h(-1)" in text
    _, text = _error(ran["stub_in_check"])
    assert "Traceback" in text and "NotImplementedError" in text


def test_needs_names_each_unfinished_exercise_without_a_traceback(ran):
    error, text = _error(ran["needs"])
    assert error.ename == "ExerciseNeeded" and "Traceback" not in text and len(text.splitlines()) == 1
    assert "`f` not written yet (it still raises NotImplementedError)" in text
    assert "`not_defined_anywhere` not defined yet (run the cell that defines it)" in text


def test_available_keeps_the_finished_functions_and_names_the_others(ran):
    out = _text(ran["available"])
    assert "['h']" in out and "`f` not written yet" in out


def test_score_view_reports_what_the_check_cells_recorded(ran):
    lines = _text(ran["score"]).splitlines()
    rows = {line.split()[1]: line for line in lines[1:-1]}
    assert rows["f"].split()[2:5] == ["failed", "0", "/"] and "expected 1, got 2" in rows["f"]
    assert "failed" in rows["g"] and "the same seed gave a different split" in rows["g"]
    assert "failed" in rows["f2"] and "not written yet" in rows["f2"]
    assert "passed   1 / 1 point" in rows["h"]
    assert "not run  0 / 3 points" in rows["never"]
    assert lines[-1].startswith("Visible checks passed: 1 of 8 points.") and "hidden tests" in lines[-1]


def test_record_keys_a_cell_by_its_passed_call():
    results = {}
    old, progress.RESULTS = progress.RESULTS, results
    try:
        progress.record("x = 1\nchecks.passed(\"split_dataset\")", None)
        progress.record("x = 1", ValueError("no check cell"))
        progress.record("checks.passed('diagnose')", ValueError("bad\nsecond line"))
    finally:
        progress.RESULTS = old
    assert results == {"split_dataset": ("passed", ""), "diagnose": ("failed", "ValueError: bad")}


def test_install_outside_ipython_does_nothing():
    progress.install()  # pytest is not IPython: no error, nothing hooked
    assert progress._shell() is None
