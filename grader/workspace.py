"""Grading workspaces: ``grader init``, ``grader autograde`` (``grader export``: :mod:`grader.lms`).

A workspace is an ordinary nbgrader course directory, kept outside the
repository so students' submissions and grades never land in git::

    WORKSPACE/
      nbgrader_config.py       self-contained; plain `nbgrader ...` works here too
      gradebook.db             assignments, notebooks, grade cells, then grades
      source/<assignment>/     the instructor notebooks (copied from solutions/)
      release/<assignment>/    the student versions nbgrader generated
      submitted/<student>/<assignment>/*.ipynb   what students handed in (`grader collect`)
      autograded/...           written by autograde
      feedback/<student>/<assignment>/   written by `grader feedback`
      reports/<assignment>.png, .md      written by `grader report`
      collect-backups/<time>/  earlier submissions `grader collect --replace` moved aside
"""

from __future__ import annotations

import json
import logging
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

from traitlets.config import Config

from . import config as grader_config
from ._nbgrader import prepare_environment, run_converter
from .console import Echo
from .errors import PipelineError, UsageError

# ------------------------------------------------------------------ init


def _is_within(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _assignment_dirs(source: Path) -> list[Path]:
    ignore = grader_config.SHARED_SETTINGS["CourseDirectory"]["ignore"]
    return sorted(
        p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in ignore
    )


def init(
    workspace: Path,
    *,
    source: Path | None = None,
    root: Path | None = None,
    verbose: bool = False,
    echo: Echo = print,
) -> int:
    """Create a grading workspace from ``source`` (default: the repository's ``solutions/``)."""
    root = Path(root or grader_config.repo_root()).resolve()
    workspace = Path(workspace).expanduser()
    resolved = workspace.resolve()
    if _is_within(resolved, root):
        raise UsageError(
            f"refusing to create a workspace inside the repository ({resolved} is in {root}); "
            "grades and submissions must stay out of git - pick a directory elsewhere"
        )
    if resolved.exists() and not resolved.is_dir():
        raise UsageError(f"{workspace} exists and is not a directory")
    if resolved.is_dir() and any(resolved.iterdir()):
        raise UsageError(f"{workspace} exists and is not empty; choose a new or empty directory (nothing is overwritten)")

    source = Path(source).expanduser().resolve() if source is not None else root / "solutions"
    if not source.is_dir():
        raise UsageError(f"source directory {source} does not exist")
    assignments = _assignment_dirs(source)
    with_notebooks = [a.name for a in assignments if any(a.glob("*.ipynb"))]
    if not with_notebooks:
        raise UsageError(f"no assignment in {source} has notebooks (expected {source}/<assignment>/*.ipynb)")

    from nbgrader.api import Gradebook  # after the usage checks: nbgrader takes seconds to import
    from nbgrader.converters import GenerateAssignment

    created_dir = not resolved.exists()
    resolved.mkdir(parents=True, exist_ok=True)
    try:
        (resolved / "nbgrader_config.py").write_text(grader_config.workspace_config_file_text())
        ignore = shutil.ignore_patterns(*grader_config.SHARED_SETTINGS["CourseDirectory"]["ignore"])
        for assignment in assignments:
            shutil.copytree(assignment, resolved / "source" / assignment.name, ignore=ignore)
        (resolved / "source").mkdir(exist_ok=True)
        (resolved / "release").mkdir()
        (resolved / "submitted").mkdir()

        cfg = grader_config.workspace_config(resolved)
        coursedir = _coursedir(cfg)
        prepare_environment()
        with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
            for assignment in assignments:
                gb.update_or_create_assignment(assignment.name)
        for name in with_notebooks:
            result = run_converter(
                GenerateAssignment, cfg, assignment_id=name, verbose=verbose, force=True, create_assignment=True
            )
            if not result.success:
                raise PipelineError(f"nbgrader could not generate {name}: " + "; ".join(result.errors))
    except BaseException:
        # Only what this command created: the folder was new or empty.
        if created_dir:
            shutil.rmtree(resolved, ignore_errors=True)
        else:
            for child in resolved.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise

    skipped = [a.name for a in assignments if a.name not in with_notebooks]
    echo(f"created grading workspace {resolved}")
    echo(f"  assignments: {', '.join(with_notebooks)}" + (f" (no notebooks yet: {', '.join(skipped)})" if skipped else ""))
    first, ws_arg = with_notebooks[0], f"--workspace {resolved}"
    echo("next steps (python -m grader COMMAND --help explains each):")
    echo(f"  0. optional: a class list in {resolved}/roster.csv (student,name,email,canvas_id,sis_user_id,"
         "sis_login_id,section), due dates and late penalties in its nbgrader_config.py (c.LatePenalty.*)")
    echo(f"  1. python -m grader collect {first} ~/Downloads/{first}-export {ws_arg}   # the platform's export: zips, folders or Canvas files")
    echo(f"  2. python -m grader autograde {first} {ws_arg} --jobs auto")
    echo(f"  3. python -m grader feedback {first} {ws_arg}   # handback/{first}/<student>.zip: one file per student")
    echo(f"  4. python -m grader report {first} {ws_arg}     # reports/{first}.md, .png and CSVs")
    echo(f"  5. python -m grader export {ws_arg}             # grades.csv, canvas_grades.csv, moodle_grades.csv")
    echo(f"  (nbgrader itself works there too, e.g. `nbgrader formgrader` in {resolved})")
    return 0


# ----------------------------------------------------------- workspaces


def _coursedir(cfg: Config):
    """nbgrader's view of the directories and database ``cfg`` describes."""
    from nbgrader.coursedir import CourseDirectory

    quiet = logging.getLogger("grader.quiet")
    quiet.setLevel(logging.ERROR)
    return CourseDirectory(config=cfg, log=quiet)


@dataclass
class Workspace:
    path: Path
    config: Config
    db_url: str
    course_id: str
    submitted: Path

    def ignored(self) -> list[str]:
        """File name patterns nbgrader leaves out of submissions (``CourseDirectory.ignore``)."""
        return list(_coursedir(self.config).ignore)

    def directory(self, step: str, student: str, assignment: str) -> Path:
        """Where nbgrader keeps ``step`` (``autograded``, ``feedback``...) of a student's assignment."""
        coursedir = _coursedir(self.config)
        step_dir = getattr(coursedir, f"{step}_directory")
        return Path(coursedir.format_path(step_dir, student, assignment)).resolve()


def open_workspace(workspace: Path | None) -> Workspace:
    """Check that ``workspace`` is a grading workspace with a gradebook; UsageError otherwise."""
    if workspace is None:
        raise UsageError("--workspace is required (a directory made by `python -m grader init`)")
    path = Path(workspace).expanduser().resolve()
    init_hint = f"create one with `python -m grader init {workspace}`"
    if not path.exists():
        raise UsageError(f"workspace {workspace} does not exist; {init_hint}")
    if not path.is_dir() or not (path / "nbgrader_config.py").is_file() or not (path / "source").is_dir():
        raise UsageError(
            f"{workspace} is not a grading workspace (needs nbgrader_config.py and source/); "
            "make one with `python -m grader init NEW_DIR`"
        )
    cfg = grader_config.workspace_config(path)
    coursedir = _coursedir(cfg)
    db_url = coursedir.db_url
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///") :]).is_file():
        raise UsageError(f"{workspace} has no gradebook ({db_url[len('sqlite:///'):]}); {init_hint}")
    submitted = Path(coursedir.format_path(coursedir.submitted_directory, ".", ".")).resolve()
    return Workspace(path, cfg, db_url, coursedir.course_id, submitted)


# ------------------------------------------------------------- autograde


def validate_notebook(path: Path) -> str | None:
    """Why ``path`` is not a usable notebook, or ``None`` when it is one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    return validate_notebook_bytes(data)


def validate_notebook_bytes(raw: bytes) -> str | None:
    """Why ``raw`` is not a usable notebook file's content, or ``None`` when it is one."""
    import nbformat

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        return "JSON but not a notebook (no cells)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. nbformat's MissingIDFieldWarning: not our verdict
            nbformat.validate(nbformat.from_dict(data))
    except nbformat.ValidationError as exc:
        message = " ".join(str(exc.message).split())
        return f"does not follow the notebook format ({message[:200]})"
    except Exception as exc:  # e.g. an unknown nbformat version
        return f"does not follow the notebook format ({type(exc).__name__}: {exc})"
    return None


def find_assignment(gb, assignment: str):
    """The gradebook's assignment ``assignment``, or a UsageError listing the known ones."""
    known = sorted(a.name for a in gb.assignments)
    if assignment not in known:
        raise UsageError(f"unknown assignment {assignment!r}; known assignments: {', '.join(known) or '(none)'}")
    return gb.find_assignment(assignment)


