"""The browser the browser tests share: Debian's Chromium through Playwright, or a skip saying why."""
from __future__ import annotations

import pytest

from lab_harness import chromium, find_chromium
from system_tools import skip_without_chromium


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    skip_without_chromium(executable, "the browser tests need one")  # under CI a missing Chromium fails
    with chromium(executable) as browser:
        yield browser
