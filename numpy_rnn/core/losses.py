"""Softmax, masked temporal softmax cross-entropy and mean squared error."""
from __future__ import annotations

import numpy as np

from numpy_rnn.core._kernels import _scalar
from numpy_rnn.core.validation import ArgChecker

# ---- softmax and losses ------------------------------------------------------------

def _shifted_exp(x: np.ndarray) -> tuple:
    """``(shifted, e)``: ``x - max(x)`` over the last axis and its exp (new arrays)."""
    # a gap beyond the dtype's range (logits of -1e308 and 1e308) is -inf: exp of it
    # is 0, as it should be, and so is exp of any very negative logit
    with np.errstate(over="ignore"):
        shifted = x - x.max(axis=-1, keepdims=True)
    with np.errstate(under="ignore"):
        e = np.exp(shifted)
    return shifted, e


def _logits(fn: str, x) -> np.ndarray:
    x = ArgChecker(fn).float_array("x", x)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{fn}: x must have shape (..., V) with V >= 1, got shape {x.shape}")
    return x


def softmax(x):
    """Softmax over the last axis, shifted by the row maximum so exp never overflows.

    x: float array (..., V), finite. Returns probabilities of the same shape and dtype.
    """
    _, e = _shifted_exp(_logits("softmax", x))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def log_softmax(x):
    """Log-softmax over the last axis: ``x - logsumexp(x)``, computed stably.

    x: float array (..., V), finite. Returns an array of the same shape and dtype.
    """
    shifted, e = _shifted_exp(_logits("log_softmax", x))
    shifted -= np.log(e.sum(axis=-1, keepdims=True))
    return shifted


def temporal_softmax_loss(x, y, mask):
    """Masked softmax cross-entropy summed over time and averaged over the batch.

    ``loss = sum_{n,t} mask[n, t] * -log softmax(x[n, t])[y[n, t]] / N``.

    x:    (N, T, V) class scores (logits).
    y:    (N, T) integer labels, each in ``[0, V)``.
    mask: (N, T) booleans or 0/1 numbers; 0 drops a position (a fully masked
          sequence contributes 0 to the loss and gets a zero gradient).

    Returns ``(loss, dx)``: loss a scalar of x's dtype, dx (N, T, V).
    """
    chk = ArgChecker("temporal_softmax_loss")
    x = chk.float_array("x", x, ("N", "T", "V"))
    N, T, V = x.shape
    y = chk.index_array("y", y, ("N", "T"), V, f"V={V} classes in x")
    mask = chk.mask_array("mask", mask, ("N", "T"))
    dtype = x.dtype
    rows = np.arange(N * T)
    labels = y.reshape(-1)
    shifted, probs = _shifted_exp(x.reshape(N * T, V))
    sums = probs.sum(axis=1)  # >= 1: the row maximum contributes exp(0)
    nll = np.log(sums)
    nll -= shifted[rows, labels]  # inf where the label's logit is beyond reach
    weight = mask.reshape(-1).astype(dtype)
    weight /= N
    with np.errstate(invalid="ignore"):
        loss = np.dot(weight, nll)
    if not np.isfinite(loss):
        counted = weight != 0  # masked positions add 0, whatever their logits
        loss = np.dot(weight[counted], nll[counted])
        if not np.isfinite(loss):
            row = int(np.flatnonzero(counted & ~np.isfinite(nll))[0])
            raise ValueError(f"temporal_softmax_loss: the loss overflows {dtype}: at (n, t) = "
                             f"{divmod(row, T)} the label's logit is more than the {dtype} "
                             "range below the largest logit; scale the logits down")
    probs *= (weight / sums)[:, None]
    probs[rows, labels] -= weight
    return _scalar(loss, dtype), probs.reshape(N, T, V)


def mse_loss(y_hat, y):
    """Mean squared error over all elements: ``loss = mean((y_hat - y)**2)``.

    y_hat: float array, any shape (predictions).
    y:     float array of the same shape and dtype (targets).

    Returns ``(loss, dy_hat)``: loss a scalar of y_hat's dtype, dy_hat the gradient
    of the loss w.r.t. y_hat, same shape as y_hat.
    """
    chk = ArgChecker("mse_loss")
    y_hat = chk.float_array("y_hat", y_hat)
    y = chk.same_shape("y", y, "y_hat", y_hat)
    if y_hat.size == 0:
        raise ValueError(f"mse_loss: y_hat must have at least one element, got shape "
                         f"{y_hat.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        diff = y_hat - y
        loss = np.vdot(diff, diff) / diff.size
    if not np.isfinite(loss):
        loss = _scaled_mean_square("mse_loss", diff)
    diff *= 2 / diff.size
    return _scalar(loss, y_hat.dtype), diff


def _scaled_mean_square(fn: str, diff: np.ndarray):
    """``mean(diff**2)`` where the sum of squares overflows but the mean may not.

    ValueError naming ``fn`` when the mean itself is beyond the dtype's range.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        scale = np.max(np.abs(diff))
        if np.isfinite(scale):
            r = diff / scale
            loss = (scale * np.sqrt(np.vdot(r, r) / diff.size)) ** 2
            if np.isfinite(loss):
                return loss
    raise ValueError(f"{fn}: the loss overflows {diff.dtype}: max |y_hat - y| = {scale:.3g}, "
                     f"its square is beyond the dtype's range; scale the values down")
