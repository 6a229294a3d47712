"""numpy_rnn: recurrent layers with hand-written backward passes, in NumPy.

The numerical core is :mod:`numpy_rnn.functional`: forward/backward pairs for the
vanilla RNN, the LSTM and the GRU (one step and whole sequences), word embedding, affine
and temporal affine layers, the masked temporal softmax cross-entropy and the
mean squared error. :mod:`numpy_rnn.layers` wraps them in classes holding
``params`` and ``grads``; :class:`LanguageModel` stacks them into a word-level
language model that :class:`SGD` and :class:`Adam` train;
:mod:`numpy_rnn.core.gradcheck` has the numerical gradient checks. Arrays are
batch-first (``x: (N, T, D)``) in float64 or float32.

Only NumPy is required; matplotlib and tqdm are optional and imported lazily.
"""

__version__ = "0.1.0"

from numpy_rnn import functional, layers
from numpy_rnn.core import gradcheck
from numpy_rnn.core.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)
from numpy_rnn.functional import (
    affine_backward,
    affine_forward,
    char_lstm_loss,
    char_rnn_loss,
    gru_backward,
    gru_forward,
    gru_stacked_backward,
    gru_stacked_forward,
    gru_step_backward,
    gru_step_forward,
    log_softmax,
    lstm_backward,
    lstm_forward,
    lstm_stacked_backward,
    lstm_stacked_forward,
    lstm_step_backward,
    lstm_step_forward,
    mse_loss,
    rnn_backward,
    rnn_forward,
    rnn_stacked_backward,
    rnn_stacked_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
    softmax,
    stacked_weight_names,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)
from numpy_rnn.layers import GRU, LSTM, RNN, Affine, TemporalAffine, WordEmbedding
from numpy_rnn.lm.model import LanguageModel
from numpy_rnn.optim import SGD, Adam

__all__ = [
    "__version__", "functional", "layers", "gradcheck",
    "RNN", "LSTM", "GRU", "WordEmbedding", "TemporalAffine", "Affine",
    "LanguageModel", "SGD", "Adam",
    "rel_error", "eval_numerical_gradient", "eval_numerical_gradient_array",
    "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
    "word_embedding_forward", "word_embedding_backward", "sigmoid",
    "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss",
    "affine_forward", "affine_backward", "mse_loss", "softmax", "log_softmax",
    "rnn_stacked_forward", "rnn_stacked_backward", "lstm_stacked_forward",
    "lstm_stacked_backward", "gru_stacked_forward", "gru_stacked_backward",
    "stacked_weight_names", "char_rnn_loss", "char_lstm_loss",
]
