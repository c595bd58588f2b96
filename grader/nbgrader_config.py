"""nbgrader configuration of the repository.

``solutions/<assignment>/`` is nbgrader's *source* and ``notebooks/<assignment>/``
its *release*; the course id, the code stub and the other shared settings come
from ``grader/config.py`` (the single source of truth). The gradebook lives in
the system's temporary directory, never in the repository.

Prefer ``python -m grader release`` to regenerate ``notebooks/``: it writes
byte-stable files and backs up student work first, whereas
``nbgrader generate_assignment --force`` deletes ``notebooks/<assignment>/``.
To run nbgrader by hand anyway::

    nbgrader generate_assignment week1 --config grader/nbgrader_config.py
"""

import importlib.util
import os

_here = os.path.dirname(os.path.abspath(__file__))
# Loaded by path so this works whether or not the grader package is installed.
_spec = importlib.util.spec_from_file_location("_grader_config", os.path.join(_here, "config.py"))
_grader_config = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_grader_config)

c = get_config()  # noqa: F821 (provided by traitlets when loading)
c.merge(_grader_config.repo_config(os.path.dirname(_here)))
