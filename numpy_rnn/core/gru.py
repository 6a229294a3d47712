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
    _gru_cell,
    _gru_cell_backward,
    _gru_cell_reset_before,
    _gru_cell_reset_before_backward,
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
    N, T, D, H = x.shape + (h0.shape[1],)
    dtype = x.dtype
    x_tm = _time_major(x)
    # input projection of every timestep in one GEMM; each step adds its hidden
    # products and turns its block into gate activations in place
    gates = (x_tm.reshape(T * N, D) @ Wx).reshape(T, N, 3 * H)
    gates += _input_bias(bx, bh, reset_after)
    hs = np.empty((T + 1, N, H), dtype=dtype)
    hs[0] = h0
    recs = np.empty((T, N, H), dtype=dtype)
    if reset_after:
        hW = np.empty((N, 3 * H), dtype=dtype)
        bh_n = bh[2 * H:]
        for t in range(T):
            _gru_cell(gates[t], hs[t], Wh, bh_n, recs[t], hs[t + 1], hW)
    else:
        hW = np.empty((N, 2 * H), dtype=dtype)
        for t in range(T):
            _gru_cell_reset_before(gates[t], hs[t], Wh, recs[t], hs[t + 1], hW)
    h = np.ascontiguousarray(hs[1:].swapaxes(0, 1))
    return h, _GRUCache(x_tm, Wx, Wh, hs, gates, recs, reset_after)


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
    H = hs.shape[2]
    dtype = hs.dtype
    chk = _backward_checker(fn, "gru_forward", {"N": N, "T": T, "H": H}, dtype)
    dh = chk.float_array("dh", dh, ("N", "T", "H"))
    # gradient of the pre-activations, hidden side; with the reset gate applied
    # after the product only the n block differs on the input side
    da_h = np.empty((T, N, 3 * H), dtype=dtype)
    dnext = np.zeros((N, H), dtype=dtype)  # gradient reaching h_t from step t + 1
    dh_t = np.empty((N, H), dtype=dtype)
    scratch = np.empty((N, 2 * H), dtype=dtype)
    back = np.empty((N, H), dtype=dtype)  # the hidden products' share of dnext
    X = x_tm.reshape(T * N, D)
    flat_h = da_h.reshape(T * N, 3 * H)
    dWx = np.empty_like(Wx)
    if reset_after:
        dn = np.empty((T, N, H), dtype=dtype)  # n block of the input side
        WhT = Wh.T
        for t in range(T - 1, -1, -1):
            np.add(dh[:, t], dnext, out=dh_t)
            _gru_cell_backward(dh_t, gates[t], hs[t], recs[t], da_h[t], dn[t], dnext, scratch)
            np.matmul(da_h[t], WhT, out=back)
            dnext += back
        dWh = hs[:-1].reshape(T * N, H).T @ flat_h
        flat_n = dn.reshape(T * N, H)
        dWx[:, :2 * H] = X.T @ flat_h[:, :2 * H]
        dWx[:, 2 * H:] = X.T @ flat_n
        dbh = flat_h.sum(axis=0)
        dbx = np.concatenate([dbh[:2 * H], flat_n.sum(axis=0)])
        dx = flat_h[:, :2 * H] @ Wx[:, :2 * H].T
        dx += flat_n @ Wx[:, 2 * H:].T
    else:
        Wh_rzT = Wh[:, :2 * H].T
        drh = np.empty((N, H), dtype=dtype)
        for t in range(T - 1, -1, -1):
            np.add(dh[:, t], dnext, out=dh_t)
            _gru_cell_reset_before_backward(dh_t, gates[t], hs[t], Wh, da_h[t], dnext, scratch,
                                            drh)
            np.matmul(da_h[t, :, :2 * H], Wh_rzT, out=back)
            dnext += back
        dWh = np.empty_like(Wh)
        dWh[:, :2 * H] = hs[:-1].reshape(T * N, H).T @ flat_h[:, :2 * H]
        dWh[:, 2 * H:] = recs.reshape(T * N, H).T @ flat_h[:, 2 * H:]
        dWx = X.T @ flat_h
        dbh = flat_h.sum(axis=0)
        dbx = dbh.copy()
        dx = flat_h @ Wx.T
    dx = np.ascontiguousarray(dx.reshape(T, N, D).swapaxes(0, 1))
    return dx, dnext, dWx, dWh, dbx, dbh
