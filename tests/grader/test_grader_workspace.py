"""Grading workspaces: ``grader init``, ``grader autograde``, ``grader export``."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest
from grader_testkit import REPO, TOTAL, WRONG_SCALE, run_cli, tree_bytes
from nbgrader.api import Gradebook

from grader.errors import UsageError
from grader.notebooks import make_submission, notebook_text, read_notebook, write_notebook
from grader.workspace import init, validate_notebook


def _init(course: Path, workspace: Path) -> list[str]:
    lines: list[str] = []
    assert init(workspace, root=course, echo=lines.append) == 0
    return lines


def test_init_builds_an_nbgrader_course_directory(course, tmp_path):
    ws = tmp_path / "ws"
    lines = _init(course, ws)
    assert {p.name for p in ws.iterdir()} == {"nbgrader_config.py", "gradebook.db", "source", "release", "submitted"}
    assert tree_bytes(ws / "source/demo") == tree_bytes(course / "solutions/demo")
    assert (ws / "source/empty").is_dir() and not any((ws / "submitted").iterdir())
    release_text = (ws / "release/demo/01_demo.ipynb").read_text()
    assert "raise NotImplementedError()" in release_text and "HIDDEN TESTS" not in release_text
    assert any("autograde demo --workspace" in line for line in lines)

    with Gradebook(f"sqlite:///{ws / 'gradebook.db'}", "improving-dnn") as gb:
        assert sorted(a.name for a in gb.assignments) == ["demo", "empty"]
        demo = gb.find_assignment("demo")
        assert sorted(nb.name for nb in demo.notebooks) == ["01_demo", "02_extra"]
        assert demo.max_score == TOTAL
        cells = {c.name: c.max_score for nb in demo.notebooks for c in nb.grade_cells}
        assert cells == {"test_add": 2.0, "test_scale": 3.0, "test_square": 1.0}
    assert not (course / "notebooks").joinpath("demo").exists()  # the repo is not touched


def test_init_refuses_a_non_empty_directory(course, tmp_path):
    ws = tmp_path / "mine"
    ws.mkdir()
    (ws / "notes.txt").write_text("my notes")
    done = run_cli("init", ws, "--source", course / "solutions")
    assert done.returncode == 2
    assert "not empty" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in ws.iterdir()] == ["notes.txt"]
    assert (ws / "notes.txt").read_text() == "my notes"


def test_init_refuses_a_path_inside_the_repository(course, tmp_path):
    inside = REPO / "build" / "grader-test-workspace"
    done = run_cli("init", inside)
    assert done.returncode == 2
    assert "inside the repository" in done.stderr
    assert not inside.exists()
    with pytest.raises(UsageError, match="inside the repository"):
        init(course / "ws", root=course)
    assert not (course / "ws").exists()


def test_validate_notebook(tmp_path, course):
    good = course / "solutions/demo/01_demo.ipynb"
    assert validate_notebook(good) is None
    truncated = tmp_path / "t.ipynb"
    truncated.write_text(good.read_text()[:300])
    assert validate_notebook(truncated).startswith("not valid JSON")
    wrong = tmp_path / "w.ipynb"
    wrong.write_text('{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert validate_notebook(wrong).startswith("does not follow the notebook format")


def _submit(ws: Path, student: str, name: str, nb=None, text: str | None = None) -> None:
    folder = ws / "submitted" / student / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        (folder / name).write_text(text)
    else:
        write_notebook(nb, folder / name)


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.slow
def test_end_to_end_through_the_cli(course, tmp_path):
    ws = tmp_path / "grading"
    done = run_cli("init", ws, "--source", course / "solutions", root=course)
    assert done.returncode == 0, done.stderr
    steps = done.stdout[done.stdout.index("next steps"):]
    for command in ("collect demo", "autograde demo", "feedback demo", "report demo", "export --workspace"):
        assert f"python -m grader {command}" in steps, command  # the real path, not copying by hand
    assert "submitted/<student>" not in steps

    done = run_cli("autograde", "demo", "--workspace", ws)
    assert done.returncode == 2 and "no submissions of demo" in done.stderr

    release, source = ws / "release/demo", ws / "source/demo"
    for name in ("01_demo.ipynb", "02_extra.ipynb"):
        _submit(ws, "alice", name, make_submission(release / name, source / name))  # the reference
        _submit(ws, "bob", name, read_notebook(release / name))  # the untouched release
    _submit(ws, "carol", "01_demo.ipynb", make_submission(release / "01_demo.ipynb", source / "01_demo.ipynb", {"scale": WRONG_SCALE}))
    _submit(ws, "carol", "02_extra.ipynb", make_submission(release / "02_extra.ipynb", source / "02_extra.ipynb"))
    good = notebook_text(make_submission(release / "01_demo.ipynb", source / "01_demo.ipynb"))
    _submit(ws, "dave", "01_demo.ipynb", text=good[: len(good) // 2])  # truncated JSON
    _submit(ws, "dave", "02_extra.ipynb", make_submission(release / "02_extra.ipynb", source / "02_extra.ipynb"))
    _submit(ws, "erin", "02_extra.ipynb", make_submission(release / "02_extra.ipynb", source / "02_extra.ipynb"))
    _submit(ws, "frank", "02_extra.ipynb", text="")  # nothing usable at all
    submitted = tree_bytes(ws / "submitted")

    done = run_cli("autograde", "week9", "--workspace", ws)
    assert done.returncode == 2 and "unknown assignment 'week9'" in done.stderr and "demo, empty" in done.stderr
    done = run_cli("autograde", "demo", "--workspace", tmp_path / "nowhere")
    assert done.returncode == 2 and "does not exist" in done.stderr

    done = run_cli("autograde", "demo", "--workspace", ws)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "student dave: 01_demo.ipynb is not a valid notebook: not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "autograding demo: 6 submission(s)"
    assert lines[1].split() == ["student", "score", "01_demo", "02_extra", "time", "notes"]
    assert lines[-1].startswith("graded 6 of 6 submission(s) in ")
    summary = {}
    for line in lines[2:-1]:
        student, score, demo, extra, _time, *notes = re.split(r"\s{2,}", line)
        summary[student] = (score, demo, extra, *notes)
    assert summary == {
        "alice": ("6 / 6", "5 / 5", "1 / 1"),
        "bob": ("0 / 6", "0 / 5", "0 / 1"),
        "carol": ("3 / 6", "2 / 5", "1 / 1"),  # the wrong scale loses exactly its 3 points
        "dave": ("1 / 6", "invalid", "1 / 1", "01_demo.ipynb not a valid notebook: scored 0"),
        "erin": ("1 / 6", "missing", "1 / 1", "01_demo.ipynb missing: scored 0"),
        "frank": ("0 / 6", "missing", "invalid", "02_extra.ipynb not a valid notebook; 01_demo.ipynb missing: scored 0"),
    }
    assert "student frank: 02_extra.ipynb is not a valid notebook" in done.stderr
    assert tree_bytes(ws / "submitted") == submitted  # submissions are never modified

    done = run_cli("export", "--workspace", ws)
    assert done.returncode == 0, done.stderr
    grades = _rows(ws / "grades.csv")
    assert grades[0] == ["student", "name", "assignment", "score", "max_score", "late_penalty", "grade", "submitted_at", "notes"]
    assert [row[:7] + row[8:] for row in grades[1:]] == [  # no roster: no names; no due date: nothing late
        ["alice", "", "demo", "6", "6", "0", "6", ""],
        ["bob", "", "demo", "0", "6", "0", "0", ""],
        ["carol", "", "demo", "3", "6", "0", "3", ""],
        ["dave", "", "demo", "1", "6", "0", "1", ""],
        ["erin", "", "demo", "1", "6", "0", "1", ""],
        ["frank", "", "demo", "0", "6", "0", "0", "no gradable notebook handed in"],
    ]
    exercises = _rows(ws / "exercise_scores.csv")
    assert exercises[0] == ["student", "assignment", "notebook", "grade_id", "score", "max_score"]
    expected_alice = [
        ["alice", "demo", "01_demo", "test_add", "2", "2"],
        ["alice", "demo", "01_demo", "test_scale", "3", "3"],
        ["alice", "demo", "02_extra", "test_square", "1", "1"],
    ]
    assert exercises[1:4] == expected_alice
    assert ["carol", "demo", "01_demo", "test_add", "2", "2"] in exercises
    assert ["carol", "demo", "01_demo", "test_scale", "0", "3"] in exercises
    assert ["dave", "demo", "01_demo", "test_add", "0", "2"] in exercises
    assert ["dave", "demo", "02_extra", "test_square", "1", "1"] in exercises
    assert len(exercises) == 1 + 6 * 3
    assert exercises[1:] == sorted(exercises[1:])

    out = tmp_path / "reports"
    done = run_cli("export", "--workspace", ws, "--output", out)
    assert done.returncode == 0
    assert (out / "grades.csv").read_bytes() == (ws / "grades.csv").read_bytes()

    # re-grading one student after a resubmission replaces the old grade
    shutil.copy(ws / "submitted/alice/demo/01_demo.ipynb", ws / "submitted/dave/demo/01_demo.ipynb")
    done = run_cli("autograde", "demo", "--workspace", ws, "--student", "dave")
    assert done.returncode == 0, done.stderr
    assert [line.split()[:4] for line in done.stdout.splitlines()[2:-1]] == [["dave", "6", "/", "6"]]
    done = run_cli("export", "--workspace", ws)
    assert ["dave", "", "demo", "6", "6", "0", "6"] in [row[:7] for row in _rows(ws / "grades.csv")]
    done = run_cli("autograde", "demo", "--workspace", ws, "--student", "zoe")
    assert done.returncode == 2 and "no submission of demo by zoe" in done.stderr
