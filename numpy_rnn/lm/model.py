"""Recurrent models built from the layers of :mod:`numpy_rnn.layers`.

:class:`RecurrentScorer` is the recurrent layer alone, its hidden states read as
class scores (the assignment's ``TestRNN``, used to check the recurrent layer and
the temporal softmax loss together). :class:`LanguageModel` is the word-level
language model: word embedding -> recurrent layer (any cell of
:data:`numpy_rnn.layers.RECURRENT`) -> temporal affine to vocabulary scores.

Both keep ``params`` and ``grads``: dicts from a namespaced name to an array,

=============  ===========  =============================================
name           shape        what
=============  ===========  =============================================
``embed.W``    ``(V, D)``   word vectors (LanguageModel only)
``rnn.Wx``     ``(D, gH)``  input-to-hidden weights; ``g`` gate blocks (1 for
                            rnn, 4 for lstm: ``i, f, o, g``)
``rnn.Wh``     ``(H, gH)``  hidden-to-hidden weights
``rnn.b``      ``(gH,)``    recurrent bias (one per name in the layer's
                            ``biases``: ``rnn.bx``, ``rnn.bh`` for two)
``out.W``      ``(H, V)``   hidden-to-vocabulary weights (LanguageModel only)
``out.b``      ``(V,)``     vocabulary bias (LanguageModel only)
=============  ===========  =============================================

A language model of ``num_layers > 1`` stacks its recurrent layers (forward only: a
language model reads the words before the one it predicts); its recurrent weights are
named per layer as ``torch.nn`` names them: ``rnn.Wx_l0 (D, gH)``, ``rnn.Wh_l0``,
``rnn.b_l0``, ``rnn.Wx_l1 (H, gH)`` ... (:func:`numpy_rnn.functional.stacked_weight_names`).

so that any optimiser of :mod:`numpy_rnn.optim` can ``step(model.params,
model.grads)``. Initialisation is the assignment's (the layers' defaults): word
vectors standard normal, every weight matrix ``0.02 * N(0, 1)``, biases zero,
drawn in the order of the table from one generator.
"""
from __future__ import annotations

import numpy as np

from numpy_rnn import functional as F
from numpy_rnn.core._kernels import _lstm_sequence
from numpy_rnn.core.validation import float_dtype, generator, positive_int
from numpy_rnn.layers import RECURRENT, TemporalAffine, WordEmbedding

__all__ = ["CELLS", "LanguageModel", "RecurrentScorer"]

INIT_SCALE = 0.02

# the command line and the checks offer every recurrent layer of numpy_rnn.layers
CELLS = tuple(RECURRENT)


def _check_cell(cell: str) -> str:
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {CELLS}, got {cell!r}")
    return cell


def _check_ids(name: str, ids, high: int, shape=None) -> np.ndarray:
    """``ids`` as an integer array of shape ``shape`` with values in ``[0, high)``."""
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name} must hold integer word ids, got dtype {ids.dtype}")
    if shape is not None and ids.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {ids.shape}")
    if ids.ndim != 2:
        raise ValueError(f"{name} must have shape (N, T), got {ids.shape}")
    if ids.size and (ids.min() < 0 or ids.max() >= high):
        bad = ids[(ids < 0) | (ids >= high)]
        raise IndexError(f"{name}: word id {int(bad[0])} out of range [0, {high}) "
                         f"({bad.size} such value(s))")
    return ids


def _check_state(name: str, h0, shape, dtype) -> np.ndarray:
    if h0 is None:
        return np.zeros(shape, dtype=dtype)
    h0 = np.asarray(h0)
    if h0.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {h0.shape}")
    return h0


def _check_mask(mask, shape) -> np.ndarray:
    if mask is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(mask)
    if mask.shape != tuple(shape):
        raise ValueError(f"mask must have shape {tuple(shape)} (that of targets), "
                         f"got {mask.shape}")
    return mask


def _lstm_chunk(x, state, Wx, Wh, b):
    """The LSTM over one sequence (batch 1) from ``state = (h, c)``, forward only.

    ``lstm_forward``'s own time loop (so the same numbers), with the cell state
    carried in. x: (C, D); h, c: (1, H). Returns ``(hs (C, H), (h, c))``.
    """
    h, c = state
    hs, cs, _, _ = _lstm_sequence("predict_text", x[:, None], h.T, c.T, Wx, Wh, b)
    return hs[:, 1:, 0].T.copy(), (hs[:, -1].T.copy(), cs[-1].T.copy())


class _Composite:
    """A model made of layers: flat, namespaced ``params``/``grads`` over the layers' dicts.

    ``params`` holds the layers' own arrays, so in-place updates (optimisers)
    reach the layers directly; an entry replaced by a new array is handed to its
    layer at the next forward.
    """

    params: dict
    grads: dict

    def _build(self, layers: dict) -> None:
        self._layers = layers  # prefix -> layer
        self.params = {f"{prefix}.{name}": value for prefix, layer in layers.items()
                       for name, value in layer.params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._ready = False  # a forward is waiting for its backward

    def _push_params(self) -> None:
        for prefix, layer in self._layers.items():
            for name in layer.params:
                layer.params[name] = self.params[f"{prefix}.{name}"]

    def _pull_grads(self) -> None:
        for prefix, layer in self._layers.items():
            for name, grad in layer.grads.items():
                self.grads[f"{prefix}.{name}"] = grad

    def get_params(self) -> dict:
        """Copies of all parameters (dict name -> array)."""
        return {k: v.copy() for k, v in self.params.items()}

    def set_params(self, values: dict) -> None:
        """Copy ``values[name]`` into every parameter in place (optimiser state stays valid).

        values: dict with exactly the names of ``params``, arrays of the same shapes.
        Raises ValueError naming a missing/unknown name or a shape mismatch.
        """
        missing = sorted(set(self.params) - set(values))
        extra = sorted(set(values) - set(self.params))
        if missing or extra:
            raise ValueError(f"values must have the parameter names {sorted(self.params)}; "
                             f"missing {missing}, unknown {extra}")
        for name, target in self.params.items():
            value = np.asarray(values[name])
            if value.shape != target.shape:
                raise ValueError(f"values[{name!r}] has shape {value.shape}, expected "
                                 f"{target.shape}")
        for name, target in self.params.items():
            np.copyto(target, values[name], casting="same_kind")

    def num_parameters(self) -> int:
        return int(sum(v.size for v in self.params.values()))


class RecurrentScorer(_Composite):
    """A recurrent layer whose hidden states are the class scores (the assignment's TestRNN).

    input_dim:  D, features per timestep.
    hidden_dim: H, hidden size (= number of classes of the scores).
    cell:       a key of :data:`CELLS` (``'rnn'``, ``'lstm'`` ...).
    rng:        None, an int seed or a ``np.random.Generator`` for the initial weights.
    dtype:      float64 (default) or float32.
    """

    def __init__(self, input_dim, hidden_dim, cell="rnn", rng=None, dtype=np.float64):
        self.cell = _check_cell(cell)
        self.dtype = float_dtype(dtype)
        self.input_dim = positive_int("input_dim", input_dim)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.rnn = RECURRENT[cell](self.input_dim, self.hidden_dim, init_scale=INIT_SCALE,
                                    rng=generator(rng), dtype=self.dtype)
        self._build({"rnn": self.rnn})

    def forward(self, x, h0=None):
        """Hidden states of the recurrent layer.

        x:  (N, T, D) features.  h0: (N, H) initial hidden state, or None for zeros.
        Returns: scores (N, T, H), the hidden states.
        """
        self._push_params()
        return self.rnn.forward(x, h0)

    def backward(self, dscores):
        """Back-propagate ``dscores`` (N, T, H); fills ``grads``; returns ``(dx, dh0)``."""
        dx, dh0 = self.rnn.backward(dscores)
        self._pull_grads()
        return dx, dh0

    def loss(self, x, h0, labels, mask=None):
        """Temporal softmax loss of the scores against ``labels``, and the gradients.

        x: (N, T, D).  h0: (N, H) or None (zeros).  labels: int (N, T) in [0, H).
        mask: (N, T) bool/0-1 or None (all ones).
        Returns: ``(loss, grads)``: float loss (sum over unmasked steps / N) and a
        new dict of this call's gradients (later calls do not change it).
        """
        scores = self.forward(x, h0)
        mask = _check_mask(mask, np.shape(labels))
        loss, dscores = F.temporal_softmax_loss(scores, labels, mask)
        self.backward(dscores)
        return float(loss), dict(self.grads)


class LanguageModel(_Composite):
    """Word embedding -> recurrent layer -> temporal affine to vocabulary scores.

    Initialisation, as the equivalent torch model's defaults: embeddings standard
    normal (``nn.Embedding``); recurrent ``Wx``, ``Wh``, ``b`` and output ``W``, ``b``
    uniform in ``(-1/sqrt(H), 1/sqrt(H))`` (``nn.RNN``/``nn.LSTM``/``nn.Linear``).

    vocab_size: V, number of words.
    embed_dim:  D, word-vector size.
    hidden_dim: H, recurrent state size.
    cell:       a key of :data:`CELLS` (``'rnn'``, ``'lstm'`` ...).
    rng:        None, an int seed or a ``np.random.Generator`` for the initial weights.
    dtype:      float64 (default) or float32.
    num_layers: L, recurrent layers stacked (1, the default, is the one-layer model).
    """

    def __init__(self, vocab_size, embed_dim, hidden_dim, cell="rnn", rng=None,
                 dtype=np.float64, num_layers=1):
        self.cell = _check_cell(cell)
        self.dtype = float_dtype(dtype)
        V = self.vocab_size = positive_int("vocab_size", vocab_size)
        D = self.embed_dim = positive_int("embed_dim", embed_dim)
        H = self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.num_layers = positive_int("num_layers", num_layers)
        rng = generator(rng)
        self.embed = WordEmbedding(V, D, init_scale=1.0, rng=rng, dtype=self.dtype)
        self.rnn = RECURRENT[cell](D, H, init_scale=INIT_SCALE, rng=rng, dtype=self.dtype,
                                    num_layers=self.num_layers)
        self.out = TemporalAffine(H, V, init_scale=INIT_SCALE, rng=rng, dtype=self.dtype)
        # Start where the equivalent torch model starts: every recurrent and output
        # parameter ~ U(-1/sqrt(H), 1/sqrt(H)) (nn.RNN / nn.LSTM / nn.Linear defaults).
        # With 0.02-scaled weights the LSTM learns Alice several times slower
        # (50 epochs: 97.6% instead of above 99%).
        bound = 1.0 / np.sqrt(H)
        for layer in (self.rnn, self.out):
            for name, value in layer.params.items():
                layer.params[name] = rng.uniform(-bound, bound, value.shape).astype(self.dtype)
        self._build({"embed": self.embed, "rnn": self.rnn, "out": self.out})

    @staticmethod
    def parameter_shapes(vocab_size, embed_dim, hidden_dim, cell="rnn", dtype=np.float64,
                         num_layers=1) -> dict:
        """Name -> shape of the parameters of a model of this configuration (nothing allocated).

        Raises ValueError for a configuration the constructor would reject.
        """
        layer = RECURRENT[_check_cell(cell)]
        float_dtype(dtype)
        V, D, H, L = (positive_int(n, v) for n, v in (("vocab_size", vocab_size),
                                                      ("embed_dim", embed_dim),
                                                      ("hidden_dim", hidden_dim),
                                                      ("num_layers", num_layers)))
        G = layer.gates * H
        if L == 1:
            rnn = {"rnn.Wx": (D, G), "rnn.Wh": (H, G), **{f"rnn.{b}": (G,) for b in layer.biases}}
        else:
            rnn = {f"rnn.{name}": ((D if name == "Wx_l0" else H, G) if name.startswith("Wx")
                                   else (H, G) if name.startswith("Wh") else (G,))
                   for name in F.stacked_weight_names(layer.cell, L)}
        return {"embed.W": (V, D), **rnn, "out.W": (H, V), "out.b": (V,)}

    def config(self) -> dict:
        """The constructor arguments (JSON-serialisable), for checkpoints."""
        return {"vocab_size": self.vocab_size, "embed_dim": self.embed_dim,
                "hidden_dim": self.hidden_dim, "cell": self.cell, "dtype": self.dtype.name,
                "num_layers": self.num_layers}

    def forward(self, words, h0=None):
        """Vocabulary scores for every position.

        words: int (N, T), word ids in [0, V).
        h0:    (N, H) initial hidden state ((L, N, H) for L > 1 layers), or None for
               zeros (the cell state of the LSTM always starts at zero).
        Returns: scores (N, T, V) in the model's dtype.
        """
        words = _check_ids("words", words, self.vocab_size)
        N = words.shape[0]
        h0 = _check_state("h0", h0, self.rnn.initial_state(N)[0].shape, self.dtype)
        self._push_params()
        scores = self.out.forward(self.rnn.forward(self.embed.forward(words), h0))
        self._ready = True
        return scores

    def backward(self, dscores):
        """Back-propagate ``dscores`` (N, T, V) of the last forward; fills ``grads``.

        Returns: dh0 (N, H) ((L, N, H) for L > 1 layers), the gradient of the initial
        hidden state.
        """
        if not self._ready:
            raise RuntimeError("LanguageModel.backward called before forward: run forward "
                               "first; backward uses its cache")
        self._ready = False
        dx, dh0 = self.rnn.backward(self.out.backward(dscores))
        self.embed.backward(dx)
        self._pull_grads()
        return dh0

    def loss(self, words, targets, mask=None, h0=None):
        """Masked temporal softmax loss of predicting ``targets`` and all gradients.

        words:   int (N, T) input word ids.
        targets: int (N, T) next-word ids in [0, V).
        mask:    (N, T) bool or 0/1, which positions count; None = all.
        h0:      (N, H) ((L, N, H) for L > 1 layers) initial hidden state or None (zeros).
        Returns: ``(loss, grads)``: the loss (sum over counted positions / N, a
        float) and a new dict name -> array of this call's gradients (same names
        and shapes as ``params``; ``model.grads`` holds the same arrays until the
        next backward, which replaces them and leaves this dict as it was).
        """
        words = _check_ids("words", words, self.vocab_size)
        targets = _check_ids("targets", targets, self.vocab_size, shape=words.shape)
        mask = _check_mask(mask, words.shape)
        scores = self.forward(words, h0)
        loss, dscores = F.temporal_softmax_loss(scores, targets, mask)
        self.backward(dscores)
        return float(loss), dict(self.grads)

    def predict(self, words, h0=None) -> np.ndarray:
        """Greedy next-word ids (N, T): the argmax of the scores at every position."""
        scores = self.forward(words, h0)
        self._ready = False
        return np.argmax(scores, axis=-1)

    def predict_text(self, ids, chunk_words=None):
        """Greedy next-word ids of a whole text run as one sequence from a zero state.

        The same predictions as ``predict(ids[None, :-1])[0]``, computed ``chunk_words``
        positions at a time with the hidden (and cell) state carried across chunks,
        so memory stays bounded by the chunk, not the text.

        ids:         int array (L,), L >= 2, word ids in [0, V).
        chunk_words: positions per chunk (default: about 2M vocabulary scores, 16 MB).
        Yields: ``(start, predicted)``: predicted (C,) int ids for the inputs
        ``ids[start:start + C]``, i.e. guesses of ``ids[start + 1:start + C + 1]``.
        """
        ids = np.asarray(ids)
        if ids.ndim != 1 or len(ids) < 2:
            raise ValueError(f"ids must be a 1-D array of at least 2 word ids, got shape "
                             f"{ids.shape}")
        _check_ids("ids", ids[None], self.vocab_size)
        if chunk_words is None:
            chunk_words = max(64, (1 << 21) // self.vocab_size)
        chunk_words = positive_int("chunk_words", chunk_words)
        self._push_params()
        p, rnn = self.params, self.rnn
        state = rnn.initial_state(1)
        for start in range(0, len(ids) - 1, chunk_words):
            words = ids[start:min(start + chunk_words, len(ids) - 1)]
            x = p["embed.W"][words]  # (C, D)
            if self.cell == "lstm" and not rnn.stacked:
                # lstm_forward has no initial cell state: run its operations here
                hs, state = _lstm_chunk(x, state, p["rnn.Wx"], p["rnn.Wh"], p["rnn.b"])
            else:  # the layer's own sequence functions, from the carried state
                h, state = rnn.run(x[None], state)
                hs = h[0]
            scores = hs @ p["out.W"]
            scores += p["out.b"]
            yield start, np.argmax(scores, axis=-1)

    def sample(self, start, length: int, temperature=None, rng=None) -> np.ndarray:
        """Generate ``length`` word ids starting with ``start`` (included).

        Each next word is fed back as the following input, from a zero state.
        start:       id of the first word, in [0, V).
        length:      number of ids returned (>= 1), the start word included.
        temperature: None or 0 for greedy decoding (the argmax word, as the
                     assignment); a positive number samples from
                     ``softmax(scores / temperature)``.
        rng:         None, an int seed or a Generator (sampling only).
        Returns: int64 array (length,).
        """
        if isinstance(start, (bool, np.bool_)) or not isinstance(start, (int, np.integer)) \
                or not 0 <= start < self.vocab_size:
            raise IndexError(f"start must be a word id in [0, {self.vocab_size}), got {start!r}")
        length = positive_int("length", length)
        if temperature is not None:
            temperature = float(temperature)
            if not np.isfinite(temperature) or temperature < 0:
                raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")
            if temperature == 0:
                temperature = None
        rng = generator(rng)
        p = self.params
        self._push_params()
        state = self.rnn.initial_state(1)
        out = np.empty(length, dtype=np.int64)
        out[0] = word = int(start)
        for t in range(1, length):
            state = self.rnn.step(p["embed.W"][word][None], state)
            top = state[0][-1] if self.rnn.stacked else state[0]  # the last layer's h
            scores = (top @ p["out.W"] + p["out.b"])[0].astype(np.float64)
            if temperature is None:
                word = int(np.argmax(scores))
            else:
                z = scores / temperature
                probs = np.exp(z - z.max())
                word = int(rng.choice(self.vocab_size, p=probs / probs.sum()))
            out[t] = word
        return out
