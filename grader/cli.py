"""``python -m grader``: the instructor's command line.

Exit codes: 0 success, 1 a check failed (or some submission could not be
graded), 2 a usage error. Problems the user can fix are one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import config as grader_config
from .errors import GraderError

DESCRIPTION = """\
Instructor tools of the course: build the student notebooks from the
instructor notebooks, and grade submissions with nbgrader.

  solutions/<assignment>/*.ipynb   instructor notebooks (nbgrader's "source")
  notebooks/<assignment>/*.ipynb   student versions (nbgrader's "release"), generated

Typical session:
  python -m grader release                  # after editing solutions/
  python -m grader release --check          # in CI: is notebooks/ up to date?
  python -m grader init ~/grading/dnn       # once per term, outside the repo
  python -m grader collect week1 ~/Downloads/week1-export --workspace ~/grading/dnn
  python -m grader autograde week1 --workspace ~/grading/dnn --jobs auto
  python -m grader feedback week1 --workspace ~/grading/dnn
  python -m grader report week1 --workspace ~/grading/dnn
  python -m grader export --workspace ~/grading/dnn
"""

EPILOG = "exit codes: 0 ok, 1 check failed / a submission could not be graded, 2 usage error"
MAIN_EPILOG = "`python -m grader COMMAND --help` explains a command.\n" + EPILOG


def _root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"repository root (default: ${grader_config.ROOT_ENV_VAR} if set, else this checkout: "
        f"{grader_config.repo_root()})",
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", help="show nbgrader's full log")

    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description=DESCRIPTION,
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    p = sub.add_parser(
        "release",
        parents=[common],
        help="regenerate notebooks/ (student versions) from solutions/",
        description=(
            "Regenerate notebooks/<assignment>/ from solutions/<assignment>/ with nbgrader's "
            "generate_assignment: solutions become stubs, hidden tests disappear, other files "
            "(images, data) are copied. Output is byte-stable: a second run changes nothing. "
            "A notebook in notebooks/ holding student work (outputs, answered cells, added "
            "cells), a changed data file, or a file solutions/ no longer produces is moved to "
            ".backups/<timestamp>/ first - never lost."
        ),
        epilog=EPILOG,
    )
    p.add_argument(
        "assignments",
        nargs="*",
        metavar="ASSIGNMENT",
        help="assignments to release, e.g. week1 (default: all folders of solutions/; "
        "with none given, folders of notebooks/ with no source are also cleaned up)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; list files of notebooks/ that differ, are missing or are extra, "
        "and exit 1 unless everything is in sync",
    )
    _root_option(p)
    p.set_defaults(func=_cmd_release)

    p = sub.add_parser(
        "init",
        parents=[common],
        help="create a grading workspace (an nbgrader course directory) outside the repository",
        description=(
            "Create an nbgrader course directory for grading: nbgrader_config.py, source/ "
            "(copied from solutions/), release/ (generated), gradebook.db (assignments, "
            "notebooks and grade cells, so autograde works) and an empty submitted/. "
            "WORKSPACE must not exist or be empty, and must be outside the repository."
        ),
        epilog=EPILOG,
    )
    p.add_argument("workspace", type=Path, metavar="WORKSPACE", help="directory to create")
    p.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        help="folder of assignment folders to grade (default: the repository's solutions/)",
    )
    _root_option(p)
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser(
        "collect",
        parents=[common],
        help="copy submissions exported by a learning platform into a workspace's submitted/",
        description=(
            "Copy each student's notebooks of ASSIGNMENT from FOLDER into "
            "WORKSPACE/submitted/<student>/ASSIGNMENT/, with the time it was handed in (timestamp.txt, "
            "for late penalties). Two naming patterns: (1) one zip or folder per "
            "student, <student>.zip or <student>/, notebooks anywhere inside (e.g. alice.zip holding "
            "week1/02_initialization.ipynb); (2) one file per notebook, <student>_<notebook>.ipynb or "
            "Canvas's <student>[_LATE]_<user id>_<file id>_<file name> (the user id and the LATE mark are "
            "kept in WORKSPACE/collected/ASSIGNMENT.json; with a roster.csv, the roster's student of that "
            "canvas_id). Renamed notebooks are matched when unambiguous: ' (1)', '-Copy1', '-1', case, a "
            "missing number prefix. FOLDER is never modified. Every file not used is listed with the reason "
            "(notes, extra files: no error); a bad zip, entries such as ../x, links or an invalid notebook "
            "cost only themselves (exit 1). An existing submission is kept unless --replace, which "
            "first moves it to WORKSPACE/collect-backups/<time>/."
        ),
        epilog=EPILOG,
    )
    p.add_argument("assignment", metavar="ASSIGNMENT", help="e.g. week1")
    p.add_argument("folder", type=Path, metavar="FOLDER", help="the platform's export (unzipped once, if it came as one zip)")
    p.add_argument("--workspace", "-w", type=Path, required=True, metavar="WORKSPACE", help="made by `grader init`")
    p.add_argument(
        "--replace",
        action="store_true",
        help="take a new submission of a student who already has one (the old one is backed up first)",
    )
    p.add_argument("--dry-run", "-n", action="store_true", help="show what would be collected; write nothing")
    p.set_defaults(func=_cmd_collect)

    p = sub.add_parser(
        "autograde",
        parents=[common],
        help="grade every submission of an assignment in a workspace",
        description=(
            "Run nbgrader's autograde on WORKSPACE/submitted/<student>/ASSIGNMENT/ for every "
            "student (students are added to the gradebook; earlier automatic grades are redone, "
            "manual grades kept). Each submission is graded on its own, in a private copy of the "
            "course, so it can run in parallel (--jobs) or on a Dask cluster (--scheduler); results "
            "are merged into the gradebook and autograded/ by this process only. Each submitted "
            "notebook is checked first: a malformed one is reported and scores 0, a missing one "
            "scores 0, and the other students are graded regardless. Nothing under submitted/ is "
            "modified. Shows progress on stderr and ends with a table: score per student and notebook. "
            "Submissions are untrusted: each kernel runs in a bubblewrap sandbox with limits (c.Sandbox.* "
            "in the workspace's nbgrader_config.py) and hidden tests run in the grader, never in the kernel."
        ),
        epilog=EPILOG,
    )
    p.add_argument("assignment", metavar="ASSIGNMENT", help="assignment to grade, e.g. week1")
    p.add_argument("--workspace", "-w", type=Path, required=True, metavar="WORKSPACE", help="made by `grader init`")
    p.add_argument(
        "--student",
        "-s",
        action="append",
        metavar="ID",
        help="grade only this student's submission (repeatable; default: every student)",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run students' kernels without the bubblewrap sandbox (only for trusted work: their code "
        "then runs as you, next to the gradebook); by default autograde refuses to run without a "
        "working sandbox",
    )
    p.add_argument(
        "--run-all-cells",
        action="store_true",
        help="also run the cells the instructor tagged grader-skip-in-grading (experiments and demos "
        "no grade depends on; skipped by default, which is several times faster: same scores)",
    )
    p.add_argument(
        "--jobs",
        "-j",
        type=_jobs,
        default=None,
        metavar="N",
        help="grade N submissions at once in worker processes, or 'auto' for one per core "
        "(default 1: predictable memory use and cell timing on a shared machine; more jobs "
        "than cores slow every cell down and risk the cell timeout)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask cluster: a scheduler address such as tcp://10.0.0.5:8786 (workers "
        "need this package installed; a worker process grades one submission at a time, so start "
        "one per core: `dask worker ADDRESS --nworkers N --nthreads 1`), or 'local' for a cluster "
        "on this machine with --jobs workers (default one per core)",
    )
    p.set_defaults(func=_cmd_autograde)

    p = sub.add_parser(
        "feedback",
        parents=[common],
        help="write each student's feedback (HTML and notebook, hidden tests removed), one zip per student",
        description=(
            "Write WORKSPACE/feedback/<student>/ASSIGNMENT/<notebook>.html and .ipynb from the "
            "autograded notebooks: the student's work with outputs and the score of each exercise, "
            "formulas typeset as MathML in the page (they show offline), and "
            "WORKSPACE/handback/ASSIGNMENT/<student>.zip, one file per student to upload or mail: the pages, "
            "the notebooks and an index with the scores, lateness and grade. "
            "Hidden tests are cut out of every cell and a failed test shows only its error "
            "message, never a traceback into hidden code; every file is then searched for the "
            "hidden lines and a student whose feedback would show any gets none (exit 1). Other "
            "files of the assignment are not copied. Earlier feedback of a student is replaced."
        ),
        epilog=EPILOG,
    )
    p.add_argument("assignment", metavar="ASSIGNMENT", help="an autograded assignment, e.g. week1")
    p.add_argument("--workspace", "-w", type=Path, required=True, metavar="WORKSPACE", help="made by `grader init`")
    p.add_argument("--student", "-s", action="append", metavar="ID", help="only this student (repeatable)")
    p.set_defaults(func=_cmd_feedback)

    p = sub.add_parser(
        "report",
        parents=[common],
        help="per-exercise score distributions and the most common failure messages",
        description=(
            "Print, per exercise (test cell) of ASSIGNMENT, the share of students with full marks, a wrong "
            "answer, no attempt (the stub's NotImplementedError) and no notebook, the most common failure "
            "messages found in the autograded notebooks and who lost points. Saves a figure, "
            "REPORTS/ASSIGNMENT.png (alt text in its metadata), REPORTS/ASSIGNMENT.md with the figure and "
            "the tables, REPORTS/ASSIGNMENT-exercises.csv (every student and exercise) and "
            "REPORTS/ASSIGNMENT-students.csv (score, late penalty, grade, grading time)."
        ),
        epilog=EPILOG,
    )
    p.add_argument("assignment", metavar="ASSIGNMENT", help="an autograded assignment, e.g. week1")
    p.add_argument("--workspace", "-w", type=Path, required=True, metavar="WORKSPACE", help="made by `grader init`")
    p.add_argument("--output", "-o", type=Path, metavar="REPORTS", help="folder for the figure and markdown (default: WORKSPACE/reports)")
    p.add_argument("--top", type=int, default=3, metavar="N", help="failure messages shown per exercise (default 3)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "export",
        parents=[common],
        help="write grades.csv, exercise_scores.csv and the Canvas/Moodle import files",
        description=(
            "Write grades.csv (student, name, assignment, score, max_score, late_penalty, grade, "
            "submitted_at, notes), exercise_scores.csv (student, assignment, notebook, grade_id, score, "
            "max_score), canvas_grades.csv (Canvas's gradebook import: Student, ID, SIS User ID, SIS Login "
            "ID, Section, one column per assignment) and moodle_grades.csv (Moodle's CSV grade import: "
            "Email address, ID number, Full name, one column per assignment). Every student of "
            "WORKSPACE/roster.csv is listed; a student with nothing graded scores 0 and notes say why."
        ),
        epilog=EPILOG,
    )
    p.add_argument("--workspace", "-w", type=Path, required=True, metavar="WORKSPACE", help="made by `grader init`")
    p.add_argument("--output", "-o", type=Path, metavar="DIR", help="where to write the CSV files (default: WORKSPACE)")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser(
        "execute",
        parents=[common],
        help="run solutions notebooks top to bottom and store their outputs",
        description=(
            "Run each notebook top to bottom in a fresh kernel and save it with its outputs, "
            "without cell timings or widget state, so nbval can compare later runs against it. "
            "Nothing is written if a cell fails. Then run `python -m grader release`."
        ),
        epilog=EPILOG,
    )
    p.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK", help="e.g. solutions/week1/02_initialization.ipynb")
    _root_option(p)
    p.set_defaults(func=_cmd_execute)
    return parser


def _root(args: argparse.Namespace) -> Path:
    return (args.root or grader_config.repo_root()).resolve()


def _cmd_release(args: argparse.Namespace) -> int:
    from .release import release

    return release(_root(args), args.assignments, check=args.check, verbose=args.verbose)


def _cmd_init(args: argparse.Namespace) -> int:
    from .workspace import init

    return init(args.workspace, source=args.source, root=_root(args), verbose=args.verbose)


def _jobs(text: str) -> int:
    if text == "auto":
        from .grading import available_cores

        return available_cores()
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of jobs or 'auto', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cmd_autograde(args: argparse.Namespace) -> int:
    from .autograde import autograde

    return autograde(
        args.workspace,
        args.assignment,
        students=args.student,
        jobs=args.jobs,
        scheduler=args.scheduler,
        verbose=args.verbose,
        sandbox=not args.no_sandbox,
        run_all_cells=args.run_all_cells,
    )


def _cmd_collect(args: argparse.Namespace) -> int:
    from .collect import collect

    return collect(args.workspace, args.assignment, args.folder, replace=args.replace, dry_run=args.dry_run)


def _cmd_feedback(args: argparse.Namespace) -> int:
    from .feedback import feedback

    return feedback(args.workspace, args.assignment, students=args.student, verbose=args.verbose)


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import report

    return report(args.workspace, args.assignment, output=args.output, top=args.top)


def _cmd_export(args: argparse.Namespace) -> int:
    from .lms import export

    return export(args.workspace, output=args.output)


def _cmd_execute(args: argparse.Namespace) -> int:
    from .execute import execute

    return execute(args.notebooks, _root(args))


def _quiet() -> None:
    """Library chatter that says nothing to an instructor."""
    from ._nbgrader import quiet_warnings

    quiet_warnings()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    _quiet()
    try:
        return args.func(args)
    except GraderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
