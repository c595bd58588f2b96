"""How many threads NumPy's BLAS (the matmuls) uses, under PyTorch's names.

The course's models are small (matrices of a few hundred rows): a multi-threaded BLAS then spends
more time waking and synchronising its threads than multiplying, and on a busy machine far more
(benchmarks/framework_speed.py measures it). ``set_num_threads(1)`` is usually fastest for them.
Like torch.set_num_threads, this is a setting of the whole Python process (every NumPy matmul,
not only dlutils.nn's), kept until changed; it needs threadpoolctl, which scikit-learn installs.
"""

from dlutils import _blas as _blas_threads, _validate


def _blas():
    found = _blas_threads.controller()
    if found is None:
        raise RuntimeError("set_num_threads/get_num_threads need threadpoolctl (pip install threadpoolctl); "
                           "or set OPENBLAS_NUM_THREADS=1 before Python starts")
    return found.select(user_api="blas")


def get_num_threads():
    """The number of threads NumPy's BLAS uses now (the largest, if several BLAS libraries are loaded)."""
    return max((info["num_threads"] for info in _blas().info()), default=1)


def set_num_threads(n):
    """Let NumPy's BLAS use ``n`` threads (a positive int) from now on, in this whole process."""
    _validate.check_positive_int("n", n)
    _blas().limit(limits=int(n))
