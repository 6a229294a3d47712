"""Affine and temporal affine layers."""
from __future__ import annotations

from numpy_rnn.core._kernels import _AffineCache, _backward_checker
from numpy_rnn.core.validation import ArgChecker, check_cache

# ---- affine layers -----------------------------------------------------------------

def affine_forward(x, w, b):
    """Affine map of a batch of vectors: ``out = x w + b``.

    x: (N, D) inputs.  w: (D, M) weights.  b: (M,) bias.

    Returns ``(out, cache)``: out (N, M) and the cache for :func:`affine_backward`.
    """
    chk = ArgChecker("affine_forward")
    x = chk.float_array("x", x, ("N", "D"))
    w = chk.float_array("w", w, ("D", "M"))
    b = chk.float_array("b", b, ("M",))
    out = x @ w
    out += b
    return out, _AffineCache(x, w)


def affine_backward(dout, cache):
    """Backward pass of :func:`affine_forward`.

    dout:  (N, M) upstream gradient.  cache: from :func:`affine_forward`.

    Returns ``(dx, dw, db)`` of shapes (N, D), (D, M), (M,).
    """
    fn = "affine_backward"
    check_cache(fn, cache, _AffineCache, "affine_forward")
    x, w = cache
    if x.ndim != 2:
        raise ValueError(f"{fn}: cache must come from affine_forward (2-D x), "
                         f"got one with {x.ndim}-D x")
    chk = _backward_checker(fn, "affine_forward", {"N": x.shape[0], "M": w.shape[1]}, x.dtype)
    dout = chk.float_array("dout", dout, ("N", "M"))
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def temporal_affine_forward(x, w, b):
    """The same affine map at every timestep: ``out[n, t] = x[n, t] w + b``.

    x: (N, T, D) inputs.  w: (D, M) weights.  b: (M,) bias.

    Returns ``(out, cache)``: out (N, T, M) and the cache for
    :func:`temporal_affine_backward`.
    """
    chk = ArgChecker("temporal_affine_forward")
    x = chk.float_array("x", x, ("N", "T", "D"))
    w = chk.float_array("w", w, ("D", "M"))
    b = chk.float_array("b", b, ("M",))
    N, T, D = x.shape
    out = x.reshape(N * T, D) @ w
    out += b
    return out.reshape(N, T, w.shape[1]), _AffineCache(x, w)


def temporal_affine_backward(dout, cache):
    """Backward pass of :func:`temporal_affine_forward`.

    dout:  (N, T, M) upstream gradient.  cache: from :func:`temporal_affine_forward`.

    Returns ``(dx, dw, db)`` of shapes (N, T, D), (D, M), (M,).
    """
    fn = "temporal_affine_backward"
    check_cache(fn, cache, _AffineCache, "temporal_affine_forward")
    x, w = cache
    if x.ndim != 3:
        raise ValueError(f"{fn}: cache must come from temporal_affine_forward (3-D x), "
                         f"got one with {x.ndim}-D x")
    N, T, D = x.shape
    M = w.shape[1]
    chk = _backward_checker(fn, "temporal_affine_forward", {"N": N, "T": T, "M": M}, x.dtype)
    dout = chk.float_array("dout", dout, ("N", "T", "M"))
    d2 = dout.reshape(N * T, M)
    dx = (d2 @ w.T).reshape(N, T, D)
    return dx, x.reshape(N * T, D).T @ d2, d2.sum(axis=0)
