"""Run an instructor notebook top to bottom and store its outputs, ready for nbval.

nbval compares a fresh run against the outputs stored in ``solutions/``, so
those outputs must come from a clean top-to-bottom run. This writes them
without what changes on every run (cell timings, widget model state), and
writes nothing at all when a cell fails, so a notebook is never left half run.
Before running, it conforms the notebook (``grader.conform``): the score view that
ends it, the guard line of each demo cell, long provided cells collapsed.
"""
from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from . import config as grader_config
from .errors import PipelineError, UsageError
from .notebooks import write_notebook
from .conform import conform

CELL_TIMEOUT = 600


def notebook_client(nb: nbformat.NotebookNode, path: Path, **options) -> NotebookClient:
    """A client that runs ``nb`` as nbval and nbgrader do: a fresh python3 kernel in the
    notebook's folder, with the kernel arguments of the course's shared settings."""
    options.setdefault("timeout", CELL_TIMEOUT)
    return NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}},
                          extra_arguments=list(grader_config.SHARED_SETTINGS["Execute"]["extra_arguments"]),
                          **options)


def execute(paths: list[Path], root: Path) -> int:
    released = (root / "notebooks").resolve()
    for path in paths:
        path = path.resolve()
        if not path.is_file() or path.suffix != ".ipynb":
            raise UsageError(f"{path}: not a notebook file")
        if path.is_relative_to(released):
            raise UsageError(f"{path}: student notebooks in notebooks/ carry no outputs; "
                             "execute the solutions notebook and run `python -m grader release`")
        nb = nbformat.read(path, as_version=4)
        changed = conform(nb)  # score view from the test cells' points, demo guards, collapsed cells
        if changed:
            print(f"{path.name}: updated {', '.join(changed)}")
        client = notebook_client(nb, path, record_timing=False,
                                 store_widget_state=True)  # False trips nbclient on Output widgets
        start = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as exc:
            raise PipelineError(f"{path.name}: a cell failed, nothing was written:\n{exc}") from None
        nb.metadata.pop("widgets", None)  # random model ids; widgets re-render when run
        write_notebook(nb, path)
        print(f"executed {path.name} in {time.perf_counter() - start:.1f} s")
    return 0
