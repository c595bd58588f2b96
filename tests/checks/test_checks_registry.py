"""Every graded function has exactly one hidden check, reached the same way from its test cell."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import grader.checks
from grader.notebooks import grade_id, is_solution_cell, is_test_cell, read_notebook

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"
NOTEBOOKS = sorted(SOLUTIONS.glob("week*/*.ipynb"))
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def graded(path):
    cells = read_notebook(path).cells
    return [grade_id(c) for c in cells if is_solution_cell(c)], [c for c in cells if is_test_cell(c)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_test_cell_runs_its_own_check(path):
    names, tests = graded(path)
    assert sorted(grade_id(c) for c in tests) == sorted(f"test_{n}" for n in names)
    for cell in tests:
        name = grade_id(cell).removeprefix("test_")
        blocks = HIDDEN.findall(cell.source + "\n")
        assert blocks == [f'import grader.checks\ngrader.checks.run("{name}", {name})\n'], grade_id(cell)
        assert callable(grader.checks.find(name))


def test_find_names_a_missing_check():
    with pytest.raises(LookupError, match="check_no_such_function is defined in no module"):
        grader.checks.find("no_such_function")
