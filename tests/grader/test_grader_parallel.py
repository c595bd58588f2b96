"""Grading in isolated workers (grader.grading): in process, in a pool, on Dask; merged in one place."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from grader_testkit import KILL_KERNEL, gradebook_rows, run_cli, submit, tree_bytes, use_sandbox
from system_tools import skip_without_sandbox
from nbgrader.api import Gradebook

from grader import grading
from grader.config import workspace_config
from grader.grading import CellComment, CellGrade, GradingOutcome, NotebookOutcome, SubmissionJob
from grader.notebooks import make_submission
from grader.autograde import autograde
from grader.workspace import open_workspace


def _autograded(ws: Path) -> dict[str, object]:
    """The autograded files; in notebooks the workspace's path (tracebacks name it) reads WORKSPACE,
    and cells lose the run times nbclient records (they differ every run)."""
    files: dict[str, object] = {}
    for name, data in tree_bytes(ws / "autograded").items():
        if name.endswith(".ipynb"):
            assert b"grader-job-" not in data  # no trace of the private course directory
            nb = json.loads(data.decode().replace(str(ws.resolve()), "WORKSPACE"))
            for cell in nb["cells"]:
                cell["metadata"].pop("execution", None)
            files[name] = nb
        else:
            files[name] = data
    return files


def _copy(ws: Path, tmp_path: Path, name: str = "ws") -> Path:
    shutil.copytree(ws, tmp_path / name)
    return tmp_path / name


def _grade(ws: Path, **options) -> tuple[int, list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    options.setdefault("sandbox", use_sandbox())
    code = autograde(ws, "demo", echo=out.append, warn=err.append, **options)
    return code, out, err


@pytest.fixture(scope="module")
def serial(graded_class, class_workspace):
    """The class graded one submission at a time in this process: the reference for the other modes."""
    ws = graded_class.workspace
    assert tree_bytes(ws / "submitted") == tree_bytes(class_workspace / "submitted")  # never modified
    return gradebook_rows(ws), _autograded(ws), graded_class.out


def _scores(out: list[str]) -> dict[str, str]:
    """student -> "score / max" from the summary table."""
    table = out[2:-1]  # after the first line and the header, before the closing line
    return {line.split()[0]: " ".join(line.split()[1:4]) for line in table}


@pytest.mark.slow
def test_serial_grades_and_summary(serial):
    rows, autograded, out = serial
    assert out[0] == "autograding demo: 6 submission(s)"
    assert out[1].split() == ["student", "score", "01_demo", "02_extra", "time", "notes"]
    assert _scores(out) == {
        "alice": "6 / 6",
        "bob": "0 / 6",
        "carol": "3 / 6",
        "dave": "1 / 6",
        "erin": "1 / 6",
        "frank": "0 / 6",
    }
    assert out[-1].startswith("graded 6 of 6 submission(s) in ")
    assert ("grade", "carol", "01_demo", "test_scale", 0.0, None, False) in rows
    assert ("grade", "carol", "01_demo", "test_add", 2.0, None, False) in rows
    assert ("submission", "carol", "demo", "2030-01-02 03:04:05", 3.0, 6.0) in rows
    assert sorted({path.split("/")[0] for path in autograded}) == ["alice", "bob", "carol", "dave", "erin"]
    assert "dave/demo/01_demo.ipynb" not in autograded  # the invalid notebook is left out
    assert "alice/demo/demo_checks.py" in autograded  # nbgrader copies the source's files


@pytest.mark.slow
def test_parallel_workers_grade_exactly_like_serial(class_workspace, serial, tmp_path):
    ws = _copy(class_workspace, tmp_path)
    submitted = tree_bytes(ws / "submitted")
    code, out, err = _grade(ws, jobs=2)
    assert code == 0, out + err
    assert out[0] == "autograding demo: 6 submission(s), 2 at a time"
    assert _scores(out) == _scores(serial[2])
    assert gradebook_rows(ws) == serial[0]
    assert _autograded(ws) == serial[1]
    assert tree_bytes(ws / "submitted") == submitted


@pytest.mark.slow
def test_dask_cluster_grades_exactly_like_local(class_workspace, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    ws = _copy(class_workspace, tmp_path)
    # one worker in this process, with two threads: a process still grades one submission at a time
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        code, out, err = _grade(ws, scheduler=cluster.scheduler_address)
    assert code == 0, out + err
    assert out[0] == f"autograding demo: 6 submission(s), on the Dask cluster at {cluster.scheduler_address}"
    assert gradebook_rows(ws) == serial[0]
    assert _autograded(ws) == serial[1]


@pytest.mark.slow
def test_embedded_dask_cluster_of_worker_processes_through_the_cli(class_workspace, serial, tmp_path):
    pytest.importorskip("distributed")
    ws = _copy(class_workspace, tmp_path)
    done = run_cli("autograde", "demo", "--workspace", ws, "--scheduler", "local", "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == "autograding demo: 6 submission(s), on a local Dask cluster of 2 worker(s)"
    assert gradebook_rows(ws) == serial[0]
    assert _autograded(ws) == serial[1]


@pytest.mark.slow
def test_merged_gradebook_matches_nbgrader_grading_in_the_workspace(class_workspace, serial, tmp_path):
    """Plain nbgrader, run in the workspace itself, writes the same rows our merge writes."""
    from nbgrader.converters import Autograde

    from grader._nbgrader import run_converter

    ws = _copy(class_workspace, tmp_path)
    students = ["alice", "bob", "carol", "erin"]  # plain nbgrader fails on dave's and frank's broken files
    cfg = workspace_config(ws)
    cfg.SecureExecute.sandboxed = use_sandbox()
    for student in students:
        run = run_converter(Autograde, cfg, assignment_id="demo", student_id=student, force=True, create_student=True)
        assert run.success, run.errors
    ours = [row for row in serial[0] if row[1] in students]
    assert gradebook_rows(ws) == ours
    assert _autograded(ws) == {k: v for k, v in serial[1].items() if k.split("/")[0] in students}


@pytest.mark.slow
def test_a_submission_that_kills_its_kernel_costs_only_itself(class_workspace, tmp_path):
    # The secure pipeline notices the dead kernel, scores the cells it could not run 0 with a
    # reason, and grades everyone else as usual.
    ws = _copy(class_workspace, tmp_path)
    release, source = ws / "release/demo", ws / "source/demo"
    submit(ws, "gina", "01_demo.ipynb", make_submission(release / "01_demo.ipynb", source / "01_demo.ipynb", {"add": KILL_KERNEL}))
    done = run_cli("autograde", "demo", "--workspace", ws, "--jobs", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[2:-1]}
    gina = lines["gina"].split()
    assert gina[2:4] == ["/", "6"] and float(gina[1]) < 6, lines["gina"]
    assert lines["alice"].split()[1:4] == ["6", "/", "6"]
    assert done.stdout.splitlines()[-1].startswith("graded 7 of 7 submission(s)")
    with Gradebook(f"sqlite:///{ws / 'gradebook.db'}", "improving-dnn") as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
        nb = next(n for n in gb.find_submission("demo", "gina").notebooks if n.name == "01_demo")
        assert nb.score < nb.max_score


@pytest.mark.slow
def test_the_next_notebooks_kernel_starts_ahead_and_none_outlives_grading(class_workspace, serial, tmp_path,
                                                                          monkeypatch):
    # While a student's first notebook runs, the sandboxed kernel of the next one starts; the next notebook
    # takes it (same folder, limits and files); grades are the same, and no kernel or sandbox folder is left.
    skip_without_sandbox("kernels started ahead")
    from grader.secure import preprocessors

    kept, taken = [], []
    keep, take = preprocessors._Ahead.keep, preprocessors._Ahead.take

    def keeping(self, km, key):
        kept.append(km)
        keep(self, km, key)

    def taking(self, key):
        km = take(self, key)
        taken.append(km)
        return km

    monkeypatch.setattr(preprocessors._Ahead, "keep", keeping)
    monkeypatch.setattr(preprocessors._Ahead, "take", taking)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    ws = _copy(class_workspace, tmp_path)
    code, out, err = _grade(ws, sandbox=True)
    assert code == 0, "\n".join(out + err)
    assert len(kept) == 3   # alice, bob and carol hand in two notebooks each
    assert [km for km in taken if km is not None] == kept
    assert not any(km.sandbox.alive() for km in kept)
    assert gradebook_rows(ws) == serial[0]
    assert list(scratch.iterdir()) == []


def crash_on_crash(bundle, job):
    """A worker function for the pool test: the worker process dies on student ``crash``."""
    if job.student == "crash":
        os._exit(3)
    return GradingOutcome(job.student, ok=True, notebooks=[], files={"seen.txt": job.files["work.txt"]})


def test_a_dying_worker_process_costs_only_its_own_submission(tmp_path):
    bundle = grading.AssignmentBundle("demo", "improving-dnn", str(tmp_path), "", {}, b"")
    students = ["a", "b", "crash", "c", "d", "e"]
    jobs = [SubmissionJob(s, {"work.txt": s.encode()}) for s in students]
    outcomes = {o.student: o for o in grading.run_jobs(bundle, jobs, workers=2, grade=crash_on_crash)}
    assert sorted(outcomes) == sorted(students)
    assert not outcomes["crash"].ok
    assert "worker process died while grading this submission, twice" in outcomes["crash"].errors[0]
    for student in set(students) - {"crash"}:
        assert outcomes[student].ok, outcomes[student].errors
        assert outcomes[student].files == {"seen.txt": student.encode()}


# ----------------------------------------------------------- merging, fast


def _outcome(student: str, add: float | None, scale: float, square: float = 1.0) -> GradingOutcome:
    return GradingOutcome(
        student,
        ok=True,
        notebooks=[
            NotebookOutcome(
                "01_demo",
                graded=True,
                grades=[CellGrade("test_add", add, 2.0, add is None), CellGrade("test_scale", scale, 3.0, False)],
                comments=[CellComment("add", None), CellComment("scale", "No response.")],
            ),
            NotebookOutcome("02_extra", graded=False, grades=[CellGrade("test_square", square, 1.0, False)], comments=[CellComment("square", None)]),
        ],
        files={"01_demo.ipynb": b"{}", "data/values.txt": b"1 2 3\n"},
    )


def test_merge_replaces_automatic_grades_keeps_manual_ones(class_workspace, tmp_path):
    ws = _copy(class_workspace, tmp_path)
    target = ws / "autograded/zoe/demo"
    target.mkdir(parents=True)
    (target / "stale.ipynb").write_text("from an earlier grading")
    with Gradebook(f"sqlite:///{ws / 'gradebook.db'}", "improving-dnn") as gb:
        grading.merge_outcome(gb, "demo", _outcome("zoe", 2.0, 0.0), target)
        assert gb.find_submission("demo", "zoe").score == 3.0  # 2 (add) + 0 (scale) + 1 (square)
        assert tree_bytes(target) == {"01_demo.ipynb": b"{}", "data/values.txt": b"1 2 3\n"}

        gb.find_grade("test_scale", "01_demo", "demo", "zoe").manual_score = 1.5  # an instructor's override
        gb.db.commit()
        grading.merge_outcome(gb, "demo", _outcome("zoe", None, 3.0, square=0.0), target)
        add = gb.find_grade("test_add", "01_demo", "demo", "zoe")
        scale = gb.find_grade("test_scale", "01_demo", "demo", "zoe")
        square = gb.find_grade("test_square", "02_extra", "demo", "zoe")
        assert (add.auto_score, add.needs_manual_grade) == (None, True)  # no automatic score: review it
        assert (scale.auto_score, scale.manual_score, scale.needs_manual_grade) == (3.0, 1.5, True)
        assert (square.auto_score, square.needs_manual_grade) == (0.0, False)  # not handed in: 0, nothing to review
        assert gb.find_comment("scale", "01_demo", "demo", "zoe").auto_comment == "No response."
        assert gb.find_submission("demo", "zoe").score == 1.5
        assert [s.id for s in gb.students] == ["zoe"]
        assert len(gb.find_assignment("demo").submissions) == 1


def test_replace_tree_refuses_unsafe_paths_and_keeps_the_old_tree(tmp_path):
    target = tmp_path / "autograded/zoe/demo"
    target.mkdir(parents=True)
    (target / "keep.ipynb").write_text("old")
    for bad in ("../escape.txt", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError, match="unsafe path"):
            grading.replace_tree(target, {"ok.txt": b"", bad: b"x"})
        assert tree_bytes(target) == {"keep.ipynb": b"old"}
    assert not (tmp_path / "autograded/zoe/escape.txt").exists()
    assert sorted(p.name for p in target.parent.iterdir()) == ["demo"]  # no leftovers


def test_replace_tree_puts_the_old_tree_back_when_the_swap_fails(tmp_path, monkeypatch):
    target = tmp_path / "autograded/zoe/demo"
    target.mkdir(parents=True)
    (target / "keep.ipynb").write_text("old")
    real_rename = Path.rename

    def rename(self, other):
        if ".incoming-" in self.name:
            raise OSError("disk full")
        return real_rename(self, other)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="disk full"):
        grading.replace_tree(target, {"new.ipynb": b"new"})
    assert tree_bytes(target) == {"keep.ipynb": b"old"}
    assert sorted(p.name for p in target.parent.iterdir()) == ["demo"]


def test_bundle_carries_the_assignment_but_no_other_student(class_workspace, tmp_path):
    ws = _copy(class_workspace, tmp_path)
    with Gradebook(f"sqlite:///{ws / 'gradebook.db'}", "improving-dnn") as gb:
        grading.merge_outcome(gb, "demo", _outcome("zoe", 2.0, 3.0), ws / "autograded/zoe/demo")
    opened = open_workspace(ws)
    bundle = grading.build_bundle(opened.path, opened.config, opened.db_url, opened.course_id, "demo")
    assert sorted(bundle.source) == ["01_demo.ipynb", "02_extra.ipynb", "data/values.txt", "demo_checks.py"]
    assert bundle.workspace == str(ws.resolve())
    assert bundle.config_text == (ws / "nbgrader_config.py").read_text()
    template = tmp_path / "template.db"
    template.write_bytes(bundle.gradebook)
    with Gradebook(f"sqlite:///{template}", "improving-dnn") as gb:
        assert list(gb.students) == []
        assert [a.name for a in gb.assignments] == ["demo"]  # not the other assignments either
        copied = _definition(gb)
    with Gradebook(opened.db_url, "improving-dnn") as gb:
        assert _definition(gb) == copied
    assert copied["cells"][("01_demo", "test_add")][:2] == ("GradeCell", 2.0)
    assert copied["source"][("01_demo", "test_add")][3] is not None  # checksum: how nbgrader spots edits


def _definition(gb) -> dict:
    """What nbgrader recorded about assignment demo when generating it."""
    demo = gb.find_assignment("demo")
    cells, source = {}, {}
    for nb in demo.notebooks:
        for c in nb.grade_cells + nb.task_cells:
            cells[(nb.name, c.name)] = (type(c).__name__, c.max_score, c.cell_type)
        for c in nb.solution_cells:
            cells[(nb.name, c.name)] = ("SolutionCell",)
        for c in nb.source_cells:
            source[(nb.name, c.name)] = (c.cell_type, c.locked, c.source, c.checksum)
    kernels = {nb.name: nb.kernelspec for nb in demo.notebooks}
    return {"duedate": demo.duedate, "max": demo.max_score, "kernels": kernels, "cells": cells, "source": source}


def test_autograde_config_pins_every_path_inside_the_private_course(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.db_url = 'sqlite:////somewhere/else/gradebook.db'\n"
        "c.CourseDirectory.autograded_directory = '/somewhere/else/autograded'\n"
        "c.Execute.timeout = 7\n"
    )
    cfg = grading.autograde_config(tmp_path)
    assert cfg.CourseDirectory.db_url == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert cfg.CourseDirectory.autograded_directory == "autograded"
    assert cfg.CourseDirectory.root == str(tmp_path)
    assert cfg.Execute.timeout == 7  # the instructor's own settings still apply


def test_jobs_and_scheduler_errors_are_one_line(class_workspace, tmp_path):
    done = run_cli("autograde", "demo", "--workspace", class_workspace, "--jobs", "0")
    assert done.returncode == 2 and "must be at least 1" in done.stderr
    done = run_cli("autograde", "demo", "--workspace", class_workspace, "--scheduler", "nonsense://x:1")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "Traceback" not in done.stderr
    assert not (class_workspace / "autograded").exists()
