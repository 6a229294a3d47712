"""Numerical gradients by central differences, and the documents' relative error.

Everything here works in float64: the perturbed array must be float64 (a step of
``h = 1e-5`` is below float32 resolution for most values, so a float32 check
would measure rounding, not the gradient), and results are float64 arrays.

The functions perturb the array ``x`` in place, one element at a time, call
``f`` (which must read ``x``, usually through a closure: ``lambda _: model(x)``)
and restore every element to its exact original value afterwards.
"""
from __future__ import annotations

import numpy as np

__all__ = ["rel_error", "eval_numerical_gradient", "eval_numerical_gradient_array"]


def rel_error(x, y) -> float:
    """Largest elementwise relative error ``max(|x - y| / max(1e-8, |x| + |y|))``.

    x, y: arrays (or scalars) of the same shape. Returns a Python float.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: x and y must have the same shape, got {x.shape} "
                         f"and {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _check_target(fn: str, x, h) -> float:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise ValueError(f"{fn}: x must be a float64 NumPy array (perturbed in place), "
                         f"got {got}")
    h = float(h)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"{fn}: h must be a finite positive step, got {h}")
    return h


def eval_numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function by central differences.

    f: callable ``f(x) -> scalar`` (a 0-d array or number).
    x: float64 array, any shape; perturbed in place, restored exactly.
    h: step.

    Returns a float64 array of x's shape: ``(f(x + h e_i) - f(x - h e_i)) / (2h)``
    for every element ``i``.
    """
    h = _check_target("eval_numerical_gradient", x, h)
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            plus = float(f(x))
            x[ix] = old - h
            minus = float(f(x))
        finally:
            x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Gradient of ``sum(f(x) * df)`` by central differences (a vector-Jacobian product).

    f:  callable ``f(x) -> array``.
    x:  float64 array, any shape; perturbed in place, restored exactly.
    df: upstream gradient, same shape as ``f(x)``.
    h:  step.

    Returns a float64 array of x's shape:
    ``sum((f(x + h e_i) - f(x - h e_i)) * df) / (2h)`` for every element ``i``.
    """
    h = _check_target("eval_numerical_gradient_array", x, h)
    df = np.asarray(df, dtype=np.float64)
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            plus = np.array(f(x), dtype=np.float64)  # a copy: f may reuse its output buffer
            x[ix] = old - h
            minus = np.array(f(x), dtype=np.float64)
        finally:
            x[ix] = old
        if plus.shape != df.shape:
            raise ValueError(f"eval_numerical_gradient_array: df must have the shape of "
                             f"f(x) {plus.shape}, got {df.shape}")
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
    return grad
