"""`python -m grader collect`: platform exports -> submitted/, with clear refusals."""

from __future__ import annotations

import json
import shutil
import stat
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from grader_testkit import run_cli, tree_bytes

from grader.collect import match_notebook
from grader.notebooks import make_submission, notebook_text


@pytest.fixture
def ws(class_workspace, tmp_path) -> Path:
    """A demo workspace with no submissions yet."""
    ws = tmp_path / "ws"
    shutil.copytree(class_workspace, ws)
    shutil.rmtree(ws / "submitted")
    (ws / "submitted").mkdir()
    return ws


@pytest.fixture
def answers(class_workspace) -> dict[str, bytes]:
    """The reference submission of each demo notebook, as file contents."""
    release, source = class_workspace / "release/demo", class_workspace / "source/demo"
    return {
        name: notebook_text(make_submission(release / name, source / name)).encode()
        for name in ("01_demo.ipynb", "02_extra.ipynb")
    }


def _zip(path: Path, entries: dict[str, bytes], *, link: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


def _collect(ws: Path, export: Path, *extra):
    return run_cli("collect", "demo", export, "--workspace", ws, *extra)


def _notebooks(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in tree.items() if not k.endswith("/timestamp.txt")}


def test_both_naming_patterns_are_collected_unchanged(ws, answers, tmp_path):
    export = tmp_path / "export"
    one, extra = answers["01_demo.ipynb"], answers["02_extra.ipynb"]
    # pattern 1: one zip or folder per student, notebooks anywhere inside
    _zip(export / "alice.zip", {"demo/01_demo.ipynb": one, "demo/02_extra.ipynb": extra, "demo/notes.txt": b"x",
                                 "__MACOSX/demo/._01_demo.ipynb": b"\x00junk"})
    _zip(export / "bob.zip", {"02_extra.ipynb": extra})
    (export / "carol" / "work").mkdir(parents=True)
    (export / "carol/work/01_demo.ipynb").write_bytes(one)
    # pattern 2: one file per notebook, student first (Canvas adds ids, LATE and -1 on resubmission)
    (export / "dave_01_demo.ipynb").write_bytes(one)
    (export / "dave_02_extra.ipynb").write_bytes(extra)
    (export / "smithjane_LATE_12345_67890_02_extra-1.ipynb").write_bytes(extra)
    (export / "smithjane_LATE_12345_67891_notes.txt").write_text("sorry, late")  # harmless: a note, no error
    before = tree_bytes(export)

    done = _collect(ws, export)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: smithjane: smithjane_LATE_12345_67891_notes.txt: not a notebook" in done.stderr
    assert tree_bytes(export) == before  # the export is never modified
    submitted = tree_bytes(ws / "submitted")
    assert _notebooks(submitted) == {
        "alice/demo/01_demo.ipynb": one,
        "alice/demo/02_extra.ipynb": extra,
        "bob/demo/02_extra.ipynb": extra,
        "carol/demo/01_demo.ipynb": one,
        "dave/demo/01_demo.ipynb": one,
        "dave/demo/02_extra.ipynb": extra,
        "smithjane/demo/02_extra.ipynb": extra,
    }
    # nbgrader's timestamp.txt beside each submission: when it was handed in
    assert sorted(k for k in submitted if k.endswith("timestamp.txt")) == [
        f"{s}/demo/timestamp.txt" for s in ("alice", "bob", "carol", "dave", "smithjane")
    ]
    table = {line.split()[0]: line for line in done.stdout.splitlines()[1:-1]}
    assert "dave_01_demo.ipynb, dave_02_extra.ipynb" in table["dave"] and table["dave"].endswith("collected")
    assert table["smithjane"].endswith("collected, marked LATE")
    assert "note: alice: alice.zip: demo/notes.txt: not a notebook" in done.stderr  # said, not an error
    assert done.stdout.splitlines()[-1].startswith("collected 5 submission(s) of demo")

    # collecting the same export again changes nothing and is no error
    again = _collect(ws, export)
    assert again.returncode == 0 and all(line.endswith("unchanged") for line in again.stdout.splitlines()[1:-1])
    assert tree_bytes(ws / "submitted") == submitted


def test_renamed_nested_and_broken_notebooks_in_a_realistic_export(ws, answers, tmp_path):
    """What a class really hands in: browser and Jupyter copies, other cases, missing number
    prefixes, nested folders, one broken notebook among good ones, Canvas ids, LATE marks and
    notes, and a roster that maps Canvas ids to students and lists one who sent nothing."""
    export = tmp_path / "export"
    one, extra = answers["01_demo.ipynb"], answers["02_extra.ipynb"]
    stamp = (2030, 5, 6, 7, 8, 10)
    export.mkdir()
    with zipfile.ZipFile(export / "alice.zip", "w") as archive:  # browser + Jupyter copies, nested
        archive.writestr(zipfile.ZipInfo("alice-week/Submission/01_demo (1).ipynb", stamp), one)
        archive.writestr(zipfile.ZipInfo("alice-week/Submission/02_extra-Copy1.ipynb", (2030, 5, 6, 7, 0, 0)), extra)
        archive.writestr(zipfile.ZipInfo("alice-week/Submission/scratch.ipynb", stamp), one)
    (export / "bob" / "deep" / "er").mkdir(parents=True)
    (export / "bob/deep/er/EXTRA.ipynb").write_bytes(extra)  # case and no number prefix
    (export / "bob/Demo.ipynb").write_bytes(one)
    _zip(export / "carol.zip", {"01_demo.ipynb": one[: len(one) // 3], "02_extra.ipynb": extra})  # one broken
    # Canvas: <name>[_LATE]_<user id>_<file id>_<file name>, plus a note that is no notebook
    (export / "smithalice_LATE_1001_5010_02_extra.ipynb").write_bytes(extra)
    (export / "kimdave_1004_5011_01_demo.ipynb").write_bytes(one)
    (export / "kimdave_1004_5012_notes.txt").write_text("I was ill on Monday")
    (ws / "roster.csv").write_text(
        "student,name,email,canvas_id,sis_user_id,sis_login_id,section\n"
        'alice,"Liddell, Alice",alice@uni.example,,S1,aliddell,A\n'
        "bob,Bob Builder,bob@uni.example,,S2,bbuilder,A\n"
        "carol,Carol Danvers,carol@uni.example,,S3,cdanvers,B\n"
        "dave,Dave Kim,dave@uni.example,1004,S4,dkim,B\n"
        "alsmith,Alice Smith,asmith@uni.example,1001,S5,asmith,B\n"
        "zoe,Zoe Absent,zoe@uni.example,1009,S6,zabsent,B\n"
    )
    before = tree_bytes(export)

    done = _collect(ws, export)
    assert tree_bytes(export) == before
    assert _notebooks(tree_bytes(ws / "submitted")) == {
        "alice/demo/01_demo.ipynb": one,
        "alice/demo/02_extra.ipynb": extra,
        "bob/demo/01_demo.ipynb": one,
        "bob/demo/02_extra.ipynb": extra,
        "carol/demo/02_extra.ipynb": extra,  # the valid one of carol's two
        "dave/demo/01_demo.ipynb": one,  # Canvas user 1004 is the roster's dave
        "alsmith/demo/02_extra.ipynb": extra,  # Canvas user 1001
    }
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert errors == ["error: carol (carol.zip): carol.zip: 01_demo.ipynb (01_demo.ipynb) is not a valid notebook: "
                      + errors[0].split("not a valid notebook: ")[1]]
    assert "not valid JSON" in errors[0]
    assert done.returncode == 1  # carol's broken notebook is the only error
    notes = [line for line in done.stderr.splitlines() if line.startswith("note: ")]
    for expected in [
        "alice: alice.zip: alice-week/Submission/01_demo (1).ipynb: taken as 01_demo.ipynb",
        "alice: alice.zip: alice-week/Submission/02_extra-Copy1.ipynb: taken as 02_extra.ipynb",
        "alice: alice.zip: alice-week/Submission/scratch.ipynb: matches no notebook of the assignment",
        "bob: bob/deep/er/EXTRA.ipynb: taken as 02_extra.ipynb",
        "dave: kimdave_1004_5012_notes.txt: not a notebook",
        "on the roster, nothing of demo handed in: zoe (they score 0)",
    ]:
        assert sum(expected in line for line in notes) == 1, (expected, notes)

    record = json.loads((ws / "collected/demo.json").read_text())
    assert record["alsmith"]["platform_id"] == "1001" and record["alsmith"]["late_mark"] is True
    assert record["dave"]["platform_id"] == "1004" and record["dave"]["late_mark"] is False
    assert record["alice"]["notebooks"] == {
        "01_demo.ipynb": "alice.zip: alice-week/Submission/01_demo (1).ipynb",
        "02_extra.ipynb": "alice.zip: alice-week/Submission/02_extra-Copy1.ipynb",
    }
    # handed in = the newest file taken, as the zip entries date them (read in this machine's time zone)
    expected = datetime.fromtimestamp(time.mktime((*stamp, 0, 0, -1)), UTC)
    assert (ws / "submitted/alice/demo/timestamp.txt").read_text() == expected.strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    assert record["alice"]["submitted_at"] == expected.isoformat()


def test_match_notebook_takes_only_unambiguous_names():
    notebooks = ["01_setting_up", "02_initialization", "03_regularization", "04_gradient_checking"]
    cases = {
        "02_initialization": "02_initialization",
        "01_setting_up (1)": "01_setting_up",
        "02_initialization-Copy1": "02_initialization",
        "02_Initialization (2)-Copy3": "02_initialization",
        "Regularization": "03_regularization",
        "gradient checking": "04_gradient_checking",
        "03_regularization-1": "03_regularization",
        "initialization copy": None,
        "05_mini_batches": None,
    }
    for stem, notebook in cases.items():
        assert match_notebook(stem, notebooks)[0] == notebook, stem
    assert match_notebook("setup", ["01_setup", "02_setup"]) == (None, "could be any of 01_setup, 02_setup; rename it")


def test_a_platform_late_mark_is_kept_even_when_the_file_times_say_on_time(ws, answers, tmp_path):
    config = ws / "nbgrader_config.py"
    config.write_text(config.read_text() + '\nc.LatePenalty.due_dates = {"demo": "2031-01-01 12:00 +02:00"}\n')
    export = tmp_path / "export"
    export.mkdir()
    (export / "smithalice_LATE_1001_5010_02_extra.ipynb").write_bytes(answers["02_extra.ipynb"])
    done = _collect(ws, export)
    assert done.returncode == 0, done.stderr
    assert "smithalice: the platform marked it LATE" in done.stderr
    assert (ws / "submitted/smithalice/demo/timestamp.txt").read_text() == "2031-01-01 10:00:01.000000 UTC"


def test_unreadable_files_are_refused_one_line_each_and_cost_only_themselves(ws, answers, tmp_path):
    export = tmp_path / "export"
    good = answers["01_demo.ipynb"]
    _zip(export / "alice.zip", {"01_demo.ipynb": good})
    (export / "broken.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    _zip(export / "mallory.zip", {"01_demo.ipynb": good, "../../escape/01_demo.ipynb": good})
    _zip(export / "oscar.zip", {"/etc/01_demo.ipynb": good})
    _zip(export / "trudy.zip", {"02_extra.ipynb": answers["02_extra.ipynb"]}, link="01_demo.ipynb")
    (export / "report.pdf").write_bytes(b"%PDF-1.4")
    (export / "erin_01_demo.ipynb").write_text(good.decode()[:200])  # truncated JSON
    (export / "frank_homework.ipynb").write_bytes(good)  # not a notebook of the assignment
    (export / "01_demo.ipynb").write_bytes(good)  # whose?
    _zip(export / "Ada Lovelace.zip", {"01_demo.ipynb": good})  # not a usable id
    _zip(export / "gina.zip", {"a/01_demo.ipynb": good, "b/01_demo.ipynb": good + b"\n", "02_extra.ipynb": answers["02_extra.ipynb"]})
    _zip(export / "hank.zip", {"readme.txt": b"forgot the notebook"})
    before = tree_bytes(export)

    done = _collect(ws, export)
    assert done.returncode == 1
    assert tree_bytes(export) == before
    assert _notebooks(tree_bytes(ws / "submitted")) == {
        "alice/demo/01_demo.ipynb": good,
        "gina/demo/02_extra.ipynb": answers["02_extra.ipynb"],  # her other notebook is not lost
    }
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    expected = [
        "Ada Lovelace.zip: 'Ada Lovelace' is not a usable student id",
        "01_demo.ipynb: a notebook without a student in its name",
        "broken.zip: not a readable zip archive",
        "frank (frank_homework.ipynb): no notebook of demo (01_demo, 02_extra) inside",
        "gina (gina.zip): 01_demo.ipynb comes 2 times, different each time (gina.zip: a/01_demo.ipynb; gina.zip: b/01_demo.ipynb)",
        "mallory.zip: entry '../../escape/01_demo.ipynb' would land outside the submission; nothing taken",
        "oscar.zip: entry '/etc/01_demo.ipynb' would land outside the submission",
        "trudy.zip: entry '01_demo.ipynb' is a symbolic link; nothing taken",
        "erin (erin_01_demo.ipynb): erin_01_demo.ipynb (01_demo.ipynb) is not a valid notebook: not valid JSON",
        "hank (hank.zip): no notebook of demo (01_demo, 02_extra) inside",
    ]
    for message in expected:
        assert sum(message in line for line in errors) == 1, (message, errors)
    assert len(errors) == len(expected)
    notes = [line for line in done.stderr.splitlines() if line.startswith("note: ")]
    assert any("report.pdf: not used" in line for line in notes)
    assert any("frank_homework.ipynb: matches no notebook of the assignment" in line for line in notes)
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "escape").exists() and not (ws / "escape").exists()


def test_an_existing_submission_is_kept_unless_replace_then_backed_up(ws, answers, tmp_path):
    export = tmp_path / "export"
    old = ws / "submitted/alice/demo/01_demo.ipynb"
    old.parent.mkdir(parents=True)
    old.write_bytes(answers["01_demo.ipynb"])
    (old.parent / "timestamp.txt").write_text("2030-01-01 00:00:00 UTC")
    _zip(export / "alice.zip", {"01_demo.ipynb": answers["01_demo.ipynb"], "02_extra.ipynb": answers["02_extra.ipynb"]})
    before = tree_bytes(ws / "submitted")

    done = _collect(ws, export)
    assert done.returncode == 1
    assert "alice: already has a submission" in done.stderr and "--replace" in done.stderr
    assert tree_bytes(ws / "submitted") == before

    dry = _collect(ws, export, "--replace", "--dry-run")
    assert dry.returncode == 0 and "would be replaced" in dry.stdout and "nothing written" in dry.stdout
    assert tree_bytes(ws / "submitted") == before and not (ws / "collect-backups").exists()

    done = _collect(ws, export, "--replace")
    assert done.returncode == 0, done.stderr
    assert "replaced (earlier one moved to" in done.stdout
    assert sorted(tree_bytes(ws / "submitted")) == ["alice/demo/01_demo.ipynb", "alice/demo/02_extra.ipynb",
                                                    "alice/demo/timestamp.txt"]
    [backup] = list((ws / "collect-backups").glob("*/alice/demo"))
    assert str(backup) in done.stdout
    assert tree_bytes(backup) == {k.removeprefix("alice/demo/"): v for k, v in before.items()}


def test_collect_usage_errors(ws, tmp_path):
    done = run_cli("collect", "demo", tmp_path / "nowhere", "--workspace", ws)
    assert done.returncode == 2 and "is not a folder" in done.stderr
    (tmp_path / "empty").mkdir()
    done = run_cli("collect", "demo", tmp_path / "empty", "--workspace", ws)
    assert done.returncode == 2 and "holds no zip, folder or notebook" in done.stderr
    done = run_cli("collect", "week9", tmp_path / "empty", "--workspace", ws)
    assert done.returncode == 2 and "unknown assignment 'week9'" in done.stderr
