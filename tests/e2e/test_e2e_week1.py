"""Week 1 graded end to end through the instructor CLI, on the real solutions notebooks.

The reference gets full marks, the untouched release gets zero, and a realistic
wrong implementation of one exercise loses exactly that exercise's points.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from grader.notebooks import make_submission, read_notebook, write_notebook

REPO = Path(__file__).resolve().parents[2]

# grade_id -> (points of its test cell, a realistic wrong implementation)
WRONG = {
    "initialize_zeros": (1, '''
def initialize_zeros(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.zeros((layer_dims[l], layer_dims[l - 1]))
        parameters["b" + str(l)] = np.zeros(layer_dims[l])  # 1-D bias
    return parameters
'''),
    "initialize_random": (2, '''
def initialize_random(layer_dims, rng, scale=10.0):
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) * scale  # global RNG
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
'''),
    "initialize_he": (2, '''
def initialize_he(layer_dims, rng):
    parameters = {}
    for l in range(1, len(layer_dims)):
        std = np.sqrt(2 / layer_dims[l])  # fan-out instead of fan-in
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * std
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
'''),
    "initialize_xavier": (2, '''
def initialize_xavier(layer_dims, rng):
    parameters = {}
    for l in range(1, len(layer_dims)):
        std = np.sqrt(2 / layer_dims[l - 1])  # He's variance
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) * std
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters
'''),
}
TOTAL = sum(points for points, _ in WRONG.values())
NOTEBOOK = "02_initialization.ipynb"


def cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.slow
def test_week1_autograde_end_to_end(tmp_path):
    ws = tmp_path / "course"
    done = cli("init", ws)
    assert done.returncode == 0, done.stderr
    release, source = ws / "release/week1" / NOTEBOOK, ws / "source/week1" / NOTEBOOK

    def submit(student, nb):
        path = ws / "submitted" / student / "week1" / NOTEBOOK
        path.parent.mkdir(parents=True)
        write_notebook(nb, path)

    submit("reference", make_submission(release, source))
    submit("untouched", read_notebook(release))
    for gid, (_, wrong) in WRONG.items():
        submit(f"wrong_{gid}", make_submission(release, source, {gid: wrong}))

    done = cli("autograde", "week1", "--workspace", ws)
    assert done.returncode == 0, done.stdout + done.stderr
    done = cli("export", "--workspace", ws)
    assert done.returncode == 0, done.stderr

    grades = {r[0]: (float(r[2]), float(r[3])) for r in rows(ws / "grades.csv")[1:]}
    assert grades["reference"] == (TOTAL, TOTAL)
    assert grades["untouched"] == (0, TOTAL)
    exercise = {(r[0], r[3]): float(r[4]) for r in rows(ws / "exercise_scores.csv")[1:]}
    for gid, (points, _) in WRONG.items():
        student = f"wrong_{gid}"
        assert grades[student] == (TOTAL - points, TOTAL), f"{student}: {grades[student]}"
        assert exercise[(student, f"test_{gid}")] == 0
        others = {g for g in WRONG if g != gid}
        assert all(exercise[(student, f"test_{g}")] == WRONG[g][0] for g in others)

