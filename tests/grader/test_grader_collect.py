"""`python -m grader collect`: platform exports -> submitted/, with clear refusals."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from grader_testkit import run_cli, tree_bytes

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
    before = tree_bytes(export)

    done = _collect(ws, export)
    assert done.returncode == 0, done.stdout + done.stderr
    assert tree_bytes(export) == before  # the export is never modified
    assert tree_bytes(ws / "submitted") == {
        "alice/demo/01_demo.ipynb": one,
        "alice/demo/02_extra.ipynb": extra,
        "bob/demo/02_extra.ipynb": extra,
        "carol/demo/01_demo.ipynb": one,
        "dave/demo/01_demo.ipynb": one,
        "dave/demo/02_extra.ipynb": extra,
        "smithjane/demo/02_extra.ipynb": extra,
    }
    table = {line.split()[0]: line for line in done.stdout.splitlines()[1:-1]}
    assert "dave_01_demo.ipynb, dave_02_extra.ipynb" in table["dave"] and table["dave"].endswith("collected")
    assert done.stdout.splitlines()[-1].startswith("collected 5 submission(s) of demo")

    # collecting the same export again changes nothing and is no error
    again = _collect(ws, export)
    assert again.returncode == 0 and all(line.endswith("unchanged") for line in again.stdout.splitlines()[1:-1])


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
    _zip(export / "gina.zip", {"a/01_demo.ipynb": good, "b/01_demo.ipynb": good})
    _zip(export / "hank.zip", {"readme.txt": b"forgot the notebook"})
    before = tree_bytes(export)

    done = _collect(ws, export)
    assert done.returncode == 1
    assert tree_bytes(export) == before
    assert tree_bytes(ws / "submitted") == {"alice/demo/01_demo.ipynb": good}  # only the good one
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    expected = [
        "Ada Lovelace.zip: 'Ada Lovelace' is not a usable student id",
        "01_demo.ipynb: a notebook without a student in its name",
        "broken.zip: not a readable zip archive",
        "frank_homework.ipynb: no notebook of the assignment in its name",
        "gina.zip: holds 01_demo.ipynb twice",
        "mallory.zip: entry '../../escape/01_demo.ipynb' would land outside the submission; nothing taken",
        "oscar.zip: entry '/etc/01_demo.ipynb' would land outside the submission",
        "report.pdf: neither a zip, a folder nor a notebook",
        "trudy.zip: entry '01_demo.ipynb' is a symbolic link; nothing taken",
        "erin (erin_01_demo.ipynb): 01_demo.ipynb is not a valid notebook: not valid JSON",
        "hank (hank.zip): no notebook of demo (01_demo, 02_extra) inside",
    ]
    for message in expected:
        assert sum(message in line for line in errors) == 1, (message, errors)
    assert len(errors) == len(expected)
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
    assert sorted(tree_bytes(ws / "submitted")) == ["alice/demo/01_demo.ipynb", "alice/demo/02_extra.ipynb"]
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
