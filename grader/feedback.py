"""``grader feedback``: what goes back to students, without the hidden tests.

An autograded notebook holds the hidden tests: nbgrader's ``Autograde``
restores the instructor's version of every test cell before running it, and
the traceback of a failed test quotes the cell, hidden lines included, and
the hidden check's own code. nbgrader's ``GenerateFeedback`` renders all of
that as it is. So, for every student, a copy of each autograded notebook is
sanitized first (:func:`sanitize_notebook`):

* every ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` block is cut
  out of every cell (nbgrader's own rule: a line containing the marker; an
  unterminated block is cut to the end of the cell);
* an error in a test cell keeps only its last line, ``AssertionError:
  <message>``: the message is written to teach, the traceback would show
  hidden code.

Then nbgrader's ``GenerateFeedback`` renders the sanitized copy as HTML
(scores per test cell from the gradebook, read only), and the feedback folder
``feedback/<student>/<assignment>/`` gets ``<notebook>.html`` and the
sanitized ``<notebook>.ipynb``, nothing else (the assignment's other files,
such as a module of hidden checks, never go back). Before anything is written,
every output file is searched for each hidden line (:func:`hidden_lines_in`);
a hit means that student gets no feedback and an error instead.
"""

from __future__ import annotations

import copy
import html
import json
import re
import tempfile
from pathlib import Path

import nbformat

from ._nbgrader import run_converter
from .console import Echo
from .console import stderr as _stderr
from .errors import UsageError
from .grading import replace_tree
from .notebooks import is_test_cell, notebook_text, read_notebook
from .secure.trusted import BEGIN as BEGIN_HIDDEN
from .secure.trusted import split_hidden
from .workspace import find_assignment, open_workspace


def strip_hidden_tests(source: str) -> tuple[str, list[str]]:
    """``source`` without its hidden-test blocks, and the lines that were cut (markers excluded)."""
    visible, hidden = split_hidden(source)
    return visible, [] if hidden is None else hidden[:-1].split("\n")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def sanitize_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, set[str]]:
    """A copy of ``nb`` fit for a student, and the hidden lines (stripped) that were removed."""
    nb = copy.deepcopy(nb)
    hidden: set[str] = set()
    for cell in nb.cells:
        cell.source, cut = strip_hidden_tests(cell.source)
        hidden.update(line.strip() for line in cut if line.strip())
        if cell.cell_type != "code" or not (cut or is_test_cell(cell)):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                ename, evalue = output.get("ename", "Error"), _ANSI.sub("", str(output.get("evalue", "")))
                output["traceback"] = [f"{ename}: {evalue}" if evalue else ename]
    return nb, hidden


def hidden_lines_in(text: str, hidden: set[str]) -> list[str]:
    """The hidden lines that occur in ``text`` (HTML is compared as the text it shows, terminal
    colour codes, which split a traceback's code into pieces, are ignored)."""
    if "<html" in text[:2000].lower():
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    flat = " ".join(_ANSI.sub("", text).split())
    return sorted(line for line in hidden if " ".join(line.split()) in flat)


def _visible_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def _notebook_text_for_scan(nb: nbformat.NotebookNode) -> str:
    """Sources and every string in outputs, one string: what a student could read."""
    parts = [cell.source for cell in nb.cells]
    for cell in nb.cells:
        parts.append(json.dumps(cell.get("outputs", []), ensure_ascii=False))
    for output in (o for cell in nb.cells for o in cell.get("outputs", [])):
        for key in ("text", "evalue"):
            if key in output:
                parts.append(str(output[key]))
        parts.extend(output.get("traceback", []))
        for value in output.get("data", {}).values():
            parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


def feedback(
    workspace: Path | None,
    assignment: str,
    *,
    students: list[str] | None = None,
    verbose: bool = False,
    echo: Echo = print,
    warn: Echo = _stderr,
) -> int:
    """Write feedback for every autograded submission of ``assignment``; 1 if any student's failed."""
    from nbgrader.api import Gradebook

    ws = open_workspace(workspace)
    with Gradebook(ws.db_url, ws.course_id) as gb:
        graded = sorted(s.student.id for s in find_assignment(gb, assignment).submissions)
    with_notebooks = [s for s in graded if any(ws.directory("autograded", s, assignment).glob("*.ipynb"))]
    if students:
        unknown = [s for s in students if s not in graded]
        if unknown:
            raise UsageError(f"no graded submission of {assignment} by {', '.join(unknown)}; run `python -m grader autograde` first")
        without = [s for s in students if s not in with_notebooks]
        if without:
            raise UsageError(f"{', '.join(without)} handed in no gradable notebook of {assignment}: no feedback to give")
        with_notebooks = [s for s in with_notebooks if s in students]
    if not with_notebooks:
        raise UsageError(f"no autograded submission of {assignment} in {ws.path}; run `python -m grader autograde {assignment}` first")
    skipped = [s for s in graded if s not in with_notebooks and not students]
    if skipped:
        warn(f"no feedback for {', '.join(skipped)}: no gradable notebook was handed in (scored 0)")

    failed = []
    for student in with_notebooks:
        try:
            written = _student_feedback(ws, assignment, student, verbose=verbose)
        except _FeedbackError as exc:
            warn(f"student {student}: {exc}")
            failed.append(student)
            continue
        target = ws.directory("feedback", student, assignment)
        echo(f"  {student}: {', '.join(sorted(written))} -> {target}")
    echo(f"feedback for {len(with_notebooks) - len(failed)} of {len(with_notebooks)} student(s) in {ws.path / 'feedback'}")
    if failed:
        warn(f"error: no feedback written for {', '.join(failed)}")
        return 1
    return 0


class _FeedbackError(Exception):
    pass


def _student_feedback(ws, assignment: str, student: str, *, verbose: bool) -> dict[str, bytes]:
    from nbgrader.converters import GenerateFeedback

    autograded = ws.directory("autograded", student, assignment)
    files: dict[str, bytes] = {}
    hidden_by_notebook: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="grader-feedback-") as tmp:
        staged = Path(tmp) / "autograded" / student / assignment
        staged.mkdir(parents=True)
        for path in sorted(autograded.glob("*.ipynb")):
            try:
                nb = read_notebook(path)
            except Exception as exc:
                raise _FeedbackError(f"cannot read autograded {path.name} ({exc}); grade again") from None
            clean, hidden = sanitize_notebook(nb)
            # The secure pipeline keeps hidden tests out of autograded notebooks altogether, so
            # the instructor's source says which lines must never be shown.
            source = ws.path / "source" / assignment / path.name
            if source.is_file():
                hidden |= sanitize_notebook(read_notebook(source))[1]
            # A hidden line a student can see anyway (say `import numpy as np`) is no secret.
            hidden_by_notebook[path.stem] = {line for line in hidden if line not in _visible_text(clean)}
            text = notebook_text(clean)
            (staged / path.name).write_text(text, encoding="utf-8")
            files[path.name] = text.encode("utf-8")

        cfg = copy.deepcopy(ws.config)
        cfg.CourseDirectory.autograded_directory = str(Path(tmp) / "autograded")
        cfg.CourseDirectory.feedback_directory = str(Path(tmp) / "feedback")
        run = run_converter(GenerateFeedback, cfg, assignment_id=assignment, student_id=student, verbose=verbose, force=True)
        if not run.success:
            raise _FeedbackError("nbgrader could not render the feedback: " + "; ".join(run.errors))
        rendered = Path(tmp) / "feedback" / student / assignment
        for stem in hidden_by_notebook:
            page = rendered / f"{stem}.html"
            if not page.is_file():
                raise _FeedbackError(f"nbgrader wrote no {page.name}")
            files[page.name] = page.read_bytes()

    for name, data in files.items():
        stem = Path(name).stem
        text = data.decode("utf-8")
        if name.endswith(".ipynb"):
            text = _notebook_text_for_scan(nbformat.reads(text, as_version=4))
        leaked = hidden_lines_in(text, hidden_by_notebook[stem])
        if leaked or BEGIN_HIDDEN in text:
            shown = leaked[0] if leaked else BEGIN_HIDDEN
            raise _FeedbackError(f"{name} would show hidden test code ({shown!r}); nothing written")
    replace_tree(ws.directory("feedback", student, assignment), files)
    return files
