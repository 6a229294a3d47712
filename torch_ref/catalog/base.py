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
# sizes of the valid inputs that error inputs change one argument of
ERROR_SIZES = dict(N=2, T=3, D=4, H=5, V=6, M=3)


@dataclass(frozen=True)
class ErrorInput:
    """A bad input and the error it must raise.

    function:  the function called (a forward, or a backward after its forward).
    overrides: argument name -> bad value (an array, or ``f(valid inputs)``), on top
               of valid inputs of sizes :data:`ERROR_SIZES`.
    exception: the exception type; fragments: text the message must contain.
    A function that is neither the component's forward nor its backward (a helper
    it is built on) is called with ``overrides`` alone.
    """

    label: str
    function: str
    overrides: dict
    exception: type
    fragments: tuple

    def arguments(self, valid: dict) -> dict:
        """``valid`` with the overrides applied."""
        return {**valid, **{k: v(valid) if callable(v) else v
                            for k, v in self.overrides.items()}}


def error_input(function: str, label: str, overrides: dict, *fragments,
                exception: type = ValueError) -> ErrorInput:
    """An :class:`ErrorInput` labelled ``"function label"``."""
    return ErrorInput(f"{function} {label}", function, overrides, exception, fragments)


def full(*shape, dtype=np.float64, at=None, value=np.nan) -> np.ndarray:
    """An array of 0.5s (a bad input's stand-in), with ``value`` at index ``at`` if given."""
    arr = np.full(shape, 0.5, dtype=dtype)
    if at is not None:
        arr[at] = value
    return arr


def at(name: str, index: tuple, value) -> Callable:
    """An override: the valid argument ``name`` with ``value`` at ``index``."""
    def changed(valid: dict) -> np.ndarray:
        arr = np.array(valid[name], copy=True)
        arr[index] = value
        return arr
    return changed


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer of a component and the hint that names it.

    pattern: how the wrong answer is computed, a key of
             ``torch_ref.compare.hints.PATTERNS`` (``"input ignored"`` ...), or a
             callable ``pattern(component, case, tensor, **args)`` yielding ``(value,
             fields)`` as those do (a mistake only one entry can make).
    hint:    the words shown when a failing tensor equals it; ``{tensor}`` and the
             fields the pattern gives (``{where}``, ``{believed}``) are filled in.
    on:      ``"grads"``, ``"outputs"`` or ``"any"``: which tensors it can explain.
    tensors: the tensors it concerns (empty: every one ``on`` allows).
    args:    the pattern's arguments (``{"input": "mask"}``).
    """

    pattern: str | Callable
    hint: str
    on: str = "grads"
    tensors: tuple = ()
    args: dict = field(default_factory=dict)


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
class Fuzz:
    """How property-based fuzzing draws cases of a component (``torch_ref.catalog.fuzz``).

    dims:    the named sizes drawn, each in ``1..MAX_SIZE`` (``"NTDH"``).
    options: option name -> the values drawn from, a tuple, or ``{dtype: tuple}``
             where a dtype allows fewer.
    build:   ``build(draw, sizes, options) -> (inputs, upstream, special)``, the arrays
             from a seeded :class:`Sampler` and what the options make special, in words.
    """

    dims: str
    build: Callable
    options: dict = field(default_factory=dict)


# index patterns for word indices and class labels
INDEX_PATTERNS = ("random", "one index everywhere", "first and last only", "every index")
# mask patterns for the temporal softmax loss
MASK_PATTERNS = ("random", "all ones", "all zeros", "first sequence masked out",
                 "last timestep only")


def draw_indices(draw, pattern: str, high: int, shape: tuple) -> np.ndarray:
    """Integer indices in ``[0, high)`` following one of :data:`INDEX_PATTERNS`."""
    if pattern == "one index everywhere":
        return np.full(shape, draw.integers(high), dtype=np.int64)
    if pattern == "first and last only":
        return np.where(draw.mask(*shape), 0, high - 1).astype(np.int64)
    if pattern == "every index":  # 0..high-1 in order, repeated to fill the shape
        return (np.arange(int(np.prod(shape))) % high).reshape(shape).astype(np.int64)
    return draw.integers(high, *shape)


def draw_mask(draw, pattern: str, N: int, T: int) -> np.ndarray:
    """A boolean (N, T) mask following one of :data:`MASK_PATTERNS`."""
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


@dataclass(frozen=True)
class BenchTarget:
    """A goal for a benchmark row: ``ratio`` (numpy/torch) at most ``limit``, or
    ``gemm_fraction`` (share of the GEMM rate) at least ``limit``; at the grid size
    ``grid`` (N, T, D, H) and ``dtype``, or at every size / dtype when None."""

    measure: str
    limit: float
    grid: tuple | None = None
    dtype: str | None = None


@dataclass(frozen=True)
class Bench:
    """How ``python -m torch_ref bench`` times a component.

    sizes:   the grid point ``{N, T, D, H, V}`` -> the component's named sizes.
    flops:   the component's sizes -> operations of its matrix products (or None).
    gemms:   the component's sizes -> the matrix products numpy_rnn computes in one
             forward and backward pass, as ``(m, k, n, count)``: ``count`` products
             of an (m, k) by a (k, n) matrix (or None). The benchmark times them
             alone: the time the pass cannot go below.
    targets: :class:`BenchTarget` goals.
    note:    what runs on the torch side.
    """

    sizes: Callable[[dict], dict]
    flops: Callable[[dict], int] | None = None
    gemms: Callable[[dict], tuple] | None = None
    targets: tuple = ()
    note: str = ""


@dataclass(frozen=True)
class Component:
    """Everything the project knows about one component.

    name:         catalog key, e.g. ``"lstm"``.
    cases:        ``cases(dtype, seed) -> iterable of Case``.
    signature:    functional name -> (argument names, returned names) of each function
                  of the functional API the component calls (``rnn_forward`` ->
                  ``(("x", "h0", "Wx", "Wh", "b"), ("h", "cache"))``); one returned name
                  is a bare value. ``"**weights"`` last among the arguments stands for
                  weights passed as keyword arguments, and ``"*dweights"`` last among the
                  returned names for their gradients, one each, in a documented order
                  (the stacked networks). The adapters' ``FUNCTIONAL`` table and golden
                  ops are built from it.
    functions:    API functions the component exercises (for ``--only`` and MISSING);
                  by default the functions of ``signature``.
    produced_by:  tensor name -> the function that computes it (names the culprit); by
                  default what ``signature`` returns, ``cache`` aside.
    run_numpy:    ``run_numpy(api, case) -> Run``; ``api`` exposes ``functions``. By
                  default ``forward(*inputs, **options)`` then ``backward(*upstream,
                  cache)``, the two functions of ``signature``.
    run_torch:    ``run_torch(case) -> Run`` with the same keys; by default one run
                  of ``torch_prepare``.
    torch_prepare: ``torch_prepare(case) -> (run, result)``: the torch reference built
                  once (modules, leaf tensors, upstream gradients); ``run()`` resets
                  the gradients and runs forward and backward, ``result()`` reads the
                  last run as a :class:`Run`. The benchmark times ``run``.
    build:        ``build(draw, sizes) -> (inputs, upstream)``: a case of any sizes
                  drawn from a :class:`Sampler` (benchmarks, fuzzing).
    bench:        :class:`Bench`, or None when the component is not timed.
    fuzz:         :class:`Fuzz`, or None when the component is not fuzzed.
    options:      keyword arguments of the forward function (``reset_after=False``).
    errors:       :class:`ErrorInput` cases (bad input -> exception and message).
    mistakes:     known wrong answers with their hints (:class:`Mistake`), tried in order.
    calls:        functional name -> another one it is likely to call (a sequence
                  function its step function): a failure there may be inherited.
    gate_axes:    tensor name -> axis holding gate blocks (size G*H).
    cell:         the recurrent cell (a key of ``torch_ref.layout.CELLS``) whose gates
                  ``gate_axes`` hold; empty for other components.
    scope:        ``"functional"``: runs on any module with the functional API;
                  ``"numpy_rnn"``: models and optimisers of this project only.
    tolerance:    optional override ``{dtype: (rtol, atol)}``.
    """

    name: str
    cases: Callable[[str, int], Iterable[Case]]
    signature: dict = field(default_factory=dict)
    functions: tuple = ()
    produced_by: dict = field(default_factory=dict)
    run_numpy: Callable[[Any, Case], Run] | None = None
    run_torch: Callable[[Case], Run] | None = None
    torch_prepare: Callable | None = None
    build: Callable | None = None
    bench: Bench | None = None
    fuzz: Fuzz | None = None
    options: dict = field(default_factory=dict)
    errors: tuple = ()
    mistakes: tuple = ()
    calls: dict = field(default_factory=dict)
    gate_axes: dict = field(default_factory=dict)
    cell: str = ""
    scope: str = "functional"
    tolerance: dict = field(default_factory=dict)
    description: str = ""

    def __post_init__(self):
        if not self.functions:
            object.__setattr__(self, "functions", tuple(self.signature))
        if not self.produced_by:
            object.__setattr__(self, "produced_by", {
                name: fn for fn, (_, returned) in self.signature.items()
                for name in returned if name != "cache"})
        if self.run_numpy is None:
            object.__setattr__(self, "run_numpy", self._run_pair)
        if self.run_torch is None:
            if self.torch_prepare is None:
                raise ValueError(f"{self.name}: needs run_torch or torch_prepare")
            object.__setattr__(self, "run_torch", self._run_prepared)

    def _run_pair(self, api, case: Case) -> Run:
        """The forward of ``signature`` on the case's inputs, then its backward on the
        upstream gradients of the outputs; gradients keyed as the backward names them."""
        (forward, (_, returned)), (backward, (_, grads)) = self.signature.items()
        outputs = returned[:-1]  # the cache last
        *values, cache = getattr(api, forward)(*case.inputs.values(), **self.options)
        result = getattr(api, backward)(*(case.upstream[o] for o in outputs), cache)
        result = result if len(grads) > 1 else (result,)
        return Run(dict(zip(outputs, values, strict=True)),
                   dict(zip(grads, result, strict=True)))

    def _run_prepared(self, case: Case) -> Run:
        run, result = self.torch_prepare(case)
        run()
        return result()

    def sized_case(self, dtype: str, sizes: dict, seed: int = 0, label: str = "sized") -> Case:
        """A case of any ``sizes`` made by ``build`` (benchmarks, fuzzing)."""
        draw = Sampler(self.name, dtype, seed, label)
        inputs, upstream = self.build(draw, sizes)
        return Case(self.name, label, dtype, seed, inputs, upstream, dict(sizes))

    def all_cases(self, seeds=DEFAULT_SEEDS, dtypes=DTYPES):
        for dtype in dtypes:
            for seed in seeds:
                yield from self.cases(dtype, seed)


CATALOG: dict = {}


def functional_signatures() -> dict:
    """Functional name -> (argument names, returned names), from every entry's signature."""
    table = {}
    for component in CATALOG.values():
        for fn, sig in component.signature.items():
            if table.setdefault(fn, sig) != sig:
                raise ValueError(f"{component.name}: signature of {fn} {sig} differs from "
                                 f"{table[fn]}")
    return table


def select_components(catalog: dict, only=None, scope=None, aliases=None):
    """Components to run: all, or those named in ``only`` (component or function names).

    aliases: extra names -> tuple of functional names (an adapter's user names).
    Raises ``ValueError`` naming unknown entries and listing the valid ones.
    """
    components = [c for c in catalog.values() if scope is None or c.scope in scope]
    if not only:
        return components
    aliases = aliases or {}
    known = ({c.name for c in components} | {f for c in components for f in c.functions}
             | set(aliases))
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ValueError(f"--only: unknown name(s) {', '.join(unknown)}; choose from: "
                         + ", ".join(sorted(known)))
    wanted = set(only) | {f for name in only for f in aliases.get(name, ())}
    return [c for c in components if c.name in wanted or set(c.functions) & wanted]

# ---- running --------------------------------------------------------------------------

def drawn_sizes(component: str, seed: int, ranges: dict) -> dict:
    """Sizes nobody listed, drawn from ``seed``: ``{name: size}`` with each size uniform
    in its ``ranges`` entry ``(low, high)`` (both included). The same seed gives the same
    sizes in every process (regression fixtures), another seed other sizes."""
    import zlib

    rng = np.random.default_rng([seed, zlib.crc32(f"{component}/drawn".encode())])
    return {name: int(rng.integers(low, high + 1)) for name, (low, high) in ranges.items()}


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
