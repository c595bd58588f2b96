"""Fixtures for testing the hidden checks against the reference solutions."""
from __future__ import annotations

from pathlib import Path

import pytest

from reference_functions import load_reference_functions

SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


@pytest.fixture(scope="session")
def reference():
    """name -> reference function, read from the solutions notebooks themselves."""
    functions = {}
    for path in sorted(SOLUTIONS.glob("week*/*.ipynb")):
        functions.update(load_reference_functions(path))
    return functions
