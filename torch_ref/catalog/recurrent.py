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
    CATALOG,
    ERROR_SIZES,
    Bench,
    BenchTarget,
    Case,
    Component,
    ErrorInput,
    Fuzz,
    Mistake,
    Run,
    Sampler,
    at,
    drawn_sizes,
    error_input,
    full,
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
    ("D=1", dict(N=3, T=4, D=1, H=5), ("D=1 (one input feature)",)),
    ("long", dict(N=2, T=12, D=3, H=4), ("T > 1", "long sequence")),
)
_STEP_SHAPES = tuple((label, {k: v for k, v in sizes.items() if k != "T"},
                      tuple(s for s in special if not s.startswith("T")))
                     for label, sizes, special in _SEQUENCE_SHAPES
                     if label not in ("T=1", "long"))
# biases of +-1e3: every pre-activation of order 1e3, where tanh and sigmoid are exactly
# -1, 0 or 1 in every textbook formula (1 / (1 + exp(-a)) overflows to exactly 0: its flag
# is expected) and exp(a) / (1 + exp(a)) is NaN; the gradients stay well conditioned in
# both dtypes
_SATURATED = ("saturated", dict(N=3, T=4, D=5, H=6),
              ("saturated pre-activations (biases of +-1e3)",))
# sizes nobody listed, drawn from the run's seed
_DRAWN_RANGES = {"N": (1, 5), "T": (1, 6), "D": (1, 6), "H": (1, 6)}


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
        label, sizes, special = _SATURATED
        sizes = {k: v for k, v in sizes.items() if not (step and k == "T")}
        draw = Sampler(name, dtype, seed, label)
        inputs, upstream = draw_recurrent(draw, cell, step, sizes)
        bias = CELLS[cell].biases[0]
        inputs[bias] = (np.sign(inputs[bias]) * 1e3 + inputs[bias]).astype(dtype)
        yield Case(name, label, dtype, seed, inputs, upstream, sizes, special,
                   extra={"flags_expected": True})
        ranges = {k: v for k, v in _DRAWN_RANGES.items() if not (step and k == "T")}
        sizes = drawn_sizes(name, seed, ranges)
        draw = Sampler(name, dtype, seed, "drawn")
        inputs, upstream = draw_recurrent(draw, cell, step, sizes)
        yield Case(name, "drawn", dtype, seed, inputs, upstream, sizes,
                   ("sizes drawn from the seed",))
    return cases


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


def _recurrent_gemms(sizes: dict, cell: str, step: bool) -> tuple:
    """The matrix products of numpy_rnn's forward and backward pass, ``(m, k, n, count)``.

    A step multiplies batch-major: ``x Wx``, ``h Wh``, then ``da Wx^T``, ``da Wh^T``,
    ``x^T da``, ``h^T da``. A sequence projects every input at once and multiplies
    the recurrence step by step; the gated cells run feature-major (``Wh^T h``,
    ``Wh da``: see ``numpy_rnn/core/_kernels.py``), the vanilla RNN batch-major.
    Either way the weight gradients and ``dx`` are one product over all timesteps.
    """
    N, D, H = sizes["N"], sizes["D"], sizes["H"]
    G = CELLS[cell].width * H
    if step:
        return ((N, D, G, 1), (N, H, G, 1), (N, G, D, 1), (N, G, H, 1), (D, N, G, 1),
                (H, N, G, 1))
    T = sizes["T"]
    rows = T * N
    if CELLS[cell].width == 1:
        return ((rows, D, G, 1), (N, H, G, T), (N, G, H, T), (D, rows, G, 1),
                (H, rows, G, 1), (rows, G, D, 1))
    gated = ((G, D, N, T), (G, H, N, T), (H, G, N, T), (H, rows, G, 1))
    if cell == "gru":  # the input side's n block differs from the hidden side's
        return gated + ((D, rows, 2 * H, 1), (D, rows, H, 1), (rows, 2 * H, D, 1),
                        (rows, H, D, 1))
    return gated + ((D, rows, G, 1), (rows, G, D, 1))


_LARGE, _SMALL = (64, 64, 128, 256), (30, 50, 15, 100)
# goals of the benchmark rows (python -m torch_ref bench), by cell
_TARGETS = {
    "rnn": (BenchTarget("ratio", 0.7, _LARGE, "float64"),
            BenchTarget("ratio", 0.8, _LARGE, "float32"), BenchTarget("ratio", 1.0, _SMALL)),
    "gru": (BenchTarget("ratio", 1.0, _LARGE, "float64"),
            BenchTarget("ratio", 1.0, _SMALL, "float64")),
}
_TARGETS["lstm"] = _TARGETS["rnn"]
# the gated cells at the speed of their matrix products
for _gated in ("lstm", "gru"):
    _TARGETS[_gated] += (BenchTarget("gemm_fraction", 0.8, _LARGE),
                         BenchTarget("gemm_fraction", 0.6, _SMALL))


def _errors(cell: str, step: bool, forward: str, backward: str) -> tuple:
    """Bad inputs every recurrent component must refuse, from the cell's layout."""
    spec = CELLS[cell]
    N, T, D, H = (ERROR_SIZES[k] for k in "NTDH")
    G = spec.width
    gate = f"{G}H" if G > 1 else "H"
    state = "prev_h" if step else "h0"
    x_shape, x_dims = ((N, D), "(N, D)") if step else ((N, T, D), "(N, T, D)")
    from_h = f"H={H} from {state}"

    def last(shape):
        return tuple(d - 1 for d in shape)

    def error(label, overrides, *fragments, function=forward):
        return error_input(function, label, overrides, *fragments)
    errors = [
        error("x rank", {"x": full(*((N, T, D) if step else (N, D)))}, forward, "x",
              f"{len(x_shape)}-D", x_dims, str((N, T, D) if step else (N, D))),
        error("x int", {"x": np.ones(x_shape, dtype=np.int64)}, "x", "float32 or float64",
              "int64"),
        error("x NaN", {"x": at("x", last(x_shape), np.nan)}, "x", "finite", "nan",
              str(last(x_shape))),
        error(f"{state} batch", {state: full(N + 1, H)}, state, f"(N, H) = ({N}, {H})",
              f"got ({N + 1}, {H})", f"N={N} from x"),
        error(f"{state} float32", {state: full(N, H, dtype=np.float32)}, state, "float32", "x",
              "float64"),
        error("Wx input size", {"Wx": full(D + 1, G * H)}, "Wx", f"(D, {gate}) = ({D}, {G * H})",
              f"got ({D + 1}, {G * H})", f"D={D} from x"),
        error("Wx gate width", {"Wx": full(D, G * H + 1)}, "Wx", f"(D, {gate}) = ({D}, {G * H})",
              f"got ({D}, {G * H + 1})", from_h),
        error("Wh rows", {"Wh": full(H + 1, G * H)}, "Wh", f"(H, {gate}) = ({H}, {G * H})",
              f"got ({H + 1}, {G * H})", from_h),
        error("Wh gate width", {"Wh": full(H, G * H + 1)}, "Wh", f"(H, {gate}) = ({H}, {G * H})",
              f"got ({H}, {G * H + 1})"),
        error("Wh float32", {"Wh": full(H, G * H, dtype=np.float32)}, "Wh", "float32", "x",
              "float64"),
        error("Wh inf", {"Wh": at("Wh", (0, G * H - 1), np.inf)}, "Wh", "finite", "inf",
              f"(0, {G * H - 1})"),
    ]
    for b in spec.biases:
        errors += [error(f"{b} size", {b: full(G * H - 1)}, b, f"({gate},) = ({G * H},)",
                         f"got ({G * H - 1},)", from_h),
                   error(f"{b} 2-D", {b: full(1, G * H)}, b, "1-D", f"({gate},)",
                         f"(1, {G * H})")]
    if not step:
        errors.append(error("empty time axis", {"x": full(N, 0, D)}, "x", "non-zero",
                            f"({N}, 0, {D})"))
    if step and spec.cell_state:
        errors.append(error("prev_c width", {"prev_c": full(N, H + 2)}, "prev_c",
                            f"(N, H) = ({N}, {H})", f"got ({N}, {H + 2})"))
    upstream, up_shape = ("dnext_h", (N, H)) if step else ("dh", (N, T, H))
    dims = "(N, H)" if step else "(N, T, H)"
    errors += [
        error(f"{upstream} width", {upstream: full(*up_shape[:-1], H - 1)}, backward, upstream,
              f"got {(*up_shape[:-1], H - 1)}", f"from {forward}", function=backward),
        error(f"{upstream} batch", {upstream: full(N + 1, *up_shape[1:])}, upstream,
              f"{dims} = {up_shape}", f"got {(N + 1, *up_shape[1:])}", f"N={N} from {forward}",
              function=backward),
        error(f"{upstream} float32", {upstream: full(*up_shape, dtype=np.float32)}, upstream,
              "float32", forward, "float64", function=backward),
        error(f"{upstream} NaN", {upstream: full(*up_shape, at=last(up_shape))}, upstream,
              "finite", "nan", str(last(up_shape)), function=backward),
    ]
    if not step:
        errors.append(error("dh time", {"dh": full(N, T + 1, H)}, "dh",
                            f"(N, T, H) = ({N}, {T}, {H})", f"got ({N}, {T + 1}, {H})",
                            f"T={T} from {forward}", function=backward))
    if step and spec.cell_state:
        errors.append(error("dnext_c width", {"dnext_c": full(N, G * H)}, "dnext_c",
                            f"(N, H) = ({N}, {H})", f"got ({N}, {G * H})", function=backward))
    return tuple(errors)


def _mistakes(cell: str, step: bool) -> tuple:
    """Known wrong answers of a recurrent component whose torch reference is the cell's
    torch module: through time for a sequence, gate blocks read in another order."""
    spec = CELLS[cell]
    params = ("dWx", "dWh", *("d" + b for b in spec.biases))
    found = []
    if not step:
        found.append(Mistake("hidden state detached", (
            "no gradient flows back through the hidden state: the upstream gradient of step "
            "t must be dh[:, t] + the dprev_h of step t+1")))
        if spec.cell_state:
            found.append(Mistake("cell state detached", (
                "the cell-state gradient is not carried across time: dprev_c of step t+1 "
                "must be the dnext_c of step t")))
        sums = "the contributions of the timesteps must be summed (+=)"
        found += [
            Mistake("one timestep", f"{{tensor}} matches timestep 0 alone: {sums}, not assigned",
                    tensors=params, args={"step": 0}),
            Mistake("one timestep", f"{{tensor}} matches the last timestep alone: {sums} over "
                    f"the whole loop", tensors=params, args={"step": -1}),
            Mistake("timestep dropped", "misses the contribution of timestep 0: the backward "
                    "time loop stops one step early", tensors=params, args={"step": 0}),
            Mistake("timestep dropped", "misses the contribution of the last timestep: the "
                    "backward time loop starts one step early", tensors=params,
                    args={"step": -1})]
    if spec.width > 1:
        found.append(Mistake("gate order", (
            f"matches the {spec.module} with its {spec.width}H blocks read as [{{believed}}]; "
            f"the layout is [{', '.join(spec.gates)}] (torch's own order is "
            f"{', '.join(spec.torch_gates)})"), on="outputs"))
    return tuple(found)


def _register_recurrent(name: str, cell: str, step: bool, reference, description: str,
                        timed: bool = True, extra_errors: tuple = (), mistakes: tuple = (),
                        **options):
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
    state = ("prev_h", "prev_c") if step and spec.cell_state else (
        ("prev_h",) if step else ("h0",))
    arguments = ("x", *state, "Wx", "Wh", *spec.biases)
    register(Component(
        name=name,
        signature={forward: (arguments, (*outputs, "cache")),
                   backward: (tuple("d" + o for o in outputs) + ("cache",), grads)},
        cases=_recurrent_cases(name, cell, step),
        torch_prepare=reference,
        build=lambda draw, sizes: draw_recurrent(draw, cell, step, sizes),
        bench=Bench(sizes=lambda grid: {k: grid[k] for k in dims},
                    flops=lambda sizes: _recurrent_flops(sizes, cell),
                    gemms=lambda sizes: _recurrent_gemms(sizes, cell, step),
                    targets=() if step else _TARGETS[cell],
                    note=f"nn.{spec.module}" + ("Cell" if step else "")) if timed else None,
        fuzz=_fuzz_recurrent(cell, step),
        options=options,
        errors=_errors(cell, step, forward, backward) + extra_errors,
        mistakes=mistakes,
        calls={} if step else {forward: f"{cell}_step_forward",
                               backward: f"{cell}_step_backward"},
        gate_axes=gate_axes if spec.width > 1 else {},
        cell=cell,
        description=description,
    ))


for _cell in CELLS:
    _module = CELLS[_cell].module
    _register_recurrent(f"{_cell}_step", _cell, True,
                        lambda case, c=_cell: _torch_module(case, c, step=True),
                        f"one {_module} timestep vs nn.{_module}Cell",
                        mistakes=_mistakes(_cell, step=True))
    _register_recurrent(_cell, _cell, False,
                        lambda case, c=_cell: _torch_module(case, c, step=False),
                        f"{_module} over a sequence vs nn.{_module}"
                        + (" (zero initial cell state)" if CELLS[_cell].cell_state else ""),
                        mistakes=_mistakes(_cell, step=False))


def _flag_error(forward: str) -> ErrorInput:
    return error_input(forward, "reset_after not a bool", {"reset_after": "yes"}, forward,
                       "reset_after", "True or False", "'yes'")


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


def _zero_biases(cases):
    """``cases`` with every bias zero (the saturated case, whose saturation lives in its
    biases, left out): the GRU of courses whose cell has no biases."""
    import dataclasses

    def zeroed(dtype: str, seed: int):
        for case in cases(dtype, seed):
            if case.label == "saturated":
                continue
            inputs = {k: np.zeros_like(v) if k in CELLS["gru"].biases else v
                      for k, v in case.inputs.items()}
            special = tuple("non-zero h0, zero biases" if s == "non-zero h0 and biases" else s
                            for s in case.special)
            yield dataclasses.replace(case, inputs=inputs, special=special)
    return zeroed


_BIASED = CATALOG["gru_step_reset_before"]
register(Component(
    name="gru_step_reset_before_nobias",
    signature=_BIASED.signature,
    cases=_zero_biases(_BIASED.cases),
    torch_prepare=lambda case: _torch_gru_reset_before(case, step=True),
    build=lambda draw, sizes: _zero_biases_of(draw_recurrent(draw, "gru", True, sizes)),
    options={"reset_after": False},
    fuzz=Fuzz(_BIASED.fuzz.dims, lambda draw, s, o: _zero_biases_of_fuzzed(
        _BIASED.fuzz.build(draw, s, o)), _BIASED.fuzz.options),
    mistakes=_BIASED.mistakes,
    gate_axes=_BIASED.gate_axes,
    cell="gru",
    description="one GRU timestep, reset gate applied before the hidden product, zero "
                "biases (a cell without biases), vs the equations in torch operations",
))


def _zero_biases_of(drawn):
    inputs, upstream = drawn
    return ({k: np.zeros_like(v) if k in CELLS["gru"].biases else v
             for k, v in inputs.items()}, upstream)


def _zero_biases_of_fuzzed(built):
    inputs, upstream, special = built
    return (*_zero_biases_of((inputs, upstream)), (*special, "zero biases"))
