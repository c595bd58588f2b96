"""Cells the grade does not depend on are not run at grading (grader.skipping), and that changes no score."""
from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from grader_testkit import POINTS, demo_notebook, graded_test_cell, locked_code, make_course, notebook, solution, submit, use_sandbox

from grader.errors import PipelineError
from grader.notebooks import grade_id, make_submission, read_notebook, write_notebook
from grader.release import build_release
from grader.skipping import REASON, SKIP_IN_GRADING, problems, skipped_ids

DEMO = "DEMO_VALUE = add(2, 2)\nprint('demo ran', DEMO_VALUE)"


def _tagged(cell):
    cell.metadata["tags"] = [SKIP_IN_GRADING]
    return cell


def _with_demo(nb):
    """The demo notebook with a tagged (skipped) demo cell after the test of add."""
    at = next(i for i, c in enumerate(nb.cells) if grade_id(c) == "test_add")
    nb.cells.insert(at + 1, _tagged(locked_code("slow-demo", "slow_demo", DEMO)))
    return nb


def test_only_locked_provided_cells_of_the_source_can_be_skipped():
    nb = _with_demo(demo_notebook())
    assert skipped_ids(nb) == {"slow_demo"}
    assert problems(nb) == []
    nb.cells[3] = _tagged(nb.cells[3])  # the solution cell of add
    assert skipped_ids(nb) == {"slow_demo"}
    [problem] = problems(nb)
    assert "cell 4 (add) is tagged" in problem and "only locked cells" in problem


def test_a_name_only_a_skipped_cell_defines_is_refused_in_visible_and_hidden_tests():
    cells = [
        locked_code("setup", "setup", "import numpy as np\nrng = np.random.default_rng(0)"),
        _tagged(locked_code("data", "data", "X_demo = np.ones(3)\nnoise = rng.normal(size=3)")),
        solution("f", "f", "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
        graded_test_cell("test-f", "f", "assert f(1) == 2", 1.0),
    ]
    assert problems(notebook(cells)) == []
    # the visible part of a test needs X_demo
    cells[3] = graded_test_cell("test-f", "f", "assert f(X_demo).sum() == 6", 1.0)
    [problem] = problems(notebook(cells))
    assert "cell 4 (test_f) runs at grading" in problem and "`X_demo`" in problem and "cell 2 (data)" in problem
    # ... or a graded function reads it as a global
    cells[3] = graded_test_cell("test-f", "f", "assert f(1) == 2", 1.0)
    cells[2] = solution("f", "f", "def f(x):\n    ### BEGIN SOLUTION\n    return x * X_demo\n    ### END SOLUTION")
    assert "cell 3 (f) runs at grading, but it needs `X_demo`" in problems(notebook(cells))[0]
    # ... or the hidden tests do
    cells[2] = solution("f", "f", "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION")
    cells[3] = nbformat.from_dict({**cells[3], "source": cells[3].source.replace("demo_checks.check_f(f)",
                                                                                "demo_checks.check_f(f, X_demo)")})
    assert "`X_demo`" in problems(notebook(cells))[0]
    # a later cell that runs uses the generator the skipped cell drew from: it would see other numbers
    cells[3] = graded_test_cell("test-f", "f", "assert f(rng.integers(1, 2)) == 2", 1.0)
    [problem] = problems(notebook(cells))
    assert "uses `rng`, which cell 2 (data)" in problem and "may change" in problem
    # a name the running cells define again is fine
    cells.insert(3, locked_code("again", "again", "X_demo = np.zeros(3)\nrng = np.random.default_rng(1)"))
    assert problems(notebook(cells)) == []


def test_release_refuses_a_skip_that_could_change_a_grade(course):
    path = course / "solutions/demo/01_demo.ipynb"
    nb = _with_demo(read_notebook(path))
    build_release(course, ["demo"])  # fine so far
    nb.cells.append(locked_code("uses-demo", "uses_demo", "print(DEMO_VALUE)"))
    write_notebook(nb, path)
    with pytest.raises(PipelineError, match=r"01_demo.ipynb: cell 11 \(uses_demo\) runs at grading.*`DEMO_VALUE`"):
        build_release(course, ["demo"])


@pytest.mark.slow
def test_skipped_cells_are_not_run_say_so_and_change_no_score(tmp_path):
    from grader.autograde import autograde
    from grader.workspace import init

    root = make_course(tmp_path / "repo")
    path = root / "solutions/demo/01_demo.ipynb"
    write_notebook(_with_demo(read_notebook(path)), path)
    ws = tmp_path / "ws"
    init(ws, root=root, echo=lambda _: None)
    release, source = ws / "release/demo", ws / "source/demo"
    for name in ("01_demo.ipynb", "02_extra.ipynb"):
        submit(ws, "alice", name, make_submission(release / name, source / name))
    # mallory un-tags the demo, edits it, and tags a cell of her own: none of it counts
    nb = make_submission(release / "01_demo.ipynb", source / "01_demo.ipynb")
    for cell in nb.cells:
        if grade_id(cell) == "slow_demo":
            cell.metadata["tags"] = []
            cell.source = "raise SystemExit('mallory')"
    nb.cells.insert(2, _tagged(nbformat.v4.new_code_cell("print('student cell ran')", id="mine")))
    submit(ws, "mallory", "01_demo.ipynb", nb)

    scores = {}
    for run_all in (False, True):
        graded = tmp_path / f"graded-{run_all}"
        shutil.copytree(ws, graded)
        out: list[str] = []
        assert autograde(graded, "demo", echo=out.append, warn=out.append, sandbox=use_sandbox(),
                         run_all_cells=run_all) == 0, out
        scores[run_all] = {line.split()[0]: line.split()[1] for line in out  # the summary table's rows
                           if line.split()[:1] in (["alice"], ["mallory"])}
        for student in ("alice", "mallory"):
            nb = json.loads((graded / f"autograded/{student}/demo/01_demo.ipynb").read_text())
            text = {c["metadata"].get("nbgrader", {}).get("grade_id") or c["id"]:
                    "".join("".join(o.get("text", "")) for o in c.get("outputs", [])) for c in nb["cells"]}
            if run_all:
                assert "demo ran 4" in text["slow_demo"]
            else:
                assert text["slow_demo"] == f"[{REASON}]\n"   # the feedback says it was not run, and why
            if student == "mallory":
                assert "student cell ran" in text["mine"]    # cells a student adds always run
    assert scores[False] == scores[True] == {"alice": f"{sum(POINTS.values()):g}", "mallory": f"{POINTS['test_add'] + POINTS['test_scale']:g}"}
