"""The set-up a newcomer relies on: pins, conda/Binder file, Jupyter extensions."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"requirements.lock: every line must pin with ==, got {line!r}"
        pins[canonicalize_name(name)] = version
    return pins


def _pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    reqs += [Requirement(r) for r in project["optional-dependencies"]["test"]]
    return reqs


def _conda_pins() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # the pip: section
            continue
        name, _, version = dep.partition("=")
        if name in ("python", "pip"):
            continue
        pins[canonicalize_name(name)] = version
    return pins


def test_lock_pins_every_declared_dependency_within_its_range():
    lock = _lock()
    for req in _pyproject_requirements():
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is in pyproject.toml but not pinned in requirements.lock"
        assert req.specifier.contains(lock[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={lock[name]}, outside pyproject's {req.specifier}"
        )


def test_environment_yml_matches_pyproject_and_lock():
    conda = _conda_pins()
    lock = _lock()
    declared = {canonicalize_name(r.name) for r in _pyproject_requirements()}
    assert set(conda) == declared, (
        f"environment.yml and pyproject.toml list different packages: "
        f"only in environment.yml {sorted(set(conda) - declared)}, "
        f"only in pyproject.toml {sorted(declared - set(conda))}"
    )
    for name, version in conda.items():
        assert version == lock[name], (
            f"environment.yml pins {name}={version} but requirements.lock has {lock[name]}"
        )


def test_installed_versions_are_the_locked_ones():
    from importlib.metadata import version

    lock = _lock()
    for req in _pyproject_requirements():
        assert version(req.name) == lock[canonicalize_name(req.name)], (
            f"{req.name} {version(req.name)} is installed, the lock says {lock[canonicalize_name(req.name)]}: run `make install`"
        )


@pytest.mark.skipif(not (BIN / "jupyter").exists(), reason="jupyter is not installed in this environment")
def test_lab_extensions_enabled_and_ok():
    out = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True, timeout=120
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    for ext in ("@jupyter/nbgrader", "@jupyter-widgets/jupyterlab-manager", "jupyter-matplotlib"):
        line = next((ln for ln in text.splitlines() if ln.strip().startswith(ext + " ")), None)
        assert line is not None, f"{ext} is not listed by `jupyter labextension list`:\n{text}"
        assert "enabled" in line and "OK" in line, f"{ext} is not enabled and OK: {line.strip()}"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_install_is_idempotent():
    """After set-up, `make install` has nothing left to do (a second run installs nothing)."""
    if not (ROOT / ".venv" / ".installed-stamp").exists() or Path(sys.prefix) != ROOT / ".venv":
        pytest.skip("only meaningful inside the project's own .venv made by `make`")
    result = subprocess.run(["make", "-q", "install"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "`make install` would run again although nothing changed"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and re.search(r"^make test\s*$", ci, re.M), (
        ".ci/run must call `make test`, the test command the README gives"
    )


INSTRUCTOR_PLUGINS = ("formgrader", "assignment-list", "course-list", "create-assignment", "menu")


def test_student_lab_shows_validate_and_no_instructor_tools():
    """`make install` switches nbgrader's instructor panels off inside .venv; Validate stays."""
    import subprocess
    import sys
    from pathlib import Path

    jupyter = Path(sys.executable).parent / "jupyter"
    lab = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True, timeout=120)
    listing = lab.stdout + lab.stderr
    disabled = listing.split("Disabled extensions:", 1)[1] if "Disabled extensions:" in listing else ""
    for plugin in INSTRUCTOR_PLUGINS:
        assert f"@jupyter/nbgrader:{plugin}\n" in disabled + "\n", f"{plugin} is enabled in the student lab:\n{listing}"
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    server = subprocess.run([str(jupyter), "server", "extension", "list"], capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", server.stdout + server.stderr)
    for extension in ("formgrader", "assignment_list", "course_list"):
        assert f"nbgrader.server_extensions.{extension} disabled" in text, text
    assert "grader.validate_dialog enabled" in text  # Validate, its dialog leading with the message
    assert "nbgrader.server_extensions.validate_assignment disabled" in text


def test_missing_sandbox_or_chromium_skips_here_but_fails_under_ci(monkeypatch):
    import system_tools
    from grader.secure import sandbox

    monkeypatch.setattr(sandbox, "unavailable", lambda *a: "bwrap is not installed")
    monkeypatch.delenv(system_tools.REQUIRE_SANDBOX, raising=False)
    monkeypatch.delenv(system_tools.REQUIRE_CHROMIUM, raising=False)
    assert system_tools.sandbox_args() == ["--no-sandbox"]
    with pytest.raises(pytest.skip.Exception, match="bwrap is not installed"):
        system_tools.skip_without_sandbox("the attack suite")
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        system_tools.skip_without_chromium(None, "browser tests")
    monkeypatch.setenv(system_tools.REQUIRE_SANDBOX, "1")
    monkeypatch.setenv(system_tools.REQUIRE_CHROMIUM, "1")
    with pytest.raises(pytest.fail.Exception, match="GRADER_REQUIRE_SANDBOX is set"):
        system_tools.sandbox_args()
    with pytest.raises(pytest.fail.Exception, match="GRADER_REQUIRE_CHROMIUM is set"):
        system_tools.skip_without_chromium(None, "browser tests")
    # .ci/run installs both tools, fails when it cannot, and then requires them
    ci = (ROOT / ".ci" / "run").read_text()
    assert "export GRADER_REQUIRE_SANDBOX=1" in ci and "export GRADER_REQUIRE_CHROMIUM=1" in ci
    assert "could not install" in ci and "exit 1" in ci
