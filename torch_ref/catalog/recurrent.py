"""Catalog entries: vanilla RNN and LSTM, one step and whole sequences.

The step components are checked against ``nn.RNNCell`` / ``nn.LSTMCell``, the
sequence components against ``nn.RNN`` / ``nn.LSTM`` (``batch_first=True``).
"""
from __future__ import annotations

import numpy as np

from torch_ref.catalog.base import Case, Component, Run, Sampler, register

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


def _weights(draw: Sampler, D: int, H: int, gates: int):
    """Random ``Wx (D, gH)``, ``Wh (H, gH)``, ``b (gH,)``, scaled to keep tanh unsaturated."""
    return (draw.normal(D, gates * H, scale=1.0 / np.sqrt(D)),
            draw.normal(H, gates * H, scale=1.0 / np.sqrt(H)),
            draw.normal(gates * H, scale=0.5))


def _recurrent_cases(name: str, gates: int, step: bool, with_cell: bool):
    shapes = _STEP_SHAPES if step else _SEQUENCE_SHAPES

    def cases(dtype: str, seed: int):
        for label, sizes, special in shapes:
            draw = Sampler(name, dtype, seed, label)
            N, D, H = sizes["N"], sizes["D"], sizes["H"]
            lead = (N,) if step else (N, sizes["T"])
            inputs = {"x": draw.normal(*lead, D)}
            inputs["prev_h" if step else "h0"] = draw.normal(N, H, scale=0.5)
            if step and with_cell:
                inputs["prev_c"] = draw.normal(N, H)
            inputs["Wx"], inputs["Wh"], inputs["b"] = _weights(draw, D, H, gates)
            if step:
                upstream = {"next_h": draw.normal(N, H)}
                if with_cell:
                    upstream["next_c"] = draw.normal(N, H)
            else:
                upstream = {"h": draw.normal(N, sizes["T"], H)}
            yield Case(name, label, dtype, seed, inputs, upstream, dict(sizes),
                       special + ("non-zero h0 and biases",))
    return cases


# ---- NumPy runs -------------------------------------------------------------------

def _numpy_rnn_step(api, case: Case) -> Run:
    i = case.inputs
    next_h, cache = api.rnn_step_forward(i["x"], i["prev_h"], i["Wx"], i["Wh"], i["b"])
    grads = api.rnn_step_backward(case.upstream["next_h"], cache)
    names = ("dx", "dprev_h", "dWx", "dWh", "db")
    return Run({"next_h": next_h}, dict(zip(names, grads, strict=True)))


def _numpy_rnn(api, case: Case) -> Run:
    i = case.inputs
    h, cache = api.rnn_forward(i["x"], i["h0"], i["Wx"], i["Wh"], i["b"])
    grads = api.rnn_backward(case.upstream["h"], cache)
    return Run({"h": h}, dict(zip(("dx", "dh0", "dWx", "dWh", "db"), grads, strict=True)))


def _numpy_lstm_step(api, case: Case) -> Run:
    i = case.inputs
    next_h, next_c, cache = api.lstm_step_forward(i["x"], i["prev_h"], i["prev_c"],
                                                  i["Wx"], i["Wh"], i["b"])
    grads = api.lstm_step_backward(case.upstream["next_h"], case.upstream["next_c"], cache)
    names = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")
    return Run({"next_h": next_h, "next_c": next_c}, dict(zip(names, grads, strict=True)))


def _numpy_lstm(api, case: Case) -> Run:
    i = case.inputs
    h, cache = api.lstm_forward(i["x"], i["h0"], i["Wx"], i["Wh"], i["b"])
    grads = api.lstm_backward(case.upstream["h"], cache)
    return Run({"h": h}, dict(zip(("dx", "dh0", "dWx", "dWh", "db"), grads, strict=True)))


# ---- torch runs -------------------------------------------------------------------

def _torch_step(case: Case, lstm: bool) -> Run:
    from torch_ref import layout as L

    i = case.inputs
    make = L.make_lstm_cell if lstm else L.make_rnn_cell
    cell = make(i["Wx"], i["Wh"], i["b"])
    x, h = L.tensor(i["x"], True), L.tensor(i["prev_h"], True)
    if lstm:
        c = L.tensor(i["prev_c"], True)
        next_h, next_c = cell(x, (h, c))
        outputs = {"next_h": next_h, "next_c": next_c}
    else:
        outputs = {"next_h": cell(x, h)}
    total = sum((out * L.tensor(case.upstream[name])).sum() for name, out in outputs.items())
    total.backward()
    dWx, dWh, db = L.recurrent_grads(cell)
    grads = {"dx": L.to_numpy(x.grad), "dprev_h": L.to_numpy(h.grad)}
    if lstm:
        grads["dprev_c"] = L.to_numpy(c.grad)
    grads.update(dWx=dWx, dWh=dWh, db=db)
    return Run({k: L.to_numpy(v) for k, v in outputs.items()}, grads)


def _torch_sequence(case: Case, lstm: bool) -> Run:
    import torch

    from torch_ref import layout as L

    i = case.inputs
    module = (L.make_lstm if lstm else L.make_rnn)(i["Wx"], i["Wh"], i["b"])
    x, h0 = L.tensor(i["x"], True), L.initial_state(i["h0"])
    if lstm:
        # lstm_forward starts the cell state at zero
        c0 = torch.zeros_like(h0)
        h, _ = module(x, (h0, c0))
    else:
        h, _ = module(x, h0)
    (h * L.tensor(case.upstream["h"])).sum().backward()
    dWx, dWh, db = L.recurrent_grads(module)
    return Run({"h": L.to_numpy(h)},
               {"dx": L.to_numpy(x.grad), "dh0": L.to_numpy(h0.grad)[0],
                "dWx": dWx, "dWh": dWh, "db": db})


def _produced_by(forward: str, backward: str, outputs, grads) -> dict:
    return {**{o: forward for o in outputs}, **{g: backward for g in grads}}


_LSTM_GATE_AXES = {"dWx": 1, "dWh": 1, "db": 0}

register(Component(
    name="rnn_step",
    functions=("rnn_step_forward", "rnn_step_backward"),
    produced_by=_produced_by("rnn_step_forward", "rnn_step_backward", ("next_h",),
                             ("dx", "dprev_h", "dWx", "dWh", "db")),
    cases=_recurrent_cases("rnn_step", 1, step=True, with_cell=False),
    run_numpy=_numpy_rnn_step,
    run_torch=lambda case: _torch_step(case, lstm=False),
    description="one vanilla RNN timestep vs nn.RNNCell",
))
register(Component(
    name="rnn",
    functions=("rnn_forward", "rnn_backward"),
    produced_by=_produced_by("rnn_forward", "rnn_backward", ("h",),
                             ("dx", "dh0", "dWx", "dWh", "db")),
    cases=_recurrent_cases("rnn", 1, step=False, with_cell=False),
    run_numpy=_numpy_rnn,
    run_torch=lambda case: _torch_sequence(case, lstm=False),
    description="vanilla RNN over a sequence vs nn.RNN",
))
register(Component(
    name="lstm_step",
    functions=("lstm_step_forward", "lstm_step_backward"),
    produced_by=_produced_by("lstm_step_forward", "lstm_step_backward", ("next_h", "next_c"),
                             ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db")),
    cases=_recurrent_cases("lstm_step", 4, step=True, with_cell=True),
    run_numpy=_numpy_lstm_step,
    run_torch=lambda case: _torch_step(case, lstm=True),
    gate_axes=_LSTM_GATE_AXES,
    description="one LSTM timestep vs nn.LSTMCell",
))
register(Component(
    name="lstm",
    functions=("lstm_forward", "lstm_backward"),
    produced_by=_produced_by("lstm_forward", "lstm_backward", ("h",),
                             ("dx", "dh0", "dWx", "dWh", "db")),
    cases=_recurrent_cases("lstm", 4, step=False, with_cell=False),
    run_numpy=_numpy_lstm,
    run_torch=lambda case: _torch_sequence(case, lstm=True),
    gate_axes=_LSTM_GATE_AXES,
    description="LSTM over a sequence (zero initial cell) vs nn.LSTM",
))
