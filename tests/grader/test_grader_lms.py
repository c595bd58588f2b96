"""Due dates, late penalties, the roster and the grade files Canvas and Moodle import."""

from __future__ import annotations

import csv
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from grader_testkit import run_cli

from grader.errors import UsageError
from grader.lateness import LatePenalty, days_late, describe, parse_due, penalty
from traitlets.config import Config

ROSTER = (
    "student,name,email,canvas_id,sis_user_id,sis_login_id,section\n"
    'alice,"Liddell, Alice",alice@uni.example,1001,S1,aliddell,A\n'
    'bob,"Builder, Bob",bob@uni.example,1002,S2,bbuilder,A\n'
    'carol,"Danvers, Carol",carol@uni.example,1003,S3,cdanvers,B\n'
    'zoe,"Absent, Zoe",zoe@uni.example,1009,S9,zabsent,B\n'
    'yan,"Quiet, Yan",yan@uni.example,1010,S10,yquiet,B\n'
)


def _policy(**traits) -> LatePenalty:
    cfg = Config()
    for key, value in traits.items():
        setattr(cfg.LatePenalty, key, value)
    return LatePenalty(config=cfg)


def test_penalty_per_started_day_after_the_grace_period_and_zero_after_the_cutoff():
    plugin = _policy(per_day=0.1, grace_minutes=15, zero_after_days=3)
    hour = 3600
    assert days_late(plugin, 14 * 60) == 0 and penalty(plugin, 10, 14 * 60) == 0  # within grace
    assert days_late(plugin, 16 * 60) == 1 and penalty(plugin, 10, 16 * 60) == pytest.approx(1.0)
    assert days_late(plugin, 25 * hour) == 2 and penalty(plugin, 10, 25 * hour) == pytest.approx(2.0)
    assert penalty(plugin, 10, 3 * 24 * hour + 15 * 60) == pytest.approx(3.0)  # the last day still costs 10 %
    assert penalty(plugin, 10, 3 * 24 * hour + 16 * 60) == 10  # past the cut-off: everything
    assert penalty(plugin, 0, 5 * hour) == 0
    assert penalty(_policy(), 10, 100 * hour) == 0  # the default charges nothing
    assert penalty(_policy(per_day=0.5), 4, 80 * hour) == 4  # never more than the score


def test_due_dates_parse_with_zones_and_bad_ones_say_what_is_wrong():
    assert parse_due("2026-10-12 23:59") == datetime(2026, 10, 12, 23, 59, tzinfo=UTC)
    assert parse_due("2026-10-12 23:59 Europe/Berlin") == datetime(2026, 10, 12, 21, 59, tzinfo=UTC)
    assert parse_due("2026-10-12T23:59:30 -05:00") == datetime(2026, 10, 13, 4, 59, 30, tzinfo=UTC)
    with pytest.raises(UsageError, match="not a date like"):
        parse_due("next Monday")
    with pytest.raises(UsageError, match="unknown time zone 'Mars/Olympus'"):
        parse_due("2026-10-12 23:59 Mars/Olympus")
    text = describe(_policy(due_dates={"week1": "2026-10-12 23:59"}, per_day=0.1, zero_after_days=7), "week1")
    assert text == "week1 due 2026-10-12 23:59 UTC; -10% of the points earned per started day late; 0 after 7 day(s)"


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.slow
def test_late_work_is_charged_at_grading_and_every_roster_student_is_exported(class_workspace, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(class_workspace, ws)
    (ws / "roster.csv").write_text(ROSTER)
    config = ws / "nbgrader_config.py"
    # carol's timestamp.txt says 2030-01-02 03:04:05 UTC: 1 day 3 h late, two started days
    config.write_text(config.read_text() + '\nc.LatePenalty.due_dates = {"demo": "2030-01-01 02:00 +02:00"}\n'
                      "c.LatePenalty.per_day = 0.25\n")

    export = tmp_path / "export"  # zoe's zip holds no notebook: refused, and the exports say so
    export.mkdir()
    with zipfile.ZipFile(export / "zoe.zip", "w") as archive:
        archive.writestr("readme.txt", "I could not get Jupyter to start")
    done = run_cli("collect", "demo", export, "--workspace", ws)
    assert done.returncode == 1 and "error: zoe (zoe.zip): no notebook of demo" in done.stderr

    done = run_cli("autograde", "demo", "--workspace", ws, "--student", "alice", "--student", "carol")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == "  demo due 2030-01-01 00:00 UTC; -25% of the points earned per started day late"
    carol = next(line for line in lines if line.startswith("carol "))
    assert carol.split()[1:4] == ["3", "/", "6"] and carol.endswith("late 1.1 d, -1.5 -> 1.5")

    done = run_cli("export", "--workspace", ws)
    assert done.returncode == 0, done.stderr
    grades = {row[0]: row for row in _rows(ws / "grades.csv")[1:]}
    assert sorted(grades) == ["alice", "bob", "carol", "dave", "erin", "frank", "yan", "zoe"]
    assert grades["yan"][1:] == ["Quiet, Yan", "demo", "0", "6", "0", "0", "", "nothing handed in"]
    assert grades["alice"][1:8] == ["Liddell, Alice", "demo", "6", "6", "0", "6", ""]
    assert grades["carol"][1:] == ["Danvers, Carol", "demo", "3", "6", "1.5", "1.5", "2030-01-02 03:04:05 UTC",
                                   "late 2 day(s): -1.5 point(s)"]
    assert grades["zoe"][1:] == ["Absent, Zoe", "demo", "0", "6", "0", "0", "",
                                 "submission refused at collect: no notebook of demo (01_demo, 02_extra) inside"]
    assert grades["bob"][-1] == "handed in, not graded yet: run `python -m grader autograde`"

    # Canvas: Student, ID, SIS User ID, SIS Login ID, Section, then the assignments; Points Possible first
    canvas = _rows(ws / "canvas_grades.csv")
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "demo"]
    assert canvas[1] == ["Points Possible", "", "", "", "", "6"]
    rows = {row[0]: row[1:] for row in canvas[2:]}
    assert rows["Liddell, Alice"] == ["1001", "S1", "aliddell", "A", "6"]
    assert rows["Danvers, Carol"] == ["1003", "S3", "cdanvers", "B", "1.5"]  # after the penalty
    assert rows["Absent, Zoe"] == ["1009", "S9", "zabsent", "B", "0"]
    assert rows["dave"] == ["", "", "", "", "0"]  # not on the roster: a note says Canvas cannot match him
    assert "Canvas cannot match 3 student(s) without an ID or SIS id (dave, erin, frank)" in done.stderr

    # the feedback carol gets back says it too
    done = run_cli("feedback", "demo", "--workspace", ws, "--student", "carol")
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(ws / "handback/demo/carol.zip") as archive:
        index = archive.read("demo-carol/index.html").decode()
        page = archive.read("demo-carol/01_demo.html").decode()
    assert "Handed in 2030-01-02 03:04 UTC. demo due 2030-01-01 00:00 UTC" in index
    assert "<tr><td>late 2 day(s)</td><td>-1.5</td></tr><tr><th>grade</th><th>1.5 / 6</th></tr>" in index
    assert "Late submission penalty" in page  # nbgrader's own line, per notebook

    moodle = _rows(ws / "moodle_grades.csv")
    assert moodle[0] == ["Email address", "ID number", "Full name", "demo"]
    assert ["carol@uni.example", "S3", "Danvers, Carol", "1.5"] in moodle
    assert ["zoe@uni.example", "S9", "Absent, Zoe", "0"] in moodle


def test_a_bad_roster_is_one_clear_line(class_workspace, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(class_workspace, ws)
    (ws / "roster.csv").write_text("student,name,phone\nalice,Alice,123\n")
    done = run_cli("export", "--workspace", ws)
    assert done.returncode == 2 and "roster.csv: unknown column(s) phone" in done.stderr
    (ws / "roster.csv").write_text("student,name\nalice,Alice\nalice,Alice again\n")
    done = run_cli("collect", "demo", tmp_path, "--workspace", ws)
    assert done.returncode == 2 and "roster.csv, line 3: student 'alice' is listed twice" in done.stderr


def test_autograde_refuses_a_due_date_it_cannot_read(class_workspace, tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(class_workspace, ws)
    config = ws / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.LatePenalty.due_dates = {"demo": "friday"}\n')
    done = run_cli("autograde", "demo", "--workspace", ws)
    assert done.returncode == 2 and "c.LatePenalty.due_dates['demo']: 'friday' is not a date" in done.stderr
