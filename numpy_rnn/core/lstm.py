"""LSTM (gates packed ``[i, f, o, g]``): one step and whole sequences."""
from __future__ import annotations

import numpy as np

from numpy_rnn.core._kernels import (
    _backward_checker,
    _batch_major,
    _check_no_nan,
    _feature_major,
    _lstm_cell,
    _lstm_cell_backward,
    _lstm_sequence,
    _lstm_sequence_backward,
    _LSTMCache,
    _LSTMStepCache,
    _projection,
    _sequence_gradients,
    _sigmoid_into,
    _time_major,
)
from numpy_rnn.core.validation import ArgChecker, check_cache

# ---- LSTM --------------------------------------------------------------------------

def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, without overflow warnings.

    x: float array, any shape (finite). Returns a new array of the same shape
    and dtype; ``sigmoid(-1e4)`` is exactly 0 and ``sigmoid(1e4)`` exactly 1.
    """
    x = ArgChecker("sigmoid").float_array("x", x)
    return _sigmoid_into(x, np.empty_like(x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM timestep.

    ``a = x Wx + prev_h Wh + b`` split into ``a_i, a_f, a_o, a_g``;
    ``i, f, o = sigmoid(a_i, a_f, a_o)``, ``g = tanh(a_g)``;
    ``next_c = f * prev_c + i * g``, ``next_h = o * tanh(next_c)``.

    x:      (N, D) input at this timestep.
    prev_h: (N, H) previous hidden state.
    prev_c: (N, H) previous cell state.
    Wx:     (D, 4H) input-to-hidden weights, gate blocks i, f, o, g.
    Wh:     (H, 4H) hidden-to-hidden weights.
    b:      (4H,) bias.

    Returns ``(next_h, next_c, cache)``: next_h (N, H), next_c (N, H) and the cache
    for :func:`lstm_step_backward`.
    """
    chk = ArgChecker("lstm_step_forward")
    x = chk.float_array("x", x, ("N", "D"))
    prev_h = chk.float_array("prev_h", prev_h, ("N", "H"))
    prev_c = chk.float_array("prev_c", prev_c, ("N", "H"))
    Wx = chk.float_array("Wx", Wx, ("D", "4H"))
    Wh = chk.float_array("Wh", Wh, ("H", "4H"))
    b = chk.float_array("b", b, ("4H",))
    # beyond the dtype's range a pre-activation becomes +-inf, and tanh/sigmoid of it is exact
    act = _projection("lstm_step_forward", x, Wx, b)
    with np.errstate(over="ignore", invalid="ignore"):
        act += _projection("lstm_step_forward", prev_h, Wh)
    _check_no_nan("lstm_step_forward", "x Wx + prev_h Wh + b", act)
    next_h, next_c, tanh_c = (np.empty_like(prev_h) for _ in range(3))
    _lstm_cell(act, prev_c, next_c, tanh_c, next_h)
    return next_h, next_c, _LSTMStepCache(x, prev_h, prev_c, Wx, Wh, act, tanh_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of :func:`lstm_step_forward`.

    dnext_h: (N, H) upstream gradient of next_h.
    dnext_c: (N, H) upstream gradient of next_c.
    cache:   from :func:`lstm_step_forward`.

    Returns ``(dx, dprev_h, dprev_c, dWx, dWh, db)`` of shapes (N, D), (N, H),
    (N, H), (D, 4H), (H, 4H), (4H,).
    """
    fn = "lstm_step_backward"
    check_cache(fn, cache, _LSTMStepCache, "lstm_step_forward")
    x, prev_h, prev_c, Wx, Wh, act, tanh_c = cache
    N, H = prev_h.shape
    chk = _backward_checker(fn, "lstm_step_forward", {"N": N, "H": H}, act.dtype)
    dnext_h = chk.float_array("dnext_h", dnext_h, ("N", "H"))
    dnext_c = chk.float_array("dnext_c", dnext_c, ("N", "H"))
    dprev_c = dnext_c.copy()  # updated in place to the gradient of prev_c
    da = np.empty_like(act)
    _lstm_cell_backward(dnext_h, dprev_c, act, prev_c, tanh_c, da,
                        np.empty((N, 3 * H), dtype=act.dtype))
    return da @ Wx.T, da @ Wh.T, dprev_c, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def lstm_forward(x, h0, Wx, Wh, b):
    """An LSTM over whole sequences; the cell state starts at zero.

    x:  (N, T, D) input sequences.
    h0: (N, H) initial hidden state.
    Wx: (D, 4H) input-to-hidden weights, gate blocks i, f, o, g.
    Wh: (H, 4H) hidden-to-hidden weights.
    b:  (4H,) bias.

    Returns ``(h, cache)``: h (N, T, H) the hidden states of every timestep (the
    cell states stay internal), and the cache for :func:`lstm_backward`.
    """
    chk = ArgChecker("lstm_forward")
    x = chk.float_array("x", x, ("N", "T", "D"))
    h0 = chk.float_array("h0", h0, ("N", "H"))
    Wx = chk.float_array("Wx", Wx, ("D", "4H"))
    Wh = chk.float_array("Wh", Wh, ("H", "4H"))
    b = chk.float_array("b", b, ("4H",))
    x_tm = _time_major(x)
    hs, cs, tanh_cs, acts = _lstm_sequence("lstm_forward", x_tm, h0.T, 0, Wx, Wh, b)
    return _batch_major(hs[:, 1:]), _LSTMCache(x_tm, Wx, Wh, hs, cs, tanh_cs, acts)


def lstm_backward(dh, cache):
    """Backward pass of :func:`lstm_forward` (backpropagation through time).

    dh:    (N, T, H) upstream gradient of every hidden state.
    cache: from :func:`lstm_forward`.

    Returns ``(dx, dh0, dWx, dWh, db)`` of shapes (N, T, D), (N, H), (D, 4H),
    (H, 4H), (4H,).
    """
    fn = "lstm_backward"
    check_cache(fn, cache, _LSTMCache, "lstm_forward")
    x_tm, Wx, Wh, hs, cs, tanh_cs, acts = cache
    T, N, D = x_tm.shape
    H = hs.shape[0]
    chk = _backward_checker(fn, "lstm_forward", {"N": N, "T": T, "H": H}, hs.dtype)
    dh = chk.float_array("dh", dh, ("N", "T", "H"))
    da, dh0 = _lstm_sequence_backward(_feature_major(dh), Wh, cs, tanh_cs, acts)
    dx, dWx, dWh, db = _sequence_gradients(x_tm, Wx, hs[:, :T], da)
    return dx, np.ascontiguousarray(dh0.T), dWx, dWh, db
