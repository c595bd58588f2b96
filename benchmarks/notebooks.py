"""Measure how long each solutions notebook takes to run top to bottom.

    .venv/bin/python benchmarks/notebooks.py [--repeat N] [NOTEBOOK ...]

Each run starts a fresh kernel (as nbval and nbgrader do), so the time
includes kernel start-up; the time without it is shown too. Prints the
median over the repeats. Nothing is written.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import nbformat

from grader.execute import notebook_client

REPO = Path(__file__).resolve().parents[1]


def run_once(path: Path) -> tuple[float, float]:
    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, path)
    start = time.perf_counter()
    with client.setup_kernel():
        started = time.perf_counter()
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    end = time.perf_counter()
    return end - start, end - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    paths = [p.resolve() for p in args.notebooks] or sorted((REPO / "solutions").glob("week*/*.ipynb"))
    print(f"{'notebook':<45} {'with kernel start':>18} {'cells only':>11}   (median of {args.repeat})")
    for path in paths:
        runs = [run_once(path) for _ in range(args.repeat)]
        total = statistics.median(r[0] for r in runs)
        cells = statistics.median(r[1] for r in runs)
        print(f"{str(path.relative_to(REPO)):<45} {total:>16.1f} s {cells:>9.1f} s")


if __name__ == "__main__":
    main()
