"""Layer objects: parameters, gradients and the last forward's cache.

Each class is a thin wrapper over a forward/backward pair of
:mod:`numpy_rnn.functional`. It holds

* ``params``: dict name -> array, read at every ``forward`` call (entries may be
  replaced or changed in place between calls, e.g. by an optimiser);
* ``grads``: dict with the same names, filled by ``backward`` (new arrays each
  time; zeros before the first backward).

==================  ========================  ========================================
class               params (shapes)           initialisation
==================  ========================  ========================================
``RNN``             Wx (D, H), Wh (H, H),     ``init_scale * N(0, 1)`` weights
                    b (H,)                    (``init_scale=0.02``), zero bias
``LSTM``            Wx (D, 4H), Wh (H, 4H),   as RNN; gate blocks i, f, o, g
                    b (4H,)
``WordEmbedding``   W (V, D)                  ``init_scale * N(0, 1)`` with
                                              ``init_scale=1.0``: unit-variance word
                                              vectors, as ``torch.nn.Embedding`` and
                                              the language model use
``TemporalAffine``  W (D, M), b (M,)          as RNN
``Affine``          W (D, M), b (M,)          as RNN
==================  ========================  ========================================

``rng`` is ``None`` (fresh entropy), an int seed or a ``numpy.random.Generator``;
``dtype`` is float64 (default) or float32. Calling ``backward`` before
``forward`` raises ``RuntimeError``.
"""
from __future__ import annotations

import numbers

import numpy as np

from numpy_rnn import functional as F
from numpy_rnn.core.validation import FLOAT_DTYPES

__all__ = ["RNN", "LSTM", "WordEmbedding", "TemporalAffine", "Affine"]


def _generator(rng) -> np.random.Generator:
    if rng is None or isinstance(rng, numbers.Integral):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValueError(f"rng must be None, an int seed or a numpy.random.Generator, "
                     f"got {type(rng).__name__}")


def _size(cls: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{cls}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _float_dtype(cls: str, dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"{cls}: dtype must be float32 or float64, got {dt}")
    return dt


def _scale(cls: str, value) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{cls}: init_scale must be finite, got {value}")
    return value


class _Layer:
    """Bookkeeping shared by the layers: params, grads, the cache of the last forward."""

    params: dict
    grads: dict

    def __init__(self, shapes: dict, weights: tuple, init_scale, rng, dtype):
        cls = type(self).__name__
        self.dtype = _float_dtype(cls, dtype)
        scale = _scale(cls, init_scale)
        rng = _generator(rng)
        self.params = {}
        for name, shape in shapes.items():
            if name in weights:
                self.params[name] = (scale * rng.standard_normal(shape)).astype(self.dtype)
            else:
                self.params[name] = np.zeros(shape, dtype=self.dtype)
        self.grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        self._cache = None

    def _last_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: "
                               "run forward first; backward uses its cache")
        return self._cache

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={v.shape}" for k, v in self.params.items())
        return f"{type(self).__name__}({shapes}, dtype={self.dtype})"


class _Recurrent(_Layer):
    """A recurrent layer over whole sequences: ``Wx (D, gH)``, ``Wh (H, gH)``, ``b (gH,)``
    with ``g`` gate blocks, run by a functional ``forward``/``backward`` pair."""

    gates = 1
    _forward = staticmethod(F.rnn_forward)
    _backward = staticmethod(F.rnn_backward)

    def __init__(self, input_dim, hidden_dim, init_scale=0.02, rng=None, dtype=np.float64):
        layer = type(self).__name__
        D = self.input_dim = _size(layer, "input_dim", input_dim)
        H = self.hidden_dim = _size(layer, "hidden_dim", hidden_dim)
        G = self.gates * H
        super().__init__({"Wx": (D, G), "Wh": (H, G), "b": (G,)}, ("Wx", "Wh"),
                         init_scale, rng, dtype)

    def forward(self, x, h0):
        """x: (N, T, D), h0: (N, H) -> h: (N, T, H)."""
        p = self.params
        h, self._cache = self._forward(x, h0, p["Wx"], p["Wh"], p["b"])
        return h

    def backward(self, dh):
        """dh: (N, T, H) -> ``(dx (N, T, D), dh0 (N, H))``; fills grads Wx, Wh, b."""
        dx, dh0, dWx, dWh, db = self._backward(dh, self._last_cache())
        self.grads.update(Wx=dWx, Wh=dWh, b=db)
        return dx, dh0


class RNN(_Recurrent):
    """Vanilla RNN over whole sequences (:func:`numpy_rnn.functional.rnn_forward`).

    input_dim: D.  hidden_dim: H.  init_scale: std of the weights (0.02).
    rng: None, int seed or Generator.  dtype: float64 or float32.
    """


class LSTM(_Recurrent):
    """LSTM over whole sequences, zero initial cell (:func:`numpy_rnn.functional.lstm_forward`).

    input_dim: D.  hidden_dim: H (weights hold the gates i, f, o, g along 4H).
    init_scale: std of the weights (0.02).  rng: None, int seed or Generator.
    dtype: float64 or float32.
    """

    gates = 4
    _forward = staticmethod(F.lstm_forward)
    _backward = staticmethod(F.lstm_backward)


class WordEmbedding(_Layer):
    """Word-vector lookup (:func:`numpy_rnn.functional.word_embedding_forward`).

    vocab_size: V.  embed_dim: D.  init_scale: std of the word vectors (1.0).
    rng: None, int seed or Generator.  dtype: float64 or float32.
    """

    def __init__(self, vocab_size, embed_dim, init_scale=1.0, rng=None, dtype=np.float64):
        V = self.vocab_size = _size("WordEmbedding", "vocab_size", vocab_size)
        D = self.embed_dim = _size("WordEmbedding", "embed_dim", embed_dim)
        super().__init__({"W": (V, D)}, ("W",), init_scale, rng, dtype)

    def forward(self, x):
        """x: (N, T) integer word indices in [0, V) -> out: (N, T, D)."""
        out, self._cache = F.word_embedding_forward(x, self.params["W"])
        return out

    def backward(self, dout):
        """dout: (N, T, D) -> None; fills grads W (V, D)."""
        self.grads["W"] = F.word_embedding_backward(dout, self._last_cache())


class _AffineLayer(_Layer):
    """Weights ``W (D, M)`` and bias ``b (M,)`` around a functional affine pair."""

    _forward = None
    _backward = None

    def __init__(self, input_dim, output_dim, init_scale=0.02, rng=None, dtype=np.float64):
        cls = type(self).__name__
        D = self.input_dim = _size(cls, "input_dim", input_dim)
        M = self.output_dim = _size(cls, "output_dim", output_dim)
        super().__init__({"W": (D, M), "b": (M,)}, ("W",), init_scale, rng, dtype)

    def forward(self, x):
        """x: (..., D) -> out: (..., M)."""
        out, self._cache = type(self)._forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dout):
        """dout: (..., M) -> dx: (..., D); fills grads W, b."""
        dx, dW, db = type(self)._backward(dout, self._last_cache())
        self.grads.update(W=dW, b=db)
        return dx


class TemporalAffine(_AffineLayer):
    """Affine map at every timestep (:func:`numpy_rnn.functional.temporal_affine_forward`).

    input_dim: D.  output_dim: M.  init_scale: std of the weights (0.02).
    rng: None, int seed or Generator.  dtype: float64 or float32.
    forward: x (N, T, D) -> out (N, T, M); backward: dout (N, T, M) -> dx (N, T, D).
    """

    _forward = staticmethod(F.temporal_affine_forward)
    _backward = staticmethod(F.temporal_affine_backward)


class Affine(_AffineLayer):
    """Affine map of a batch of vectors (:func:`numpy_rnn.functional.affine_forward`).

    input_dim: D.  output_dim: M.  init_scale: std of the weights (0.02).
    rng: None, int seed or Generator.  dtype: float64 or float32.
    forward: x (N, D) -> out (N, M); backward: dout (N, M) -> dx (N, D).
    """

    _forward = staticmethod(F.affine_forward)
    _backward = staticmethod(F.affine_backward)
