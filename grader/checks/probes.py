"""Callables that checks pass *into* students' functions (e.g. the ``f`` of
``numerical_gradient`` or the ``cost_fn`` of ``gradient_check``).

Everything here is defined at module level from plain data, so a grader that
calls students' functions in another process can rebuild the same callable
there from its name and arguments.
"""
from __future__ import annotations
