"""Instructor tooling of the course: the nbgrader pipeline and ``python -m grader``.

* ``grader.config``     - nbgrader settings (one source of truth)
* ``grader.notebooks``  - notebook helpers for tests (solution cells, reference
  functions, synthetic submissions)
* ``grader.release``    - ``solutions/`` -> ``notebooks/`` (student versions)
* ``grader.workspace``  - grading workspaces: init, autograde, export
* ``grader.checks``     - hidden checks imported by the notebooks' test cells

Kept free of imports: the grading kernel imports ``grader.checks.*``.
"""
