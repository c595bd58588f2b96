"""Running nbgrader's converters in-process, quietly, with errors we can print.

nbgrader logs a lot at INFO and, on failure, dumps tracebacks and then raises
a generic "see the above traceback". Here each run gets its own logger: every
record is kept (``RunResult.log``), warnings are shown on stderr unless they
are known noise, and a failure is condensed into a few lines
(``RunResult.errors``). ``verbose=True`` streams the full INFO log instead.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config import Config

# Warnings nbgrader emits on every normal run of what we ask it to do.
_NOISE = re.compile(
    r"^(Removing existing (assignment|notebook)|Removing failed|Updating existing|No submitted file"
    r"|Skipping unknown notebook|.*is not absolute, standardizing it"
    # a test cell's released checksum never matches its source (hidden tests)
    r"|Attribute 'checksum' for cell \S+ has changed)"
)


@dataclass
class RunResult:
    success: bool
    errors: list[str] = field(default_factory=list)
    log: str = ""
    warnings: list[str] = field(default_factory=list)  # first lines, known noise left out


@dataclass
class _Record:
    levelno: int
    levelname: str
    message: str


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[_Record] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Format now: nbgrader passes gradebook rows whose repr fails once
        # their database session is closed.
        try:
            message = record.getMessage()
        except Exception as exc:  # a broken log call must not break the run
            message = f"{record.msg} (unformattable: {exc})"
        self.records.append(_Record(record.levelno, record.levelname, message))


class _Warnings(logging.Handler):
    """Keeps the first line of each warning that is not known noise; prints it too if ``echo``."""

    def __init__(self, echo: bool) -> None:
        super().__init__(logging.WARNING)
        self.echo = echo
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            return  # condensed into RunResult.errors by the caller
        first_line = record.getMessage().strip().splitlines()[0] if record.getMessage().strip() else ""
        if first_line and not _NOISE.match(first_line):
            self.lines.append(first_line)
            if self.echo:
                print(f"nbgrader: {first_line}", file=sys.stderr)


def quiet_warnings() -> None:
    """Hide library chatter that says nothing to an instructor (the CLI and every grading worker call this)."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    warnings.filterwarnings("ignore", message=".*missing an id field.*")  # nbformat on old notebooks
    # SQLAlchemy's autoflush remarks about nbgrader's own gradebook code
    warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")


def prepare_environment() -> None:
    """Process-wide settings every nbgrader run needs (idempotent).

    * nbgrader's ``Gradebook`` runs ``alembic heads`` in a subprocess whenever
      it creates a database: ~2 s each time, and a ``FileNotFoundError`` when
      the virtualenv is not activated (``alembic`` not on PATH). We read the
      head revision from nbgrader's migration scripts instead, and put this
      interpreter's bin directory on PATH for nbgrader's other alembic calls.
    * Python 3.11 kernels print a debugger warning about frozen modules on
      every start; silence it.
    """
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + (os.pathsep + path if path else "")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    import nbgrader.api

    if not getattr(nbgrader.api.get_alembic_version, "_grader", False):
        original = nbgrader.api.get_alembic_version

        def get_alembic_version() -> str:
            return _alembic_head() or original()

        get_alembic_version._grader = True  # type: ignore[attr-defined]
        nbgrader.api.get_alembic_version = get_alembic_version


@functools.cache
def _alembic_head() -> str | None:
    """The single head revision of nbgrader's migrations, or None if unclear."""
    import nbgrader

    versions = Path(nbgrader.__file__).parent / "alembic" / "versions"
    revisions: set[str] = set()
    parents: set[str] = set()
    pattern = re.compile(r"^(down_revision|revision)\s*=\s*['\"]?([0-9a-f]+|None)['\"]?\s*$", re.M)
    for script in versions.glob("*.py"):
        found = dict((k, v) for k, v in pattern.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found:
            return None
        revisions.add(found["revision"])
        if found.get("down_revision") not in (None, "None"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def run_converter(
    converter_cls: type,
    config: Config,
    *,
    assignment_id: str,
    student_id: str | None = None,
    verbose: bool = False,
    echo_warnings: bool = True,
    **traits: object,
) -> RunResult:
    """Run one nbgrader converter (``GenerateAssignment``, ``Autograde``) for one assignment.

    Warnings are printed on stderr as they come unless ``echo_warnings`` is
    False (grading workers hand them back in ``RunResult.warnings`` instead).
    """
    from nbgrader.coursedir import CourseDirectory

    prepare_environment()
    # A logger of its own per run (not registered with logging): runs in
    # different threads of one process never mix their records.
    logger = logging.Logger("grader.nbgrader", logging.INFO)
    logger.propagate = False
    collector = _Collector()
    warned = _Warnings(echo=echo_warnings and not verbose)
    logger.addHandler(collector)
    logger.addHandler(warned)
    if verbose:
        shown = logging.StreamHandler(sys.stderr)
        shown.setFormatter(logging.Formatter("nbgrader [%(levelname)s] %(message)s"))
        shown.setLevel(logging.INFO)
        logger.addHandler(shown)
    try:
        coursedir = CourseDirectory(config=config, log=logger)
        coursedir.assignment_id = assignment_id
        if student_id is not None:
            coursedir.student_id = student_id
        converter = converter_cls(coursedir=coursedir, config=config, log=logger)
        for name, value in traits.items():
            setattr(converter, name, value)
        try:
            converter.start()
            success = True
        except Exception as exc:  # nbgrader raises after logging the real cause
            success = False
            failure = f"{type(exc).__name__}: {exc}"
        else:
            failure = ""
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)

    log = _format(collector.records)
    errors = [] if success else _condense(collector.records, failure)
    return RunResult(success=success, errors=errors, log=log, warnings=warned.lines)


def _format(records: list[_Record]) -> str:
    out = io.StringIO()
    for record in records:
        out.write(f"[{record.levelname}] {record.message}\n")
    return out.getvalue()


_GENERIC = re.compile(
    r"^(There was an error processing|Please see the|Removing failed|Canceled)"
)
_CURRENT = re.compile(r"^(?:Converting notebook|Sanitizing|Autograding) (?P<path>\S+)")


def _condense(records: list[_Record], failure: str) -> list[str]:
    """What went wrong, in a few lines: nbgrader's specific error messages (with the
    notebook being processed), else the exception lines of its tracebacks."""
    specific: list[str] = []
    exceptions: list[str] = []
    current = ""
    for record in records:
        message = record.message.strip()
        match = _CURRENT.match(message)
        if match:
            current = os.path.basename(match.group("path"))
        if record.levelno < logging.ERROR or not message:
            continue
        if message.startswith("Traceback"):
            exceptions.append([ln for ln in message.splitlines() if ln.strip()][-1].strip())
        elif not _GENERIC.match(message):
            first, _, rest = message.partition("\n")
            if "Cell contents are:" in first:
                first = first.replace("Cell contents are:", "").strip()
                code = next((ln.strip() for ln in rest.splitlines() if ln.strip()), "")
                if code:
                    first += f" (in the cell starting `{code}`)"
            specific.append(f"{current}: {first}" if current else first)
    lines = specific or exceptions or [failure]
    return list(dict.fromkeys(lines))


_CHECKSUM = re.compile(r"^\[WARNING\] Attribute 'checksum' for cell (?P<cell>\S+) has changed!")


def explain_log(log: str) -> str:
    """nbgrader's log for people (``-v``): the checksum warning nbgrader gives every test cell of
    every submission, which reads as tampering, becomes one line that says why it is expected."""
    lines, test_cells = [], []
    for line in log.splitlines():
        match = _CHECKSUM.match(line)
        if match and match["cell"].startswith("test_"):
            test_cells.append(match["cell"])
            continue
        if match:
            line += "  [the student edited this locked cell; it was graded as the course wrote it]"
        lines.append(line)
    if test_cells:
        lines.append(
            f"[NOTE] {len(test_cells)} test cell(s) differ from their checksum ({', '.join(sorted(set(test_cells)))}): "
            "expected for every student - the grader cuts the hidden tests out of test cells and runs them itself; "
            "this is not tampering"
        )
    return "\n".join(lines)


def warnings_by_notebook(log: str) -> list[tuple[str, str]]:
    """(notebook file name, warning) for each warning in a :class:`RunResult` log, known noise left out."""
    found, current = [], ""
    for line in log.splitlines():
        level, _, message = line.partition("] ")
        match = _CURRENT.match(message)
        if match:
            current = os.path.basename(match.group("path"))
        elif level == "[WARNING" and message.strip() and not _NOISE.match(message.strip()):
            found.append((current, message.strip()))
    return found

