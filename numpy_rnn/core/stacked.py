"""Stacked and bidirectional RNN, LSTM and GRU, composed from the one-layer functions.

What ``torch.nn.RNN/LSTM/GRU(num_layers=L, bidirectional=..., batch_first=True)``
compute, built from :mod:`numpy_rnn.core.rnn`, :mod:`~numpy_rnn.core.lstm` and
:mod:`~numpy_rnn.core.gru` (no second copy of a cell's equations):

* layer 0 reads ``x (N, T, D)``; layer ``l > 0`` reads the output of layer ``l - 1``;
* the forward direction runs over ``t = 0 .. T-1``; the reverse direction runs the
  same cell over its input reversed in time, and its hidden states are put back in
  time order;
* a layer's output is ``[forward, reverse]`` concatenated on the feature axis:
  ``(N, T, directions * H)``.

States stack every layer and direction on a leading axis of size ``L * directions``
(``L*dirs`` in messages), in torch's order: index ``l * directions + d`` with ``d = 0``
the forward and ``d = 1`` the reverse direction. That holds for ``h0``, ``c0``, the
final states ``h_n``, ``c_n`` and their gradients. ``h_n`` holds each direction's last
state: the forward direction's at ``t = T-1``, the reverse direction's at ``t = 0``.

The weights are keyword arguments named as torch names its parameters, in NumPy's
layout (``G`` gate blocks per hidden unit: 1 rnn, 4 lstm ``i, f, o, g``, 3 gru
``r, z, n``):

======================  ========================  =====================================
name                    shape                     what
======================  ========================  =====================================
``Wx_l0``               ``(D, G*H)``              input weights of layer 0
``Wx_l{k}``, k > 0      ``(directions*H, G*H)``   layer k reads layer k-1's output
``Wh_l{k}``             ``(H, G*H)``              hidden-to-hidden weights
``b_l{k}``              ``(G*H,)``                bias (rnn, lstm)
``bx_l{k}``, ``bh_l{k}``  ``(G*H,)``              input and hidden bias (gru)
``<name>_reverse``      as ``<name>``             the reverse direction's
======================  ========================  =====================================

The number of layers and directions follows from the names given (a ``_reverse``
name makes the network bidirectional); :func:`stacked_weight_names` lists them, in
the order the backward functions return their gradients. A layer of
:mod:`numpy_rnn.layers` built with ``num_layers``/``bidirectional`` holds exactly
these names, so ``lstm_stacked_forward(x, h0, c0, **layer.params)`` runs it.

The LSTM's cell state: :func:`lstm_stacked_forward` takes ``c0`` (``None`` means
zeros, where :func:`~numpy_rnn.core.lstm.lstm_forward` always starts), returns
``c_n`` and its backward returns ``dc0``, as ``torch.nn.LSTM`` with ``(h0, c0)``.

Every backward takes the upstream gradient of each output: ``dh`` of the outputs and
``dh_n`` (``dc_n``) of the final states, which may be ``None`` (the final states feed
nothing). ``h_n`` of the top layer's forward direction is ``h[:, -1, :H]``: its
upstream gradient adds to that of the last output.

Cost: the RNN and the GRU run each layer and direction through
:func:`~numpy_rnn.core.rnn.rnn_forward` / :func:`~numpy_rnn.core.gru.gru_forward`
(input projection hoisted out of the time loop). The LSTM runs
:func:`~numpy_rnn.core.lstm.lstm_step_forward` step by step, because
``lstm_forward`` starts its cell state at zero and keeps the cell states inside its
cache: ``c0`` and ``c_n`` need the step functions (the same per-step kernels).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from numpy_rnn.core.gru import gru_backward, gru_forward
from numpy_rnn.core.lstm import lstm_step_backward, lstm_step_forward
from numpy_rnn.core.rnn import rnn_backward, rnn_forward
from numpy_rnn.core.validation import ArgChecker, check_cache, positive_int

__all__ = ["stacked_weight_names", "rnn_stacked_forward", "rnn_stacked_backward",
           "lstm_stacked_forward", "lstm_stacked_backward", "gru_stacked_forward",
           "gru_stacked_backward", "STACKED_CELLS"]

# the leading axis of every state: layers times directions
_STATES = "L*dirs"
_NAME = re.compile(r"(?P<param>[A-Za-z]+)_l(?P<layer>0|[1-9][0-9]*)(?P<reverse>_reverse)?")


# ---- one direction of one layer, per cell ---------------------------------------------

def _through_sequence(forward, backward):
    """``(run, back)`` of a cell whose only state is ``h``, through its sequence functions:
    ``h_n`` is the last hidden state, so its upstream gradient joins ``dh`` at the last
    step."""
    def run(x, states, weights, options):
        h, cache = forward(x, states[0], *weights, **options)
        return h, (h[:, -1],), cache

    def back(dh, dfinals, cache):
        dh = dh.copy()  # a view of the caller's gradient: never written
        dh[:, -1] += dfinals[0]
        dx, dh0, *dweights = backward(dh, cache)
        return dx, (dh0,), tuple(dweights)
    return run, back


def _lstm_run(x, states, weights, options):
    """The LSTM step by step from ``(h, c)``: ``lstm_forward`` has no ``c0`` and no ``c_n``."""
    h, c = states
    N, T, _ = x.shape
    hs = np.empty((N, T, h.shape[1]), dtype=x.dtype)
    caches = []
    for t in range(T):
        h, c, cache = lstm_step_forward(x[:, t], h, c, *weights)
        hs[:, t] = h
        caches.append(cache)
    return hs, (h, c), caches


def _lstm_back(dh, dfinals, caches):
    dnext_h, dnext_c = dfinals
    N, T, _ = dh.shape
    dx = dweights = None
    for t in range(T - 1, -1, -1):
        dx_t, dnext_h, dnext_c, *dw = lstm_step_backward(dh[:, t] + dnext_h, dnext_c,
                                                         caches[t])
        if dx is None:
            dx = np.empty((N, T, dx_t.shape[1]), dtype=dx_t.dtype)
            dweights = dw  # new arrays of the last step: the sums over time start there
        else:
            for total, g in zip(dweights, dw, strict=True):
                total += g
        dx[:, t] = dx_t
    return dx, (dnext_h, dnext_c), tuple(dweights)


@dataclass(frozen=True)
class StackedCell:
    """How a stacked network runs one cell.

    name:       ``"rnn"``, ``"lstm"``, ``"gru"``: the functions are ``<name>_stacked_*``.
    gates:      gate blocks per hidden unit (``G`` of a ``(D, G*H)`` weight).
    biases:     the bias names of one layer and direction, in call order.
    cell_state: whether the cell carries ``c`` besides ``h``.
    run:        ``run(x, states, weights, options) -> (h (N, T, H), final states, cache)``:
                one direction of one layer from its initial ``states``.
    back:       ``back(dh, dfinals, cache) -> (dx, dstates, dweights)``: its backward, with
                the upstream gradients of the final states.
    options:    keyword options of the forward function beyond the arrays.
    """

    name: str
    gates: int
    biases: tuple
    cell_state: bool
    run: Callable
    back: Callable
    options: tuple = ()

    @property
    def params(self) -> tuple:
        return ("Wx", "Wh", *self.biases)

    @property
    def states(self) -> tuple:
        return ("h", "c") if self.cell_state else ("h",)

    @property
    def forward_name(self) -> str:
        return f"{self.name}_stacked_forward"


STACKED_CELLS = {cell.name: cell for cell in (
    StackedCell("rnn", 1, ("b",), False, *_through_sequence(rnn_forward, rnn_backward)),
    StackedCell("lstm", 4, ("b",), True, _lstm_run, _lstm_back),
    StackedCell("gru", 3, ("bx", "bh"), False, *_through_sequence(gru_forward, gru_backward),
                options=("reset_after",)),
)}


def stacked_weight_names(cell: str, num_layers: int, bidirectional: bool = False) -> tuple:
    """The weight names of a stacked network, in the order its backward returns them.

    cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.  num_layers: L >= 1.
    bidirectional: whether every layer has a reverse direction.
    Returns ``("Wx_l0", "Wh_l0", "b_l0", "Wx_l0_reverse", ..., "b_l{L-1}_reverse")``:
    for each layer, the forward direction's then the reverse direction's.
    """
    if cell not in STACKED_CELLS:
        raise ValueError(f"cell must be one of {tuple(STACKED_CELLS)}, got {cell!r}")
    num_layers = positive_int("num_layers", num_layers)
    if not isinstance(bidirectional, (bool, np.bool_)):
        raise ValueError(f"bidirectional must be True or False, got {bidirectional!r}")
    return _names(STACKED_CELLS[cell], num_layers, 2 if bidirectional else 1)


def _suffix(layer: int, direction: int) -> str:
    return f"_l{layer}" + ("_reverse" if direction else "")


def _names(cell: StackedCell, layers: int, directions: int) -> tuple:
    return tuple(p + _suffix(layer, d) for layer in range(layers) for d in range(directions)
                 for p in cell.params)


def _describe(layers: int, directions: int) -> str:
    return (f"{layers} layer{'s' if layers > 1 else ''}, "
            + ("bidirectional" if directions == 2 else "forward only"))


def _architecture(fn: str, cell: StackedCell, weights: dict) -> tuple:
    """``(layers, directions)`` that the weight names describe; every name checked."""
    pattern = ", ".join(f"{p}_l{{k}}" for p in cell.params)
    if not weights:
        raise ValueError(f"{fn}: no weights given: pass {pattern} for every layer k (and the "
                         f"same names + '_reverse' for a bidirectional network) as keyword "
                         f"arguments; stacked_weight_names({cell.name!r}, num_layers, "
                         f"bidirectional) lists them")
    layers, directions = 0, 1
    for name in weights:
        match = _NAME.fullmatch(name)
        if match is None or match["param"] not in cell.params:
            raise ValueError(f"{fn}: unexpected argument {name!r}: the weights are {pattern} "
                             f"for layers k = 0, 1, ..., each + '_reverse' for the reverse "
                             f"direction")
        layers = max(layers, int(match["layer"]) + 1)
        directions = 2 if match["reverse"] else directions
    expected = _names(cell, layers, directions)
    missing = [n for n in expected if n not in weights]
    if missing:
        raise ValueError(f"{fn}: missing weight(s) {', '.join(missing)}: the names given "
                         f"describe {_describe(layers, directions)}, which takes "
                         f"{', '.join(expected)}")
    return layers, directions


class _StackedCache(NamedTuple):
    cell: str
    layers: int
    directions: int
    sizes: tuple  # N, T, D, H
    dtype: np.dtype
    caches: tuple  # one per layer and direction, in state order


# ---- the whole network ------------------------------------------------------------------

def _forward(cell: StackedCell, x, states: dict, weights: dict, options: dict):
    """``(h, final states, cache)``; ``states`` maps each state name to its initial
    value or None (zeros; only ``c0``)."""
    fn = cell.forward_name
    layers, directions = _architecture(fn, cell, weights)
    S = layers * directions
    chk = ArgChecker(fn, sizes={_STATES: S},
                     source=f"the weights ({_describe(layers, directions)})")
    x = chk.float_array("x", x, ("N", "T", "D"))
    checked = {}
    for name, value in states.items():
        if value is not None:
            checked[name] = chk.float_array(name, value, (_STATES, "N", "H"))
    gate = f"{cell.gates}H" if cell.gates > 1 else "H"
    below = f"{directions}H" if directions > 1 else "H"  # what layer k > 0 reads
    dims = {"Wx": ("D", gate), "Wh": ("H", gate)}
    W = []
    for layer in range(layers):
        for d in range(directions):
            suffix = _suffix(layer, d)
            W.append(tuple(chk.float_array(
                p + suffix, weights[p + suffix],
                (below, gate) if p == "Wx" and layer else dims.get(p, (gate,)))
                for p in cell.params))
    N, T, D = x.shape
    H = chk.sizes["H"]
    dtype = x.dtype
    initial = [checked[name] if name in checked else np.zeros((S, N, H), dtype=dtype)
               for name in states]
    finals = [np.empty((S, N, H), dtype=dtype) for _ in states]
    caches = []
    layer_input = x
    for layer in range(layers):
        out = np.empty((N, T, directions * H), dtype=dtype)
        for d in range(directions):
            k = layer * directions + d
            h, final, cache = cell.run(layer_input[:, ::-1] if d else layer_input,
                                       tuple(s[k] for s in initial), W[k], options)
            out[:, :, d * H:(d + 1) * H] = h[:, ::-1] if d else h
            for total, value in zip(finals, final, strict=True):
                total[k] = value
            caches.append(cache)
        layer_input = out
    return (layer_input, *finals,
            _StackedCache(cell.name, layers, directions, (N, T, D, H), dtype, tuple(caches)))


def _backward(cell: StackedCell, fn: str, dh, dfinals: dict, cache):
    """``(dx, *dstates, *dweights)`` of :func:`_forward`, weights in
    :func:`stacked_weight_names` order."""
    producer = cell.forward_name
    check_cache(fn, cache, _StackedCache, producer)
    if cache.cell != cell.name:
        raise ValueError(f"{fn}: cache must be the cache returned by {producer}, got the "
                         f"cache of {cache.cell}_stacked_forward")
    N, T, D, H = cache.sizes
    layers, directions = cache.layers, cache.directions
    S = layers * directions
    chk = ArgChecker(fn, sizes={"N": N, "T": T, "H": H, _STATES: S}, source=producer,
                     dtype=cache.dtype)
    dh = chk.float_array("dh", dh, ("N", "T", f"{directions}H" if directions > 1 else "H"))
    upstream = [np.zeros((S, N, H), dtype=cache.dtype) if value is None
                else chk.float_array(name, value, (_STATES, "N", "H"))
                for name, value in dfinals.items()]
    dstates = [np.empty((S, N, H), dtype=cache.dtype) for _ in dfinals]
    dweights = [()] * S
    dout = dh
    for layer in range(layers - 1, -1, -1):
        dinput = None
        for d in range(directions):
            k = layer * directions + d
            dh_k = dout[:, :, d * H:(d + 1) * H]
            dx_k, dstate, dweights[k] = cell.back(dh_k[:, ::-1] if d else dh_k,
                                                  tuple(u[k] for u in upstream),
                                                  cache.caches[k])
            for total, value in zip(dstates, dstate, strict=True):
                total[k] = value
            if d:
                dinput += dx_k[:, ::-1]
            else:
                dinput = dx_k  # a new array of the cell's backward
        dout = dinput
    return (np.ascontiguousarray(dout), *dstates, *(g for k in range(S) for g in dweights[k]))


# ---- the functions --------------------------------------------------------------------

def rnn_stacked_forward(x, h0, **weights):
    """A stacked (and optionally bidirectional) vanilla RNN, as ``torch.nn.RNN``.

    x:        (N, T, D) input sequences.
    h0:       (L*dirs, N, H) initial hidden state of every layer and direction
              (index ``l * directions + d``).
    weights:  ``Wx_l{k}`` (D, H) for k = 0, (dirs*H, H) above; ``Wh_l{k}`` (H, H);
              ``b_l{k}`` (H,); and the same + ``_reverse`` for a bidirectional network.

    Returns ``(h, h_n, cache)``: h (N, T, dirs*H) the top layer's hidden states,
    ``[forward, reverse]`` on the last axis; h_n (L*dirs, N, H) the final hidden
    states; the cache for :func:`rnn_stacked_backward`.
    """
    return _forward(STACKED_CELLS["rnn"], x, {"h0": h0}, weights, {})


def rnn_stacked_backward(dh, dh_n, cache):
    """Backward pass of :func:`rnn_stacked_forward`.

    dh:    (N, T, dirs*H) upstream gradient of h.
    dh_n:  (L*dirs, N, H) upstream gradient of h_n, or None (zero).
    cache: from :func:`rnn_stacked_forward`.

    Returns ``(dx, dh0, dWx_l0, dWh_l0, db_l0, ...)``: dx (N, T, D), dh0 (L*dirs, N, H),
    then one gradient per weight, in :func:`stacked_weight_names` order.
    """
    return _backward(STACKED_CELLS["rnn"], "rnn_stacked_backward", dh, {"dh_n": dh_n}, cache)


def lstm_stacked_forward(x, h0, c0=None, **weights):
    """A stacked (and optionally bidirectional) LSTM, as ``torch.nn.LSTM``.

    x:        (N, T, D) input sequences.
    h0:       (L*dirs, N, H) initial hidden state of every layer and direction
              (index ``l * directions + d``).
    c0:       (L*dirs, N, H) initial cell state, or None for zeros (where
              ``lstm_forward`` starts).
    weights:  ``Wx_l{k}`` (D, 4H) for k = 0, (dirs*H, 4H) above; ``Wh_l{k}`` (H, 4H);
              ``b_l{k}`` (4H,), gate blocks i, f, o, g; and the same + ``_reverse``
              for a bidirectional network.

    Returns ``(h, h_n, c_n, cache)``: h (N, T, dirs*H) the top layer's hidden states,
    ``[forward, reverse]`` on the last axis; h_n and c_n (L*dirs, N, H) the final
    hidden and cell states; the cache for :func:`lstm_stacked_backward`.
    """
    return _forward(STACKED_CELLS["lstm"], x, {"h0": h0, "c0": c0}, weights, {})


def lstm_stacked_backward(dh, dh_n, dc_n, cache):
    """Backward pass of :func:`lstm_stacked_forward`.

    dh:    (N, T, dirs*H) upstream gradient of h.
    dh_n:  (L*dirs, N, H) upstream gradient of h_n, or None (zero).
    dc_n:  (L*dirs, N, H) upstream gradient of c_n, or None (zero).
    cache: from :func:`lstm_stacked_forward`.

    Returns ``(dx, dh0, dc0, dWx_l0, dWh_l0, db_l0, ...)``: dx (N, T, D), dh0 and dc0
    (L*dirs, N, H) (dc0 also when c0 was None: the gradient of that zero state), then
    one gradient per weight, in :func:`stacked_weight_names` order.
    """
    return _backward(STACKED_CELLS["lstm"], "lstm_stacked_backward", dh,
                     {"dh_n": dh_n, "dc_n": dc_n}, cache)


def gru_stacked_forward(x, h0, reset_after=True, **weights):
    """A stacked (and optionally bidirectional) GRU, as ``torch.nn.GRU``.

    x:           (N, T, D) input sequences.
    h0:          (L*dirs, N, H) initial hidden state of every layer and direction
                 (index ``l * directions + d``).
    reset_after: where the reset gate acts, as in :func:`~numpy_rnn.core.gru.gru_forward`
                 (True: ``torch.nn.GRU``).
    weights:     ``Wx_l{k}`` (D, 3H) for k = 0, (dirs*H, 3H) above; ``Wh_l{k}`` (H, 3H);
                 ``bx_l{k}``, ``bh_l{k}`` (3H,), gate blocks r, z, n; and the same +
                 ``_reverse`` for a bidirectional network.

    Returns ``(h, h_n, cache)``: h (N, T, dirs*H) the top layer's hidden states,
    ``[forward, reverse]`` on the last axis; h_n (L*dirs, N, H) the final hidden
    states; the cache for :func:`gru_stacked_backward`.
    """
    if not isinstance(reset_after, (bool, np.bool_)):
        raise ValueError(f"gru_stacked_forward: reset_after must be True or False, got "
                         f"{reset_after!r}")
    return _forward(STACKED_CELLS["gru"], x, {"h0": h0}, weights,
                    {"reset_after": bool(reset_after)})


def gru_stacked_backward(dh, dh_n, cache):
    """Backward pass of :func:`gru_stacked_forward`.

    dh:    (N, T, dirs*H) upstream gradient of h.
    dh_n:  (L*dirs, N, H) upstream gradient of h_n, or None (zero).
    cache: from :func:`gru_stacked_forward`.

    Returns ``(dx, dh0, dWx_l0, dWh_l0, dbx_l0, dbh_l0, ...)``: dx (N, T, D), dh0
    (L*dirs, N, H), then one gradient per weight, in :func:`stacked_weight_names` order.
    """
    return _backward(STACKED_CELLS["gru"], "gru_stacked_backward", dh, {"dh_n": dh_n}, cache)
