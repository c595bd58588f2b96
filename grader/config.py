"""The one place that says how nbgrader is configured for this course.

Everything shared between the repository's release pipeline and an instructor's
grading workspace lives in :data:`SHARED_SETTINGS`. From it we build

* :func:`repo_config`: a traitlets ``Config`` for the repository (instructor
  sources in ``solutions/``, student versions in ``notebooks/``), used by
  ``python -m grader release`` and by ``grader/nbgrader_config.py``;
* :func:`workspace_config`: a ``Config`` for an nbgrader course workspace made
  by ``python -m grader init`` (nbgrader's default ``source/``, ``release/``,
  ``submitted/``, ``autograded/`` layout, ``gradebook.db`` in the workspace);
* :func:`workspace_config_file_text`: the self-contained ``nbgrader_config.py``
  written into a workspace, so plain ``nbgrader`` commands work there too.

This module imports nothing from the rest of ``grader`` so that
``grader/nbgrader_config.py`` can load it by file path, even when the package
is not installed.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

COURSE_ID = "improving-dnn"

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

# Settings that hold wherever the course is built or graded. Keys are
# ``Class.trait``; values must be plain Python literals (they are also written
# into workspaces' nbgrader_config.py with ``repr``).
SHARED_SETTINGS: dict[str, dict[str, object]] = {
    "CourseDirectory": {
        "course_id": COURSE_ID,
        # nbgrader's default ignore list plus what JupyterLab and macOS leave
        # next to notebooks; none of it belongs in a release or a check.
        "ignore": [
            ".ipynb_checkpoints",
            "*.pyc",
            "__pycache__",
            "feedback",
            ".virtual_documents",
            ".DS_Store",
        ],
    },
    "ClearSolutions": {
        "code_stub": {"python": CODE_STUB},
    },
    # Exercise cells take seconds; the margin covers a slow grading machine
    # without letting an infinite loop hold the batch for long.
    "Execute": {
        "timeout": 120,
        # ipykernel >= 7 warns on every start that it listens on TCP; mute
        # the kernel application's own log (students' output is unaffected).
        "extra_arguments": ["--IPKernelApp.log_level=ERROR"],
    },
    # Late work: due dates and the penalty are c.LatePenalty.* (grader/lateness.py).
    "AssignLatePenalties": {"plugin_class": "grader.lateness.LatePenalty"},
}

# Where the release pipeline keeps its throwaway gradebook when nbgrader is run
# by hand with grader/nbgrader_config.py (``grader release`` uses a fresh
# temporary one per run). Never a gradebook.db inside the repository.
DEFAULT_REPO_DB = Path(tempfile.gettempdir()) / f"{COURSE_ID}-release-gradebook.db"

ROOT_ENV_VAR = "GRADER_REPO_ROOT"


def repo_root() -> Path:
    """The repository root: ``$GRADER_REPO_ROOT`` if set, else this checkout."""
    env = os.environ.get(ROOT_ENV_VAR)
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parent.parent


def _shared_config() -> Config:
    cfg = Config()
    for section, values in SHARED_SETTINGS.items():
        for key, value in values.items():
            # copy so that callers mutating a Config never edit the constants
            setattr(cfg[section], key, _copy(value))
    return cfg


def _copy(value: object) -> object:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def repo_config(
    root: Path | str | None = None,
    *,
    release_directory: str = "notebooks",
    db_url: str | None = None,
) -> Config:
    """Config for the repository: ``solutions/`` is nbgrader's source, ``notebooks/`` its release.

    ``release_directory`` may be absolute (``grader release`` points it at a
    temporary directory, then syncs into ``notebooks/``).
    """
    root = Path(root) if root is not None else repo_root()
    cfg = _shared_config()
    cfg.CourseDirectory.root = str(root.resolve())
    cfg.CourseDirectory.source_directory = "solutions"
    cfg.CourseDirectory.release_directory = release_directory
    cfg.CourseDirectory.db_url = db_url or f"sqlite:///{DEFAULT_REPO_DB}"
    return cfg


def workspace_config(workspace: Path | str) -> Config:
    """Config for a grading workspace made by ``grader init``.

    The shared settings, then the workspace's own ``nbgrader_config.py`` (so an
    instructor's edits there, e.g. a longer timeout, are honoured), then the
    workspace's absolute path as ``CourseDirectory.root``.
    """
    workspace = Path(workspace).resolve()
    cfg = _shared_config()
    config_file = workspace / "nbgrader_config.py"
    if config_file.is_file():
        loader = PyFileConfigLoader(config_file.name, path=str(workspace))
        cfg.merge(loader.load_config())
    cfg.CourseDirectory.root = str(workspace)
    return cfg


def workspace_config_file_text() -> str:
    """The ``nbgrader_config.py`` written into a new workspace (self-contained)."""
    lines = [
        '"""nbgrader configuration of this grading workspace.',
        "",
        "Written by `python -m grader init`. Paths are relative to this file, so the",
        "workspace can be moved. Run nbgrader commands from this directory, e.g.",
        "    nbgrader autograde week1",
        "or use `python -m grader autograde week1 --workspace <this directory>`.",
        '"""',
        "import os",
        "",
        "c = get_config()  # noqa: F821 (provided by traitlets when loading)",
        "",
        "c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))",
        'c.CourseDirectory.source_directory = "source"',
        'c.CourseDirectory.release_directory = "release"',
        "# The gradebook is nbgrader's default: gradebook.db next to this file.",
    ]
    for section, values in SHARED_SETTINGS.items():
        for key, value in values.items():
            lines.append(f"c.{section}.{key} = {_literal(value)}")
    lines += [
        "",
        "# Due dates and late penalties (grader/lateness.py; README, 'Due dates and late work').",
        "# Times are UTC unless a zone follows; `grader collect` records when each student handed in.",
        '# c.LatePenalty.due_dates = {"week1": "2026-10-12 23:59 Europe/Berlin"}',
        "# c.LatePenalty.grace_minutes = 15      # this late still counts as on time",
        "# c.LatePenalty.per_day = 0.1           # share of the points earned lost per started day late",
        "# c.LatePenalty.zero_after_days = 7     # later than this: 0 (0 = never)",
        "",
        "# Students' work is untrusted, also when graded by plain `nbgrader autograde` or the",
        "# formgrader: hidden tests run in the grader, students' kernels in a bubblewrap sandbox",
        "# (grader/secure/preprocessors.py). Limits: c.Sandbox.wall_seconds, memory_mb, ... (README).",
        "from grader.preprocessors import secure_config  # noqa: E402",
        "",
        "secure_config(c)",
    ]
    return "\n".join(lines) + "\n"


def _literal(value: object) -> str:
    """``repr``, one item per line when it would not fit on one."""
    text = repr(value)
    if len(text) <= 60 or not isinstance(value, list | dict):
        return text
    if isinstance(value, list):
        items = [f"    {item!r}," for item in value]
        return "[\n" + "\n".join(items) + "\n]"
    items = [f"    {k!r}: {v!r}," for k, v in value.items()]
    return "{\n" + "\n".join(items) + "\n}"
