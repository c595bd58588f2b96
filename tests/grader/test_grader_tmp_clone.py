"""The sandbox works wherever the course lives: a clone and its virtual environment under /tmp.

CI clones and many laptops' scratch checkouts live under ``/tmp``, which the
sandbox replaces by its own empty file system. The kernel's Python (the venv)
and ``dlutils`` are bound by their real paths, so they must stay visible on
top of that private ``/tmp``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from grader_testkit import REPO, make_course, submit_class
from system_tools import skip_without_sandbox

pytestmark = pytest.mark.slow


@pytest.fixture
def clone_under_tmp():
    """``/tmp/<random>/clone``: the grader and dlutils packages, and a venv (hard links to this one's files)."""
    venv = Path(sys.prefix)
    if not (venv / "pyvenv.cfg").is_file():
        pytest.skip("the tests do not run from a virtual environment to copy")
    base = Path(tempfile.mkdtemp(prefix="grader-clone-", dir="/tmp"))
    clone = base / "clone"
    try:
        clone.mkdir()
        for package in ("grader", "dlutils"):
            shutil.copytree(REPO / package, clone / package, ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run(["cp", "-al", str(venv), str(clone / ".venv")], check=True)
        # the editable install points at the repository: point the copy at the clone
        for finder in (clone / ".venv").glob("lib/python*/site-packages/__editable__*"):
            text = finder.read_text().replace(str(REPO), str(clone))
            finder.unlink()  # a hard link: never write through it into this venv
            finder.write_text(text)
        yield clone
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_grades_from_a_clone_and_venv_under_tmp(clone_under_tmp, tmp_path):
    skip_without_sandbox("grading from a clone under /tmp")
    clone = clone_under_tmp
    python = clone / ".venv" / "bin" / "python"
    where = subprocess.run([python, "-c", "import grader, dlutils, sys; print(grader.__file__, dlutils.__file__, sys.prefix)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout.split()
    assert all(p.startswith(str(clone)) for p in where), where  # really the clone under /tmp

    root = make_course(clone / "course")
    ws = tmp_path / "ws"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GRADER_REPO_ROOT": str(root)}
    done = subprocess.run([python, "-m", "grader", "init", ws], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    expected = submit_class(ws)
    done = subprocess.run([python, "-m", "grader", "autograde", "demo", "--workspace", ws, "--student", "alice"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--no-sandbox" not in done.stderr
    row = next(line for line in done.stdout.splitlines() if line.split()[:1] == ["alice"])
    assert row.split()[1] == f"{expected['alice']:g}", done.stdout
