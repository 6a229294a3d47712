"""Catalog entries: vanilla RNN, LSTM and GRU, one step and whole sequences.

The step components are checked against ``nn.RNNCell`` / ``nn.LSTMCell`` /
``nn.GRUCell``, the sequence components against ``nn.RNN`` / ``nn.LSTM`` /
``nn.GRU`` (``batch_first=True``). The GRU whose reset gate multiplies ``h``
before the hidden product (``reset_after=False``) has no torch module; its
reference is the equations written in torch operations, differentiated by
autograd.
"""
from __future__ import annotations

import numpy as np

from torch_ref.catalog.base import Case, Component, Run, Sampler, register
from torch_ref.layout import CELLS

# (label, sizes, what is special). Every case has non-zero h0 and biases.
_SEQUENCE_SHAPES = (
    ("ordinary", dict(N=3, T=4, D=5, H=6), ("T > 1",)),
    ("N=1", dict(N=1, T=4, D=5, H=6), ("N=1",)),
    ("T=1", dict(N=3, T=1, D=5, H=6), ("T=1",)),
    ("H=1", dict(N=3, T=4, D=5, H=1), ("H=1",)),
    ("D==H", dict(N=3, T=4, D=6, H=6), ("D == H (square weights)",)),
    ("long", dict(N=2, T=12, D=3, H=4), ("T > 1", "long sequence")),
)
_STEP_SHAPES = tuple((label, {k: v for k, v in sizes.items() if k != "T"},
                      tuple(s for s in special if not s.startswith("T")))
                     for label, sizes, special in _SEQUENCE_SHAPES
                     if label not in ("T=1", "long"))


def draw_weights(draw: Sampler, cell: str, D: int, H: int, scale: float = 1.0) -> dict:
    """Random ``Wx (D, GH)``, ``Wh (H, GH)`` and the cell's biases ``(GH,)`` (``G`` gate
    blocks); ``scale`` 1 keeps tanh unsaturated."""
    spec = CELLS[cell]
    GH = spec.width * H
    weights = {"Wx": draw.normal(D, GH, scale=scale / np.sqrt(D)),
               "Wh": draw.normal(H, GH, scale=scale / np.sqrt(H))}
    for name in spec.biases:
        weights[name] = draw.normal(GH, scale=0.5)
    return weights


def draw_recurrent(draw: Sampler, cell: str, step: bool, sizes: dict, *,
                   h0_scale: float = 0.5, weight_scale: float = 1.0,
                   upstream_scale: float = 1.0):
    """``(inputs, upstream)`` of one recurrent case, inputs in call order."""
    N, D, H = sizes["N"], sizes["D"], sizes["H"]
    cell_state = step and CELLS[cell].cell_state
    lead = (N,) if step else (N, sizes["T"])
    inputs = {"x": draw.normal(*lead, D)}
    inputs["prev_h" if step else "h0"] = draw.normal(N, H, scale=h0_scale)
    if cell_state:
        inputs["prev_c"] = draw.normal(N, H)
    inputs.update(draw_weights(draw, cell, D, H, weight_scale))
    if step:
        upstream = {"next_h": draw.normal(N, H, scale=upstream_scale)}
        if cell_state:
            upstream["next_c"] = draw.normal(N, H, scale=upstream_scale)
    else:
        upstream = {"h": draw.normal(N, sizes["T"], H, scale=upstream_scale)}
    return inputs, upstream


# component name -> (cell, one step?); filled by _register_recurrent
RECURRENT: dict = {}


def _recurrent_cases(name: str, cell: str, step: bool):
    shapes = _STEP_SHAPES if step else _SEQUENCE_SHAPES

    def cases(dtype: str, seed: int):
        for label, sizes, special in shapes:
            draw = Sampler(name, dtype, seed, label)
            inputs, upstream = draw_recurrent(draw, cell, step, sizes)
            yield Case(name, label, dtype, seed, inputs, upstream, dict(sizes),
                       special + ("non-zero h0 and biases",))
    return cases


# ---- NumPy runs -------------------------------------------------------------------

def _numpy_run(forward: str, backward: str, outputs: tuple, grads: tuple, **options):
    """``run_numpy`` calling ``forward(*inputs, **options)`` then ``backward(*upstream,
    cache)``; the outputs and gradients come back in the order named."""
    def run(api, case: Case) -> Run:
        *values, cache = getattr(api, forward)(*case.inputs.values(), **options)
        returned = getattr(api, backward)(*(case.upstream[o] for o in outputs), cache)
        return Run(dict(zip(outputs, values, strict=True)),
                   dict(zip(grads, returned, strict=True)))
    return run


# ---- torch runs -------------------------------------------------------------------

def _weight_args(cell: str, inputs: dict) -> list:
    return [inputs[k] for k in ("Wx", "Wh", *CELLS[cell].biases)]


def _torch_step(case: Case, cell: str) -> Run:
    from torch_ref import layout as L

    i = case.inputs
    module = L.make_recurrent(cell, *_weight_args(cell, i), step=True)
    x, h = L.tensor(i["x"], True), L.tensor(i["prev_h"], True)
    if CELLS[cell].cell_state:
        c = L.tensor(i["prev_c"], True)
        next_h, next_c = module(x, (h, c))
        outputs = {"next_h": next_h, "next_c": next_c}
    else:
        outputs = {"next_h": module(x, h)}
    total = sum((out * L.tensor(case.upstream[name])).sum() for name, out in outputs.items())
    total.backward()
    grads = {"dx": L.to_numpy(x.grad), "dprev_h": L.to_numpy(h.grad)}
    if CELLS[cell].cell_state:
        grads["dprev_c"] = L.to_numpy(c.grad)
    names = ("dWx", "dWh", *("d" + b for b in CELLS[cell].biases))
    grads.update(zip(names, L.recurrent_grads(module), strict=True))
    return Run({k: L.to_numpy(v) for k, v in outputs.items()}, grads)


def _torch_sequence(case: Case, cell: str) -> Run:
    from torch_ref import layout as L

    i = case.inputs
    module = L.make_recurrent(cell, *_weight_args(cell, i))
    x, h0 = L.tensor(i["x"], True), L.initial_state(i["h0"])
    h = L.run_sequence(module, x, h0)
    (h * L.tensor(case.upstream["h"])).sum().backward()
    names = ("dWx", "dWh", *("d" + b for b in CELLS[cell].biases))
    return Run({"h": L.to_numpy(h)},
               {"dx": L.to_numpy(x.grad), "dh0": L.to_numpy(h0.grad)[0],
                **dict(zip(names, L.recurrent_grads(module), strict=True))})


def _torch_gru_reset_before(case: Case, step: bool) -> Run:
    """The GRU with ``n = tanh(x Wx_n + bx_n + (r * h) Wh_n + bh_n)`` in torch operations."""
    import torch

    from torch_ref import layout as L

    i = case.inputs
    names = ("x", "prev_h" if step else "h0", "Wx", "Wh", "bx", "bh")
    leaves = {k: L.tensor(i[k], True) for k in names}
    x, h, Wx, Wh, bx, bh = leaves.values()
    H = h.shape[1]
    steps = [x] if step else list(x.unbind(1))
    hs = []
    for x_t in steps:
        a = x_t @ Wx + bx
        rz = torch.sigmoid(a[:, :2 * H] + h @ Wh[:, :2 * H] + bh[:2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = torch.tanh(a[:, 2 * H:] + (r * h) @ Wh[:, 2 * H:] + bh[2 * H:])
        h = (1 - z) * n + z * h
        hs.append(h)
    out_name = "next_h" if step else "h"
    out = hs[0] if step else torch.stack(hs, 1)
    (out * L.tensor(case.upstream[out_name])).sum().backward()
    return Run({out_name: L.to_numpy(out)},
               {"d" + k: L.to_numpy(t.grad) for k, t in leaves.items()})


def _produced_by(forward: str, backward: str, outputs, grads) -> dict:
    return {**{o: forward for o in outputs}, **{g: backward for g in grads}}


def _register_recurrent(name: str, cell: str, step: bool, reference, description: str,
                        functions: tuple | None = None, **options):
    spec = CELLS[cell]
    prefix = f"{cell}_step" if step else cell
    forward, backward = functions or (f"{prefix}_forward", f"{prefix}_backward")
    outputs = ("next_h", "next_c") if step and spec.cell_state else (
        ("next_h",) if step else ("h",))
    grads = ("dx", "dprev_h" if step else "dh0", *(("dprev_c",) if step and spec.cell_state
                                                  else ()),
             "dWx", "dWh", *("d" + b for b in spec.biases))
    RECURRENT[name] = (cell, step)
    gate_axes = {"dWx": 1, "dWh": 1, **{"d" + b: 0 for b in spec.biases}}
    register(Component(
        name=name,
        functions=(forward, backward),
        produced_by=_produced_by(forward, backward, outputs, grads),
        cases=_recurrent_cases(name, cell, step),
        run_numpy=_numpy_run(forward, backward, outputs, grads, **options),
        run_torch=reference,
        gate_axes=gate_axes if spec.width > 1 else {},
        cell=cell,
        description=description,
    ))


_register_recurrent("rnn_step", "rnn", True, lambda case: _torch_step(case, "rnn"),
                    "one vanilla RNN timestep vs nn.RNNCell")
_register_recurrent("rnn", "rnn", False, lambda case: _torch_sequence(case, "rnn"),
                    "vanilla RNN over a sequence vs nn.RNN")
_register_recurrent("lstm_step", "lstm", True, lambda case: _torch_step(case, "lstm"),
                    "one LSTM timestep vs nn.LSTMCell")
_register_recurrent("lstm", "lstm", False, lambda case: _torch_sequence(case, "lstm"),
                    "LSTM over a sequence (zero initial cell) vs nn.LSTM")
_register_recurrent("gru_step", "gru", True, lambda case: _torch_step(case, "gru"),
                    "one GRU timestep vs nn.GRUCell")
_register_recurrent("gru", "gru", False, lambda case: _torch_sequence(case, "gru"),
                    "GRU over a sequence vs nn.GRU")
_register_recurrent("gru_step_reset_before", "gru", True,
                    lambda case: _torch_gru_reset_before(case, step=True),
                    "one GRU timestep, reset gate applied before the hidden product, "
                    "vs the equations in torch operations", reset_after=False)
_register_recurrent("gru_reset_before", "gru", False,
                    lambda case: _torch_gru_reset_before(case, step=False),
                    "GRU over a sequence, reset gate applied before the hidden product, "
                    "vs the equations in torch operations", reset_after=False)
