"""Shared fixture of the browser tests: Debian's Chromium through Playwright, or a skip that says why."""

from __future__ import annotations

import pytest
from lab_harness import chromium, find_chromium


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium executable found (install Debian's `chromium`, or set CHROMIUM=/path): "
                    "the browser tests need one")
    with chromium(executable) as browser:
        yield browser
