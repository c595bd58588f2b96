"""Shared by every test folder (this file puts ``tests/`` on ``sys.path``, so ``system_tools`` imports).

Under CI (``.ci/run`` sets ``GRADER_REQUIRE_SANDBOX=1``) a machine where the
bubblewrap sandbox cannot run stops the whole run at once, before a single
test: otherwise ``tests/attacks`` would skip and the run would look green.
"""
from __future__ import annotations

import pytest
from system_tools import REQUIRE_SANDBOX, _required


def pytest_configure(config) -> None:
    if _required(REQUIRE_SANDBOX):
        from grader.secure.sandbox import unavailable

        problem = unavailable()
        if problem:
            raise pytest.UsageError(f"{REQUIRE_SANDBOX} is set (CI) but the bubblewrap sandbox cannot run: {problem}")
