"""Where NumPy parameters live in ``torch.nn`` modules, and back.

This module is the only place that knows the layout differences. Every other
module builds torch modules and reads their gradients through it.

=====================  ==========================  ==================================
NumPy (this project)   torch                       rule
=====================  ==========================  ==================================
RNN ``Wx (D, H)``      ``weight_ih_l0 (H, D)``     transpose
RNN ``Wh (H, H)``      ``weight_hh_l0 (H, H)``     transpose
RNN ``b (H,)``         ``bias_ih_l0``              ``bias_hh_l0`` = 0 (its gradient
                                                   equals ``bias_ih``'s; unused)
LSTM ``Wx (D, 4H)``    ``weight_ih_l0 (4H, D)``    transpose, then gate blocks
                                                   ``i, f, o, g`` -> ``i, f, g, o``
LSTM ``Wh (H, 4H)``    ``weight_hh_l0 (4H, H)``    same
LSTM ``b (4H,)``       ``bias_ih_l0``              reorder; ``bias_hh_l0`` = 0
cell state ``c0``      ``(h0, c0)``                ``lstm_forward`` starts at ``c0 = 0``
``h0 (N, H)``          ``h0 (1, N, H)``            a leading ``num_layers`` axis
``x (N, T, D)``        ``batch_first=True``        same memory order
Embedding ``W (V,D)``  ``nn.Embedding.weight``     identical
affine ``w (D, M)``    ``nn.Linear.weight (M, D)`` transpose
=====================  ==========================  ==================================

Cells (``nn.RNNCell``, ``nn.LSTMCell``) use the same parameter names without the
``_l0`` suffix and take ``h`` as ``(N, H)``.
"""
from __future__ import annotations

import numpy as np

try:  # the gate-order facts below are needed without torch too (reports, fixtures)
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - exercised in the numpy-only tox envs
    torch = nn = None

# NumPy gate order along the 4H axis, and torch's.
NUMPY_GATES = ("i", "f", "o", "g")
TORCH_GATES = ("i", "f", "g", "o")


def torch_dtype(dtype):
    """The torch dtype for a NumPy float dtype (float32 or float64)."""
    if torch is None:
        raise ImportError("torch is required for the reference runs: pip install numpy-rnn[torch]")
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        return torch.float64
    if dtype == np.float32:
        return torch.float32
    raise ValueError(f"dtype must be float32 or float64, got {dtype}")


def tensor(array, requires_grad=False):
    """A torch tensor holding a copy of ``array`` (same dtype)."""
    t = torch.from_numpy(np.array(array, copy=True))
    if requires_grad:
        t.requires_grad_(True)
    return t


def to_numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _gate_permutation(hidden_size: int, source, target) -> np.ndarray:
    """Row indices that reorder 4H gate blocks from ``source`` to ``target`` order."""
    blocks = [np.arange(source.index(g) * hidden_size, (source.index(g) + 1) * hidden_size)
              for g in target]
    return np.concatenate(blocks)


def lstm_to_torch_order(array, hidden_size: int, axis: int = 0) -> np.ndarray:
    """Reorder gate blocks ``i, f, o, g`` -> ``i, f, g, o`` along ``axis``."""
    perm = _gate_permutation(hidden_size, NUMPY_GATES, TORCH_GATES)
    return np.take(array, perm, axis=axis)


def lstm_from_torch_order(array, hidden_size: int, axis: int = 0) -> np.ndarray:
    """Reorder gate blocks ``i, f, g, o`` -> ``i, f, o, g`` along ``axis``."""
    perm = _gate_permutation(hidden_size, TORCH_GATES, NUMPY_GATES)
    return np.take(array, perm, axis=axis)


def gate_of(index_along_gate_axis: int, hidden_size: int) -> str:
    """Name of the NumPy gate block (``i``/``f``/``o``/``g``) holding an index of a 4H axis."""
    return NUMPY_GATES[int(index_along_gate_axis) // int(hidden_size)]


def _set(param, value) -> None:
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def _recurrent_torch_weights(Wx, Wh, b, gated: bool):
    """NumPy ``(Wx, Wh, b)`` -> torch ``(weight_ih, weight_hh, bias_ih, bias_hh)``."""
    w_ih, w_hh, b_ih = np.asarray(Wx).T, np.asarray(Wh).T, np.asarray(b)
    if gated:
        hidden = np.asarray(Wh).shape[0]
        w_ih = lstm_to_torch_order(w_ih, hidden)
        w_hh = lstm_to_torch_order(w_hh, hidden)
        b_ih = lstm_to_torch_order(b_ih, hidden)
    return w_ih, w_hh, b_ih, np.zeros_like(b_ih)


def _load_recurrent(module, Wx, Wh, b, gated: bool, suffix: str):
    w_ih, w_hh, b_ih, b_hh = _recurrent_torch_weights(Wx, Wh, b, gated)
    _set(getattr(module, "weight_ih" + suffix), w_ih)
    _set(getattr(module, "weight_hh" + suffix), w_hh)
    _set(getattr(module, "bias_ih" + suffix), b_ih)
    _set(getattr(module, "bias_hh" + suffix), b_hh)
    return module


def _recurrent_grads(module, gated: bool, suffix: str):
    """Gradients of a torch recurrent module in NumPy layout: ``(dWx, dWh, db)``."""
    d_ih = to_numpy(getattr(module, "weight_ih" + suffix).grad).T
    d_hh = to_numpy(getattr(module, "weight_hh" + suffix).grad).T
    d_b = to_numpy(getattr(module, "bias_ih" + suffix).grad)
    if gated:
        hidden = d_hh.shape[0]
        d_ih = lstm_from_torch_order(d_ih, hidden, axis=1)
        d_hh = lstm_from_torch_order(d_hh, hidden, axis=1)
        d_b = lstm_from_torch_order(d_b, hidden)
    return d_ih, d_hh, d_b


def make_rnn(Wx, Wh, b, batch_first=True):
    """``nn.RNN`` (tanh, one layer) holding NumPy ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``."""
    D, H = np.shape(Wx)
    module = nn.RNN(D, H, nonlinearity="tanh", batch_first=batch_first,
                    dtype=torch_dtype(np.asarray(Wx).dtype))
    return _load_recurrent(module, Wx, Wh, b, gated=False, suffix="_l0")


def make_rnn_cell(Wx, Wh, b):
    D, H = np.shape(Wx)
    module = nn.RNNCell(D, H, nonlinearity="tanh", dtype=torch_dtype(np.asarray(Wx).dtype))
    return _load_recurrent(module, Wx, Wh, b, gated=False, suffix="")


def make_lstm(Wx, Wh, b, batch_first=True):
    """``nn.LSTM`` holding NumPy ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)`` (gates i,f,o,g)."""
    D, H = np.shape(Wx)[0], np.shape(Wh)[0]
    module = nn.LSTM(D, H, batch_first=batch_first, dtype=torch_dtype(np.asarray(Wx).dtype))
    return _load_recurrent(module, Wx, Wh, b, gated=True, suffix="_l0")


def make_lstm_cell(Wx, Wh, b):
    D, H = np.shape(Wx)[0], np.shape(Wh)[0]
    module = nn.LSTMCell(D, H, dtype=torch_dtype(np.asarray(Wx).dtype))
    return _load_recurrent(module, Wx, Wh, b, gated=True, suffix="")


def recurrent_grads(module):
    """``(dWx, dWh, db)`` in NumPy layout from any module built by ``make_*`` above."""
    gated = isinstance(module, (nn.LSTM, nn.LSTMCell))
    suffix = "_l0" if isinstance(module, (nn.RNN, nn.LSTM)) else ""
    return _recurrent_grads(module, gated, suffix)


def make_embedding(W):
    """``nn.Embedding`` whose weight is NumPy ``W (V, D)``."""
    V, D = np.shape(W)
    module = nn.Embedding(V, D, dtype=torch_dtype(np.asarray(W).dtype))
    _set(module.weight, W)
    return module


def embedding_grad(module) -> np.ndarray:
    return to_numpy(module.weight.grad)


def make_linear(w, b):
    """``nn.Linear`` computing ``x @ w + b`` for NumPy ``w (D, M)``, ``b (M,)``."""
    D, M = np.shape(w)
    module = nn.Linear(D, M, dtype=torch_dtype(np.asarray(w).dtype))
    _set(module.weight, np.asarray(w).T)
    _set(module.bias, b)
    return module


def linear_grads(module):
    """``(dw (D, M), db (M,))`` in NumPy layout."""
    return to_numpy(module.weight.grad).T, to_numpy(module.bias.grad)


def initial_state(h0):
    """NumPy ``h0 (N, H)`` as torch's ``(num_layers=1, N, H)`` leaf tensor."""
    return tensor(np.asarray(h0)[None], requires_grad=True)
