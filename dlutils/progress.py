"""What a student sees while working through a notebook: failed checks as messages,
demos that name the exercise they need, and the score view at the end.

Three pieces, all active once ``dlutils`` is imported in an IPython kernel
(``install()`` is called by ``dlutils/__init__.py``; outside IPython it does nothing):

* **Message-only failures.** A failed visible check (``dlutils.checks.CheckFailure``,
  or an ``assert`` written in a check cell) is shown as its message and hint plus
  the line of the check cell that failed, without frames of library code.
  An error raised inside the student's own functions keeps its full traceback:
  those frames are theirs. The rule is :func:`check_failure_lines`.
* **Demo guard.** A demo or widget cell that calls the student's functions starts
  with ``progress.needs("name", ...)``: when one of them is not defined yet or is
  still the stub (it raises ``NotImplementedError``), the cell stops with one
  sentence naming it, never a ``NameError``. A widget that survives missing
  functions takes ``progress.available("name", ...)`` instead: a dict with the
  finished ones, and a printed line naming the others.
* **Score view.** Every test cell ends with ``checks.passed("<name>")``. After each
  cell runs, a cell containing that call is recorded as passed (it ran without
  error) or failed (with its message). The last cell of every notebook calls
  :func:`show` with the points of each exercise (generated from the nbgrader
  metadata by ``python -m grader execute``), which prints passed / failed / not run.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
# The call that ends every test cell; the name it passes identifies the exercise.
PASSED_CALL = re.compile(r"""checks\.passed\(\s*["']([^"']+)["']\s*\)""")

RED, BOLD, RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"

# exercise name -> ("passed", "") or ("failed", first line of the message); this kernel only.
RESULTS: dict[str, tuple[str, str]] = {}


# ----------------------------------------------------------- failed checks


def _frames(tb):
    while tb is not None:
        yield tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next


def _in_notebook(frame) -> bool:
    """Code of the notebook itself (a cell, or a function a cell defined), not of a library."""
    return frame.f_globals.get("__name__") == "__main__"


def check_failure_lines(exc: BaseException, tb=None) -> list[str] | None:
    """The lines to show for a failed visible check, or None when ``exc`` is not one.

    A failed check is an ``AssertionError`` (``CheckFailure`` is one) whose traceback
    passes through no function defined in the notebook: it was raised by a check
    called from a cell, or by an ``assert`` in the cell itself. Shown: the message
    (the check's name, what differs, the hint) and the cell line that failed.
    """
    if not isinstance(exc, AssertionError):
        return None
    tb = tb if tb is not None else exc.__traceback__
    frames = list(_frames(tb))
    if any(_in_notebook(f) and f.f_code.co_name != "<module>" for f, _ in frames):
        return None  # raised inside the student's own code: the full traceback is theirs
    cell_lines = [(f, line) for f, line in frames if _in_notebook(f)]
    message = str(exc).strip() or "a check failed"
    first, *rest = message.split("\n")
    lines = [f"{RED}{BOLD}✗ {first}{RESET}", *rest]
    if cell_lines:
        frame, lineno = cell_lines[-1]
        import linecache

        source = linecache.getline(frame.f_code.co_filename, lineno, frame.f_globals).strip()
        source = source if len(source) <= 72 else source[:71] + "…"
        lines.append(f"  (the check that failed: line {lineno} of this cell" + (f": {source})" if source else ")"))
    return lines


def _render(exc: BaseException) -> list[str]:
    """``CheckFailure._render_traceback_``: the short form, or IPython's usual one."""
    lines = check_failure_lines(exc)
    if lines is not None:
        return lines
    shell = _shell()
    if shell is None:
        import traceback

        return traceback.format_exception(exc)
    return shell.InteractiveTB.structured_traceback(type(exc), exc, exc.__traceback__)


def _custom_exc(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for AssertionError: show a failed check short, anything else as usual.

    It shows the error itself (IPython does not show what a custom handler returns).
    """
    lines = check_failure_lines(value, tb)
    if lines is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
    else:
        shell._showtraceback(etype, value, lines)


# -------------------------------------------------------------- the guard


class ExerciseNeeded(Exception):
    """A demo needs exercises that are not finished; shown as its message alone."""

    def _render_traceback_(self):
        return [f"{BOLD}⏸ {self}{RESET}"]


NOT_DEFINED = "not defined yet (run the cell that defines it)"
NOT_WRITTEN = "not written yet (it still raises NotImplementedError)"


def _unfinished_reason(namespace: dict, name: str) -> str | None:
    if name not in namespace:
        return NOT_DEFINED
    code = getattr(namespace[name], "__code__", None)
    if code is not None and "NotImplementedError" in code.co_names:
        return NOT_WRITTEN
    return None


def unfinished(names, namespace: dict) -> dict[str, str]:
    """name -> why it is not usable yet (``NOT_DEFINED`` or ``NOT_WRITTEN``), for each unfinished one of ``names``."""
    reasons = {name: _unfinished_reason(namespace, name) for name in names}
    return {name: why for name, why in reasons.items() if why}


def _caller_namespace(depth: int = 2) -> dict:
    return sys._getframe(depth).f_globals


def _sentence(missing: dict[str, str]) -> str:
    """E.g. "`a`, `b` not written yet (...); `c` not defined yet (...)"."""
    groups = {}
    for name, why in missing.items():
        groups.setdefault(why, []).append(f"`{name}`")
    return "; ".join(f"{', '.join(names)} {why}" for why, names in groups.items())


def needs(*names: str) -> None:
    """Stop this cell, naming them, if any of the exercises ``names`` is not finished.

    Call it first in a demo cell that uses the student's functions:
    ``progress.needs("split_dataset")``. Looks the names up in the calling
    cell's namespace. Raises ``ExerciseNeeded`` (shown as one sentence, no traceback).
    """
    missing = unfinished(names, _caller_namespace())
    if missing:
        raise ExerciseNeeded(f"This cell needs exercises you have not finished: {_sentence(missing)}. "
                             "Finish them above, run their cells and checks, then run this cell again.")


def available(*names: str) -> dict:
    """The finished ones of the exercises ``names``, as a dict name -> function.

    For widgets that still run with some functions unwritten (their panels say so).
    Prints one line naming the unfinished ones, if any.
    """
    namespace = _caller_namespace()
    missing = unfinished(names, namespace)
    if missing:
        print(f"Left out until you finish them: {_sentence(missing)}. "
              "Finish them above, run their cells, then run this cell again.")
    return {name: namespace[name] for name in names if name not in missing}


# ------------------------------------------------------------ the score


def record(raw_cell: str, error: BaseException | None) -> None:
    """Record the result of a cell that ran: a test cell (``checks.passed("<name>")``) passed or failed."""
    found = PASSED_CALL.search(raw_cell or "")
    if found is None:
        return
    name = found.group(1)
    if error is None:
        RESULTS[name] = ("passed", "")
    elif isinstance(error, NotImplementedError):
        RESULTS[name] = ("failed", "not written yet (still raises NotImplementedError)")
    else:
        message = str(error).strip().split("\n")[0]
        RESULTS[name] = ("failed", message if isinstance(error, AssertionError) else f"{type(error).__name__}: {message}")


def _post_run_cell(result) -> None:
    record(getattr(result.info, "raw_cell", ""), result.error_in_exec or result.error_before_exec)


def score_lines(points: dict[str, float], results: dict[str, tuple[str, str]] | None = None) -> list[str]:
    """The score view of exercises ``points`` (name -> points) from ``results`` (default: this kernel's)."""
    results = RESULTS if results is None else results
    width = max(len(name) for name in points)
    lines = ["Your visible checks in this session (run a check cell to update it, then this cell):"]
    earned = 0.0
    for name, worth in points.items():
        status, why = results.get(name, ("not run", ""))
        got = worth if status == "passed" else 0
        earned += got
        mark = {"passed": "✓", "failed": "✗"}.get(status, "·")
        unit = "point" if worth == 1 else "points"
        line = f"  {mark} {name:<{width}}  {status:<7}  {got:g} / {worth:g} {unit}"
        lines.append(line + (f"  — {why}" if why else ""))
    total = sum(points.values())
    lines.append(f"Visible checks passed: {earned:g} of {total:g} points. Your grade also counts hidden tests "
                 "of the same functions on other inputs, so passing here is necessary, not sufficient.")
    return lines


def show(points: dict[str, float]) -> None:
    """Print the score view (the last cell of every notebook)."""
    print("\n".join(score_lines(points)))


# ------------------------------------------------------------ installing


def _shell():
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def install() -> None:
    """Hook the three pieces into the running IPython kernel (idempotent; no-op outside IPython)."""
    shell = _shell()
    if shell is None:
        return
    if getattr(shell, "_dlutils_progress", None) is not None:
        try:
            shell.events.unregister("post_run_cell", shell._dlutils_progress)
        except ValueError:
            pass
    shell.events.register("post_run_cell", _post_run_cell)
    shell._dlutils_progress = _post_run_cell
    shell.set_custom_exc((AssertionError,), _custom_exc)
