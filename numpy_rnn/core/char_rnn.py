"""The character-level language model of min-char-rnn, composed from the functional core.

Karpathy's ``min-char-rnn.py`` (and its many forks) trains a one-layer RNN on one
sequence of character indices at a time, with every array a column, features first:

============  ==============  =============================================================
argument      shape           meaning
============  ==============  =============================================================
``inputs``    (T,) integers   character indices in ``[0, V)``; ``x_t`` is ``inputs[t]`` one-hot
``targets``   (T,) integers   the character each step must predict, in ``[0, V)``
``hprev``     (H, 1)          the hidden state before the first step
``Wxh``       (H, V)          input to hidden (LSTM: ``(4H, V)``, gate blocks ``i, f, o, g``)
``Whh``       (H, H)          hidden to hidden (LSTM: ``(4H, H)``)
``Why``       (V, H)          hidden to output scores
``bh``        (H, 1)          hidden bias (LSTM: ``(4H, 1)``)
``by``        (V, 1)          output bias
============  ==============  =============================================================

``h_t = tanh(Wxh x_t + Whh h_{t-1} + bh)``, ``y_t = Why h_t + by`` and the loss is the
softmax cross-entropy of ``y_t`` against ``targets[t]`` summed over the ``T`` steps. The
gradients are clipped elementwise to ``[-clip, clip]`` once they are summed over the
whole sequence, as the original does (``clip=5``; ``np.inf`` leaves them as they are).

The functions here run the batch-first functional layers on a batch of one: the only
place that turns the column layout into theirs is :func:`_as_rows` (and back,
:func:`_as_columns`). The softmax is the functional core's stable one, so logits far
apart give the right loss where the original's ``np.exp`` overflows.
"""
from __future__ import annotations

import numpy as np

from numpy_rnn.core.affine import temporal_affine_backward, temporal_affine_forward
from numpy_rnn.core.losses import temporal_softmax_loss
from numpy_rnn.core.rnn import rnn_backward, rnn_forward
from numpy_rnn.core.stacked import lstm_stacked_backward, lstm_stacked_forward
from numpy_rnn.core.validation import ArgChecker

__all__ = ["char_rnn_loss", "char_lstm_loss"]


def _column(chk: ArgChecker, name: str, value, size: str) -> np.ndarray:
    """A float column of shape ``(size, 1)``."""
    arr = np.asarray(value)
    if arr.ndim != 2 or arr.shape[1] != 1:
        raise ValueError(f"{chk.fn}: {name} must be a column of shape ({size}, 1), got "
                         f"shape {arr.shape}")
    return chk.float_array(name, arr, (size, "ONE"))


def _checked(fn: str, inputs, targets, states, Wxh, Whh, Why, bh, by, clip, gates: int):
    """The arguments, validated: ``(inputs, targets, states, weights, clip)``."""
    chk = ArgChecker(fn)
    G = f"{gates}H" if gates > 1 else "H"
    Wxh = chk.float_array("Wxh", Wxh, (G, "V"))
    Whh = chk.float_array("Whh", Whh, (G, "H"))
    Why = chk.float_array("Why", Why, ("V", "H"))
    bh = _column(chk, "bh", bh, G)
    by = _column(chk, "by", by, "V")
    states = tuple(_column(chk, name, s, "H") for name, s in states)
    V = Wxh.shape[1]
    if np.ndim(inputs) != 1 or np.size(inputs) == 0:
        raise ValueError(f"{fn}: inputs must be a non-empty sequence of character indices "
                         f"(T,), got shape {np.shape(inputs)}")
    inputs = chk.index_array("inputs", inputs, ("T",), V, f"V={V} characters in Wxh")
    targets = chk.index_array("targets", targets, ("T",), V, f"V={V} characters in Wxh")
    bound = np.asarray(clip)
    if bound.ndim or bound.dtype.kind not in "iuf" or not bound > 0:
        raise ValueError(f"{fn}: clip must be a positive number (np.inf: no clipping), "
                         f"got {clip!r}")
    return inputs, targets, states, (Wxh, Whh, Why, bh, by), float(bound)


def _as_rows(inputs, state, Wxh, Whh, Why, bh, by):
    """The column layout as the batch-first functional layers take it (a batch of one):
    ``(x (1, T, V) one-hot, h0 (1, H), Wx (V, G*H), Wh (H, G*H), b (G*H,), w (H, V),
    b_out (V,))``."""
    V = Wxh.shape[1]
    x = np.eye(V, dtype=Wxh.dtype)[inputs][None]
    return x, state.T, Wxh.T, Whh.T, bh[:, 0], Why.T, by[:, 0]


def _as_columns(dWx, dWh, db, dw, db_out):
    """The functional layers' gradients in the column layout: ``(dWxh, dWhh, dWhy, dbh,
    dby)``."""
    return (np.ascontiguousarray(dWx.T), np.ascontiguousarray(dWh.T),
            np.ascontiguousarray(dw.T), db.reshape(-1, 1), db_out.reshape(-1, 1))


def _clipped(grads, clip: float) -> tuple:
    for grad in grads:
        np.clip(grad, -clip, clip, out=grad)
    return grads


def _scores_loss(h, w, b_out, targets):
    """``(loss, dh, dw, db_out)`` of the summed softmax cross-entropy of ``h w + b_out``."""
    scores, cache = temporal_affine_forward(h, w, b_out)
    mask = np.ones((1, targets.size), dtype=bool)
    loss, dscores = temporal_softmax_loss(scores, targets[None], mask)  # N = 1: summed
    dh, dw, db_out = temporal_affine_backward(dscores, cache)
    return loss, dh, dw, db_out


def char_rnn_loss(inputs, targets, hprev, Wxh, Whh, Why, bh, by, clip=5.0):
    """min-char-rnn's ``lossFun``: loss, gradients and last hidden state of one sequence.

    inputs, targets: (T,) character indices in ``[0, V)``.
    hprev:           (H, 1) hidden state before the first step.
    Wxh (H, V), Whh (H, H), Why (V, H), bh (H, 1), by (V, 1): the weights, columns as in
                     the module docstring.
    clip:            the gradients are clipped to ``[-clip, clip]`` after the sequence
                     (the original: 5; ``np.inf``: not clipped).

    Returns ``(loss, dWxh, dWhh, dWhy, dbh, dby, h_last)``: the loss summed over the T
    steps (a scalar of the weights' dtype), the clipped gradients of the weights'
    shapes and the last hidden state (H, 1).
    """
    inputs, targets, (hprev,), weights, clip = _checked(
        "char_rnn_loss", inputs, targets, (("hprev", hprev),), Wxh, Whh, Why, bh, by,
        clip, gates=1)
    x, h0, Wx, Wh, b, w, b_out = _as_rows(inputs, hprev, *weights)
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    loss, dh, dw, db_out = _scores_loss(h, w, b_out, targets)
    _, _, dWx, dWh, db = rnn_backward(dh, cache)
    grads = _clipped(_as_columns(dWx, dWh, db, dw, db_out), clip)
    return (loss, *grads, np.ascontiguousarray(h[0, -1][:, None]))


def char_lstm_loss(inputs, targets, hprev, cprev, Wxh, Whh, Why, bh, by, clip=5.0):
    """The LSTM port of min-char-rnn's ``lossFun``, its gates packed in one matrix.

    inputs, targets: (T,) character indices in ``[0, V)``.
    hprev, cprev:    (H, 1) hidden and cell state before the first step.
    Wxh (4H, V), Whh (4H, H), bh (4H, 1): gate blocks ``i, f, o, g`` along the first axis
                     (``i, f, o`` sigmoid, ``g`` tanh; ``c_t = f c_{t-1} + i g``,
                     ``h_t = o tanh(c_t)``).
    Why (V, H), by (V, 1): the output scores.
    clip:            as :func:`char_rnn_loss`.

    Returns ``(loss, dWxh, dWhh, dWhy, dbh, dby, h_last, c_last)``.
    """
    inputs, targets, (hprev, cprev), weights, clip = _checked(
        "char_lstm_loss", inputs, targets, (("hprev", hprev), ("cprev", cprev)), Wxh, Whh,
        Why, bh, by, clip, gates=4)
    x, h0, Wx, Wh, b, w, b_out = _as_rows(inputs, hprev, *weights)
    h, h_n, c_n, cache = lstm_stacked_forward(x, h0[None], cprev.T[None], Wx_l0=Wx,
                                              Wh_l0=Wh, b_l0=b)
    loss, dh, dw, db_out = _scores_loss(h, w, b_out, targets)
    _, _, _, dWx, dWh, db = lstm_stacked_backward(dh, np.zeros_like(h_n),
                                                  np.zeros_like(c_n), cache)
    grads = _clipped(_as_columns(dWx, dWh, db, dw, db_out), clip)
    return (loss, *grads, np.ascontiguousarray(h_n[0].T), np.ascontiguousarray(c_n[0].T))
