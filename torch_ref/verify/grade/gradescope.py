"""Gradescope's autograder ``results.json`` for one submission.

One test per function of the API (optional ones the module does not define and the
rubric gives no points are left out) with its points and the report's text about it;
the top-level ``output`` is the whole report. Every ``output`` passes through
:func:`torch_ref.verify.escape.terminal`: it holds what the submission raised and named.
"""
from __future__ import annotations

from torch_ref.status import NA, earns
from torch_ref.verify.escape import terminal


def results(entry: dict, details: dict, text: str, strict: bool = False) -> dict:
    """entry: the submission's gradebook entry (statuses, points); details: function ->
    the report's text about it; text: the whole report."""
    tests = []
    for number, (name, status) in enumerate(entry["statuses"].items(), start=1):
        worth = entry["max"].get(name, 0.0)
        if status == NA and worth == 0:
            continue
        passed = earns(status, strict)
        tests.append({"name": name, "number": str(number),
                      "score": entry["points"].get(name, 0.0) if passed else 0.0,
                      "max_score": worth, "status": "passed" if passed else "failed",
                      "output": terminal(details.get(name) or status),
                      "visibility": "visible"})
    return {"score": entry["total"], "output": terminal(text), "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}
