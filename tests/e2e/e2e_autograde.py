"""Grade an assignment end to end through the instructor CLI, on the real solutions notebooks.

Used by ``test_e2e_<assignment>.py``. Each notebook of an assignment has a
catalogue module ``wrong_<notebook stem>.py`` beside this file holding
``WRONG = {grade_id: source of one realistic wrong implementation}``. Then:

* ``reference`` hands in every notebook with the reference solutions: full marks;
* ``untouched`` hands in every released notebook as is: zero;
* ``wrong_<grade_id>`` hands in only that notebook, reference everywhere but
  ``grade_id``: it loses exactly that exercise's points, no more, no less.
"""
from __future__ import annotations

import csv
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

# --no-sandbox only where bubblewrap cannot run: this test checks scores (tests/attacks checks isolation)
from system_tools import sandbox_args

from grader.notebooks import grade_id, is_solution_cell, is_test_cell, make_submission, read_notebook, write_notebook

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def cli(*args, timeout=1800):
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def points(path: Path) -> dict[str, float]:
    """grade_id of each graded function -> points of its test cell."""
    cells = read_notebook(path).cells
    names = [grade_id(c) for c in cells if is_solution_cell(c)]
    tests = {grade_id(c): float(c.metadata.nbgrader.points) for c in cells if is_test_cell(c)}
    return {name: tests[f"test_{name}"] for name in names}


def catalogue(notebook: Path) -> dict[str, str]:
    module = importlib.import_module(f"wrong_{notebook.stem}")
    return module.WRONG


def autograde_end_to_end(tmp_path: Path, assignment: str) -> None:
    notebooks = sorted((REPO / "solutions" / assignment).glob("*.ipynb"))
    assert notebooks, f"no notebooks in solutions/{assignment}"
    ws = tmp_path / "course"
    done = cli("init", ws)
    assert done.returncode == 0, done.stderr

    def submit(student, name, nb):
        path = ws / "submitted" / student / assignment / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_notebook(nb, path)

    scores: dict[str, dict[str, float]] = {}  # notebook -> grade_id -> points
    wrong_students: dict[str, tuple[str, str]] = {}  # student -> (notebook, grade_id)
    for solution in notebooks:
        release = ws / "release" / assignment / solution.name
        source = ws / "source" / assignment / solution.name
        scores[solution.stem] = points(solution)
        wrong = catalogue(solution)
        assert sorted(wrong) == sorted(scores[solution.stem]), (
            f"wrong_{solution.stem}.py must hold one wrong implementation per graded function")
        submit("reference", solution.name, make_submission(release, source))
        submit("untouched", solution.name, read_notebook(release))
        for gid, code in wrong.items():
            student = f"wrong_{gid}"
            submit(student, solution.name, make_submission(release, source, {gid: code}))
            wrong_students[student] = (solution.stem, gid)
    total = sum(sum(s.values()) for s in scores.values())

    # the same class, graded once more running every cell (below): skipping cells must change no score
    run_all = tmp_path / "course-run-all-cells"
    shutil.copytree(ws, run_all)

    # two workers, as an instructor grading a class would run it: the parallel path, on real notebooks
    done = cli("autograde", assignment, "--workspace", ws, "--jobs", 2, *sandbox_args())
    assert done.returncode == 0, done.stdout + done.stderr
    done = cli("export", "--workspace", ws)
    assert done.returncode == 0, done.stderr

    grades = {r["student"]: (float(r["score"]), float(r["max_score"])) for r in rows(ws / "grades.csv")
              if r["assignment"] == assignment}
    assert grades["reference"] == (total, total)
    assert grades["untouched"] == (0, total)
    exercise = {(r["student"], r["notebook"], r["grade_id"]): float(r["score"])
                for r in rows(ws / "exercise_scores.csv") if r["assignment"] == assignment}
    for student, (stem, gid) in wrong_students.items():
        for other, pts in scores[stem].items():
            want = 0 if other == gid else pts
            got = exercise.get((student, stem, f"test_{other}"))
            assert got == want, f"{student}: test_{other} scored {got}, expected {want}"
        notebook_total = sum(scores[stem].values())
        assert grades[student] == (notebook_total - scores[stem][gid], total), f"{student}: {grades[student]}"

    # cells tagged grader-skip-in-grading (grader.skipping) change no score of anyone in the catalogue
    done = cli("autograde", assignment, "--workspace", run_all, "--jobs", 2, "--run-all-cells", *sandbox_args())
    assert done.returncode == 0, done.stdout + done.stderr
    done = cli("export", "--workspace", run_all)
    assert done.returncode == 0, done.stderr
    every_cell = {(r["student"], r["notebook"], r["grade_id"]): float(r["score"])
                  for r in rows(run_all / "exercise_scores.csv") if r["assignment"] == assignment}
    assert every_cell == exercise, {k: (exercise.get(k), v) for k, v in every_cell.items() if exercise.get(k) != v}
