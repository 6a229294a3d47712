"""``python -m torch_ref bench``: time numpy_rnn against torch on the CPU.

Each row times one catalog entry (those with benchmark sizes, ``Component.bench``):
its forward and backward pass in NumPy (:mod:`numpy_rnn.functional`, through the
entry's ``run_numpy``) and its torch reference (``Component.torch_prepare``:
``torch.nn`` modules built by :mod:`torch_ref.layout` from the same arrays), on
identical inputs drawn by the entry's ``build``, in one process. The two sides
alternate (numpy, torch, numpy, torch ...) so that a change in the machine's load
hits both alike; the table shows the median of ``--repeats`` runs after
``--warmup`` runs of each (fast rows run more often, up to ``--min-time`` seconds
a side).

Torch modules, leaf tensors and upstream gradients are built before the clock
starts; a timed torch run resets the gradients (``set_to_none``, as optimisers
do), runs forward and calls ``backward`` with the fixed upstream gradient. A
timed NumPy run calls the forward and the backward function. After timing, the
last results of both sides are compared (``agree``: the largest normwise
relative difference over all outputs and gradients).

GFLOP/s counts the matrix products a forward and backward pass needs (for a
recurrent layer with ``G`` gate columns, ``G = H``, ``3H`` or ``4H``: the input
projection, the recurrent products, and in the backward ``dx``, ``dWx``,
``dWh``, ``dh``: ``6 N T G (D + H)`` in all) over the NumPy median time, and
``% GEMM`` divides it by the rate of one square NumPy GEMM of the same dtype
(the ``gemm (reference rate)`` row, 1024 by default), measured in the same run.

``GEMM ms`` is the floor of a row: the same matrix products as its NumPy run
(``Bench.gemms``: shapes, counts), timed alone in NumPy (preallocated operands,
``out=``), alternating with the two sides. ``GEMM/numpy`` divides it by the NumPy
time: the share of the run spent in matrix products; the rest is elementwise
work, copies and per-step overhead.

Targets (met or missed; timings are noisy on a shared machine, so read two runs)
are the entries' ``Bench.targets``, plus numpy/torch <= 1.5 for the embedding
backward at V=5000.

``--clock cpu`` times with this process's CPU time instead of the wall clock: on
a shared machine, time slices given to other processes then do not count (caches
and memory bandwidth are still shared); with one thread it is the run's own time.

Both sides use the same number of threads (``--threads``, default every core
this process may run on): ``torch.set_num_threads`` and, through threadpoolctl
when it is installed, NumPy's BLAS. The header reports what was in force.
Exit status: 0, or 1 when some row's NumPy and torch results disagree.
"""
from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from torch_ref.tolerances import BENCH_AGREEMENT as AGREEMENT

DEFAULT_SIZES = ((64, 64, 128, 256), (30, 50, 15, 100))
QUICK_SIZES = ((30, 50, 15, 100),)
DEFAULT_VOCAB = 5000
REFERENCE_GEMM = 1024  # square GEMM whose NumPy rate is the "% GEMM" reference
MIN_TIME = 0.5  # seconds of timed runs per side that a fast row aims for
MAX_RUNS = 50
_NAMED_SIZES = ("N", "T", "D", "H")


# ---- targets ------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A goal for one row: ``ratio`` (numpy/torch) at most ``limit``, or
    ``gemm_fraction`` (share of the GEMM rate) at least ``limit``."""

    measure: str
    limit: float

    def describe(self) -> str:
        if self.measure == "ratio":
            return f"<={self.limit:.2g}x"
        return f">={self.limit:.0%} GEMM"

    def met(self, value) -> bool | None:
        if value is None or not np.isfinite(value):
            return None
        return value <= self.limit if self.measure == "ratio" else value >= self.limit


# ---- one timed pair -----------------------------------------------------------------

@dataclass
class Benchmark:
    """One row: a NumPy run and a torch run of the same computation.

    numpy_run:    ``() -> Run`` (timed).
    torch_run:    ``() -> None`` (timed): reset gradients, forward, backward.
    torch_result: ``() -> Run`` with the NumPy run's keys, read after timing.
    flops:        floating-point operations of the matrix products, or None.
    gemm_run:     ``() -> None`` (timed): the NumPy run's matrix products alone, or None.
    note:         what runs on the torch side; tag: a remark shown in the table.
    """

    component: str
    sizes: dict
    dtype: str
    numpy_run: Callable
    torch_run: Callable
    torch_result: Callable
    flops: int | None = None
    targets: tuple = ()
    note: str = ""
    tag: str = ""
    gemm_run: Callable | None = None
    result: dict = field(default_factory=dict)

    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.sizes.items())


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _timed(fn, clock=time.perf_counter):
    """``(seconds, result)`` of one call, without the garbage collector running."""
    gc.disable()
    try:
        start = clock()
        out = fn()
        return clock() - start, out
    finally:
        gc.enable()


def agreement(numpy_run, torch_run, dtype: str) -> dict:
    """Largest normwise relative difference ``|a - b| / |b|`` over the runs' tensors."""
    a, b = numpy_run.tensors(), torch_run.tensors()
    if set(a) != set(b):
        return {"ok": False, "tensor": None, "rel_err": None, "max_abs": None,
                "message": f"numpy gives {sorted(a)}, torch {sorted(b)}"}
    worst = ("", 0.0, 0.0)
    for name in a:
        x, y = np.asarray(a[name], np.float64), np.asarray(b[name], np.float64)
        if x.shape != y.shape:
            return {"ok": False, "tensor": name, "rel_err": None, "max_abs": None,
                    "message": f"{name}: numpy shape {x.shape}, torch {y.shape}"}
        diff = x - y
        rel = float(np.linalg.norm(diff) / max(np.linalg.norm(y), np.finfo(np.float64).tiny))
        if not np.isfinite(rel) or rel >= worst[1]:
            worst = (name, rel, float(np.abs(diff).max()) if diff.size else 0.0)
    ok = bool(np.isfinite(worst[1]) and worst[1] <= AGREEMENT[dtype])
    return {"ok": ok, "tensor": worst[0], "rel_err": worst[1], "max_abs": worst[2],
            "message": ""}


def measure(bench: Benchmark, repeats: int, warmup: int, min_time: float = 0.0,
            clock=time.perf_counter) -> dict:
    """Time ``bench`` (numpy and torch alternating) and compare the last results.

    repeats:  timed runs of each side, at least.
    warmup:   untimed runs of each side first.
    min_time: a fast row keeps running (up to :data:`MAX_RUNS` runs) until one
              side has been timed for ``min_time`` seconds in all.
    The row's GEMMs alone (``gemm_run``) run as often, after each torch run.
    clock:    ``() -> seconds``: wall time (default) or this process's CPU time.
    """
    gc.collect()
    for _ in range(warmup):
        bench.numpy_run()
        bench.torch_run()
        if bench.gemm_run is not None:
            bench.gemm_run()
    numpy_times, torch_times, gemm_times = [], [], []
    numpy_out = None
    while (len(numpy_times) < repeats
           or (len(numpy_times) < MAX_RUNS
               and max(sum(numpy_times), sum(torch_times)) < min_time)):
        numpy_out = None  # let the previous result go before the next run allocates
        t, numpy_out = _timed(bench.numpy_run, clock)
        numpy_times.append(t)
        torch_times.append(_timed(bench.torch_run, clock)[0])
        if bench.gemm_run is not None:
            gemm_times.append(_timed(bench.gemm_run, clock)[0])
    numpy_s, torch_s = statistics.median(numpy_times), statistics.median(torch_times)
    gemm_s = statistics.median(gemm_times) if gemm_times else None
    flops = bench.flops
    bench.result = {
        "component": bench.component, "sizes": dict(bench.sizes), "dtype": bench.dtype,
        "numpy_ms": 1e3 * numpy_s, "torch_ms": 1e3 * torch_s,
        "ratio": numpy_s / torch_s if torch_s > 0 else None,
        "numpy_times_ms": [1e3 * t for t in numpy_times],
        "torch_times_ms": [1e3 * t for t in torch_times],
        "gemm_ms": None if gemm_s is None else 1e3 * gemm_s,
        "gemm_times_ms": [1e3 * t for t in gemm_times],
        "gemm_of_numpy": gemm_s / numpy_s if gemm_s is not None and numpy_s > 0 else None,
        "flops": flops,
        "numpy_gflops": flops / numpy_s / 1e9 if flops and numpy_s > 0 else None,
        "torch_gflops": flops / torch_s / 1e9 if flops and torch_s > 0 else None,
        "agree": agreement(numpy_out, bench.torch_result(), bench.dtype),
        "note": bench.note,
        "tag": bench.tag,
    }
    return bench.result


def score(results: list, gemm_rate: dict, targets: dict) -> None:
    """Add ``gemm_fraction`` and the target verdicts to each result, in place.

    gemm_rate: dtype -> NumPy GFLOP/s of the reference GEMM.
    targets:   id(result) -> tuple of :class:`Target`.
    """
    for r in results:
        rate = gemm_rate.get(r["dtype"])
        r["gemm_fraction"] = (r["numpy_gflops"] / rate
                              if r["numpy_gflops"] is not None and rate else None)
        r["targets"] = []
        for target in targets.get(id(r), ()):
            value = r["ratio"] if target.measure == "ratio" else r["gemm_fraction"]
            r["targets"].append({"target": target.describe(), "measure": target.measure,
                                 "limit": target.limit, "value": value,
                                 "met": target.met(value)})


# ---- building the rows ----------------------------------------------------------------

def _sampler(name: str, dtype: str, sizes: dict):
    from torch_ref.catalog import Sampler

    return Sampler(f"bench/{name}", dtype, 0, " ".join(f"{k}={v}" for k, v in sizes.items()))


def _gemm_floor(name: str, dtype: str, sizes: dict, shapes) -> Callable:
    """``() -> None`` running the products ``shapes`` (``(m, k, n, count)``) alone, on
    operands drawn and output buffers allocated once."""
    draw = _sampler(f"{name}/gemms", dtype, sizes)
    products = [(draw.normal(m, k), draw.normal(k, n), np.empty((m, n), dtype=dtype), count)
                for m, k, n, count in shapes]

    def run():
        for a, b, out, count in products:
            for _ in range(count):
                np.matmul(a, b, out=out)
    return run


def _catalog_row(component, dtype: str, grid: dict) -> Benchmark:
    """A row for a catalog entry: its NumPy run against its prepared torch reference,
    on a case of the entry's benchmark sizes at this grid point."""
    import torch

    from numpy_rnn import functional
    from torch_ref.catalog import Case

    spec = component.bench
    sizes = spec.sizes(grid)
    inputs, upstream = component.build(_sampler(component.name, dtype, sizes), sizes)
    case = Case(component.name, "bench", dtype, 0, inputs, upstream, dict(sizes))
    torch_run, torch_result = component.torch_prepare(case)
    nthd = tuple(grid[k] for k in _NAMED_SIZES)
    targets = tuple(Target(t.measure, t.limit) for t in spec.targets
                    if t.grid in (None, nthd) and t.dtype in (None, dtype))
    tag = ""
    if component.cell == "lstm" and dtype == "float32" and spec.note == "nn.LSTM" \
            and torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled:
        tag = "torch: oneDNN"  # torch runs float32 LSTMs through oneDNN's fused RNN primitive
    gemm_run = (_gemm_floor(component.name, dtype, sizes, spec.gemms(sizes))
                if spec.gemms else None)
    return Benchmark(component.name, sizes, dtype,
                     lambda: component.run_numpy(functional, case), torch_run, torch_result,
                     spec.flops(sizes) if spec.flops else None, targets, note=spec.note, tag=tag,
                     gemm_run=gemm_run)


def _embedding_backward(dtype, N, T, V, D) -> Benchmark:
    """``word_embedding_backward`` alone: the scatter-add of the gradient rows."""
    import torch

    from numpy_rnn import functional
    from torch_ref import layout as L
    from torch_ref.catalog import Run

    name = "word_embedding_backward"
    sizes = dict(N=N, T=T, V=V, D=D)
    draw = _sampler(name, dtype, sizes)
    words, W, dout = draw.integers(V, N, T), draw.normal(V, D), draw.normal(N, T, D)
    module = L.make_embedding(W)
    dout_t = L.tensor(dout)
    _, cache = functional.word_embedding_forward(words, W)
    out = module(torch.from_numpy(words))  # its graph is kept for every timed backward

    def numpy_run():
        return Run({}, {"dW": functional.word_embedding_backward(dout, cache)})

    def torch_run():
        module.zero_grad(set_to_none=True)
        out.backward(dout_t, retain_graph=True)

    def torch_result():
        return Run({}, {"dW": L.embedding_grad(module)})
    targets = (Target("ratio", 1.5),) if V == 5000 else ()
    return Benchmark(name, sizes, dtype, numpy_run, torch_run, torch_result, None, targets,
                     note="backward only")


def _gemm(dtype, M, K, N, tag) -> Benchmark:
    import torch

    from torch_ref import layout as L
    from torch_ref.catalog import Run

    draw = _sampler("gemm", dtype, dict(M=M, K=K, N=N))
    a, b = draw.normal(M, K), draw.normal(K, N)
    ta, tb = L.tensor(a), L.tensor(b)
    last = {}

    def torch_run():
        last["out"] = torch.mm(ta, tb)

    return Benchmark("gemm", dict(M=M, K=K, N=N), dtype, lambda: Run({"out": a @ b}, {}),
                     torch_run, lambda: Run({"out": L.to_numpy(last["out"])}, {}),
                     2 * M * K * N, note="torch.mm", tag=tag)


def _timed_components() -> dict:
    from torch_ref.catalog import CATALOG

    return {name: c for name, c in CATALOG.items() if c.bench is not None}


def build(sizes=DEFAULT_SIZES, vocab=DEFAULT_VOCAB, dtypes=("float64", "float32"),
          components=None, reference_gemm=REFERENCE_GEMM) -> list:
    """The rows to time, in order.

    sizes:          iterable of ``(N, T, D, H)``.
    vocab:          V of the embedding, the temporal affine output and the softmax loss.
    dtypes:         "float64" and/or "float32".
    components:     names from :func:`components` (default: all).
    reference_gemm: side of the square GEMM that sets each dtype's reference rate
                    (always built, whatever ``components`` says).
    Each catalog entry with benchmark sizes maps the grid point to its own sizes
    (the temporal affine maps ``H`` features to ``V`` scores, the softmax loss takes
    ``(N, T, V)`` scores ...); the ``gemm`` row multiplies ``(N*T, D+H)`` by
    ``(D+H, 4H)`` (an LSTM's fused input and recurrent weights over every timestep).
    """
    names = components_list()
    components = names if components is None else tuple(components)
    unknown = sorted(set(components) - set(names))
    if unknown:
        raise ValueError(f"unknown components {unknown}; choose from {list(names)}")
    timed = _timed_components()
    rows = []
    for dtype in dtypes:
        rows.append(_gemm(dtype, reference_gemm, reference_gemm, reference_gemm,
                          "reference rate"))
        for N, T, D, H in sizes:
            grid = dict(N=N, T=T, D=D, H=H, V=vocab)
            if "gemm" in components:
                rows.append(_gemm(dtype, N * T, D + H, 4 * H, "LSTM-shaped"))
            for name in components:
                if name in timed:
                    rows.append(_catalog_row(timed[name], dtype, grid))
                elif name == "word_embedding_backward":
                    rows.append(_embedding_backward(dtype, N, T, vocab, D))
    return rows


def components_list() -> tuple:
    """Every row name: ``gemm``, each timed catalog entry, ``word_embedding_backward``."""
    timed = tuple(_timed_components())
    return ("gemm", *timed, "word_embedding_backward")


# ---- threads ------------------------------------------------------------------------------

def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _numpy_blas_pools():
    """threadpoolctl's entries for NumPy's BLAS (not torch's), or None without it."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return [p for p in threadpoolctl.threadpool_info()
            if p.get("user_api") == "blas" and "torch" not in p.get("filepath", "")]


def limit_threads(stack: ExitStack, threads: int) -> list:
    """Give torch and NumPy's BLAS ``threads`` threads until ``stack`` closes.

    Returns warnings (NumPy's BLAS cannot be set without threadpoolctl).
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    stack.callback(torch.set_num_threads, before)
    try:
        import threadpoolctl
    except ImportError:
        return [f"threadpoolctl is not installed: NumPy's BLAS threads were not set to "
                f"{threads} (set OPENBLAS_NUM_THREADS={threads} before starting)"]
    pools = _numpy_blas_pools()
    controller = threadpoolctl.ThreadpoolController()
    for pool in pools:
        selected = controller.select(filepath=pool["filepath"])
        stack.enter_context(selected.limit(limits=threads))
    return []


def thread_settings() -> dict:
    """What is in force now: torch's threads and NumPy's BLAS (library, threads)."""
    import torch

    info = {"cores": _available_cores(), "torch_threads": torch.get_num_threads(),
            "torch_version": torch.__version__, "numpy_version": np.__version__}
    pools = _numpy_blas_pools()
    if pools:
        info["numpy_blas"] = ", ".join(f"{p['internal_api']} {p.get('version')}"
                                       for p in pools)
        threads = sorted({p["num_threads"] for p in pools})
        info["numpy_blas_threads"] = threads[0] if len(threads) == 1 else threads
        info["numpy_blas_source"] = "threadpoolctl"
    else:
        info["numpy_blas"] = _show_config_blas()
        env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                          "MKL_NUM_THREADS") if k in os.environ}
        info["numpy_blas_threads"] = None
        info["numpy_blas_source"] = ("np.show_config (threadpoolctl not installed); "
                                     f"environment: {env or 'no thread variables set'}")
    return info


def _show_config_blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy: the summary is only printed
        return "unknown"


# ---- report ------------------------------------------------------------------------------

def _fmt(value, spec, missing="-"):
    return missing if value is None else format(value, spec)


def _target_text(targets: list) -> str:
    verdict = {True: "met", False: "MISSED", None: "n/a"}
    return "; ".join(f"{t['target']} {verdict[t['met']]}" for t in targets) or "-"


def format_table(results: list) -> str:
    """The results as an aligned text table, one row per result."""
    head = ("component", "sizes", "dtype", "numpy ms", "GEMM ms", "GEMM/numpy", "torch ms",
            "numpy/torch", "GFLOP/s", "% GEMM", "agree", "target")
    rows = []
    for r in results:
        agree = r["agree"]
        rows.append((
            r["component"] + (f" ({r['tag']})" if r["tag"] else ""),
            " ".join(f"{k}={v}" for k, v in r["sizes"].items()), r["dtype"],
            f"{r['numpy_ms']:.3f}", _fmt(r["gemm_ms"], ".3f"), _fmt(r["gemm_of_numpy"], ".0%"),
            f"{r['torch_ms']:.3f}", _fmt(r["ratio"], ".2f") + "x",
            _fmt(r["numpy_gflops"], ".3g"), _fmt(r["gemm_fraction"], ".0%"),
            ("ok " if agree["ok"] else "DIFFER ") + _fmt(agree["rel_err"], ".0e", "?"),
            _target_text(r["targets"]),
        ))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    numeric = {3, 4, 5, 6, 7, 8, 9}

    def line(cells):
        return "  ".join(str(c).rjust(w) if i in numeric else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def format_header(info: dict) -> str:
    blas_threads = info["numpy_blas_threads"]
    lines = [
        f"numpy_rnn vs torch (CPU), forward + backward, median of {info['repeats']} runs "
        + (f"or more (up to {info['min_time']:g} s a side) " if info["min_time"] > 0 else "")
        + f"after {info['warmup']} warm-up, alternating numpy and torch; "
        + ("wall time" if info["clock"] == "wall" else "CPU time of this process"),
        f"machine: {info['machine']}, {info['cores']} cores available, "
        f"load average {info['load_before']} before",
        f"torch {info['torch_version']}: {info['torch_threads']} threads;  "
        f"numpy {info['numpy_version']} BLAS {info['numpy_blas']}: "
        + (f"{blas_threads} threads" if blas_threads is not None else "threads not known")
        + f" ({info['numpy_blas_source']})",
    ]
    lines += [f"warning: {w}" for w in info["warnings"]]
    return "\n".join(lines)


def format_summary(info: dict, results: list) -> str:
    verdicts = [t["met"] for r in results for t in r["targets"]]
    rates = ", ".join(f"{dtype} {rate:.1f} GFLOP/s" for dtype, rate in info["gemm_rate"].items())
    lines = [f"GEMM rate (NumPy, {info['gemm_size']}^3): {rates}"]
    if verdicts:
        lines.append(f"targets: {verdicts.count(True)} met, {verdicts.count(False)} missed"
                     + (f", {verdicts.count(None)} not measurable" if None in verdicts else ""))
    disagree = [r for r in results if not r["agree"]["ok"]]
    for r in disagree:
        a = r["agree"]
        lines.append(f"DIFFER: {r['component']} {r['dtype']} "
                     f"{' '.join(f'{k}={v}' for k, v in r['sizes'].items())}: "
                     f"{a['tensor']} normwise relative difference {a['rel_err']} > "
                     f"{AGREEMENT[r['dtype']]} {a['message']}".rstrip())
    lines.append(f"load average {info['load_after']} after")
    return "\n".join(lines)


# ---- command line ----------------------------------------------------------------------

def _size(text: str) -> tuple:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or min(values) < 1:
        import argparse

        raise argparse.ArgumentTypeError(f"expected N,T,D,H (four positive integers), "
                                         f"got {text!r}")
    return values


def add_arguments(parser) -> None:
    parser.add_argument("--json", metavar="FILE", help="also write every timing to FILE")
    parser.add_argument("--repeats", type=int, default=5, metavar="R",
                        help="timed runs of each side per row; the median is shown (default 5)")
    parser.add_argument("--warmup", type=int, default=1, metavar="W",
                        help="untimed runs of each side first (default 1)")
    parser.add_argument("--min-time", type=float, default=MIN_TIME, metavar="S",
                        help="a fast row runs more than --repeats times, until one side "
                             f"has run S seconds or {MAX_RUNS} times (default {MIN_TIME}; "
                             "0: exactly --repeats)")
    parser.add_argument("--quick", action="store_true",
                        help=f"only the size N,T,D,H = {','.join(map(str, QUICK_SIZES[0]))}")
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                        help="wall: elapsed time (default); cpu: this process's CPU time, "
                             "which time slices lost to other processes do not inflate "
                             "(meaningful with --threads 1 on a shared machine)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="threads for torch and NumPy's BLAS alike (default: every "
                             f"available core, here {_available_cores()})")
    parser.add_argument("--sizes", type=_size, action="append", metavar="N,T,D,H",
                        help="a size of the grid; repeat for several (default: "
                             + " and ".join(",".join(map(str, s)) for s in DEFAULT_SIZES)
                             + ")")
    parser.add_argument("--vocab", type=int, default=DEFAULT_VOCAB, metavar="V",
                        help=f"vocabulary size (default {DEFAULT_VOCAB})")
    parser.add_argument("--dtypes", nargs="+", choices=("float64", "float32"),
                        default=["float64", "float32"])
    parser.add_argument("--gemm-size", type=int, default=REFERENCE_GEMM, metavar="S",
                        help="side of the square GEMM that sets the reference rate "
                             f"(default {REFERENCE_GEMM})")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=None,
                        help="rows to time (default all): gemm, word_embedding_backward "
                             "or any catalog entry with benchmark sizes (rnn, lstm, gru, "
                             "rnn_step ...)")


def run(args) -> int:
    if (args.repeats < 1 or args.warmup < 0 or args.gemm_size < 1 or args.vocab < 1
            or args.min_time < 0):
        print("error: --repeats, --gemm-size and --vocab must be >= 1, --warmup and "
              "--min-time >= 0", file=sys.stderr)
        return 2
    threads = args.threads if args.threads is not None else _available_cores()
    if threads < 1:
        print(f"error: --threads must be >= 1, got {threads}", file=sys.stderr)
        return 2
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    with ExitStack() as stack:
        warnings = limit_threads(stack, threads)
        info = thread_settings()
        info.update(repeats=args.repeats, warmup=args.warmup, warnings=warnings,
                    machine=_cpu_name(), load_before=_load(), threads_requested=threads,
                    gemm_size=args.gemm_size, min_time=args.min_time, clock=args.clock)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        if load > info["cores"] - 0.5:
            warnings.append(f"the machine is busy (load {load:.1f} on {info['cores']} cores): "
                            "timings are noisy; compare several runs"
                            + ("; with more than one thread a descheduled thread stalls "
                               "every small GEMM: try --threads 1" if threads > 1 else "")
                            + ("; --clock cpu leaves out the time slices of other processes"
                               if threads == 1 and args.clock == "wall" else ""))
        if args.clock == "cpu" and threads > 1:
            warnings.append(f"--clock cpu with {threads} threads adds up the CPU time of "
                            "every thread: it is not the time a run takes")
        blas = info["numpy_blas_threads"]
        if blas is not None and blas != info["torch_threads"]:
            warnings.append(f"torch uses {info['torch_threads']} threads, NumPy's BLAS {blas}")
        print(format_header(info), flush=True)
        try:
            rows = build(sizes, args.vocab, args.dtypes, args.only, args.gemm_size)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        results, targets, gemm_rate = [], {}, {}
        for bench in rows:
            r = measure(bench, args.repeats, args.warmup, args.min_time, CLOCKS[args.clock])
            results.append(r)
            targets[id(r)] = bench.targets
            if (bench.component == "gemm" and bench.tag == "reference rate"
                    and r["numpy_gflops"]):
                gemm_rate[bench.dtype] = r["numpy_gflops"]
            print(f"  timed {r['component']:<24} {bench.label():<24} {r['dtype']}",
                  file=sys.stderr, flush=True)
        info["load_after"] = _load()
        info["gemm_rate"] = gemm_rate
        score(results, gemm_rate, targets)
    print()
    print(format_table(results))
    print()
    print(format_summary(info, results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": info, "results": results}, f, indent=1)
            f.write("\n")
    return 0 if all(r["agree"]["ok"] for r in results) else 1


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"
