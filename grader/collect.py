"""``grader collect``: submissions as learning platforms export them -> ``submitted/``.

Two naming patterns are understood (``NOTEBOOK`` is a notebook of the
assignment, e.g. ``02_initialization``; a student id is letters, digits,
``.``, ``-`` and ``_``, starting with a letter or digit):

1. **one archive or folder per student**: ``<student>.zip`` or ``<student>/``
   holding the notebooks anywhere inside, e.g. ``alice.zip`` with
   ``week1/02_initialization.ipynb`` or just ``02_initialization.ipynb``;
2. **one file per notebook, student first** (Canvas-like bulk downloads):
   ``<student>_NOTEBOOK.ipynb`` or ``<student>_<anything>_NOTEBOOK.ipynb``,
   e.g. ``bob_02_initialization.ipynb`` or
   ``smithjane_LATE_12345_67890_02_initialization-1.ipynb`` (student
   ``smithjane``: the text before the first ``_``; the ``-1`` a platform
   adds to a resubmitted file is ignored).

Each notebook goes to ``submitted/<student>/<assignment>/NOTEBOOK.ipynb``.
The folder read from is never modified. Problems are reported one line each
and cost only what they concern: a file that is neither (bad or encrypted
zip, a zip entry that would land outside the submission such as ``../x`` or
an absolute path, a link, a notebook that is not valid notebook JSON, an
unknown notebook name, two copies of one notebook). A student who already
has a submission keeps it unless ``--replace`` is given; then the old one is
first moved to ``collect-backups/<time>/<student>/<assignment>/`` and the
path is printed. A submission identical to the one in place is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import UsageError
from .console import Echo, format_table
from .console import stderr as _stderr
from .grading import read_tree, replace_tree
from .workspace import find_assignment, open_workspace, validate_notebook_bytes

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
RESUBMITTED = re.compile(r"-\d+$")  # Canvas: 02_initialization-1.ipynb
MAX_NOTEBOOK_BYTES = 50 * 2**20  # a course notebook with outputs is a few MB
MAX_ZIP_ENTRIES = 10_000
SKIPPED = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Incoming:
    student: str
    notebooks: dict[str, bytes] = field(default_factory=dict)  # NOTEBOOK.ipynb -> content
    sources: list[str] = field(default_factory=list)  # names in the folder it came from
    problems: list[str] = field(default_factory=list)


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
    """Copy the submissions in ``folder`` into the workspace; 1 if anything was refused."""
    from nbgrader.api import Gradebook

    ws = open_workspace(workspace)
    with Gradebook(ws.db_url, ws.course_id) as gb:
        notebooks = sorted(nb.name for nb in find_assignment(gb, assignment).notebooks)
    if not notebooks:
        raise UsageError(f"assignment {assignment!r} has no notebooks in the gradebook")
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder (expected a folder of per-student zips or notebooks)")
    if folder.resolve() == ws.submitted or ws.submitted in folder.resolve().parents:
        raise UsageError(f"{folder} is inside the workspace's submitted/ folder; collect from the platform's export")

    incoming: dict[str, Incoming] = {}
    errors: list[str] = []

    def take(student: str, source: str, files: dict[str, bytes]) -> None:
        entry = incoming.setdefault(student, Incoming(student))
        entry.sources.append(source)
        for name, data in files.items():
            if name in entry.notebooks:
                entry.problems.append(f"{name} comes twice ({', '.join(entry.sources)}); keep one")
            entry.notebooks[name] = data

    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(".") or name in SKIPPED:
            continue
        try:
            if path.is_symlink():
                raise _Refused("a symbolic link; not followed")
            if path.is_dir() or path.suffix.lower() == ".zip":
                student = _student_id(path.stem if path.is_file() else name)
                files = _read_folder(path, notebooks) if path.is_dir() else _read_zip(path, notebooks)
                take(student, name, files)
            elif path.suffix.lower() == ".ipynb":
                student, notebook = _match_notebook_file(path.stem, notebooks)
                take(student, name, {f"{notebook}.ipynb": _read_file(path)})
            else:
                raise _Refused("neither a zip, a folder nor a notebook (.ipynb)")
        except _Refused as exc:
            errors.append(f"{name}: {exc}")

    if not incoming and not errors:
        raise UsageError(f"{folder} holds no zip, folder or notebook to collect")
    rows = []
    backups = ws.path / "collect-backups" / time.strftime("%Y%m%d-%H%M%S")
    collected = 0
    for student in sorted(incoming):
        entry = incoming[student]
        for nb_name, data in sorted(entry.notebooks.items()):
            reason = validate_notebook_bytes(data)
            if reason:
                entry.problems.append(f"{nb_name} is not a valid notebook: {reason}")
        sources = ", ".join(entry.sources)
        if entry.problems:
            errors.extend(f"{student} ({sources}): {problem}" for problem in entry.problems)
            rows.append([student, "-", sources, "refused"])
            continue
        if not entry.notebooks:
            errors.append(f"{student} ({sources}): no notebook of {assignment} ({', '.join(notebooks)}) inside")
            rows.append([student, "-", sources, "refused"])
            continue
        target = ws.submitted / student / assignment
        names = ", ".join(Path(n).stem for n in sorted(entry.notebooks))
        existing = read_tree(target) if target.exists() else None
        if existing == entry.notebooks:
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
        if dry_run:
            rows.append([student, names, sources, f"would be {status}"])
            continue
        if existing is not None:
            backup.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(target), str(backup))
        replace_tree(target, entry.notebooks)
        collected += 1
        rows.append([student, names, sources, status])

    if rows:
        for line in format_table(["student", "notebooks", "from", "status"], rows):
            echo(line)
    if dry_run:
        count = sum(1 for r in rows if r[3].startswith("would be"))
        echo(f"dry run: would collect {count} submission(s) of {assignment} from {folder}; nothing written")
    else:
        echo(f"collected {collected} submission(s) of {assignment} from {folder} into {ws.submitted}")
    for line in errors:
        warn(f"error: {line}")
    return 1 if errors else 0


def _student_id(student: str) -> str:
    if not STUDENT_ID.match(student):
        raise _Refused(
            f"{student!r} is not a usable student id (letters, digits, '.', '-', '_', starting with a letter or digit); rename it"
        )
    return student


def _match_notebook_file(stem: str, notebooks: list[str]) -> tuple[str, str]:
    """``<student>[_<anything>]_<notebook>`` -> (student, notebook)."""
    bare = RESUBMITTED.sub("", stem)
    for notebook in sorted(notebooks, key=len, reverse=True):
        if bare.endswith("_" + notebook) and len(bare) > len(notebook) + 1:
            prefix = bare[: -len(notebook) - 1]
            return _student_id(prefix.split("_", 1)[0]), notebook
    if bare in notebooks:
        raise _Refused("a notebook without a student in its name; name it <student>_<notebook>.ipynb or zip it as <student>.zip")
    raise _Refused(
        f"no notebook of the assignment in its name (expected <student>_<notebook>.ipynb with a notebook among: {', '.join(notebooks)})"
    )


def _read_file(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise _Refused(f"{size / 2**20:.0f} MB, larger than a notebook of this course can be ({MAX_NOTEBOOK_BYTES // 2**20} MB)")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _Refused(f"cannot be read ({exc.strerror})") from None


def _notebook_name(parts: tuple[str, ...], notebooks: list[str]) -> str | None:
    """``NOTEBOOK.ipynb`` when the path names a notebook of the assignment, else None."""
    if any(part in SKIPPED or part.startswith("._") for part in parts):
        return None
    name = PurePosixPath(parts[-1])
    if name.suffix.lower() != ".ipynb":
        return None
    stem = RESUBMITTED.sub("", name.stem)
    return f"{stem}.ipynb" if stem in notebooks else None


def _read_zip(path: Path, notebooks: list[str]) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise _Refused("not a readable zip archive (damaged, or not a zip)") from None
    except OSError as exc:
        raise _Refused(f"cannot be read ({exc.strerror})") from None
    files: dict[str, bytes] = {}
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
            target = _notebook_name(parts, notebooks)
            if target is None:
                continue
            if info.file_size > MAX_NOTEBOOK_BYTES:
                raise _Refused(f"{info.filename} unpacks to {info.file_size / 2**20:.0f} MB, larger than a notebook can be")
            if target in files:
                raise _Refused(f"holds {target} twice; keep one")
            try:
                with archive.open(info) as fh:
                    data = fh.read(MAX_NOTEBOOK_BYTES + 1)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise _Refused(f"{info.filename} cannot be unpacked ({exc})") from None
            if len(data) > MAX_NOTEBOOK_BYTES:
                raise _Refused(f"{info.filename} unpacks to more than a notebook can be")
            files[target] = data
    return files


def _read_folder(path: Path, notebooks: list[str]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for root, dirs, names in os.walk(path):  # symbolic links to folders are not entered
        dirs.sort()
        for name in sorted(names):
            item = Path(root) / name
            rel = item.relative_to(path)
            target = _notebook_name(rel.parts, notebooks)
            if target is None:
                continue
            if item.is_symlink():
                raise _Refused(f"{rel.as_posix()} is a symbolic link; not followed")
            if target in files:
                raise _Refused(f"holds {target} twice; keep one")
            files[target] = _read_file(item)
    return files
