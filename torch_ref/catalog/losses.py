"""Catalog entries: masked temporal softmax cross-entropy and mean squared error."""
from __future__ import annotations

import numpy as np

from torch_ref.catalog.base import (
    ERROR_SIZES,
    INDEX_PATTERNS,
    MASK_PATTERNS,
    Bench,
    Case,
    Component,
    Fuzz,
    Mistake,
    Run,
    Sampler,
    at,
    draw_indices,
    draw_mask,
    drawn_sizes,
    error_input,
    full,
    register,
)

_SOFTMAX_CASES = (
    ("ordinary", dict(N=3, T=4, V=5), ("masked timesteps", "fully masked sequence")),
    ("mask ones", dict(N=3, T=4, V=5), ("mask all ones",)),
    ("float mask", dict(N=3, T=4, V=5), ("mask given as 0/1 floats", "masked timesteps")),
    ("N=1", dict(N=1, T=4, V=5), ("N=1",)),
    ("T=1", dict(N=3, T=1, V=5), ("T=1",)),
    ("V=1", dict(N=2, T=3, V=1), ("V=1 (one class)",)),
    # extreme logits, split by what they test
    ("large logits", dict(N=3, T=4, V=6),
     ("logits near +-1e3 with a moderate spread within each row: any max-shifted softmax "
      "handles them",)),
    ("rows on different scales", dict(N=3, T=4, V=6),
     ("rows offset by -1e3, 0 and +1e3, moderate spread within each row: the shift must be "
      "each row's own max", "masked timesteps")),
    ("spread beyond exp", dict(N=3, T=4, V=6),
     ("logits of one row spread over +-1e3, beyond exp's range: only log-sum-exp survives",
      "masked timesteps")),
)
# offsets of whole rows: one sign for all rows, or rows of different scales
_ROW_OFFSETS = {"large logits": (1e3, -1e3), "rows on different scales": (-1e3, 0.0, 1e3)}


def _softmax_cases(dtype, seed):
    drawn = drawn_sizes("temporal_softmax_loss", seed, {"N": (1, 5), "T": (1, 6), "V": (1, 8)})
    for label, s, special in _SOFTMAX_CASES + (("drawn", drawn, ("sizes drawn from the seed",
                                                                   "masked timesteps")),):
        draw = Sampler("temporal_softmax_loss", dtype, seed, label)
        N, T, V = s["N"], s["T"], s["V"]
        x = draw.normal(N, T, V)
        extra = {}
        if label in _ROW_OFFSETS:
            offsets = np.asarray(_ROW_OFFSETS[label])
            x = (x + offsets[draw.rng.integers(0, len(offsets), size=(N, T, 1))]).astype(dtype)
        elif label == "spread beyond exp":
            x = (x * 1e3).astype(dtype)
            # a log of probabilities is -inf where a probability underflows: wrong only here
            extra["only_log_sum_exp"] = True
        mask = draw.mask(N, T, p=0.6)
        if label == "mask ones":
            mask[:] = True
        elif "fully masked sequence" in special or label == "float mask":
            mask[0, :] = False
            mask[-1, 0] = True
        if label == "float mask":
            mask = mask.astype(dtype)
        inputs = {"x": x, "y": draw.integers(V, N, T), "mask": mask}
        yield Case("temporal_softmax_loss", label, dtype, seed, inputs, {}, dict(s), special,
                   extra)


def _numpy_softmax(api, case):
    loss, dx = api.temporal_softmax_loss(case.inputs["x"], case.inputs["y"], case.inputs["mask"])
    return Run({"loss": np.asarray(loss)}, {"dx": dx})


def _build_softmax(draw: Sampler, s: dict):
    N, T, V = s["N"], s["T"], s["V"]
    return {"x": draw.normal(N, T, V), "y": draw.integers(V, N, T),
            "mask": draw.mask(N, T, p=0.9)}, {}


def _fuzz_softmax(draw: Sampler, s: dict, o: dict):
    N, T, V = s["N"], s["T"], s["V"]
    mask = draw_mask(draw, o["mask"], N, T)
    if o["float_mask"]:
        mask = mask.astype(draw.dtype)
    inputs = {"x": draw.normal(N, T, V, scale=o["scale"]),
              "y": draw_indices(draw, o["labels"], V, (N, T)), "mask": mask}
    special = (f"mask: {o['mask']}" + (" (0/1 floats)" if o["float_mask"] else ""),
               f"labels: {o['labels']}", f"logits x{o['scale']:g}")
    return inputs, {}, special


def _torch_softmax(case):
    import torch
    import torch.nn.functional as F

    from torch_ref import layout as L

    x = L.tensor(case.inputs["x"], True)
    N, T, V = x.shape
    y = torch.from_numpy(case.inputs["y"]).reshape(N * T)
    mask = torch.from_numpy(np.asarray(case.inputs["mask"], dtype=case.dtype)).reshape(N * T)
    last = {}

    def run():
        x.grad = None
        per_step = F.cross_entropy(x.reshape(N * T, V), y, reduction="none")
        loss = (per_step * mask).sum() / N
        loss.backward()
        last["loss"] = loss

    def result():
        return Run({"loss": L.to_numpy(last["loss"])}, {"dx": L.to_numpy(x.grad)})
    return run, result


_MSE_CASES = (
    ("ordinary", dict(N=4, M=3), ()),
    ("N=1 M=1", dict(N=1, M=1), ("N=1", "M=1")),
    ("large values", dict(N=5, M=2), ("values of ±1e3",)),
)


def _mse_cases(dtype, seed):
    for label, s, special in _MSE_CASES:
        draw = Sampler("mse_loss", dtype, seed, label)
        scale = 1e3 if label == "large values" else 1.0
        inputs = {"y_hat": draw.normal(s["N"], s["M"], scale=scale),
                  "y": draw.normal(s["N"], s["M"], scale=scale)}
        yield Case("mse_loss", label, dtype, seed, inputs, {}, dict(s), special)


def _fuzz_mse(draw: Sampler, s: dict, o: dict):
    y_hat = draw.normal(s["N"], s["M"], scale=o["scale"])
    y = draw.normal(s["N"], s["M"], scale=o["scale"])
    if o["equal_entries"]:  # some predictions exactly right: zero error and gradient there
        y = np.where(draw.mask(s["N"], s["M"]), y_hat, y)
    special = (f"values x{o['scale']:g}",) + (("some entries exact",) if o["equal_entries"]
                                              else ())
    return {"y_hat": y_hat, "y": y}, {}, special


def _numpy_mse(api, case):
    loss, dy_hat = api.mse_loss(case.inputs["y_hat"], case.inputs["y"])
    return Run({"loss": np.asarray(loss)}, {"dy_hat": dy_hat})


def _torch_mse(case):
    import torch.nn.functional as F

    from torch_ref import layout as L

    y_hat = L.tensor(case.inputs["y_hat"], True)
    loss = F.mse_loss(y_hat, L.tensor(case.inputs["y"]))
    loss.backward()
    return Run({"loss": L.to_numpy(loss)}, {"dy_hat": L.to_numpy(y_hat.grad)})


def _softmax_errors() -> tuple:
    N, T, V = (ERROR_SIZES[k] for k in "NTV")
    fn, where = "temporal_softmax_loss", f"[0, {V})"
    return (
        error_input(fn, "x 2-D", {"x": full(N, V)}, "x", "3-D", "(N, T, V)", f"({N}, {V})"),
        error_input(fn, "x NaN", {"x": at("x", (0, 1, 2), np.nan)}, "x", "finite", "nan",
                    "(0, 1, 2)"),
        error_input(fn, "y shape", {"y": np.zeros((N, T + 1), int)}, "y", f"(N, T) = ({N}, {T})",
                    f"got ({N}, {T + 1})"),
        error_input(fn, "labels too large", {"y": np.array([[0, 1, V], [0, 0, 0]])}, "y",
                    f"value {V}", "position (0, 2)", where, exception=IndexError),
        error_input(fn, "labels negative", {"y": np.array([[0, 1, 2], [0, -3, 0]])}, "y",
                    "value -3", "position (1, 1)", where, exception=IndexError),
        error_input(fn, "labels float", {"y": full(N, T)}, "y", "integer", "float64"),
        error_input(fn, "mask transposed", {"mask": np.ones((T, N), bool)}, "mask",
                    f"(N, T) = ({N}, {T})", f"got ({T}, {N})"),
        error_input(fn, "mask 1-D", {"mask": np.ones(N * T, bool)}, "mask", "2-D", "(N, T)",
                    f"({N * T},)"),
        error_input(fn, "mask not 0/1", {"mask": np.array([[1, 0, 2], [1, 1, 1]])}, "mask",
                    "0 and 1", "2", "(0, 2)"),
        error_input(fn, "mask of strings", {"mask": np.full((N, T), "y")}, "mask", "boolean",
                    "<U1"),
        # the helpers the loss is built on
        *(error_input(helper, "0-d", {"x": np.float64(1.0)}, helper, "x", "(..., V)", "()")
          for helper in ("softmax", "log_softmax")),
    )


def _mse_errors() -> tuple:
    N, M = ERROR_SIZES["N"], ERROR_SIZES["M"]
    return (
        error_input("mse_loss", "shapes", {"y": full(N, M + 1)}, "mse_loss", "y", f"({N}, {M})",
                    f"({N}, {M + 1})"),
        error_input("mse_loss", "y float32", {"y": full(N, M, dtype=np.float32)}, "y", "float32",
                    "y_hat", "float64"),
        error_input("mse_loss", "NaN target", {"y": at("y", (1, 1), np.nan)}, "y", "finite", "nan",
                    "(1, 1)"),
    )


register(Component(
    name="temporal_softmax_loss",
    signature={"temporal_softmax_loss": (("x", "y", "mask"), ("loss", "dx"))},
    cases=_softmax_cases,
    run_numpy=_numpy_softmax,
    torch_prepare=_torch_softmax,
    build=_build_softmax,
    fuzz=Fuzz("NTV", _fuzz_softmax, {"mask": MASK_PATTERNS, "float_mask": (False, True),
                                      "labels": INDEX_PATTERNS, "scale": (1.0, 10.0, 1e3)}),
    bench=Bench(sizes=lambda grid: {k: grid[k] for k in "NTV"}, note="F.cross_entropy"),
    errors=_softmax_errors(),
    mistakes=(Mistake("input ignored", "the mask is ignored in the {where}: masked timesteps "
                      "must add nothing", on="any", args={"input": "mask"}),),
    description="masked softmax cross-entropy summed over time / N vs F.cross_entropy",
))
register(Component(
    name="mse_loss",
    signature={"mse_loss": (("y_hat", "y"), ("loss", "dy_hat"))},
    cases=_mse_cases,
    run_numpy=_numpy_mse,
    run_torch=_torch_mse,
    build=lambda draw, s: ({"y_hat": draw.normal(s["N"], s["M"]),
                            "y": draw.normal(s["N"], s["M"])}, {}),
    errors=_mse_errors(),
    fuzz=Fuzz("NM", _fuzz_mse, {"scale": (1.0, 1e3), "equal_entries": (False, True)}),
    description="mean squared error vs F.mse_loss",
))
