"""`python -m grader execute`: stored outputs from a clean run, nothing written on failure."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader_testkit import run_cli


def _write(path: Path, *sources: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(s) for s in sources]), path)
    return path


@pytest.mark.slow
def test_execute_stores_outputs_without_timings(course):
    path = _write(course / "solutions/demo/03_run.ipynb", "x = 6 * 7", "print(x)")
    done = run_cli("execute", path, root=course)
    assert done.returncode == 0, done.stderr
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].outputs[0].text == "42\n"
    assert all("execution" not in c.metadata for c in nb.cells)
    assert "widgets" not in nb.metadata


@pytest.mark.slow
def test_execute_writes_nothing_when_a_cell_fails(course):
    path = _write(course / "solutions/demo/04_broken.ipynb", "print('start')", "1 / 0")
    before = path.read_bytes()
    done = run_cli("execute", path, root=course)
    assert done.returncode == 1
    assert "ZeroDivisionError" in done.stderr and "nothing was written" in done.stderr
    assert path.read_bytes() == before


def test_execute_refuses_student_notebooks(course):
    path = _write(course / "notebooks/demo/01_demo.ipynb", "print(1)")
    done = run_cli("execute", path, root=course)
    assert done.returncode == 2 and "carry no outputs" in done.stderr
