"""Vanilla RNN: one step and whole sequences, forward and backward."""
from __future__ import annotations

import numpy as np

from numpy_rnn.core._kernels import (
    _backward_checker,
    _check_no_nan,
    _check_recurrence,
    _one_minus_square,
    _projection,
    _RNNCache,
    _RNNStepCache,
    _tanh_into,
    _time_major,
)
from numpy_rnn.core.validation import ArgChecker, check_cache

# ---- vanilla RNN -------------------------------------------------------------------

def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One timestep of a vanilla RNN: ``next_h = tanh(x Wx + prev_h Wh + b)``.

    x:      (N, D) input at this timestep.
    prev_h: (N, H) previous hidden state.
    Wx:     (D, H) input-to-hidden weights.
    Wh:     (H, H) hidden-to-hidden weights.
    b:      (H,) bias.

    Returns ``(next_h, cache)``: next_h (N, H) and the cache for
    :func:`rnn_step_backward`.
    """
    chk = ArgChecker("rnn_step_forward")
    x = chk.float_array("x", x, ("N", "D"))
    prev_h = chk.float_array("prev_h", prev_h, ("N", "H"))
    Wx = chk.float_array("Wx", Wx, ("D", "H"))
    Wh = chk.float_array("Wh", Wh, ("H", "H"))
    b = chk.float_array("b", b, ("H",))
    # beyond the dtype's range a pre-activation becomes +-inf, and tanh/sigmoid of it is exact
    a = _projection("rnn_step_forward", x, Wx, b)
    with np.errstate(over="ignore", invalid="ignore"):
        a += _projection("rnn_step_forward", prev_h, Wh)
    _check_no_nan("rnn_step_forward", "x Wx + prev_h Wh + b", a)
    next_h = _tanh_into(a, a)
    return next_h.copy(), _RNNStepCache(x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    """Backward pass of :func:`rnn_step_forward`.

    dnext_h: (N, H) upstream gradient of next_h.
    cache:   from :func:`rnn_step_forward`.

    Returns ``(dx, dprev_h, dWx, dWh, db)`` of shapes (N, D), (N, H), (D, H),
    (H, H), (H,).
    """
    fn = "rnn_step_backward"
    check_cache(fn, cache, _RNNStepCache, "rnn_step_forward")
    x, prev_h, Wx, Wh, next_h = cache
    N, H = next_h.shape
    chk = _backward_checker(fn, "rnn_step_forward", {"N": N, "H": H}, next_h.dtype)
    dnext_h = chk.float_array("dnext_h", dnext_h, ("N", "H"))
    da = _one_minus_square(next_h, np.empty_like(next_h))
    da *= dnext_h
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    """A vanilla RNN over whole sequences: ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)``.

    x:  (N, T, D) input sequences.
    h0: (N, H) initial hidden state.
    Wx: (D, H) input-to-hidden weights.
    Wh: (H, H) hidden-to-hidden weights.
    b:  (H,) bias.

    Returns ``(h, cache)``: h (N, T, H) the hidden states of every timestep, and
    the cache for :func:`rnn_backward`.
    """
    chk = ArgChecker("rnn_forward")
    x = chk.float_array("x", x, ("N", "T", "D"))
    h0 = chk.float_array("h0", h0, ("N", "H"))
    Wx = chk.float_array("Wx", Wx, ("D", "H"))
    Wh = chk.float_array("Wh", Wh, ("H", "H"))
    b = chk.float_array("b", b, ("H",))
    N, T, D, H = x.shape + (h0.shape[1],)
    x_tm = _time_major(x)
    # input projection of every timestep: one GEMM over T*N rows
    xw = _projection("rnn_forward", x_tm.reshape(T * N, D), Wx, b).reshape(T, N, H)
    _check_recurrence("rnn_forward", Wh)
    hs = np.empty((T + 1, N, H), dtype=x.dtype)
    hs[0] = h0
    for t in range(T):
        out = hs[t + 1]
        np.matmul(hs[t], Wh, out=out)
        out += xw[t]
        _tanh_into(out, out)
    h = np.ascontiguousarray(hs[1:].swapaxes(0, 1))
    return h, _RNNCache(x_tm, Wx, Wh, hs)


def rnn_backward(dh, cache):
    """Backward pass of :func:`rnn_forward` (backpropagation through time).

    dh:    (N, T, H) upstream gradient of every hidden state.
    cache: from :func:`rnn_forward`.

    Returns ``(dx, dh0, dWx, dWh, db)`` of shapes (N, T, D), (N, H), (D, H),
    (H, H), (H,).
    """
    return _rnn_backward("rnn_backward", dh, cache, keep_states=False)[0]


def rnn_backward_with_states(dh, cache):
    """:func:`rnn_backward`, and the total gradient reaching every hidden state.

    Returns ``(grads, dstates)``: ``grads`` as :func:`rnn_backward` returns them and
    dstates (N, T, H), ``dL/dh_t`` through the output and through later timesteps
    (what a vanishing-gradient study measures).
    """
    grads, dstates = _rnn_backward("rnn_backward_with_states", dh, cache, keep_states=True)
    return grads, np.ascontiguousarray(dstates.swapaxes(0, 1))


def _rnn_backward(fn, dh, cache, keep_states: bool):
    """BPTT: ``(grads, dstates)``, dstates (T, N, H) ``dL/dh_t`` when ``keep_states``."""
    check_cache(fn, cache, _RNNCache, "rnn_forward")
    x_tm, Wx, Wh, hs = cache
    T, N, D = x_tm.shape
    H = hs.shape[2]
    chk = _backward_checker(fn, "rnn_forward", {"N": N, "T": T, "H": H}, hs.dtype)
    dh = chk.float_array("dh", dh, ("N", "T", "H"))
    # tanh'(a_t) = 1 - h_t^2 for every step at once; the loop multiplies it by the
    # gradient reaching h_t, turning da into the gradient of the pre-activations
    da = np.multiply(hs[1:], hs[1:])
    np.subtract(1, da, out=da)
    dnext = np.zeros((N, H), dtype=hs.dtype)  # gradient reaching h_t from step t + 1
    dstates = np.empty((T, N, H), dtype=hs.dtype) if keep_states else None
    total = np.empty((N, H), dtype=hs.dtype)
    WhT = Wh.T
    for t in range(T - 1, -1, -1):
        g = total if dstates is None else dstates[t]
        np.add(dh[:, t], dnext, out=g)
        da[t] *= g
        np.matmul(da[t], WhT, out=dnext)
    flat = da.reshape(T * N, H)
    dWh = hs[:-1].reshape(T * N, H).T @ flat
    dWx = x_tm.reshape(T * N, D).T @ flat
    db = flat.sum(axis=0)
    dx = np.ascontiguousarray((flat @ Wx.T).reshape(T, N, D).swapaxes(0, 1))
    return (dx, dnext, dWx, dWh, db), dstates
