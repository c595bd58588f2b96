"""Hidden tests, run by the grader instead of the student's kernel.

nbgrader puts the hidden part of a test cell back before executing a
submission, so the hidden tests normally run in the student's kernel, where
the student's code can read them, print them, or replace what they call. The
secure autograder (``grader/secure/preprocessors.py``) instead cuts the hidden part
out of every test cell before the kernel sees the cell (:func:`split_hidden`)
and, once the visible part has run, executes it here (:func:`run_hidden`) in
the grader's own process. Names the hidden code does not define itself (the
graded functions, e.g. ``initialize_he``) are :class:`grader.secure.remote.RemoteFunction`
proxies: calls go into the kernel as data and only plain data comes back.

For this course the hidden part of each test cell is exactly::

    import grader.checks
    grader.checks.run("<name>", <name>)

so the verdict is that of ``grader.checks.find(name)`` on the proxy. Other
hidden code (e.g. a course's own checks module next to its notebooks) works
the same way as long as it only calls the notebook's functions.

A :class:`Verdict`'s message is written for the student: the check's own
message, or what went wrong calling their function; never the hidden source
or a traceback into it.
"""
from __future__ import annotations

import builtins
import sys
from dataclasses import dataclass
from typing import Any

from .remote import KernelSession, KernelStopped, RemoteFailure, RemoteFunction, StudentException

BEGIN = "BEGIN HIDDEN TESTS"
END = "END HIDDEN TESTS"
MAX_MESSAGE = 3000


def split_hidden(source: str) -> tuple[str, str | None]:
    """``(visible part, hidden code or None)`` of a cell, by nbgrader's rule (``ClearHiddenTests``).

    The one parser of hidden-test blocks (the secure autograder, feedback,
    grader.skipping): the lines between a line containing ``BEGIN HIDDEN
    TESTS`` and one containing ``END HIDDEN TESTS`` are hidden; every marker
    line disappears, also an ``END`` line outside a block, as in the released
    notebook; an unterminated block hides the rest of the cell (better too
    much than a leak)."""
    visible: list[str] = []
    hidden: list[str] = []
    inside = found = marker = False
    for line in source.split("\n"):
        if BEGIN in line:
            inside = found = marker = True
        elif END in line:
            inside, marker = False, True
        elif inside:
            hidden.append(line)
        else:
            visible.append(line)
    if not marker:
        return source, None
    while visible and not visible[-1].strip():
        visible.pop()
    return "\n".join(visible), "\n".join(hidden) + "\n" if found else None


@dataclass
class Verdict:
    passed: bool
    message: str = ""
    stopped: bool = False          # the kernel is gone: nothing else can run
    instructor_note: str = ""      # for the grader's log, never for the student


class _Names(dict):
    """Local namespace of hidden code: any free name that is not a builtin is the student's function."""

    def __init__(self, session: KernelSession) -> None:
        super().__init__()
        self._session = session

    def __missing__(self, key: str) -> Any:
        if key.startswith("__") or hasattr(builtins, key):
            raise KeyError(key)
        value = RemoteFunction(key, self._session)
        self[key] = value
        return value


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " [...]"


def run_hidden(code: str, session: KernelSession, *, search_path: list[str] | tuple[str, ...] = ()) -> Verdict:
    """Execute hidden test code in this process against the kernel behind ``session``.

    ``search_path`` (e.g. the assignment's source folder) is put in front of
    ``sys.path`` while the code runs, for courses whose hidden tests import a
    module that sits next to their notebooks.
    """
    try:
        compiled = compile(code, "<hidden tests>", "exec")
    except SyntaxError as exc:
        return Verdict(False, "the hidden tests of this cell could not run (a problem on the grader's side; "
                       "please tell your instructor)", instructor_note=f"hidden tests do not compile: {exc}")
    namespace = {"__name__": "__hidden_tests__", "__builtins__": builtins}
    saved_path = list(sys.path)
    sys.path[:0] = [p for p in search_path if p not in sys.path]
    try:
        exec(compiled, namespace, _Names(session))  # noqa: S102 - the instructor's hidden tests
    except KernelStopped as exc:
        return Verdict(False, _short(exc.message), stopped=True)
    except RemoteFailure as exc:
        return Verdict(False, _short(exc.message))
    except StudentException as exc:
        return Verdict(False, _short(f"calling `{exc.function}` raised {exc.type_name}: {exc.text}"))
    except AssertionError as exc:  # dlutils.checks.CheckFailure and plain asserts
        return Verdict(False, _short(str(exc) or "a hidden test failed"))
    except Exception as exc:
        return Verdict(False, _short(f"the hidden tests could not check your code ({type(exc).__name__}: {exc})"),
                       instructor_note=f"hidden tests raised {type(exc).__name__}: {exc}")
    finally:
        sys.path[:] = saved_path
    return Verdict(True)
