"""Grading submissions in isolated workers: this process, local processes, or a Dask cluster.

nbgrader's gradebook is one SQLite file, and SQLite takes one writer at a
time. So no worker ever touches the workspace. A worker grades one
submission in a private, throw-away course directory built from plain data:

* an :class:`AssignmentBundle`, the same for every submission of a batch:
  the workspace's ``nbgrader_config.py`` (as text), the files of
  ``source/<assignment>/`` and a *template gradebook* (the assignment, its
  notebooks and cells, no student at all: built once per batch by
  :func:`build_bundle`, so other students' grades never leave the machine);
* a :class:`SubmissionJob`: one student's staged files (valid notebooks and
  the other files they handed in).

The worker runs nbgrader's own ``Autograde`` converter there, with the
configuration of :func:`autograde_config`, and returns a
:class:`GradingOutcome`: per notebook and per cell the scores and comments
nbgrader wrote into the private gradebook, the autograded files as bytes,
warnings and errors. The main process merges outcomes into the workspace
(:func:`merge_outcome`), one student at a time: it is the only writer.

Because everything travels as data, the same worker function runs in this
process (``--jobs 1``), in a pool of local processes (``--jobs N``) and on
the workers of a Dask cluster (``--scheduler ADDRESS``), which need not
share a filesystem with the instructor's machine; they need this package
and the course's Python packages. A process grades one submission at a time
(nbgrader sets process-wide environment variables while it grades), so give
a Dask machine one single-threaded worker per core:
``dask worker ADDRESS --nworkers N --nthreads 1``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from traitlets.config import Config

from . import config as grader_config
from ._nbgrader import prepare_environment, quiet_warnings, run_converter
from .errors import PipelineError, UsageError

# How many jobs wait in a worker's queue beyond the one it runs: enough that a
# worker never idles while the main process merges, few enough that at most
# a handful of submissions are held in memory at once.
QUEUE_PER_WORKER = 2

# Numerical libraries start one thread per core in every kernel; with several
# kernels at once they fight over the cores. One thread per kernel: the
# parallelism comes from grading several submissions at once. (Explicit
# settings in the environment win.)
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


# ------------------------------------------------------------------ data


@dataclass(frozen=True)
class AssignmentBundle:
    """What every worker needs for one assignment, as plain data."""

    assignment: str
    course_id: str
    workspace: str  # the workspace's path on the instructor's machine (for messages only)
    config_text: str  # the workspace's nbgrader_config.py
    source: dict[str, bytes]  # source/<assignment>/ files, POSIX relative paths
    gradebook: bytes  # SQLite template: the assignment, its notebooks and cells, no students
    sandbox: bool = True  # False only with --no-sandbox (trusted work): kernels run unconfined
    skip_marked_cells: bool = True  # False only with --run-all-cells (grader.skipping)


@dataclass(frozen=True)
class SubmissionJob:
    """One student's staged submission: only files that should be graded."""

    student: str
    files: dict[str, bytes]  # POSIX paths relative to submitted/<student>/<assignment>/


@dataclass
class CellGrade:
    name: str
    auto_score: float | None
    max_score: float
    needs_manual_grade: bool


@dataclass
class CellComment:
    name: str
    auto_comment: str | None


@dataclass
class NotebookOutcome:
    name: str
    graded: bool  # False: not handed in (or left out as invalid), nbgrader scored it 0
    grades: list[CellGrade] = field(default_factory=list)
    comments: list[CellComment] = field(default_factory=list)
    late_submission_penalty: float | None = None

    @property
    def score(self) -> float:
        return sum(g.auto_score or 0.0 for g in self.grades)

    @property
    def max_score(self) -> float:
        return sum(g.max_score for g in self.grades)


@dataclass
class GradingOutcome:
    """What a worker sends back for one submission (plain data, picklable)."""

    student: str
    ok: bool
    notebooks: list[NotebookOutcome] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)  # autograded/<student>/<assignment>/
    timestamp: datetime | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    log: str = ""
    seconds: float = 0.0
    host: str = ""

    @property
    def score(self) -> float:
        return sum(nb.score for nb in self.notebooks)

    @property
    def max_score(self) -> float:
        return sum(nb.max_score for nb in self.notebooks)


# ------------------------------------------------------- the main side


def build_bundle(workspace: Path, config: Config, db_url: str, course_id: str, assignment: str,
                 *, sandbox: bool = True, skip_marked_cells: bool = True) -> AssignmentBundle:
    """The :class:`AssignmentBundle` of ``assignment`` in a workspace (read only)."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config, log=logging.getLogger("grader.quiet"))
    source_dir = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
    ignore = shutil.ignore_patterns(*coursedir.ignore)
    source = read_tree(source_dir, ignore)
    config_text = (workspace / "nbgrader_config.py").read_text(encoding="utf-8")
    gradebook = template_gradebook(db_url, course_id, assignment)
    return AssignmentBundle(assignment, course_id, str(workspace), config_text, source, gradebook, sandbox,
                            skip_marked_cells)


def template_gradebook(db_url: str, course_id: str, assignment: str) -> bytes:
    """A fresh SQLite gradebook holding only ``assignment``'s definition, as bytes.

    Copied from the workspace's gradebook through nbgrader's API: the
    assignment (with its due date), its notebooks (with kernelspecs) and
    their grade, solution, task and source cells, exactly as ``nbgrader
    generate_assignment`` recorded them. No student, no submission.
    """
    from nbgrader.api import Gradebook

    prepare_environment()
    with tempfile.TemporaryDirectory(prefix="grader-template-") as tmp:
        target = Path(tmp) / "gradebook.db"
        with Gradebook(db_url, course_id) as src, Gradebook(f"sqlite:///{target}", course_id) as dst:
            a = src.find_assignment(assignment)
            dst.update_or_create_assignment(a.name, duedate=a.duedate)
            for nb in a.notebooks:
                dst.update_or_create_notebook(nb.name, a.name, kernelspec=nb.kernelspec)
                for c in nb.grade_cells:
                    dst.update_or_create_grade_cell(c.name, nb.name, a.name, max_score=c.max_score, cell_type=c.cell_type)
                for c in nb.solution_cells:
                    dst.update_or_create_solution_cell(c.name, nb.name, a.name)
                for c in nb.task_cells:
                    dst.update_or_create_task_cell(c.name, nb.name, a.name, max_score=c.max_score, cell_type=c.cell_type)
                for c in nb.source_cells:
                    dst.update_or_create_source_cell(
                        c.name, nb.name, a.name, cell_type=c.cell_type, locked=c.locked, source=c.source, checksum=c.checksum
                    )
        return target.read_bytes()


def merge_outcome(gb, assignment: str, outcome: GradingOutcome, autograded: Path) -> None:
    """Write one successful outcome into the workspace: ``autograded`` (the
    student's ``autograded/<student>/<assignment>/``) and the gradebook ``gb``.

    Grades follow nbgrader's own rules (``SaveAutoGrades``): the automatic
    score is replaced, a manual score an instructor gave is kept, and a cell
    needs manual grading when it has a manual score or no automatic one. A
    notebook that was not graded scores 0 and needs no manual grading
    (``Autograde`` does the same for a missing notebook). One transaction.
    """
    assert outcome.ok, "only successful outcomes are merged"
    replace_tree(autograded, outcome.files)

    student = outcome.student
    gb.update_or_create_student(student)
    if outcome.timestamp is not None:
        gb.update_or_create_submission(assignment, student, timestamp=outcome.timestamp)
    else:
        gb.update_or_create_submission(assignment, student)
    for nb in outcome.notebooks:
        submitted = gb.find_submission_notebook(nb.name, assignment, student)
        submitted.late_submission_penalty = nb.late_submission_penalty
        for g in nb.grades:
            grade = gb.find_grade(g.name, nb.name, assignment, student)
            grade.auto_score = g.auto_score
            if nb.graded:
                grade.needs_manual_grade = grade.manual_score is not None or g.auto_score is None
            else:
                grade.needs_manual_grade = False
        for c in nb.comments:
            gb.find_comment(c.name, nb.name, assignment, student).auto_comment = c.auto_comment
    gb.db.commit()


def replace_tree(directory: Path, files: dict[str, bytes]) -> None:
    """Make ``directory`` hold exactly ``files``: written beside it, then swapped in."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    incoming = directory.parent / f".{directory.name}.incoming-{tag}"
    old = directory.parent / f".{directory.name}.old-{tag}"
    try:
        _write_tree(incoming, files)
        had_old = directory.exists()
        if had_old:
            directory.rename(old)
        try:
            incoming.rename(directory)
        except BaseException:
            if had_old:
                old.rename(directory)  # put the earlier tree back
            raise
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------ the worker side


def autograde_config(course: Path, *, sandbox: bool = True, skip_marked_cells: bool = True) -> Config:
    """The nbgrader configuration ``Autograde`` runs with in a private course directory.

    The workspace's settings (:func:`grader.config.workspace_config` on the
    copy of its ``nbgrader_config.py`` in ``course``), with every path pinned
    inside ``course``, so that nothing the workspace configured (say an
    absolute ``db_url``) can lead a worker to the real gradebook, then the
    secure pipeline (:func:`grader.secure.preprocessors.secure_config`: hidden tests
    in the grader, the kernel in a bubblewrap sandbox unless ``sandbox`` is
    False). This is the one place that decides how submissions are executed.
    """
    from .secure.preprocessors import secure_config

    cfg = grader_config.workspace_config(course)
    cfg.CourseDirectory.root = str(course)
    cfg.CourseDirectory.source_directory = "source"
    cfg.CourseDirectory.submitted_directory = "submitted"
    cfg.CourseDirectory.autograded_directory = "autograded"
    cfg.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    return secure_config(cfg, sandbox=sandbox, skip_marked_cells=skip_marked_cells)


# nbgrader sets process-wide environment variables while it grades (and so
# does _environment): one submission at a time per process, even when a Dask
# worker runs several threads. Parallelism comes from processes.
_ONE_AT_A_TIME = threading.Lock()


def grade_submission(bundle: AssignmentBundle, job: SubmissionJob) -> GradingOutcome:
    """Grade one submission with nbgrader's ``Autograde`` in a private course directory.

    Never raises: whatever goes wrong comes back as ``ok=False`` with errors.
    nbgrader's log comes back in ``log`` (never printed here: the main
    process shows it, so the logs of parallel workers never interleave).
    """
    quiet_warnings()
    with _ONE_AT_A_TIME:
        start = time.perf_counter()
        try:
            outcome = _grade(bundle, job)
        except Exception as exc:  # a broken submission must not take the worker down
            outcome = GradingOutcome(job.student, ok=False, errors=[f"grading failed: {type(exc).__name__}: {exc}"])
        outcome.seconds = time.perf_counter() - start
    outcome.host = socket.gethostname()
    return outcome


def _grade(bundle: AssignmentBundle, job: SubmissionJob) -> GradingOutcome:
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde

    from .secure.preprocessors import kernels_ahead

    a, student = bundle.assignment, job.student
    with tempfile.TemporaryDirectory(prefix="grader-job-") as tmp:
        course = Path(tmp)
        (course / "nbgrader_config.py").write_text(bundle.config_text, encoding="utf-8")
        (course / "gradebook.db").write_bytes(bundle.gradebook)
        _write_tree(course / "source" / a, bundle.source)
        _write_tree(course / "submitted" / student / a, job.files)
        cfg = autograde_config(course, sandbox=bundle.sandbox, skip_marked_cells=bundle.skip_marked_cells)
        handed_in = {PurePosixPath(p).stem for p in job.files if "/" not in p and p.endswith(".ipynb")}
        with _environment(SINGLE_THREAD_ENV), kernels_ahead(len(handed_in)):
            run = run_converter(
                Autograde,
                cfg,
                assignment_id=a,
                student_id=student,
                echo_warnings=False,
                force=True,
                create_student=True,
            )
        outcome = GradingOutcome(student, ok=run.success, errors=run.errors, warnings=run.warnings, log=run.log)
        if not run.success:
            return outcome
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", bundle.course_id) as gb:
            sub = gb.find_submission(a, student)
            outcome.timestamp = sub.timestamp
            for nb in sorted(sub.notebooks, key=lambda n: n.name):
                outcome.notebooks.append(
                    NotebookOutcome(
                        nb.name,
                        graded=nb.name in handed_in,
                        grades=sorted(
                            (CellGrade(g.name, g.auto_score, float(g.max_score), bool(g.needs_manual_grade)) for g in nb.grades),
                            key=lambda g: g.name,
                        ),
                        comments=sorted((CellComment(c.name, c.auto_comment) for c in nb.comments), key=lambda c: c.name),
                        late_submission_penalty=nb.late_submission_penalty,
                    )
                )
        outcome.files = _as_if_graded_in(bundle.workspace, course, read_tree(course / "autograded" / student / a))
        return outcome


def _as_if_graded_in(workspace: str, course: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    """Notebooks whose outputs (tracebacks, printed paths) name the workspace, not the private
    course directory that is deleted right after: as if nbgrader had graded in the workspace."""
    public = json.dumps(workspace)[1:-1]  # as the path is written inside a JSON string
    privates = sorted({json.dumps(str(course))[1:-1], json.dumps(str(course.resolve()))[1:-1]}, key=len, reverse=True)
    result = {}
    for name, data in files.items():
        if name.endswith(".ipynb"):
            text = data.decode("utf-8")
            for private in privates:
                text = text.replace(private, public)
            data = text.encode("utf-8")
        result[name] = data
    return result


# ------------------------------------------------------------ running


def available_cores() -> int:
    """CPU cores this process may use (respects taskset/cgroup affinity where the OS tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def run_jobs(
    bundle: AssignmentBundle,
    jobs: Iterable[SubmissionJob],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    grade: Callable[[AssignmentBundle, SubmissionJob], GradingOutcome] = grade_submission,
) -> Iterator[GradingOutcome]:
    """Grade ``jobs``, yielding outcomes as they complete (not in order).

    ``scheduler`` None: ``workers`` 1 grades in this process, more in a pool of
    that many local processes (each imports nbgrader once and grades many
    submissions). ``scheduler`` ``"local"``: an embedded Dask ``LocalCluster``
    of ``workers`` processes; any other value is a Dask scheduler address.
    ``jobs`` is consumed lazily: only a few submissions are in memory at once.
    ``grade`` is the worker function (a module-level callable; tests swap it).
    """
    if scheduler is not None:
        yield from _run_dask(bundle, jobs, scheduler, workers, grade)
    elif workers <= 1:
        for job in jobs:
            yield grade(bundle, job)
    else:
        yield from _run_pool(bundle, jobs, workers, grade)


# A worker process keeps the bundle it was started with (sent once, not per job).
_WORKER_STATE: dict[str, object] = {}


def _init_worker(bundle_file: str, grade: Callable) -> None:
    import pickle

    import nbgrader.converters  # noqa: F401 - pay the import once per worker, not per job

    prepare_environment()
    with open(bundle_file, "rb") as fh:
        bundle = pickle.load(fh)
    _WORKER_STATE.update(bundle=bundle, grade=grade)


def _ready() -> bool:
    return True


def _pool_grade(job: SubmissionJob) -> GradingOutcome:
    grade = _WORKER_STATE["grade"]
    return grade(_WORKER_STATE["bundle"], job)  # type: ignore[operator]


def _run_pool(bundle, jobs, workers, grade) -> Iterator[GradingOutcome]:
    import multiprocessing
    import pickle
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # spawn: a clean interpreter per worker (no inherited database
    # connections or threads), the same on every OS.
    context = multiprocessing.get_context("spawn")
    # The bundle reaches the workers through a file, not the start-up pipe:
    # Python blocks for good writing a large start-up message to a worker
    # that died before reading it.
    tmp = tempfile.TemporaryDirectory(prefix="grader-bundle-")
    bundle_file = os.path.join(tmp.name, "bundle.pickle")
    with open(bundle_file, "wb") as fh:
        pickle.dump(bundle, fh, protocol=pickle.HIGHEST_PROTOCOL)

    def new_pool() -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(bundle_file, grade))
        try:
            pool.submit(_ready).result()
        except BrokenProcessPool:
            pool.shutdown(wait=True)
            raise PipelineError(
                "grading worker processes could not start (their error is printed above); "
                "grade with --jobs 1, or run python as `python -m grader` or a script file"
            ) from None
        return pool

    pool = new_pool()
    queue = iter(jobs)
    in_flight: dict = {}  # future -> job
    # Jobs that were in the pool when a worker process died (killed, out of
    # memory): the pool fails them all. Each is graded again, alone, so the
    # one that kills its worker is found and the others get their grades.
    suspects: list[SubmissionJob] = []

    def failed(job: SubmissionJob, exc: BaseException) -> GradingOutcome:
        return GradingOutcome(job.student, ok=False, errors=[f"grading worker failed: {type(exc).__name__}: {exc}"])

    try:
        while True:
            if suspects:
                job = suspects.pop(0)
                future = pool.submit(_pool_grade, job)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    pool.shutdown(wait=True)
                    pool = new_pool()
                    message = "the grading worker process died while grading this submission, twice (killed? out of memory?)"
                    yield GradingOutcome(job.student, ok=False, errors=[message])
                except Exception as exc:
                    yield failed(job, exc)
                continue
            while len(in_flight) < workers * QUEUE_PER_WORKER:
                job = next(queue, None)
                if job is None:
                    break
                in_flight[pool.submit(_pool_grade, job)] = job
            if not in_flight:
                return
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                done, _ = wait(in_flight)  # a broken pool fails every job it holds
                pool.shutdown(wait=True)
                pool = new_pool()
            for future in done:
                job = in_flight.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    suspects.append(job)
                except Exception as exc:
                    yield failed(job, exc)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        tmp.cleanup()


def connect_dask(scheduler: str, workers: int):
    """A ``distributed.Client``: an embedded ``LocalCluster`` for ``"local"``, else the scheduler at that address."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--scheduler needs the packages dask and distributed (pip install 'distributed')") from None

    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="15s"), None
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    except ValueError as exc:  # e.g. an address with an unknown protocol
        raise UsageError(f"bad Dask scheduler address {scheduler!r}: {exc}") from None


def _run_dask(bundle, jobs, scheduler, workers, grade) -> Iterator[GradingOutcome]:
    from distributed import as_completed

    client, cluster = connect_dask(scheduler, workers)
    try:
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise UsageError(f"the Dask cluster at {scheduler} has no workers")
        # The bundle goes to every worker once; each task then carries only one submission.
        [shared] = client.scatter([bundle], broadcast=True, hash=False)
        queue = iter(jobs)
        futures = as_completed()
        owner: dict[str, str] = {}

        def submit_next() -> bool:
            job = next(queue, None)
            if job is None:
                return False
            key = f"grade-{bundle.assignment}-{job.student}-{uuid.uuid4().hex[:8]}"
            owner[key] = job.student
            # retries: a worker that dies mid-job (machine lost) hands it to another
            futures.add(client.submit(grade, shared, job, key=key, pure=False, retries=1))
            return True

        for _ in range(threads * QUEUE_PER_WORKER):
            if not submit_next():
                break
        for future in futures:
            student = owner.pop(future.key)
            try:
                yield future.result()
            except Exception as exc:  # e.g. the worker cannot import grader, or died twice
                yield GradingOutcome(student, ok=False, errors=[f"Dask worker failed: {type(exc).__name__}: {exc}"])
            finally:
                future.release()
            submit_next()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# ------------------------------------------------------------ helpers


def _safe_relative(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or not rel.parts or any(part in ("..", "") for part in rel.parts):
        raise ValueError(f"refusing unsafe path {name!r}")
    return rel


def _write_tree(directory: Path, files: dict[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = directory.joinpath(*_safe_relative(name).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def read_tree(directory: Path, ignore: Callable | None = None) -> dict[str, bytes]:
    """Regular files under ``directory`` (symlinks are not followed), POSIX relative paths."""
    files: dict[str, bytes] = {}
    if not directory.is_dir():
        return files
    for root, dirs, names in os.walk(directory):
        skipped = set(ignore(root, dirs + names)) if ignore else set()
        dirs[:] = sorted(d for d in dirs if d not in skipped and not os.path.islink(os.path.join(root, d)))
        for name in sorted(names):
            path = Path(root) / name
            if name in skipped or path.is_symlink() or not path.is_file():
                continue
            files[path.relative_to(directory).as_posix()] = path.read_bytes()
    return files


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables the user has not set, for the duration (kernels inherit them)."""
    added = [k for k in values if k not in os.environ]
    for key in added:
        os.environ[key] = values[key]
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
