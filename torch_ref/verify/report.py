"""The result of one ``verify --module`` run: the model every output is made from.

:class:`Report` holds the functions' verdicts (:mod:`torch_ref.verify.verdict`), the
checks behind them and how the run was made (seeds, dtypes, limits, which API and
edition were assumed, which confinement ran). It renders as JSON (:meth:`as_dict`,
:meth:`to_json`) and as an HTML table for Jupyter; the text report is
:mod:`torch_ref.verify.render`'s. Whether a run passes is :func:`torch_ref.status.passes`
of every function.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from torch_ref.status import ERROR, FAIL, MISSING, NA, PASS, UNTESTED, WARN, passes
from torch_ref.verify import escape
from torch_ref.verify.verdict import warning_counts


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
    # what the checks assumed of the module (the API's edition ...), which confinement
    # the module ran under, imports of the grader's packages it tried (refused)
    assumed: str = ""
    confinement: str = ""
    blocked_imports: tuple = ()
    adapter: object = field(default=None, repr=False)

    @property
    def internal_errors(self) -> list:
        """Checks that failed because of verify itself (never the module's fault)."""
        return [c for c in self.checks if c.kind == "internal"]

    def status(self, name: str) -> str:
        for f in self.functions:
            if f.name == name:
                return f.status
        raise KeyError(f"{name!r} is not a function of this report")

    def _good(self, status: str) -> bool:
        return passes(status, self.strict)

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
        from torch_ref.verify.render import describe_function

        return {f.name: describe_function(f) for f in self.functions
                if f.status not in (PASS, NA)}

    def to_json(self, **kwargs) -> str:
        """:meth:`as_dict` as JSON text (``json.dumps`` keyword arguments)."""
        return json.dumps(self.as_dict(), **kwargs)

    def _repr_html_(self) -> str:
        """A table of the functions and their statuses, for Jupyter."""
        from torch_ref.verify.render import short_problem

        html = escape.html
        colours = {PASS: "#1a7f37", FAIL: "#cf222e", ERROR: "#cf222e", MISSING: "#9a6700",
                   UNTESTED: "#9a6700", WARN: "#9a6700"}
        rows = "".join(
            f"<tr><td><code>{html(f.name)}</code></td>"
            f"<td style='color:{colours.get(f.status, '#57606a')}'><b>{html(f.status)}"
            f"</b></td><td>{f.passed}/{len(f.checks)}</td><td style='text-align:left'>"
            f"<pre style='margin:0'>{html(short_problem(f, 200))}</pre></td></tr>"
            for f in self.functions)
        passed, warned, failed = self.counts()
        return (f"<p><b>{html(self.target)}</b> (--api {html(self.api)}): {passed} "
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
                "assumed": self.assumed, "confinement": self.confinement,
                "blocked_imports": list(self.blocked_imports),
                "internal_errors": [c.message for c in self.internal_errors],
                "summary": {"functions_passed": passed, "functions_warned": warned,
                            "functions_failed": failed, "by_status": by_status,
                            "warnings": warning_counts(self.functions),
                            "checks_passed": sum(c.passed for c in self.checks),
                            "checks": len(self.checks)},
                "functions": [f.as_dict() for f in self.functions],
                "checks": [c.as_dict() for c in self.checks]}


