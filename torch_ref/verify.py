"""``python -m torch_ref verify``: run the catalog against PyTorch and report.

With no ``--module`` the NumPy side is ``numpy_rnn`` itself (its functional API
plus its models and optimisers).
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

from .compare import ERROR, FAIL, PASS, check_case


def select_components(catalog: dict, only=None, scope=None):
    """Components to run: all, or those named in ``only`` (component or function names).

    Raises ``ValueError`` naming unknown entries and listing the valid ones.
    """
    components = [c for c in catalog.values() if scope is None or c.scope in scope]
    if not only:
        return components
    known = {c.name for c in components} | {f for c in components for f in c.functions}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ValueError(f"--only: unknown name(s) {', '.join(unknown)}; choose from: "
                         + ", ".join(sorted(known)))
    return [c for c in components if c.name in only or set(c.functions) & set(only)]


def run_checks(components, api_for, seeds, dtypes, on_case=None) -> list:
    """Every tensor check of every case of ``components``.

    ``api_for(component)`` returns the object whose functions the NumPy run calls.
    """
    checks = []
    for component in components:
        api = api_for(component)
        for case in component.all_cases(seeds=seeds, dtypes=dtypes):
            result = check_case(component, api, case)
            checks.extend(result)
            if on_case is not None:
                on_case(component, case, result)
    return checks


def _fmt(value: float) -> str:
    return "-" if value != value else f"{value:.2e}"


def format_table(checks, full: bool = True) -> str:
    """A fixed-width table; ``full=False`` prints only rows that did not pass."""
    rows = [c for c in checks if full or not c.passed]
    header = ("component", "case", "tensor", "max abs err", "max rel err", "status")
    lines = [header] + [(c.component, c.case, c.tensor, _fmt(c.max_abs), _fmt(c.max_rel),
                         c.status + (f" (gate {c.gate})" if c.gate and not c.passed else ""))
                        for c in rows]
    widths = [max(len(str(row[i])) for row in lines) for i in range(len(header))]
    out = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def describe_failure(check) -> str:
    """Several lines a person can act on for a check that did not pass."""
    where = f"{check.component}.{check.tensor} (from {check.function})"
    lines = [f"{check.status} {where}", f"  case: {check.case_description}"]
    if check.status == FAIL and check.worst_index is not None:
        gate = f", LSTM gate block '{check.gate}'" if check.gate else ""
        lines.append(f"  max abs err {_fmt(check.max_abs)}, max rel err {_fmt(check.max_rel)}, "
                     f"worst index {tuple(check.worst_index)}{gate}")
        if check.actual is not None and check.expected is not None:
            idx = tuple(check.worst_index)
            lines.append(f"  got {float(np.asarray(check.actual)[idx]):.10g}, "
                         f"torch gives {float(np.asarray(check.expected)[idx]):.10g}")
    if check.message:
        lines.append(f"  {check.message}")
    if check.hint:
        lines.append(f"  hint: {check.hint}")
    return "\n".join(lines)


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
    passed = sum(c.status == PASS for c in checks)
    return f"{passed} passed, {len(checks) - passed} failed"


def write_json(path: str, checks, extra: dict) -> None:
    passed = sum(c.status == PASS for c in checks)
    doc = dict(extra, summary={"passed": passed, "failed": len(checks) - passed,
                               "errors": sum(c.status == ERROR for c in checks)},
               checks=[c.as_dict() for c in checks])
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)


def add_arguments(parser) -> None:
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="components or function names to check (default: all)")
    parser.add_argument("--seed", type=int, default=0,
                        help="first of the three seeds each case is drawn with (default 0)")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    parser.add_argument("--json", metavar="FILE", help="also write every check as JSON")
    parser.add_argument("--failures-only", action="store_true",
                        help="print only the rows that did not pass")


def run(args) -> int:
    from .catalog import CATALOG

    try:
        components = select_components(CATALOG, args.only)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import numpy_rnn
    from numpy_rnn import functional

    def api_for(component):
        return functional if component.scope == "functional" else numpy_rnn

    seeds = (args.seed, args.seed + 1, args.seed + 2)
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    start = time.perf_counter()
    checks = run_checks(components, api_for, seeds, dtypes)
    elapsed = time.perf_counter() - start
    print(format_table(checks, full=not args.failures_only))
    failures = first_failures(checks)
    if failures:
        print("\nWhat is wrong (first case exposing each failing tensor):")
        for check in failures:
            print(describe_failure(check))
    cases = len({(c.component, c.case) for c in checks})
    print(f"\n{len(components)} components, {cases} cases, {len(checks)} comparisons "
          f"in {elapsed:.1f} s")
    if args.json:
        write_json(args.json, checks, {"module": "numpy_rnn", "seeds": list(seeds),
                                       "dtypes": list(dtypes)})
    print(summary_line(checks))
    return 0 if all(c.passed for c in checks) else 1
