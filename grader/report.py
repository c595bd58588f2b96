"""``grader report``: how a class did on each exercise, and why it lost points.

From the gradebook: per exercise (test cell) the share of students with full,
partial and zero marks and the mean; the distribution of total scores. From
the autograded notebooks: the most common failure messages of each exercise
(the error a failed test cell ended with: the hidden checks' messages say
what was wrong). Printed as tables, and saved for later:

* ``reports/<assignment>.png``: one figure (Okabe-Ito colours, labelled axes,
  alt text in the PNG's ``Description``), stacked bars per exercise and a
  histogram of total scores;
* ``reports/<assignment>.md``: the figure with its alt text, then the tables.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError
from .notebooks import grade_id, is_test_cell, read_notebook
from .console import Echo, format_table
from .console import number as _num
from .workspace import find_assignment, open_workspace

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
NO_NOTEBOOK = "(no gradable notebook handed in)"
MESSAGE_WIDTH = 110


@dataclass
class Exercise:
    notebook: str
    name: str  # the test cell's grade_id
    max_score: float
    scores: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)

    @property
    def label(self) -> str:
        return f"{self.notebook} / {self.name}"

    def share(self, kind: str) -> float:
        if not self.scores:
            return 0.0
        if kind == "full":
            hits = sum(s >= self.max_score for s in self.scores)
        elif kind == "zero":
            hits = sum(s <= 0 for s in self.scores)
        else:
            hits = sum(0 < s < self.max_score for s in self.scores)
        return hits / len(self.scores)


def failure_message(output: dict) -> str:
    """One line saying why a cell failed: ``Error: message`` (first line, no colours, shortened)."""
    ename = str(output.get("ename") or "Error")
    evalue = _ANSI.sub("", str(output.get("evalue") or "")).strip()
    first = evalue.splitlines()[0].strip() if evalue else ""
    message = f"{ename}: {first}" if first else ename
    return message if len(message) <= MESSAGE_WIDTH else message[: MESSAGE_WIDTH - 3] + "..."


def collect_exercises(ws, assignment: str) -> tuple[list[Exercise], dict[str, float], float]:
    """Exercises in notebook order with every student's score and failure messages;
    total score per student; the assignment's maximum."""
    from nbgrader.api import Gradebook

    with Gradebook(ws.db_url, ws.course_id) as gb:
        a = find_assignment(gb, assignment)
        exercises: dict[tuple[str, str], Exercise] = {}
        for nb in a.notebooks:
            order = _cell_order(ws, assignment, nb.name)
            for cell in sorted(nb.grade_cells, key=lambda c: (order.get(c.name, len(order)), c.name)):
                exercises[(nb.name, cell.name)] = Exercise(nb.name, cell.name, float(cell.max_score))
        max_total = float(a.max_score or 0)
        totals: dict[str, float] = {}
        for sub in sorted(a.submissions, key=lambda s: s.student.id):
            student = sub.student.id
            totals[student] = float(sub.score or 0)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    key = (nb.name, grade.name)
                    if key in exercises:
                        exercises[key].scores.append(float(grade.score or 0))
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
                if failed is None:
                    ex.failures[NO_NOTEBOOK] += 1
                elif name in failed:
                    ex.failures[failed[name]] += 1
    return list(exercises.values()), totals, max_total


def _cell_order(ws, assignment: str, notebook: str) -> dict[str, int]:
    path = ws.directory("source", ".", assignment) / f"{notebook}.ipynb"
    try:
        cells = read_notebook(path).cells
    except Exception:
        return {}
    return {grade_id(c): i for i, c in enumerate(cells) if grade_id(c)}


def _failures(path: Path) -> dict[str, str]:
    """grade_id -> failure message of each test cell that ended in an error."""
    try:
        nb = read_notebook(path)
    except Exception:
        return {}
    failed = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_test_cell(cell):
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            failed[grade_id(cell)] = failure_message(errors[-1])
    return failed


def report(
    workspace: Path | None,
    assignment: str,
    *,
    output: Path | None = None,
    top: int = 3,
    echo: Echo = print,
) -> int:
    ws = open_workspace(workspace)
    if top < 1:
        raise UsageError(f"--top must be at least 1, got {top}")
    exercises, totals, max_total = collect_exercises(ws, assignment)
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
         f"{ex.share('full'):.0%}", f"{ex.share('partial'):.0%}", f"{ex.share('zero'):.0%}"]
        for ex in exercises
    ]
    score_header = ["exercise", "points", "mean", "full marks", "partial", "zero"]
    failure_rows = []
    for ex in exercises:
        for message, count in ex.failures.most_common(top):
            failure_rows.append([ex.label, str(count), message])
    failure_header = ["exercise", "students", "failure message"]

    echo(summary)
    echo("")
    for line in format_table(score_header, score_rows):
        echo(line)
    echo("")
    if failure_rows:
        echo(f"most common failures (top {top} per exercise)")
        for line in format_table(failure_header, failure_rows):
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
        lines += ["## Most common failures", ""] + _markdown_table(failure_header, failure_rows)
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    echo("")
    echo(f"wrote {figure_path} and {markdown}")
    return 0


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

    kinds = [("full", "full marks", PALETTE[2], None), ("partial", "partial", PALETTE[1], "//"), ("zero", "zero", PALETTE[3], "xx")]
    height = 1.2 + 0.38 * len(exercises)
    fig = Figure(figsize=(8, height + 2.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    bars, hist = fig.subplots(2, 1, height_ratios=[height, 2.4])

    y = np.arange(len(exercises))
    left = np.zeros(len(exercises))
    for kind, label, color, hatch in kinds:
        share = np.array([100 * ex.share(kind) for ex in exercises])
        bars.barh(y, share, left=left, color=color, hatch=hatch, edgecolor="white", label=label)
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

    hardest = min(exercises, key=lambda ex: ex.share("full")) if exercises else None
    alt = (
        f"Stacked horizontal bars: for each of the {len(exercises)} exercises of {assignment}, the share of the "
        f"{len(totals)} students with full marks, partial marks and zero"
        + (f"; the hardest is {hardest.label} ({hardest.share('full'):.0%} full marks)" if hardest else "")
        + f". Below, a histogram of total scores out of {_num(max_total)}, median {_num(statistics.median(totals))}."
    )
    fig.savefig(path, format="png", metadata={"Title": f"{assignment} report", "Description": alt, "Software": None})
    return alt
