"""From checks to verdicts: one status per user function, the root cause blamed once.

A function is PASS, WARN, FAIL or ERROR by its checks (the worst wins); MISSING when
the module does not define it or it is still the template (not implemented); n/a
when the course makes it optional and it is absent; UNTESTED when it could not be
checked because of another function (what it needs is missing, not implemented or
raised), naming that function. Statuses are those of :mod:`torch_ref.status`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from torch_ref.compare.engine import INTERNAL, NOT_IMPLEMENTED, WARNING_KINDS
from torch_ref.status import ERROR, FAIL, MISSING, NA, PASS, UNTESTED, WARN

SKIPPED = NA


@dataclass
class FunctionResult:
    """The verdict on one user function: ``status`` and the checks behind it."""

    name: str
    status: str
    note: str = ""
    checks: list = field(default_factory=list)
    optional: bool = False

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
    counts = {}
    for result in functions:
        for kind in dict.fromkeys(c.kind for c in result.warnings()):
            counts[kind] = counts.get(kind, 0) + 1
    return {k: counts[k] for k in sorted(counts, key=list(WARNING_KINDS).index)}


def function_results(adapter, components, checks) -> list:
    """One :class:`FunctionResult` per user function the selected components use.

    One status per cause: a function left as its template (it returns None, raises
    NotImplementedError, or its source is still the stub) is MISSING, "not implemented",
    whatever its template code raised; what cannot be checked because of it is UNTESTED,
    saying why. Where the course makes the part optional, both are n/a.
    """
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
        failed = any(c.status in (FAIL, ERROR) for c in mine)
        if not adapter.present(user):
            results.append(FunctionResult(user, SKIPPED if optional else MISSING,
                                          adapter.absence_note(user), mine, optional))
        elif (stubs and not any(c.passed for c in mine)) or (
                failed and adapter.left_as_template(user)):
            why = error_text(stubs[0]) if stubs else "its body is still the template's"
            results.append(FunctionResult(user, SKIPPED if optional else MISSING,
                                          ("optional, " if optional else "")
                                          + f"not implemented: {why}", mine, optional))
        elif not mine:
            results.append(FunctionResult(user, UNTESTED, _why_untested(adapter, component,
                                                                         checks), mine,
                                          optional))
        elif any(c.kind == INTERNAL for c in mine) and all(
                c.passed or c.warned or c.kind == INTERNAL for c in mine):
            # verify's own fault: never the student's ERROR
            internal = next(c for c in mine if c.kind == INTERNAL)
            results.append(FunctionResult(user, UNTESTED, internal.message, mine, optional))
        else:
            results.append(FunctionResult(user, _status_of(mine), "", mine, optional))
    return _untested_through_stubs(adapter, results)


def _status_of(checks) -> str:
    statuses = {c.status for c in checks}
    for status in (ERROR, FAIL, WARN):
        if status in statuses:
            return status
    return PASS


def _not_implemented(result) -> bool:
    return result.status in (MISSING, SKIPPED) and "not implemented" in result.note


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
        if o.optional and cause == "is not implemented":  # an optional part not done
            o.status = SKIPPED
            o.note = f"optional, not checked: it calls {i.name}, which is not implemented"
            continue
        o.status = UNTESTED
        o.note = f"not checked: it calls {i.name}, which {cause}"
        for other in results:  # what needed o's results: the same root cause
            if other.status == UNTESTED and other.note.startswith(
                    f"not checked: {o.name} raised"):
                other.note = f"not checked: needs {o.name}, which calls {i.name}, which " \
                             + cause.replace(" the same error", "")
        if cause == "is not implemented":
            # what took o's results (its backward, given the cache a stub's None went
            # into) and failed on them: the same root cause
            for name in _taking_results_of(adapter, outer):
                other = by_name.get(adapter.user_name(name))
                if other is not None and other not in (o, i) and other.status in (FAIL, ERROR):
                    other.status = UNTESTED
                    other.note = (f"not checked: needs {o.name}, which calls {i.name}, which "
                                  f"is not implemented")
    return results


def _taking_results_of(adapter, functional: str) -> tuple:
    """The functional names of the components ``functional`` starts (a sequence forward):
    those that are given its results (its backward)."""
    from torch_ref.catalog import CATALOG

    return tuple(f for component in CATALOG.values()
                 if component.functions and component.functions[0] == functional
                 for f in component.functions[1:] if f in adapter.BINDINGS)


def _raises_only_as(outer, inner) -> bool:
    """``outer`` fails only with the exception ``inner`` raises, at the same line."""
    if outer.status != ERROR or inner.status != ERROR:
        return False
    raised = {error_text(c) for c in inner.problems() if c.status == ERROR}
    mine = [c for c in outer.problems()]
    return bool(mine) and all(c.status == ERROR and error_text(c) in raised for c in mine)


def _why_untested(adapter, component, checks) -> str:
    forward = adapter.user_functions_of(component.functions[0])[0]
    if not adapter.present(forward):
        return f"not checked: needs {forward}, which is missing"
    mine = [c for c in checks if c.function == forward]
    if any(c.kind == NOT_IMPLEMENTED for c in mine) and not any(c.passed for c in mine):
        return f"not checked: needs {forward}, which is not implemented"
    if any(c.status == ERROR for c in mine):
        if adapter.left_as_template(forward):  # its template code raised
            return f"not checked: needs {forward}, which is not implemented"
        return f"not checked: {forward} raised before it could be called"
    return "not checked"



def error_text(check) -> str:
    """The message of a check, without the ``ApiMismatch:`` a rebuilt error may carry."""
    prefix = "ApiMismatch: "
    return check.message[len(prefix):] if check.message.startswith(prefix) else check.message
