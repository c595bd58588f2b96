"""nbgrader preprocessors of the secure autograder, and the one function that switches them on.

:func:`secure_config` changes an nbgrader ``Config`` so that whoever runs
nbgrader's ``Autograde`` with it (``grader autograde``, a parallel worker, or
plain ``nbgrader autograde`` with a config that calls it) grades untrusted
submissions safely:

sanitize step (``Autograde.sanitize_preprocessors``)
    ``ClearOutput`` -> :class:`NormalizeCells` -> ``DeduplicateIds`` ->
    ``OverwriteKernelspec`` -> ``OverwriteCells`` -> ``CheckCellMetadata``.
    :class:`NormalizeCells` replaces the nbgrader metadata of every cell by the
    gradebook's (a student cannot turn a cell into a graded one, change
    points, or unlock a cell), drops metadata naming no cell of the source,
    and puts back test cells the student deleted, so every graded function is
    graded. ``OverwriteCells`` then restores locked cells' sources.

autograde step (``Autograde.autograde_preprocessors``)
    :class:`SecureExecute` instead of nbgrader's ``Execute``, then nbgrader's
    own ``IgnorePattern``, ``ClearMetadataPreprocessor``, ``LimitOutput``,
    ``SaveAutoGrades``, ``AssignLatePenalties``, ``CheckCellMetadata``.

:class:`SecureExecute`

* cuts the hidden part out of every locked cell before anything runs (the
  kernel never receives it, and the graded notebook returned as feedback does
  not contain it);
* runs the kernel in a bubblewrap sandbox (:mod:`grader.secure.sandbox`; or, with
  ``sandboxed = False``, as a plain local kernel - for trusted work only);
* after a test cell's visible part has run without error, runs its hidden
  part in the grader (:mod:`grader.secure.trusted`) with the graded functions as
  proxies into the kernel, and when a hidden test fails appends an error
  output with the check's message, so ``SaveAutoGrades`` scores the cell 0;
* turns ``execute_result`` outputs of test cells into ``display_data`` (a
  number printed as a cell's result would otherwise be read by nbgrader as
  partial credit);
* enforces the wall-clock limit per notebook and an output budget, and when
  the kernel dies or is stopped, says why in that cell and marks every later
  test cell "not run" (0 points).

A test cell therefore scores its points only if its hidden tests pass in the
grader and its visible part ran without error.
"""
from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_output
from nbgrader import utils as nbgrader_utils
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds,
                                    Execute, IgnorePattern, LimitOutput, NbGraderPreprocessor,
                                    OverwriteCells, OverwriteKernelspec, SaveAutoGrades)
from traitlets import Bool
from traitlets.config import Config

from ..notebooks import grade_id, is_test_cell, read_notebook
from ..skipping import REASON as SKIP_REASON
from ..skipping import skipped_ids
from .remote import KernelSession
from .sandbox import Sandbox, SandboxKernelManager
from .trusted import run_hidden, split_hidden

FAILURE_NAME = "HiddenTestFailure"
STOPPED_NAME = "GradingStopped"


# ------------------------------------------------------------------ sanitize


class NormalizeCells(NbGraderPreprocessor):
    """nbgrader metadata of a submission made exactly the gradebook's; deleted test cells restored."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        from nbgrader.api import Gradebook

        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gb:
            source_nb = gb.find_notebook(info["notebook"], info["assignment"])
            sources = {c.name: (c.cell_type, c.source, bool(c.locked)) for c in source_nb.source_cells}
            grades = {c.name: float(c.max_score) for c in source_nb.grade_cells}
            solutions = {c.name for c in source_nb.solution_cells}
            tasks = {c.name for c in source_nb.task_cells}

        def canonical(name: str) -> dict:
            meta = {"grade": name in grades, "grade_id": name, "locked": sources[name][2],
                    "schema_version": 3, "solution": name in solutions, "task": name in tasks}
            if name in grades:
                meta["points"] = grades[name]
            return meta

        # Last occurrence wins, as in nbgrader's DeduplicateIds; earlier copies become ordinary cells
        # (nbgrader would leave them an empty nbgrader dict, which its validator then rejects).
        last: dict[str, int] = {}
        for index, cell in enumerate(nb.cells):
            if not isinstance(cell.get("metadata"), dict):
                cell["metadata"] = NotebookNode()
            meta = cell.metadata.get("nbgrader")
            name = meta.get("grade_id") if isinstance(meta, dict) else None
            if isinstance(name, str) and name in sources:
                last[name] = index
        present: list[str] = []
        for index, cell in enumerate(nb.cells):
            if "nbgrader" not in cell.metadata:
                continue
            meta = cell.metadata["nbgrader"]
            name = meta.get("grade_id") if isinstance(meta, dict) else None
            if isinstance(name, str) and last.get(name) == index:
                cell.metadata["nbgrader"] = NotebookNode(canonical(name))
                present.append(name)
            else:
                why = "a copy of a cell that appears later" if isinstance(name, str) and name in last \
                    else "nbgrader metadata naming no cell of the source"
                self.log.warning("cell %d has %s; it is graded as an ordinary cell", index, why)
                del cell.metadata["nbgrader"]

        # Graded cells the student deleted (or whose metadata they removed) come back from the
        # gradebook, right after the cell of the function they test when there is one.
        for name in sorted(grades):
            if name in present or name in solutions or sources[name][0] != "code":
                continue
            self.log.warning("graded cell %s is missing from the submission; restored from the source", name)
            cell_id = _free_id(nb, f"restored-{name}")
            cell = new_code_cell(sources[name][1], id=cell_id, metadata={"nbgrader": canonical(name)})
            target = name.removeprefix("test_")
            where = next((i for i, c in enumerate(nb.cells) if grade_id(c) == target), None)
            nb.cells.insert(len(nb.cells) if where is None else where + 1, cell)
            present.append(name)
        return nb, resources


def _free_id(nb: NotebookNode, base: str) -> str:
    taken = {c.get("id") for c in nb.cells}
    candidate, n = base[:64], 1
    while candidate in taken:
        n += 1
        candidate = f"{base[:60]}-{n}"
    return candidate


# ------------------------------------------------------------------ kernels started ahead


class _Ahead:
    """At most one sandboxed kernel started for the next notebook of the submission being graded.

    Only inside :func:`kernels_ahead`. It is a kernel like any other (its own sandbox, process, private
    file systems and copy of the submission folder): nothing runs in it before its notebook starts, and
    it is used only for a notebook of the same folder, limits and folder contents (notebooks aside,
    which the kernel never sees); otherwise it is killed and the notebook starts its own.
    """

    def __init__(self) -> None:
        self.remaining = 0
        self.km: SandboxKernelManager | None = None
        self.key: tuple | None = None

    def take(self, key: tuple) -> SandboxKernelManager | None:
        km, self.km = self.km, None
        if km is not None and self.key == key and km.sandbox is not None and km.sandbox.alive():
            return km
        self._discard(km)
        return None

    def keep(self, km: SandboxKernelManager, key: tuple) -> None:
        self._discard(self.km)
        self.km, self.key = km, key

    def discard(self) -> None:
        km, self.km = self.km, None
        self._discard(km)

    @staticmethod
    def _discard(km: SandboxKernelManager | None) -> None:
        if km is None:
            return
        from jupyter_core.utils import run_sync

        try:
            run_sync(km.shutdown_kernel)(now=True)
        finally:
            if km.sandbox is not None:
                km.sandbox.cleanup()


_AHEAD = _Ahead()


@contextlib.contextmanager
def kernels_ahead(notebooks: int) -> Iterator[None]:
    """While the block grades ``notebooks`` notebooks of one submission one after the other, each
    one's sandboxed kernel starts (about a second of Python, ipykernel and imports) while the one
    before it runs. Any kernel still waiting is killed when the block ends."""
    _AHEAD.remaining = max(0, notebooks - 1)
    try:
        yield
    finally:
        _AHEAD.remaining = 0
        _AHEAD.discard()


def _folder_state(folder: Path) -> tuple:
    """What a kernel's copy of ``folder`` depends on: its files other than notebooks, their sizes and times."""
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.relative_to(folder).as_posix(), st.st_size, st.st_mtime_ns)
                        for p in folder.rglob("*") if p.is_file() and p.suffix != ".ipynb"
                        for st in [p.stat()]))


# ------------------------------------------------------------------ execute


def _error(name: str, message: str) -> NotebookNode:
    return new_output("error", ename=name, evalue=message, traceback=[f"\x1b[0;31m{name}\x1b[0m: {message}"])


def _from_instructor(cell: NotebookNode) -> bool:
    """Cells whose source OverwriteCells restored from the source (locked or graded tests)."""
    return nbgrader_utils.is_locked(cell) or (cell.cell_type == "code" and is_test_cell(cell))


def _failed(cell: NotebookNode) -> bool:
    return any(o.get("output_type") == "error" or (o.get("output_type") == "stream" and o.get("name") == "stderr")
               for o in cell.get("outputs", []))


class SecureExecute(Execute):
    """nbgrader's ``Execute`` with hidden tests run by the grader and the kernel in a sandbox."""

    sandboxed = Bool(True, help="Run the kernel in a bubblewrap sandbox (grader.secure.sandbox). "
                     "False runs it as a plain local kernel: only for trusted work.").tag(config=True)
    skip_marked_cells = Bool(True, help="Do not run the source's locked cells tagged "
                             "grader-skip-in-grading (experiments and demos no grade depends on; "
                             "grader.skipping).").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = Sandbox(parent=self)

    # ------------------------------------------------------------ kernel

    def create_kernel_manager(self):
        # The notebook's kernelspec is the student's to edit: always this Python's ipykernel.
        if self.sandboxed:
            km = _AHEAD.take(self._kernel_key())
            if km is None:
                km = self._new_sandbox_km()
            else:
                km.started_ahead = True
            km.adopt(self._deadline)
        else:
            from jupyter_client.manager import AsyncKernelManager

            km = AsyncKernelManager(config=self.config, kernel_name="python3")
        self.km = km
        return km

    def _new_sandbox_km(self) -> SandboxKernelManager:
        km = SandboxKernelManager(config=self.config, kernel_name="python3")
        km.limits = self.limits
        km.hide = self._hide
        return km

    def _kernel_key(self) -> tuple:
        """Everything a sandboxed kernel's start depends on, but the notebook."""
        folder = Path(self.resources.get("metadata", {}).get("path") or ".").resolve()
        limits = tuple((name, getattr(self.limits, name)) for name in sorted(self.limits.trait_names(config=True)))
        return str(folder), _folder_state(folder), frozenset(h for h in self._hide if not h.endswith(".ipynb")), limits

    def _start_next_kernel(self) -> None:
        """Within :func:`kernels_ahead`: start the kernel of the next notebook now."""
        if not self.sandboxed or _AHEAD.remaining <= 0:
            return
        from jupyter_core.utils import run_sync

        _AHEAD.remaining -= 1
        key = self._kernel_key()   # before the kernel copies the folder
        km = self._new_sandbox_km()
        try:
            run_sync(km.start_kernel)(cwd=self.resources.get("metadata", {}).get("path") or None,
                                      extra_arguments=list(self.extra_arguments))
        except Exception as exc:   # the next notebook starts its own kernel, and says why if it cannot
            self.log.debug("no kernel started ahead: %s", exc)
            _AHEAD._discard(km)
            return
        _AHEAD.keep(km, key)

    def stop_reason(self) -> str:
        """Why the kernel is gone, for the student."""
        sandbox = getattr(self.km, "sandbox", None)
        reason = getattr(sandbox, "kill_reason", None)
        if reason == "time":
            return self._time_reason()
        if reason == "memory":
            return (f"the notebook's processes used more than {self.limits.memory_mb} MiB of memory, "
                    "so the kernel was stopped")
        return ("the Python kernel exited (os._exit, a crash, killing its own process, or going over "
                "the CPU-time or memory limit of a process)")

    def _time_reason(self) -> str:
        return (f"the notebook ran longer than {self.limits.wall_seconds} s (the time limit per notebook), "
                "so the kernel was stopped")

    def _stop(self, reason: str, index: int | None) -> None:
        """Grading of this notebook ends: later test cells say why they did not run."""
        if index is None:
            where = "earlier"
        else:
            name = grade_id(self.nb.cells[index])
            where = f"in cell {index + 1}" + (f" ({name})" if name else "")
        self._stopped = f"grading stopped {where}: {reason}"
        if self._session is not None:
            self._session.mark_stopped(self._stopped)
        sandbox = getattr(self.km, "sandbox", None)
        if sandbox is not None:
            sandbox.kill()

    # ------------------------------------------------------------ output budget

    def process_message(self, msg: dict, cell: NotebookNode, cell_index: int):
        if msg.get("msg_type") in ("status", "execute_input"):
            return super().process_message(msg, cell, cell_index)
        budget = self.limits.output_mb << 20
        if self._truncated:
            return None
        try:
            size = len(json.dumps(msg.get("content", {}), default=str))
        except (TypeError, ValueError):
            size = budget + 1
        if self._output_bytes + size <= budget:
            self._output_bytes += size
            return super().process_message(msg, cell, cell_index)
        # Over the budget: keep what still fits of a text stream, then drop everything else.
        room = budget - self._output_bytes
        content = msg.get("content", {})
        result = None
        if msg.get("msg_type") == "stream" and isinstance(content.get("text"), str) and room > 1024:
            result = super().process_message({**msg, "content": {**content, "text": content["text"][: room // 2]}},
                                             cell, cell_index)
        self._output_bytes = budget
        self._truncated = True
        cell.outputs.append(new_output(
            "stream", name="stdout",
            text=f"\n[output truncated: this notebook printed or displayed more than {self.limits.output_mb} MiB; "
                 "the rest was dropped]\n"))
        return result

    # ------------------------------------------------------------ the run

    def preprocess(self, nb: NotebookNode, resources: Any = None, km: Any = None):
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.interrupt_on_timeout = False
        self.shutdown_kernel = "immediate"
        self.kernel_name = "python3"
        self._output_bytes = 0
        self._truncated = False
        self._stopped: str | None = None
        self._session: KernelSession | None = None

        # 1. hidden tests out of every cell that came from the instructor; cells no grade depends on
        self._hidden: dict[int, str | None] = {}
        skippable = self._skippable(resources) if self.skip_marked_cells else set()
        self._skipped: set[int] = set()
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not _from_instructor(cell):
                continue
            if nbgrader_utils.is_locked(cell) and grade_id(cell) in skippable:
                self._skipped.add(index)
            visible, hidden = split_hidden(cell.source)
            cell.source = visible
            if is_test_cell(cell):
                self._hidden[index] = hidden
            elif hidden is not None:
                self.log.warning("cell %d is not a test cell but has hidden tests; they were removed "
                                 "and are not run", index)
        for index, hidden in self._hidden.items():
            if hidden is None:
                self.log.warning("test cell %s has no hidden tests: its score depends only on code that "
                                 "runs in the student's kernel", grade_id(nb.cells[index]))

        start = time.monotonic()
        self._deadline = start + self.limits.wall_seconds
        self._hide = self._hidden_files(resources)
        self.timeout_func = self._cell_timeout

        with self.setup_kernel():
            assert self.kc is not None
            info_msg = self.wait_for_reply(self.kc.kernel_info())
            if info_msg and "language_info" in info_msg.get("content", {}):
                self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
            self._start_next_kernel()
            self._session = KernelSession(self, deadline=self._deadline, call_timeout=self.timeout,
                                          max_bytes=self.limits.result_mb << 20)
            for index, cell in enumerate(self.nb.cells):
                self._run_cell(cell, resources, index)
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _cell_timeout(self, cell: NotebookNode) -> int:
        remaining = self._deadline - time.monotonic()
        cap = self.timeout if self.timeout and self.timeout > 0 else remaining
        return max(1, int(min(cap, remaining) + 0.999))

    def _run_cell(self, cell: NotebookNode, resources: Any, index: int) -> None:
        if cell.cell_type != "code":
            return
        if index in self._skipped:
            cell.outputs = [new_output("stream", name="stdout", text=f"[{SKIP_REASON}]\n")]
            return
        test = index in self._hidden
        if not self._stopped and time.monotonic() >= self._deadline:
            self._stop(self._time_reason(), None)
        if self._stopped:
            if test:
                cell.outputs = [_error(STOPPED_NAME, f"not run: {self._stopped}")]
            return
        reason = None
        try:
            self.execute_cell(cell, index, store_history=True)
        except CellTimeoutError:
            if time.monotonic() >= self._deadline - 1:
                reason = self._time_reason()
            else:
                reason = (f"the cell ran longer than {self.timeout} s (the time limit per cell), "
                          "so the kernel was stopped")
        except DeadKernelError:
            reason = self.stop_reason()
        except Exception:
            if self._kernel_alive():
                raise
            reason = self.stop_reason()  # e.g. the kernel's sockets vanished with it
        if reason is not None:
            cell.outputs.append(_error(STOPPED_NAME, f"grading stopped in this cell: {reason}"))
            self._stop(reason, index)
            return
        if test:
            self._judge(cell, index, resources)

    def _kernel_alive(self) -> bool:
        from jupyter_core.utils import ensure_async, run_sync

        async def alive() -> bool:
            return bool(await ensure_async(self.km.is_alive()))

        try:
            return run_sync(alive)()
        except Exception:
            return False

    def _judge(self, cell: NotebookNode, index: int, resources: Any) -> None:
        for output in cell.outputs:
            if output.get("output_type") == "execute_result":
                output["output_type"] = "display_data"
                output.pop("execution_count", None)
        if _failed(cell):
            return  # the visible part failed: 0 points whatever the hidden tests say
        hidden = self._hidden.get(index)
        if hidden is None:
            return
        verdict = run_hidden(hidden, self._session, search_path=self._search_path(resources))
        if verdict.instructor_note:
            self.log.warning("%s: %s", grade_id(cell), verdict.instructor_note)
        if not verdict.passed:
            cell.outputs.append(_error(STOPPED_NAME if verdict.stopped else FAILURE_NAME, verdict.message))
        if verdict.stopped:
            self._stop(verdict.message, index)

    # ------------------------------------------------------------ course folders

    def _course_dirs(self, resources: Any) -> tuple[Path | None, Path | None]:
        from nbgrader.coursedir import CourseDirectory

        try:
            info = (resources or {})["nbgrader"]
            cd = CourseDirectory(config=self.config, log=self.log)
            source = Path(cd.format_path(cd.source_directory, ".", info["assignment"]))
            release = Path(cd.format_path(cd.release_directory, ".", info["assignment"]))
            return source, release
        except Exception:
            return None, None

    def _skippable(self, resources: Any) -> set[str]:
        """grade_ids the instructor's source notebook marks as not needed for grading (grader.skipping);
        read from the source, never from the submission."""
        source, _ = self._course_dirs(resources)
        try:
            path = source / f"{resources['nbgrader']['notebook']}.ipynb"
            return skipped_ids(read_notebook(path))
        except Exception as exc:  # no source notebook here: run everything
            self.log.debug("no cells skipped: %s", exc)
            return set()

    def _search_path(self, resources: Any) -> list[str]:
        source, _ = self._course_dirs(resources)
        return [str(source)] if source is not None and source.is_dir() else []

    def _hidden_files(self, resources: Any) -> set[str]:
        """Files of the notebook's folder the kernel must not see: every notebook (the one being
        graded is there with its hidden tests while nbgrader works on it), and files nbgrader
        copied from the instructor's source folder that students never received."""
        folder = Path(self.resources.get("metadata", {}).get("path") or ".")
        hide: set[str] = set()
        if folder.is_dir():
            for path in folder.rglob("*.ipynb"):
                hide.add(path.relative_to(folder).as_posix())
        source, release = self._course_dirs(resources)
        if source is not None and source.is_dir():
            for path in source.rglob("*"):
                if path.is_file():
                    rel = path.relative_to(source).as_posix()
                    if release is None or not (release / rel).is_file():
                        hide.add(rel)
        return hide


# ------------------------------------------------------------------ the switch


def secure_config(cfg: Config, *, sandbox: bool = True, skip_marked_cells: bool = True) -> Config:
    """Make ``cfg`` (an nbgrader ``Config``) grade with the preprocessors of this module.

    ``sandbox=False`` keeps hidden tests in the grader but runs the kernel
    unconfined (``--no-sandbox``: trusted submissions only). Limits are read
    from ``c.Sandbox.*`` and ``c.Execute.timeout`` (per cell) of ``cfg``.
    Returns ``cfg``, changed in place.
    """
    cfg.Autograde.sanitize_preprocessors = [ClearOutput, NormalizeCells, DeduplicateIds, OverwriteKernelspec,
                                            OverwriteCells, CheckCellMetadata]
    cfg.Autograde.autograde_preprocessors = [SecureExecute, IgnorePattern, ClearMetadataPreprocessor,
                                             LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    cfg.SecureExecute.sandboxed = sandbox
    if not skip_marked_cells:
        cfg.SecureExecute.skip_marked_cells = False
    return cfg


__all__ = ["NormalizeCells", "SecureExecute", "kernels_ahead", "secure_config"]
