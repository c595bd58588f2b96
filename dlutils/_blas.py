"""NumPy's BLAS threads: the one place dlutils talks to threadpoolctl.

The course's matrices are small (a few hundred rows): a multi-threaded BLAS spends more time waking
and synchronising its threads than multiplying, and on a busy machine far more
(benchmarks/bn_net_threads.py, benchmarks/framework_speed.py). threadpoolctl comes with
scikit-learn; without it ``one_thread()`` does nothing and ``controller()`` is None.
"""

import contextlib

_controller = None


def controller():
    """The process's threadpoolctl ThreadpoolController (made once: it inspects every loaded library), or None."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        _controller = ThreadpoolController()
    return _controller


def one_thread():
    """A context in which NumPy's BLAS uses one thread (does nothing without threadpoolctl)."""
    found = controller()
    return contextlib.nullcontext() if found is None else found.limit(limits=1, user_api="blas")
