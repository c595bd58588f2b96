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

from typing import TYPE_CHECKING

from .console import Echo
from .console import stderr as _stderr
from .errors import UsageError

if TYPE_CHECKING:  # imported where used: a usage error is reported without loading nbformat
    import nbformat


def strip_hidden_tests(source: str) -> tuple[str, list[str]]:
    """``source`` without its hidden-test blocks, and the lines that were cut (markers excluded)."""
    from .secure.trusted import split_hidden  # the one parser of hidden-test blocks

    visible, hidden = split_hidden(source)
    return visible, [] if hidden is None else hidden[:-1].split("\n")


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def sanitize_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, set[str]]:
    """A copy of ``nb`` fit for a student, and the hidden lines (stripped) that were removed."""
    from .notebooks import is_test_cell

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
    from .workspace import open_workspace

    ws = open_workspace(workspace)
    from nbgrader.api import Gradebook

    from .workspace import find_assignment

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
    handback = ws.path / HANDBACK / assignment
    for student in with_notebooks:
        notes: list[str] = []
        try:
            written = _student_feedback(ws, assignment, student, verbose=verbose, notes=notes)
        except _FeedbackError as exc:
            warn(f"student {student}: {exc}")
            failed.append(student)
            continue
        finally:
            for line in notes:
                warn(f"student {student}: {line}")
        target = ws.directory("feedback", student, assignment)
        bundle = write_handback(ws, assignment, student, written, handback)
        echo(f"  {student}: {', '.join(sorted(written))} -> {target}; to hand back: {bundle.name}")
    echo(f"feedback for {len(with_notebooks) - len(failed)} of {len(with_notebooks)} student(s) in {ws.path / 'feedback'}")
    if len(failed) < len(with_notebooks):
        echo(f"one file per student to upload or mail: {handback}/<student>.zip (pages open offline, math included)")
    if failed:
        warn(f"error: no feedback written for {', '.join(failed)}")
        return 1
    return 0


class _FeedbackError(Exception):
    pass


def _student_feedback(ws, assignment: str, student: str, *, verbose: bool, notes: list[str]) -> dict[str, bytes]:
    import nbformat
    from nbgrader.converters import GenerateFeedback

    from ._nbgrader import run_converter, warnings_by_notebook
    from .grading import replace_tree
    from .notebooks import notebook_text, read_notebook
    from .secure.trusted import BEGIN as BEGIN_HIDDEN

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
        run = run_converter(GenerateFeedback, cfg, assignment_id=assignment, student_id=student, verbose=verbose,
                            echo_warnings=False, force=True)
        notes += [f"{notebook or assignment}: nbconvert: {message}" for notebook, message in warnings_by_notebook(run.log)]
        if not run.success:
            raise _FeedbackError("nbgrader could not render the feedback: " + "; ".join(run.errors))
        rendered = Path(tmp) / "feedback" / student / assignment
        for stem in hidden_by_notebook:
            page = rendered / f"{stem}.html"
            if not page.is_file():
                raise _FeedbackError(f"nbgrader wrote no {page.name}")
            text, untypeset = finish_page(page.read_text(encoding="utf-8"))
            notes += [f"{stem}.ipynb: a formula shows as TeX, the converter cannot read it: ${tex}$" for tex in untypeset]
            files[page.name] = text.encode("utf-8")

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


def finish_page(page: str) -> tuple[str, list[str]]:
    """nbgrader's feedback page made to travel: formulas as MathML (no MathJax from a CDN: see
    :mod:`grader.mathml`) and each exercise named in the page's index instead of "Test cell".
    Returns the page and the formulas left as TeX."""
    from .mathml import typeset_page

    page, untypeset = typeset_page(page)
    page = TEST_CELL_LINK.sub(lambda m: f'{m["open"]}Exercise <code>{m["id"].removeprefix("test_")}</code></a>', page)
    return page, untypeset


# nbgrader's index: <li><a href="#test_add">Test cell</a> (Score: ...)</li>
TEST_CELL_LINK = re.compile(r'(?P<open><a href="#(?P<id>[A-Za-z0-9_.\-]+)">)Test cell</a>')


HANDBACK = "handback"


def write_handback(ws, assignment: str, student: str, files: dict[str, bytes], folder: Path) -> Path:
    """``folder/<student>.zip``: the student's feedback pages and notebooks and an ``index.html`` with
    the scores, lateness and grade; one file to upload or mail, byte-identical when written again."""
    import zipfile

    index = _index_page(ws, assignment, student, sorted(n for n in files if n.endswith(".html")))
    entries = {"index.html": index.encode("utf-8"), **files}
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{student}.zip"
    partial = folder / f".{student}.zip.partial"
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ["index.html", *sorted(files)]:
            info = zipfile.ZipInfo(f"{assignment}-{student}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name])
    partial.replace(target)
    return target


def _index_page(ws, assignment: str, student: str, pages: list[str]) -> str:
    from nbgrader.api import Gradebook

    from .lateness import days_late, describe, policy
    from .console import number as _num

    late_policy = policy(ws.config)
    with Gradebook(ws.db_url, ws.course_id) as gb:
        sub = gb.find_submission(assignment, student)
        rows = [(nb.name, float(nb.score or 0), float(nb.max_score or 0), float(nb.late_submission_penalty or 0))
                for nb in sorted(sub.notebooks, key=lambda n: n.name)]
        score, max_score = float(sub.score or 0), float(sub.max_score or 0)
        penalty, seconds_late = float(sub.late_submission_penalty or 0), float(sub.total_seconds_late or 0)
        handed_in = f"{sub.timestamp:%Y-%m-%d %H:%M} UTC" if sub.timestamp else ""
    esc = html.escape
    items = []
    for name, nb_score, nb_max, _ in rows:
        page = f"{name}.html"
        label = f'<a href="{esc(page)}">{esc(name)}</a>' if page in pages else f"{esc(name)} (not handed in or not gradable)"
        items.append(f"<tr><td>{label}</td><td>{_num(nb_score)} / {_num(nb_max)}</td></tr>")
    lines = [f"<tr><th>total</th><th>{_num(score)} / {_num(max_score)}</th></tr>"]
    days = days_late(late_policy, seconds_late)
    if days:
        lines.append(f"<tr><td>late {days} day(s)</td><td>-{_num(penalty)}</td></tr>")
        lines.append(f"<tr><th>grade</th><th>{_num(max(0.0, score - penalty))} / {_num(max_score)}</th></tr>")
    policy_line = describe(late_policy, assignment)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(assignment)}: feedback for {esc(student)}</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto}td,th{padding:.2em 1em;text-align:left}"
        "table{border-collapse:collapse}tr{border-bottom:1px solid #ccc}</style></head><body>"
        f"<h1>{esc(assignment)}: feedback for {esc(student)}</h1>"
        + (f"<p>Handed in {esc(handed_in)}. {esc(policy_line)}.</p>" if handed_in else f"<p>{esc(policy_line)}.</p>")
        + "<p>Each page shows your notebook as it was graded, the score of every exercise and, where a test "
        "failed, what it found. The pages work offline.</p>"
        f"<table><tr><th>notebook</th><th>score</th></tr>{''.join(items)}{''.join(lines)}</table>"
        "</body></html>\n"
    )

