"""``python -m torch_ref verify``: the command line (arguments, printing, exit status).

Without ``--module``: the catalog against numpy_rnn (:mod:`torch_ref.selfcheck`).
With ``--module PATH``: somebody else's hand-written module, run in a confined child
process (``--in-process``: in this one, for trusted code) and seen through the
adapter of its API (:mod:`torch_ref.verify.session`). Each function of that API gets
one verdict (:mod:`torch_ref.status`); the report names the first case that exposes
each failing tensor, its errors, the worst index, the gate block and a hint where the
pattern is recognisable; every warning its kind and first case. ``--json FILE``
writes everything for autograders.

Exit status: 0 when every function passes (WARN too, unless ``--strict``), 1 when a
function is FAIL, ERROR, MISSING or UNTESTED, 2 for a usage error or a module that
cannot be loaded, 3 when verify itself failed while checking (an internal error,
never the module's fault).
"""
from __future__ import annotations

import json
import os
import sys

from torch_ref.verify import escape
from torch_ref.verify.render import format_report
from torch_ref.verify.run import UsageError
from torch_ref.verify.session import DEFAULT_TIMEOUT, verify_target

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def add_arguments(parser) -> None:
    from torch_ref.verify import adapters

    parser.add_argument("--module", metavar="PATH",
                        help="check this module instead of numpy_rnn: a .py file (inside a "
                             "package is fine), a notebook (.ipynb: its imports, "
                             "functions and classes only), or a dotted name with --path")
    parser.add_argument("--path", metavar="ROOT",
                        help="directory a dotted --module name is imported from")
    parser.add_argument("--api", default="auto", choices=("auto", *adapters.available()),
                        help="the API the module is written to (default auto: detected "
                             "from what the module defines): "
                             + "; ".join(f"{n}: {a.description}"
                                         for n, a in adapters.available().items()))
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="components or function names to check (default: all)")
    parser.add_argument("--seed", type=int, default=0,
                        help="first of the three seeds each case is drawn with (default 0)")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both")
    parser.add_argument("--timeout", type=timeout_seconds, default=DEFAULT_TIMEOUT,
                        metavar="SECONDS",
                        help="time limit of one call into the module (default 30)")
    parser.add_argument("--json", metavar="FILE", help="also write every result as JSON")
    parser.add_argument("--strict", action="store_true",
                        help="with --module, warnings (right values, hazardous code: "
                             "changing a caller's array, float32 in and float64 out, "
                             "floating-point flags, log-sum-exp-only cases) fail the run")
    parser.add_argument("--in-process", action="store_true",
                        help="run the module inside this process (trusted code only; by "
                             "default it runs in a confined child process)")
    parser.add_argument("--memory", type=float, default=4.0, metavar="GIB",
                        help="memory limit of the module's process in GiB (default 4)")
    parser.add_argument("--confinement", choices=("auto", "bubblewrap", "fallback"),
                        default="auto",
                        help="how the module's process is confined: bubblewrap (namespaces), "
                             "fallback (where user namespaces are refused), or auto (the "
                             "first that works here; default; TORCH_REF_CONFINEMENT sets it)")
    parser.add_argument("--checks", action="store_true",
                        help="also print the table of every comparison (one row per tensor)")
    parser.add_argument("--failures-only", action="store_true",
                        help="print only the comparisons that did not pass")


# the longest time limit setitimer takes everywhere (a day is far beyond any check)
MAX_TIMEOUT = 86400.0


def timeout_seconds(text: str) -> float:
    """``--timeout``: a finite number of seconds in (0, MAX_TIMEOUT]."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}"
                                         ) from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"expected a finite number of seconds, more than 0 and at most "
            f"{MAX_TIMEOUT:g}, got {text}")
    return value


def write_json(path: str, doc: dict) -> int:
    """Write ``doc``; 0, or 2 (with a message) when the file cannot be written."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
    except OSError as exc:
        print(f"error: --json {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def run(args) -> int:
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    if args.module is None:
        if args.path is not None:
            print("error: --path goes with --module", file=sys.stderr)
            return EXIT_USAGE
        from torch_ref import selfcheck

        return selfcheck.run(args, dtypes)
    try:
        if args.memory <= 0:
            raise UsageError("--memory must be positive")
        limits = None
        if not args.in_process:
            from torch_ref.verify.isolation.limits import GiB, Limits

            limits = Limits(timeout=args.timeout, memory=int(args.memory * GiB),
                            confinement=args.confinement)
        report = verify_target(args.module, args.api, args.path, args.only, args.seed,
                               dtypes, args.timeout, strict=args.strict,
                               isolated=not args.in_process, limits=limits,
                               hidden=_json_folder(args.json))
    except UsageError as exc:
        print(f"error: {escape.terminal(exc)}", file=sys.stderr)
        return EXIT_USAGE
    print(escape.terminal(format_report(report, show_checks=args.checks,
                                        failures_only=args.failures_only)))
    if report.blocked_imports:
        print(escape.terminal(f"note: the module tried to import the grader's own packages "
                              f"(refused): {', '.join(report.blocked_imports)}"))
    if args.json and write_json(args.json, report.as_dict()):
        return EXIT_USAGE
    if report.internal_errors:
        return EXIT_INTERNAL
    return EXIT_PASS if report.ok else EXIT_FAIL


def _json_folder(path) -> tuple:
    """The folder of the --json file: hidden from the module under test."""
    return (os.path.dirname(os.path.abspath(path)),) if path else ()
