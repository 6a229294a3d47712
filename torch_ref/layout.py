"""Where NumPy parameters live in ``torch.nn`` modules, and back.

This module is the only place that knows the layout differences. Every other
module builds torch modules and reads their gradients through it. The recurrent
cells are data (:data:`CELLS`): their gate blocks in NumPy and torch order, each
gate's activation, and which NumPy bias feeds torch's ``bias_ih`` and ``bias_hh``.

=====================  ==========================  ==================================
NumPy (this project)   torch                       rule
=====================  ==========================  ==================================
RNN ``Wx (D, H)``      ``weight_ih_l0 (H, D)``     transpose
RNN ``Wh (H, H)``      ``weight_hh_l0 (H, H)``     transpose
RNN ``b (H,)``         ``bias_ih_l0``              ``bias_hh_l0`` = 0 (its gradient
                                                   equals ``bias_ih``'s; not trained)
LSTM ``Wx (D, 4H)``    ``weight_ih_l0 (4H, D)``    transpose, then gate blocks
                                                   ``i, f, o, g`` -> ``i, f, g, o``
LSTM ``Wh (H, 4H)``    ``weight_hh_l0 (4H, H)``    same
LSTM ``b (4H,)``       ``bias_ih_l0``              reorder; ``bias_hh_l0`` = 0
GRU ``Wx (D, 3H)``     ``weight_ih_l0 (3H, D)``    transpose; gates ``r, z, n`` in both
GRU ``Wh (H, 3H)``     ``weight_hh_l0 (3H, H)``    transpose
GRU ``bx, bh (3H,)``   ``bias_ih_l0, bias_hh_l0``  identical (``r`` scales ``bh_n``)
cell state ``c0``      ``(h0, c0)``                ``lstm_forward`` starts at ``c0 = 0``
``h0 (N, H)``          ``h0 (1, N, H)``            a leading ``num_layers`` axis
``x (N, T, D)``        ``batch_first=True``        same memory order
Embedding ``W (V,D)``  ``nn.Embedding.weight``     identical
affine ``w (D, M)``    ``nn.Linear.weight (M, D)`` transpose
=====================  ==========================  ==================================

Cells (``nn.RNNCell``, ``nn.LSTMCell``, ``nn.GRUCell``) use the same parameter
names without the ``_l0`` suffix and take ``h`` as ``(N, H)``. Weights are copied
with their shapes checked: a weight of the wrong shape is a ``ValueError`` naming
it, never broadcast.

Stacked and bidirectional networks (``numpy_rnn.functional.lstm_stacked_forward`` ...,
``numpy_rnn.LSTM(D, H, num_layers=L, bidirectional=True)``) map onto one module
``nn.RNN/LSTM/GRU(D, H, num_layers=L, bidirectional=..., batch_first=True)``, each
layer and direction by the rules above (:data:`TORCH_WEIGHTS`):

==========================  ===============================  ============================
NumPy (this project)        torch                            rule
==========================  ===============================  ============================
``Wx_l{k}``, ``Wh_l{k}``    ``weight_ih_l{k}``,              as ``Wx``, ``Wh`` above;
                            ``weight_hh_l{k}``               ``Wx_l{k}`` for k > 0 is
                                                             ``(dirs*H, G*H)``
``b_l{k}``                  ``bias_ih_l{k}``                 as ``b``; ``bias_hh_l{k}`` = 0
``bx_l{k}``, ``bh_l{k}``    ``bias_ih_l{k}, bias_hh_l{k}``   as ``bx``, ``bh``
``<name>_reverse``          ``<torch name>_reverse``         the reverse direction
``h0, c0 (L*dirs, N, H)``   ``(h0, c0)``                     identical: index
                                                             ``layer * dirs + direction``
``h (N, T, dirs*H)``        output                           identical: ``[forward,
                                                             reverse]`` on the last axis
``h_n, c_n (L*dirs, N, H)`` ``(h_n, c_n)``                   identical
==========================  ===============================  ============================
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from numpy_rnn.core.validation import ArgChecker

try:  # the gate facts below are needed without torch too (reports, fixtures)
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - exercised in the numpy-only tox envs
    torch = nn = None


@dataclass(frozen=True)
class Cell:
    """How one recurrent cell is laid out in NumPy and in torch.

    name:         ``"rnn"``, ``"lstm"``, ``"gru"``.
    gates:        gate blocks along the NumPy gate axis (size ``len(gates) * H``).
    torch_gates:  the same blocks in torch's order.
    activations:  each NumPy gate's nonlinearity, in ``gates`` order.
    biases:       the NumPy bias arguments, in call order.
    torch_biases: ``bias_ih``'s and ``bias_hh``'s NumPy source; ``None`` means
                  held at zero and not trained (its gradient equals the other's):
                  :func:`numpy_parameters` leaves it out.
    module:       the ``torch.nn`` sequence module; ``module + "Cell"`` is the cell.
    cell_state:   whether torch carries ``(h, c)``; the NumPy sequence functions
                  start ``c`` at zero.
    options:      keyword arguments both torch modules need, as pairs.
    """

    name: str
    gates: tuple
    torch_gates: tuple
    activations: tuple
    biases: tuple
    torch_biases: tuple
    module: str
    cell_state: bool = False
    options: tuple = ()

    @property
    def width(self) -> int:
        """Gate blocks per hidden unit: the ``G`` of a ``(D, G*H)`` weight."""
        return len(self.gates)

    def gate_of(self, index: int, hidden_size: int) -> str:
        """Name of the NumPy gate block holding an index of the gate axis."""
        return self.gates[int(index) // int(hidden_size)]


CELLS = {cell.name: cell for cell in (
    Cell("rnn", ("h",), ("h",), ("tanh",), ("b",), ("b", None), "RNN",
         options=(("nonlinearity", "tanh"),)),
    Cell("lstm", ("i", "f", "o", "g"), ("i", "f", "g", "o"),
         ("sigmoid", "sigmoid", "sigmoid", "tanh"), ("b",), ("b", None), "LSTM",
         cell_state=True),
    Cell("gru", ("r", "z", "n"), ("r", "z", "n"), ("sigmoid", "sigmoid", "tanh"),
         ("bx", "bh"), ("bx", "bh"), "GRU"),
)}

# NumPy weight name -> torch's parameter name, before the ``_l{k}[_reverse]`` suffix (the
# biases follow each cell's ``torch_biases``)
TORCH_WEIGHTS = {"Wx": "weight_ih", "Wh": "weight_hh"}

# The LSTM's gate orders, which the documents and reports name.
NUMPY_GATES = CELLS["lstm"].gates
TORCH_GATES = CELLS["lstm"].torch_gates


def torch_dtype(dtype):
    """The torch dtype for a NumPy float dtype (float32 or float64)."""
    if torch is None:
        raise ImportError("torch is required for the reference runs: pip install -e '.[torch]'")
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


# ---- gate order -------------------------------------------------------------------

def _gate_permutation(hidden_size: int, source, target) -> np.ndarray:
    """Indices that reorder gate blocks from ``source`` to ``target`` order."""
    blocks = [np.arange(source.index(g) * hidden_size, (source.index(g) + 1) * hidden_size)
              for g in target]
    return np.concatenate(blocks)


def to_torch_order(cell: Cell, array, hidden_size: int, axis: int = 0) -> np.ndarray:
    """Reorder ``cell``'s gate blocks from NumPy to torch order along ``axis``."""
    if cell.gates == cell.torch_gates:
        return np.asarray(array)
    return np.take(array, _gate_permutation(hidden_size, cell.gates, cell.torch_gates), axis)


def from_torch_order(cell: Cell, array, hidden_size: int, axis: int = 0) -> np.ndarray:
    """Reorder ``cell``'s gate blocks from torch to NumPy order along ``axis``."""
    if cell.gates == cell.torch_gates:
        return np.asarray(array)
    return np.take(array, _gate_permutation(hidden_size, cell.torch_gates, cell.gates), axis)


def reorder_gates(cell: Cell, array, hidden_size: int, order, axis: int = -1) -> np.ndarray:
    """``cell``'s gate blocks of ``array`` taken in ``order`` (indices into ``cell.gates``)
    along ``axis``: the weights as code that packs the gates in another order reads them."""
    target = [cell.gates[k] for k in order]
    return np.take(array, _gate_permutation(hidden_size, cell.gates, target), axis)


def lstm_to_torch_order(array, hidden_size: int, axis: int = 0) -> np.ndarray:
    """Reorder gate blocks ``i, f, o, g`` -> ``i, f, g, o`` along ``axis``."""
    return to_torch_order(CELLS["lstm"], array, hidden_size, axis)


def lstm_from_torch_order(array, hidden_size: int, axis: int = 0) -> np.ndarray:
    """Reorder gate blocks ``i, f, g, o`` -> ``i, f, o, g`` along ``axis``."""
    return from_torch_order(CELLS["lstm"], array, hidden_size, axis)


def gate_of(index_along_gate_axis: int, hidden_size: int, cell: str = "lstm") -> str:
    """Name of the NumPy gate block holding an index of a gate axis (LSTM by default)."""
    return CELLS[cell].gate_of(index_along_gate_axis, hidden_size)


# ---- weights in and out of torch modules -----------------------------------------

def _set(param, value, name: str) -> None:
    value = np.ascontiguousarray(value)
    if tuple(param.shape) != value.shape:  # copy_ would broadcast
        raise ValueError(f"{name} must have shape {tuple(param.shape)}, got {value.shape}")
    with torch.no_grad():
        param.copy_(torch.from_numpy(value))


def _checked_weights(fn: str, cell: Cell, Wx, Wh, biases):
    """``(Wx, Wh, {bias name: array})`` with every shape checked against ``cell``."""
    if len(biases) != len(cell.biases):
        raise ValueError(f"{fn}: takes biases {', '.join(cell.biases)}, got {len(biases)}")
    chk = ArgChecker(fn)
    gate_axis = f"{cell.width}H" if cell.width > 1 else "H"
    Wx = chk.float_array("Wx", Wx, ("D", gate_axis), finite=False)
    Wh = chk.float_array("Wh", Wh, ("H", gate_axis), finite=False)
    named = {name: chk.float_array(name, b, (gate_axis,), finite=False)
             for name, b in zip(cell.biases, biases, strict=True)}
    return Wx, Wh, named


def _copy_direction(module, cell: Cell, suffix: str, Wx, Wh, named: dict, names=None) -> None:
    """Copy one layer and direction's NumPy weights into ``module``'s parameters ending in
    ``suffix``; ``names`` maps ``Wx``/``Wh``/each bias to the name a message uses."""
    names = names or {}
    H = Wh.shape[0]
    for key, value in (("Wx", Wx), ("Wh", Wh)):
        _set(getattr(module, TORCH_WEIGHTS[key] + suffix), to_torch_order(cell, value.T, H),
             names.get(key, key))
    for side, source in zip(("bias_ih", "bias_hh"), cell.torch_biases, strict=True):
        param = getattr(module, side + suffix)
        if source is None:
            _set(param, np.zeros(cell.width * H, dtype=Wx.dtype), side)
        else:
            _set(param, to_torch_order(cell, named[source], H), names.get(source, source))


def _direction_grads(module, cell: Cell, suffix: str) -> tuple:
    """``(dWx, dWh, *dbiases)`` in NumPy layout of one layer and direction of ``module``."""
    grad = {key: to_numpy(getattr(module, name + suffix).grad)
            for key, name in TORCH_WEIGHTS.items()}
    H = grad["Wh"].shape[1]
    out = [from_torch_order(cell, grad["Wx"].T, H, axis=1),
           from_torch_order(cell, grad["Wh"].T, H, axis=1)]
    sources = dict(zip(cell.torch_biases, ("bias_ih", "bias_hh"), strict=True))
    for name in cell.biases:
        out.append(from_torch_order(cell, to_numpy(getattr(module, sources[name] + suffix).grad),
                                    H))
    return tuple(out)


def make_recurrent(cell, Wx, Wh, *biases, step: bool = False, batch_first: bool = True):
    """A one-layer ``torch.nn`` recurrent module holding NumPy weights.

    cell:   a :class:`Cell` or its name.
    Wx:     (D, G*H) input-to-hidden weights, NumPy gate order.
    Wh:     (H, G*H) hidden-to-hidden weights.
    biases: ``cell.biases`` in order, each (G*H,).
    step:   the ``*Cell`` module (one timestep) rather than the sequence module.
    """
    cell = CELLS[cell] if isinstance(cell, str) else cell
    kind = cell.module + ("Cell" if step else "")
    fn = f"make_{cell.name}" + ("_cell" if step else "")
    Wx, Wh, named = _checked_weights(fn, cell, Wx, Wh, biases)
    D, H = Wx.shape[0], Wh.shape[0]
    options = dict(cell.options) if step else dict(cell.options, batch_first=batch_first)
    module = getattr(nn, kind)(D, H, dtype=torch_dtype(Wx.dtype), **options)
    _copy_direction(module, cell, "" if step else "_l0", Wx, Wh, named)
    return module


def cell_of(module) -> Cell:
    """The :class:`Cell` of a module built by :func:`make_recurrent`."""
    kind = type(module).__name__
    for cell in CELLS.values():
        if kind in (cell.module, cell.module + "Cell"):
            return cell
    raise ValueError(f"not a recurrent module of this layout: {kind}")


def numpy_parameters(module) -> list:
    """The parameters of a module from :func:`make_recurrent` that hold NumPy arrays (what
    an optimiser trains): all but a bias held at zero."""
    cell = cell_of(module)
    suffix = "_l0" if hasattr(module, "weight_ih_l0") else ""
    zero = {side + suffix for side, source in zip(("bias_ih", "bias_hh"), cell.torch_biases,
                                                  strict=True) if source is None}
    return [p for name, p in module.named_parameters() if name not in zero]


def recurrent_grads(module):
    """``(dWx, dWh, *dbiases)`` in NumPy layout from a module built by :func:`make_recurrent`."""
    return _direction_grads(module, cell_of(module),
                            "_l0" if hasattr(module, "weight_ih_l0") else "")


# ---- stacked and bidirectional networks ----------------------------------------------

def _stacked_names(cell: Cell, weights) -> tuple:
    """``(num_layers, bidirectional, names)`` that the NumPy weight names describe, the
    names in :func:`numpy_rnn.functional.stacked_weight_names` order; a name missing or
    unknown is a ``ValueError`` naming it."""
    from numpy_rnn.functional import stacked_weight_names

    found = [re.fullmatch(r"[A-Za-z]+_l([0-9]+)(_reverse)?", name) for name in weights]
    layers = 1 + max((int(m[1]) for m in found if m), default=0)
    bidirectional = any(m[2] for m in found if m)
    names = stacked_weight_names(cell.name, layers, bidirectional)
    missing = [n for n in names if n not in weights]
    unknown = [n for n in weights if n not in names]
    if missing or unknown:
        raise ValueError(f"stacked {cell.name} weights: missing {missing}, unknown {unknown} "
                         f"for {layers} layer(s), bidirectional={bidirectional}")
    return layers, bidirectional, names


def _direction_suffix(name: str) -> str:
    """``"Wx_l1_reverse"`` -> ``"_l1_reverse"``."""
    return name[name.index("_l"):]


def make_stacked(cell, weights: dict, batch_first: bool = True):
    """A stacked (and bidirectional, when the names say so) ``torch.nn`` recurrent module
    holding NumPy weights.

    cell:    a :class:`Cell` or its name.
    weights: NumPy name -> array, ``Wx_l{k}``, ``Wh_l{k}`` and the cell's biases ``_l{k}``,
             each also ``_reverse`` for a bidirectional network; the number of layers and
             directions follows from the names.
    Returns ``nn.RNN/LSTM/GRU(D, H, num_layers, bidirectional=..., batch_first=...)``.
    """
    cell = CELLS[cell] if isinstance(cell, str) else cell
    layers, bidirectional, names = _stacked_names(cell, weights)
    per_direction = 2 + len(cell.biases)
    D = np.shape(weights["Wx_l0"])[0]
    H = np.shape(weights["Wh_l0"])[0]
    module = getattr(nn, cell.module)(D, H, num_layers=layers, bidirectional=bidirectional,
                                      dtype=torch_dtype(np.asarray(weights["Wx_l0"]).dtype),
                                      batch_first=batch_first, **dict(cell.options))
    for start in range(0, len(names), per_direction):
        group = names[start:start + per_direction]
        suffix = _direction_suffix(group[0])
        Wx, Wh, named = _checked_weights(f"make_stacked {cell.name} {suffix[1:]}", cell,
                                         *(weights[n] for n in group[:2]),
                                         tuple(weights[n] for n in group[2:]))
        _copy_direction(module, cell, suffix, Wx, Wh, named,
                        dict(zip(("Wx", "Wh", *cell.biases), group, strict=True)))
    return module


def stacked_grads(module) -> dict:
    """NumPy weight name (``Wx_l0`` ... ``b_l2_reverse``) -> its gradient in NumPy layout,
    from a module built by :func:`make_stacked`."""
    from numpy_rnn.functional import stacked_weight_names

    cell = cell_of(module)
    names = stacked_weight_names(cell.name, module.num_layers, module.bidirectional)
    per_direction = 2 + len(cell.biases)
    grads = {}
    for start in range(0, len(names), per_direction):
        group = names[start:start + per_direction]
        grads.update(zip(group, _direction_grads(module, cell, _direction_suffix(group[0])),
                         strict=True))
    return grads


def stacked_state(state):
    """NumPy ``h0``/``c0 (L*dirs, N, H)`` as torch's leaf tensor: the same axes."""
    return tensor(np.asarray(state), requires_grad=True)


def zero_state(module, batch: int, dtype):
    """A zero initial hidden state ``(1, N, H)`` for a module from :func:`make_recurrent`."""
    return torch.zeros(1, batch, module.hidden_size, dtype=dtype)


def start_state(module, h):
    """The state a module from :func:`make_recurrent` starts from, given the hidden state
    ``h``: ``(h, zeros)`` for a cell with a cell state (the NumPy functions start ``c`` at
    zero), else ``h``."""
    return (h, torch.zeros_like(h)) if cell_of(module).cell_state else h


def run_sequence(module, x, h0=None):
    """Run a module from :func:`make_recurrent` as the NumPy sequence functions run.

    x: (N, T, D) tensor; h0: (1, N, H) tensor, or None for zeros. A cell state starts
    at zero, as ``lstm_forward``'s does. Returns h (N, T, H).
    """
    if h0 is None:
        h0 = zero_state(module, x.shape[0], x.dtype)
    h, _ = module(x, start_state(module, h0))
    return h


def make_rnn(Wx, Wh, b, batch_first=True):
    """``nn.RNN`` (tanh, one layer) holding NumPy ``Wx (D, H)``, ``Wh (H, H)``, ``b (H,)``."""
    return make_recurrent("rnn", Wx, Wh, b, batch_first=batch_first)


def make_rnn_cell(Wx, Wh, b):
    return make_recurrent("rnn", Wx, Wh, b, step=True)


def make_lstm(Wx, Wh, b, batch_first=True):
    """``nn.LSTM`` holding NumPy ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)`` (gates i,f,o,g)."""
    return make_recurrent("lstm", Wx, Wh, b, batch_first=batch_first)


def make_lstm_cell(Wx, Wh, b):
    return make_recurrent("lstm", Wx, Wh, b, step=True)


def make_embedding(W):
    """``nn.Embedding`` whose weight is NumPy ``W (V, D)``."""
    V, D = np.shape(W)
    module = nn.Embedding(V, D, dtype=torch_dtype(np.asarray(W).dtype))
    _set(module.weight, W, "W")
    return module


def embedding_grad(module) -> np.ndarray:
    return to_numpy(module.weight.grad)


def make_linear(w, b):
    """``nn.Linear`` computing ``x @ w + b`` for NumPy ``w (D, M)``, ``b (M,)``."""
    D, M = np.shape(w)
    module = nn.Linear(D, M, dtype=torch_dtype(np.asarray(w).dtype))
    _set(module.weight, np.asarray(w).T, "w transposed")
    _set(module.bias, b, "b")
    return module


def linear_grads(module):
    """``(dw (D, M), db (M,))`` in NumPy layout."""
    return to_numpy(module.weight.grad).T, to_numpy(module.bias.grad)


def initial_state(h0):
    """NumPy ``h0 (N, H)`` as torch's ``(num_layers=1, N, H)`` leaf tensor."""
    return tensor(np.asarray(h0)[None], requires_grad=True)


# ---- course layouts ------------------------------------------------------------------
# How the courses that ``verify --module`` speaks store what the functional API calls
# ``Wx (D, gH)``, ``Wh (H, gH)``, ``b (gH,)`` (gates ``i, f, o, g`` for an LSTM):
#
# ========  ===================================  ==========================================
# course    weights                              rule
# ========  ===================================  ==========================================
# dlai      ``Wax (H, D)``, ``Waa (H, H)``,      transpose; features first: ``x (D, N, T)``,
#           ``ba (H, 1)``                        ``a (H, N)``
# dlai      ``Wf, Wi, Wc, Wo (H, H + D)``        one matrix per gate on ``[a_prev; xt]``
#           ``bf, bi, bc, bo (H, 1)``            (hidden rows first); ``c`` is gate ``g``
# dlfs2     ``Wx (D, 4H)``, ``Wh``, ``b``        gate blocks ``f, g, i, o``
# dlfs2     GRU ``Wx (D, 3H)``, ``Wh``, ``b``    blocks ``z, r, h~``, reset before the hidden
#                                                product, ``h' = (1 - z) h + z h~``: its
#                                                ``z`` is NumPy's ``1 - z``, so that block
#                                                is negated; ``b`` is ``bx + bh``
# hw3 2020  GRU ``Wx (D, 2H)``, ``Wh``, ``b``    blocks ``z, r`` (torch's sense of ``z``),
#           and ``Wxi (D, H)``, ``Whi``, ``bi``  the candidate apart, reset before the
#                                                hidden product; ``b`` is ``bx + bh``
# mytorch   GRU ``Wrx (H, D)`` ... ``Wnh``,      one transposed block each; biases
#           ``brx`` ... ``bnh`` (``bir`` ...)    ``bx = [brx, bzx, bnx]``, ``bh = [brh ...]``
# mytorch   ``W_ih (H, D)``, ``W_hh (H, H)``,    transpose; the functional ``b`` is
#           ``b_ih (H,)``, ``b_hh (H,)``         ``b_ih + b_hh``
# ========  ===================================  ==========================================

DLAI_LSTM_GATES = {"f": "f", "i": "i", "c": "g", "o": "o"}  # dlai name -> NumPy gate
DLFS2_LSTM_GATES = ("f", "g", "i", "o")


def gate_block(array, gate: str, hidden_size: int, axis: int = -1) -> np.ndarray:
    """The block of NumPy gate ``gate`` (``i``/``f``/``o``/``g``) along a 4H ``axis``."""
    k = NUMPY_GATES.index(gate)
    return np.take(array, np.arange(k * hidden_size, (k + 1) * hidden_size), axis=axis)


def dlai_lstm_parameters(Wx, Wh, b) -> dict:
    """NumPy ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)`` -> dlai ``Wf (H, H + D)``, ``bf
    (H, 1)`` ... for ``concat = [a_prev; xt]``."""
    H = np.shape(Wh)[0]
    parameters = {}
    for name, gate in DLAI_LSTM_GATES.items():
        parameters["W" + name] = np.concatenate(
            [gate_block(Wh, gate, H).T, gate_block(Wx, gate, H).T], axis=1)
        parameters["b" + name] = gate_block(b, gate, H).reshape(H, 1)
    return parameters


def dlai_lstm_grads(grads: dict, D: int, H: int):
    """dlai ``dWf (H, H + D)``, ``dbf (H, 1)`` ... -> NumPy ``(dWx (D, 4H), dWh, db)``."""
    order = {gate: name for name, gate in DLAI_LSTM_GATES.items()}
    dW = [np.asarray(grads["dW" + order[g]]) for g in NUMPY_GATES]
    db = [np.asarray(grads["db" + order[g]]).reshape(-1) for g in NUMPY_GATES]
    return (np.concatenate([w[:, H:].T for w in dW], axis=1),
            np.concatenate([w[:, :H].T for w in dW], axis=1), np.concatenate(db))


def to_dlfs2_lstm(array, hidden_size: int, axis: int = -1) -> np.ndarray:
    """Gate blocks ``i, f, o, g`` -> ``f, g, i, o`` along ``axis``."""
    perm = _gate_permutation(hidden_size, NUMPY_GATES, DLFS2_LSTM_GATES)
    return np.take(array, perm, axis=axis)


def from_dlfs2_lstm(array, hidden_size: int, axis: int = -1) -> np.ndarray:
    """Gate blocks ``f, g, i, o`` -> ``i, f, o, g`` along ``axis``."""
    perm = _gate_permutation(hidden_size, DLFS2_LSTM_GATES, NUMPY_GATES)
    return np.take(array, perm, axis=axis)


def to_dlfs2_gru_blocks(array) -> np.ndarray:
    """Gate blocks ``r, z, n`` -> the book's ``z, r, h~`` along the last axis (no sign)."""
    H = np.shape(array)[-1] // 3
    order = np.concatenate([np.arange(H, 2 * H), np.arange(H), np.arange(2 * H, 3 * H)])
    return np.take(array, order, axis=-1)


def to_dlfs2_gru(Wx, Wh, bx, bh):
    """NumPy GRU weights (``r, z, n``; reset before) -> dlfs2 ``(Wx, Wh, b)`` (``z, r, h~``)."""
    H = np.shape(Wh)[0]
    sign = np.concatenate([-np.ones(H), np.ones(2 * H)])
    order = np.concatenate([np.arange(H, 2 * H), np.arange(H), np.arange(2 * H, 3 * H)])
    b = np.asarray(bx) + np.asarray(bh)
    return tuple((np.take(w, order, axis=-1) * sign).astype(np.asarray(w).dtype)
                 for w in (Wx, Wh, b))


def _hw3_gru_blocks(H: int):
    """``(z, r)`` column indices of a NumPy ``r, z, n`` GRU array, and those of ``n``."""
    return (np.concatenate([np.arange(H, 2 * H), np.arange(H)]), np.arange(2 * H, 3 * H))


def to_hw3_gru(Wx, Wh, bx, bh):
    """NumPy GRU weights (``r, z, n``; reset before) -> the BLG561E 2020 ``GRULayer``'s
    ``(Wx, Wh, b, Wxi, Whi, bi)``: ``[z, r]`` packed, the candidate ``n`` apart."""
    zr, n = _hw3_gru_blocks(np.shape(Wh)[0])
    Wx, Wh = np.asarray(Wx), np.asarray(Wh)
    b = (np.asarray(bx) + np.asarray(bh)).astype(np.asarray(bx).dtype)
    return Wx[:, zr], Wh[:, zr], b[zr], Wx[:, n], Wh[:, n], b[n]


def from_hw3_gru(dWx, dWh, db, dWxi, dWhi, dbi):
    """``GRULayer`` gradients -> NumPy ``(dWx, dWh, dbx, dbh)`` (``dbh`` = ``dbx``)."""
    H = np.shape(dWhi)[-1]

    def joined(zr, n):
        zr = np.asarray(zr)
        return np.concatenate([zr[..., H:2 * H], zr[..., :H], np.asarray(n)], axis=-1)
    dbx = joined(db, dbi)
    return joined(dWx, dWxi), joined(dWh, dWhi), dbx, dbx.copy()


def hw3_gru_view(array, gate=None) -> np.ndarray:
    """A NumPy ``r, z, n`` GRU array as the ``GRULayer`` holds the block of ``gate``:
    ``[z, r]`` (``Wx``, ``Wh``, ``b``), or the candidate alone (``Wxi`` ...) for ``n``."""
    array = np.asarray(array)
    zr, n = _hw3_gru_blocks(array.shape[-1] // 3)
    return array[..., n] if gate == "n" else array[..., zr]


def from_dlfs2_gru(dWx, dWh, db):
    """dlfs2 GRU gradients ``(dWx, dWh, db)`` -> NumPy ``(dWx, dWh, dbx, dbh)``."""
    H = np.shape(dWh)[0]
    sign = np.concatenate([-np.ones(H), np.ones(2 * H)])
    order = np.concatenate([np.arange(H, 2 * H), np.arange(H), np.arange(2 * H, 3 * H)])
    dWx, dWh, db = (np.take(np.asarray(g) * sign, order, axis=-1) for g in (dWx, dWh, db))
    return dWx, dWh, db, db.copy()


# ---- min-char-rnn: columns, features first -------------------------------------------
# Karpathy's min-char-rnn and its forks keep every array a column (``numpy_rnn.functional.
# char_rnn_loss`` takes them so): the weights multiply from the left, as torch's do.
#
# ================================  ===============================  ========================
# min-char-rnn                      torch                            rule
# ================================  ===============================  ========================
# ``Wxh (H, V)``, ``Whh (H, H)``    ``weight_ih_l0``, ``weight_hh``  identical (no transpose)
# ``bh (H, 1)``                     ``bias_ih_l0 (H,)``              the column's one axis;
#                                                                    ``bias_hh_l0`` = 0
# ``Why (V, H)``, ``by (V, 1)``     ``nn.Linear(H, V)``              identical; ``by[:, 0]``
# ``hprev (H, 1)``                  ``h0 (1, 1, H)``                 ``hprev.T`` as a batch of 1
# ``inputs`` (T,) indices           one-hot ``x (T, 1, V)``          sequence first
# LSTM ``Wxh (4H, V)``, ``Whh``,    ``weight_ih_l0`` ...             gate row blocks
# ``bh (4H, 1)``, ``cprev (H, 1)``                                   ``i, f, o, g`` ->
#                                                                    ``i, f, g, o``
# LSTM forks ``Wf, Wi, Wo, Wc``     the blocks of ``Wxh (4H, V)``    one matrix per gate on
# ``(H, V + H)``, ``bf (H, 1)`` ..  and ``Whh (4H, H)``              ``[x; h]`` (x first) or
#                                                                    ``[h; x]``: columns
#                                                                    split at V or at H
# ================================  ===============================  ========================

CHAR_GATES = NUMPY_GATES  # the packed LSTM of numpy_rnn.functional.char_lstm_loss


def make_char_model(Wxh, Whh, Why, bh, by, cell: str = "rnn"):
    """``(recurrent, linear)``: ``nn.RNN`` (tanh) or ``nn.LSTM`` (sequence first) holding
    min-char-rnn's ``Wxh``, ``Whh``, ``bh`` (gate row blocks ``i, f, o, g`` for an LSTM)
    and the ``nn.Linear(H, V)`` holding ``Why``, ``by``."""
    cell = CELLS[cell]
    Wxh, Whh, Why = (np.asarray(w) for w in (Wxh, Whh, Why))
    H = Whh.shape[1]
    V = Wxh.shape[1]
    dtype = torch_dtype(Wxh.dtype)
    module = getattr(nn, cell.module)(V, H, dtype=dtype, **dict(cell.options))
    _set(module.weight_ih_l0, to_torch_order(cell, Wxh, H), "Wxh")
    _set(module.weight_hh_l0, to_torch_order(cell, Whh, H), "Whh")
    _set(module.bias_ih_l0, to_torch_order(cell, np.asarray(bh)[:, 0], H), "bh")
    _set(module.bias_hh_l0, np.zeros(cell.width * H, dtype=Wxh.dtype), "bias_hh")
    linear = nn.Linear(H, V, dtype=dtype)
    _set(linear.weight, Why, "Why")
    _set(linear.bias, np.asarray(by)[:, 0], "by")
    return module, linear


def char_model_grads(module, linear) -> tuple:
    """``(dWxh, dWhh, dWhy, dbh, dby)`` in min-char-rnn's layout."""
    cell = cell_of(module)
    H = module.hidden_size
    return (from_torch_order(cell, to_numpy(module.weight_ih_l0.grad), H),
            from_torch_order(cell, to_numpy(module.weight_hh_l0.grad), H),
            to_numpy(linear.weight.grad),
            from_torch_order(cell, to_numpy(module.bias_ih_l0.grad), H)[:, None],
            to_numpy(linear.bias.grad)[:, None])


def column_state(state):
    """min-char-rnn's ``hprev (H, 1)`` as torch's ``(1, 1, H)`` leaf tensor."""
    return tensor(np.asarray(state).T[None], requires_grad=True)


def state_column(state) -> np.ndarray:
    """torch's ``(1, 1, H)`` final state as min-char-rnn's ``(H, 1)``."""
    return to_numpy(state)[0].T.copy()


def one_hot_sequence(indices, V: int, dtype):
    """Character indices ``(T,)`` as torch's one-hot ``(T, 1, V)``."""
    return torch.from_numpy(np.eye(V, dtype=dtype)[np.asarray(indices)][:, None].copy())


def char_lstm_from_gates(gates: dict, V: int, x_first: bool):
    """A fork's LSTM with one matrix per gate, ``W (H, V + H)`` acting on ``[x; h]``
    (``x_first``) or ``[h; x]``, and ``b (H, 1)``; ``gates`` maps each gate of
    :data:`CHAR_GATES` to its ``(W, b)``. Returns the packed ``(Wxh (4H, V), Whh (4H, H),
    bh (4H, 1))``."""
    Wx, Wh, b = [], [], []
    for gate in CHAR_GATES:
        W, bias = (np.asarray(a) for a in gates[gate])
        x_part, h_part = (W[:, :V], W[:, V:]) if x_first else (W[:, -V:], W[:, :-V])
        Wx.append(x_part)
        Wh.append(h_part)
        b.append(bias)
    return np.concatenate(Wx), np.concatenate(Wh), np.concatenate(b)


def char_lstm_to_gates(Wxh, Whh, bh, x_first: bool) -> dict:
    """The inverse of :func:`char_lstm_from_gates`: gate -> ``(W (H, V + H), b (H, 1))``."""
    H = np.shape(Whh)[1]
    out = {}
    for k, gate in enumerate(CHAR_GATES):
        rows = slice(k * H, (k + 1) * H)
        parts = (Wxh[rows], Whh[rows]) if x_first else (Whh[rows], Wxh[rows])
        out[gate] = (np.ascontiguousarray(np.concatenate(parts, axis=1)),
                     np.ascontiguousarray(bh[rows]))
    return out


def char_lstm_reordered(array, order, hidden_size: int, back: bool = False) -> np.ndarray:
    """A packed ``(4H, ...)`` array with its row blocks ``i, f, o, g`` laid out in a fork's
    ``order`` (a permutation of ``"ifog"``); ``back`` undoes it."""
    source, target = (tuple(order), CHAR_GATES) if back else (CHAR_GATES, tuple(order))
    return np.take(array, _gate_permutation(hidden_size, source, target), axis=0)
