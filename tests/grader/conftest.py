"""Fixtures of the grader tests: a synthetic repo-like root, never the real notebooks/."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
from grader_testkit import make_course, submit_class, use_sandbox


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A fresh repo-like root (``solutions/demo``, ``solutions/empty``, empty ``notebooks/``)."""
    return make_course(tmp_path / "repo")


@pytest.fixture(scope="session")
def class_workspace(tmp_path_factory) -> Path:
    """An initialised demo workspace holding the demo class's submissions, not graded. Copy it before use."""
    from grader.workspace import init

    root = make_course(tmp_path_factory.mktemp("course") / "repo")
    ws = tmp_path_factory.mktemp("class") / "ws"
    init(ws, root=root, echo=lambda _: None)
    submit_class(ws)
    return ws


class Graded(NamedTuple):
    workspace: Path  # copy it before changing anything
    out: list[str]  # what autograde printed


@pytest.fixture(scope="session")
def graded_class(class_workspace, tmp_path_factory) -> Graded:
    """The demo class graded once, one submission at a time (kernels: only in slow tests)."""
    from grader.autograde import autograde

    ws = tmp_path_factory.mktemp("graded") / "ws"
    shutil.copytree(class_workspace, ws)
    out: list[str] = []
    errors: list[str] = []
    assert autograde(ws, "demo", echo=out.append, warn=errors.append, sandbox=use_sandbox()) == 0, out + errors
    return Graded(ws, out)
