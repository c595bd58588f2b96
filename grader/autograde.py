"""``grader autograde``: grade every submission of an assignment and record the grades.

The steps, each a function below: check that grading is safe here
(:func:`check_sandbox`), find the notebooks and the students to grade,
choose how many workers, stage each submission as plain data (:func:`stage`;
malformed notebooks are left out and score 0), grade them in workers
(:mod:`grader.grading`), merge every outcome into the workspace's gradebook
(the only writer), and print one table of scores.
"""
from __future__ import annotations

import fnmatch
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._nbgrader import explain_log
from .console import Echo, format_table
from .console import number as _num
from .console import stderr as _stderr
from .errors import UsageError
from .grading import SubmissionJob, available_cores, build_bundle, merge_outcome, run_jobs
from .progress import Progress
from .workspace import Workspace, find_assignment, open_workspace, validate_notebook


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
    run_all_cells: bool = False,
) -> int:
    """Autograde every submission of ``assignment`` (or only ``students``'s).

    Each submission is graded by nbgrader's ``Autograde`` in a private course
    directory (see :mod:`grader.grading`): in this process (``jobs`` 1, the
    default without ``scheduler``), in ``jobs`` local worker processes, or on
    a Dask cluster (``scheduler``: an address, or ``"local"`` for an embedded
    one with ``jobs`` workers, default one per core). Results are merged into
    the workspace's gradebook and ``autograded/`` here, one student at a
    time. Hidden tests run in the grader against the students' kernels
    (``grader.secure.preprocessors``); ``sandbox=False`` runs those kernels without
    bubblewrap (trusted work only); ``run_all_cells`` runs the cells the source
    marks as not needed for grading too (:mod:`grader.skipping`). Returns 0 when every submission was
    graded, 1 if any could not be.
    """
    ws = open_workspace(workspace)
    check_sandbox(ws, sandbox, warn)  # --- secure grading (grader.secure.sandbox)
    notebooks = assignment_notebooks(ws, assignment)
    late_policy = apply_due_dates(ws)
    students = select_students(ws, assignment, students)
    jobs = choose_workers(jobs, scheduler, len(students))
    echo(f"autograding {assignment}: {len(students)} submission(s){_where(jobs, scheduler)}")
    _announce_due_date(late_policy, assignment, echo)
    _advise_on_workers(jobs, scheduler, len(students), warn)

    bundle = build_bundle(ws.path, ws.config, ws.db_url, ws.course_id, assignment, sandbox=sandbox,
                          skip_marked_cells=not run_all_cells)
    start = time.perf_counter()
    results = grade_and_record(ws, assignment, notebooks, students, bundle, jobs=jobs, scheduler=scheduler,
                               verbose=verbose, warn=warn, progress_stream=progress_stream)
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


def assignment_notebooks(ws: Workspace, assignment: str) -> list[str]:
    """The names of the assignment's notebooks, from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(ws.db_url, ws.course_id) as gb:
        notebooks = sorted(nb.name for nb in find_assignment(gb, assignment).notebooks)
    if not notebooks:
        raise UsageError(
            f"assignment {assignment!r} has no notebooks in the gradebook; put them in source/{assignment}/ "
            f"and run `nbgrader generate_assignment {assignment} --force` in {ws.path}"
        )
    return notebooks


def apply_due_dates(ws: Workspace):
    """The workspace's late-penalty policy (:mod:`grader.lateness`), its due dates written into the gradebook:
    nbgrader charges late work from the gradebook's due date."""
    from nbgrader.api import Gradebook

    from .lateness import policy, sync_due_dates

    late_policy = policy(ws.config)
    with Gradebook(ws.db_url, ws.course_id) as gb:
        sync_due_dates(gb, late_policy)
    return late_policy


def _announce_due_date(late_policy, assignment: str, echo: Echo) -> None:
    from .lateness import describe, due_date

    if due_date(late_policy, assignment) is not None:
        echo(f"  {describe(late_policy, assignment)}")


def select_students(ws: Workspace, assignment: str, wanted: list[str] | None) -> list[str]:
    """Students with a submission of ``assignment`` (only ``wanted`` ones, each of whom must have one)."""
    found = sorted(
        d.name
        for d in (ws.submitted.iterdir() if ws.submitted.is_dir() else [])
        if d.is_dir() and not d.name.startswith(".") and (d / assignment).is_dir()
    )
    if not found:
        raise UsageError(f"no submissions of {assignment}: expected {ws.submitted}/<student>/{assignment}/*.ipynb")
    if wanted:
        unknown = [s for s in wanted if s not in found]
        if unknown:
            raise UsageError(
                f"no submission of {assignment} by {', '.join(unknown)}; submissions from: {', '.join(found)}"
            )
        found = [s for s in found if s in wanted]
    return found


def choose_workers(jobs: int | None, scheduler: str | None, submissions: int) -> int:
    """How many submissions are graded at once (``--jobs``; defaults: 1, or one per core on a local cluster)."""
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    if jobs is None:
        jobs = available_cores() if scheduler == "local" else 1
    if scheduler is None:
        jobs = min(jobs, submissions)  # no idle worker processes
    return jobs


def _where(jobs: int, scheduler: str | None) -> str:
    if scheduler is None:
        return f", {jobs} at a time" if jobs > 1 else ""
    if scheduler == "local":
        return f", on a local Dask cluster of {jobs} worker(s)"
    return f", on the Dask cluster at {scheduler}"


def _advise_on_workers(jobs: int, scheduler: str | None, submissions: int, warn: Echo) -> None:
    cores = available_cores()
    if scheduler is None and jobs > cores:
        warn(
            f"warning: --jobs {jobs} is more than this machine's {cores} cores; cells then run slower "
            "and may hit the cell timeout"
        )
    elif scheduler is None and jobs == 1 and cores > 1 and submissions >= 10:
        warn(f"tip: --jobs {cores} grades {cores} submissions at once on this machine")


def grade_and_record(ws: Workspace, assignment: str, notebooks: list[str], students: list[str], bundle, *,
                     jobs: int, scheduler: str | None, verbose: bool, warn: Echo,
                     progress_stream=None) -> dict[str, StudentResult]:
    """Stage, grade (in workers) and merge every submission into the gradebook, one student at a time."""
    from nbgrader.api import Gradebook

    progress = Progress(len(students), f"grading {assignment}", stream=progress_stream)
    note = progress.write if progress.live else warn
    ignore = ws.ignored()
    results: dict[str, StudentResult] = {}
    try:
        with Gradebook(ws.db_url, ws.course_id) as gb:

            def submissions():
                # Read lazily: only the submissions being graded are in memory.
                for student in students:
                    result = results[student] = StudentResult(student, graded=False)
                    job = stage(ws, assignment, student, notebooks, result, ignore, note)
                    if job is not None:
                        yield job
                        continue
                    _record_zero(ws, gb, assignment, student)
                    _read_scores(gb, assignment, result)
                    progress.advance()

            for outcome in run_jobs(bundle, submissions(), workers=jobs, scheduler=scheduler):
                result = results[outcome.student]
                _record(ws, gb, assignment, outcome, result, verbose=verbose, note=note)
                progress.advance(failed=not result.graded)
    finally:
        progress.close()
    return results


def _record(ws: Workspace, gb, assignment: str, outcome, result: StudentResult, *, verbose: bool, note: Echo) -> None:
    """One worker's outcome into the gradebook and ``autograded/`` (or its errors into ``result``)."""
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


def check_sandbox(ws: Workspace, sandbox: bool, warn: Echo) -> None:
    """Refuse to grade untrusted work without a working sandbox, unless told to (``--no-sandbox``)."""
    from .secure.sandbox import Sandbox, unavailable

    if not sandbox:
        warn("WARNING: --no-sandbox: students' code runs unconfined, as you, with access to this "
             "workspace (gradebook, source/, other submissions) and the network. Hidden tests still "
             "run outside the kernels, but use this only for work you trust.")
        return
    reason = unavailable(Sandbox(config=ws.config).bwrap)
    if reason:
        raise UsageError(f"cannot grade untrusted submissions safely: {reason}. To grade trusted work "
                         "without isolation, pass --no-sandbox.")


def stage(
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
    result.notebooks = {nb.name: (float(nb.score or 0), float(nb.max_score or 0)) for nb in sub.notebooks}
    result.late_penalty, result.seconds_late = float(sub.late_submission_penalty or 0), float(sub.total_seconds_late or 0)
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
        if r.seconds_late > 0:
            late = f"late {r.seconds_late / 86400:.1f} d" + (
                f", -{_num(r.late_penalty)} -> {_num(r.score - r.late_penalty)}" if r.late_penalty else "")
            notes_text = "; ".join(filter(None, [late, notes_text]))
        rows.append([r.student, f"{_num(r.score)} / {_num(r.max_score)}", *cells, _seconds(r.seconds), notes_text])
    return format_table(header, rows)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
