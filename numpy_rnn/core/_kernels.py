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
