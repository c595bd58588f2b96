"""How much faster a class is graded with worker processes: ``autograde --jobs 1`` vs ``--jobs N``.

    .venv/bin/python benchmarks/autograde_parallel.py [--students 40] [--jobs 2] [--assignment week1]

Builds a throw-away workspace (``grader init``, outside the repository) with
``--students`` copies of the reference submission of every notebook the
assignment has (``grader.notebooks.make_submission``), then grades the class
through the CLI twice, each time from a fresh copy of the workspace: with
``--jobs 1`` and with ``--jobs N``. Prints both wall times, the speed-up,
the median time a worker spent per submission, and the load average before
and after (other programs on the machine slow both runs down, and the
parallel one more: it needs the cores they take). Checks that every
student got full marks in both runs, so a fast but broken run cannot pass.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.notebooks import make_submission, write_notebook

REPO = Path(__file__).resolve().parents[1]


def cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=REPO, capture_output=True, text=True)


def build(workspace: Path, assignment: str, students: int) -> list[str]:
    done = cli("init", workspace)
    if done.returncode != 0:
        sys.exit(f"grader init failed:\n{done.stderr}")
    release = workspace / "release" / assignment
    notebooks = sorted(release.glob("*.ipynb"))
    if not notebooks:
        sys.exit(f"{assignment} has no notebooks")
    for path in notebooks:
        nb = make_submission(path, workspace / "source" / assignment / path.name)
        for i in range(students):
            folder = workspace / "submitted" / f"student{i:03d}" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            write_notebook(nb, folder / path.name)
    return [p.stem for p in notebooks]


def grade(workspace: Path, assignment: str, jobs: int) -> tuple[float, list[float], dict[str, str]]:
    start = time.perf_counter()
    done = cli("autograde", assignment, "--workspace", workspace, "--jobs", jobs)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"autograde --jobs {jobs} failed:\n{done.stdout}\n{done.stderr}")
    rows = [re.split(r"\s{2,}", line) for line in done.stdout.splitlines()[2:-1]]
    seconds = [float(row[-1].split()[0]) if row[-1].endswith(" s") else float(row[-2].split()[0]) for row in rows]
    scores = {row[0]: row[1] for row in rows}
    return wall, seconds, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2, help="workers of the parallel run (default 2)")
    parser.add_argument("--assignment", default="week1")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        base = Path(tmp) / "base"
        notebooks = build(base, args.assignment, args.students)
        print(f"{args.students} submissions of {args.assignment} ({', '.join(notebooks)}) on {os.cpu_count()} cores")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        results = {}
        for jobs in (1, args.jobs):
            workspace = Path(tmp) / f"jobs{jobs}"
            shutil.copytree(base, workspace)
            results[jobs] = grade(workspace, args.assignment, jobs)
            wall, seconds, _ = results[jobs]
            print(
                f"--jobs {jobs}: {wall:7.1f} s wall, {wall / args.students:5.2f} s per submission, "
                f"median {statistics.median(seconds):.2f} s in a worker"
            )
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        serial, parallel = results[1], results[args.jobs]
        full = {s for s, score in serial[2].items() if score.split(" / ")[0] == score.split(" / ")[1]}
        if serial[2] != parallel[2] or len(full) != args.students:
            sys.exit("the two runs disagree, or not every reference submission got full marks")
        print(f"speed-up with --jobs {args.jobs}: {serial[0] / parallel[0]:.2f}x (same grades in both runs)")


if __name__ == "__main__":
    main()
