"""The catalog protocol: one description per component.

A :class:`Component` says how to make sample inputs (:class:`Case`), how to run
the NumPy side forward and backward, how to run the torch reference, and which
tensors to compare. Tests, ``verify``, regression fixtures and benchmarks all
iterate :data:`CATALOG`; a new component is one :func:`register` call in one file.

Running a component returns a :class:`Run`: ``outputs`` (forward results) and
``grads`` (gradients), each a dict of NumPy arrays keyed by tensor name. The
NumPy and torch runs of a component use the same keys.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

DTYPES = ("float64", "float32")
DEFAULT_SEEDS = (0, 1, 2)


@dataclass(frozen=True)
class Case:
    """One sample input of a component.

    ``inputs`` are the forward arguments by name (in call order), ``upstream``
    the upstream gradient of each output that has one, ``sizes`` the named
    dimensions (``N``, ``T``, ``D``, ``H``, ``V`` ...), ``special`` what the case
    exercises in words (``"N=1"``, ``"D == H"``, ``"repeated word indices"``).
    """

    component: str
    label: str
    dtype: str
    seed: int
    inputs: dict
    upstream: dict = field(default_factory=dict)
    sizes: dict = field(default_factory=dict)
    special: tuple = ()
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable identifier: ``label/dtype/seed``."""
        return f"{self.label}/{self.dtype}/seed{self.seed}"

    def describe(self) -> str:
        sizes = " ".join(f"{k}={v}" for k, v in self.sizes.items())
        what = f" ({'; '.join(self.special)})" if self.special else ""
        return f"{self.label} [{sizes}] {self.dtype} seed {self.seed}{what}"


@dataclass
class Run:
    """Forward outputs and gradients of one run, NumPy arrays keyed by tensor name."""

    outputs: dict
    grads: dict

    def tensors(self) -> dict:
        return {**self.outputs, **self.grads}


@dataclass(frozen=True)
class Component:
    """Everything the project knows about one component.

    name:         catalog key, e.g. ``"lstm"``.
    functions:    API functions the component exercises (for ``--only`` and MISSING).
    produced_by:  tensor name -> the function that computes it (names the culprit).
    cases:        ``cases(dtype, seed) -> iterable of Case``.
    run_numpy:    ``run_numpy(api, case) -> Run``; ``api`` exposes ``functions``.
    run_torch:    ``run_torch(case) -> Run`` with the same keys.
    gate_axes:    tensor name -> axis holding gate blocks (size G*H).
    cell:         the recurrent cell (a key of ``torch_ref.layout.CELLS``) whose gates
                  ``gate_axes`` hold.
    scope:        ``"functional"``: runs on any module with the functional API;
                  ``"numpy_rnn"``: models and optimisers of this project only.
    tolerance:    optional override ``{dtype: (rtol, atol)}``.
    """

    name: str
    functions: tuple
    produced_by: dict
    cases: Callable[[str, int], Iterable[Case]]
    run_numpy: Callable[[Any, Case], Run]
    run_torch: Callable[[Case], Run]
    gate_axes: dict = field(default_factory=dict)
    cell: str = "lstm"
    scope: str = "functional"
    tolerance: dict = field(default_factory=dict)
    description: str = ""

    def all_cases(self, seeds=DEFAULT_SEEDS, dtypes=DTYPES):
        for dtype in dtypes:
            for seed in seeds:
                yield from self.cases(dtype, seed)


CATALOG: dict = {}


def register(component: Component) -> Component:
    if component.name in CATALOG:
        raise ValueError(f"component {component.name!r} is already registered")
    CATALOG[component.name] = component
    return component


class Sampler:
    """Draws a case's arrays from one seeded generator, in a fixed order.

    All arrays are random (no zero biases) so that a gradient that forgets a
    term cannot hide behind a zero.
    """

    def __init__(self, component: str, dtype: str, seed: int, label: str):
        # crc32 rather than hash(): stable across processes for regression fixtures
        import zlib

        salt = zlib.crc32(f"{component}/{label}".encode())
        self.rng = np.random.default_rng([seed, salt])
        self.dtype = np.dtype(dtype)

    def normal(self, *shape, scale=1.0) -> np.ndarray:
        return (scale * self.rng.standard_normal(shape)).astype(self.dtype)

    def uniform(self, *shape, low=-1.0, high=1.0) -> np.ndarray:
        return self.rng.uniform(low, high, shape).astype(self.dtype)

    def integers(self, high, *shape) -> np.ndarray:
        return self.rng.integers(0, high, shape, dtype=np.int64)

    def mask(self, *shape, p=0.5) -> np.ndarray:
        return self.rng.random(shape) < p
