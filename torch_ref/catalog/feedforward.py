"""Catalog entries without recurrence: word embedding, affine layers, sigmoid."""
from __future__ import annotations

import numpy as np

from torch_ref.catalog.base import (
    ERROR_SIZES,
    INDEX_PATTERNS,
    Bench,
    Case,
    Component,
    Fuzz,
    Mistake,
    Run,
    Sampler,
    at,
    draw_indices,
    drawn_sizes,
    error_input,
    full,
    register,
)

_EMBEDDING_CASES = (
    ("ordinary", dict(N=3, T=4, V=7, D=5), ()),
    ("N=1", dict(N=1, T=4, V=7, D=5), ("N=1",)),
    ("T=1", dict(N=3, T=1, V=7, D=5), ("T=1",)),
    ("repeated", dict(N=3, T=4, V=7, D=5), ("repeated word indices",)),
    ("V=1", dict(N=2, T=3, V=1, D=4), ("V=1 (one word)", "repeated word indices")),
    ("unused", dict(N=2, T=2, V=20, D=3), ("words never used (zero gradient rows)",)),
    ("D=1", dict(N=3, T=4, V=6, D=1), ("D=1 (one feature per word)",)),
)


def _embedding_cases(dtype, seed):
    drawn = drawn_sizes("word_embedding", seed, {"N": (1, 5), "T": (1, 6), "V": (1, 8),
                                                 "D": (1, 6)})
    for label, s, special in _EMBEDDING_CASES + (("drawn", drawn,
                                                  ("sizes drawn from the seed",)),):
        draw = Sampler("word_embedding", dtype, seed, label)
        if label == "repeated":
            # a few words, each used many times, plus one index used everywhere in row 0
            words = draw.integers(3, s["N"], s["T"])
            words[0, :] = words[0, 0]
        else:
            words = draw.integers(s["V"], s["N"], s["T"])
        inputs = {"x": words, "W": draw.normal(s["V"], s["D"])}
        upstream = {"out": draw.normal(s["N"], s["T"], s["D"])}
        yield Case("word_embedding", label, dtype, seed, inputs, upstream, dict(s), special)


def _build_embedding(draw: Sampler, s: dict):
    N, T, V, D = s["N"], s["T"], s["V"], s["D"]
    return ({"x": draw.integers(V, N, T), "W": draw.normal(V, D)},
            {"out": draw.normal(N, T, D)})


def _fuzz_embedding(draw: Sampler, s: dict, o: dict):
    x = draw_indices(draw, o["indices"], s["V"], (s["N"], s["T"]))
    inputs = {"x": x, "W": draw.normal(s["V"], s["D"])}
    return inputs, {"out": draw.normal(s["N"], s["T"], s["D"])}, (f"indices: {o['indices']}",)


def _fuzz_affine(draw: Sampler, s: dict, o: dict):
    return (*_build_affine(draw, s), ())


def _fuzz_sigmoid(draw: Sampler, s: dict, o: dict):
    return {"x": draw.normal(s["N"], s["M"], scale=o["scale"])}, {}, (f"x{o['scale']:g}",)


def _torch_embedding(case):
    import torch

    from torch_ref import layout as L

    module = L.make_embedding(case.inputs["W"])
    words, dout = torch.from_numpy(case.inputs["x"]), L.tensor(case.upstream["out"])
    last = {}

    def run():
        module.zero_grad(set_to_none=True)
        out = module(words)
        out.backward(dout)
        last["out"] = out

    def result():
        return Run({"out": L.to_numpy(last["out"])}, {"dW": L.embedding_grad(module)})
    return run, result


def _build_affine(draw: Sampler, s: dict):
    lead = (s["N"], s["T"]) if "T" in s else (s["N"],)
    inputs = {"x": draw.normal(*lead, s["D"]),
              "w": draw.normal(s["D"], s["M"], scale=1.0 / np.sqrt(s["D"])),
              "b": draw.normal(s["M"])}
    return inputs, {"out": draw.normal(*lead, s["M"])}


def _affine_cases(name: str, temporal: bool):
    shapes = (
        ("ordinary", dict(N=3, T=4, D=5, M=6), ()),
        ("N=1", dict(N=1, T=4, D=5, M=6), ("N=1",)),
        ("T=1", dict(N=3, T=1, D=5, M=6), ("T=1",)),
        ("D==M", dict(N=3, T=4, D=5, M=5), ("D == M (square weights)",)),
        ("M=1", dict(N=3, T=4, D=5, M=1), ("M=1",)),
        ("D=1", dict(N=3, T=4, D=1, M=4), ("D=1",)),
    )

    def cases(dtype, seed):
        drawn = drawn_sizes(name, seed, {"N": (1, 5), "T": (1, 6), "D": (1, 6), "M": (1, 6)})
        for label, s, special in shapes + (("drawn", drawn, ("sizes drawn from the seed",)),):
            if not temporal:
                if label == "T=1":
                    continue
                s = {k: v for k, v in s.items() if k != "T"}
            inputs, upstream = _build_affine(Sampler(name, dtype, seed, label), s)
            yield Case(name, label, dtype, seed, inputs, upstream, dict(s),
                       special + ("non-zero bias",))
    return cases


def _torch_affine(case):
    from torch_ref import layout as L

    module = L.make_linear(case.inputs["w"], case.inputs["b"])
    x, dout = L.tensor(case.inputs["x"], True), L.tensor(case.upstream["out"])
    last = {}

    def run():
        module.zero_grad(set_to_none=True)
        x.grad = None
        out = module(x)
        out.backward(dout)
        last["out"] = out

    def result():
        dw, db = L.linear_grads(module)
        return Run({"out": L.to_numpy(last["out"])},
                   {"dx": L.to_numpy(x.grad), "dw": dw, "db": db})
    return run, result


def _sigmoid_cases(dtype, seed):
    draw = Sampler("sigmoid", dtype, seed, "mixed")
    ordinary = draw.normal(4, 5, scale=3.0)
    yield Case("sigmoid", "ordinary", dtype, seed, {"x": ordinary}, sizes={"shape": (4, 5)})
    extreme = np.array([-1e4, -800.0, -60.0, -1e-8, 0.0, 1e-8, 60.0, 800.0, 1e4], dtype=dtype)
    yield Case("sigmoid", "extreme", dtype, seed, {"x": extreme}, sizes={"shape": (9,)},
               special=("inputs of ±1e4 (overflow risk)",))


def _torch_sigmoid(case):
    import torch

    from torch_ref import layout as L

    return Run({"out": L.to_numpy(torch.sigmoid(L.tensor(case.inputs["x"])))}, {})


def _embedding_errors() -> tuple:
    N, T, V, D = (ERROR_SIZES[k] for k in "NTVD")
    fw, bw = "word_embedding_forward", "word_embedding_backward"
    where = f"[0, {V})"
    return (
        error_input(fw, "W 1-D", {"W": full(V)}, "W", "2-D", "(V, D)", f"({V},)"),
        error_input(fw, "float indices", {"x": full(N, T)}, "x", "integer", "float64"),
        error_input(fw, "negative index", {"x": np.array([[0, -1, 2], [1, 2, 3]])}, "x", "value -1",
                    "position (0, 1)", where, exception=IndexError),
        error_input(fw, "index == V", {"x": np.array([[0, 1, 2], [3, 4, V]])}, "x", f"value {V}",
                    "position (1, 2)", where, f"V={V}", exception=IndexError),
        error_input(fw, "uint index too large", {"x": np.array([[0, 1, 2], [9, 4, 5]], np.uint32)},
                    "x", "value 9", "position (1, 0)", where, exception=IndexError),
        error_input(fw, "-inf in W", {"W": at("W", (V - 1, 0), -np.inf)}, "W", "finite", "-inf",
                    f"({V - 1}, 0)"),
        error_input(bw, "dout width", {"dout": full(N, T, D + 1)}, "dout",
                    f"(N, T, D) = ({N}, {T}, {D})", f"got ({N}, {T}, {D + 1})"),
    )


def _affine_errors(temporal: bool) -> tuple:
    N, T, D, M = (ERROR_SIZES[k] for k in "NTDM")
    name = "temporal_affine" if temporal else "affine"
    fw, bw = f"{name}_forward", f"{name}_backward"
    lead = (N, T) if temporal else (N,)
    errors = (
        error_input(fw, "w rows", {"w": full(D + 1, M)}, "w", f"(D, M) = ({D}, {M})",
                    f"got ({D + 1}, {M})", f"D={D} from x"),
        error_input(fw, "b size", {"b": full(M + 1)}, "b", f"(M,) = ({M},)", f"got ({M + 1},)",
                    f"M={M} from w"),
        error_input(fw, "w float16", {"w": full(D, M, dtype=np.float16)}, "w", "float32 or float64",
                    "float16"),
        error_input(bw, "dout width", {"dout": full(*lead, M + 2)}, "dout",
                    f"{'(N, T, M)' if temporal else '(N, M)'} = {(*lead, M)}",
                    f"got {(*lead, M + 2)}"),
    )
    if not temporal:
        errors += (
            error_input(fw, "x 3-D", {"x": full(N, T, D)}, fw, "x", "2-D", "(N, D)",
                        f"({N}, {T}, {D})"),
            error_input(bw, "dout 3-D", {"dout": full(N, T, M)}, "dout", "2-D", "(N, M)",
                        f"({N}, {T}, {M})"))
    return errors


register(Component(
    name="word_embedding",
    signature={"word_embedding_forward": (("x", "W"), ("out", "cache")),
               "word_embedding_backward": (("dout", "cache"), ("dW",))},
    cases=_embedding_cases,
    torch_prepare=_torch_embedding,
    build=_build_embedding,
    fuzz=Fuzz("NTVD", _fuzz_embedding, {"indices": INDEX_PATTERNS}),
    bench=Bench(sizes=lambda grid: {k: grid[k] for k in "NTVD"}, note="nn.Embedding"),
    errors=_embedding_errors(),
    mistakes=(Mistake("indices assigned", (
        "repeated word indices are counted once: dW[x] += dout does not accumulate "
        "duplicates; use np.add.at(dW, x, dout)"), tensors=("dW",),
        args={"indices": "x", "table": "W", "upstream": "out"}),),
    description="word embedding lookup vs nn.Embedding",
))


def _register_affine(name: str, temporal: bool, dims: str, **more):
    forward, backward = f"{name}_forward", f"{name}_backward"
    register(Component(
        name=name,
        signature={forward: (("x", "w", "b"), ("out", "cache")),
                   backward: (("dout", "cache"), ("dx", "dw", "db"))},
        cases=_affine_cases(name, temporal),
        torch_prepare=_torch_affine,
        build=lambda draw, sizes: _build_affine(draw, {k: sizes[k] for k in dims}),
        fuzz=Fuzz(dims, _fuzz_affine),
        errors=_affine_errors(temporal),
        **more,
    ))


_register_affine(
    "temporal_affine", True, "NTDM",
    # the language model's output layer: H features to V scores at every timestep
    bench=Bench(sizes=lambda g: dict(N=g["N"], T=g["T"], D=g["H"], M=g["V"]),
                flops=lambda s: 6 * s["N"] * s["T"] * s["D"] * s["M"], note="nn.Linear"),
    description="affine map at every timestep vs nn.Linear")
_register_affine("affine", False, "NDM", description="affine map of 2-D inputs vs nn.Linear")
register(Component(
    name="sigmoid",
    signature={"sigmoid": (("x",), ("out",))},
    cases=_sigmoid_cases,
    run_numpy=lambda api, case: Run({"out": api.sigmoid(case.inputs["x"])}, {}),
    run_torch=_torch_sigmoid,
    build=lambda draw, s: ({"x": draw.normal(s["N"], s["M"])}, {}),
    errors=(error_input("sigmoid", "int", {"x": np.arange(3)}, "sigmoid", "x", "int64"),
            error_input("sigmoid", "inf", {"x": np.array([0.0, np.inf])}, "sigmoid", "x", "finite",
                        "inf", "(1,)")),
    fuzz=Fuzz("NM", _fuzz_sigmoid, {"scale": (1.0, 10.0, 100.0, 1e4)}),
    description="logistic sigmoid vs torch.sigmoid",
))
