"""Catalog entries without recurrence: word embedding, affine layers, sigmoid."""
from __future__ import annotations

import numpy as np

from torch_ref.catalog.base import (
    INDEX_PATTERNS,
    Bench,
    Case,
    Component,
    Fuzz,
    Run,
    Sampler,
    draw_indices,
    register,
)

_EMBEDDING_CASES = (
    ("ordinary", dict(N=3, T=4, V=7, D=5), ()),
    ("N=1", dict(N=1, T=4, V=7, D=5), ("N=1",)),
    ("T=1", dict(N=3, T=1, V=7, D=5), ("T=1",)),
    ("repeated", dict(N=3, T=4, V=7, D=5), ("repeated word indices",)),
    ("V=1", dict(N=2, T=3, V=1, D=4), ("V=1 (one word)", "repeated word indices")),
    ("unused", dict(N=2, T=2, V=20, D=3), ("words never used (zero gradient rows)",)),
)


def _embedding_cases(dtype, seed):
    for label, s, special in _EMBEDDING_CASES:
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


def _numpy_embedding(api, case):
    out, cache = api.word_embedding_forward(case.inputs["x"], case.inputs["W"])
    dW = api.word_embedding_backward(case.upstream["out"], cache)
    return Run({"out": out}, {"dW": dW})


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
    )

    def cases(dtype, seed):
        for label, s, special in shapes:
            if not temporal:
                if label == "T=1":
                    continue
                s = {k: v for k, v in s.items() if k != "T"}
            inputs, upstream = _build_affine(Sampler(name, dtype, seed, label), s)
            yield Case(name, label, dtype, seed, inputs, upstream, dict(s),
                       special + ("non-zero bias",))
    return cases


def _numpy_affine(forward: str, backward: str):
    def run(api, case):
        i = case.inputs
        out, cache = getattr(api, forward)(i["x"], i["w"], i["b"])
        dx, dw, db = getattr(api, backward)(case.upstream["out"], cache)
        return Run({"out": out}, {"dx": dx, "dw": dw, "db": db})
    return run


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


register(Component(
    name="word_embedding",
    functions=("word_embedding_forward", "word_embedding_backward"),
    produced_by={"out": "word_embedding_forward", "dW": "word_embedding_backward"},
    cases=_embedding_cases,
    run_numpy=_numpy_embedding,
    torch_prepare=_torch_embedding,
    build=_build_embedding,
    fuzz=Fuzz("NTVD", _fuzz_embedding, {"indices": INDEX_PATTERNS}),
    bench=Bench(sizes=lambda grid: {k: grid[k] for k in "NTVD"}, note="nn.Embedding"),
    description="word embedding lookup vs nn.Embedding",
))
register(Component(
    name="temporal_affine",
    functions=("temporal_affine_forward", "temporal_affine_backward"),
    produced_by={"out": "temporal_affine_forward", "dx": "temporal_affine_backward",
                 "dw": "temporal_affine_backward", "db": "temporal_affine_backward"},
    cases=_affine_cases("temporal_affine", temporal=True),
    run_numpy=_numpy_affine("temporal_affine_forward", "temporal_affine_backward"),
    torch_prepare=_torch_affine,
    build=_build_affine,
    fuzz=Fuzz("NTDM", _fuzz_affine),
    # the language model's output layer: H features to V scores at every timestep
    bench=Bench(sizes=lambda g: dict(N=g["N"], T=g["T"], D=g["H"], M=g["V"]),
                flops=lambda s: 6 * s["N"] * s["T"] * s["D"] * s["M"], note="nn.Linear"),
    description="affine map at every timestep vs nn.Linear",
))
register(Component(
    name="affine",
    functions=("affine_forward", "affine_backward"),
    produced_by={"out": "affine_forward", "dx": "affine_backward",
                 "dw": "affine_backward", "db": "affine_backward"},
    cases=_affine_cases("affine", temporal=False),
    run_numpy=_numpy_affine("affine_forward", "affine_backward"),
    torch_prepare=_torch_affine,
    build=_build_affine,
    fuzz=Fuzz("NDM", _fuzz_affine),
    description="affine map of 2-D inputs vs nn.Linear",
))
register(Component(
    name="sigmoid",
    functions=("sigmoid",),
    produced_by={"out": "sigmoid"},
    cases=_sigmoid_cases,
    run_numpy=lambda api, case: Run({"out": api.sigmoid(case.inputs["x"])}, {}),
    run_torch=_torch_sigmoid,
    fuzz=Fuzz("NM", _fuzz_sigmoid, {"scale": (1.0, 10.0, 100.0, 1e4)}),
    description="logistic sigmoid vs torch.sigmoid",
))
