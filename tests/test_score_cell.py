"""Every notebook conforms (grader.conform): a score view whose points are the nbgrader points of its
test cells, a guard in every demo cell that uses an exercise, long provided cells collapsed."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from grader import conform, demo_guard, score_cell
from grader.notebooks import read_notebook

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "solutions").glob("week*/*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_notebook_conforms(path):
    problems = conform.problems(read_notebook(path))
    assert not problems, (f"{path.relative_to(REPO)}: {'; '.join(problems)}. Fix: "
                          f"`.venv/bin/python -m grader execute {path.relative_to(REPO)}` then `make release`")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_check_cells_read_in_a_few_lines(path):
    long = conform.long_checks(read_notebook(path))
    assert not long, f"{path.relative_to(REPO)}: " + "; ".join(long)


def test_a_long_check_cell_is_reported_with_its_length():
    nb = read_notebook(SOLUTIONS[0])
    test_cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("points"))
    visible, hidden = test_cell.source.split("### BEGIN HIDDEN TESTS")
    assert conform.visible_check_lines(test_cell) == len(visible.strip().splitlines())
    padding = conform.CHECK_LINES + 1 - conform.visible_check_lines(test_cell)
    test_cell.source = "\n" * 2 + "x = 1\n" * padding + visible + "### BEGIN HIDDEN TESTS" + hidden + "\n"
    lines = conform.CHECK_LINES + 1
    assert conform.long_checks(nb) == [
        f"test cell {test_cell.metadata['nbgrader']['grade_id']!r} shows {lines} lines of checks (at most 10): move its "
        f"inputs, expected values and mistakes into a provided cell '{test_cell.metadata['nbgrader']['grade_id'][5:]}"
        "_fixtures' above it, or fold a repeated check into a dlutils.checks helper"]
    test_cell.source = test_cell.source.replace("x = 1\n", "", 1)
    assert not conform.long_checks(nb)  # exactly CHECK_LINES lines is fine


def test_score_view_is_locked_and_carries_each_exercises_points():
    nb = read_notebook(SOLUTIONS[0])
    heading, cell = nb.cells[-2:]
    assert cell.metadata["nbgrader"]["locked"] and heading.metadata["nbgrader"]["locked"]
    for name, points in score_cell.exercises(nb).items():
        assert f'"{name}": {points:g}' in cell.source


def test_changed_points_make_the_view_stale_and_refresh_fixes_it():
    nb = read_notebook(SOLUTIONS[0])
    changed = copy.deepcopy(nb)
    test_cell = next(c for c in changed.cells if c.metadata.get("nbgrader", {}).get("points"))
    test_cell.metadata["nbgrader"]["points"] += 1
    assert score_cell.problems(changed) == ["the score view is out of date with the test cells' points"]
    assert score_cell.refresh(changed) and not score_cell.problems(changed)
    assert not score_cell.refresh(changed)  # idempotent
    assert len(changed.cells) == len(nb.cells)


def test_a_notebook_without_the_view_fails_and_refresh_appends_it():
    nb = read_notebook(SOLUTIONS[0])
    nb.cells = nb.cells[:-2]
    assert "does not end with the score view" in score_cell.problems(nb)[0]
    score_cell.refresh(nb)
    assert [c.get("id") for c in nb.cells[-2:]] == ["md_score", "score"] and not score_cell.problems(nb)


def test_a_test_cell_without_passed_is_reported():
    nb = read_notebook(SOLUTIONS[0])
    test_cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("points"))
    test_cell.source = test_cell.source.replace("checks.passed", "print")
    assert any("does not call checks.passed" in p for p in score_cell.problems(nb))


def test_a_demo_without_its_guard_is_reported_and_refresh_adds_it():
    nb = read_notebook(REPO / "solutions/week1/01_setting_up.ipynb")
    demo = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "split_demo")
    guard = demo.source.split("\n")[0]
    assert guard == 'progress.needs("split_dataset")'
    demo.source = demo.source.split("\n", 1)[1]
    assert demo_guard.problems(nb) == ["'split_demo': its first line (after magics) must be `" + guard + "`"]
    assert demo_guard.refresh(nb) and demo.source.split("\n")[0] == guard and not demo_guard.problems(nb)


def test_needed_follows_names_through_earlier_provided_cells():
    import nbformat

    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell
    nb.cells = [code("def f(x):\n    return x", metadata={"nbgrader": {"solution": True, "grade_id": "f"}}),
                code("y = f(1)"), code("z = y + 1"), code("y = 2\nprint(y)"), code("print(y)")]
    assert demo_guard.needed(nb) == {1: ["f"], 2: ["f"]}  # cell 3 rebinds y: from there on it carries nothing


def test_a_functions_own_parameters_carry_no_exercise():
    import nbformat

    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell
    nb.cells = [code("def f(x):\n    return x", metadata={"nbgrader": {"solution": True, "grade_id": "f"}}),
                code("config = f(1)"),
                code("def curve(config, budget):\n    return config + budget\ng = lambda config: config"),
                code("def h():\n    return config")]
    # cell 2 reads `config` only as a parameter (e.g. a check's fixture): it needs nothing; cell 3 reads the global
    assert demo_guard.needed(nb) == {1: ["f"], 3: ["f"]}


def test_a_fixture_cell_that_uses_an_exercise_is_reported():
    nb = read_notebook(REPO / "solutions/week2/05_mini_batches.ipynb")
    fixture = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "random_mini_batches_fixtures")
    assert not conform.problems(nb)
    fixture.source += "\nfirst = random_mini_batches(X_demo, Y_demo, 4, np.random.default_rng(0))"
    assert ("fixture cell 'random_mini_batches_fixtures' uses the exercise(s) random_mini_batches: a check's fixtures "
            "hold plain inputs and expected values, so that the check runs whatever else is unfinished") in conform.problems(nb)


def test_a_notebook_with_guards_but_no_progress_import_gets_one():
    nb = read_notebook(REPO / "solutions/week1/01_setting_up.ipynb")
    setup = nb.cells[1]
    setup.source = setup.source.replace(", progress", "")
    assert demo_guard.problems(nb) == ["no cell imports progress: add `from dlutils import progress` to the setup cell"]
    assert demo_guard.refresh(nb) and "from dlutils import progress" in setup.source
    assert not demo_guard.problems(nb) and not demo_guard.refresh(nb)


def test_an_introduction_without_the_how_to_paragraph_is_reported_and_conform_adds_it():
    nb = read_notebook(SOLUTIONS[0])
    intro = nb.cells[0]
    intro.source = intro.source.replace(conform.HOW_TO, "").rstrip()
    assert "the introduction lacks the how-to paragraph (grader.conform.HOW_TO)" in conform.problems(nb)
    assert conform.conform(nb) == ["how-to paragraph in the introduction"]
    assert intro.source.endswith(conform.HOW_TO) and not conform.problems(nb)
