"""Callables that checks pass *into* students' functions (e.g. the ``f`` of
``numerical_gradient`` or the ``cost_fn`` of ``gradient_check``).

Everything here is defined at module level from plain data, so a grader that
calls students' functions in another process can rebuild the same callable
there from its name and arguments: the secure autograder sends this module's
source into the student's kernel and rebuilds a probe from its class name and
the arguments it was constructed with (see ``grader/_wire.py``). So:

* a probe is a subclass of :class:`Probe` whose ``__init__`` takes only plain
  data (arrays, numbers, strings, ``None``, dicts/lists/tuples of them), or a
  plain module-level function;
* attributes a probe changes while called (e.g. a call counter) must be plain
  data too: the grader copies them back after the student's function returns;
* nothing here is secret: the student's function receives these objects and
  can inspect them. This module imports only the standard library and NumPy.
"""
from __future__ import annotations

import copy


class Probe:
    """Base of callable probes: remembers the plain data it was built from."""

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        self._probe_spec = (copy.deepcopy(args), copy.deepcopy(kwargs))
        return self
