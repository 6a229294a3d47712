"""Catalog entries: stacked and bidirectional RNN, LSTM and GRU networks.

One entry per cell (``rnn_stacked``, ``lstm_stacked``, ``gru_stacked``); its cases are
the variants: 1 to 3 layers, forward only and bidirectional, and ``T=1``, ``N=1``,
``H=1``, ``D=1`` with the other sizes larger. The reference is one
``nn.RNN/LSTM/GRU(num_layers=L, bidirectional=..., batch_first=True)`` holding the same
weights (:func:`torch_ref.layout.make_stacked`), run from the same ``h0`` (and ``c0``);
the top layer's outputs, the final states and the gradients of the input, the
initial states and every weight are compared under random upstream gradients of
every output (``h``, ``h_n`` and ``c_n``).
"""
from __future__ import annotations

import numpy as np

from numpy_rnn.core.stacked import STACKED_CELLS
from numpy_rnn.functional import stacked_weight_names
from torch_ref.catalog.base import (
    ERROR_SIZES,
    Bench,
    Case,
    Component,
    Fuzz,
    Run,
    Sampler,
    at,
    error_input,
    full,
    register,
)
from torch_ref.catalog.recurrent import _FUZZ_OPTIONS, _prepared, draw_weights
from torch_ref.layout import CELLS

# (label, sizes, what is special); sizes name the layers and directions too
_ORDINARY = dict(N=3, T=4, D=5, H=4)  # D != H, D != 2H: a transposed weight shows
_SHAPES = tuple(
    (f"{layers} layer{'s' if layers > 1 else ''}" + (" bidirectional" if directions == 2
                                                     else ""),
     dict(_ORDINARY, layers=layers, directions=directions), ())
    for layers in (1, 2, 3) for directions in (1, 2)
) + tuple(
    (f"{dim}=1", dict(_ORDINARY, **{dim: 1}, layers=2, directions=2), (f"{dim}=1",))
    for dim in ("T", "N", "H", "D"))
# what error inputs, contract tests and gradient checks build when sizes name no network
DEFAULT_NETWORK = dict(layers=2, directions=2)
# the largest network of the cases: names of every tensor a case may have
_LARGEST = (3, True)


def _network(sizes: dict) -> tuple:
    """``(layers, directions)`` of a case of ``sizes``."""
    return (sizes.get("layers", DEFAULT_NETWORK["layers"]),
            sizes.get("directions", DEFAULT_NETWORK["directions"]))


def _describe(layers: int, directions: int) -> tuple:
    return (f"{layers} layer{'s' if layers > 1 else ''}",
            "bidirectional" if directions == 2 else "forward only")


def _states(cell: str) -> tuple:
    return ("h0", "c0") if CELLS[cell].cell_state else ("h0",)


def _outputs(cell: str) -> tuple:
    return ("h", "h_n", "c_n") if CELLS[cell].cell_state else ("h", "h_n")


def draw_stacked(draw: Sampler, cell: str, sizes: dict, *, state_scale: float = 0.5,
                 weight_scale: float = 1.0, upstream_scale: float = 1.0):
    """``(inputs, upstream)`` of one stacked case, inputs in call order: ``x``, the initial
    states, then the weights in ``stacked_weight_names`` order."""
    N, T, D, H = (sizes[k] for k in "NTDH")
    layers, directions = _network(sizes)
    S = layers * directions
    inputs = {"x": draw.normal(N, T, D)}
    for state in _states(cell):
        inputs[state] = draw.normal(S, N, H, scale=state_scale)
    names = iter(stacked_weight_names(cell, layers, directions == 2))
    for layer in range(layers):
        for _ in range(directions):
            for value in draw_weights(draw, cell, D if layer == 0 else directions * H, H,
                                      weight_scale).values():
                inputs[next(names)] = value
    upstream = {"h": draw.normal(N, T, directions * H, scale=upstream_scale)}
    for output in _outputs(cell)[1:]:
        upstream[output] = draw.normal(S, N, H, scale=upstream_scale)
    return inputs, upstream


def _cases(name: str, cell: str):
    def cases(dtype: str, seed: int):
        for label, sizes, special in _SHAPES:
            draw = Sampler(name, dtype, seed, label)
            inputs, upstream = draw_stacked(draw, cell, sizes)
            yield Case(name, label, dtype, seed, inputs, upstream, dict(sizes),
                       special + _describe(*_network(sizes))
                       + ("non-zero initial states and biases",))
    return cases


def _fuzz(cell: str) -> Fuzz:
    def build(draw: Sampler, s: dict, o: dict):
        sizes = dict(s, layers=o["layers"], directions=o["directions"])
        w = o["weight_scale"]
        # upstream gradients of a mean over batch and time, as the one-layer entries draw
        g = 1.0 / np.sqrt(s["N"] * s["T"])
        inputs, upstream = draw_stacked(draw, cell, sizes, state_scale=1.0, weight_scale=w,
                                        upstream_scale=g)
        return inputs, upstream, (*_describe(o["layers"], o["directions"]),
                                  f"weights x{w:g}", "upstream gradients / sqrt(N*T)")
    return Fuzz("NTDH", build, {**_FUZZ_OPTIONS, "layers": (1, 2, 3), "directions": (1, 2)})


# ---- NumPy run and torch reference ---------------------------------------------------

def _run_numpy(cell: str):
    forward, backward = f"{cell}_stacked_forward", f"{cell}_stacked_backward"
    fixed = ("x", *_states(cell))

    def run(api, case: Case) -> Run:
        weights = {k: v for k, v in case.inputs.items() if k not in fixed}
        *outputs, cache = getattr(api, forward)(*(case.inputs[k] for k in fixed), **weights)
        grads = getattr(api, backward)(*(case.upstream[o] for o in _outputs(cell)), cache)
        names = ("dx", *("d" + s for s in _states(cell)), *("d" + w for w in weights))
        return Run(dict(zip(_outputs(cell), outputs, strict=True)),
                   dict(zip(names, grads, strict=True)))
    return run


class _StackedGrads:
    """The weight gradients of a :func:`~torch_ref.layout.make_stacked` module, named as
    the NumPy arguments with a ``d``."""

    def __init__(self, module):
        self.module = module

    def __call__(self) -> dict:
        from torch_ref import layout as L

        return {"d" + k: v for k, v in L.stacked_grads(self.module).items()}


def _torch_stacked(case: Case, cell: str):
    """``torch_prepare``: the case's weights in one ``torch.nn`` module of ``cell``."""
    from torch_ref import layout as L

    states = _states(cell)
    weights = {k: v for k, v in case.inputs.items() if k not in ("x", *states)}
    module = L.make_stacked(cell, weights)
    leaves = {"x": L.tensor(case.inputs["x"], True),
              **{s: L.stacked_state(case.inputs[s]) for s in states}}

    def forward():
        state = tuple(leaves[s] for s in states)
        out, final = module(leaves["x"], state if len(state) > 1 else state[0])
        return (out, *(final if isinstance(final, tuple) else (final,)))
    return _prepared(case, leaves, forward, _outputs(cell), _StackedGrads(module))


def _flops(sizes: dict, cell: str) -> int:
    """The one-layer count (``6 N T G (D_in + H)``) summed over layers and directions."""
    layers, directions = _network(sizes)
    G = CELLS[cell].width * sizes["H"]
    total = 0
    for layer in range(layers):
        D_in = sizes["D"] if layer == 0 else directions * sizes["H"]
        total += directions * 6 * sizes["N"] * sizes["T"] * G * (D_in + sizes["H"])
    return total


def _gemms(sizes: dict, cell: str) -> tuple:
    """The one-layer products of each layer and direction: the sequence functions' for
    the RNN and GRU, the step functions' once per timestep for the LSTM (which runs step
    by step to give its final cell state)."""
    from torch_ref.catalog.recurrent import _recurrent_gemms

    layers, directions = _network(sizes)
    found = []
    for layer in range(layers):
        one = {"N": sizes["N"], "T": sizes["T"], "H": sizes["H"],
               "D": sizes["D"] if layer == 0 else directions * sizes["H"]}
        if cell == "lstm":
            gemms = tuple((m, k, n, count * one["T"]) for m, k, n, count in
                          _recurrent_gemms(one, cell, step=True))
        else:
            gemms = _recurrent_gemms(one, cell, step=False)
        found += list(gemms) * directions
    return tuple(found)


# ---- bad inputs ----------------------------------------------------------------------

def _errors(cell: str) -> tuple:
    """Bad inputs of a 2-layer bidirectional network of :data:`ERROR_SIZES`."""
    spec = CELLS[cell]
    N, T, D, H = (ERROR_SIZES[k] for k in "NTDH")
    layers, directions = _network(ERROR_SIZES)
    S, G = layers * directions, spec.width
    gate = f"{G}H" if G > 1 else "H"
    forward, backward = f"{cell}_stacked_forward", f"{cell}_stacked_backward"
    network = "(L*dirs=4 from the weights (2 layers, bidirectional))"
    b = spec.biases[0]

    def error(label, overrides, *fragments, function=forward):
        return error_input(function, label, overrides, *fragments)
    errors = [
        error("x rank", {"x": full(N, D)}, forward, "x", "3-D", "(N, T, D)", str((N, D))),
        error("x int", {"x": np.ones((N, T, D), dtype=np.int64)}, "x", "float32 or float64",
              "int64"),
        error("x NaN", {"x": at("x", (N - 1, T - 1, D - 1), np.nan)}, "x", "finite", "nan"),
        error("h0 of one layer", {"h0": full(N, H)}, "h0", "3-D", "(L*dirs, N, H)",
              str((N, H))),
        error("h0 layers", {"h0": full(S - 1, N, H)}, "h0",
              f"(L*dirs, N, H) = ({S}, {N}, {H})", f"got ({S - 1}, {N}, {H})", network),
        error("h0 batch", {"h0": full(S, N + 1, H)}, "h0", f"(L*dirs, N, H) = ({S}, {N}, {H})",
              f"got ({S}, {N + 1}, {H})", f"N={N} from x"),
        error("h0 float32", {"h0": full(S, N, H, dtype=np.float32)}, "h0", "float32", "x",
              "float64"),
        error("Wx_l0 input size", {"Wx_l0": full(D + 1, G * H)}, "Wx_l0",
              f"(D, {gate}) = ({D}, {G * H})", f"got ({D + 1}, {G * H})", f"D={D} from x"),
        # layer 1 reads both directions of layer 0: 2H features, not H
        error("Wx_l1 reads one direction", {"Wx_l1": full(H, G * H)}, "Wx_l1",
              f"(2H, {gate}) = ({2 * H}, {G * H})", f"got ({H}, {G * H})", f"H={H} from h0"),
        error("Wh_l1_reverse rows", {"Wh_l1_reverse": full(H + 1, G * H)}, "Wh_l1_reverse",
              f"(H, {gate}) = ({H}, {G * H})", f"got ({H + 1}, {G * H})"),
        error("Wh_l1 float32", {"Wh_l1": full(H, G * H, dtype=np.float32)}, "Wh_l1", "float32",
              "float64"),
        error("Wx_l1_reverse inf", {"Wx_l1_reverse": at("Wx_l1_reverse", (0, 0), np.inf)},
              "Wx_l1_reverse", "finite", "inf", "(0, 0)"),
        error(f"{b}_l0_reverse size", {f"{b}_l0_reverse": full(G * H - 1)}, f"{b}_l0_reverse",
              f"({gate},) = ({G * H},)", f"got ({G * H - 1},)"),
        error("unknown weight", {"W_l0": full(D, G * H)}, "unexpected argument 'W_l0'",
              "Wx_l{k}", "_reverse"),
        error("a third layer half given", {"Wx_l2": full(S * H, G * H)}, "missing weight(s)",
              "Wh_l2", f"{spec.biases[-1]}_l2_reverse", "3 layers, bidirectional"),
        error("empty time axis", {"x": full(N, 0, D)}, "x", "non-zero", f"({N}, 0, {D})"),
    ]
    if spec.cell_state:
        errors += [
            error("c0 batch", {"c0": full(S, N - 1, H)}, "c0",
                  f"(L*dirs, N, H) = ({S}, {N}, {H})", f"got ({S}, {N - 1}, {H})"),
            error("c0 of one layer", {"c0": full(N, H)}, "c0", "3-D", "(L*dirs, N, H)"),
        ]
    if cell == "gru":
        errors.append(error("reset_after not a bool", {"reset_after": "yes"}, forward,
                            "reset_after", "True or False", "'yes'"))
    errors += [
        error("dh of one direction", {"dh": full(N, T, H)}, backward, "dh",
              f"(N, T, 2H) = ({N}, {T}, {2 * H})", f"got ({N}, {T}, {H})",
              f"H={H} from {forward}", function=backward),
        error("dh time", {"dh": full(N, T + 1, 2 * H)}, "dh", f"got ({N}, {T + 1}, {2 * H})",
              f"T={T} from {forward}", function=backward),
        error("dh float32", {"dh": full(N, T, 2 * H, dtype=np.float32)}, "dh", "float32",
              forward, "float64", function=backward),
        error("dh NaN", {"dh": full(N, T, 2 * H, at=(N - 1, T - 1, 0))}, "dh", "finite",
              "nan", str((N - 1, T - 1, 0)), function=backward),
        error("dh_n layers", {"dh_n": full(S + 1, N, H)}, "dh_n",
              f"(L*dirs, N, H) = ({S}, {N}, {H})", f"got ({S + 1}, {N}, {H})",
              f"L*dirs={S} from {forward}", function=backward),
    ]
    if spec.cell_state:
        errors.append(error("dc_n batch", {"dc_n": full(S, N + 1, H)}, "dc_n",
                            f"(L*dirs, N, H) = ({S}, {N}, {H})", f"got ({S}, {N + 1}, {H})",
                            function=backward))
    return tuple(errors)


# ---- the entries ---------------------------------------------------------------------

def _register(cell: str) -> None:
    spec = CELLS[cell]
    name = f"{cell}_stacked"
    forward, backward = f"{name}_forward", f"{name}_backward"
    largest = stacked_weight_names(cell, *_LARGEST)
    module = f"nn.{spec.module}"
    register(Component(
        name=name,
        signature={
            forward: (("x", *_states(cell), "**weights"), (*_outputs(cell), "cache")),
            backward: (tuple("d" + o for o in _outputs(cell)) + ("cache",),
                       ("dx", *("d" + s for s in _states(cell)), "*dweights"))},
        cases=_cases(name, cell),
        run_numpy=_run_numpy(cell),
        torch_prepare=lambda case: _torch_stacked(case, cell),
        build=lambda draw, sizes: draw_stacked(draw, cell, sizes),
        bench=Bench(sizes=lambda grid: {**{k: grid[k] for k in "NTDH"}, **DEFAULT_NETWORK},
                    flops=lambda sizes: _flops(sizes, cell),
                    gemms=lambda sizes: _gemms(sizes, cell),
                    note=f"{module}(num_layers=2, bidirectional=True)"),
        fuzz=_fuzz(cell),
        errors=_errors(cell),
        calls={forward: f"{cell}_forward" if cell != "lstm" else "lstm_step_forward",
               backward: f"{cell}_backward" if cell != "lstm" else "lstm_step_backward"},
        gate_axes={"d" + w: 1 if w.startswith("W") else 0 for w in largest}
        if spec.width > 1 else {},
        cell=cell,
        description=f"{spec.module} of 1-3 layers, forward only and bidirectional, vs "
                    f"{module}(num_layers, bidirectional)"
                    + (" from (h0, c0)" if spec.cell_state else ""),
    ))


# every cell with a torch layout and a stacked composition
for _cell in CELLS:
    if _cell in STACKED_CELLS:
        _register(_cell)


# ---- the classifier: a stacked RNN read out at the last step --------------------------

_CLASSIFIER_ORDINARY = dict(N=3, T=4, D=5, H=4, M=3)
_CLASSIFIER_SHAPES = tuple(
    (f"{layers} layer{'s' if layers > 1 else ''}", dict(_CLASSIFIER_ORDINARY, layers=layers),
     ()) for layers in (1, 2, 3)
) + tuple(
    (f"{dim}=1", dict(_CLASSIFIER_ORDINARY, **{dim: 1}, layers=2), (f"{dim}=1",))
    for dim in ("N", "T", "H", "D", "M"))


def draw_classifier(draw: Sampler, sizes: dict, weight_scale: float = 1.0):
    """``(inputs, upstream)`` of a classifier case: ``x``, ``h0``, the readout ``w``, ``b``,
    then the RNN's weights in ``stacked_weight_names`` order; the upstream ``logits``."""
    N, T, D, H, M = (sizes[k] for k in "NTDHM")
    layers = sizes.get("layers", 2)
    inputs = {"x": draw.normal(N, T, D), "h0": draw.normal(layers, N, H, scale=0.5),
              "w": draw.normal(H, M, scale=1.0 / np.sqrt(H)), "b": draw.normal(M, scale=0.5)}
    names = iter(stacked_weight_names("rnn", layers))
    for layer in range(layers):
        for value in draw_weights(draw, "rnn", D if layer == 0 else H, H,
                                  scale=weight_scale).values():
            inputs[next(names)] = value
    return inputs, {"logits": draw.normal(N, M)}


def _fuzz_classifier(draw: Sampler, s: dict, o: dict):
    sizes = dict(s, layers=o["layers"])
    inputs, upstream = draw_classifier(draw, sizes, weight_scale=o["weight_scale"])
    # weight gradients sum N*T terms: a mean's upstream keeps them O(1) (float32's atol)
    g = float(1.0 / np.sqrt(s["N"] * s["T"]))  # a Python float keeps float32 float32
    return inputs, {"logits": upstream["logits"] * g}, (
        *_describe(o["layers"], 1), f"weights x{o['weight_scale']:g}",
        "upstream gradients / sqrt(N*T)")


def _classifier_cases(dtype: str, seed: int):
    for label, sizes, special in _CLASSIFIER_SHAPES:
        draw = Sampler("rnn_classifier", dtype, seed, label)
        inputs, upstream = draw_classifier(draw, sizes)
        layers = sizes["layers"]
        yield Case("rnn_classifier", label, dtype, seed, inputs, upstream, dict(sizes),
                   special + (f"{layers} layer{'s' if layers > 1 else ''}",
                              "non-zero initial states and biases"))


def _classifier_numpy(api, case: Case) -> Run:
    fixed = ("x", "h0", "w", "b")
    weights = {k: v for k, v in case.inputs.items() if k not in fixed}
    logits, cache = api.rnn_classifier_forward(*(case.inputs[k] for k in fixed), **weights)
    grads = api.rnn_classifier_backward(case.upstream["logits"], cache)
    names = ("dx", "dh0", "dw", "db", *("d" + w for w in weights))
    return Run({"logits": logits}, dict(zip(names, grads, strict=True)))


def _classifier_torch(case: Case):
    """``torch_prepare``: ``nn.RNN(num_layers)`` and ``nn.Linear`` on ``out[:, -1]``."""
    from torch_ref import layout as L

    i = case.inputs
    weights = {k: v for k, v in i.items() if k not in ("x", "h0", "w", "b")}
    rnn = L.make_stacked("rnn", weights)
    readout = L.make_linear(i["w"], i["b"])
    leaves = {"x": L.tensor(i["x"], True), "h0": L.stacked_state(i["h0"])}

    class _Grads:
        module = rnn

        def __call__(self):
            dw, db = L.linear_grads(readout)
            return {"dw": dw, "db": db,
                    **{"d" + k: v for k, v in L.stacked_grads(rnn).items()}}

    def forward():
        readout.zero_grad(set_to_none=True)
        out, _ = rnn(leaves["x"], leaves["h0"])
        return (readout(out[:, -1]),)
    return _prepared(case, leaves, forward, ("logits",), _Grads())


def _classifier_errors() -> tuple:
    N, T, D, H, M = (ERROR_SIZES[k] for k in "NTDHM")
    forward, backward = "rnn_classifier_forward", "rnn_classifier_backward"

    def error(label, overrides, *fragments, function=forward):
        return error_input(function, label, overrides, *fragments)
    return (
        error("x rank", {"x": full(N, D)}, forward, "x", "3-D", "(N, T, D)"),
        error("h0 layers", {"h0": full(1, N, H)}, "h0", f"(L*dirs, N, H) = (2, {N}, {H})",
              f"got (1, {N}, {H})"),
        error("w rows", {"w": full(H + 1, M)}, forward, "w", "(H, M)", f"got ({H + 1}, {M})"),
        error("b size", {"b": full(M + 1)}, forward, "b", f"got ({M + 1},)"),
        error("w float32", {"w": full(H, M, dtype=np.float32)}, forward, "w", "float32",
              "float64"),
        error("a reverse direction", {"Wx_l0_reverse": full(D, H)}, forward, "forward-only",
              "Wx_l0_reverse"),
        error("dlogits width", {"dlogits": full(N, M + 1)}, backward, "dlogits",
              f"(N, M) = ({N}, {M})", f"got ({N}, {M + 1})", function=backward),
        error("dlogits batch", {"dlogits": full(N + 1, M)}, backward, "dlogits",
              f"got ({N + 1}, {M})", function=backward),
        error("dlogits float32", {"dlogits": full(N, M, dtype=np.float32)}, backward,
              "dlogits", "float32", "float64", function=backward),
        error("dlogits NaN", {"dlogits": full(N, M, at=(N - 1, M - 1))}, backward, "dlogits",
              "finite", "nan", function=backward),
    )


register(Component(
    name="rnn_classifier",
    signature={
        "rnn_classifier_forward": (("x", "h0", "w", "b", "**weights"), ("logits", "cache")),
        "rnn_classifier_backward": (("dlogits", "cache"),
                                    ("dx", "dh0", "dw", "db", "*dweights"))},
    cases=_classifier_cases,
    run_numpy=_classifier_numpy,
    torch_prepare=_classifier_torch,
    build=draw_classifier,
    fuzz=Fuzz("NTDHM", _fuzz_classifier, {**_FUZZ_OPTIONS, "layers": (1, 2, 3)}),
    errors=_classifier_errors(),
    calls={"rnn_classifier_forward": "rnn_step_forward",
           "rnn_classifier_backward": "rnn_step_backward"},
    cell="rnn",
    description="stacked RNN of 1-3 layers read out by an affine layer at the last step vs "
                "nn.RNN(num_layers) + nn.Linear on out[:, -1] (a sequence classifier)",
))
