"""``grader collect``: submissions as learning platforms export them -> ``submitted/``.

Two naming patterns are understood (``NOTEBOOK`` is a notebook of the
assignment, e.g. ``02_initialization``; a student id is letters, digits,
``.``, ``-`` and ``_``, starting with a letter or digit):

1. **one archive or folder per student**: ``<student>.zip`` or ``<student>/``
   holding the notebooks anywhere inside, e.g. ``alice.zip`` with
   ``week1/02_initialization.ipynb`` or just ``02_initialization.ipynb``;
2. **one file per notebook, student first** (Canvas-like bulk downloads):
   ``<student>_NOTEBOOK.ipynb``, ``<student>_<anything>_NOTEBOOK.ipynb`` or
   Canvas's ``<student>[_LATE]_<user id>_<file id>_<the student's file name>``,
   e.g. ``smithalice_LATE_1001_5010_02_initialization-1.ipynb``: student
   ``smithalice``, Canvas user id ``1001`` (kept for the grade import; with a
   roster, the roster's student of that ``canvas_id``), marked late.

File names are matched to the assignment's notebooks as students and
platforms mangle them, when the match is unambiguous: browser download
suffixes (``02_initialization (1).ipynb``), Jupyter's copies
(``-Copy1``), Canvas's resubmission suffix (``-1``), another case, spaces
for underscores, a missing number prefix (``Regularization.ipynb`` for
``03_regularization``). An exact name wins over a mangled one.

Each notebook goes to ``submitted/<student>/<assignment>/NOTEBOOK.ipynb``,
with nbgrader's ``timestamp.txt``: when it was handed in (the newest
modification time of the files taken, as the export's zip entries or files
carry it; a platform's ``LATE`` mark on a submission dated before the due
date moves it to just after the due date). ``collected/<assignment>.json``
keeps per student the platform id, the late mark, the time and which file
became which notebook.

The folder read from is never modified. Every file not used is reported
with the reason. Problems cost only what they concern: a bad or encrypted
zip, an entry that would land outside the submission (``../x``, an absolute
path), or a link costs that zip or file; a notebook that is not valid
notebook JSON, or two different files for one notebook, cost that notebook
(the student's other notebooks are collected). Files that are not notebooks
(notes, PDFs) and notebooks that match no notebook of the assignment are
listed as not used, and are no error. A student who already has a submission
keeps it unless ``--replace`` is given; then the old one is first moved to
``collect-backups/<time>/<student>/<assignment>/`` and the path is printed.
A submission identical to the one in place is left alone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from .errors import UsageError
from .console import Echo, format_table
from .console import stderr as _stderr
from .roster import STUDENT_ID

# What browsers, Jupyter and platforms append to a file name: " (1)", "-Copy1", "-1".
MANGLED = re.compile(r"(?:\s*\(\d+\)|-Copy\d*|-\d+)+$", re.IGNORECASE)
# Canvas bulk downloads: <name>[_LATE]_<user id>_<file id>_<the student's file name>
CANVAS = re.compile(r"^(?P<student>[^_]+?)(?P<late>_LATE)?_(?P<uid>\d+)_(?P<fid>\d+)_(?P<rest>.+)$")
MAX_NOTEBOOK_BYTES = 50 * 2**20  # a course notebook with outputs is a few MB
MAX_ZIP_ENTRIES = 10_000
SKIPPED = ("__MACOSX", ".ipynb_checkpoints")
RECORD_DIR = "collected"
TIMESTAMP = "timestamp.txt"


@dataclass
class Found:
    """One file that became (or was meant to become) a notebook of the assignment."""

    notebook: str  # NOTEBOOK.ipynb
    origin: str  # where it came from, for people: "alice.zip: week1/02_init (1).ipynb"
    data: bytes
    mtime: float  # seconds since the epoch
    exact: bool  # the file had the notebook's own name


@dataclass
class Incoming:
    student: str
    found: list[Found] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # names in the folder it came from
    problems: list[str] = field(default_factory=list)  # cost a notebook: exit 1
    unused: list[str] = field(default_factory=list)  # files not taken, with the reason: no error
    platform_id: str = ""
    late_mark: bool = False
    notebooks: dict[str, bytes] = field(default_factory=dict)  # chosen: NOTEBOOK.ipynb -> content
    origins: dict[str, str] = field(default_factory=dict)
    newest: float = 0.0  # modification time of the newest file taken
    submitted_at: datetime | None = None


class _Refused(Exception):
    """A whole source file is unusable."""


def collect(
    workspace: Path | None,
    assignment: str,
    folder: Path,
    *,
    replace: bool = False,
    dry_run: bool = False,
    echo: Echo = print,
    warn: Echo = _stderr,
) -> int:
    """Copy the submissions in ``folder`` into the workspace; 1 if anything handed in could not be taken."""
    from .workspace import open_workspace

    ws = open_workspace(workspace)
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder (expected a folder of per-student zips or notebooks)")
    if folder.resolve() == ws.submitted or ws.submitted in folder.resolve().parents:
        raise UsageError(f"{folder} is inside the workspace's submitted/ folder; collect from the platform's export")

    from nbgrader.api import Gradebook

    from . import lateness
    from .grading import read_tree, replace_tree
    from .roster import by_canvas_id, read_roster
    from .workspace import find_assignment, validate_notebook_bytes

    with Gradebook(ws.db_url, ws.course_id) as gb:
        notebooks = sorted(nb.name for nb in find_assignment(gb, assignment).notebooks)
    if not notebooks:
        raise UsageError(f"assignment {assignment!r} has no notebooks in the gradebook")
    roster = read_roster(ws.path)
    canvas_students = by_canvas_id(roster)
    due = lateness.due_date(lateness.policy(ws.config), assignment)

    incoming: dict[str, Incoming] = {}
    errors: list[str] = []
    notes: list[str] = []

    def entry_for(student: str) -> Incoming:
        return incoming.setdefault(student, Incoming(student))

    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(".") or name in SKIPPED:
            continue
        try:
            if path.is_symlink():
                raise _Refused("a symbolic link; not followed")
            if path.is_dir() or path.suffix.lower() == ".zip":
                student = _student_id(path.stem if path.is_file() else name)
                read = _read_folder if path.is_dir() else _read_zip
                probe = Incoming(student)
                read(path, notebooks, probe)  # a refused zip leaves no trace of a student
                entry = entry_for(student)
                entry.sources.append(name)
                entry.found += probe.found
                entry.unused += probe.unused
                continue
            canvas = CANVAS.match(path.name)
            if canvas:
                student = _student_id(canvas["student"])
                student = canvas_students.get(canvas["uid"], student)
                entry = entry_for(student)
                entry.platform_id = canvas["uid"]
                entry.late_mark = entry.late_mark or bool(canvas["late"])
                rest = canvas["rest"]
            elif path.suffix.lower() == ".ipynb" and match_notebook(path.stem, notebooks)[1] in ("exact", "renamed"):
                raise _Refused(
                    "a notebook without a student in its name; name it <student>_<notebook>.ipynb "
                    "or zip it as <student>.zip"
                )
            elif "_" in path.name:
                student, rest = path.name.split("_", 1)
                entry = entry_for(_student_id(student))
            else:
                notes.append(f"{name}: not used (neither a zip, a folder nor a <student>_<notebook>.ipynb file)")
                continue
            entry.sources.append(name)
            if path.suffix.lower() != ".ipynb":
                entry.unused.append(f"{name}: not a notebook")
                continue
            notebook, why = _match_canvas_rest(PurePosixPath(rest).stem, notebooks)
            if notebook is None:
                entry.unused.append(f"{name}: {why}")
                continue
            entry.found.append(Found(f"{notebook}.ipynb", name, _read_file(path), path.stat().st_mtime,
                                     exact=PurePosixPath(rest).stem == notebook))
        except _Refused as exc:
            errors.append(f"{name}: {exc}")

    if not incoming and not errors and not notes:
        raise UsageError(f"{folder} holds no zip, folder or notebook to collect")

    if roster is not None:
        strangers = sorted(s for s in incoming if s not in roster)
        for student in strangers:
            notes.append(f"{student} ({', '.join(incoming[student].sources)}) is not on the roster ({ws.path / 'roster.csv'}); "
                         "collected anyway, add a row to name them in the exports")

    rows = []
    backups = ws.path / "collect-backups" / time.strftime("%Y%m%d-%H%M%S")
    collected = 0
    taken: dict[str, Incoming] = {}
    refused: dict[str, Incoming] = {}  # nothing usable: the exports say why they score 0
    for student in sorted(incoming):
        entry = incoming[student]
        _choose(entry, validate_notebook_bytes)
        sources = ", ".join(entry.sources)
        errors.extend(f"{student} ({sources}): {problem}" for problem in entry.problems)
        notes.extend(f"{student}: {line}" for line in entry.unused)
        if not entry.notebooks:
            if not entry.problems:
                entry.problems.append(f"no notebook of {assignment} ({', '.join(notebooks)}) inside")
                errors.append(f"{student} ({sources}): {entry.problems[-1]}")
            rows.append([student, "-", sources, "refused"])
            refused[student] = entry
            continue
        entry.submitted_at = _submission_time(entry, due, notes)
        target = ws.submitted / student / assignment
        names = ", ".join(Path(n).stem for n in sorted(entry.notebooks))
        existing = read_tree(target) if target.exists() else None
        if existing is not None and {k: v for k, v in existing.items() if k != TIMESTAMP} == entry.notebooks:
            rows.append([student, names, sources, "unchanged"])
            continue
        if existing is not None:
            if not replace:
                errors.append(
                    f"{student}: already has a submission in {target}; nothing changed "
                    "(rerun with --replace to keep it in collect-backups/ and take the new one)"
                )
                rows.append([student, names, sources, "kept the earlier submission"])
                continue
            backup = backups / student / assignment
            status = f"replaced (earlier one moved to {backup})"
        else:
            status = "collected"
        if entry.late_mark:
            status += ", marked LATE"
        if dry_run:
            rows.append([student, names, sources, f"would be {status}"])
            continue
        if existing is not None:
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(target), str(backup))
        replace_tree(target, {**entry.notebooks, TIMESTAMP: lateness.timestamp_text(entry.submitted_at).encode()})
        taken[student] = entry
        collected += 1
        rows.append([student, names, sources, status])

    if rows:
        for line in format_table(["student", "notebooks", "from", "status"], rows):
            echo(line)
    if dry_run:
        count = sum(1 for r in rows if r[3].startswith("would be"))
        echo(f"dry run: would collect {count} submission(s) of {assignment} from {folder}; nothing written")
    else:
        _write_record(ws.path, assignment, taken, refused)
        echo(f"collected {collected} submission(s) of {assignment} from {folder} into {ws.submitted}")
    if roster is not None:
        absent = sorted(s for s in roster if s not in incoming and not (ws.submitted / s / assignment).is_dir())
        if absent:
            notes.append(f"on the roster, nothing of {assignment} handed in: {', '.join(absent)} (they score 0)")
    for line in notes:
        warn(f"note: {line}")
    for line in errors:
        warn(f"error: {line}")
    return 1 if errors else 0


# ------------------------------------------------------------ names


def _key(stem: str) -> str:
    return re.sub(r"[\s\-.]+", "_", stem.strip().lower())


def _unnumbered(key: str) -> str:
    return re.sub(r"^\d+_", "", key)


def match_notebook(stem: str, notebooks: list[str]) -> tuple[str | None, str]:
    """The notebook of the assignment a file name ``stem`` stands for, or (None, why not).

    Exact names first; then without download/copy suffixes, case, spaces; then
    without the number prefix. Only a single candidate is a match.
    """
    if stem in notebooks:
        return stem, "exact"
    key = _key(MANGLED.sub("", stem))
    for how, same in (("renamed", lambda n: _key(n) == key),
                      ("renamed, number prefix missing", lambda n: _unnumbered(_key(n)) == _unnumbered(key))):
        hits = [n for n in notebooks if same(n)]
        if len(hits) == 1:
            return hits[0], how
        if len(hits) > 1:
            return None, f"could be any of {', '.join(hits)}; rename it"
    return None, f"matches no notebook of the assignment ({', '.join(notebooks)})"


def _match_canvas_rest(rest: str, notebooks: list[str]) -> tuple[str | None, str]:
    """The student's own file name, or ``<anything>_NOTEBOOK``: the longest tail that is a notebook."""
    notebook, why = match_notebook(rest, notebooks)
    if notebook:
        return notebook, why
    for cut in (m.end() for m in re.finditer("_", rest)):
        tail, _ = match_notebook(rest[cut:], notebooks)
        if tail:
            return tail, "renamed"
    return None, why


def _student_id(student: str) -> str:
    if not STUDENT_ID.match(student):
        raise _Refused(
            f"{student!r} is not a usable student id (letters, digits, '.', '-', '_', starting with a letter or digit); rename it"
        )
    return student


# ------------------------------------------------------------ choosing


def _choose(entry: Incoming, validate: Callable[[bytes], str | None]) -> None:
    """Pick one file per notebook: valid ones only, an exact name over a renamed copy;
    two different files with equal claims cost that notebook."""
    by_notebook: dict[str, list[Found]] = {}
    for found in entry.found:
        by_notebook.setdefault(found.notebook, []).append(found)
    for notebook, candidates in sorted(by_notebook.items()):
        valid = []
        for found in candidates:
            reason = validate(found.data)
            if reason:
                entry.problems.append(f"{found.origin} ({notebook}) is not a valid notebook: {reason}")
            else:
                valid.append(found)
        if not valid:
            continue
        best = [f for f in valid if f.exact] or valid
        if len({f.data for f in best}) > 1:
            entry.problems.append(
                f"{notebook} comes {len(best)} times, different each time ({'; '.join(f.origin for f in best)}); "
                "none taken: keep one"
            )
            continue
        chosen = best[0]
        entry.notebooks[notebook] = chosen.data
        entry.origins[notebook] = chosen.origin
        entry.newest = max(entry.newest, chosen.mtime)
        for other in valid:
            if other is not chosen and other.data != chosen.data:
                entry.unused.append(f"{other.origin}: not used, {chosen.origin} was taken as {notebook}")
        if not chosen.exact:
            entry.unused.append(f"{chosen.origin}: taken as {notebook}")  # said, so nobody wonders


def _submission_time(entry: Incoming, due, notes: list[str]) -> datetime:
    moment = datetime.fromtimestamp(entry.newest or time.time(), UTC)
    if entry.late_mark and due is not None and moment <= due:
        notes.append(
            f"{entry.student}: the platform marked it LATE but its files date from {moment:%Y-%m-%d %H:%M} UTC, "
            f"before the due date; taken as handed in just after the due date"
        )
        moment = due.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def _write_record(workspace: Path, assignment: str, taken: dict[str, Incoming], refused: dict[str, Incoming]) -> None:
    """Add what was collected now to ``collected/<assignment>.json`` (one entry per student, newest wins;
    a refused submission is noted only for a student with nothing collected before)."""
    if not taken and not refused:
        return
    record = read_record(workspace, assignment)
    for student, entry in refused.items():
        if student not in record or record[student].get("refused"):
            record[student] = {"platform_id": entry.platform_id, "refused": entry.problems, "sources": entry.sources}
    for student, entry in taken.items():
        record[student] = {
            "platform_id": entry.platform_id,
            "late_mark": entry.late_mark,
            "submitted_at": entry.submitted_at.isoformat() if entry.submitted_at else None,
            "notebooks": dict(sorted(entry.origins.items())),
            "sources": entry.sources,
            "problems": entry.problems,
        }
    path = workspace / RECORD_DIR / f"{assignment}.json"
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dict(sorted(record.items())), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def read_record(workspace: Path, assignment: str) -> dict[str, dict]:
    """What ``collect`` recorded for ``assignment``: student -> platform id, late mark, time, files."""
    path = Path(workspace) / RECORD_DIR / f"{assignment}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# ------------------------------------------------------------ reading


def _read_file(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise _Refused(f"{size / 2**20:.0f} MB, larger than a notebook of this course can be ({MAX_NOTEBOOK_BYTES // 2**20} MB)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _Refused(f"cannot be read ({exc.strerror})") from None


def _classify(parts: tuple[str, ...], notebooks: list[str], origin: str, entry: Incoming) -> tuple[str, bool] | None:
    """``(NOTEBOOK.ipynb, exact)`` for a file inside a zip/folder that stands for a notebook;
    None otherwise (junk is skipped quietly, other files are noted as not used)."""
    if any(part in SKIPPED or part.startswith("._") or part.startswith(".") for part in parts):
        return None
    name = PurePosixPath(parts[-1])
    if name.suffix.lower() != ".ipynb":
        entry.unused.append(f"{origin}: not a notebook")
        return None
    notebook, why = match_notebook(name.stem, notebooks)
    if notebook is None:
        entry.unused.append(f"{origin}: {why}")
        return None
    return f"{notebook}.ipynb", name.stem == notebook


def _read_zip(path: Path, notebooks: list[str], entry: Incoming) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise _Refused("not a readable zip archive (damaged, or not a zip)") from None
    except OSError as exc:
        raise _Refused(f"cannot be read ({exc.strerror})") from None
    found: list[Found] = []
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise _Refused(f"{len(entries)} entries; more than a submission can hold ({MAX_ZIP_ENTRIES})")
        for info in entries:  # check every entry before taking any
            name = info.filename.replace("\\", "/")
            pure = PurePosixPath(name)
            if pure.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in pure.parts:
                raise _Refused(f"entry {info.filename!r} would land outside the submission; nothing taken from this zip")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise _Refused(f"entry {info.filename!r} is a symbolic link; nothing taken from this zip")
            if info.flag_bits & 0x1:
                raise _Refused("encrypted; ask for an unencrypted zip")
        for info in entries:
            if info.is_dir():
                continue
            parts = tuple(p for p in PurePosixPath(info.filename.replace("\\", "/")).parts if p not in ("", "."))
            origin = f"{path.name}: {'/'.join(parts)}"
            target = _classify(parts, notebooks, origin, entry)
            if target is None:
                continue
            if info.file_size > MAX_NOTEBOOK_BYTES:
                raise _Refused(f"{info.filename} unpacks to {info.file_size / 2**20:.0f} MB, larger than a notebook can be")
            try:
                with archive.open(info) as fh:
                    data = fh.read(MAX_NOTEBOOK_BYTES + 1)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise _Refused(f"{info.filename} cannot be unpacked ({exc})") from None
            if len(data) > MAX_NOTEBOOK_BYTES:
                raise _Refused(f"{info.filename} unpacks to more than a notebook can be")
            found.append(Found(target[0], origin, data, _zip_time(info, path), target[1]))
    entry.found.extend(found)


def _zip_time(info: zipfile.ZipInfo, path: Path) -> float:
    try:
        return time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        return path.stat().st_mtime


def _read_folder(path: Path, notebooks: list[str], entry: Incoming) -> None:
    found: list[Found] = []
    for root, dirs, names in os.walk(path):  # symbolic links to folders are not entered
        dirs.sort()
        for name in sorted(names):
            item = Path(root) / name
            rel = item.relative_to(path)
            origin = f"{path.name}/{rel.as_posix()}"
            target = _classify(rel.parts, notebooks, origin, entry)
            if target is None:
                continue
            if item.is_symlink():
                raise _Refused(f"{rel.as_posix()} is a symbolic link; not followed")
            found.append(Found(target[0], origin, _read_file(item), item.stat().st_mtime, target[1]))
    entry.found.extend(found)
