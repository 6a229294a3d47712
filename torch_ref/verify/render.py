"""The text of a ``verify --module`` report, made from :class:`~torch_ref.verify.report.Report`.

One row per function (status, checks, first problem), then what is wrong (the first
case exposing each failing tensor, its numbers, hints), the warnings, notes and the
summary lines. Everything a submission can put into the text (its messages, names,
what it printed) is escaped at the boundary, by the command that prints or writes
it (:mod:`torch_ref.verify.escape`).
"""
from __future__ import annotations

import numpy as np

from torch_ref.compare.engine import WARNING_KINDS
from torch_ref.status import ERROR, FAIL, MISSING, NA, PASS, UNTESTED, WARN
from torch_ref.verify.verdict import FunctionResult, error_text, warning_counts

SKIPPED = NA


def _fmt(value: float) -> str:
    return "-" if value != value else f"{value:.2e}"


def _table(header, rows) -> str:
    lines = [header] + rows
    widths = [max(len(str(row[i])) for row in lines) for i in range(len(header))]
    out = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
           for row in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def format_table(checks, full: bool = True) -> str:
    """A fixed-width table of checks; ``full=False`` prints only rows that did not pass."""
    rows = [(c.component, c.case, c.tensor, _fmt(c.max_abs), _fmt(c.max_rel),
             c.status + (f" (gate {c.gate})" if c.gate and not c.passed else ""))
            for c in checks if full or not c.passed]
    return _table(("component", "case", "tensor", "max abs err", "max rel err", "status"),
                  rows)


def short_problem(result: FunctionResult, width: int = 70) -> str:
    if result.note:
        text = result.note
    elif result.status == WARN:
        kinds = list(dict.fromkeys(c.kind for c in result.warnings()))
        text = "warning: " + ", ".join(kinds) + " (values right)"
    else:
        problems = result.problems()
        if not problems:
            return ""
        first = next((c for c in problems if c.hint), problems[0])
        text = first.hint or first.message or "wrong values"
        if first.tensor != "-":
            text = f"{first.tensor}: {text}"
        distinct = {error_text(c) if c.tensor in ("-", "*") else c.tensor for c in problems}
        if len(distinct) > 1:
            text += f" (+{len(distinct) - 1} more)"
    return text if len(text) <= width else text[:width - 3] + "..."


def format_functions(results) -> str:
    """The per-function summary table."""
    rows = [(r.name, r.status, f"{r.passed}/{len(r.checks)}" if r.checks else "-",
             "" if r.status == PASS else short_problem(r)) for r in results]
    return _table(("function", "status", "checks", "first problem"), rows)


def describe_failure(check) -> str:
    """Several lines a person can act on for a check that did not pass."""
    where = f"{check.component}.{check.tensor} (from {check.function})"
    lines = [f"{check.status} {where}", f"  case: {check.case_description}"]
    lines += _numbers(check)
    if check.message:
        lines.append(f"  {check.message}")
    if check.hint:
        lines.append(f"  hint: {check.hint}")
    return "\n".join(lines)


def _numbers(check, compact: bool = False):
    """Errors, worst index, gate block and the two values there: lines, or one line."""
    if (check.status != FAIL or check.worst_index is None
            or check.message.startswith(f"{check.tensor} has dtype")):
        return "" if compact else []
    gate = f", LSTM gate block '{check.gate}'" if check.gate else ""
    lines = [f"max abs err {_fmt(check.max_abs)}, max rel err {_fmt(check.max_rel)}, "
             f"worst index {tuple(check.worst_index)}{gate}"]
    if check.actual is not None and check.expected is not None:
        idx = tuple(check.worst_index)
        lines.append(f"got {float(np.asarray(check.actual)[idx]):.10g}, "
                     f"torch gives {float(np.asarray(check.expected)[idx]):.10g}")
    return "; ".join(lines) if compact else ["  " + line for line in lines]


def _label(check) -> str:
    return check.case.split("/")[0]


def _where_it_fails(result: FunctionResult, failing) -> str:
    """``wrong in 12 of 36 cases: only D==H (D == H ...)`` for a group of failing checks.

    failing: the checks that did not pass, all of one problem (one tensor, or one
    error message); the cases are those of the function, catalog and document cells.
    """
    cases = list(dict.fromkeys((c.component, c.case) for c in result.checks))
    bad = list(dict.fromkeys((c.component, c.case) for c in failing))
    verb = "raised" if failing[0].status == ERROR else "wrong"
    text = f"{verb} in {len(bad)} of {len(cases)} cases"
    catalog = [c for c in result.checks if c.component != "golden"]
    labels = list(dict.fromkeys(_label(c) for c in catalog))
    specials = {}
    for c in failing:
        if c.component != "golden":
            specials.setdefault(_label(c), "; ".join(c.special))
    golden = len({c.case for c in failing if c.component == "golden"})
    cells = f"; {golden} of them document cells" if golden else ""
    if not specials or len(specials) == len(labels) == 1:
        return text + cells
    if len(specials) == len(labels):
        return text + " (every kind of case)" + cells
    if len(specials) <= len(labels) - len(specials):
        shown = [f"{label} ({words})" if words else label
                 for label, words in list(specials.items())[:4]]
        return (text + ": only " + ", ".join(shown) + (" ..." if len(specials) > 4 else "")
                + cells)
    passing = [label for label in labels if label not in specials]
    return text + ": every kind of case but " + ", ".join(passing) + cells


def describe_function(result: FunctionResult) -> str:
    """The detail of one function that did not pass.

    Errors are grouped by message; wrong tensors first exposed by the same case with
    the same hint are grouped, each with its own numbers.
    """
    if result.status in (MISSING, UNTESTED, SKIPPED):
        return f"{result.status} {result.name}: {result.note}"
    lines = [f"{result.status} {result.name}"]
    errors = {}
    for check in result.checks:
        if not check.passed and check.tensor in ("-", "*"):
            errors.setdefault(error_text(check), []).append(check)
    for text, group in errors.items():
        lines += [f"  {text}", f"    first in: {group[0].case_description}",
                  f"    {_where_it_fails(result, group)}"]
    groups = {}
    for first in result.problems():
        if first.tensor in ("-", "*"):
            continue
        failing = [c for c in result.checks if c.tensor == first.tensor and not c.passed]
        where = _where_it_fails(result, failing)
        key = (first.case_description, where, first.hint, first.message)
        groups.setdefault(key, []).append(first)
    for (case, where, hint, message), group in groups.items():
        lines.append(f"  {', '.join(c.tensor for c in group)}: first wrong in {case}")
        lines.append(f"    {where}")
        for check in group:
            numbers = _numbers(check, compact=True)
            if numbers:
                lines.append(f"    {check.tensor}: {numbers}" if len(group) > 1
                             else f"    {numbers}")
        if message:
            lines.append(f"    {message}")
        if hint:
            lines.append(f"    hint: {hint}")
    return "\n".join(lines)


def _inherited_notes(adapter, results, components=()) -> list:
    """Functions that may only fail because of another one: a backward raising on the
    cache of a failing forward, a sequence function calling a failing step function."""
    from torch_ref.compare.hints import LIKELY_CALLS

    status = {r.name: r.status for r in results}
    notes = []
    for component in components:
        forward = adapter.user_name(component.functions[0])
        for functional in component.functions[1:]:
            later = adapter.user_name(functional)
            if later != forward and status.get(later) == ERROR and status.get(forward) == FAIL:
                notes.append(f"note: {later} gets its cache from {forward}, which fails too; "
                             f"fix {forward} first")
    for outer, inner in LIKELY_CALLS.items():
        if outer not in adapter.BINDINGS or inner not in adapter.BINDINGS:
            continue
        o, i = adapter.user_name(outer), adapter.user_name(inner)
        if status.get(o) in (FAIL, ERROR) and status.get(i) == FAIL:
            notes.append(f"note: {o} may only be failing because it calls {i}; fix {i} first")
    return notes


def describe_warnings(result: FunctionResult) -> list:
    """One line per warning of a function: kind, what, and the first case showing it."""
    lines = []
    for check in result.warnings():
        lines.append(f"WARN {result.name} [{check.kind}: {WARNING_KINDS.get(check.kind, '')}]")
        lines.append(f"  {check.message}")
        lines.append(f"    first in: {check.case_description}")
    return lines


def format_report(report, adapter=None, show_checks=False, failures_only=False) -> str:
    """The whole text report of ``report``."""
    adapter = adapter or report.adapter
    limit = (f"time limit {report.timeout:g} s per call" if report.timeout
             else "no time limit")
    parts = [f"verify {report.target} (--api {report.api}): seeds "
             f"{', '.join(map(str, report.seeds))}, {'/'.join(report.dtypes)}, {limit}"]
    if report.assumed:
        parts.append(f"edition: {report.assumed}")
    if report.confinement:
        parts.append(f"ran in: {report.confinement}")
    parts.append("")
    if show_checks or failures_only:
        parts += [format_table(report.checks, full=not failures_only), ""]
    parts.append(format_functions(report.functions))
    details = [describe_function(r) for r in report.functions
               if r.status not in (PASS, SKIPPED, WARN)]
    if details:
        parts += ["", "What is wrong (the first case exposing each failing tensor):"]
        parts += details
        parts += _inherited_notes(adapter, report.functions, report.components)
    warned = [line for r in report.functions for line in describe_warnings(r)]
    if warned:
        parts += ["", "Warnings: the values are right, but the code is hazardous"
                      + (" (--strict: they fail the run):" if report.strict
                         else " (--strict makes them failures):")]
        parts += warned
    notes = [c for c in report.checks if c.status == PASS and c.message]
    if notes:
        parts += ["", "Notes:"]
        parts += [f"  {c.function} {c.tensor} ({c.case_description}): {c.message}"
                  for c in notes]
    if report.output:
        lines = report.output.count("\n")
        parts += ["", f"(the module printed {lines} line(s) while being checked; not shown)"]
    counts = {}
    for f in report.functions:
        counts[f.status] = counts.get(f.status, 0) + 1
    undone = [f.name for f in report.functions if f.status == SKIPPED
              and ("not implemented" in f.note or "not checked" in f.note)]
    absent = [f.name for f in report.functions if f.status == SKIPPED and f.name not in undone]
    parts += ["", f"{len(report.functions)} functions, {len(report.checks)} comparisons in "
                  f"{report.elapsed:.1f} s: "
                  + ", ".join(f"{counts.get(s, 0)} {s}" for s in (PASS, WARN, FAIL, ERROR,
                                                                  MISSING, UNTESTED))
                  + (f"; n/a (optional, not implemented): {', '.join(undone)}" if undone
                     else "")
                  + (f"; n/a (optional or not part of the API, not defined): "
                     f"{', '.join(absent)}" if absent else "")]
    passed, warned, failed = report.counts()
    kinds = warning_counts(report.functions)
    parts.append(f"{passed} functions passed, {warned} warned"
                 + (f" ({', '.join(f'{n} {k}' for k, n in kinds.items())})" if kinds else "")
                 + f", {failed} failed" + (" (--strict)" if report.strict else ""))
    return "\n".join(parts)


