"""``solutions/`` (nbgrader's source) -> ``notebooks/`` (its release), byte-stable and safe.

nbgrader's ``GenerateAssignment`` runs into a temporary directory with a
throwaway gradebook; the result is normalised (nbformat's formatting, a
trailing newline, the source's cell ids) and then synced into ``notebooks/``:

* identical files are not touched (not even their mtime);
* a notebook that looks like a student's work (see
  :func:`grader.notebooks.user_work_reasons`), or a differing non-notebook
  file, is moved to ``.backups/<timestamp>/notebooks/...`` before being replaced;
* files that no longer come from ``solutions/`` ("extra") are always moved to
  ``.backups``, never deleted.

What is managed: every directory ``notebooks/<name>/`` (when releasing all
assignments) and all files below it except nbgrader's ignore patterns
(``.ipynb_checkpoints``, ``__pycache__``, ...). Files directly in
``notebooks/`` are left alone. An assignment whose ``solutions/<name>/`` holds
no notebook is skipped and its ``notebooks/<name>/`` left alone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from . import config as grader_config
from ._nbgrader import run_converter
from .errors import PipelineError, UsageError
from .notebooks import notebook_text, read_notebook, user_work_reasons

SOURCE_DIR = "solutions"
RELEASE_DIR = "notebooks"
BACKUP_DIR = ".backups"
HINT = "run `python -m grader release` to regenerate notebooks/ from solutions/"


def _ignore_globs() -> list[str]:
    return list(grader_config.SHARED_SETTINGS["CourseDirectory"]["ignore"])  # type: ignore[arg-type]


def _files_under(directory: Path) -> list[Path]:
    """Files below ``directory`` except nbgrader's ignore patterns (nbgrader's own walk)."""
    from nbgrader.utils import find_all_files

    if not directory.is_dir():
        return []
    return sorted(Path(p) for p in find_all_files(str(directory), _ignore_globs()))


def _is_ignored(path: Path) -> bool:
    from nbgrader.utils import is_ignored

    return is_ignored(str(path), _ignore_globs())


# ------------------------------------------------------------ assignments


def known_assignments(root: Path) -> list[str]:
    """Assignment folders of ``solutions/`` (with or without notebooks), sorted."""
    source = root / SOURCE_DIR
    if not source.is_dir():
        raise UsageError(f"no {SOURCE_DIR}/ directory in {root}")
    return sorted(
        p.name for p in source.iterdir() if p.is_dir() and not p.name.startswith(".") and not _is_ignored(p)
    )


def source_notebooks(root: Path, assignment: str) -> list[Path]:
    """The notebooks nbgrader releases for ``assignment`` (``solutions/<assignment>/*.ipynb``)."""
    return sorted((root / SOURCE_DIR / assignment).glob("*.ipynb"))


def select_assignments(root: Path, names: Iterable[str] | None) -> list[str]:
    known = known_assignments(root)
    names = list(names or [])
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(
            f"unknown assignment {', '.join(repr(n) for n in unknown)}; "
            f"known assignments in {SOURCE_DIR}/: {', '.join(known) or '(none)'}"
        )
    return list(dict.fromkeys(names)) if names else known


# --------------------------------------------------------------- building


def build_release(root: Path, assignments: Iterable[str], *, verbose: bool = False) -> dict[str, bytes]:
    """Generate the student versions of ``assignments``: ``{"week1/x.ipynb": bytes}``.

    Assignments without notebooks are skipped. Nothing in ``root`` is written.
    """
    from nbgrader.converters import GenerateAssignment

    root = Path(root).resolve()
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
        tmp_path = Path(tmp)
        out_dir = tmp_path / "release"
        cfg = grader_config.repo_config(
            root, release_directory=str(out_dir), db_url=f"sqlite:///{tmp_path / 'gradebook.db'}"
        )
        for assignment in assignments:
            if not source_notebooks(root, assignment):
                continue
            _refuse_unsafe_skips(root, assignment)
            result = run_converter(
                GenerateAssignment,
                cfg,
                assignment_id=assignment,
                verbose=verbose,
                force=True,
                create_assignment=True,
            )
            if not result.success:
                raise PipelineError(
                    f"nbgrader could not generate {assignment} from {SOURCE_DIR}/{assignment}: "
                    + "; ".join(result.errors)
                )
            generated = out_dir / assignment
            for path in _files_under(generated):
                rel = path.relative_to(generated)
                key = f"{assignment}/{rel.as_posix()}"
                if path.suffix == ".ipynb":
                    source = root / SOURCE_DIR / assignment / rel
                    files[key] = _normalised(read_notebook(path), read_notebook(source)).encode("utf-8")
                else:
                    files[key] = path.read_bytes()
    return dict(sorted(files.items()))


def _refuse_unsafe_skips(root: Path, assignment: str) -> None:
    """A notebook whose cells tagged grader-skip-in-grading could change a grade is not released."""
    from .skipping import problems

    found = [f"{SOURCE_DIR}/{assignment}/{path.name}: {problem}"
             for path in source_notebooks(root, assignment) for problem in problems(read_notebook(path))]
    if found:
        raise PipelineError("cells tagged grader-skip-in-grading would change grades; untag them or move "
                            "what graded cells need out of them:\n  " + "\n  ".join(found))


def _normalised(nb: NotebookNode, source: NotebookNode) -> str:
    """Canonical text, with each cell keeping the id it has in the source notebook."""
    if len(nb.cells) == len(source.cells):
        for cell, src in zip(nb.cells, source.cells):
            if "id" in src:
                cell["id"] = src["id"]
            elif "id" in cell:
                del cell["id"]
    return notebook_text(nb)


# ------------------------------------------------------------- comparing


@dataclass(frozen=True)
class Difference:
    path: str  # relative to the root, posix: "notebooks/week1/x.ipynb"
    kind: str  # "differs", "missing" or "extra"
    note: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.kind}" + (f" ({self.note})" if self.note else "")


def _managed_dirs(root: Path, selected: list[str], all_assignments: bool) -> list[str]:
    """Folders of notebooks/ that this run owns."""
    with_notebooks = [a for a in selected if source_notebooks(root, a)]
    dirs = set(with_notebooks)
    if all_assignments:
        known = set(known_assignments(root))
        release = root / RELEASE_DIR
        if release.is_dir():
            dirs |= {
                p.name
                for p in release.iterdir()
                if p.is_dir() and p.name not in known and not _is_ignored(p)
            }
    return sorted(dirs)


def compare(root: Path, expected: dict[str, bytes], managed: list[str]) -> list[Difference]:
    """How ``notebooks/`` differs from ``expected`` within the ``managed`` folders."""
    release = root / RELEASE_DIR
    existing: dict[str, Path] = {}
    for name in managed:
        for path in _files_under(release / name):
            existing[path.relative_to(release).as_posix()] = path
    diffs: list[Difference] = []
    for key in sorted(set(expected) | set(existing)):
        shown = f"{RELEASE_DIR}/{key}"
        if key not in existing:
            diffs.append(Difference(shown, "missing"))
        elif key not in expected:
            diffs.append(Difference(shown, "extra", "not generated from solutions/"))
        elif existing[key].read_bytes() != expected[key]:
            note = ""
            if key.endswith(".ipynb"):
                reasons = _work_reasons(existing[key], expected[key])
                note = f"student work: {', '.join(reasons)}" if reasons else ""
            diffs.append(Difference(shown, "differs", note))
    return diffs


def _work_reasons(path: Path, fresh: bytes | None) -> list[str]:
    import nbformat

    try:
        nb = read_notebook(path)
    except Exception:  # unreadable: treat as precious
        return ["not a readable notebook"]
    fresh_nb = nbformat.reads(fresh.decode("utf-8"), as_version=4) if fresh is not None else None
    return user_work_reasons(nb, fresh_nb)


# --------------------------------------------------------------- syncing


@dataclass
class SyncReport:
    written: list[str]
    unchanged: int
    backups: list[tuple[str, str, str]]  # (path, backup path, reason)


class _Backups:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir: Path | None = None

    def move(self, path: Path) -> Path:
        if self.dir is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            candidate = self.root / BACKUP_DIR / stamp
            n = 1
            while candidate.exists():
                n += 1
                candidate = self.root / BACKUP_DIR / f"{stamp}-{n}"
            self.dir = candidate
        target = self.dir / path.relative_to(self.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
        return target


def sync(
    root: Path,
    expected: dict[str, bytes],
    managed: list[str],
    *,
    echo: Callable[[str], None] = print,
) -> SyncReport:
    """Make ``notebooks/`` match ``expected`` within ``managed`` folders, backing up work first."""
    release = root / RELEASE_DIR
    backups = _Backups(root)
    report = SyncReport(written=[], unchanged=0, backups=[])

    def back_up(path: Path, reason: str) -> None:
        target = backups.move(path)
        rel, rel_target = path.relative_to(root).as_posix(), target.relative_to(root).as_posix()
        report.backups.append((rel, rel_target, reason))
        echo(f"backed up {rel} ({reason}) -> {rel_target}")

    for diff in compare(root, expected, managed):
        key = diff.path[len(RELEASE_DIR) + 1 :]
        path = release / key
        if diff.kind == "extra":
            back_up(path, "no longer generated from solutions/")
            continue
        if diff.kind == "differs":
            if key.endswith(".ipynb"):
                reasons = _work_reasons(path, expected[key])
                if reasons:
                    back_up(path, "student work: " + ", ".join(reasons))
            else:
                back_up(path, "differs from solutions/")
        _atomic_write(path, expected[key])
        report.written.append(diff.path)
        echo(f"{'created' if diff.kind == 'missing' else 'updated'} {diff.path}")

    report.unchanged = len(expected) - len(report.written)
    _remove_empty_dirs(release, managed, expected)
    return report


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _remove_empty_dirs(release: Path, managed: list[str], expected: dict[str, bytes]) -> None:
    """Folders emptied by moving extra files away (never one that still has anything in it)."""
    keep = {release / Path(key).parent for key in expected} | {release}
    keep |= {p for d in list(keep) for p in d.parents}
    for name in managed:
        top = release / name
        if not top.is_dir():
            continue
        for dirpath, _dirnames, _files in sorted(os.walk(top), key=lambda t: -len(t[0])):
            d = Path(dirpath)
            if d not in keep and not any(d.iterdir()):
                d.rmdir()


# ------------------------------------------------------------ entry points


def release(
    root: Path,
    assignments: Iterable[str] | None = None,
    *,
    check: bool = False,
    verbose: bool = False,
    echo: Callable[[str], None] = print,
) -> int:
    """``python -m grader release``; returns the exit code (0 in sync / done, 1 check failed)."""
    root = Path(root).resolve()
    names = list(assignments or [])
    selected = select_assignments(root, names)
    expected = build_release(root, selected, verbose=verbose)
    managed = _managed_dirs(root, selected, all_assignments=not names)
    skipped = [a for a in selected if not source_notebooks(root, a)]

    if check:
        diffs = compare(root, expected, managed)
        if diffs:
            for diff in diffs:
                echo(str(diff))
            raise PipelineError(f"{RELEASE_DIR}/ is out of sync ({len(diffs)} file(s)); {HINT}")
        echo(f"{RELEASE_DIR}/ is in sync with {SOURCE_DIR}/ ({len(expected)} file(s) checked)")
        return 0

    report = sync(root, expected, managed, echo=echo)
    done = [a for a in selected if a not in skipped]
    if skipped and names:
        echo(f"nothing to release for {', '.join(skipped)}: no notebooks in {SOURCE_DIR}/")
    if not done and not report.written and not report.backups:
        return 0
    summary = (
        f"released {', '.join(done) or 'nothing'}: {len(report.written)} file(s) written, "
        f"{report.unchanged} unchanged"
    )
    if report.backups:
        summary += f", {len(report.backups)} backed up under {BACKUP_DIR}/"
    echo(summary)
    return 0
