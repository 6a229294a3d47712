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
``RNN``             Wx (D, H), Wh (H, H),     every parameter ``U(-1/sqrt(H), 1/sqrt(H))``
                    b (H,)                    (``nn.RNN``'s and the language model's
                                              start); with ``init_scale``:
                                              ``init_scale * N(0, 1)`` weights, zero bias
``LSTM``            Wx (D, 4H), Wh (H, 4H),   as RNN; gate blocks i, f, o, g
                    b (4H,)
``GRU``             Wx (D, 3H), Wh (H, 3H),   as RNN (``nn.GRU``'s start); gate
                    bx (3H,), bh (3H,)        blocks r, z, n
``WordEmbedding``   W (V, D)                  ``init_scale * N(0, 1)`` with
                                              ``init_scale=1.0``: unit-variance word
                                              vectors, as ``torch.nn.Embedding`` and
                                              the language model use
``TemporalAffine``  W (D, M), b (M,)          ``init_scale * N(0, 1)`` weights
                                              (``init_scale=0.02``), zero bias
``Affine``          W (D, M), b (M,)          as TemporalAffine
==================  ========================  ========================================

``rng`` is ``None`` (fresh entropy), an int seed or a ``numpy.random.Generator``;
``dtype`` is float64 (default) or float32. Calling ``backward`` before
``forward`` raises ``RuntimeError``.

The recurrent layers also stack, as ``torch.nn.RNN/LSTM/GRU`` do:
``LSTM(D, H, num_layers=2, bidirectional=True)`` holds each layer's and direction's
weights under torch's names in NumPy's layout (``Wx_l0 (D, 4H)``, ``Wh_l0``, ``b_l0``,
``Wx_l0_reverse`` ..., ``Wx_l1 (2H, 4H)`` ...; the GRU's ``bx_l0``, ``bh_l0`` ...), runs
the stacked functions of :mod:`numpy_rnn.core.stacked`, takes ``h0 (L*dirs, N, H)`` and
returns ``h (N, T, dirs*H)``. A one-layer forward-only layer (the default) keeps the
names ``Wx``, ``Wh``, ``b`` and the one-layer functions.
"""
from __future__ import annotations

import numpy as np

from numpy_rnn import functional as F
from numpy_rnn.core.stacked import STACKED_CELLS
from numpy_rnn.core.validation import FLOAT_DTYPES, float_dtype, generator, positive_int

__all__ = ["RNN", "LSTM", "GRU", "RECURRENT", "WordEmbedding", "TemporalAffine", "Affine"]


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
        self.dtype = float_dtype(dtype, cls)
        scale = _scale(cls, init_scale)
        rng = generator(rng, cls)
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
    """A recurrent layer over whole sequences: ``Wx (D, gH)``, ``Wh (H, gH)`` and the
    biases (each ``(gH,)``) with ``g`` gate blocks, run by the functional
    ``forward``/``backward`` pair; ``step`` runs the one-timestep function.

    With ``num_layers > 1`` or ``bidirectional`` it is a stacked network: the weights of
    every layer and direction under the names of
    :func:`~numpy_rnn.core.stacked.stacked_weight_names`, run by the cell's
    ``*_stacked_forward``/``*_stacked_backward``; states carry a leading ``L * directions``
    axis (torch's order)."""

    cell = ""  # its key in numpy_rnn.core.stacked.STACKED_CELLS: the stacked version
    gates = 1
    biases = ("b",)
    state_size = 1  # arrays a timestep carries: h (and c for the LSTM)
    _forward = staticmethod(F.rnn_forward)
    _backward = staticmethod(F.rnn_backward)
    _step = staticmethod(F.rnn_step_forward)
    _stacked_forward = _stacked_backward = None

    def __init__(self, input_dim, hidden_dim, init_scale=None, rng=None, dtype=np.float64, *,
                 num_layers=1, bidirectional=False):
        layer = type(self).__name__
        D = self.input_dim = positive_int("input_dim", input_dim, layer)
        H = self.hidden_dim = positive_int("hidden_dim", hidden_dim, layer)
        L = self.num_layers = positive_int("num_layers", num_layers, layer)
        if not isinstance(bidirectional, (bool, np.bool_)):
            raise ValueError(f"{layer}: bidirectional must be True or False, "
                             f"got {bidirectional!r}")
        self.bidirectional = bool(bidirectional)
        self.directions = 2 if bidirectional else 1
        self.stacked = L > 1 or self.bidirectional
        if self.stacked and self.cell not in STACKED_CELLS:
            raise ValueError(f"{layer}: this cell has no stacked version (no row in "
                             "numpy_rnn.core.stacked.STACKED_CELLS): num_layers must be 1 "
                             "and bidirectional False")
        G = self.gates * H
        if self.stacked:
            shapes = {}
            for name in F.stacked_weight_names(self.cell, L, self.bidirectional):
                kind = name[:name.index("_l")]
                rows = (D if name.startswith("Wx_l0") else self.directions * H) \
                    if kind == "Wx" else H
                shapes[name] = (rows, G) if kind in ("Wx", "Wh") else (G,)
        else:
            shapes = {"Wx": (D, G), "Wh": (H, G), **{b: (G,) for b in self.biases}}
        self._names = tuple(shapes)
        if init_scale is not None:
            super().__init__(shapes, tuple(n for n in shapes if n.startswith("W")), init_scale,
                             rng, dtype)
            return
        super().__init__(shapes, (), 0.0, rng, dtype)  # zeros: nothing drawn yet
        rng = generator(rng, layer)
        bound = 1.0 / np.sqrt(H)
        for name, value in self.params.items():
            self.params[name] = rng.uniform(-bound, bound, value.shape).astype(self.dtype)

    @property
    def output_dim(self) -> int:
        """Features of each output timestep: ``directions * H``."""
        return self.directions * self.hidden_dim

    def _weights(self) -> tuple:
        return tuple(self.params[k] for k in ("Wx", "Wh", *self.biases))

    def _options(self) -> dict:
        """Keyword arguments of the functional pair beyond the arrays."""
        return {}

    def _state_shape(self, batch: int) -> tuple:
        return ((self.num_layers * self.directions, batch, self.hidden_dim) if self.stacked
                else (batch, self.hidden_dim))

    def forward(self, x, h0=None):
        """x: (N, T, D), h0: (N, H) ((L*dirs, N, H) when stacked) or None (zeros) ->
        h: (N, T, H) ((N, T, dirs*H) when stacked: ``[forward, reverse]``).

        The LSTM's cell state starts at zero, in every layer and direction.
        """
        if h0 is None:
            x = np.asarray(x)
            h0 = np.zeros(self._state_shape(x.shape[0] if x.ndim else 0),
                          dtype=x.dtype if x.dtype in FLOAT_DTYPES else self.dtype)
        if not self.stacked:
            h, self._cache = self._forward(x, h0, *self._weights(), **self._options())
            return h
        h, *_, self._cache = self._stacked_forward(x, h0, **self._options(), **self.params)
        return h

    def backward(self, dh):
        """dh: (N, T, H) ((N, T, dirs*H) when stacked) -> ``(dx (N, T, D), dh0)``, dh0 of
        h0's shape; fills grads of every weight.

        The final states feed nothing here (their upstream gradient is zero): a model that
        reads them backpropagates through the functional ``*_stacked_backward``.
        """
        if not self.stacked:
            dx, dh0, *grads = self._backward(dh, self._last_cache())
            self.grads.update(zip(("Wx", "Wh", *self.biases), grads, strict=True))
            return dx, dh0
        finals = (None,) * self.state_size
        dx, dh0, *rest = self._stacked_backward(dh, *finals, self._last_cache())
        self.grads.update(zip(self._names, rest[self.state_size - 1:], strict=True))
        return dx, dh0

    def initial_state(self, batch: int) -> tuple:
        """Zero state for ``batch`` sequences: ``state_size`` arrays (N, H), or
        (L*dirs, N, H) when stacked."""
        return tuple(np.zeros(self._state_shape(batch), dtype=self.dtype)
                     for _ in range(self.state_size))

    def step(self, x, state: tuple) -> tuple:
        """One timestep, no cache kept: x (N, D) and the state (h, ...) -> the next state.

        Stacked (forward only): each layer's step feeds the next; the state arrays are
        (L, N, H) and the top layer's hidden state is ``state[0][-1]``. A bidirectional
        layer has no step: its reverse direction reads the sequence from the end.
        """
        if not self.stacked:
            return self._step(x, *state, *self._weights(), **self._options())[:-1]
        if self.bidirectional:
            raise ValueError(f"{type(self).__name__}.step: a bidirectional layer has no "
                             "single step (the reverse direction starts at the last "
                             "timestep); run forward or run over the whole sequence")
        per_layer = len(self._names) // self.num_layers
        inputs, new = x, []
        for layer in range(self.num_layers):
            names = self._names[layer * per_layer:(layer + 1) * per_layer]
            out = self._step(inputs, *(s[layer] for s in state),
                             *(self.params[n] for n in names), **self._options())[:-1]
            new.append(out)
            inputs = out[0]
        return tuple(np.stack(arrays) for arrays in zip(*new, strict=True))

    def run(self, x, state: tuple | None = None) -> tuple:
        """Forward over ``x`` (N, T, D) from a carried ``state`` (as :meth:`initial_state`
        makes; None for zeros) without keeping a cache: ``(h, final state)``, so that a long
        text runs in chunks.
        """
        x = np.asarray(x)
        state = self.initial_state(x.shape[0]) if state is None else state
        if not self.stacked and self.state_size == 1:
            h, _ = self._forward(x, state[0], *self._weights(), **self._options())
            return h, (h[:, -1].copy(),)
        weights = self.params if self.stacked else dict(
            zip(F.stacked_weight_names(self.cell, 1), self._weights(), strict=True))
        states = state if self.stacked else tuple(s[None] for s in state)
        h, *final, _ = self._stacked_forward(x, *states, **self._options(), **weights)
        return h, tuple(final) if self.stacked else tuple(s[0] for s in final)


class RNN(_Recurrent):
    """Vanilla RNN over whole sequences (:func:`numpy_rnn.functional.rnn_forward`).

    input_dim: D.  hidden_dim: H.  init_scale: None (default) for every parameter
    uniform in (-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.RNN``; a number for
    ``init_scale * N(0, 1)`` weights and a zero bias.
    rng: None, int seed or Generator.  dtype: float64 or float32.
    num_layers, bidirectional: a stacked network, as ``torch.nn.RNN``
    (:func:`numpy_rnn.functional.rnn_stacked_forward`).
    """

    cell = "rnn"
    _stacked_forward = staticmethod(F.rnn_stacked_forward)
    _stacked_backward = staticmethod(F.rnn_stacked_backward)


class LSTM(_Recurrent):
    """LSTM over whole sequences, zero initial cell (:func:`numpy_rnn.functional.lstm_forward`).

    input_dim: D.  hidden_dim: H (weights hold the gates i, f, o, g along 4H).
    init_scale: as :class:`RNN`.  rng: None, int seed or Generator.
    dtype: float64 or float32.
    num_layers, bidirectional: a stacked network, as ``torch.nn.LSTM``
    (:func:`numpy_rnn.functional.lstm_stacked_forward`); every cell state starts at zero.
    """

    cell = "lstm"
    gates = 4
    state_size = 2
    _forward = staticmethod(F.lstm_forward)
    _backward = staticmethod(F.lstm_backward)
    _step = staticmethod(F.lstm_step_forward)
    _stacked_forward = staticmethod(F.lstm_stacked_forward)
    _stacked_backward = staticmethod(F.lstm_stacked_backward)


class GRU(_Recurrent):
    """GRU over whole sequences (:func:`numpy_rnn.functional.gru_forward`).

    input_dim: D.  hidden_dim: H (weights hold the gates r, z, n along 3H; input
    bias ``bx`` and hidden bias ``bh``).  init_scale: as :class:`RNN`.
    rng: None, int seed or Generator.  dtype: float64 or float32.
    reset_after: the reset gate scales ``h Wh_n + bh_n`` (True, as ``torch.nn.GRU``)
    or ``h`` before the product (False, the original formulation).
    num_layers, bidirectional: a stacked network, as ``torch.nn.GRU``
    (:func:`numpy_rnn.functional.gru_stacked_forward`).
    """

    cell = "gru"
    gates = 3
    biases = ("bx", "bh")
    _forward = staticmethod(F.gru_forward)
    _backward = staticmethod(F.gru_backward)
    _step = staticmethod(F.gru_step_forward)
    _stacked_forward = staticmethod(F.gru_stacked_forward)
    _stacked_backward = staticmethod(F.gru_stacked_backward)

    def __init__(self, input_dim, hidden_dim, init_scale=None, rng=None, dtype=np.float64,
                 reset_after=True, *, num_layers=1, bidirectional=False):
        super().__init__(input_dim, hidden_dim, init_scale, rng, dtype, num_layers=num_layers,
                         bidirectional=bidirectional)
        self.reset_after = bool(reset_after)

    def _options(self) -> dict:
        return {"reset_after": self.reset_after}


# cell name -> recurrent layer class: the language model offers each cell here
RECURRENT = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class WordEmbedding(_Layer):
    """Word-vector lookup (:func:`numpy_rnn.functional.word_embedding_forward`).

    vocab_size: V.  embed_dim: D.  init_scale: std of the word vectors (1.0).
    rng: None, int seed or Generator.  dtype: float64 or float32.
    """

    def __init__(self, vocab_size, embed_dim, init_scale=1.0, rng=None, dtype=np.float64):
        V = self.vocab_size = positive_int("vocab_size", vocab_size, "WordEmbedding")
        D = self.embed_dim = positive_int("embed_dim", embed_dim, "WordEmbedding")
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
        D = self.input_dim = positive_int("input_dim", input_dim, cls)
        M = self.output_dim = positive_int("output_dim", output_dim, cls)
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
