"""What a student sees in a real JupyterLab (headless Chromium), beyond the widgets themselves:

* a failed check is rendered as its message, without frames of library code, and the score
  cell then shows that exercise failed; Validate's dialog opens on the same message;
* 07's optimizer explorer runs with three of its five optimizers unwritten (momentum,
  RMSprop and Adagrad stubs; GD and Adam written), cells run out of order;
* the lab shows Validate and none of nbgrader's instructor panels.

Uses the harness of the widget tests (lab_harness.py) and skips the same way without Chromium.
"""
from __future__ import annotations

import re
import runpy

import pytest

from grader.notebooks import grade_id, is_solution_cell, make_submission, read_notebook
from lab_harness import (ERROR_OUTPUT, REPO, SCREENSHOTS, Slide, lab_server, new_page, open_notebook,
                         run_all, run_cell, run_step, wait_until_stable)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The e2e catalogue's wrong ewma: it feeds the bias-corrected value back into the recursion.
WRONG_EWMA = runpy.run_path(str(REPO / "tests/e2e/wrong_06_exponentially_weighted_averages.py"))["WRONG"]["ewma"]
WRITTEN_07 = {"update_parameters_gd", "initialize_adam", "update_parameters_adam"}


def _submission(week_notebook: str, replacements) -> object:
    release, solution = REPO / "notebooks" / week_notebook, REPO / "solutions" / week_notebook
    return make_submission(release, solution, replacements(read_notebook(release)))


def _partial_07(release):
    return {grade_id(c): c.source for c in release.cells if is_solution_cell(c) and grade_id(c) not in WRITTEN_07}


@pytest.fixture(scope="module")
def lab(browser):
    extra = {"wrong_ewma/06.ipynb": _submission("week2/06_exponentially_weighted_averages.ipynb",
                                                lambda release: {"ewma": WRONG_EWMA}),
             "partial/07.ipynb": _submission("week2/07_optimizers.ipynb", _partial_07)}
    with lab_server([], extra=extra) as server:
        yield server


@pytest.fixture
def page(browser, lab, request):
    page = new_page(browser)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # what the student saw, pass or fail
    page.screenshot(path=str(SCREENSHOTS / f"student-{request.node.name}.png"), full_page=True)
    page.context.close()
    lab.shutdown_kernels()


def _cells(page):
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")


def test_failed_check_shows_its_message_and_the_score_cell_records_it(page, lab):
    open_notebook(page, lab, "wrong_ewma/06.ipynb")
    errors = run_all(page)
    assert errors.count() == 1, "Run All should stop at the failed check"
    shown = errors.first.inner_text()
    assert shown.startswith("✗ ewma([20, 22, 21], 0.9, bias_correction=True): values differ"), shown
    assert "this looks like: the corrected value was fed back into the recursion" in shown
    assert "(the check that failed: line 3 of this cell" in shown
    for library in ("checks.py", "_fail", "Traceback", "dlutils"):
        assert library not in shown, f"{library!r} in the rendered failure:\n{shown}"

    nb = read_notebook(lab.root / "wrong_ewma/06.ipynb")
    score = [grade_id(c) for c in nb.cells].index("score")
    run_cell(page, score)
    text = _cells(page).nth(score).locator(".jp-OutputArea").inner_text()
    assert re.search(r"✗ ewma\s+failed\s+0 / 3 points\s+— ewma\(\[20, 22, 21\], 0.9, bias_correction=True\): "
                     "values differ", text), text
    assert "hidden tests" in text

    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog", has_text="The following cell failed")
    dialog.wait_for(timeout=120_000)
    first, second = (dialog.locator("pre").nth(i).inner_text() for i in (0, 1))
    assert first.startswith("✗ ewma([20, 22, 21], 0.9, bias_correction=True): values differ"), first
    assert second.startswith("in this cell:") and "checks.expect_array" in second


def test_optimizer_explorer_runs_with_three_of_five_optimizers_unwritten(page, lab):
    nb = read_notebook(lab.root / "partial/07.ipynb")
    ids = [grade_id(c) for c in nb.cells]
    open_notebook(page, lab, "partial/07.ipynb")
    solutions = [i for i, c in enumerate(nb.cells) if is_solution_cell(c)]
    for index in [ids.index("setup"), ids.index("example"), *solutions, ids.index("explorer")]:
        run_cell(page, index)
    explorer = _cells(page).nth(ids.index("explorer"))
    root = explorer.locator(".dl-optimizer-explorer")
    root.wait_for(timeout=60_000)
    assert not explorer.locator(ERROR_OUTPUT).count()
    printed = explorer.locator(".jp-OutputArea").first.inner_text()
    assert "Left out until you finish them: `initialize_velocity`, `update_parameters_momentum`" in printed
    status = root.inner_text()
    assert "initialize_velocity is not written yet" in status and "initialize_rmsprop is not written yet" in status
    assert "GD: step 200" in status and "Adam: step 200" in status
    plot = ".jupyter-matplotlib-canvas-div canvas:first-child"
    wait_until_stable(root, plot)
    run_step(root, plot, Slide("learning rate.*"))  # still live: GD's and Adam's paths redraw
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SCREENSHOTS / "student-07-partial-explorer.png"))


def test_the_lab_shows_validate_and_no_instructor_panels(page, lab):
    open_notebook(page, lab, "wrong_ewma/06.ipynb")
    assert page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).count() == 1
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert "Nbgrader" not in menus, menus
    page.keyboard.press("Control+Shift+C")  # the command palette lists every command the lab has
    palette = page.locator("#command-palette")
    palette.wait_for(timeout=10_000)
    commands = palette.inner_text()
    for panel in ("Formgrader", "Course List", "Create Assignment", "Assignment List"):
        assert panel not in commands, f"{panel} is offered to students"
    body = page.locator("body").inner_text()
    assert "exchange directory" not in body and "Error fetching courses" not in body
