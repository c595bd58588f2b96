"""``grader report``: how a class did on each exercise, and why it lost points.

From the gradebook and the autograded notebooks, per exercise (test cell),
what each student got: full marks, **wrong** (the test failed), **not
attempted** (the function still raises the stub's ``NotImplementedError``),
or **no notebook** (nothing gradable handed in); the mean; the most common
failure messages (the hidden checks' messages say what was wrong) and who
lost points. Tests are all or nothing, so there is no "partial". Printed as
tables, and saved:

* ``reports/<assignment>.png``: one figure (Okabe-Ito colours and hatches,
  labelled axes, alt text in the PNG's ``Description``), stacked bars per
  exercise and a histogram of total scores;
* ``reports/<assignment>.md``: the figure with its alt text, then the tables,
  with every student who lost points on each exercise;
* ``reports/<assignment>-exercises.csv``: one row per student and exercise
  (``student, notebook, exercise, score, max_score, status, message``);
* ``reports/<assignment>-students.csv``: one row per student (``student,
  score, max_score, late_penalty, grade, grading_seconds``): the time is
  what ``autograde`` measured for that student's last grading.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError
from .console import Echo, format_table
from .console import number as _num

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
NO_NOTEBOOK = "(no gradable notebook handed in)"
MESSAGE_WIDTH = 110
# Status of one student on one exercise, in the order tables and the figure show them.
STATUSES = ("full marks", "wrong", "not attempted", "no notebook")
STUB_ERROR = "NotImplementedError"
TIMES_DIR = "grading-times"  # WORKSPACE/grading-times/<assignment>.json, written by autograde
NAMES_SHOWN = 8  # students named per cell of the printed table (the markdown and CSV have all)


@dataclass
class Exercise:
    notebook: str
    name: str  # the test cell's grade_id
    max_score: float
    scores: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    results: dict[str, tuple[float, str, str]] = field(default_factory=dict)  # student -> (score, status, message)

    @property
    def label(self) -> str:
        return f"{self.notebook} / {self.name}"

    def students(self, status: str) -> list[str]:
        return sorted(s for s, (_, st, _) in self.results.items() if st == status)

    def share(self, status: str) -> float:
        return len(self.students(status)) / len(self.results) if self.results else 0.0


def failure_message(output: dict) -> str:
    """One line saying why a cell failed: ``Error: message`` (first line, no colours, shortened)."""
    ename = str(output.get("ename") or "Error")
    evalue = _ANSI.sub("", str(output.get("evalue") or "")).strip()
    first = evalue.splitlines()[0].strip() if evalue else ""
    message = f"{ename}: {first}" if first else ename
    return message if len(message) <= MESSAGE_WIDTH else message[: MESSAGE_WIDTH - 3] + "..."


def collect_exercises(ws, assignment: str) -> tuple[list[Exercise], dict[str, float], float, dict[str, float]]:
    """Exercises in notebook order with every student's score, status and failure message;
    total score per student; the assignment's maximum; late penalty per student."""
    from nbgrader.api import Gradebook

    from .workspace import find_assignment

    with Gradebook(ws.db_url, ws.course_id) as gb:
        a = find_assignment(gb, assignment)
        exercises: dict[tuple[str, str], Exercise] = {}
        for nb in a.notebooks:
            order = _cell_order(ws, assignment, nb.name)
            for cell in sorted(nb.grade_cells, key=lambda c: (order.get(c.name, len(order)), c.name)):
                exercises[(nb.name, cell.name)] = Exercise(nb.name, cell.name, float(cell.max_score))
        max_total = float(a.max_score or 0)
        totals: dict[str, float] = {}
        penalties: dict[str, float] = {}
        scores: dict[tuple[str, str, str], float] = {}
        for sub in sorted(a.submissions, key=lambda s: s.student.id):
            student = sub.student.id
            totals[student] = float(sub.score or 0)
            penalties[student] = float(sub.late_submission_penalty or 0)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    key = (nb.name, grade.name)
                    if key in exercises:
                        exercises[key].scores.append(float(grade.score or 0))
                        scores[(student, *key)] = float(grade.score or 0)
    if not totals:
        raise UsageError(f"no graded submission of {assignment}; run `python -m grader autograde {assignment}` first")

    for student in totals:
        folder = ws.directory("autograded", student, assignment)
        for notebook in {ex.notebook for ex in exercises.values()}:
            path = folder / f"{notebook}.ipynb"
            failed = _failures(path) if path.is_file() else None
            for (nb_name, name), ex in exercises.items():
                if nb_name != notebook:
                    continue
                score = scores.get((student, nb_name, name), 0.0)
                if failed is None:
                    ex.failures[NO_NOTEBOOK] += 1
                    ex.results[student] = (score, "no notebook", NO_NOTEBOOK)
                elif score >= ex.max_score:
                    ex.results[student] = (score, "full marks", "")
                else:
                    message, stub = failed.get(name, ("", False))
                    if message:
                        ex.failures[message] += 1
                    ex.results[student] = (score, "not attempted" if stub else "wrong", message)
    return list(exercises.values()), totals, max_total, penalties


def _cell_order(ws, assignment: str, notebook: str) -> dict[str, int]:
    from .notebooks import grade_id, read_notebook

    path = ws.directory("source", ".", assignment) / f"{notebook}.ipynb"
    try:
        cells = read_notebook(path).cells
    except Exception:
        return {}
    return {grade_id(c): i for i, c in enumerate(cells) if grade_id(c)}


def _failures(path: Path) -> dict[str, tuple[str, bool]]:
    """grade_id -> (failure message, not attempted) of each test cell that ended in an error. Not
    attempted: the error is the stub's ``NotImplementedError``, in the test cell (a function whose body
    is the stub) or in the exercise's own solution cell (a whole-cell stub, so nothing got defined)."""
    from .notebooks import grade_id, is_test_cell, read_notebook

    try:
        nb = read_notebook(path)
    except Exception:
        return {}
    stubbed = set()
    failed = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not is_test_cell(cell):
            if any(o.get("ename") == STUB_ERROR for o in errors) and grade_id(cell):
                stubbed.add(grade_id(cell))
            continue
        if errors:
            name = grade_id(cell)
            stub = errors[-1].get("ename") == STUB_ERROR or name.removeprefix("test_") in stubbed
            failed[name] = (failure_message(errors[-1]), stub)
    return failed


def record_grading_times(workspace: Path, assignment: str, seconds: dict[str, float]) -> None:
    """Keep how long grading each student took (autograde calls this; ``report`` writes it to CSV)."""
    if not seconds:
        return
    path = Path(workspace) / TIMES_DIR / f"{assignment}.json"
    times = read_grading_times(workspace, assignment)
    times.update({s: round(t, 2) for s, t in seconds.items()})
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(dict(sorted(times.items())), indent=1) + "\n", encoding="utf-8")


def read_grading_times(workspace: Path, assignment: str) -> dict[str, float]:
    try:
        return json.loads((Path(workspace) / TIMES_DIR / f"{assignment}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def report(
    workspace: Path | None,
    assignment: str,
    *,
    output: Path | None = None,
    top: int = 3,
    echo: Echo = print,
) -> int:
    from .workspace import open_workspace

    ws = open_workspace(workspace)
    if top < 1:
        raise UsageError(f"--top must be at least 1, got {top}")
    exercises, totals, max_total, penalties = collect_exercises(ws, assignment)
    out = Path(output).expanduser().resolve() if output is not None else ws.path / "reports"

    n = len(totals)
    values = list(totals.values())
    summary = (
        f"{assignment}: {n} graded submission(s), mean {_num(round(statistics.mean(values), 2))} / {_num(max_total)}"
        f" ({statistics.mean(values) / max_total:.0%}), median {_num(statistics.median(values))}"
        if max_total
        else f"{assignment}: {n} graded submission(s)"
    )
    score_rows = [
        [ex.label, _num(ex.max_score), _num(round(statistics.mean(ex.scores), 2)) if ex.scores else "-",
         *(f"{ex.share(status):.0%}" for status in STATUSES)]
        for ex in exercises
    ]
    score_header = ["exercise", "points", "mean", *STATUSES]
    failure_rows = []
    for ex in exercises:
        for message, count in ex.failures.most_common(top):
            failure_rows.append([ex.label, str(count), message])
    failure_header = ["exercise", "students", "failure message"]
    lost = [(ex, status, ex.students(status)) for ex in exercises for status in STATUSES[1:] if ex.students(status)]
    who_header = ["exercise", "lost points", "students"]

    def names(students: list[str], limit: int | None) -> str:
        shown = students if limit is None or len(students) <= limit else students[:limit] + [f"... (+{len(students) - limit})"]
        return ", ".join(shown)

    echo(summary)
    echo("")
    for line in format_table(score_header, score_rows):
        echo(line)
    echo("")
    if failure_rows:
        echo(f"most common failures (top {top} per exercise)")
        for line in format_table(failure_header, failure_rows):
            echo(line)
        echo("")
        echo("who lost points")
        for line in format_table(who_header, [[ex.label, status, names(who, NAMES_SHOWN)] for ex, status, who in lost]):
            echo(line)
    else:
        echo("no failed test cell in the autograded notebooks")

    out.mkdir(parents=True, exist_ok=True)
    figure_path = out / f"{assignment}.png"
    alt = draw_report(exercises, values, max_total, assignment, figure_path)
    markdown = out / f"{assignment}.md"
    lines = [f"# {summary}", "", f"![{alt}]({figure_path.name})", "", f"*Figure: {alt}*", ""]
    lines += _markdown_table(score_header, score_rows) + [""]
    if failure_rows:
        lines += ["## Most common failures", ""] + _markdown_table(failure_header, failure_rows) + [""]
        lines += ["## Who lost points", ""] + _markdown_table(
            who_header, [[ex.label, status, names(who, None)] for ex, status, who in lost])
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")

    times = read_grading_times(ws.path, assignment)
    exercise_csv = out / f"{assignment}-exercises.csv"
    _write_csv(exercise_csv, ["student", "notebook", "exercise", "score", "max_score", "status", "message"], [
        [student, ex.notebook, ex.name, _num(score), _num(ex.max_score), status, message]
        for student in sorted(totals) for ex in exercises
        for score, status, message in [ex.results.get(student, (0.0, "no notebook", NO_NOTEBOOK))]
    ])
    student_csv = out / f"{assignment}-students.csv"
    _write_csv(student_csv, ["student", "score", "max_score", "late_penalty", "grade", "grading_seconds"], [
        [student, _num(total), _num(max_total), _num(penalties.get(student, 0)),
         _num(max(0.0, total - penalties.get(student, 0))), "" if student not in times else f"{times[student]:.1f}"]
        for student, total in sorted(totals.items())
    ])
    echo("")
    echo(f"wrote {figure_path}, {markdown}, {exercise_csv.name} and {student_csv.name}")
    return 0


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def cell(value: str) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def draw_report(exercises: list[Exercise], totals: list[float], max_total: float, assignment: str, path: Path) -> str:
    """Save the report figure to ``path``; returns its alt text (also stored in the PNG)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from dlutils.plotting import PALETTE


    looks = {"full marks": (PALETTE[2], None), "wrong": (PALETTE[3], "xx"), "not attempted": (PALETTE[1], "//"),
             "no notebook": (PALETTE[4], "..")}
    height = 1.2 + 0.38 * len(exercises)
    fig = Figure(figsize=(8, height + 2.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    bars, hist = fig.subplots(2, 1, height_ratios=[height, 2.4])

    y = np.arange(len(exercises))
    left = np.zeros(len(exercises))
    for status in STATUSES:
        color, hatch = looks[status]
        share = np.array([100 * ex.share(status) for ex in exercises])
        bars.barh(y, share, left=left, color=color, hatch=hatch, edgecolor="white", label=status)
        left += share
    bars.set_yticks(y, [ex.label for ex in exercises], fontsize="small")
    bars.invert_yaxis()
    bars.set_xlim(0, 100)
    bars.set_xlabel("students (%)")
    bars.set_title(f"{assignment}: marks per exercise ({len(totals)} students)")
    bars.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", frameon=False)
    bars.grid(axis="x", alpha=0.3)

    if max_total <= 40 and all(float(t).is_integer() for t in totals):
        edges = np.arange(-0.5, max_total + 1.5)  # one bar per whole point
    else:
        edges = np.linspace(0, max(max_total, max(totals), 1e-9), 21)
    hist.hist(totals, bins=edges, color=PALETTE[0], edgecolor="white")
    hist.set_xlim(edges[0], edges[-1])
    hist.yaxis.set_major_locator(MaxNLocator(integer=True))
    hist.set_xlabel(f"total score (points, out of {_num(max_total)})")
    hist.set_ylabel("students")
    hist.set_title("distribution of total scores")
    hist.grid(axis="y", alpha=0.3)

    hardest = min(exercises, key=lambda ex: ex.share("full marks")) if exercises else None
    alt = (
        f"Stacked horizontal bars: for each of the {len(exercises)} exercises of {assignment}, the share of the "
        f"{len(totals)} students with full marks, a wrong answer, no attempt and no notebook"
        + (f"; the hardest is {hardest.label} ({hardest.share('full marks'):.0%} full marks)" if hardest else "")
        + f". Below, a histogram of total scores out of {_num(max_total)}, median {_num(statistics.median(totals))}."
    )
    fig.savefig(path, format="png", metadata={"Title": f"{assignment} report", "Description": alt, "Software": None})
    return alt
