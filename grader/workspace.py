"""Grading workspaces: ``grader init``, ``grader autograde``, ``grader export``.

A workspace is an ordinary nbgrader course directory, kept outside the
repository so students' submissions and grades never land in git::

    WORKSPACE/
      nbgrader_config.py       self-contained; plain `nbgrader ...` works here too
      gradebook.db             assignments, notebooks, grade cells, then grades
      source/<assignment>/     the instructor notebooks (copied from solutions/)
      release/<assignment>/    the student versions nbgrader generated
      submitted/<student>/<assignment>/*.ipynb   what students handed in
      autograded/...           written by autograde
"""

from __future__ import annotations

import copy
import csv
import json
import logging
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config import Config

from . import config as grader_config
from ._nbgrader import prepare_environment, run_converter
from .errors import PipelineError, UsageError

Echo = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


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
    from nbgrader.api import Gradebook
    from nbgrader.converters import GenerateAssignment

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
    echo("next steps:")
    echo(f"  1. put each student's notebooks in {resolved}/submitted/<student>/<assignment>/")
    echo(f"  2. python -m grader autograde {with_notebooks[0]} --workspace {resolved}")
    echo(f"  3. python -m grader export --workspace {resolved}")
    echo(f"  (or run nbgrader itself from {resolved}, e.g. `nbgrader formgrader`)")
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
    import nbformat

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
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


@dataclass
class StudentResult:
    student: str
    graded: bool
    score: float = 0.0
    max_score: float = 0.0
    invalid: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def autograde(
    workspace: Path | None,
    assignment: str,
    *,
    students: list[str] | None = None,
    verbose: bool = False,
    echo: Echo = print,
    warn: Echo = _stderr,
    sandbox: bool = True,
) -> int:
    """Autograde every submission of ``assignment`` (or only ``students``'s).

    Hidden tests run in this process against the students' kernels
    (``grader.preprocessors``); ``sandbox=False`` runs those kernels without
    bubblewrap (trusted work only). Returns 0 when every submission was
    graded, 1 if nbgrader failed on any.
    """
    from nbgrader.api import Gradebook

    ws = open_workspace(workspace)
    _check_sandbox(ws, sandbox, warn)  # --- secure grading (grader.sandbox)
    with Gradebook(ws.db_url, ws.course_id) as gb:
        known = sorted(a.name for a in gb.assignments)
        if assignment not in known:
            raise UsageError(f"unknown assignment {assignment!r}; known assignments: {', '.join(known) or '(none)'}")
        notebooks = sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
    if not notebooks:
        raise UsageError(
            f"assignment {assignment!r} has no notebooks in the gradebook; put them in source/{assignment}/ "
            f"and run `nbgrader generate_assignment {assignment} --force` in {ws.path}"
        )
    found = sorted(
        d.name
        for d in (ws.submitted.iterdir() if ws.submitted.is_dir() else [])
        if d.is_dir() and not d.name.startswith(".") and (d / assignment).is_dir()
    )
    if not found:
        raise UsageError(f"no submissions of {assignment}: expected {ws.submitted}/<student>/{assignment}/*.ipynb")
    if students:
        unknown = [s for s in students if s not in found]
        if unknown:
            raise UsageError(
                f"no submission of {assignment} by {', '.join(unknown)}; submissions from: {', '.join(found)}"
            )
        found = [s for s in found if s in students]
    students = found

    echo(f"autograding {assignment}: {len(students)} submission(s)")
    width = max(len(s) for s in students)
    results = []
    for student in students:  # one at a time: a bad submission only costs its own grade
        r = _grade_student(ws, assignment, student, notebooks, verbose=verbose, warn=warn, sandbox=sandbox)
        results.append(r)
        if not r.graded:
            echo(f"  {r.student:<{width}}  not graded: {'; '.join(r.errors)}")
            continue
        notes = [f"{n}.ipynb not a valid notebook" for n in r.invalid] + [f"{n}.ipynb missing" for n in r.missing]
        suffix = f"  ({'; '.join(notes)}: scored 0)" if notes else ""
        echo(f"  {r.student:<{width}}  {_num(r.score)} / {_num(r.max_score)}{suffix}")
    failed = [r.student for r in results if not r.graded]
    if failed:
        warn(f"error: nbgrader could not grade {', '.join(failed)} (rerun with -v for nbgrader's log)")
        return 1
    return 0


def _check_sandbox(ws: Workspace, sandbox: bool, warn: Echo) -> None:
    """Refuse to grade untrusted work without a working sandbox, unless told to (``--no-sandbox``)."""
    from .sandbox import Sandbox, unavailable

    if not sandbox:
        warn("WARNING: --no-sandbox: students' code runs unconfined, as you, with access to this "
             "workspace (gradebook, source/, other submissions) and the network. Hidden tests still "
             "run outside the kernels, but use this only for work you trust.")
        return
    reason = unavailable(Sandbox(config=ws.config).bwrap)
    if reason:
        raise UsageError(f"cannot grade untrusted submissions safely: {reason}. To grade trusted work "
                         "without isolation, pass --no-sandbox.")


def _grade_student(ws: Workspace, assignment: str, student: str, notebooks: list[str], *, verbose: bool, warn: Echo,
                   sandbox: bool = True) -> StudentResult:
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde

    from .preprocessors import secure_config

    result = StudentResult(student, graded=False)
    submission = ws.submitted / student / assignment
    with tempfile.TemporaryDirectory(prefix="grader-stage-") as tmp:
        # nbgrader reads a copy: submitted/ is never touched, and a malformed
        # notebook is left out (scored 0) instead of failing the whole student.
        staged_root = Path(tmp) / "submitted"
        staged = staged_root / student / assignment
        staged.mkdir(parents=True)
        valid = []
        for path in sorted(submission.rglob("*")):
            parts = path.relative_to(submission).parts
            if any((submission / Path(*parts[:i])).is_symlink() for i in range(1, len(parts) + 1)):
                # never follow a link out of the submission (it could point at the gradebook)
                if path.is_symlink():
                    warn(f"student {student}: {path.relative_to(submission)} is a symbolic link; left out")
                continue
            if not path.is_file() or any(part.startswith(".ipynb_checkpoints") for part in path.parts):
                continue
            rel = path.relative_to(submission)
            if path.suffix == ".ipynb" and len(rel.parts) == 1:
                if path.stem not in notebooks:
                    continue  # nbgrader would skip it anyway
                reason = validate_notebook(path)
                if reason:
                    warn(f"student {student}: {path.name} is not a valid notebook: {reason}")
                    result.invalid.append(path.stem)
                    continue
                valid.append(path.stem)
            (staged / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, staged / rel)
        result.missing = [n for n in notebooks if n not in valid and n not in result.invalid]

        if valid:
            cfg = copy.deepcopy(ws.config)
            cfg.CourseDirectory.submitted_directory = str(staged_root)
            secure_config(cfg, sandbox=sandbox)  # --- secure grading (grader.preprocessors)
            run = run_converter(
                Autograde,
                cfg,
                assignment_id=assignment,
                student_id=student,
                verbose=verbose,
                force=True,
                create_student=True,
            )
            if not run.success:
                result.errors = run.errors
                for line in run.errors:
                    warn(f"student {student}: {line}")
                return result
        else:
            _record_zero(ws, assignment, student)

    with Gradebook(ws.db_url, ws.course_id) as gb:
        sub = gb.find_submission(assignment, student)
        result.score, result.max_score = float(sub.score or 0), float(sub.max_score or 0)
    result.graded = True
    return result


def _record_zero(ws: Workspace, assignment: str, student: str) -> None:
    """No usable notebook at all: every grade 0, as nbgrader does for a missing notebook."""
    from nbgrader.api import Gradebook

    stale = ws.path / "autograded" / student / assignment
    if stale.is_dir():
        shutil.rmtree(stale)
    with Gradebook(ws.db_url, ws.course_id) as gb:
        gb.update_or_create_student(student)
        sub = gb.update_or_create_submission(assignment, student)
        for notebook in sub.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gb.db.commit()


# ---------------------------------------------------------------- export

GRADES_COLUMNS = ["student", "assignment", "score", "max_score"]
EXERCISE_COLUMNS = ["student", "assignment", "notebook", "grade_id", "score", "max_score"]


def export(workspace: Path | None, *, output: Path | None = None, echo: Echo = print) -> int:
    """Write ``grades.csv`` and ``exercise_scores.csv`` from the gradebook.

    One row per student and assignment that anyone has submitted (a student
    without a submission scores 0), sorted by student, assignment, notebook,
    grade_id.
    """
    from nbgrader.api import Gradebook, MissingEntry

    ws = open_workspace(workspace)
    out = Path(output).expanduser().resolve() if output is not None else ws.path
    grades: list[list[object]] = []
    exercises: list[list[object]] = []
    with Gradebook(ws.db_url, ws.course_id) as gb:
        assignments = sorted((a for a in gb.assignments if a.num_submissions > 0), key=lambda a: a.name)
        students = sorted(s.id for s in gb.students)
        if not assignments or not students:
            raise UsageError(f"nothing to export: no graded submissions in {ws.path}; run `python -m grader autograde` first")
        for student in students:
            for assignment in assignments:
                try:
                    sub = gb.find_submission(assignment.name, student)
                except MissingEntry:
                    grades.append([student, assignment.name, 0.0, assignment.max_score])
                    for nb in assignment.notebooks:
                        for cell in nb.grade_cells:
                            exercises.append([student, assignment.name, nb.name, cell.name, 0.0, cell.max_score])
                    continue
                grades.append([student, assignment.name, sub.score, sub.max_score])
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        exercises.append([student, assignment.name, nb.name, grade.name, grade.score, grade.max_score])
    exercises.sort(key=lambda row: tuple(str(v) for v in row[:4]))
    out.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
        ("grades.csv", GRADES_COLUMNS, grades),
        ("exercise_scores.csv", EXERCISE_COLUMNS, exercises),
    ):
        path = out / name
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([_num(v) if isinstance(v, float | int) else v for v in row])
        echo(f"wrote {path} ({len(rows)} row(s))")
    return 0


def _num(value: float | int | None) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5 (rounded to 6 decimals), ``0`` for None."""
    v = round(float(value or 0), 6)
    return str(int(v)) if v.is_integer() else repr(v)
