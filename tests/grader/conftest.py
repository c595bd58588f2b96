"""Fixtures of the grader tests: a synthetic repo-like root, never the real notebooks/."""

from __future__ import annotations

from pathlib import Path

import pytest
from grader_testkit import make_course


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A fresh repo-like root (``solutions/demo``, ``solutions/empty``, empty ``notebooks/``)."""
    return make_course(tmp_path / "repo")
