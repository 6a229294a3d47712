"""Hypothesis strategies that draw catalog cases of any size for property-based fuzzing.

Each catalog entry with a :class:`~torch_ref.catalog.base.Fuzz` spec is fuzzed: a
strategy draws a small :class:`CaseSpec` (sizes, dtype, seed and the entry's
options: patterns of masks and indices, scales) and :func:`build_case` turns it
into a catalog :class:`~torch_ref.catalog.Case` whose arrays come from a generator
seeded by the spec. Hypothesis therefore shrinks a failure to the smallest sizes,
seed and simplest pattern, and prints the spec, which rebuilds the exact case.

Needs ``hypothesis`` (the ``test`` extra).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from torch_ref.catalog import CATALOG, DTYPES, Case, Sampler

MAX_SIZE = 12


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


def _option_strategies(options: dict) -> dict:
    """option name -> {dtype: strategy}, from the entry's values (shared or by dtype)."""
    return {name: {dtype: st.sampled_from(values[dtype] if isinstance(values, dict)
                                          else values) for dtype in DTYPES}
            for name, values in options.items()}


@st.composite
def _spec(draw, component: str, dims: str, options: dict) -> CaseSpec:
    # a composite of prebuilt strategies: several times faster to draw than flatmap
    dtype = draw(_DTYPE)
    sizes = {name: draw(_SIZE) for name in dims}
    seed = draw(_SEED)
    chosen = {name: draw(by_dtype[dtype]) for name, by_dtype in options.items()}
    return CaseSpec(component, sizes, dtype, seed, chosen)


_SPECS = {name: _spec(name, c.fuzz.dims, _option_strategies(c.fuzz.options))
          for name, c in CATALOG.items() if c.fuzz is not None}

FUZZED = tuple(_SPECS)


def specs(component: str):
    """Strategy drawing :class:`CaseSpec` for ``component`` (one of :data:`FUZZED`)."""
    if component not in _SPECS:
        raise ValueError(f"component: no fuzz strategy for {component!r}; "
                         f"expected one of {', '.join(FUZZED)}")
    return _SPECS[component]


def build_case(spec: CaseSpec) -> Case:
    """The catalog :class:`Case` that ``spec`` describes (label ``"fuzz"``)."""
    draw = Sampler(spec.component, spec.dtype, spec.seed, "fuzz")
    build = CATALOG[spec.component].fuzz.build
    inputs, upstream, special = build(draw, dict(spec.sizes), spec.options)
    return Case(spec.component, "fuzz", spec.dtype, spec.seed, inputs, upstream,
                dict(spec.sizes), ("fuzzed",) + tuple(special))
