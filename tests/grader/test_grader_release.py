"""``grader release``: solutions/ -> notebooks/ on a synthetic repo-like root."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import nbformat
import pytest
from grader_testkit import REPO, run_cli, tree_bytes
from traitlets.config.loader import PyFileConfigLoader

from grader import config as grader_config
from grader.errors import PipelineError, UsageError
from grader.notebooks import is_solution_cell, notebook_text, read_notebook, write_notebook
from grader.release import build_release, release


def _release(root: Path, *names: str, check: bool = False) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = release(root, list(names), check=check, echo=lines.append)
    return code, lines


def _mtimes(directory: Path) -> dict[str, int]:
    return {p.relative_to(directory).as_posix(): p.stat().st_mtime_ns for p in directory.rglob("*") if p.is_file()}


def test_release_is_deterministic_and_byte_stable(course, tmp_path):
    code, _ = _release(course)
    assert code == 0
    notebooks = course / "notebooks"
    first, first_mtimes = tree_bytes(notebooks), _mtimes(notebooks)
    assert sorted(first) == ["demo/01_demo.ipynb", "demo/02_extra.ipynb", "demo/data/values.txt", "demo/demo_checks.py"]

    code, lines = _release(course)
    assert code == 0
    assert tree_bytes(notebooks) == first
    assert _mtimes(notebooks) == first_mtimes  # identical files are not even rewritten
    assert "0 file(s) written" in lines[-1]

    # independent of where the checkout lives and of the run's temp dirs
    elsewhere = shutil.copytree(course / "solutions", tmp_path / "elsewhere" / "solutions")
    assert build_release(elsewhere.parent, ["demo"]) == {k: v for k, v in first.items()}

    for name in ("01_demo.ipynb", "02_extra.ipynb"):
        text = first[f"demo/{name}"].decode()
        nb = nbformat.reads(text, as_version=4)
        assert text == notebook_text(nb) and text.endswith("}\n")  # nbformat's formatting, one newline
        source = read_notebook(course / "solutions/demo" / name)
        assert [c.id for c in nb.cells] == [c.id for c in source.cells]  # stable cell ids
    assert not list(course.rglob("gradebook.db"))


def test_release_has_stubs_and_no_solutions_or_hidden_tests(course):
    files = build_release(course, ["demo", "empty"])
    assert not any(k.startswith("empty/") for k in files)  # no notebooks: skipped quietly
    assert files["demo/data/values.txt"] == (course / "solutions/demo/data/values.txt").read_bytes()

    for name in ("01_demo.ipynb", "02_extra.ipynb"):
        text = files[f"demo/{name}"].decode()
        for secret in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "demo_checks", "return a + b", "v * c", "x * x"):
            assert secret not in text, (name, secret)
        nb = nbformat.reads(text, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")

        namespace: dict = {}
        exec("import math\nFACTOR = 2", namespace)  # the setup cell
        stubs = [c for c in nb.cells if is_solution_cell(c)]
        assert stubs
        for cell in stubs:
            assert "# YOUR CODE HERE\n" in cell.source and "raise NotImplementedError()" in cell.source
            gid = cell.metadata.nbgrader.grade_id
            try:
                exec(cell.source, namespace)
            except NotImplementedError:
                continue  # a whole-cell stub raises when run
            function = namespace[gid]
            args = [None] * len(inspect.signature(function).parameters)
            with pytest.raises(NotImplementedError):
                function(*args)

    visible = nbformat.reads(files["demo/01_demo.ipynb"].decode(), as_version=4)
    assert "assert add(1, 2) == 3" in [c.source for c in visible.cells]


def test_check_detects_modified_missing_and_extra_files(course):
    assert _release(course)[0] == 0
    done = run_cli("release", "--check", root=course)
    assert done.returncode == 0, done.stderr
    assert "in sync" in done.stdout

    demo = course / "notebooks/demo"
    nb = read_notebook(demo / "01_demo.ipynb")
    nb.cells[0].source += "\nedited"
    write_notebook(nb, demo / "01_demo.ipynb")
    (demo / "data/values.txt").unlink()
    (demo / "stray.txt").write_text("not from solutions\n")
    (demo / ".ipynb_checkpoints").mkdir()
    (demo / ".ipynb_checkpoints/01_demo-checkpoint.ipynb").write_text("{}")  # ignored, like nbgrader does
    before = tree_bytes(course)

    done = run_cli("release", "--check", root=course)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        "notebooks/demo/01_demo.ipynb: differs (student work: cell 'md_intro' was edited)",
        "notebooks/demo/data/values.txt: missing",
        "notebooks/demo/stray.txt: extra (not generated from solutions/)",
    ]
    assert "run `python -m grader release`" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert tree_bytes(course) == before  # --check writes nothing


def test_unknown_assignment_is_a_usage_error(course):
    done = run_cli("release", "week9", root=course)
    assert done.returncode == 2
    assert "unknown assignment 'week9'" in done.stderr and "demo, empty" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(UsageError):
        _release(course, "week9")


def test_assignment_without_notebooks_is_skipped_quietly(course):
    code, _ = _release(course, "empty")
    assert code == 0
    assert not (course / "notebooks/empty").exists()
    assert not (course / ".backups").exists()


def test_student_work_is_backed_up_not_lost(course):
    assert _release(course)[0] == 0
    demo = course / "notebooks/demo"

    answered = read_notebook(demo / "01_demo.ipynb")  # answered an exercise and ran a cell
    answered.cells[3].source = "def add(a, b):\n    return a + b"
    answered.cells[3].execution_count = 1
    write_notebook(answered, demo / "01_demo.ipynb")
    scratch = read_notebook(demo / "02_extra.ipynb")  # added a cell, never ran it
    scratch.cells.append(nbformat.v4.new_code_cell("my_notes = 'keep me'"))
    write_notebook(scratch, demo / "02_extra.ipynb")
    (demo / "my_plot.png").write_bytes(b"\x89PNG student file")
    (course / "notebooks/README.md").write_text("top-level files of notebooks/ are not managed\n")
    work = {p: (demo / p).read_bytes() for p in ("01_demo.ipynb", "02_extra.ipynb", "my_plot.png")}

    code, lines = _release(course)
    assert code == 0
    backups = list((course / ".backups").iterdir())
    assert len(backups) == 1 and backups[0].name[:8].isdigit()
    for name, data in work.items():
        assert (backups[0] / "notebooks/demo" / name).read_bytes() == data
        assert any(f"-> .backups/{backups[0].name}/notebooks/demo/{name}" in line for line in lines)
    assert not (demo / "my_plot.png").exists()
    assert (course / "notebooks/README.md").exists()
    assert tree_bytes(demo) == {k[len("demo/") :]: v for k, v in build_release(course, ["demo"]).items()}


def test_pristine_stale_notebook_is_updated_without_backup(course):
    assert _release(course)[0] == 0
    source = course / "solutions/demo/01_demo.ipynb"
    nb = read_notebook(source)
    nb.cells[0].source = "# Demo, second edition"
    write_notebook(nb, source)

    code, lines = _release(course)
    assert code == 0
    assert lines[0] == "updated notebooks/demo/01_demo.ipynb"
    assert not (course / ".backups").exists()
    assert "second edition" in (course / "notebooks/demo/01_demo.ipynb").read_text()


def test_broken_source_notebook_names_the_problem(course):
    source = course / "solutions/demo/02_extra.ipynb"
    nb = read_notebook(source)
    nb.cells[1].source = nb.cells[1].source.replace("    ### END SOLUTION", "")
    write_notebook(nb, source)
    with pytest.raises(PipelineError, match=r"02_extra.ipynb: No end solution statement found"):
        _release(course)
    assert not list((course / "notebooks").iterdir())


def test_repo_nbgrader_config_points_at_this_repository():
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "grader")).load_config()
    assert cfg.CourseDirectory.root == str(REPO)
    assert cfg.CourseDirectory.source_directory == "solutions"
    assert cfg.CourseDirectory.release_directory == "notebooks"
    assert cfg.CourseDirectory.course_id == "improving-dnn"
    assert cfg.ClearSolutions.code_stub == {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    db_path = Path(cfg.CourseDirectory.db_url.removeprefix("sqlite:///"))
    assert REPO not in db_path.parents


def test_workspace_config_file_is_self_contained(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(grader_config.workspace_config_file_text())
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert cfg.CourseDirectory.root == str(tmp_path)
    for section, values in grader_config.SHARED_SETTINGS.items():
        for key, value in values.items():
            assert cfg[section][key] == value
    # plain `nbgrader autograde` in a workspace grades securely too (grader.preprocessors)
    assert cfg.Autograde.autograde_preprocessors[0].__name__ == "SecureExecute"
    assert cfg.SecureExecute.sandboxed is True
