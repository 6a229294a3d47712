"""``python -m torch_ref verify``: run the catalog against PyTorch and report.

With no ``--module`` the NumPy side is ``numpy_rnn`` itself (its functional API
plus its models and optimisers) and every tensor comparison is a row of the table.

With ``--module PATH`` the NumPy side is somebody else's hand-written module,
seen through the adapter of its API (``--api cs231n|hw3|params``, see
:mod:`torch_ref.verify.adapters`). Each function of that API gets one verdict: PASS,
WARN (right values, hazardous code: a kind of :data:`~torch_ref.compare.engine.
WARNING_KINDS`), FAIL (a wrong value or gradient), ERROR (raised, hung, returned the
wrong structure), MISSING (not defined, or not implemented: returns None), UNTESTED
(could not run: what it needs is missing, not implemented or raised) or n/a
(optional, not defined). The catalog cases, a reuse sequence on the same instances,
and the golden cells of the course's own documents all count. For every failing
tensor the report names the first case that exposes it and what is special about
that case, the errors, the worst index, the LSTM gate block, and a hint where the
pattern is recognisable; every warning its kind and first case. The last line counts
functions with a module, comparisons without; ``--json FILE`` writes everything for
autograders. Exit status: 0 when nothing is FAIL, ERROR, MISSING or UNTESTED (WARN
too with ``--strict``), 1 otherwise, 2 usage error or unimportable module.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

PASS, FAIL, ERROR, WARN = "PASS", "FAIL", "ERROR", "WARN"
MISSING, SKIPPED, UNTESTED = "MISSING", "n/a", "UNTESTED"
# statuses that do not fail a run (WARN does under --strict)
_GOOD = (PASS, SKIPPED)
DEFAULT_TIMEOUT = 30.0
# seeds of the reuse sequence are offset from --seed so they differ from the catalog's
_REUSE_SEED_OFFSET = 100
_REUSE_CALLS = 3
# golden op -> the catalog component whose functions it exercises
_GOLDEN_COMPONENT = {"rnn_sequence_loss": "rnn", "lstm_sequence_loss": "lstm"}
_GOLDEN_NEEDS = {"rnn_sequence_loss": ("temporal_softmax_loss",),
                 "lstm_sequence_loss": ("temporal_softmax_loss",)}


class UsageError(Exception):
    """Bad arguments or an unimportable module: exit status 2."""


# ---- selection ------------------------------------------------------------------------

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

@contextlib.contextmanager
def single_threaded_torch():
    """Torch on one thread inside the block: the reference runs are tiny, and on a busy
    machine a thread pool makes each of them 100x slower."""
    try:
        import torch
    except ImportError:  # pragma: no cover - the reference runs need torch anyway
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def _caller_random_state():
    """The global NumPy random state as it was before the block (user constructors draw
    from it; the caller's random stream must not depend on having run ``verify``)."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


_CASES: dict = {}


def catalog_cases(component, seeds, dtypes) -> list:
    """``component.all_cases(seeds, dtypes)`` as a list, drawn once per process.

    The cases are deterministic, and every run copies their arrays before using them.
    """
    key = (component.name, tuple(seeds), tuple(dtypes))
    if key not in _CASES:
        if len(_CASES) > 256:
            _CASES.clear()
        _CASES[key] = list(component.all_cases(seeds=seeds, dtypes=dtypes))
    return _CASES[key]


def run_checks(components, api_for, seeds, dtypes, on_case=None, name_of=None,
               strict_dtype=True, keep=None) -> list:
    """Every tensor check of every case of ``components``.

    ``api_for(component)`` returns the object whose functions the NumPy run calls;
    ``keep(component, case)``, when given, says which cases to run.
    """
    from torch_ref.compare.engine import check_case

    checks = []
    for component in components:
        api = api_for(component)
        for case in catalog_cases(component, seeds, dtypes):
            if keep is not None and not keep(component, case):
                continue
            result = check_case(component, api, case, name_of=name_of,
                                strict_dtype=strict_dtype)
            checks.extend(result)
            if on_case is not None:
                on_case(component, case, result)
    return checks


def reuse_cases(component, seed: int, dtype: str = "float64") -> list:
    """Cases of one shape and dtype for a reuse sequence: the first case of each seed."""
    seeds = range(seed + _REUSE_SEED_OFFSET, seed + _REUSE_SEED_OFFSET + _REUSE_CALLS)
    return [next(iter(component.cases(dtype, s))) for s in seeds]


class _Hinter:
    """Adds a hint to the first failing check of each (function, tensor)."""

    def __init__(self):
        self.seen = set()

    def __call__(self, component, case, checks) -> None:
        from torch_ref.compare.engine import reference_run
        from torch_ref.compare.hints import hint

        for check in checks:
            key = (check.function, check.tensor)
            if check.passed or key in self.seen:
                continue
            self.seen.add(key)
            if check.status == FAIL and check.actual is not None:
                outputs = reference_run(component, case).outputs
                check.hint = hint(check, component, case, is_output=check.tensor in outputs)


def _golden_checks(adapter, api, components, broken=frozenset()) -> list:
    """The document cells of the adapter's API, as checks of the user functions.

    broken: functional names that are missing, not implemented or raise in the
    catalog cases; a cell using one of them is not run (it would only repeat that).
    """
    from torch_ref.compare import golden
    from torch_ref.compare.engine import TensorCheck
    from torch_ref.verify.loader import describe_exception

    if not adapter.golden_documents:
        return []
    by_name = {c.name: c for c in components}
    try:
        records = golden.load_records(adapter.golden_documents)
    except golden.GoldenFixtureError as exc:
        return [TensorCheck("golden", "-", "-", "golden fixtures", ERROR, message=str(exc))]
    checks = []
    for record in records:
        if golden.KINDS[record["kind"]].run is None:
            continue
        op = record["op"]
        component = by_name.get(_GOLDEN_COMPONENT.get(op, op))
        needs = _GOLDEN_NEEDS.get(op, ())
        if component is None or not adapter.runnable(component.functions[0]) or not all(
                f in adapter.BINDINGS and adapter.runnable(f) for f in needs):
            continue
        if broken & set(component.functions + needs):
            continue
        adapter.guard.last_error = None
        try:
            # flags were judged on the catalog cases; here they would only print warnings
            with np.errstate(all="ignore"):
                results = golden.run_record(api, record)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - golden lets timeouts and exits out
            results = [golden.GoldenResult(record["id"], record["document"], record["cell"],
                                           "*", ERROR, message=describe_exception(exc))]
        adapter.take_findings()
        for result in results:
            checks.append(_golden_check(adapter, component, record, result))
    return checks


def _golden_check(adapter, component, record, result):
    from torch_ref.compare.engine import TensorCheck, describe_error

    tensor = result.check.split("[")[0]
    functional = component.produced_by.get(tensor)
    if functional is None:
        forward_kinds = ("forward_values", "loss_value", "loss_sanity")
        functional = component.functions[0 if record["kind"] in forward_kinds else -1]
    function = adapter.user_name(functional, tensor)
    message, status = result.message, result.status
    if status == PASS and result.note:
        message = result.note
    if status == ERROR:
        raised = adapter.guard.last_error
        if raised is not None:
            function = getattr(raised, "verify_function", function)
            status, message = describe_error(raised, function)
        else:  # the cell's own code choked on what the module returned
            message = f"the document's check could not run on what the module returned: " \
                      f"{message}"
    elif status == FAIL:
        message = (f"error {result.error:.3e}, the document requires < {result.threshold:g}"
                   + (f" ({message})" if message else ""))
    return TensorCheck("golden", record["id"], result.check, function, status,
                       message=message,
                       case_description=f"{record['cell']} of {record['document']}",
                       special=("a check cell of the document",))


# ---- per-function verdicts -----------------------------------------------------------

@dataclass
class FunctionResult:
    """The verdict on one user function: ``status`` and the checks behind it."""

    name: str
    status: str
    note: str = ""
    checks: list = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)

    def problems(self) -> list:
        """The first failing check of each tensor, in run order (warnings excluded)."""
        seen, firsts = set(), []
        for check in self.checks:
            if not check.passed and not check.warned and check.tensor not in seen:
                seen.add(check.tensor)
                firsts.append(check)
        return firsts

    def warnings(self) -> list:
        """The first WARN check of each (kind, tensor): what it is and where it shows.

        A tensor wrong on ordinary cases too is a FAIL, not a log-sum-exp hazard.
        """
        # an option's variant ("loss (dim_average=False)") repeats its tensor's warning
        def base(tensor):
            return tensor.split(" (")[0]

        failing = {base(c.tensor) for c in self.checks if c.status in (FAIL, ERROR)}
        seen = {("log-sum-exp", tensor) for tensor in failing}
        firsts = []
        for check in self.checks:
            key = (check.kind, base(check.tensor))
            if check.warned and key not in seen:
                seen.add(key)
                firsts.append(check)
        return firsts

    def as_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "note": self.note,
                "checks_passed": self.passed, "checks": len(self.checks),
                "problems": [c.as_dict() for c in self.problems()],
                "warnings": [_warning_dict(c) for c in self.warnings()]}


def _warning_dict(check) -> dict:
    return {"kind": check.kind, "tensor": check.tensor, "message": check.message,
            "first_case": check.case_description}


def warning_counts(functions) -> dict:
    """``{kind: number of functions warned of it}``, kinds in report order."""
    from torch_ref.compare.engine import WARNING_KINDS

    counts = {}
    for result in functions:
        for kind in dict.fromkeys(c.kind for c in result.warnings()):
            counts[kind] = counts.get(kind, 0) + 1
    return {k: counts[k] for k in sorted(counts, key=list(WARNING_KINDS).index)}


@dataclass
class Report:
    """Everything one ``verify`` run found."""

    target: str
    api: str
    functions: list
    checks: list
    seeds: tuple
    dtypes: tuple
    timeout: float | None
    elapsed: float = 0.0
    output: str = ""
    components: tuple = field(default=(), repr=False)
    strict: bool = False

    def status(self, name: str) -> str:
        for f in self.functions:
            if f.name == name:
                return f.status
        raise KeyError(f"{name!r} is not a function of this report")

    def _good(self, status: str) -> bool:
        return status in _GOOD or (status == WARN and not self.strict)

    @property
    def ok(self) -> bool:
        return all(self._good(f.status) for f in self.functions)

    def counts(self) -> tuple:
        """``(passed, warned, failed)`` functions; with ``strict`` a warning fails."""
        passed = sum(f.status == PASS for f in self.functions)
        warned = sum(f.status == WARN for f in self.functions)
        failed = sum(not self._good(f.status) for f in self.functions)
        return passed, warned, failed

    def problems(self) -> dict:
        """``{function: text}`` for every function that did not pass (the report's
        detail of it)."""
        return {f.name: describe_function(f) for f in self.functions
                if f.status not in (PASS, SKIPPED)}

    def to_json(self, **kwargs) -> str:
        """:meth:`as_dict` as JSON text (``json.dumps`` keyword arguments)."""
        return json.dumps(self.as_dict(), **kwargs)

    def _repr_html_(self) -> str:
        """A table of the functions and their statuses, for Jupyter."""
        from html import escape

        colours = {PASS: "#1a7f37", FAIL: "#cf222e", ERROR: "#cf222e", MISSING: "#9a6700",
                   UNTESTED: "#9a6700", WARN: "#9a6700"}
        rows = "".join(
            f"<tr><td><code>{escape(f.name)}</code></td>"
            f"<td style='color:{colours.get(f.status, '#57606a')}'><b>{escape(f.status)}"
            f"</b></td><td>{f.passed}/{len(f.checks)}</td><td style='text-align:left'>"
            f"<pre style='margin:0'>{escape(_short_problem(f, 200))}</pre></td></tr>"
            for f in self.functions)
        passed, warned, failed = self.counts()
        return (f"<p><b>{escape(self.target)}</b> (--api {escape(self.api)}): {passed} "
                f"passed, {warned} warned, {failed} failed</p><table><tr><th>function</th>"
                f"<th>status</th><th>checks passed</th><th>problem</th></tr>{rows}</table>")

    def as_dict(self) -> dict:
        passed, warned, failed = self.counts()
        by_status = {}
        for f in self.functions:
            by_status[f.status] = by_status.get(f.status, 0) + 1
        return {"module": self.target, "api": self.api, "seeds": list(self.seeds),
                "dtypes": list(self.dtypes), "timeout_s": self.timeout,
                "elapsed_s": round(self.elapsed, 3), "strict": self.strict, "ok": self.ok,
                "summary": {"functions_passed": passed, "functions_warned": warned,
                            "functions_failed": failed, "by_status": by_status,
                            "warnings": warning_counts(self.functions),
                            "checks_passed": sum(c.passed for c in self.checks),
                            "checks": len(self.checks)},
                "functions": [f.as_dict() for f in self.functions],
                "checks": [c.as_dict() for c in self.checks],
                # the sandbox the module ran in and what it does not cover (isolated runs)
                **({"confinement": self.confinement}
                   if getattr(self, "confinement", "") else {})}


def function_results(adapter, components, checks) -> list:
    """One :class:`FunctionResult` per user function the selected components use.

    One status per cause: a function that returns None is MISSING (not implemented);
    what cannot be checked because of it is UNTESTED, saying why.
    """
    from torch_ref.compare.engine import NOT_IMPLEMENTED

    used = {}
    for component in components:
        for functional in component.functions:
            for user in adapter.user_functions_of(functional):
                used.setdefault(user, component)
    results = []
    for user, optional in adapter.user_functions():
        if user not in used:
            continue
        component = used[user]
        mine = [c for c in checks if c.function == user]
        stubs = [c for c in mine if c.kind == NOT_IMPLEMENTED]
        if not adapter.present(user):
            results.append(FunctionResult(user, SKIPPED if optional else MISSING,
                                          adapter.absence_note(user), mine))
        elif stubs and not any(c.passed for c in mine):
            results.append(FunctionResult(user, MISSING, "not implemented: "
                                          + _error_text(stubs[0]), mine))
        elif not mine:
            results.append(FunctionResult(user, UNTESTED, _why_untested(adapter, component,
                                                                         checks), mine))
        else:
            results.append(FunctionResult(user, _status_of(mine), "", mine))
    return _untested_through_stubs(adapter, results)


def _status_of(checks) -> str:
    statuses = {c.status for c in checks}
    for status in (ERROR, FAIL, WARN):
        if status in statuses:
            return status
    return PASS


def _not_implemented(result) -> bool:
    return result.status == MISSING and result.note.startswith("not implemented")


def _untested_through_stubs(adapter, results) -> list:
    """A sequence function failing while the step function it calls is not implemented
    is not judged: it is UNTESTED, naming that step function."""
    from torch_ref.compare.hints import LIKELY_CALLS

    by_name = {r.name: r for r in results}
    for outer, inner in LIKELY_CALLS.items():
        if outer not in adapter.BINDINGS or inner not in adapter.BINDINGS:
            continue
        o = by_name.get(adapter.user_name(outer))
        i = by_name.get(adapter.user_name(inner))
        # a stub that raises stops the sequence function at the same line: one cause
        through = o and i and (o.status in (FAIL, ERROR)
                               or (_not_implemented(o) and o.note == i.note))
        if through and o is not i and _not_implemented(i):
            cause = "is not implemented"
        elif o and i and o is not i and _raises_only_as(o, i):
            cause = "raises the same error"
        else:
            continue
        o.status = UNTESTED
        o.note = f"not checked: it calls {i.name}, which {cause}"
        for other in results:  # what needed o's results: the same root cause
            if other.status == UNTESTED and other.note.startswith(
                    f"not checked: {o.name} raised"):
                other.note = f"not checked: needs {o.name}, which calls {i.name}, which " \
                             + cause.replace(" the same error", "")
    return results


def _raises_only_as(outer, inner) -> bool:
    """``outer`` fails only with the exception ``inner`` raises, at the same line."""
    if outer.status != ERROR or inner.status != ERROR:
        return False
    raised = {_error_text(c) for c in inner.problems() if c.status == ERROR}
    mine = [c for c in outer.problems()]
    return bool(mine) and all(c.status == ERROR and _error_text(c) in raised for c in mine)


def _why_untested(adapter, component, checks) -> str:
    from torch_ref.compare.engine import NOT_IMPLEMENTED

    forward = adapter.user_functions_of(component.functions[0])[0]
    if not adapter.present(forward):
        return f"not checked: needs {forward}, which is missing"
    mine = [c for c in checks if c.function == forward]
    if any(c.kind == NOT_IMPLEMENTED for c in mine) and not any(c.passed for c in mine):
        return f"not checked: needs {forward}, which is not implemented"
    if any(c.status == ERROR for c in mine):
        return f"not checked: {forward} raised before it could be called"
    return "not checked"


# ---- formatting -----------------------------------------------------------------------

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


def _short_problem(result: FunctionResult, width: int = 70) -> str:
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
        distinct = {_error_text(c) if c.tensor in ("-", "*") else c.tensor for c in problems}
        if len(distinct) > 1:
            text += f" (+{len(distinct) - 1} more)"
    return text if len(text) <= width else text[:width - 3] + "..."


def format_functions(results) -> str:
    """The per-function summary table."""
    rows = [(r.name, r.status, f"{r.passed}/{len(r.checks)}" if r.checks else "-",
             "" if r.status == PASS else _short_problem(r)) for r in results]
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


def _error_text(check) -> str:
    prefix = "ApiMismatch: "
    return check.message[len(prefix):] if check.message.startswith(prefix) else check.message


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
            errors.setdefault(_error_text(check), []).append(check)
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
    from torch_ref.compare.engine import WARNING_KINDS

    lines = []
    for check in result.warnings():
        lines.append(f"WARN {result.name} [{check.kind}: {WARNING_KINDS.get(check.kind, '')}]")
        lines.append(f"  {check.message}")
        lines.append(f"    first in: {check.case_description}")
    return lines


def format_report(report: Report, adapter, show_checks=False, failures_only=False) -> str:
    limit = (f"time limit {report.timeout:g} s per call" if report.timeout
             else "no time limit")
    parts = [f"verify {report.target} (--api {report.api}): seeds "
             f"{', '.join(map(str, report.seeds))}, {'/'.join(report.dtypes)}, {limit}", ""]
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
    na = [f.name for f in report.functions if f.status == SKIPPED]
    parts += ["", f"{len(report.functions)} functions, {len(report.checks)} comparisons in "
                  f"{report.elapsed:.1f} s: "
                  + ", ".join(f"{counts.get(s, 0)} {s}" for s in (PASS, WARN, FAIL, ERROR,
                                                                  MISSING, UNTESTED))
                  + (f"; n/a (not part of the API, not defined): {', '.join(na)}" if na
                     else "")]
    passed, warned, failed = report.counts()
    kinds = warning_counts(report.functions)
    parts.append(f"{passed} functions passed, {warned} warned"
                 + (f" ({', '.join(f'{n} {k}' for k, n in kinds.items())})" if kinds else "")
                 + f", {failed} failed" + (" (--strict)" if report.strict else ""))
    return "\n".join(parts)


# ---- entry points ---------------------------------------------------------------------

def verify_adapter(adapter, only=None, seed: int = 0, dtypes=("float64", "float32"),
                   reuse: bool = True, golden: bool = True, strict_dtype: bool = False,
                   target: str = "", strict: bool = False) -> Report:
    """Check the module behind ``adapter``; a :class:`Report`.

    Raises :class:`UsageError` for an unknown ``--only`` name.
    """
    from torch_ref.catalog import CATALOG
    from torch_ref.verify.adapters.course import course_names

    start = time.perf_counter()
    candidates = {n: c for n, c in CATALOG.items()
                  if c.scope == "functional" and adapter.supports(c)}
    aliases = {}
    for functional in adapter.BINDINGS:
        for user in adapter.user_functions_of(functional):
            aliases.setdefault(user, set()).add(functional)
            if "." in user:
                aliases.setdefault(user.split(".")[0], set()).add(functional)
    try:
        components = select_components(candidates, only, aliases=aliases)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    api = adapter.api()
    seeds = (seed, seed + 1, seed + 2)
    dtypes = tuple(d for d in dtypes if d in adapter.dtypes) or tuple(adapter.dtypes)
    with single_threaded_torch(), _caller_random_state():
        checks = _run_components(adapter, api, components, seeds, dtypes, reuse, golden,
                                 strict_dtype)
    course_names(adapter, checks)
    results = function_results(adapter, components, checks)
    return Report(target, adapter.name, results, checks, seeds, tuple(dtypes),
                  adapter.guard.timeout, time.perf_counter() - start,
                  adapter.guard.output.getvalue(), tuple(components), strict)


def _run_components(adapter, api, components, seeds, dtypes, reuse, golden,
                    strict_dtype) -> list:
    from torch_ref.compare.engine import check_reuse

    hinter = _Hinter()
    checks = []
    for component in components:
        if not adapter.runnable(component.functions[0]):
            continue
        checks += run_checks([component], lambda c: api, seeds, dtypes, on_case=hinter,
                             name_of=adapter.user_name, strict_dtype=strict_dtype,
                             keep=adapter.keeps)
        if reuse:
            dtype = "float64" if "float64" in dtypes else dtypes[0]
            checks += check_reuse(component, api, reuse_cases(component, seeds[0], dtype),
                                  name_of=adapter.user_name, strict_dtype=strict_dtype,
                                  on_case=hinter)
    if golden:
        checks += _golden_checks(adapter, api, components, _broken(adapter, components,
                                                                   checks))
    return checks


def _broken(adapter, components, checks) -> frozenset:
    """Functional names whose user function is missing, not implemented or raises."""
    statuses = {r.name: r.status for r in function_results(adapter, components, checks)}
    return frozenset(f for c in components for f in c.functions
                     if any(statuses.get(u) in (MISSING, ERROR, UNTESTED)
                            for u in adapter.user_functions_of(f)))


def verify_module(target: str, api: str = "auto", path: str | None = None, only=None,
                  seed: int = 0, dtypes=("float64", "float32"),
                  timeout: float | None = DEFAULT_TIMEOUT, reuse: bool = True,
                  golden: bool = True, strict: bool = False):
    """Import ``target`` (file, package file, notebook, or dotted name with ``path``) and
    check it; ``api="auto"`` detects the API from what the module defines.

    Returns ``(report, adapter)``; raises :class:`UsageError` (exit status 2) for an
    unknown or undecidable API or ``--only`` name and for a module that cannot be imported.
    """
    from torch_ref.verify import adapters, detect, handout, notebook
    from torch_ref.verify.loader import (
        CallGuard,
        ModuleLoadError,
        file_in_directory,
        load_module,
        unload,
    )
    from torch_ref.verify.shims import course_helpers

    known = adapters.available()
    try:
        chosen = None if api == "auto" else adapters.get(api)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    candidates = [chosen] if chosen else list(known.values())
    conventional = tuple(dict.fromkeys(f for c in candidates for f in c.conventional_files))
    with CallGuard(timeout) as guard, course_helpers([c.name for c in candidates]):
        try:
            if handout.is_handout(target) and path is None:
                loaded = handout.load_handout(target, guard)
            else:
                chosen_file = (file_in_directory(target, conventional)
                               if os.path.isdir(target) and path is None else target)
                if notebook.is_notebook(chosen_file):
                    loaded = notebook.load_notebook(chosen_file, guard)
                else:
                    loaded = load_module(chosen_file, path, guard, conventional)
        except ModuleLoadError as exc:
            raise UsageError(f"cannot import the module: {exc}") from None
        try:
            adapter_class = chosen or detect.choose(loaded.module, known)
            adapter = adapter_class(loaded.module, guard)
            report = verify_adapter(adapter, only, seed, dtypes, reuse, golden, target=target,
                                    strict=strict)
        except detect.Undecided as exc:
            raise UsageError(str(exc)) from None
        finally:
            unload(loaded)
    return report, adapter


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


def _write_json(path: str, doc: dict) -> int:
    """Write ``doc``; 0, or 2 (with a message) when the file cannot be written."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
    except OSError as exc:
        print(f"error: --json {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


def run(args) -> int:
    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    if args.timeout is not None and args.timeout <= 0:
        print("error: --timeout must be positive", file=sys.stderr)
        return 2
    if args.module is None:
        if args.path is not None:
            print("error: --path goes with --module", file=sys.stderr)
            return 2
        return _run_numpy_rnn(args, dtypes)
    try:
        if args.in_process:
            report, adapter = verify_module(args.module, args.api, args.path, args.only,
                                            args.seed, dtypes, args.timeout,
                                            strict=args.strict)
        else:
            from torch_ref.verify.isolation.remote import verify_isolated
            from torch_ref.verify.isolation.sandbox import GiB, Limits

            if args.memory <= 0:
                raise UsageError("--memory must be positive")
            limits = Limits(timeout=args.timeout, memory=int(args.memory * GiB))
            report, adapter = verify_isolated(args.module, args.api, args.path, args.only,
                                              args.seed, dtypes, limits,
                                              hidden=_json_folder(args.json),
                                              strict=args.strict)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    confinement = getattr(report, "confinement", "")
    if confinement:
        print(f"note: the module ran confined by {confinement}")
    print(format_report(report, adapter, show_checks=args.checks,
                        failures_only=args.failures_only))
    blocked = getattr(report, "blocked_imports", ())
    if blocked:
        print(f"note: the module tried to import the grader's own packages (refused): "
              f"{', '.join(blocked)}")
    if args.json and _write_json(args.json, report.as_dict()):
        return 2
    return 0 if report.ok else 1


def _json_folder(path) -> tuple:
    """The folder of the --json file: hidden from the module under test."""
    return (os.path.dirname(os.path.abspath(path)),) if path else ()


def _run_numpy_rnn(args, dtypes) -> int:
    """The project's own check: every catalog component, every comparison a row."""
    from torch_ref.catalog import CATALOG
    from torch_ref.verify.adapters.cs231n import Cs231nAdapter
    from torch_ref.verify.loader import CallGuard

    try:
        components = select_components(CATALOG, args.only)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import numpy_rnn
    from numpy_rnn import functional

    with CallGuard(args.timeout) as guard:
        return _check_numpy_rnn(args, dtypes, components, Cs231nAdapter(functional, guard),
                                numpy_rnn)


def _check_numpy_rnn(args, dtypes, components, adapter, numpy_rnn) -> int:
    from torch_ref.compare.engine import ERROR as _ERROR
    from torch_ref.compare.engine import check_reuse

    api = adapter.api()
    plain = _PlainFunctional(numpy_rnn.functional)

    def api_for(component):
        if component.scope != "functional":
            return numpy_rnn
        # functions beyond the cs231n API (GRU ...) are called on numpy_rnn directly
        return api if adapter.supports(component) else plain

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
        passed = sum(c.passed for c in checks)
        if _write_json(args.json, {"module": "numpy_rnn", "seeds": list(seeds),
                                   "dtypes": list(dtypes),
                                   "summary": {"passed": passed,
                                               "failed": len(checks) - passed,
                                               "errors": sum(c.status == _ERROR
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
