"""Sandboxed ``grader autograde`` against plain nbgrader, side by side on the same submissions.

    .venv/bin/python benchmarks/autograde_vs_nbgrader.py [--students 4] [--assignment week1] [--class-size 40]

Builds one workspace (``grader init``: source/ from this repository's
``solutions/``) holding ``--students`` reference submissions of every notebook
of the assignment, and copies it twice:

* **plain nbgrader**: the copy's ``nbgrader_config.py`` loses the line that
  switches on the secure pipeline, so ``nbgrader autograde`` runs with its
  default preprocessors: every cell, hidden tests inside the student's kernel,
  no sandbox;
* **grader**: ``python -m grader autograde --jobs 1``: sandboxed kernels,
  hidden checks in the grader, cells tagged ``grader-skip-in-grading`` skipped.

Both are timed in this one run on the same machine, taking turns for
``--rounds`` rounds (other programs on a shared machine slow whichever run
they overlap); the ratio of the totals is printed, with the load average. The
scores each student got for each notebook must be identical, and full marks,
or the script exits 1. ``--class-size N`` (0: skip) then grades N copies with
``--jobs 2`` through the CLI and prints that wall time.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograde_parallel import build, grade

SECURE_LINE = "secure_config(c)"


def scores(workspace: Path, assignment: str) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{workspace / 'gradebook.db'}", "improving-dnn") as gb:
        return {(s.student.id, nb.name): round(nb.score, 6)
                for s in gb.assignment_submissions(assignment) for nb in s.notebooks}


def plain_nbgrader(workspace: Path, assignment: str) -> float:
    config = workspace / "nbgrader_config.py"
    text = config.read_text()
    if SECURE_LINE not in text:
        sys.exit(f"{config} does not contain {SECURE_LINE!r}: the benchmark no longer knows how to turn it off")
    config.write_text(text.replace(SECURE_LINE, "pass  # plain nbgrader: its default autograde pipeline"))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"], cwd=workspace,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"plain nbgrader autograde failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--assignment", default="week1")
    parser.add_argument("--rounds", type=int, default=2, help="times each is timed, taking turns (default 2)")
    parser.add_argument("--class-size", type=int, default=40, help="students of the --jobs 2 run (0: skip it)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="grader-vs-nbgrader-") as tmp:
        base = Path(tmp) / "base"
        notebooks = build(base, args.assignment, args.students)
        print(f"{args.students} reference submissions of {args.assignment} ({', '.join(notebooks)}), "
              f"{os.cpu_count()} cores; load average before: {load()}")
        # Other programs on a shared machine slow whichever run they overlap: the two take turns
        # (plain first in odd rounds, ours first in even ones) and the totals are compared.
        totals = {"plain": 0.0, "ours": 0.0}
        for round_ in range(1, args.rounds + 1):
            plain_ws, ours_ws = Path(tmp) / f"plain{round_}", Path(tmp) / f"ours{round_}"
            shutil.copytree(base, plain_ws)
            shutil.copytree(base, ours_ws)
            order = ["plain", "ours"] if round_ % 2 else ["ours", "plain"]
            for who in order:
                wall = plain_nbgrader(plain_ws, args.assignment) if who == "plain" else \
                    grade(ours_ws, args.assignment, 1)[0]
                totals[who] += wall
                label = "plain nbgrader autograde" if who == "plain" else "grader autograde --jobs 1 (sandboxed)"
                print(f"round {round_}: {label:40s} {wall:7.1f} s, {wall / args.students:5.1f} s per student")
            a, b = scores(plain_ws, args.assignment), scores(ours_ws, args.assignment)
            if a != b or len(a) != args.students * len(notebooks):
                diff = {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
                sys.exit(f"the scores differ (plain, ours): {diff}")
            shutil.rmtree(plain_ws)
            shutil.rmtree(ours_ws)
        print(f"load average after: {load()}")
        per = {k: v / (args.rounds * args.students) for k, v in totals.items()}
        print(f"per student: plain nbgrader {per['plain']:.1f} s, grader {per['ours']:.1f} s")
        print(f"ratio grader / plain nbgrader: {totals['ours'] / totals['plain']:.2f} "
              "(identical scores for every student and notebook)")

        if args.class_size:
            cls = Path(tmp) / "class"
            build(cls, args.assignment, args.class_size)
            wall, _, marks = grade(cls, args.assignment, 2)
            full = [s for s, m in marks.items() if m.split(" / ")[0] == m.split(" / ")[1]]
            if len(full) != args.class_size:
                sys.exit(f"only {len(full)} of {args.class_size} reference submissions got full marks")
            print(f"{args.class_size} students, grader autograde --jobs 2: {wall:.1f} s "
                  f"({wall / 60:.1f} min; load average after: {load()})")


if __name__ == "__main__":
    main()
