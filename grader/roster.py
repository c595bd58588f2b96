"""The class list: ``WORKSPACE/roster.csv`` (optional).

One row per student, UTF-8 CSV with a header. Only ``student`` is required;
the other columns are what the learning platform needs to take grades back::

    student,name,email,canvas_id,sis_user_id,sis_login_id,section
    smithalice,"Smith, Alice",alice@uni.example,1001,S1001,asmith,DNN 2026

* ``student``: the id used in the workspace (``submitted/<student>/``), e.g.
  the name part of Canvas's file names (``smithalice_1001_5010_...``);
* ``name``: shown in exports (Canvas's *Student* column: "Last, First");
* ``email``: Moodle matches students on it (*Email address*);
* ``canvas_id``: Canvas's numeric user id, the first number in its file names;
  ``collect`` files a Canvas export under the roster's ``student`` of that id;
* ``sis_user_id``, ``sis_login_id``, ``section``: Canvas's columns of the same
  names (also Moodle's *ID number*: ``sis_user_id``).

With a roster, every student on it appears in every export, with 0 and the
reason when nothing of theirs was graded; without one, the exports list the
students the gradebook knows.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

ROSTER_FILE = "roster.csv"
COLUMNS = ("student", "name", "email", "canvas_id", "sis_user_id", "sis_login_id", "section")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Student:
    student: str
    name: str = ""
    email: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


def roster_path(workspace: Path) -> Path:
    return Path(workspace) / ROSTER_FILE


def read_roster(workspace: Path) -> dict[str, Student] | None:
    """The workspace's roster by student id, or None when it has none. Bad rows: UsageError naming the line."""
    path = roster_path(workspace)
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; save it as 'CSV UTF-8'") from None
    rows = csv.DictReader(text.splitlines())
    header = [h.strip() for h in rows.fieldnames or []]
    if "student" not in header:
        raise UsageError(f"{path}: the first line must name the columns, with at least 'student' (columns: {', '.join(COLUMNS)})")
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        raise UsageError(f"{path}: unknown column(s) {', '.join(unknown)}; known: {', '.join(COLUMNS)}")
    roster: dict[str, Student] = {}
    canvas_ids: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        student = values.get("student", "")
        if not any(values.values()):
            continue
        if not STUDENT_ID.match(student):
            raise UsageError(
                f"{path}, line {line}: {student!r} is not a usable student id "
                "(letters, digits, '.', '-', '_', starting with a letter or digit)"
            )
        if student in roster:
            raise UsageError(f"{path}, line {line}: student {student!r} is listed twice")
        entry = Student(**{k: values.get(k, "") for k in COLUMNS})
        if entry.canvas_id:
            if entry.canvas_id in canvas_ids:
                raise UsageError(
                    f"{path}, line {line}: canvas_id {entry.canvas_id} is also {canvas_ids[entry.canvas_id]!r}'s"
                )
            canvas_ids[entry.canvas_id] = student
        roster[student] = entry
    return roster


def by_canvas_id(roster: dict[str, Student] | None) -> dict[str, str]:
    """Canvas user id -> student id, for the roster's students that have one."""
    return {s.canvas_id: s.student for s in (roster or {}).values() if s.canvas_id}
