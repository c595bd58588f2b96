"""``grader export``: grades for people and for the learning platform's gradebook import.

From the gradebook, the roster (``roster.csv``, optional) and what
``collect`` recorded (``collected/<assignment>.json``), into the output folder:

* ``grades.csv``: one row per student and assignment: ``student, name,
  assignment, score, max_score, late_penalty, grade, submitted_at, notes``.
  ``score`` is what the tests gave, ``grade`` is ``score - late_penalty``;
  ``notes`` says why a grade is 0 or lower (nothing handed in, no gradable
  notebook, late);
* ``exercise_scores.csv``: one row per student, assignment, notebook and
  test cell (``student, assignment, notebook, grade_id, score, max_score``);
* ``canvas_grades.csv``: Canvas's gradebook import layout: ``Student, ID,
  SIS User ID, SIS Login ID, Section``, then one column per assignment, a
  ``Points Possible`` row first, one row per student, grades after penalties;
* ``moodle_grades.csv``: for Moodle's *Import > CSV file*: ``Email address,
  ID number, Full name``, then one column per assignment; map *Email
  address* (or *ID number*) to the user, each assignment to a grade item.

Every student of the roster is in every file (0 and the reason when nothing
of theirs was graded), and so is everyone the gradebook, ``collect`` or
``submitted/`` knows. Rows are sorted by student id.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .console import Echo
from .console import number as _num
from .console import stderr as _stderr

GRADES_COLUMNS = ["student", "name", "assignment", "score", "max_score", "late_penalty", "grade", "submitted_at", "notes"]
EXERCISE_COLUMNS = ["student", "assignment", "notebook", "grade_id", "score", "max_score"]
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "Points Possible"
MOODLE_COLUMNS = ["Email address", "ID number", "Full name"]


@dataclass
class Grade:
    student: str
    assignment: str
    score: float
    max_score: float
    late_penalty: float = 0.0
    submitted_at: str = ""
    notes: str = ""

    @property
    def grade(self) -> float:
        return max(0.0, self.score - self.late_penalty)


def gather(ws) -> tuple[list[str], dict[str, float], dict[tuple[str, str], Grade], list[list[object]], dict, dict]:
    """(assignments, max score per assignment, grades by (student, assignment), exercise rows,
    roster or None, collect's records per assignment)."""
    from nbgrader.api import Gradebook, MissingEntry

    from .collect import read_record
    from .lateness import days_late, policy
    from .roster import read_roster

    roster = read_roster(ws.path)
    late_policy = policy(ws.config)
    grades: dict[tuple[str, str], Grade] = {}
    exercises: list[list[object]] = []
    with Gradebook(ws.db_url, ws.course_id) as gb:
        assignments = sorted((a for a in gb.assignments if a.num_submissions > 0), key=lambda a: a.name)
        names = [a.name for a in assignments]
        records = {a: read_record(ws.path, a) for a in names}
        students = {s.id for s in gb.students} | {s for r in records.values() for s in r}
        if ws.submitted.is_dir():  # handed in, not graded yet: still someone to list
            students |= {d.name for d in ws.submitted.iterdir() if any((d / a).is_dir() for a in names)}
        if roster is not None:
            students |= set(roster)
        if not assignments or not students:
            raise UsageError(f"nothing to export: no graded submissions in {ws.path}; run `python -m grader autograde` first")
        maxima = {a.name: float(a.max_score or 0) for a in assignments}
        for student in sorted(students):
            for assignment in assignments:
                record = records[assignment.name].get(student, {})
                try:
                    sub = gb.find_submission(assignment.name, student)
                except MissingEntry:
                    grades[(student, assignment.name)] = Grade(
                        student, assignment.name, 0.0, maxima[assignment.name], notes=_why_nothing(ws, student, assignment.name, record)
                    )
                    for nb in assignment.notebooks:
                        for cell in nb.grade_cells:
                            exercises.append([student, assignment.name, nb.name, cell.name, 0.0, cell.max_score])
                    continue
                notes = []
                if not any(ws.directory("autograded", student, assignment.name).glob("*.ipynb")):
                    notes.append("no gradable notebook handed in")
                penalty = float(sub.late_submission_penalty or 0)
                days = days_late(late_policy, float(sub.total_seconds_late or 0))
                if days:
                    notes.append(f"late {days} day(s)" + (f": -{_num(penalty)} point(s)" if penalty else ""))
                if record.get("late_mark"):
                    notes.append("marked LATE by the platform")
                grades[(student, assignment.name)] = Grade(
                    student, assignment.name, float(sub.score or 0), float(sub.max_score or 0), penalty,
                    sub.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC") if sub.timestamp else "", "; ".join(notes),
                )
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        exercises.append([student, assignment.name, nb.name, grade.name, grade.score, grade.max_score])
    exercises.sort(key=lambda row: tuple(str(v) for v in row[:4]))
    return names, maxima, grades, exercises, roster, records


def _why_nothing(ws, student: str, assignment: str, record: dict) -> str:
    if record.get("refused"):
        return "submission refused at collect: " + "; ".join(record["refused"])
    if (ws.submitted / student / assignment).is_dir():
        return "handed in, not graded yet: run `python -m grader autograde`"
    return "nothing handed in"


def export(workspace: Path | None, *, output: Path | None = None, echo: Echo = print, warn: Echo = _stderr) -> int:
    """Write ``grades.csv``, ``exercise_scores.csv``, ``canvas_grades.csv`` and ``moodle_grades.csv``."""
    from .roster import Student
    from .workspace import open_workspace

    ws = open_workspace(workspace)
    out = Path(output).expanduser().resolve() if output is not None else ws.path
    assignments, maxima, grades, exercises, roster, records = gather(ws)
    students = sorted({s for s, _ in grades})

    def person(student: str) -> Student:
        """The roster's row, with the Canvas id collect saw in the file names when the roster has none."""
        known = (roster or {}).get(student) or Student(student)
        seen = next((r[student]["platform_id"] for r in records.values() if r.get(student, {}).get("platform_id")), "")
        return known if known.canvas_id or not seen else Student(**{**known.__dict__, "canvas_id": seen})

    people = {s: person(s) for s in students}
    long_rows = []
    for (student, assignment), g in sorted(grades.items()):
        long_rows.append([student, people[student].name, assignment, g.score, g.max_score, g.late_penalty, g.grade,
                          g.submitted_at, g.notes])
    canvas_rows: list[list[object]] = [[CANVAS_POINTS_ROW, "", "", "", "", *(maxima[a] for a in assignments)]]
    moodle_rows: list[list[object]] = []
    for student in students:
        p = people[student]
        marks = [grades[(student, a)].grade for a in assignments]
        canvas_rows.append([p.name or student, p.canvas_id, p.sis_user_id, p.sis_login_id, p.section, *marks])
        moodle_rows.append([p.email, p.sis_user_id, p.name or student, *marks])

    out.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
        ("grades.csv", GRADES_COLUMNS, long_rows),
        ("exercise_scores.csv", EXERCISE_COLUMNS, exercises),
        ("canvas_grades.csv", CANVAS_COLUMNS + assignments, canvas_rows),
        ("moodle_grades.csv", MOODLE_COLUMNS + assignments, moodle_rows),
    ):
        path = out / name
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([_num(v) if isinstance(v, float | int) else v for v in row])
        echo(f"wrote {path} ({len(rows)} row(s))")
    unmatched = [s for s in students if not (people[s].canvas_id or people[s].sis_user_id or people[s].sis_login_id)]
    if unmatched:
        warn(f"note: Canvas cannot match {len(unmatched)} student(s) without an ID or SIS id ({', '.join(unmatched[:5])}"
             f"{', ...' if len(unmatched) > 5 else ''}): add them to {ws.path / 'roster.csv'}")
    no_email = [s for s in students if not people[s].email and not people[s].sis_user_id]
    if no_email:
        warn(f"note: Moodle cannot match {len(no_email)} student(s) without an email or ID number: add them to the roster")
    return 0
