"""Instructor tooling of the course: the nbgrader pipeline and ``python -m grader``.

* ``grader.config``     - nbgrader settings (one source of truth)
* ``grader.notebooks``  - notebook helpers for tests (solution cells, reference
  functions, synthetic submissions)
* ``grader.release``    - ``solutions/`` -> ``notebooks/`` (student versions)
* ``grader.workspace``  - grading workspaces: init, autograde, export
* ``grader.grading``    - grading one submission in an isolated worker (this process,
  a process pool or a Dask cluster), merging results into the workspace
* ``grader.collect``    - submissions exported by a learning platform -> submitted/
* ``grader.feedback``   - per-student feedback without hidden tests
* ``grader.report``     - per-exercise score distributions and common failures
* ``grader.checks``     - hidden checks imported by the notebooks' test cells

Kept free of imports: the grading kernel imports ``grader.checks.*``.
"""
