"""GRU (gates packed ``[r, z, n]``): one step and whole sequences.

Two formulations, chosen with ``reset_after``::

    r = sigmoid(x Wx_r + bx_r + h Wh_r + bh_r)
    z = sigmoid(x Wx_z + bx_z + h Wh_z + bh_z)
    n = tanh(x Wx_n + bx_n + r * (h Wh_n + bh_n))      reset_after=True (torch.nn.GRU)
    n = tanh(x Wx_n + bx_n + (r * h) Wh_n + bh_n)      reset_after=False (the original)
    h' = (1 - z) * n + z * h

With ``reset_after=False`` the two biases only ever appear summed; their
gradients are equal.
"""
from __future__ import annotations

import numpy as np

from numpy_rnn.core._kernels import (
    _backward_checker,
    _batch_major,
    _feature_major,
    _gru_cell,
    _gru_cell_backward,
    _gru_cell_reset_before,
    _gru_cell_reset_before_backward,
    _gru_sequence,
    _gru_sequence_backward,
    _GRUCache,
    _GRUStepCache,
    _time_major,
)
from numpy_rnn.core.validation import ArgChecker, check_cache


def _check_flag(fn: str, reset_after) -> bool:
    if not isinstance(reset_after, (bool, np.bool_)):
        raise ValueError(f"{fn}: reset_after must be True or False, got {reset_after!r}")
    return bool(reset_after)


def _check_weights(chk: ArgChecker, Wx, Wh, bx, bh):
    return (chk.float_array("Wx", Wx, ("D", "3H")), chk.float_array("Wh", Wh, ("H", "3H")),
            chk.float_array("bx", bx, ("3H",)), chk.float_array("bh", bh, ("3H",)))


def _input_bias(bx, bh, reset_after: bool):
    """The bias added to ``x Wx``: ``bh`` joins it except where ``r`` multiplies it."""
    b = bx + bh
    if reset_after:
        H = bx.shape[0] // 3
        b[2 * H:] = bx[2 * H:]
    return b


def gru_step_forward(x, prev_h, Wx, Wh, bx, bh, reset_after=True):
    """One GRU timestep.

    x:      (N, D) input at this timestep.
    prev_h: (N, H) previous hidden state.
    Wx:     (D, 3H) input-to-hidden weights, gate blocks r, z, n.
    Wh:     (H, 3H) hidden-to-hidden weights.
    bx:     (3H,) input bias.
    bh:     (3H,) hidden bias.
    reset_after: where the reset gate acts (see the module docstring).

    Returns ``(next_h, cache)``: next_h (N, H) and the cache for
    :func:`gru_step_backward`.
    """
    fn = "gru_step_forward"
    reset_after = _check_flag(fn, reset_after)
    chk = ArgChecker(fn)
    x = chk.float_array("x", x, ("N", "D"))
    prev_h = chk.float_array("prev_h", prev_h, ("N", "H"))
    Wx, Wh, bx, bh = _check_weights(chk, Wx, Wh, bx, bh)
    N, H = prev_h.shape
    a = x @ Wx
    a += _input_bias(bx, bh, reset_after)
    rec, next_h = np.empty_like(prev_h), np.empty_like(prev_h)
    if reset_after:
        _gru_cell(a, prev_h, Wh, bh[2 * H:], rec, next_h, np.empty_like(a))
    else:
        _gru_cell_reset_before(a, prev_h, Wh, rec, next_h,
                               np.empty((N, 2 * H), dtype=a.dtype))
    return next_h, _GRUStepCache(x, prev_h, Wx, Wh, a, rec, reset_after)


def gru_step_backward(dnext_h, cache):
    """Backward pass of :func:`gru_step_forward`.

    dnext_h: (N, H) upstream gradient of next_h.
    cache:   from :func:`gru_step_forward`.

    Returns ``(dx, dprev_h, dWx, dWh, dbx, dbh)`` of shapes (N, D), (N, H),
    (D, 3H), (H, 3H), (3H,), (3H,).
    """
    fn = "gru_step_backward"
    check_cache(fn, cache, _GRUStepCache, "gru_step_forward")
    x, prev_h, Wx, Wh, gates, rec, reset_after = cache
    N, H = prev_h.shape
    chk = _backward_checker(fn, "gru_step_forward", {"N": N, "H": H}, gates.dtype)
    dnext_h = chk.float_array("dnext_h", dnext_h, ("N", "H"))
    da_h = np.empty_like(gates)  # gradient of the pre-activations, hidden side
    dprev_h = np.empty_like(prev_h)
    scratch = np.empty((N, 2 * H), dtype=gates.dtype)
    if reset_after:
        dn = np.empty_like(prev_h)
        _gru_cell_backward(dnext_h, gates, prev_h, rec, da_h, dn, dprev_h, scratch)
        dprev_h += da_h @ Wh.T
        dWh = prev_h.T @ da_h
        da_x = np.concatenate([da_h[:, :2 * H], dn], axis=1)
    else:
        _gru_cell_reset_before_backward(dnext_h, gates, prev_h, Wh, da_h, dprev_h, scratch,
                                        np.empty_like(prev_h))
        dprev_h += da_h[:, :2 * H] @ Wh[:, :2 * H].T
        dWh = np.concatenate([prev_h.T @ da_h[:, :2 * H], rec.T @ da_h[:, 2 * H:]], axis=1)
        da_x = da_h
    return da_x @ Wx.T, dprev_h, x.T @ da_x, dWh, da_x.sum(axis=0), da_h.sum(axis=0)


def gru_forward(x, h0, Wx, Wh, bx, bh, reset_after=True):
    """A GRU over whole sequences.

    x:  (N, T, D) input sequences.
    h0: (N, H) initial hidden state.
    Wx: (D, 3H) input-to-hidden weights, gate blocks r, z, n.
    Wh: (H, 3H) hidden-to-hidden weights.
    bx: (3H,) input bias.
    bh: (3H,) hidden bias.
    reset_after: where the reset gate acts (see the module docstring).

    Returns ``(h, cache)``: h (N, T, H) the hidden states of every timestep, and
    the cache for :func:`gru_backward`.
    """
    fn = "gru_forward"
    reset_after = _check_flag(fn, reset_after)
    chk = ArgChecker(fn)
    x = chk.float_array("x", x, ("N", "T", "D"))
    h0 = chk.float_array("h0", h0, ("N", "H"))
    Wx, Wh, bx, bh = _check_weights(chk, Wx, Wh, bx, bh)
    x_tm = _time_major(x)
    H = h0.shape[1]
    hs, gates, recs = _gru_sequence(x_tm, h0.T, Wx, Wh, _input_bias(bx, bh, reset_after),
                                    bh[2 * H:], reset_after)
    return _batch_major(hs[:, 1:]), _GRUCache(x_tm, Wx, Wh, hs, gates, recs, reset_after)


def gru_backward(dh, cache):
    """Backward pass of :func:`gru_forward` (backpropagation through time).

    dh:    (N, T, H) upstream gradient of every hidden state.
    cache: from :func:`gru_forward`.

    Returns ``(dx, dh0, dWx, dWh, dbx, dbh)`` of shapes (N, T, D), (N, H),
    (D, 3H), (H, 3H), (3H,), (3H,).
    """
    fn = "gru_backward"
    check_cache(fn, cache, _GRUCache, "gru_forward")
    x_tm, Wx, Wh, hs, gates, recs, reset_after = cache
    T, N, D = x_tm.shape
    H = hs.shape[0]
    chk = _backward_checker(fn, "gru_forward", {"N": N, "T": T, "H": H}, hs.dtype)
    dh = chk.float_array("dh", dh, ("N", "T", "H"))
    da, dh0 = _gru_sequence_backward(_feature_major(dh), Wh, hs, gates, recs, reset_after)
    S = 2 * H
    flat = da.reshape(-1, T * N)  # columns (t, n), as the rows of X
    X = x_tm.reshape(T * N, D)
    states = hs[:, :T].reshape(H, T * N)
    if reset_after:
        # rows r, z (both sides), n of h Wh + bh, n of x Wx + bx
        dWh = states @ flat[:3 * H].T
        dbh = flat[:3 * H].sum(axis=1)
        dWx = np.empty_like(Wx)
        dWx[:, :S] = X.T @ flat[:S].T
        dWx[:, S:] = X.T @ flat[3 * H:].T
        dbx = np.concatenate([dbh[:S], flat[3 * H:].sum(axis=1)])
        dx = flat[:S].T @ Wx[:, :S].T
        dx += flat[3 * H:].T @ Wx[:, S:].T
    else:
        dWh = np.empty_like(Wh)
        dWh[:, :S] = states @ flat[:S].T
        dWh[:, S:] = recs.reshape(H, T * N) @ flat[S:].T
        dWx = X.T @ flat.T
        dbh = flat.sum(axis=1)
        dbx = dbh.copy()
        dx = flat.T @ Wx.T
    dx = np.ascontiguousarray(dx.reshape(T, N, D).swapaxes(0, 1))
    return dx, np.ascontiguousarray(dh0.T), dWx, dWh, dbx, dbh
