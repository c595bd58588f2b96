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


def _provided_functions(name):
    """Source of each provided (not solution) top-level definition of ``name``, per solutions notebook."""
    import ast

    found = {}
    for path in SOLUTIONS:
        for cell in read_notebook(path).cells:
            if cell.cell_type != "code" or is_solution_cell(cell) or f"def {name}(" not in cell.source:
                continue
            source = "\n".join("" if line.startswith("%") else line for line in cell.source.split("\n"))
            for node in ast.parse(source).body:
                if isinstance(node, ast.FunctionDef) and node.name == name:
                    found[path.name] = ast.get_source_segment(source, node)
    return found


@pytest.mark.parametrize("name", ["initialize_he", "make_batches"])
def test_provided_copies_are_identical(name):
    """dlutils holds no graded answer of an earlier notebook, so later notebooks carry a copy: one text."""
    copies = _provided_functions(name)
    assert len(copies) >= 2, f"expected {name} provided in several notebooks, found {sorted(copies)}"
    first = next(iter(copies.values()))
    differing = [nb for nb, source in copies.items() if source != first]
    assert not differing, f"the provided {name} differs in {differing} from the one in {next(iter(copies))}"


def _run_all_ignoring_errors(nb, path):
    notebook_client(nb, path, allow_errors=True, timeout=300).execute()
    return {grade_id(c): [o for o in c.outputs if o.output_type == "error"] for c in nb.cells if c.cell_type == "code"}


def _is_test_cell(nb, cell_id):
    from grader.notebooks import is_test_cell

    return any(is_test_cell(c) for c in nb.cells if grade_id(c) == cell_id)


@pytest.mark.slow
@pytest.mark.parametrize("path", RELEASED, ids=lambda p: p.name)
def test_with_nothing_written_every_demo_names_what_it_needs(path):
    """A fresh release, every cell run regardless of errors: a demo or widget either runs or stops with
    ExerciseNeeded naming the exercises; only the check cells raise NotImplementedError; never a NameError."""
    nb = nbformat.read(path, as_version=4)
    for cell_id, errors in _run_all_ignoring_errors(nb, path).items():
        for error in errors:
            if _is_test_cell(nb, cell_id):
                assert error.ename == "NotImplementedError", (cell_id, error.ename, error.evalue)
            else:
                assert error.ename == "ExerciseNeeded", (cell_id, error.ename, error.evalue)
                assert len(error.traceback) == 1 and "not written yet" in error.traceback[0]


@pytest.mark.slow
def test_optimizer_explorer_runs_with_three_of_five_optimizers_unwritten():
    """07 with only GD and Adam written, cells run out of order: the explorer and the saddle demo run
    (the unwritten ones say so), the score cell shows what was checked."""
    from grader.notebooks import make_submission

    release, solution = REPO / "notebooks/week2/07_optimizers.ipynb", REPO / "solutions/week2/07_optimizers.ipynb"
    stubs = {grade_id(c): c.source for c in read_notebook(release).cells if is_solution_cell(c)}
    written = {"update_parameters_gd", "initialize_adam", "update_parameters_adam"}
    nb = make_submission(release, solution, {g: s for g, s in stubs.items() if g not in written})
    cells = {grade_id(c): c for c in nb.cells}
    order = ["setup", "example", *stubs, "explorer", "saddle_demo", "saddle_plot",
             "test_update_parameters_gd", "test_update_parameters_momentum", "score"]
    nb.cells = [cells[g] for g in order]
    errors = _run_all_ignoring_errors(nb, release)
    assert {g for g, e in errors.items() if e} == {"test_update_parameters_momentum"}
    text = {g: "".join(o.get("text", "") for o in cells[g].outputs) for g in order}
    assert "Left out until you finish them: `initialize_velocity`, `update_parameters_momentum`" in text["explorer"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cells["explorer"].outputs)
    assert "momentum: not run: initialize_velocity is not written yet" in text["saddle_demo"]
    assert "Adam:   0 steps within 0.1 of the saddle" in text["saddle_demo"]
    assert "✓ update_parameters_gd        passed   1 / 1 point" in text["score"]
    assert "✗ update_parameters_momentum  failed   0 / 2 points  — not written yet" in text["score"]
    assert "· update_parameters_adam      not run" in text["score"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_what_a_student_reads_headings_widgets_and_legends(path):
    """Headings without LaTeX (JupyterLab's table of contents shows it raw), every widget notebook saying what to
    do about 'model not found' when reopened, and no legend or label text below "small"."""
    nb = read_notebook(path)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    latex = [line for line in markdown.splitlines() if line.startswith("#") and "$" in line]
    assert not latex, f"{path.name}: headings with LaTeX, shown raw in the table of contents: {latex}"
    if any("%matplotlib widget" in source or "widgets." in source for source in code):
        assert "*Error displaying widget: model not found*" in markdown, (
            f"{path.name} shows a widget but never says to run its cell again when a reopened notebook shows "
            "*Error displaying widget: model not found*")
    tiny = [line.strip() for source in code for line in source.splitlines() if "x-small" in line]
    assert not tiny, f"{path.name}: text smaller than 'small' is hard to read: {tiny}"
