"""Malicious submissions against ``python -m grader autograde`` (grader.preprocessors, grader.sandbox).

All the submissions of ``attack_submissions.py`` are graded in ONE autograde
run of a fresh workspace (short limits, see ``LIMITS``), with two honest
students graded before and after them. Then, for every attack: each graded
function gets exactly the points it earns, and a function that lost points
says why in its test cell. For the run as a whole: hidden tests appear in no
graded notebook, other students' grades are right, the gradebook is
consistent, the workspace and the repository are unchanged, no process or
file of a submission survives, and no connection left the sandbox. A second
workspace grades the same submissions with ``--run-all-cells``: skipping the
cells tagged ``grader-skip-in-grading`` must change no score.

Requires a working bubblewrap sandbox; skips (with the reason) only when
``grader.sandbox.unavailable()`` says it cannot work on this machine.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from attack_submissions import LIMITS, NOTEBOOK, POINTS, TOTAL, Attack, Context, attacks
from grader import sandbox
from grader.notebooks import grade_id, is_test_cell, read_notebook

REPO = Path(__file__).resolve().parents[2]
ATTACKS = {a.student: a for a in attacks()}

_UNAVAILABLE = sandbox.unavailable()
if _UNAVAILABLE:
    pytest.skip(f"attack suite needs the bubblewrap sandbox, which cannot run here: {_UNAVAILABLE}",
                allow_module_level=True)

pytestmark = pytest.mark.slow

# Text that only the hidden tests and the check modules contain.
SECRETS = ("grader.checks.run(", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "_check_scaled_normal",
           "_fan_alternatives", "_STAT_DIMS", "_SHAPE_DIMS", "def check_initialize")


def _cli(*args, env=None, timeout=1800):
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink())
        for p in files:
            if "__pycache__" in p.parts:
                continue  # written by the grader's own interpreter when it first imports a module
            out[str(p)] = "link" if p.is_symlink() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _host_address() -> str:
    """An address of this machine other than loopback (where a grader's services could listen)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
    except OSError:
        return "127.0.0.2"


class _Listener:
    """A TCP server on every interface that records who connects."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except OSError:
                continue
            self.connections.append(addr)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _processes_with(text: str) -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append(f"{entry.name}: {cmdline[:200]}")
    return found


@dataclass
class Run:
    ws: Path
    tmp: Path
    ctx: Context
    done: subprocess.CompletedProcess
    seconds: float
    before: dict[str, str]
    after: dict[str, str]
    scores: dict[tuple[str, str], float]
    totals: dict[str, float]
    summary: dict[str, str]
    connections: list
    survivors: list[str]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    return _grade_attacks(tmp_path_factory.mktemp("attacks"))


@pytest.fixture(scope="module")
def run_all_cells(tmp_path_factory) -> Run:
    """The same submissions in a workspace of their own, graded running every cell (--run-all-cells)."""
    return _grade_attacks(tmp_path_factory.mktemp("attacks-run-all-cells"), "--run-all-cells")


def _grade_attacks(root: Path, *options: str) -> Run:
    ws = root / "course"
    tmp = root / "tmp"
    tmp.mkdir()
    done = _cli("init", ws)
    assert done.returncode == 0, done.stderr
    with (ws / "nbgrader_config.py").open("a") as fh:
        fh.write("\n# short limits for the attack suite\n")
        for key, value in LIMITS.items():
            fh.write(f"c.{key} = {value!r}\n")

    listener = _Listener()
    ctx = Context(release=ws / "release/week1" / NOTEBOOK, source=ws / "source/week1" / NOTEBOOK,
                  workspace=ws, repo=REPO, token=f"attack-{secrets.token_hex(6)}", host=_host_address(),
                  port=listener.port)
    for attack in ATTACKS.values():
        attack.build(ctx, ws / "submitted" / attack.student / "week1")
    watched = [ws / "nbgrader_config.py", ws / "source", ws / "release", ws / "submitted", REPO / "grader",
               REPO / "solutions", REPO / "notebooks", REPO / "dlutils"]
    before = _digest(watched)

    env = dict(os.environ, TMPDIR=str(tmp))
    start = time.monotonic()
    try:
        done = _cli("autograde", "week1", "--workspace", ws, *options, env=env)
    finally:
        seconds = time.monotonic() - start
        time.sleep(0.5)
        listener.close()
    print(f"\nattack suite: {len(ATTACKS)} submissions graded in {seconds:.0f} s")
    survivors = _processes_with(ctx.token) + _processes_with(str(tmp))
    after = _digest(watched)

    exported = _cli("export", "--workspace", ws)
    assert exported.returncode == 0, exported.stderr
    with open(ws / "exercise_scores.csv", newline="") as fh:
        scores = {(r["student"], r["grade_id"].removeprefix("test_")): float(r["score"]) for r in csv.DictReader(fh)}
    with open(ws / "grades.csv", newline="") as fh:
        totals = {r["student"]: float(r["score"]) for r in csv.DictReader(fh)}
    # autograde's table: a header row starting with "student", one row per student, then "graded ..."
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["student"])
    rows = [line for line in lines[header + 1:] if line.strip() and not line.startswith("graded ")]
    summary = {line.split()[0]: line.split(None, 1)[1] for line in rows}
    return Run(ws, tmp, ctx, done, seconds, before, after, scores, totals, summary, listener.connections, survivors)


def _graded(run: Run, student: str):
    path = run.ws / "autograded" / student / "week1" / NOTEBOOK
    return read_notebook(path) if path.is_file() else None


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(json.dumps(out))
        parts.append(out.get("text", "") if isinstance(out.get("text", ""), str) else "")
        parts.append(str(out.get("evalue", "")))
    return "\n".join(parts)


def test_the_batch_finishes_and_every_valid_submission_is_graded(run):
    assert run.done.returncode == 0, run.done.stdout + run.done.stderr
    assert "Traceback" not in run.done.stderr
    assert sorted(run.summary) == sorted(ATTACKS), run.done.stdout
    # every notebook has its own wall-clock limit; the whole batch is bounded by them
    assert run.seconds < len(ATTACKS) * (LIMITS["Sandbox.wall_seconds"] + 20)


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_attack(run, student):
    attack: Attack = ATTACKS[student]
    nb = _graded(run, student)
    if attack.expected is None and nb is None:   # not a usable notebook at all
        assert run.totals[student] == 0
        assert f"student {student}: {NOTEBOOK} is not a valid notebook" in run.done.stderr
        assert "02_initialization.ipynb not a valid notebook" in run.summary[student]
        return
    assert nb is not None, f"{student} was not graded: {run.summary.get(student)}"
    scores = {name: run.scores[(student, name)] for name in POINTS}
    if attack.expected is not None:
        assert scores == attack.expected, f"{student} ({attack.what})"
    for name, points in scores.items():
        assert points <= POINTS[name]
    assert run.totals[student] == sum(scores.values()) <= TOTAL

    tests = {grade_id(c).removeprefix("test_"): c for c in nb.cells if is_test_cell(c)}
    assert sorted(tests) == sorted(POINTS), "every graded function has exactly one test cell"
    for name, points in scores.items():
        if points == 0:  # the student is told why, in that test cell
            errors = [o for o in tests[name].outputs if o.get("output_type") == "error"]
            assert errors and all(str(o.get("evalue", "")).strip() or o.get("ename") for o in errors), name
    for name, reason in attack.reasons.items():
        assert reason in _outputs_text(tests[name]), f"{student}/{name}: {_outputs_text(tests[name])[:2000]}"
    everything = "\n".join(_outputs_text(c) for c in nb.cells)
    for text in attack.shows:
        assert text in everything, f"{student}: {text!r} not shown"


def test_visible_checks_were_really_subverted(run):
    """These attacks did fool the kernel: their test cells show no error of the visible checks (which
    would have cost the points anyway), only the grader's own verdict on the wrong answers."""
    for student in ("transformer", "event_hooks", "settrace", "patched_libraries", "always_equal"):
        for cell in _graded(run, student).cells:
            if is_test_cell(cell) and run.scores[(student, grade_id(cell).removeprefix("test_"))] == 0:
                names = [o.get("ename") for o in cell.outputs if o.get("output_type") == "error"]
                assert names == ["HiddenTestFailure"], (student, grade_id(cell), names)
    planted = "\n".join(_outputs_text(c) for c in _graded(run, "planted_files").cells)
    assert "passed all hidden tests" not in planted   # the planted grader/ package was never used


def test_hidden_tests_appear_nowhere_students_can_see(run):
    for student in ATTACKS:
        nb = _graded(run, student)
        if nb is None:
            continue
        for cell in nb.cells:
            text = _outputs_text(cell) + (cell.source if is_test_cell(cell) else "")
            for secret in SECRETS:
                assert secret not in text, f"{student}: {secret!r} in cell {grade_id(cell) or cell.get('id')}"
    snoop = "\n".join(_outputs_text(c) for c in _graded(run, "snoop").cells)
    assert "SNOOP kernel saw:" in snoop and "pieces of code" in snoop


def test_skipping_cells_changes_no_score(run, run_all_cells):
    """Not running the cells the source tags grader-skip-in-grading gives every attack the score that
    running every cell gives (grader.skipping): no attack gains or loses a point by the skipping."""
    assert run_all_cells.done.returncode == 0, run_all_cells.done.stdout + run_all_cells.done.stderr
    assert sorted(run_all_cells.summary) == sorted(run.summary) == sorted(ATTACKS)
    assert run_all_cells.scores == run.scores
    assert run_all_cells.totals == run.totals


def test_other_students_are_graded_right(run):
    assert run.totals["aa_honest"] == TOTAL        # graded before every attack, still intact after
    assert run.totals["zz_honest"] == TOTAL        # graded after every attack
    assert run.totals["zz_wrong"] == TOTAL - POINTS["initialize_he"]


def test_gradebook_is_consistent(run):
    db = sqlite3.connect(run.ws / "gradebook.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{run.ws / 'gradebook.db'}", "improving-dnn") as gb:
        students = sorted(s.id for s in gb.students)
        assert students == sorted(ATTACKS)
        for student in students:
            sub = gb.find_submission("week1", student)
            # week1 has more notebooks; the attacks hand in 02_initialization only
            attacked = [nb for nb in sub.notebooks if nb.name == "02_initialization"]
            grades = [g for nb in attacked for g in nb.grades]
            assert sorted(g.name for g in grades) == sorted(f"test_{n}" for n in POINTS)
            assert not sub.needs_manual_grade, student
            assert all(g.auto_score is not None and 0 <= g.auto_score <= g.max_score for g in grades), student
            assert sum(g.max_score for g in grades) == TOTAL


def test_workspace_and_repository_are_unchanged(run):
    changed = sorted(k for k in set(run.before) | set(run.after) if run.before.get(k) != run.after.get(k))
    assert changed == []


def test_nothing_survives_grading(run):
    assert run.survivors == []
    assert sorted(p.name for p in run.tmp.iterdir()) == []   # no sandbox or staging folder left behind
    pattern = f"*{run.ctx.token}*"
    leftovers = [*run.ws.rglob(pattern), *run.tmp.rglob(pattern), *Path("/tmp").glob(pattern), *REPO.glob(pattern)]
    assert leftovers == []


def test_no_connection_left_the_sandbox(run):
    assert run.connections == []
    network = "\n".join(_outputs_text(c) for c in _graded(run, "network").cells)
    assert "CONNECTED" not in network and "RESOLVED" not in network and "FETCHED" not in network


def test_output_floods_are_cut(run):
    size = (run.ws / "autograded" / "flood" / "week1" / NOTEBOOK).stat().st_size
    assert size < (LIMITS["Sandbox.output_mb"] + 1) * 2**20


def test_writes_stayed_in_the_sandbox(run):
    text = "\n".join(_outputs_text(c) for c in _graded(run, "write_outside").cells)
    line = next(line for line in text.splitlines() if "WRITE succeeded" in line)
    for outside in (str(run.ws), str(REPO), "/root/", "/work/", "/usr/", "/etc/"):
        assert outside not in line.split("sandbox only):", 1)[1], line
    assert "EFBIG" in text or "File too large" in text or "OSError" in text
