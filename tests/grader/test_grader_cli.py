"""The CLI answers a usage mistake without loading nbgrader or nbformat (they take seconds to import)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from grader_testkit import REPO

PROBE = """
import contextlib, io, json, sys
from grader.cli import main
err = io.StringIO()
with contextlib.redirect_stderr(err):
    code = main({argv!r})
heavy = sorted(m for m in ("nbgrader", "nbformat", "nbconvert", "sqlalchemy", "matplotlib") if m in sys.modules)
print(json.dumps([code, heavy, err.getvalue()]))
"""


@pytest.mark.parametrize("argv", [
    ["collect", "week1", "/nowhere/export", "--workspace", "/nowhere/ws"],
    ["autograde", "week1", "--workspace", "/nowhere/ws"],
    ["feedback", "week1", "--workspace", "/nowhere/ws"],
    ["report", "week1", "--workspace", "/nowhere/ws"],
    ["export", "--workspace", "/nowhere/ws"],
    ["init", str(REPO / "inside-the-repo")],
], ids=lambda argv: argv[0])
def test_a_usage_error_loads_no_heavy_library(argv):
    done = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    code, heavy, stderr = json.loads(done.stdout)
    assert code == 2 and stderr.startswith("error: ") and len(stderr.strip().splitlines()) == 1, stderr
    assert heavy == [], f"`grader {argv[0]}` imported {heavy} before it found the usage error"
