"""Every numerical tolerance of the project, in one table.

An element passes a ``(rtol, atol)`` check when ``|actual - expected| <= atol +
rtol * |expected|``. A catalog entry may override :data:`TORCH` for its own
tensors (``Component.tolerance``); :func:`against_torch` applies the override.

==================  ================================  ===============================
table               compares                          why these numbers
==================  ================================  ===============================
TORCH               numpy_rnn with torch autograd     float64: a few hundred ulp of
                                                      headroom over reordered sums;
                                                      float32: torch.testing's own
REGRESSION          today's run with a frozen         a numpy/BLAS upgrade moves
                    fixture (atol x max|frozen|)      results by ulps, never by more
REAL_CHANGE         the smallest relative change      a real change of code is
                    a regression fixture must catch   caught in both dtypes
OPTIMIZER           one optimiser step, numpy vs      elementwise updates: rounding
                    torch.optim                       of a handful of operations
BENCH_AGREEMENT     a benchmark row's two results     normwise; bigger arrays sum
                    (normwise relative difference)    more rounding
GRADCHECK           analytic vs central-difference    the documents' rel_error
                    gradients (rel_error, float64)    threshold
==================  ================================  ===============================
"""
from __future__ import annotations

TORCH = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-5)}
REGRESSION = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-5)}
REAL_CHANGE = {"float64": 1e-6, "float32": 1e-4}
OPTIMIZER = {"float64": (1e-12, 1e-14), "float32": (1e-5, 1e-6)}
BENCH_AGREEMENT = {"float64": 1e-9, "float32": 1e-4}
GRADCHECK = 1e-6


def against_torch(component, dtype: str) -> tuple:
    """``(rtol, atol)`` for ``component``'s tensors in ``dtype`` against torch."""
    return component.tolerance.get(dtype, TORCH[dtype])
