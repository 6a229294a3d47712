"""Hypothesis strategies that draw catalog cases of any size for property-based fuzzing.

A strategy draws a small :class:`CaseSpec` (sizes, dtype, seed and the patterns
of masks, indices and scales); :func:`build_case` turns it into a catalog
:class:`~torch_ref.catalog.Case` whose arrays come from a generator seeded by
the spec. Hypothesis therefore shrinks a failure to the smallest sizes, seed and
simplest pattern, and prints the spec, which rebuilds the exact case.

Needs ``hypothesis`` (the ``test`` extra).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from torch_ref.catalog import DTYPES, Case, Sampler
from torch_ref.catalog.recurrent import RECURRENT, draw_recurrent

MAX_SIZE = 12

# index patterns for word indices and class labels
INDEX_PATTERNS = ("random", "one index everywhere", "first and last only", "every index")
# mask patterns for the temporal softmax loss
MASK_PATTERNS = ("random", "all ones", "all zeros", "first sequence masked out",
                 "last timestep only")


@dataclass(frozen=True)
class CaseSpec:
    """What a fuzzed case is made of; :func:`build_case` makes the arrays.

    component: catalog name.  sizes: named dimensions (``N``, ``T``, ``D`` ...).
    dtype: ``"float64"`` or ``"float32"``.  seed: seeds the array generator.
    options: patterns and scales by name (``{"mask": "all ones", "scale": 1e3}``).
    """

    component: str
    sizes: dict
    dtype: str
    seed: int
    options: dict = field(default_factory=dict)


_SIZE = st.integers(1, MAX_SIZE)
_DTYPE = st.sampled_from(DTYPES)
_SEED = st.integers(0, 2**32 - 1)
# Weights x2 make the recurrence expand: rounding grows ~2x per step in both
# implementations, past float32's 1e-4 tolerance within ~10 steps. float64 has room
# for it, so only float64 draws it.
_WEIGHT_SCALE = {"float64": st.sampled_from((1.0, 0.5, 2.0)),
                 "float32": st.sampled_from((1.0, 0.5))}
_RECURRENT = {"weight_scale": _WEIGHT_SCALE}
_OPTIONS = {
    "word_embedding": {"indices": st.sampled_from(INDEX_PATTERNS)},
    "temporal_softmax_loss": {"mask": st.sampled_from(MASK_PATTERNS),
                              "float_mask": st.booleans(),
                              "labels": st.sampled_from(INDEX_PATTERNS),
                              "scale": st.sampled_from((1.0, 10.0, 1e3))},
    "mse_loss": {"scale": st.sampled_from((1.0, 1e3)), "equal_entries": st.booleans()},
    "sigmoid": {"scale": st.sampled_from((1.0, 10.0, 100.0, 1e4))},
    **{name: _RECURRENT for name in RECURRENT},
}
_DIMS = {**{name: "NDH" if step else "NTDH" for name, (_, step) in RECURRENT.items()},
         "word_embedding": "NTVD", "temporal_affine": "NTDM", "affine": "NDM",
         "temporal_softmax_loss": "NTV", "mse_loss": "NM", "sigmoid": "NM"}


@st.composite
def _spec(draw, component: str) -> CaseSpec:
    # a composite of prebuilt strategies: several times faster to draw than flatmap
    dtype = draw(_DTYPE)
    sizes = {name: draw(_SIZE) for name in _DIMS[component]}
    seed = draw(_SEED)
    options = {name: draw(strategy[dtype] if isinstance(strategy, dict) else strategy)
               for name, strategy in _OPTIONS.get(component, {}).items()}
    return CaseSpec(component, sizes, dtype, seed, options)


_SPECS = {name: _spec(name) for name in _DIMS}

FUZZED = tuple(_SPECS)


def specs(component: str):
    """Strategy drawing :class:`CaseSpec` for ``component`` (one of :data:`FUZZED`)."""
    if component not in _SPECS:
        raise ValueError(f"component: no fuzz strategy for {component!r}; "
                         f"expected one of {', '.join(FUZZED)}")
    return _SPECS[component]


def _indices(draw: Sampler, pattern: str, high: int, shape: tuple) -> np.ndarray:
    if pattern == "one index everywhere":
        return np.full(shape, draw.integers(high), dtype=np.int64)
    if pattern == "first and last only":
        return np.where(draw.mask(*shape), 0, high - 1).astype(np.int64)
    if pattern == "every index":  # 0..high-1 in order, repeated to fill the shape
        return (np.arange(int(np.prod(shape))) % high).reshape(shape).astype(np.int64)
    return draw.integers(high, *shape)


def _mask(draw: Sampler, pattern: str, N: int, T: int) -> np.ndarray:
    mask = draw.mask(N, T, p=0.6)
    if pattern == "all ones":
        mask[:] = True
    elif pattern == "all zeros":
        mask[:] = False
    elif pattern == "first sequence masked out":
        mask[0] = False
    elif pattern == "last timestep only":
        mask[:] = False
        mask[:, -1] = True
    return mask


def _recurrent(spec: CaseSpec, draw: Sampler, s: dict, o: dict):
    cell, step = RECURRENT[spec.component]
    w = o["weight_scale"]
    # Upstream gradients of a mean over batch and time: weight gradients sum N*T
    # terms, and this keeps them O(1) at any size, where float32's absolute atol
    # (1e-5) applies; at 144 unit terms their rounding alone would reach it.
    g = 1.0 / np.sqrt(s["N"] * (1 if step else s["T"]))
    inputs, upstream = draw_recurrent(draw, cell, step, s, h0_scale=1.0, weight_scale=w,
                                      upstream_scale=g)
    return inputs, upstream, (f"weights x{w:g}", "upstream gradients / sqrt(N*T)")


def _embedding(spec, draw, s, o):
    x = _indices(draw, o["indices"], s["V"], (s["N"], s["T"]))
    inputs = {"x": x, "W": draw.normal(s["V"], s["D"])}
    return inputs, {"out": draw.normal(s["N"], s["T"], s["D"])}, (f"indices: {o['indices']}",)


def _affine(spec, draw, s, o):
    lead = (s["N"], s["T"]) if "T" in s else (s["N"],)
    inputs = {"x": draw.normal(*lead, s["D"]),
              "w": draw.normal(s["D"], s["M"], scale=1.0 / np.sqrt(s["D"])),
              "b": draw.normal(s["M"])}
    return inputs, {"out": draw.normal(*lead, s["M"])}, ()


def _softmax(spec, draw, s, o):
    N, T, V = s["N"], s["T"], s["V"]
    mask = _mask(draw, o["mask"], N, T)
    if o["float_mask"]:
        mask = mask.astype(spec.dtype)
    inputs = {"x": draw.normal(N, T, V, scale=o["scale"]),
              "y": _indices(draw, o["labels"], V, (N, T)), "mask": mask}
    special = (f"mask: {o['mask']}" + (" (0/1 floats)" if o["float_mask"] else ""),
               f"labels: {o['labels']}", f"logits x{o['scale']:g}")
    return inputs, {}, special


def _mse(spec, draw, s, o):
    y_hat = draw.normal(s["N"], s["M"], scale=o["scale"])
    y = draw.normal(s["N"], s["M"], scale=o["scale"])
    if o["equal_entries"]:  # some predictions exactly right: zero error and gradient there
        y = np.where(draw.mask(s["N"], s["M"]), y_hat, y)
    special = (f"values x{o['scale']:g}",) + (("some entries exact",) if o["equal_entries"]
                                              else ())
    return {"y_hat": y_hat, "y": y}, {}, special


def _sigmoid(spec, draw, s, o):
    return {"x": draw.normal(s["N"], s["M"], scale=o["scale"])}, {}, (f"x{o['scale']:g}",)


_BUILDERS = {**{name: _recurrent for name in RECURRENT}, "word_embedding": _embedding,
             "temporal_affine": _affine, "affine": _affine, "temporal_softmax_loss": _softmax,
             "mse_loss": _mse, "sigmoid": _sigmoid}


def build_case(spec: CaseSpec) -> Case:
    """The catalog :class:`Case` that ``spec`` describes (label ``"fuzz"``)."""
    draw = Sampler(spec.component, spec.dtype, spec.seed, "fuzz")
    inputs, upstream, special = _BUILDERS[spec.component](spec, draw, spec.sizes, spec.options)
    return Case(spec.component, "fuzz", spec.dtype, spec.seed, inputs, upstream,
                dict(spec.sizes), ("fuzzed",) + tuple(special))
