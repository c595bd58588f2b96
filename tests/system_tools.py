"""What the tests need from the machine beyond Python: bubblewrap (secure grading) and Chromium.

``make test`` on a fresh machine with only Python and make must pass: a test
that grades then uses ``--no-sandbox`` (it checks scores; ``tests/attacks``
checks isolation and skips, saying why), and the browser tests skip. CI
installs both tools and sets ``GRADER_REQUIRE_SANDBOX=1`` and
``GRADER_REQUIRE_CHROMIUM=1`` (``.ci/run``): there a missing tool fails the
test instead of skipping it, so a broken install cannot turn into a green run
that tested nothing.
"""
from __future__ import annotations

import os

import pytest

REQUIRE_SANDBOX = "GRADER_REQUIRE_SANDBOX"
REQUIRE_CHROMIUM = "GRADER_REQUIRE_CHROMIUM"


def _required(variable: str) -> bool:
    return os.environ.get(variable, "").strip() not in ("", "0")


def sandbox_problem() -> str | None:
    """Why the bubblewrap sandbox cannot run here (``None``: it can); fails the test where it is required."""
    from grader.secure.sandbox import unavailable

    problem = unavailable()
    if problem and _required(REQUIRE_SANDBOX):
        pytest.fail(f"{REQUIRE_SANDBOX} is set but the sandbox cannot run: {problem}", pytrace=False)
    return problem


def sandbox_args() -> list[str]:
    """``["--no-sandbox"]`` where the sandbox cannot run (and is not required), else ``[]``."""
    return ["--no-sandbox"] if sandbox_problem() else []


def use_sandbox() -> bool:
    """The ``sandbox=`` argument of ``grader.workspace.autograde`` for a test that checks scores."""
    return sandbox_problem() is None


def skip_without_sandbox(what: str) -> None:
    """Skip (saying why) where the sandbox cannot run; fail instead where it is required."""
    problem = sandbox_problem()
    if problem:
        pytest.skip(f"{what} needs the bubblewrap sandbox, which cannot run here: {problem}")


def skip_without_chromium(executable: str | None, what: str) -> None:
    """Skip when no Chromium was found; fail instead where it is required (CI)."""
    if executable is not None:
        return
    message = f"no Chromium executable found (install Debian's `chromium`, or set CHROMIUM=/path): {what}"
    if _required(REQUIRE_CHROMIUM):
        pytest.fail(f"{REQUIRE_CHROMIUM} is set: {message}", pytrace=False)
    pytest.skip(message)
