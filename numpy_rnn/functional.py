"""The functional core: forward and backward passes of recurrent layers and losses.

Every layer is a pair ``*_forward(...) -> (out, cache)`` / ``*_backward(dout,
cache) -> grads``. Arrays are batch-first: ``x: (N, T, D)`` holds ``N`` sequences
of ``T`` timesteps of ``D`` features; ``H`` is the hidden size. An LSTM packs its
four gates along a ``4H`` axis in the order ``i, f, o, g`` (input, forget,
output, candidate) and starts its cell state at zero.

Conventions shared by all functions:

* float32 and float64 both work and are preserved: every output, gradient and
  loss has the dtype of the float inputs (which must all share it).
* Inputs are never modified; outputs are new arrays.
* Every argument is validated (:mod:`numpy_rnn.validation`): bad shapes, mixed
  dtypes, NaN/Inf, out-of-range indices or a bad mask raise ``ValueError`` /
  ``IndexError`` naming the argument with the expected and actual value.
* Caches are opaque; a backward pass only accepts the cache of its forward pass.

The sequence functions compute what their step functions compute, applied over
time (both use the same per-step kernels), but hoist the work that does not
depend on the recurrence out of the time loop: the input projection of every
timestep is one matrix product over ``N*T`` rows, and the weight gradients are
one matrix product over all timesteps after the backward loop. Internally the
sequence functions keep time-major buffers ``(T, N, ...)`` so that each
timestep is one contiguous block.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import ArgChecker, check_cache

__all__ = [
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward", "sigmoid",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
    "affine_forward", "affine_backward", "mse_loss", "softmax", "log_softmax",
]


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

    float64 uses ``np.tanh`` (accurate to an ulp relative to the result, which
    the documents' float64 gradient checks at 1e-6 need: their worst entries are
    dominated by rounding noise). float32 uses ``2 / (1 + exp(-2x)) - 1``: about
    twice as fast as ``np.tanh`` and within 1.5 units in the last place of 1,
    float32's resolution at the scale of a hidden state; its saturated ends are
    exactly -1 and 1 and its overflow flags are silenced as in
    :func:`_sigmoid_into`.
    """
    if x.dtype == np.float64:
        return np.tanh(x, out=out)
    with np.errstate(over="ignore", under="ignore"):
        np.multiply(x, -2, out=out)
        np.exp(out, out=out)
    out += 1
    np.divide(2, out, out=out)
    out -= 1
    return out


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
    hs: np.ndarray  # (T + 1, N, H): h0, h_1 ... h_T
    cs: np.ndarray  # (T + 1, N, H): 0, c_1 ... c_T
    tanh_cs: np.ndarray  # (T, N, H)
    acts: np.ndarray  # (T, N, 4H) gate activations


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


def _scalar(value, dtype):
    return dtype.type(value)


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
    a = x @ Wx
    a += prev_h @ Wh
    a += b
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
    xw = (x_tm.reshape(T * N, D) @ Wx).reshape(T, N, H)
    xw += b
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
    fn = "rnn_backward"
    check_cache(fn, cache, _RNNCache, "rnn_forward")
    x_tm, Wx, Wh, hs = cache
    T, N, D = x_tm.shape
    H = hs.shape[2]
    chk = _backward_checker(fn, "rnn_forward", {"N": N, "T": T, "H": H}, hs.dtype)
    dh = chk.float_array("dh", dh, ("N", "T", "H"))
    da = np.empty((T, N, H), dtype=hs.dtype)  # gradient of the pre-activations
    dnext = np.zeros((N, H), dtype=hs.dtype)  # gradient reaching h_t from step t + 1
    deriv = np.empty((N, H), dtype=hs.dtype)
    WhT = Wh.T
    for t in range(T - 1, -1, -1):
        g = da[t]
        np.add(dh[:, t], dnext, out=g)
        g *= _one_minus_square(hs[t + 1], deriv)
        np.matmul(g, WhT, out=dnext)
    flat = da.reshape(T * N, H)
    dWh = hs[:-1].reshape(T * N, H).T @ flat
    dWx = x_tm.reshape(T * N, D).T @ flat
    db = flat.sum(axis=0)
    dx = np.ascontiguousarray((flat @ Wx.T).reshape(T, N, D).swapaxes(0, 1))
    return dx, dnext, dWx, dWh, db


# ---- word embedding ----------------------------------------------------------------

def word_embedding_forward(x, W):
    """Look up word vectors.

    x: (N, T) integer word indices, each in ``[0, V)``.
    W: (V, D) word vectors, one row per word.

    Returns ``(out, cache)``: out (N, T, D) with ``out[n, t] = W[x[n, t]]``.
    """
    chk = ArgChecker("word_embedding_forward")
    W = chk.float_array("W", W, ("V", "D"))
    V, D = W.shape
    x = chk.index_array("x", x, ("N", "T"), V, f"V={V} rows of W")
    return np.take(W, x, axis=0), _EmbeddingCache(x, V, D, W.dtype)


def word_embedding_backward(dout, cache):
    """Backward pass of :func:`word_embedding_forward`.

    dout:  (N, T, D) upstream gradient of the looked-up vectors.
    cache: from :func:`word_embedding_forward`.

    Returns dW (V, D): row ``v`` is the sum of ``dout[n, t]`` over every
    position where ``x[n, t] == v`` (zero for unused words).
    """
    fn = "word_embedding_backward"
    check_cache(fn, cache, _EmbeddingCache, "word_embedding_forward")
    x, V, D, dtype = cache
    N, T = x.shape
    chk = _backward_checker(fn, "word_embedding_forward", {"N": N, "T": T, "D": D}, dtype)
    dout = chk.float_array("dout", dout, ("N", "T", "D"))
    # scatter-add over flat (word, column) slots: np.add.at's 1-D fast path
    # (NumPy >= 1.25) beats both the 2-D row form and bincount, and repeated
    # words accumulate instead of overwriting each other
    slots = (x.reshape(-1, 1).astype(np.intp, copy=False) * D + np.arange(D)).reshape(-1)
    dW = np.zeros(V * D, dtype=dtype)
    np.add.at(dW, slots, dout.reshape(-1))
    return dW.reshape(V, D)


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
    act = x @ Wx
    act += prev_h @ Wh
    act += b
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
    N, T, D, H = x.shape + (h0.shape[1],)
    dtype = x.dtype
    x_tm = _time_major(x)
    # input projection of every timestep in one GEMM; each step then adds h Wh
    # and turns its block into gate activations in place
    acts = (x_tm.reshape(T * N, D) @ Wx).reshape(T, N, 4 * H)
    acts += b
    hs = np.empty((T + 1, N, H), dtype=dtype)
    hs[0] = h0
    cs = np.empty((T + 1, N, H), dtype=dtype)
    cs[0] = 0
    tanh_cs = np.empty((T, N, H), dtype=dtype)
    hWh = np.empty((N, 4 * H), dtype=dtype)
    for t in range(T):
        a = acts[t]
        np.matmul(hs[t], Wh, out=hWh)
        a += hWh
        _lstm_cell(a, cs[t], cs[t + 1], tanh_cs[t], hs[t + 1])
    h = np.ascontiguousarray(hs[1:].swapaxes(0, 1))
    return h, _LSTMCache(x_tm, Wx, Wh, hs, cs, tanh_cs, acts)


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
    H = hs.shape[2]
    dtype = hs.dtype
    chk = _backward_checker(fn, "lstm_forward", {"N": N, "T": T, "H": H}, dtype)
    dh = chk.float_array("dh", dh, ("N", "T", "H"))
    da = np.empty((T, N, 4 * H), dtype=dtype)  # gradient of the pre-activations
    dnext = np.zeros((N, H), dtype=dtype)  # gradient reaching h_t from step t + 1
    dc = np.zeros((N, H), dtype=dtype)  # gradient reaching c_t from step t + 1
    dh_t = np.empty((N, H), dtype=dtype)
    scratch = np.empty((N, 3 * H), dtype=dtype)
    WhT = Wh.T
    for t in range(T - 1, -1, -1):
        np.add(dh[:, t], dnext, out=dh_t)
        _lstm_cell_backward(dh_t, dc, acts[t], cs[t], tanh_cs[t], da[t], scratch)
        np.matmul(da[t], WhT, out=dnext)
    flat = da.reshape(T * N, 4 * H)
    dWh = hs[:-1].reshape(T * N, H).T @ flat
    dWx = x_tm.reshape(T * N, D).T @ flat
    db = flat.sum(axis=0)
    dx = np.ascontiguousarray((flat @ Wx.T).reshape(T, N, D).swapaxes(0, 1))
    return dx, dnext, dWx, dWh, db


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


# ---- softmax and losses ------------------------------------------------------------

def _shifted_exp(x: np.ndarray) -> tuple:
    """``(shifted, e)``: ``x - max(x)`` over the last axis and its exp (new arrays)."""
    shifted = x - x.max(axis=-1, keepdims=True)
    with np.errstate(under="ignore"):  # exp of very negative logits is 0, as it should be
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
    nll -= shifted[rows, labels]
    weight = mask.reshape(-1).astype(dtype)
    weight /= N
    loss = np.dot(weight, nll)
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
    diff = y_hat - y
    loss = np.vdot(diff, diff) / diff.size
    diff *= 2 / diff.size
    return _scalar(loss, y_hat.dtype), diff
