"""A tiny synthetic course for the grader tests (repo-like root in a temp dir).

Assignment ``demo``:

* ``01_demo.ipynb``: a setup cell, ``add(a, b)`` (2 points, partial stub) and
  ``scale(x, c)`` (3 points, whole-cell stub), then an ungraded demo cell;
* ``02_extra.ipynb``: ``square(x)`` (1 point);
* ``demo_checks.py``: the hidden checks, imported by the test cells' hidden
  part (nbgrader copies it next to the notebooks, so the kernel finds it);
* ``data/values.txt``: a non-notebook file.

Assignment ``empty`` has a folder but no notebook (skipped quietly).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

# Grading tests check scores, not isolation (tests/attacks/ does that), so where the sandbox
# cannot run they grade with --no-sandbox (see tests/system_tools.py).
from system_tools import sandbox_args, use_sandbox  # noqa: F401 (re-exported for the grader tests)

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable

POINTS = {"test_add": 2.0, "test_scale": 3.0, "test_square": 1.0}
NOTEBOOK_POINTS = {"01_demo": 5.0, "02_extra": 1.0}
TOTAL = 6.0

DEMO_CHECKS = '''\
"""Hidden checks of the demo assignment (a stand-in for grader.checks.weekN)."""


def check_add(add):
    assert add(-1, 1) == 0
    assert add(2.5, 0.5) == 3.0


def check_scale(scale):
    assert scale([1, 2], 3) == [3, 6]
    assert scale([], 5) == []


def check_square(square):
    assert square(-3) == 9
'''

# Formulas as the course writes them: feedback must typeset them offline (tests/browser).
SCALE_TEXT = (
    "## `scale(x, c)`\n"
    "Multiplies every entry, $y_i = c\\,x_i$ for $i < n_\\text{dev}$, so that\n"
    "$$\\big\\lVert y \\big\\rVert = \\lvert c \\rvert\\,\\lVert x \\rVert = \\frac{1}{m}\\sum_{i=1}^{m} c\\,x_i .$$"
)
FORMULAS = 3

WRONG_SCALE = "def scale(x, c):\n    return [v * 2 for v in x]  # ignores c: passes the visible test only\n"


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def locked_md(cell_id, grade_id, text):
    return new_markdown_cell(text, id=cell_id, metadata=_meta(grade_id, locked=True))


def locked_code(cell_id, grade_id, source):
    return new_code_cell(source, id=cell_id, metadata=_meta(grade_id, locked=True))


def solution(cell_id, grade_id, source):
    return new_code_cell(source, id=cell_id, metadata=_meta(grade_id, solution=True))


def graded_test_cell(cell_id, name, visible, points):
    source = (
        f"{visible}\n### BEGIN HIDDEN TESTS\nimport demo_checks\n"
        f"demo_checks.check_{name}({name})\n### END HIDDEN TESTS"
    )
    return new_code_cell(
        source, id=cell_id, metadata=_meta(f"test_{name}", grade=True, locked=True, points=points)
    )


def notebook(cells):
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def demo_notebook():
    return notebook(
        [
            locked_md("intro", "md_intro", "# Demo\nTwo small functions."),
            locked_code("setup", "setup", "import math\nFACTOR = 2"),
            locked_md("md-add", "md_add", "## `add(a, b)`"),
            solution("add", "add", "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"),
            graded_test_cell("test-add", "add", "assert add(1, 2) == 3", POINTS["test_add"]),
            locked_md("md-scale", "md_scale", SCALE_TEXT),
            solution(
                "scale",
                "scale",
                "### BEGIN SOLUTION\ndef scale(x, c):\n    return [v * c for v in x]\n### END SOLUTION",
            ),
            graded_test_cell("test-scale", "scale", "assert scale([1], FACTOR) == [2]", POINTS["test_scale"]),
            new_code_cell("print('demo', add(2, 3), scale([1, 2], FACTOR))", id="demo-run"),
        ]
    )


def extra_notebook():
    return notebook(
        [
            locked_md("intro2", "md_intro", "# Extra"),
            solution("square", "square", "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"),
            graded_test_cell("test-square", "square", "assert square(2) == 4", POINTS["test_square"]),
        ]
    )


def make_course(root: Path) -> Path:
    """A repo-like root: ``solutions/demo``, ``solutions/empty``, empty ``notebooks/``."""
    demo = root / "solutions" / "demo"
    (demo / "data").mkdir(parents=True)
    (root / "solutions" / "empty").mkdir()
    (root / "notebooks").mkdir()
    nbformat.write(demo_notebook(), demo / "01_demo.ipynb")
    nbformat.write(extra_notebook(), demo / "02_extra.ipynb")
    (demo / "demo_checks.py").write_text(DEMO_CHECKS)
    (demo / "data" / "values.txt").write_text("1 2 3\n")
    return root


def run_cli(*args, root: Path | None = None, cwd: Path | None = None, timeout: float = 240,
            sandbox: bool | None = None):
    """``python -m grader ARGS`` in a subprocess; ``root`` sets GRADER_REPO_ROOT.

    ``autograde`` gets :func:`sandbox_args` unless ``sandbox=True`` (args used as given).
    """
    if args and args[0] == "autograde" and sandbox is None:
        args = (*args, *sandbox_args())
    env = dict(os.environ)
    env.pop("GRADER_REPO_ROOT", None)
    if root is not None:
        env["GRADER_REPO_ROOT"] = str(root)
    return subprocess.run(
        [PYTHON, "-m", "grader", *map(str, args)],
        cwd=str(cwd or REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tree_bytes(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------- grading workspaces

KILL_KERNEL = "import os\nos._exit(1)  # the kernel dies: nbgrader cannot grade this notebook\n"


def submit(ws: Path, student: str, name: str, nb=None, *, text: str | None = None, assignment: str = "demo") -> Path:
    """Put one notebook (or raw ``text``) at ``ws/submitted/<student>/<assignment>/<name>``."""
    from grader.notebooks import write_notebook

    folder = ws / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (folder / name).write_text(text)
    else:
        write_notebook(nb, folder / name)
    return folder / name


def submit_class(ws: Path) -> dict[str, float]:
    """The demo class: one submission per kind of student; returns the expected scores."""
    from grader.notebooks import make_submission, notebook_text, read_notebook

    release, source = ws / "release/demo", ws / "source/demo"

    def made(name, replacements=None):
        return make_submission(release / name, source / name, replacements)

    for name in ("01_demo.ipynb", "02_extra.ipynb"):
        submit(ws, "alice", name, made(name))  # the reference
        submit(ws, "bob", name, read_notebook(release / name))  # the untouched release
    submit(ws, "carol", "01_demo.ipynb", made("01_demo.ipynb", {"scale": WRONG_SCALE}))
    submit(ws, "carol", "02_extra.ipynb", made("02_extra.ipynb"))
    (ws / "submitted/carol/demo/timestamp.txt").write_text("2030-01-02 03:04:05.000000 UTC")
    good = notebook_text(made("01_demo.ipynb"))
    submit(ws, "dave", "01_demo.ipynb", text=good[: len(good) // 2])  # truncated JSON
    submit(ws, "dave", "02_extra.ipynb", made("02_extra.ipynb"))
    submit(ws, "erin", "02_extra.ipynb", made("02_extra.ipynb"))  # 01_demo missing
    submit(ws, "frank", "02_extra.ipynb", text="")  # nothing usable at all
    return {"alice": 6, "bob": 0, "carol": 3, "dave": 1, "erin": 1, "frank": 0}


def gradebook_rows(ws: Path) -> list[tuple]:
    """Everything autograde writes into the gradebook, as sorted plain tuples."""
    from nbgrader.api import Gradebook

    rows: list[tuple] = []
    with Gradebook(f"sqlite:///{ws / 'gradebook.db'}", "improving-dnn") as gb:
        for student in gb.students:
            for sub in student.submissions:
                rows.append(("submission", student.id, sub.name, str(sub.timestamp), sub.score, sub.max_score))
                for nb in sub.notebooks:
                    rows.append(("notebook", student.id, nb.name, nb.score, nb.late_submission_penalty))
                    for g in nb.grades:
                        rows.append(("grade", student.id, nb.name, g.name, g.auto_score, g.manual_score, g.needs_manual_grade))
                    for c in nb.comments:
                        rows.append(("comment", student.id, nb.name, c.name, c.auto_comment, c.manual_comment))
    return sorted(rows, key=repr)
