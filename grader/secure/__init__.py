"""The trust boundary: everything that touches students' code, and nothing else.

* :mod:`.preprocessors` - nbgrader preprocessors of the secure autograder and
  :func:`~.preprocessors.secure_config`, the one switch that turns them on;
* :mod:`.sandbox` - students' kernels in bubblewrap (what they see, their limits);
* :mod:`.remote` - calling a student's function in its kernel from the grader;
* :mod:`._wire` - the plain-data encoding of those calls (no pickles, no code);
* :mod:`.trusted` - hidden tests: cut out of test cells, run in the grader.

These modules import nothing of the rest of ``grader`` but the notebook
vocabulary (:mod:`grader.notebooks`), the cells not run for grading
(:mod:`grader.skipping`) and the hidden checks (:mod:`grader.checks`); the
rest of the package (CLI, workspaces, reports) builds on them.
"""
