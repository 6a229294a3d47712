"""Elementwise kernels, caches and helpers shared by the core modules (no validation)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from numpy_rnn.core.validation import ArgChecker

# ---- elementwise kernels (no validation; used inside the time loops) ---------------

def _sigmoid_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[...] = 1 / (1 + exp(-x))``; ``out`` may be ``x``.

    For ``x < -709`` (float64) ``exp(-x)`` overflows to inf and the result is
    exactly 0, the correctly rounded value; for large ``x`` it underflows to 0
    and the result is exactly 1. Both flags are expected, so they are silenced
    here rather than raised or warned about.
    """
    with np.errstate(over="ignore", under="ignore"):
        np.negative(x, out=out)
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def _tanh_into(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[...] = tanh(x)``; ``out`` may be ``x``.

    ``np.tanh`` in both dtypes: within 1.5 units in the last place of the result
    over the whole float32 range (the tests measure it), exactly -1 and 1 at the
    saturated ends and at +-inf. The float64 gradient checks of the documents
    (threshold 1e-6) need that accuracy; formulas such as ``2 / (1 + exp(-2x)) - 1``
    lose all relative accuracy near 0 (cancellation).
    """
    return np.tanh(x, out=out)


def _overflow(fn: str, what: str) -> ValueError:
    return ValueError(f"{fn}: {what} overflows to inf - inf (NaN): the inputs or weights are "
                      "too large for the dtype; scale them down")


def _projection(fn: str, left: np.ndarray, right: np.ndarray, bias=None,
                out=None) -> np.ndarray:
    """``left @ right + bias``, a new array (or ``out``), for pre-activations of
    tanh/sigmoid.

    ``left @ right`` is NumPy's matmul (2-D, or stacks of matrices); ``bias``
    broadcasts against the product. Where the true value lies beyond the dtype's
    range the entry is +-inf with the right sign (tanh and sigmoid of it are then
    exact). BLAS does not promise IEEE results once partial sums overflow (it can
    return -inf for a sum of +inf and -inf), so a non-finite product is recomputed
    from operands scaled to at most 1, where no partial sum can overflow. Never a
    NaN or a warning.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.matmul(left, right, out=out)
        if bias is not None:
            out += bias
        # no partial sum can come near the dtype's range when K max|left| max|right|
        # + max|bias| stays below half of it (a pass over the operands, not the product)
        bound = np.max(np.abs(left)) * np.max(np.abs(right)) * left.shape[-1]
        if bias is not None:
            bound += np.max(np.abs(bias))
        if np.isfinite(2 * bound) or np.isfinite(np.add.reduce(out, axis=None)):
            return out
        sl, sr = np.max(np.abs(left)), np.max(np.abs(right))
        if sl == 0 or sr == 0:
            out[...] = 0
        else:
            np.matmul(left / sl, right / sr, out=out)  # |entries| <= the inner size: finite
            small, large = sorted((sl, sr))
            out *= small  # the smaller factor first: an inf now is an inf in the end
            out *= large
        if bias is not None:
            out += bias
    if np.isnan(out).any():
        raise _overflow(fn, "x W + b")  # unreachable: the scaled product is finite
    return out


def _check_no_nan(fn: str, what: str, a: np.ndarray) -> None:
    """ValueError naming ``fn`` if ``a`` holds NaN (a sum of +inf and -inf)."""
    if np.isnan(a).any():
        raise _overflow(fn, what)


def _check_recurrence(fn: str, Wh: np.ndarray) -> None:
    """ValueError naming ``fn`` unless ``h Wh`` stays finite for every ``|h| <= 1``.

    Only weights near the dtype's maximum fail; checking them once up front keeps
    the time loop free of checks.
    """
    H = Wh.shape[0]
    with np.errstate(over="ignore"):
        bound = np.max(np.abs(Wh)) * H
    if not np.isfinite(bound):
        raise ValueError(f"{fn}: Wh is too large: h Wh can overflow {Wh.dtype} (max |Wh| = "
                         f"{np.max(np.abs(Wh)):.3g} with H = {H}); scale it down")


def _one_minus_square(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = 1 - a**2``: the derivative of tanh in terms of its output."""
    np.multiply(a, a, out=out)
    np.subtract(1, out, out=out)
    return out


def _lstm_cell(a, c_prev, c_out, tanh_c_out, h_out):
    """One LSTM cell update, in place.

    a:          (N, 4H) pre-activations ``x Wx + h Wh + b``; replaced by the gate
                activations ``i, f, o`` (sigmoid) and ``g`` (tanh).
    c_prev:     (N, H) previous cell state.
    c_out, tanh_c_out, h_out: (N, H) receive ``c``, ``tanh(c)`` and ``h``.
    """
    H = c_prev.shape[1]
    ifo, g = a[:, :3 * H], a[:, 3 * H:]
    _sigmoid_into(ifo, ifo)
    _tanh_into(g, g)
    np.multiply(a[:, H:2 * H], c_prev, out=c_out)
    np.multiply(a[:, :H], g, out=h_out)  # h_out as scratch: i * g
    c_out += h_out
    _tanh_into(c_out, tanh_c_out)
    np.multiply(a[:, 2 * H:3 * H], tanh_c_out, out=h_out)


def _lstm_cell_backward(dh, dc, act, c_prev, tanh_c, da, scratch):
    """Backward of :func:`_lstm_cell`, in place.

    dh:      (N, H) gradient of the loss w.r.t. this step's ``h``.
    dc:      (N, H) gradient w.r.t. this step's ``c`` from later steps; replaced by
             the gradient w.r.t. ``c_prev``.
    act:     (N, 4H) gate activations; c_prev, tanh_c: (N, H) from the forward.
    da:      (N, 4H) receives the gradient w.r.t. the pre-activations.
    scratch: (N, 3H) work space.
    """
    H = dh.shape[1]
    i, f, o, g = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
    s = scratch[:, :H]
    # h = o * tanh(c): c receives dh * o * (1 - tanh(c)^2)
    _one_minus_square(tanh_c, s)
    s *= o
    s *= dh
    dc += s
    np.multiply(dh, tanh_c, out=da[:, 2 * H:3 * H])  # d o
    np.multiply(dc, g, out=da[:, :H])  # d i
    np.multiply(dc, c_prev, out=da[:, H:2 * H])  # d f
    dg = da[:, 3 * H:]
    np.multiply(dc, i, out=dg)
    dg *= _one_minus_square(g, s)
    # the three sigmoid gates at once: s' = s (1 - s)
    ifo = act[:, :3 * H]
    np.subtract(1, ifo, out=scratch)
    scratch *= ifo
    da[:, :3 * H] *= scratch
    dc *= f


# ---- sequence kernels: feature-major, one GEMM and contiguous blocks per step --------
#
# The sequence functions keep a timestep's states as (H, N) and its pre-activations
# as (G*H, N): each step's recurrent product is one GEMM ``Wh^T h``, every gate
# block is one contiguous (H, N) array (NumPy's elementwise loops are several
# times slower on the strided column blocks of an (N, G*H) array), and the steps
# of a sequence are consecutive blocks of one (T, G*H, N) array.


def _negate_rows(WT: np.ndarray, rows: int) -> np.ndarray:
    """A C-contiguous copy of ``WT`` with its first ``rows`` rows negated.

    A sigmoid gate ``1 / (1 + exp(-a))`` then gets ``-a`` straight from its
    products: one pass less per step, and no accuracy lost (negation is exact and
    rounding symmetric, so these rows hold ``-a`` as accurately as ``a``).
    """
    out = np.array(WT, copy=True, order="C")
    np.negative(out[:rows], out=out[:rows])
    return out


def _lstm_sequence(fn, x_tm, h0, c0, Wx, Wh, b):
    """The LSTM over a whole sequence, feature-major (gates ``[i, f, o, g]``).

    x_tm: (T, N, D) time-major inputs; h0, c0: (H, N) initial states.
    Returns ``(hs, cs, tanh_cs, acts)``: hs (H, T + 1, N) and cs (T + 1, H, N) with
    the initial states first, tanh_cs (T, H, N), acts (T, 4H, N) the gate
    activations. ``hs`` keeps time inside so that ``hs[:, :T]`` is one (H, T*N)
    matrix for the weight gradient.
    """
    T, N, _ = x_tm.shape
    H = Wh.shape[0]
    dtype = x_tm.dtype
    S = 3 * H  # the sigmoid gates i, f, o lead; their rows carry -a (_negate_rows)
    WxT, WhT, bT = _negate_rows(Wx.T, S), _negate_rows(Wh.T, S), _negate_rows(b, S)
    acts, hs, cs, tanh_cs = _arrays(dtype, (T, 4 * H, N), (H, T + 1, N), (T + 1, H, N),
                                    (T, H, N))
    # the input projection of every timestep, (T, 4H, N), before the loop
    _projection(fn, WxT, x_tm.transpose(0, 2, 1), bT[:, None], out=acts)
    _check_recurrence(fn, Wh)
    hs[:, 0] = h0
    cs[0] = c0
    hW = np.empty((4 * H, N), dtype=dtype)
    ig = np.empty((H, N), dtype=dtype)
    # exp(-a) overflows to inf for very negative a (the sigmoid is then exactly 0)
    with np.errstate(over="ignore", under="ignore"):
        for t in range(T):
            a = acts[t]
            np.matmul(WhT, hs[:, t], out=hW)
            a += hW
            s, g = a[:S], a[S:]
            np.exp(s, out=s)
            s += 1
            np.reciprocal(s, out=s)
            np.tanh(g, out=g)
            c = cs[t + 1]
            np.multiply(a[H:2 * H], cs[t], out=c)
            np.multiply(a[:H], g, out=ig)
            c += ig
            np.tanh(c, out=tanh_cs[t])
            np.multiply(a[2 * H:S], tanh_cs[t], out=hs[:, t + 1])
    return hs, cs, tanh_cs, acts


def _lstm_sequence_backward(dh_fm, Wh, cs, tanh_cs, acts):
    """BPTT through :func:`_lstm_sequence`.

    dh_fm: (T, H, N) upstream gradient of every hidden state, feature-major.
    Returns ``(da, dh0)``: da (4H, T, N) the gradient of the pre-activations, time
    inside (one (4H, T*N) matrix for the weight gradients), and dh0 (H, N) that of
    the initial hidden state.
    """
    T, H, N = dh_fm.shape
    dtype = dh_fm.dtype
    S = 3 * H
    da, d = _arrays(dtype, (4 * H, T, N), (4 * H, N))  # d: this step's block of da
    dnext = np.zeros((H, N), dtype=dtype)  # gradient reaching h_t from step t + 1
    dc = np.zeros((H, N), dtype=dtype)  # gradient reaching c_t from step t + 1
    dht = np.empty((H, N), dtype=dtype)
    w = np.empty((H, N), dtype=dtype)
    ds = np.empty((S, N), dtype=dtype)
    for t in range(T - 1, -1, -1):
        a, tanh_c = acts[t], tanh_cs[t]
        i, f, o, g = a[:H], a[H:2 * H], a[2 * H:S], a[S:]
        np.add(dh_fm[t], dnext, out=dht)
        # h = o tanh(c): c receives dh o (1 - tanh(c)^2)
        np.multiply(tanh_c, tanh_c, out=w)
        np.subtract(1, w, out=w)
        w *= o
        w *= dht
        dc += w
        np.multiply(dc, g, out=d[:H])  # d i
        np.multiply(dc, cs[t], out=d[H:2 * H])  # d f
        np.multiply(dht, tanh_c, out=d[2 * H:S])  # d o
        np.subtract(1, a[:S], out=ds)  # the sigmoid gates at once: s' = s (1 - s)
        ds *= a[:S]
        d[:S] *= ds
        dg = d[S:]
        np.multiply(g, g, out=dg)
        np.subtract(1, dg, out=dg)
        dg *= i
        dg *= dc
        dc *= f
        np.matmul(Wh, d, out=dnext)
        da[:, t] = d
    return da, dnext


def _sigmoid_of_negated(z: np.ndarray) -> np.ndarray:
    """``z[...] = 1 / (1 + exp(z))``, the sigmoid of ``-z``, in place.

    The caller silences overflow and underflow (``exp`` overflows to inf for large
    ``z``: the result is then exactly 0).
    """
    np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def _gru_sequence(x_tm, h0, Wx, Wh, b, bh_n, reset_after):
    """The GRU over a whole sequence, feature-major (gates ``[r, z, n]``).

    x_tm: (T, N, D) time-major inputs; h0: (H, N) initial state.
    b:    (3H,) the bias of ``x Wx``; bh_n: (H,) the hidden bias of the candidate,
          used only with ``reset_after`` (otherwise it is part of ``b``).
    Returns ``(hs, gates, recs)``: hs (H, T + 1, N) with h0 first, gates (T, 3H, N)
    the activations ``r, z, n``, and recs what the backward pass needs of the
    candidate: ``h Wh_n + bh_n`` (T, H, N) with ``reset_after``, else ``r * h``
    (H, T, N).
    """
    T, N, _ = x_tm.shape
    H = Wh.shape[0]
    dtype = x_tm.dtype
    S = 2 * H  # the sigmoid gates r, z lead; their rows carry -a (_negate_rows)
    WxT, WhT, bT = _negate_rows(Wx.T, S), _negate_rows(Wh.T, S), _negate_rows(b, S)
    gates, hs, recs = _arrays(dtype, (T, 3 * H, N), (H, T + 1, N),
                              (T, H, N) if reset_after else (H, T, N))
    np.matmul(WxT, x_tm.transpose(0, 2, 1), out=gates)
    gates += bT[:, None]
    hs[:, 0] = h0
    work = np.empty((H, N), dtype=dtype)
    with np.errstate(over="ignore", under="ignore"):
        if reset_after:
            hW = np.empty((3 * H, N), dtype=dtype)
            bh_n = np.repeat(bh_n[:, None], N, axis=1)  # (H, N): a contiguous add per step
            for t in range(T):
                a, h = gates[t], hs[:, t]
                np.matmul(WhT, h, out=hW)
                a[:S] += hW[:S]
                _sigmoid_of_negated(a[:S])
                hn = recs[t]
                np.add(hW[S:], bh_n, out=hn)
                np.multiply(a[:H], hn, out=work)
                n = a[S:]
                n += work
                np.tanh(n, out=n)
                _gru_blend_fm(a, h, hs[:, t + 1], work)
        else:
            hW = np.empty((S, N), dtype=dtype)
            WhT_rz, WhT_n = WhT[:S], WhT[S:]
            for t in range(T):
                a, h = gates[t], hs[:, t]
                np.matmul(WhT_rz, h, out=hW)
                a[:S] += hW
                _sigmoid_of_negated(a[:S])
                rh = recs[:, t]
                np.multiply(a[:H], h, out=rh)
                np.matmul(WhT_n, rh, out=work)
                n = a[S:]
                n += work
                np.tanh(n, out=n)
                _gru_blend_fm(a, h, hs[:, t + 1], work)
    return hs, gates, recs


def _gru_blend_fm(gates, h, h_out, work):
    """``h_out = (1 - z) n + z h``, written as ``n + z (h - n)``; gates (3H, N)."""
    H = h.shape[0]
    z, n = gates[H:2 * H], gates[2 * H:]
    np.subtract(h, n, out=work)
    work *= z
    np.add(work, n, out=h_out)


def _gru_sequence_backward(dh_fm, Wh, hs, gates, recs, reset_after):
    """BPTT through :func:`_gru_sequence`.

    dh_fm: (T, H, N) upstream gradient of every hidden state, feature-major.
    Returns ``(da, dh0)``: dh0 (H, N) and da the gradients of the pre-activations,
    time inside: (4H, T, N) with ``reset_after``, blocks ``r, z`` (both sides),
    ``n`` of ``h Wh + bh`` and ``n`` of ``x Wx + bx``; else (3H, T, N), the same
    for both sides (the biases are summed).
    """
    T, H, N = dh_fm.shape
    dtype = dh_fm.dtype
    S = 2 * H
    G = 4 * H if reset_after else 3 * H
    da, d = _arrays(dtype, (G, T, N), (G, N))  # d: this step's block of da
    dnext = np.zeros((H, N), dtype=dtype)  # gradient reaching h_t from step t + 1
    dht = np.empty((H, N), dtype=dtype)
    back = np.empty((H, N), dtype=dtype)
    w = np.empty((H, N), dtype=dtype)
    ds = np.empty((S, N), dtype=dtype)
    dn = d[3 * H:] if reset_after else d[S:]  # gradient of the candidate's pre-activation
    if not reset_after:
        Wh_rz, Wh_n = Wh[:, :S], Wh[:, S:]
    for t in range(T - 1, -1, -1):
        a, h = gates[t], hs[:, t]
        r, z, n = a[:H], a[H:S], a[S:]
        np.add(dh_fm[t], dnext, out=dht)
        # h' = n + z (h - n)
        np.subtract(h, n, out=d[H:S])  # d z
        d[H:S] *= dht
        np.subtract(1, z, out=dn)
        dn *= dht
        np.multiply(n, n, out=w)
        np.subtract(1, w, out=w)
        dn *= w
        if reset_after:
            np.multiply(dn, recs[t], out=d[:H])  # d r
            np.multiply(dn, r, out=d[S:3 * H])  # n block of h Wh + bh
            np.subtract(1, a[:S], out=ds)
            ds *= a[:S]
            d[:S] *= ds
            np.matmul(Wh, d[:3 * H], out=back)
            np.multiply(dht, z, out=dnext)
            dnext += back
        else:
            np.matmul(Wh_n, dn, out=w)  # gradient of r * h
            np.multiply(w, h, out=d[:H])  # d r
            np.subtract(1, a[:S], out=ds)
            ds *= a[:S]
            d[:S] *= ds
            w *= r
            np.multiply(dht, z, out=dnext)
            dnext += w
            np.matmul(Wh_rz, d[:S], out=back)
            dnext += back
        da[:, t] = d
    return da, dnext


def _feature_major(a: np.ndarray) -> np.ndarray:
    """(N, T, H) -> contiguous (T, H, N)."""
    return np.ascontiguousarray(a.transpose(1, 2, 0))


def _batch_major(states: np.ndarray) -> np.ndarray:
    """(H, T, N) -> contiguous (N, T, H)."""
    return np.ascontiguousarray(states.transpose(2, 1, 0))


def _sequence_gradients(x_tm, Wx, states, da):
    """``(dx, dWx, dWh, db)`` of a feature-major sequence's products.

    x_tm:   (T, N, D) inputs; Wx: (D, G).
    states: (H, T, N) the hidden states that each step's ``Wh^T h`` multiplied.
    da:     (G, T, N) gradients of the pre-activations (of both products).
    Returns dx (N, T, D), dWx (D, G), dWh (H, G), db (G,): one GEMM each over all
    timesteps.
    """
    G, T, N = da.shape
    D, H = x_tm.shape[2], states.shape[0]
    flat = da.reshape(G, T * N)  # columns (t, n), as the rows of x_tm
    dWx = x_tm.reshape(T * N, D).T @ flat.T
    dWh = states.reshape(H, T * N) @ flat.T
    db = flat.sum(axis=1)
    dx = np.ascontiguousarray((flat.T @ Wx.T).reshape(T, N, D).swapaxes(0, 1))
    return dx, dWx, dWh, db


# ---- caches ------------------------------------------------------------------------

class _RNNStepCache(NamedTuple):
    x: np.ndarray
    prev_h: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray
    next_h: np.ndarray


class _RNNCache(NamedTuple):
    x_tm: np.ndarray  # (T, N, D) time-major copy of x
    Wx: np.ndarray
    Wh: np.ndarray
    hs: np.ndarray  # (T + 1, N, H): h0, h_1 ... h_T


class _LSTMStepCache(NamedTuple):
    x: np.ndarray
    prev_h: np.ndarray
    prev_c: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray
    act: np.ndarray  # (N, 4H) gate activations
    tanh_c: np.ndarray


class _LSTMCache(NamedTuple):
    x_tm: np.ndarray  # (T, N, D)
    Wx: np.ndarray
    Wh: np.ndarray
    hs: np.ndarray  # (H, T + 1, N): h0, h_1 ... h_T, feature-major
    cs: np.ndarray  # (T + 1, H, N): 0, c_1 ... c_T
    tanh_cs: np.ndarray  # (T, H, N)
    acts: np.ndarray  # (T, 4H, N) gate activations


class _EmbeddingCache(NamedTuple):
    x: np.ndarray
    V: int
    D: int
    dtype: np.dtype


class _AffineCache(NamedTuple):
    x: np.ndarray
    w: np.ndarray


def _backward_checker(fn, producer, sizes, dtype):
    return ArgChecker(fn, sizes=sizes, source=producer, dtype=dtype)


def _time_major(x: np.ndarray) -> np.ndarray:
    """(N, T, ...) -> contiguous (T, N, ...)."""
    return np.ascontiguousarray(x.swapaxes(0, 1))


def _arrays(dtype, *shapes) -> list:
    """Uninitialised C-contiguous arrays of ``shapes``, carved from one allocation.

    A sequence's cache is a handful of arrays of similar size, allocated by every
    forward pass and freed after its backward pass. As one block they are one
    allocation: glibc's malloc adapts its thresholds to the largest block freed,
    so from call to call the memory is reused instead of being given back to the
    system and faulted in again (a quarter of a small float32 LSTM's time, when
    each array was its own allocation). Each array starts on a 64-byte boundary.
    """
    dtype = np.dtype(dtype)
    align = max(1, 64 // dtype.itemsize)
    sizes = [int(np.prod(shape)) for shape in shapes]
    starts, total = [], 0
    for size in sizes:
        starts.append(total)
        total += -(-size // align) * align
    block = np.empty(total + align, dtype=dtype)
    skip = (-block.__array_interface__["data"][0] // dtype.itemsize) % align
    return [block[skip + start:skip + start + size].reshape(shape)
            for start, size, shape in zip(starts, sizes, shapes, strict=True)]


def _scalar(value, dtype):
    return dtype.type(value)


# ---- GRU kernels (gates packed [r, z, n]) ------------------------------------------

def _gru_cell(a, h, Wh, bh_n, hn_out, h_out, hW):
    """One GRU update with the reset gate applied after the hidden product, in place.

    a:      (N, 3H) ``x Wx + bx`` plus ``bh`` on the ``r, z`` blocks; replaced by the
            gate activations ``r, z`` (sigmoid) and the candidate ``n`` (tanh).
    h:      (N, H) previous hidden state; Wh: (H, 3H); bh_n: (H,) hidden bias of n.
    hn_out: (N, H) receives ``h Wh_n + bh_n``, which the backward pass needs.
    h_out:  (N, H) receives ``(1 - z) n + z h``.
    hW:     (N, 3H) work space.
    """
    H = h.shape[1]
    np.matmul(h, Wh, out=hW)
    rz = a[:, :2 * H]
    rz += hW[:, :2 * H]
    _sigmoid_into(rz, rz)
    np.add(hW[:, 2 * H:], bh_n, out=hn_out)
    n = a[:, 2 * H:]
    np.multiply(a[:, :H], hn_out, out=h_out)  # h_out as scratch: r * (h Wh_n + bh_n)
    n += h_out
    _tanh_into(n, n)
    _gru_blend(a, h, h_out)


def _gru_cell_reset_before(a, h, Wh, rh_out, h_out, hW):
    """One GRU update with the reset gate applied to ``h`` before the product, in place.

    a:      (N, 3H) ``x Wx + bx + bh``; replaced by ``r, z`` (sigmoid) and ``n`` (tanh).
    h:      (N, H) previous hidden state; Wh: (H, 3H).
    rh_out: (N, H) receives ``r * h``, which the backward pass needs.
    h_out:  (N, H) receives ``(1 - z) n + z h``.
    hW:     (N, 2H) work space.
    """
    H = h.shape[1]
    np.matmul(h, Wh[:, :2 * H], out=hW)
    rz = a[:, :2 * H]
    rz += hW
    _sigmoid_into(rz, rz)
    np.multiply(a[:, :H], h, out=rh_out)
    n = a[:, 2 * H:]
    np.matmul(rh_out, Wh[:, 2 * H:], out=h_out)  # h_out as scratch: (r h) Wh_n
    n += h_out
    _tanh_into(n, n)
    _gru_blend(a, h, h_out)


def _gru_blend(gates, h, h_out):
    """``h_out = (1 - z) n + z h``, written as ``n + z (h - n)``."""
    H = h.shape[1]
    z, n = gates[:, H:2 * H], gates[:, 2 * H:]
    np.subtract(h, n, out=h_out)
    h_out *= z
    h_out += n


def _gru_blend_backward(dh, gates, h, dz, dn, dprev, scratch):
    """Backward of :func:`_gru_blend` and of the candidate's tanh.

    dz, dn: (N, H) receive the gradients of ``z`` (before its sigmoid's derivative)
            and of the candidate's pre-activation.
    dprev:  (N, H) receives ``dh * z``, the direct path to ``h``.
    """
    H = h.shape[1]
    z, n = gates[:, H:2 * H], gates[:, 2 * H:]
    np.subtract(h, n, out=dz)
    dz *= dh
    np.subtract(1, z, out=dn)
    dn *= dh
    dn *= _one_minus_square(n, scratch)
    np.multiply(dh, z, out=dprev)


def _sigmoid_backward_into(grad, s, scratch):
    """``grad *= s (1 - s)``: the sigmoid's derivative in terms of its output ``s``."""
    np.subtract(1, s, out=scratch)
    scratch *= s
    grad *= scratch


def _gru_cell_backward(dh, gates, h, hn, da_h, dn, dprev, scratch):
    """Backward of :func:`_gru_cell` up to the matrix products, in place.

    dh:    (N, H) gradient of this step's output; gates: (N, 3H) ``r, z, n``;
           h: (N, H) previous hidden state; hn: (N, H) ``h Wh_n + bh_n``.
    da_h:  (N, 3H) receives the gradient of ``h Wh + bh``; its ``r, z`` blocks are
           also those of ``x Wx + bx``.
    dn:    (N, H) receives the n block of the gradient of ``x Wx + bx``.
    dprev: (N, H) receives the direct path ``dh * z``; the caller adds ``da_h Wh^T``.
    scratch: (N, 2H) work space.
    """
    H = h.shape[1]
    _gru_blend_backward(dh, gates, h, da_h[:, H:2 * H], dn, dprev, scratch[:, :H])
    np.multiply(dn, hn, out=da_h[:, :H])
    np.multiply(dn, gates[:, :H], out=da_h[:, 2 * H:])
    _sigmoid_backward_into(da_h[:, :2 * H], gates[:, :2 * H], scratch)


def _gru_cell_reset_before_backward(dh, gates, h, Wh, da, dprev, scratch, drh):
    """Backward of :func:`_gru_cell_reset_before` up to the matrix products, in place.

    da:      (N, 3H) receives the gradient of the pre-activations (input and hidden
             side alike: the biases are summed).
    dprev:   (N, H) receives every path to ``h`` except ``da_rz Wh_rz^T``, which
             the caller adds.
    scratch: (N, 2H) work space; drh: (N, H) work space, the gradient of ``r * h``.
    """
    H = h.shape[1]
    dn = da[:, 2 * H:]
    _gru_blend_backward(dh, gates, h, da[:, H:2 * H], dn, dprev, scratch[:, :H])
    np.matmul(dn, Wh[:, 2 * H:].T, out=drh)
    np.multiply(drh, h, out=da[:, :H])
    _sigmoid_backward_into(da[:, :2 * H], gates[:, :2 * H], scratch)
    drh *= gates[:, :H]
    dprev += drh


class _GRUStepCache(NamedTuple):
    x: np.ndarray
    prev_h: np.ndarray
    Wx: np.ndarray
    Wh: np.ndarray
    gates: np.ndarray  # (N, 3H) r, z, n
    rec: np.ndarray  # (N, H) h Wh_n + bh_n (reset after) or r * h (reset before)
    reset_after: bool


class _GRUCache(NamedTuple):
    x_tm: np.ndarray  # (T, N, D)
    Wx: np.ndarray
    Wh: np.ndarray
    hs: np.ndarray  # (H, T + 1, N): h0, h_1 ... h_T, feature-major
    gates: np.ndarray  # (T, 3H, N) r, z, n
    recs: np.ndarray  # h Wh_n + bh_n (T, H, N) or r * h (H, T, N): see _gru_sequence
    reset_after: bool
