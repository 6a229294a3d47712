"""``python -m torch_ref fixtures``: check or regenerate the regression fixtures.

Without ``--regen`` it reruns every component on its frozen inputs and prints,
per component, how many arrays are bit-for-bit identical, how many moved within
tolerance and which drifted beyond it (exit status 1 then). ``--regen`` rewrites
the fixtures from today's results and prints what changed. Needs no torch.
"""
from __future__ import annotations

import sys
from pathlib import Path

from torch_ref.compare import regression


def add_arguments(parser) -> None:
    parser.add_argument("--regen", action="store_true",
                        help="rewrite the fixtures from today's results and print what changed")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="components to check or regenerate (default: all)")
    parser.add_argument("--dir", type=Path, default=regression.DEFAULT_DIR,
                        help=f"fixture directory (default: {regression.DEFAULT_DIR})")


def _format_worst(worst: dict) -> str:
    return "; ".join(f"{dtype} up to {ulp:.3g} ulp of an array's scale, "
                     f"{used:.2g}x of the tolerance"
                     for dtype, (ulp, used) in sorted(worst.items())) or "all identical"


def run(args) -> int:
    from torch_ref.catalog import select_components

    try:
        components = select_components(regression.catalog(), args.only)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.regen:
        rewritten = 0
        for component in components:
            changed, report = regression.regenerate(component, args.dir)
            rewritten += changed
            print(report)
        print(f"\n{rewritten} of {len(components)} fixture files rewritten in {args.dir}")
        return 0
    failing, all_drifts = 0, []
    for component in components:
        try:
            drifts = regression.check(component, args.dir)
        except regression.FixtureError as exc:
            print(f"{component.name}: ERROR {exc}")
            failing += 1
            continue
        all_drifts += drifts
        failing += any(d.failed for d in drifts)
        print(regression.summarize(component.name, drifts))
    print(f"\ndrift over all components: {_format_worst(regression.worst_by_dtype(all_drifts))}")
    print(f"{len(components) - failing} passed, {failing} failed")
    return 1 if failing else 0
