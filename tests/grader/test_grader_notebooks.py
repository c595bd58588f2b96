"""grader.notebooks: the helpers the course's tests build on (no kernels)."""

from __future__ import annotations

import pytest
from grader_testkit import WRONG_SCALE, graded_test_cell, locked_code, notebook, solution

from grader.notebooks import (
    make_submission,
    notebook_text,
    read_notebook,
    solution_cells,
    strip_solution_markers,
    user_work_reasons,
    write_notebook,
)
from grader.release import build_release
from reference_functions import load_reference_functions


def test_strip_solution_markers_keeps_scaffold_and_indentation():
    source = "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION\nx = 1"
    assert strip_solution_markers(source) == "def add(a, b):\n    return a + b\nx = 1"
    assert strip_solution_markers("no markers") == "no markers"


def test_solution_cells_maps_grade_id_to_source(course):
    cells = solution_cells(course / "solutions/demo/01_demo.ipynb")
    assert list(cells) == ["add", "scale"]
    assert "return a + b" in cells["add"] and "BEGIN SOLUTION" in cells["add"]


def test_solution_cells_rejects_duplicate_grade_ids():
    nb = notebook([solution("a", "f", "def f(): pass"), solution("b", "f", "def f(): pass")])
    with pytest.raises(ValueError, match="more than one"):
        solution_cells(nb)


def test_make_submission_fills_reference_and_replacements(course, tmp_path):
    files = build_release(course, ["demo"])
    release_nb = tmp_path / "01_demo.ipynb"
    release_nb.write_bytes(files["demo/01_demo.ipynb"])
    solution_nb = course / "solutions/demo/01_demo.ipynb"

    sub = make_submission(release_nb, solution_nb, replacements={"scale": WRONG_SCALE})
    cells = solution_cells(sub)
    assert cells["add"] == "def add(a, b):\n    return a + b"
    assert cells["scale"] == WRONG_SCALE
    # everything else is the release, untouched and still valid
    assert [c.source for c in sub.cells if "nbgrader" not in c.metadata or not c.metadata.nbgrader.get("solution")] == [
        c.source
        for c in read_notebook(release_nb).cells
        if "nbgrader" not in c.metadata or not c.metadata.nbgrader.get("solution")
    ]
    notebook_text(sub)  # serialisable

    with pytest.raises(ValueError, match="nope"):
        make_submission(release_nb, solution_nb, replacements={"nope": "pass"})


def tagged(cell, tag):
    cell.metadata["tags"] = [tag]
    return cell


def test_load_reference_functions_rule(tmp_path):
    nb = notebook(
        [
            locked_code("setup", "setup", "%matplotlib inline\nBASE = 10"),
            solution("f", "f", "def f(x):\n    ### BEGIN SOLUTION\n    return x + BASE\n    ### END SOLUTION"),
            # test cells call hidden checks that are not importable here: never run
            graded_test_cell("test-f", "f", "assert f(1) == 11", 1),
            tagged(locked_code("slow", "slow", "raise RuntimeError('slow demo')"), "grader-skip-in-reference"),
            locked_code("helper", "helper", "OFFSET = 5"),
            solution("g", "g", "### BEGIN SOLUTION\ndef g(x):\n    return f(x) + OFFSET\n### END SOLUTION"),
            solution("answer", "answer", "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"),
            locked_code("after", "after", "raise RuntimeError('after the last solution cell: never run')"),
        ]
    )
    path = tmp_path / "ref.ipynb"
    write_notebook(nb, path)
    functions = load_reference_functions(path)
    assert sorted(functions) == ["f", "g"]  # "answer" names no callable
    assert functions["f"](1) == 11
    assert functions["g"](1) == 16


def test_load_reference_functions_names_the_failing_cell(tmp_path):
    nb = notebook([locked_code("setup", "setup", "1 / 0"), solution("f", "f", "def f():\n    return 1")])
    path = tmp_path / "bad.ipynb"
    write_notebook(nb, path)
    with pytest.raises(RuntimeError, match="'setup'.*ZeroDivisionError"):
        load_reference_functions(path)


def test_load_reference_functions_of_the_demo(course):
    functions = load_reference_functions(course / "solutions/demo/01_demo.ipynb")
    assert functions["add"](2, 3) == 5
    assert functions["scale"]([1, 2], 3) == [3, 6]


def test_user_work_reasons(course, tmp_path):
    fresh_text = build_release(course, ["demo"])["demo/01_demo.ipynb"].decode()
    import nbformat

    fresh = nbformat.reads(fresh_text, as_version=4)
    assert user_work_reasons(fresh, fresh) == []

    answered = nbformat.reads(fresh_text, as_version=4)
    answered.cells[3].source = "def add(a, b):\n    return a + b"
    assert user_work_reasons(answered, fresh) == ["cell 'add' was edited"]

    ran = nbformat.reads(fresh_text, as_version=4)
    ran.cells[1].execution_count = 1
    assert user_work_reasons(ran, fresh) == ["has outputs"]

    added = nbformat.reads(fresh_text, as_version=4)
    added.cells.append(nbformat.v4.new_code_cell("my_scratch = 1"))
    assert user_work_reasons(added, fresh) == [f"cell {len(added.cells) - 1} was added or edited"]
