"""Week 3 graded end to end through the instructor CLI (see e2e_autograde)."""
from __future__ import annotations

import pytest

from e2e_autograde import autograde_end_to_end


@pytest.mark.slow
def test_week3_autograde_end_to_end(tmp_path):
    autograde_end_to_end(tmp_path, "week3")
