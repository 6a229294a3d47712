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

from torch_ref.catalog.base import (
    ERROR_SIZES,
    Bench,
    BenchTarget,
    Case,
    Component,
    ErrorInput,
    Fuzz,
    Run,
    Sampler,
    register,
)
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


# Weights x2 make the recurrence expand: rounding grows ~2x per step in both
# implementations, past float32's 1e-4 tolerance within ~10 steps. float64 has room
# for it, so only float64 draws it.
_FUZZ_OPTIONS = {"weight_scale": {"float64": (1.0, 0.5, 2.0), "float32": (1.0, 0.5)}}


def _fuzz_recurrent(cell: str, step: bool):
    def build(draw: Sampler, s: dict, o: dict):
        w = o["weight_scale"]
        # Upstream gradients of a mean over batch and time: weight gradients sum N*T
        # terms, and this keeps them O(1) at any size, where float32's absolute atol
        # (1e-5) applies; at 144 unit terms their rounding alone would reach it.
        g = 1.0 / np.sqrt(s["N"] * (1 if step else s["T"]))
        inputs, upstream = draw_recurrent(draw, cell, step, s, h0_scale=1.0, weight_scale=w,
                                          upstream_scale=g)
        return inputs, upstream, (f"weights x{w:g}", "upstream gradients / sqrt(N*T)")
    return Fuzz("NDH" if step else "NTDH", build, _FUZZ_OPTIONS)


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


# ---- torch references -------------------------------------------------------------

def _prepared(case: Case, leaves: dict, forward, out_names: tuple, params=None):
    """``(run, result)`` around ``forward() -> outputs``: ``run`` resets the gradients of
    ``leaves`` (and of the module ``params``), runs forward and backward with the
    case's upstream gradients; ``result`` reads outputs and gradients in NumPy layout
    (``params()`` -> the parameter gradients by name)."""
    import torch

    from torch_ref import layout as L

    upstream = [L.tensor(case.upstream[name]) for name in out_names]
    last = {}

    def run():
        for t in leaves.values():
            t.grad = None
        if params is not None:
            params.module.zero_grad(set_to_none=True)
        outs = forward()
        torch.autograd.backward(outs, upstream)
        last["outs"] = outs

    def result() -> Run:
        grads = {"d" + k: L.to_numpy(t.grad) for k, t in leaves.items()}
        if params is not None:
            grads.update(params())
        return Run({k: L.to_numpy(v) for k, v in zip(out_names, last["outs"], strict=True)},
                   grads)
    return run, result


class _ModuleGrads:
    """The parameter gradients of a layout module, named as the NumPy arguments."""

    def __init__(self, module, cell: str):
        self.module, self.names = module, ("dWx", "dWh", *("d" + b for b in CELLS[cell].biases))

    def __call__(self) -> dict:
        from torch_ref import layout as L

        return dict(zip(self.names, L.recurrent_grads(self.module), strict=True))


def _torch_module(case: Case, cell: str, step: bool):
    """``torch_prepare`` of a recurrent component: the ``torch.nn`` module of ``cell``."""
    from torch_ref import layout as L

    i = case.inputs
    module = L.make_recurrent(cell, *(i[k] for k in ("Wx", "Wh", *CELLS[cell].biases)),
                              step=step)
    if step:
        leaves = {k: L.tensor(i[k], True) for k in ("x", "prev_h", "prev_c") if k in i}
        state = tuple(leaves[k] for k in ("prev_h", "prev_c") if k in leaves)
        out_names = tuple(case.upstream)

        def forward():
            out = module(leaves["x"], state if len(state) > 1 else state[0])
            return out if isinstance(out, tuple) else (out,)
    else:
        leaves = {"x": L.tensor(i["x"], True), "h0": L.initial_state(i["h0"])}
        out_names = ("h",)

        def forward():
            return (L.run_sequence(module, leaves["x"], leaves["h0"]),)
    run, result = _prepared(case, leaves, forward, out_names, _ModuleGrads(module, cell))
    if step:
        return run, result

    def sequence_result() -> Run:
        r = result()
        r.grads["dh0"] = r.grads["dh0"][0]  # torch's leading num_layers axis
        return r
    return run, sequence_result


def _torch_gru_reset_before(case: Case, step: bool):
    """``torch_prepare`` of the GRU with ``n = tanh(x Wx_n + bx_n + (r * h) Wh_n + bh_n)``,
    the equations in torch operations."""
    import torch

    from torch_ref import layout as L

    i = case.inputs
    names = ("x", "prev_h" if step else "h0", "Wx", "Wh", "bx", "bh")
    leaves = {k: L.tensor(i[k], True) for k in names}

    def forward():
        x, h, Wx, Wh, bx, bh = leaves.values()
        H = h.shape[1]
        hs = []
        for x_t in ([x] if step else x.unbind(1)):
            a = x_t @ Wx + bx
            rz = torch.sigmoid(a[:, :2 * H] + h @ Wh[:, :2 * H] + bh[:2 * H])
            r, z = rz[:, :H], rz[:, H:]
            n = torch.tanh(a[:, 2 * H:] + (r * h) @ Wh[:, 2 * H:] + bh[2 * H:])
            h = (1 - z) * n + z * h
            hs.append(h)
        return (hs[0] if step else torch.stack(hs, 1),)
    return _prepared(case, leaves, forward, ("next_h",) if step else ("h",))


def _recurrent_flops(sizes: dict, cell: str) -> int:
    """Forward input projection and recurrent products, backward dx, dWx, dWh, dh."""
    G = CELLS[cell].width * sizes["H"]
    return 6 * sizes["N"] * sizes.get("T", 1) * G * (sizes["D"] + sizes["H"])


_LARGE, _SMALL = (64, 64, 128, 256), (30, 50, 15, 100)
# goals of the benchmark rows (python -m torch_ref bench), by cell
_TARGETS = {
    "rnn": (BenchTarget("ratio", 0.7, _LARGE, "float64"),
            BenchTarget("ratio", 0.8, _LARGE, "float32"), BenchTarget("ratio", 1.0, _SMALL)),
    "gru": (BenchTarget("ratio", 1.0, _LARGE, "float64"),
            BenchTarget("ratio", 1.0, _SMALL, "float64")),
}
_TARGETS["lstm"] = _TARGETS["rnn"] + (BenchTarget("gemm_fraction", 0.6, _LARGE),)


def _errors(cell: str, step: bool, forward: str, backward: str) -> tuple:
    """Bad inputs every recurrent component must refuse, from the cell's layout."""
    spec = CELLS[cell]
    N, T, D, H = (ERROR_SIZES[k] for k in "NTDH")
    G = spec.width
    gate = f"{G}H" if G > 1 else "H"

    def full(*shape, dtype=np.float64):
        return np.full(shape, 0.5, dtype=dtype)
    errors = [
        ErrorInput(f"{forward} Wx gate width", forward, {"Wx": full(D, G * H + 1)}, ValueError,
                   ("Wx", f"(D, {gate}) = ({D}, {G * H})", f"got ({D}, {G * H + 1})")),
        ErrorInput(f"{forward} Wh rows", forward, {"Wh": full(H + 1, G * H)}, ValueError,
                   ("Wh", f"(H, {gate}) = ({H}, {G * H})", f"got ({H + 1}, {G * H})")),
        ErrorInput(f"{forward} Wh float32", forward, {"Wh": full(H, G * H, dtype=np.float32)},
                   ValueError, ("Wh", "float32", "x", "float64")),
        ErrorInput(f"{forward} x NaN", forward,
                   {"x": _with_nan(full(*((N, D) if step else (N, T, D))))}, ValueError,
                   ("x", "finite", "nan")),
    ]
    errors += [ErrorInput(f"{forward} {b} size", forward, {b: full(G * H - 1)}, ValueError,
                          (b, f"({gate},) = ({G * H},)", f"got ({G * H - 1},)"))
               for b in spec.biases]
    upstream = "dnext_h" if step else "dh"
    shape = (N, H - 1) if step else (N, T, H - 1)
    errors.append(ErrorInput(f"{backward} {upstream} width", backward,
                             {upstream: full(*shape)}, ValueError,
                             (backward, upstream, f"got {shape}", f"from {forward}")))
    return tuple(errors)


def _with_nan(arr):
    arr.flat[-1] = np.nan
    return arr


def _produced_by(forward: str, backward: str, outputs, grads) -> dict:
    return {**{o: forward for o in outputs}, **{g: backward for g in grads}}


def _register_recurrent(name: str, cell: str, step: bool, reference, description: str,
                        timed: bool = True, extra_errors: tuple = (), **options):
    spec = CELLS[cell]
    prefix = f"{cell}_step" if step else cell
    forward, backward = f"{prefix}_forward", f"{prefix}_backward"
    outputs = ("next_h", "next_c") if step and spec.cell_state else (
        ("next_h",) if step else ("h",))
    grads = ("dx", "dprev_h" if step else "dh0", *(("dprev_c",) if step and spec.cell_state
                                                  else ()),
             "dWx", "dWh", *("d" + b for b in spec.biases))
    gate_axes = {"dWx": 1, "dWh": 1, **{"d" + b: 0 for b in spec.biases}}
    dims = ("N", "D", "H") if step else ("N", "T", "D", "H")
    register(Component(
        name=name,
        functions=(forward, backward),
        produced_by=_produced_by(forward, backward, outputs, grads),
        cases=_recurrent_cases(name, cell, step),
        run_numpy=_numpy_run(forward, backward, outputs, grads, **options),
        torch_prepare=reference,
        build=lambda draw, sizes: draw_recurrent(draw, cell, step, sizes),
        bench=Bench(sizes=lambda grid: {k: grid[k] for k in dims},
                    flops=lambda sizes: _recurrent_flops(sizes, cell),
                    targets=() if step else _TARGETS[cell],
                    note=f"nn.{spec.module}" + ("Cell" if step else "")) if timed else None,
        fuzz=_fuzz_recurrent(cell, step),
        options=options,
        errors=_errors(cell, step, forward, backward) + extra_errors,
        gate_axes=gate_axes if spec.width > 1 else {},
        cell=cell,
        description=description,
    ))


for _cell in CELLS:
    _module = CELLS[_cell].module
    _register_recurrent(f"{_cell}_step", _cell, True,
                        lambda case, c=_cell: _torch_module(case, c, step=True),
                        f"one {_module} timestep vs nn.{_module}Cell")
    _register_recurrent(_cell, _cell, False,
                        lambda case, c=_cell: _torch_module(case, c, step=False),
                        f"{_module} over a sequence vs nn.{_module}"
                        + (" (zero initial cell state)" if CELLS[_cell].cell_state else ""))


def _flag_error(forward: str) -> ErrorInput:
    return ErrorInput(f"{forward} reset_after not a bool", forward, {"reset_after": "yes"},
                      ValueError, (forward, "reset_after", "True or False", "'yes'"))


_register_recurrent("gru_step_reset_before", "gru", True,
                    lambda case: _torch_gru_reset_before(case, step=True),
                    "one GRU timestep, reset gate applied before the hidden product, "
                    "vs the equations in torch operations", timed=False,
                    extra_errors=(_flag_error("gru_step_forward"),), reset_after=False)
_register_recurrent("gru_reset_before", "gru", False,
                    lambda case: _torch_gru_reset_before(case, step=False),
                    "GRU over a sequence, reset gate applied before the hidden product, "
                    "vs the equations in torch operations", timed=False,
                    extra_errors=(_flag_error("gru_forward"),), reset_after=False)
