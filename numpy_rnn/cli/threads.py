"""How many threads NumPy's BLAS (and torch, when a command loads it) may use.

The matrices of this project are small (a batch of 30 by a hidden size of 100):
a second BLAS thread costs more in hand-over than it saves, and on a machine whose
cores are busy it can make a command several times slower. So every command runs
with one thread unless ``--threads N`` or an ``OPENBLAS_NUM_THREADS`` /
``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` already set in the environment says
otherwise (the flag wins).

NumPy is already imported when a command starts, so its BLAS is limited through
threadpoolctl; the environment variables reach libraries loaded later (torch reads
``OMP_NUM_THREADS`` when it starts) and child processes. Without threadpoolctl
the library still works; only the limit on NumPy's BLAS is lost.
"""
from __future__ import annotations

import os

from numpy_rnn.cli.support import positive_int

__all__ = ["DEFAULT_THREADS", "THREAD_VARIABLES", "add_threads_argument", "apply_threads",
           "blas_threads"]

DEFAULT_THREADS = 1
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def add_threads_argument(parser) -> bool:
    """Add ``--threads N`` unless the command defines its own; True when added."""
    if "--threads" in parser._option_string_actions:
        return False
    parser.add_argument("--threads", type=positive_int, default=None, metavar="N",
                        help=f"BLAS/OpenMP threads (default: {DEFAULT_THREADS}, or "
                             "OPENBLAS_NUM_THREADS when set; small matrices gain nothing "
                             "from more)")
    return True


def _from_environment():
    for name in THREAD_VARIABLES:
        try:
            value = int(os.environ.get(name, ""))
        except ValueError:
            continue
        if value >= 1:
            return value
    return None


def apply_threads(threads=None) -> int:
    """Limit BLAS/OpenMP to ``threads`` (None: the environment's setting, else 1).

    Returns the number of threads in force. The limit holds for the rest of the
    process and is inherited by child processes through the environment.
    """
    if threads is None:
        threads = _from_environment() or DEFAULT_THREADS
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up: without it NumPy's BLAS keeps its default
        return threads
    threadpool_limits(limits=threads)
    return threads


def blas_threads() -> list:
    """The thread count of every BLAS/OpenMP pool loaded now ([] without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [pool["num_threads"] for pool in threadpool_info()]
