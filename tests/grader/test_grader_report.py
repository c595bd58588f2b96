"""`python -m grader report`: per-exercise distributions, common failures, a figure with alt text."""

from __future__ import annotations

import csv
import re
import shutil

import pytest
from grader_testkit import run_cli
from PIL import Image

from grader.report import failure_message


@pytest.mark.slow
def test_report_tables_figure_and_alt_text(graded_class, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(graded_class.workspace, ws)
    done = run_cli("report", "demo", "--workspace", ws)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # alice 6, bob 0, carol 3, dave 1, erin 1, frank 0
    assert lines[0] == "demo: 6 graded submission(s), mean 1.83 / 6 (31%), median 1"
    rows = {r[0]: r[1:] for r in (re.split(r"\s{2,}", line) for line in lines[2:6])}
    assert rows == {  # tests are all or nothing: a student is right, wrong, did not try or sent nothing
        "exercise": ["points", "mean", "full marks", "wrong", "not attempted", "no notebook"],
        "01_demo / test_add": ["2", "0.67", "33%", "0%", "17%", "50%"],  # alice, carol; bob left the stub
        "01_demo / test_scale": ["3", "0.5", "17%", "17%", "17%", "50%"],  # carol's scale is wrong
        "02_extra / test_square": ["1", "0.67", "67%", "0%", "17%", "17%"],  # bob: stub; frank: invalid
    }
    failures = [re.split(r"\s{2,}", line) for line in
                lines[lines.index("most common failures (top 3 per exercise)") + 2 : lines.index("who lost points") - 1]]
    scale = [f[1:] for f in failures if f[0] == "01_demo / test_scale"]
    assert scale == [
        ["3", "(no gradable notebook handed in)"],  # dave (invalid), erin and frank (missing)
        ["1", "NameError: name 'scale' is not defined"],  # bob handed in the release (a whole-cell stub)
        ["1", "HiddenTestFailure: a hidden test failed"],  # carol: the hidden check (run by the grader)
    ]
    who = [re.split(r"\s{2,}", line) for line in lines[lines.index("who lost points") + 2 : -2]]
    assert ["01_demo / test_scale", "wrong", "carol"] in who
    assert ["01_demo / test_scale", "not attempted", "bob"] in who  # his NameError comes from the stub
    assert ["01_demo / test_scale", "no notebook", "dave, erin, frank"] in who

    figure, markdown = ws / "reports/demo.png", ws / "reports/demo.md"
    assert lines[-1] == f"wrote {figure}, {markdown}, demo-exercises.csv and demo-students.csv"
    with Image.open(figure) as image:
        assert image.format == "PNG" and image.width >= 600
        alt = image.text["Description"]
    assert "6 students" in alt and "3 exercises" in alt and "histogram of total scores" in alt
    text = markdown.read_text()
    assert f"![{alt}](demo.png)" in text
    assert "| 01_demo / test_scale | 3 | 0.5 | 17% | 17% | 17% | 50% |" in text
    assert "| 01_demo / test_scale | no notebook | dave, erin, frank |" in text

    with (ws / "reports/demo-exercises.csv").open() as fh:
        exercises = list(csv.reader(fh))
    assert exercises[0] == ["student", "notebook", "exercise", "score", "max_score", "status", "message"]
    assert ["carol", "01_demo", "test_scale", "0", "3", "wrong", "HiddenTestFailure: a hidden test failed"] in exercises
    assert ["bob", "01_demo", "test_add", "0", "2", "not attempted", "NotImplementedError"] in exercises
    assert len(exercises) == 1 + 6 * 3
    with (ws / "reports/demo-students.csv").open() as fh:
        students = {row["student"]: row for row in csv.DictReader(fh)}
    assert sorted(students) == ["alice", "bob", "carol", "dave", "erin", "frank"]
    assert students["carol"]["grade"] == "3" and float(students["carol"]["grading_seconds"]) > 0  # autograde timed it

    out = tmp_path / "elsewhere"
    done = run_cli("report", "demo", "--workspace", ws, "--output", out, "--top", "1")
    assert done.returncode == 0 and (out / "demo.png").is_file()
    assert "most common failures (top 1 per exercise)" in done.stdout


def test_report_needs_graded_submissions(class_workspace):
    done = run_cli("report", "demo", "--workspace", class_workspace)
    assert done.returncode == 2 and "no graded submission of demo" in done.stderr
    assert not (class_workspace / "reports").exists()
    done = run_cli("report", "week9", "--workspace", class_workspace)
    assert done.returncode == 2 and "unknown assignment 'week9'" in done.stderr


def test_failure_message_is_one_clean_line():
    assert failure_message({"ename": "AssertionError", "evalue": ""}) == "AssertionError"
    coloured = {"ename": "CheckFailure", "evalue": "\x1b[31minitialize_he: W1 std 0.6\x1b[0m\nsecond line"}
    assert failure_message(coloured) == "CheckFailure: initialize_he: W1 std 0.6"
    long = failure_message({"ename": "ValueError", "evalue": "x" * 500})
    assert len(long) == 110 and long.endswith("...")
