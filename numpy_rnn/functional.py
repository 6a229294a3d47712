"""The functional core: forward and backward passes of recurrent layers and losses.

Every layer is a pair ``*_forward(...) -> (out, cache)`` / ``*_backward(dout,
cache) -> grads``. Arrays are batch-first: ``x: (N, T, D)`` holds ``N`` sequences
of ``T`` timesteps of ``D`` features; ``H`` is the hidden size. An LSTM packs its
four gates along a ``4H`` axis in the order ``i, f, o, g`` (input, forget,
output, candidate) and starts its cell state at zero; a GRU packs ``r, z, n``
(reset, update, candidate) along a ``3H`` axis and has an input and a hidden bias.

Conventions shared by all functions:

* float32 and float64 both work and are preserved: every output, gradient and
  loss has the dtype of the float inputs (which must all share it).
* Inputs are never modified; outputs are new arrays.
* Every argument is validated (:mod:`numpy_rnn.core.validation`): bad shapes, mixed
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

The stacked and bidirectional networks (``rnn_stacked_forward`` ...,
:mod:`numpy_rnn.core.stacked`) compose the one-layer functions as ``torch.nn.RNN``,
``LSTM`` and ``GRU`` with ``num_layers`` and ``bidirectional`` do; their states
carry a leading ``L * directions`` axis and their weights are keyword arguments
named as torch names them (``Wx_l0``, ``Wh_l1_reverse`` ...). ``rnn_classifier_forward``
(:mod:`numpy_rnn.core.classifier`) reads the last step of a stacked RNN out through an
affine layer, as ``nn.RNN`` + ``nn.Linear`` on ``out[:, -1]``.

``char_rnn_loss`` and ``char_lstm_loss`` (:mod:`numpy_rnn.core.char_rnn`) are
min-char-rnn's ``lossFun`` and its LSTM port, in that script's own layout (columns,
features first, one sequence of character indices), composed from the layers above.
"""
from __future__ import annotations

from numpy_rnn.core.affine import (
    affine_backward,
    affine_forward,
    temporal_affine_backward,
    temporal_affine_forward,
)
from numpy_rnn.core.char_rnn import char_lstm_loss, char_rnn_loss
from numpy_rnn.core.classifier import rnn_classifier_backward, rnn_classifier_forward
from numpy_rnn.core.embedding import word_embedding_backward, word_embedding_forward
from numpy_rnn.core.gru import gru_backward, gru_forward, gru_step_backward, gru_step_forward
from numpy_rnn.core.losses import log_softmax, mse_loss, softmax, temporal_softmax_loss
from numpy_rnn.core.lstm import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    sigmoid,
)
from numpy_rnn.core.rnn import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward
from numpy_rnn.core.stacked import (
    gru_stacked_backward,
    gru_stacked_forward,
    lstm_stacked_backward,
    lstm_stacked_forward,
    rnn_stacked_backward,
    rnn_stacked_forward,
    stacked_weight_names,
)

__all__ = [
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward", "sigmoid",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
    "affine_forward", "affine_backward", "mse_loss", "softmax", "log_softmax",
    "rnn_stacked_forward", "rnn_stacked_backward", "lstm_stacked_forward",
    "lstm_stacked_backward", "gru_stacked_forward", "gru_stacked_backward",
    "stacked_weight_names", "rnn_classifier_forward", "rnn_classifier_backward",
    "char_rnn_loss", "char_lstm_loss",
]
