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

import fnmatch
import json
import logging
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config import Config

from . import config as grader_config
from ._nbgrader import explain_log, prepare_environment, run_converter
from .errors import PipelineError, UsageError
from .grading import SubmissionJob, available_cores, build_bundle, merge_outcome, run_jobs
from .progress import Progress

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


@dataclass
class StudentResult:
    student: str
    graded: bool
    score: float = 0.0
    max_score: float = 0.0
    invalid: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notebooks: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (score, max_score)
    seconds: float | None = None
    late_penalty: float = 0.0  # points deducted for lateness: the grade is score - late_penalty
    seconds_late: float = 0.0


def autograde(
    workspace: Path | None,
    assignment: str,
    *,
    students: list[str] | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    verbose: bool = False,
    echo: Echo = print,
    warn: Echo = _stderr,
    progress_stream=None,
    sandbox: bool = True,
) -> int:
    """Autograde every submission of ``assignment`` (or only ``students``'s).

    Each submission is graded by nbgrader's ``Autograde`` in a private course
    directory (see :mod:`grader.grading`): in this process (``jobs`` 1, the
    default without ``scheduler``), in ``jobs`` local worker processes, or on
    a Dask cluster (``scheduler``: an address, or ``"local"`` for an embedded
    one with ``jobs`` workers, default one per core). Results are merged into
    the workspace's gradebook and ``autograded/`` here, one student at a
    time. Hidden tests run in the grader against the students' kernels
    (``grader.preprocessors``); ``sandbox=False`` runs those kernels without
    bubblewrap (trusted work only). Returns 0 when every submission was
    graded, 1 if any could not be.
    """
    ws = open_workspace(workspace)  # usage errors first: nbgrader takes seconds to import
    _check_sandbox(ws, sandbox, warn)  # --- secure grading (grader.sandbox)
    from nbgrader.api import Gradebook

    from .lateness import describe, due_date, policy, sync_due_dates

    late_policy = policy(ws.config)
    with Gradebook(ws.db_url, ws.course_id) as gb:
        notebooks = sorted(nb.name for nb in find_assignment(gb, assignment).notebooks)
        sync_due_dates(gb, late_policy)  # nbgrader charges late work from the gradebook's due date
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
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    cores = available_cores()
    if jobs is None:
        jobs = cores if scheduler == "local" else 1
    if scheduler is None:
        jobs = min(jobs, len(students))  # no idle worker processes

    if scheduler is None:
        where = f", {jobs} at a time" if jobs > 1 else ""
    elif scheduler == "local":
        where = f", on a local Dask cluster of {jobs} worker(s)"
    else:
        where = f", on the Dask cluster at {scheduler}"
    echo(f"autograding {assignment}: {len(students)} submission(s){where}")
    if due_date(late_policy, assignment) is not None:
        echo(f"  {describe(late_policy, assignment)}")
    if scheduler is None and jobs > cores:
        warn(
            f"warning: --jobs {jobs} is more than this machine's {cores} cores; cells then run slower "
            "and may hit the cell timeout"
        )
    elif scheduler is None and jobs == 1 and cores > 1 and len(students) >= 10:
        warn(f"tip: --jobs {cores} grades {cores} submissions at once on this machine")

    bundle = build_bundle(ws.path, ws.config, ws.db_url, ws.course_id, assignment, sandbox=sandbox)
    progress = Progress(len(students), f"grading {assignment}", stream=progress_stream)
    note = progress.write if progress.live else warn
    ignore = list(_coursedir(ws.config).ignore)
    results: dict[str, StudentResult] = {}
    start = time.perf_counter()
    try:
        with Gradebook(ws.db_url, ws.course_id) as gb:

            def submissions():
                # Read lazily: only the submissions being graded are in memory.
                for student in students:
                    result = results[student] = StudentResult(student, graded=False)
                    job = _stage(ws, assignment, student, notebooks, result, ignore, note)
                    if job is not None:
                        yield job
                        continue
                    _record_zero(ws, gb, assignment, student)
                    _read_scores(gb, assignment, result)
                    progress.advance()

            for outcome in run_jobs(bundle, submissions(), workers=jobs, scheduler=scheduler):
                result = results[outcome.student]
                result.seconds = outcome.seconds
                if verbose:
                    note(f"---- nbgrader's log for {outcome.student} (graded on host {outcome.host} in "
                         f"{outcome.seconds:.1f} s) ----\n{explain_log(outcome.log.rstrip())}")
                for line in outcome.warnings:
                    note(f"student {outcome.student}: nbgrader: {line}")
                if outcome.ok:
                    try:
                        merge_outcome(gb, assignment, outcome, ws.directory("autograded", outcome.student, assignment))
                        _read_scores(gb, assignment, result)
                    except Exception as exc:  # e.g. a gradebook row nbgrader refuses: this student only
                        gb.db.rollback()
                        result.errors = [f"could not record the grades: {type(exc).__name__}: {exc}"]
                else:
                    result.errors = outcome.errors
                for line in result.errors:
                    note(f"student {outcome.student}: {line}")
                progress.advance(failed=not result.graded)
    finally:
        progress.close()

    ordered = [results[s] for s in students if s in results]
    from .report import record_grading_times  # `grader report` writes them to CSV

    record_grading_times(ws.path, assignment, {r.student: r.seconds for r in ordered if r.seconds is not None})
    for line in _summary_table(ordered, notebooks):
        echo(line)
    failed = [r.student for r in ordered if not r.graded]
    echo(f"graded {len(ordered) - len(failed)} of {len(students)} submission(s) in {time.perf_counter() - start:.1f} s")
    if failed:
        warn(f"error: nbgrader could not grade {', '.join(failed)} (rerun with -v for nbgrader's log)")
        return 1
    return 0


def find_assignment(gb, assignment: str):
    """The gradebook's assignment ``assignment``, or a UsageError listing the known ones."""
    known = sorted(a.name for a in gb.assignments)
    if assignment not in known:
        raise UsageError(f"unknown assignment {assignment!r}; known assignments: {', '.join(known) or '(none)'}")
    return gb.find_assignment(assignment)


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


def _stage(
    ws: Workspace, assignment: str, student: str, notebooks: list[str], result: StudentResult, ignore: list[str], note: Echo
) -> SubmissionJob | None:
    """The files of a submission to grade, read (never modified) from ``submitted/``.

    A malformed notebook is left out (it scores 0, the reason is reported)
    instead of failing the whole student; notebooks the assignment does not
    have are left out too (nbgrader would skip them). Symbolic links are not
    followed. ``None`` when no notebook is left to grade.
    """
    submission = ws.submitted / student / assignment
    files: dict[str, bytes] = {}
    valid: list[str] = []
    for root, dirs, names in os.walk(submission):
        dirs[:] = sorted(d for d in dirs if not _ignored(d, ignore))
        for name in sorted(names + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            path = Path(root) / name
            rel = path.relative_to(submission)
            if _ignored(name, ignore):
                continue
            if path.is_symlink():
                note(f"student {student}: {rel.as_posix()} is a symbolic link: left out")
                continue
            if not path.is_file():
                continue
            if path.suffix == ".ipynb" and len(rel.parts) == 1:
                if path.stem not in notebooks:
                    continue
                reason = validate_notebook(path)
                if reason:
                    note(f"student {student}: {path.name} is not a valid notebook: {reason}")
                    result.invalid.append(path.stem)
                    continue
                valid.append(path.stem)
            files[rel.as_posix()] = path.read_bytes()
    result.missing = [n for n in notebooks if n not in valid and n not in result.invalid]
    return SubmissionJob(student, files) if valid else None


def _ignored(name: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def _record_zero(ws: Workspace, gb, assignment: str, student: str) -> None:
    """No usable notebook at all: every grade 0, as nbgrader does for a missing notebook."""
    stale = ws.directory("autograded", student, assignment)
    if stale.is_dir():
        shutil.rmtree(stale)
    gb.update_or_create_student(student)
    sub = gb.update_or_create_submission(assignment, student)
    for notebook in sub.notebooks:
        for grade in notebook.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
    gb.db.commit()


def _read_scores(gb, assignment: str, result: StudentResult) -> None:
    """The student's scores as the gradebook now has them (manual grades included)."""
    sub = gb.find_submission(assignment, result.student)
    result.score, result.max_score = float(sub.score or 0), float(sub.max_score or 0)
    result.late_penalty, result.seconds_late = float(sub.late_submission_penalty or 0), float(sub.total_seconds_late or 0)
    result.notebooks = {nb.name: (float(nb.score or 0), float(nb.max_score or 0)) for nb in sub.notebooks}
    result.graded = True


def _summary_table(results: list[StudentResult], notebooks: list[str]) -> list[str]:
    """One row per student: total, each notebook, grading time, what was wrong."""
    header = ["student", "score", *notebooks, "time", "notes"]
    rows = []
    for r in results:
        if not r.graded:
            rows.append([r.student, "not graded", *["-"] * len(notebooks), _seconds(r.seconds), "; ".join(r.errors)])
            continue
        cells = []
        for name in notebooks:
            if name in r.invalid:
                cells.append("invalid")
            elif name in r.missing:
                cells.append("missing")
            else:
                score, max_score = r.notebooks.get(name, (0.0, 0.0))
                cells.append(f"{_num(score)} / {_num(max_score)}")
        notes = [f"{n}.ipynb not a valid notebook" for n in r.invalid] + [f"{n}.ipynb missing" for n in r.missing]
        notes_text = f"{'; '.join(notes)}: scored 0" if notes else ""
        score = f"{_num(r.score)} / {_num(r.max_score)}"
        if r.seconds_late > 0:
            late = f"late {r.seconds_late / 86400:.1f} d" + (f", -{_num(r.late_penalty)} -> {_num(r.score - r.late_penalty)}" if r.late_penalty else "")
            notes_text = "; ".join(filter(None, [late, notes_text]))
        rows.append([r.student, score, *cells, _seconds(r.seconds), notes_text])
    return format_table(header, rows)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def format_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Plain-text columns separated by two spaces (the last column is not padded)."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [str(v).ljust(w) for v, w in zip(row[:-1], widths[:-1], strict=True)] + [str(row[-1])]
        lines.append("  ".join(cells).rstrip())
    return lines


# ------------------------------------------------------------- helpers


def _num(value: float | int | None) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5 (rounded to 6 decimals), ``0`` for None."""
    v = round(float(value or 0), 6)
    return str(int(v)) if v.is_integer() else repr(v)
