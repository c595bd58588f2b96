"""The student notebooks are generated from solutions/, and behave like fresh releases."""
from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient.exceptions import CellExecutionError

from reference_functions import load_reference_functions

from grader.execute import notebook_client
from grader.notebooks import grade_id, is_solution_cell, read_notebook

REPO = Path(__file__).resolve().parents[1]
RELEASED = sorted((REPO / "notebooks").glob("week*/*.ipynb"))
SOLUTIONS = sorted((REPO / "solutions").glob("week*/*.ipynb"))


def test_every_solutions_notebook_is_released():
    assert SOLUTIONS, "no solutions notebooks found"
    assert [p.relative_to(REPO / "solutions") for p in SOLUTIONS] == [
        p.relative_to(REPO / "notebooks") for p in RELEASED]


def test_release_check_passes():
    """notebooks/ is exactly what `python -m grader release` makes from solutions/."""
    done = subprocess.run([sys.executable, "-m", "grader", "release", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"notebooks/ has drifted from solutions/:\n{done.stdout}{done.stderr}"


@pytest.mark.parametrize("path", RELEASED, ids=lambda p: p.name)
def test_release_hides_solutions_and_hidden_tests(path):
    text = path.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "grader.checks"):
        assert marker not in text, f"{path.name} leaks {marker!r} to students"
    nb = read_notebook(path)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "release carries outputs"


def _arguments(fn):
    """Plausible arguments for a contract function, from its parameter names."""
    values = {"layer_dims": [3, 2, 1], "rng": np.random.default_rng(0)}
    params = inspect.signature(fn).parameters
    return [values.get(name, np.ones((2, 3))) for name, p in params.items() if p.default is p.empty]


@pytest.mark.parametrize("path", RELEASED, ids=lambda p: p.name)
def test_every_stub_raises_not_implemented(path):
    functions = load_reference_functions(path)
    solution_ids = [grade_id(c) for c in read_notebook(path).cells if is_solution_cell(c)]
    assert sorted(functions) == sorted(solution_ids)
    for fn in functions.values():
        with pytest.raises(NotImplementedError):
            fn(*_arguments(fn))


@pytest.mark.slow
@pytest.mark.parametrize("path", RELEASED, ids=lambda p: p.name)
def test_release_runs_up_to_the_first_stub(path):
    """A fresh student notebook runs cleanly until the first check calls an unimplemented stub."""
    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, path, timeout=300)
    with pytest.raises(CellExecutionError) as raised:
        client.execute()
    assert "NotImplementedError" in str(raised.value)
    failed = next(c for c in nb.cells if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    first_test = next(c for c in nb.cells if grade_id(c) and grade_id(c).startswith("test_"))
    assert grade_id(failed) == grade_id(first_test)
