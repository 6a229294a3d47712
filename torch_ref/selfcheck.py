"""``python -m torch_ref verify`` without ``--module``: the catalog against numpy_rnn.

Every component of the catalog runs on numpy_rnn directly (its functional API, its
models and optimisers), on every case, seed and dtype, plus a reuse sequence of each
functional component, and every tensor comparison is a row: one table row per
component by default (cases, comparisons, worst errors, the worst error as a share
of its tolerance), every comparison with ``--checks``. No adapter is involved: the
project's own code is trusted and called in this process.
"""
from __future__ import annotations

import contextlib
import math
import sys
import time

import numpy as np

from torch_ref.catalog import select_components
from torch_ref.status import ERROR, PASS
from torch_ref.verify.render import _fmt, _table, describe_failure, format_table
from torch_ref.verify.run import _Hinter, reuse_cases, run_checks, single_threaded_torch


def run(args, dtypes) -> int:
    """The project's own check: every catalog component, every comparison a row."""
    from torch_ref.catalog import CATALOG

    try:
        components = select_components(CATALOG, args.only)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import numpy_rnn

    return _check_numpy_rnn(args, dtypes, components, numpy_rnn)


def _check_numpy_rnn(args, dtypes, components, numpy_rnn) -> int:
    from torch_ref.compare.engine import check_reuse

    plain = _PlainFunctional(numpy_rnn.functional)

    def api_for(component):
        return plain if component.scope == "functional" else numpy_rnn

    seeds = (args.seed, args.seed + 1, args.seed + 2)
    start = time.perf_counter()
    hinter = _Hinter()
    with single_threaded_torch():
        checks = run_checks(components, api_for, seeds, dtypes, on_case=hinter)
        for component in components:
            if component.scope == "functional":
                checks += check_reuse(component, api_for(component),
                                      reuse_cases(component, args.seed), on_case=hinter)
    elapsed = time.perf_counter() - start
    if args.checks or args.failures_only:
        print(format_table(checks, full=not args.failures_only))
        print()
    print(format_components(components, checks))
    if not (args.checks or args.failures_only):
        print("(--checks prints every comparison, one row per tensor)")
    failures = first_failures(checks)
    if failures:
        print("\nWhat is wrong (first case exposing each failing tensor):")
        for check in failures:
            print(describe_failure(check))
    cases = len({(c.component, c.case) for c in checks})
    print(f"\n{len(components)} components, {cases} cases, {len(checks)} comparisons "
          f"in {elapsed:.1f} s")
    print(summary_line(checks))
    if args.json:
        from torch_ref.verify.cli import write_json

        passed = sum(c.passed for c in checks)
        if write_json(args.json, {"module": "numpy_rnn", "seeds": list(seeds),
                                   "dtypes": list(dtypes),
                                   "summary": {"passed": passed,
                                               "failed": len(checks) - passed,
                                               "errors": sum(c.status == ERROR
                                                             for c in checks)},
                                   "checks": [c.as_dict() for c in checks]}):
            return 2
    return 0 if all(c.passed for c in checks) else 1


class _PlainFunctional:
    """A functional module as the reuse checks call it (no instances to keep)."""

    reuse_notes = ()

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        return getattr(self._module, name)

    def reusing(self):
        return contextlib.nullcontext()



def first_failures(checks) -> list:
    """The first failing check of each (component, tensor): the case that exposes it."""
    seen, firsts = set(), []
    for check in checks:
        key = (check.component, check.tensor)
        if not check.passed and key not in seen:
            seen.add(key)
            firsts.append(check)
    return firsts


def summary_line(checks) -> str:
    passed = sum(c.passed for c in checks)
    return f"{passed} comparisons passed, {len(checks) - passed} failed"


def _tolerance_share(check, component) -> float:
    """The largest ``|actual - expected| / (atol + rtol |expected|)`` of a check (1: at
    the tolerance), NaN when there are no values to compare."""
    from torch_ref.compare.engine import tolerance

    if check.actual is None or check.expected is None:
        return float("nan")
    dtype = check.case.split("/")[1] if check.case.count("/") >= 2 else "float64"
    rtol, atol = tolerance(component, dtype)
    a = np.asarray(check.actual, dtype=np.float64)
    e = np.asarray(check.expected, dtype=np.float64)
    if a.shape != e.shape or a.size == 0:
        return float("nan")
    with np.errstate(all="ignore"):
        share = np.abs(a - e) / (atol + rtol * np.abs(e))
    share = np.where(np.isnan(share), np.inf, share)
    return float(share.max())


def format_components(components, checks) -> str:
    """One row per component: cases, comparisons, worst errors, the worst error as a share
    of its tolerance (1.0 = at the tolerance), PASS/FAIL."""
    rows = []
    for component in components:
        mine = [c for c in checks if c.component == component.name]
        if not mine:
            continue
        cases = len({c.case for c in mine})
        shares = [_tolerance_share(c, component) for c in mine]
        finite = [x for x in shares if x == x]
        worst_abs = max((c.max_abs for c in mine if c.max_abs == c.max_abs), default=math.nan)
        worst_rel = max((c.max_rel for c in mine if c.max_rel == c.max_rel), default=math.nan)
        failed = sum(not c.passed for c in mine)
        rows.append((component.name, cases, len(mine), _fmt(worst_abs), _fmt(worst_rel),
                     f"{max(finite):.2g}" if finite else "-",
                     PASS if not failed else f"FAIL ({failed})"))
    return _table(("component", "cases", "comparisons", "worst abs err", "worst rel err",
                   "of tolerance", "status"), rows)

