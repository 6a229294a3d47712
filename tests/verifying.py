"""How the tests run ``verify --module``: in-process, isolated, or both compared.

:func:`verify_module` is the tests' entry: by default it checks the module twice,
isolated in a confined child process (what ``verify --module`` does) and in this
process (``--in-process``), asserts that both give the same verdicts (each
function's status and failing tensors) and returns the in-process report with its
adapter. ``ways="in-process"`` or ``ways="isolated"`` runs one of them only.
"""
from __future__ import annotations

from torch_ref.verify.isolation.sandbox import Limits
from torch_ref.verify.session import verify_target


def verdicts(report) -> dict:
    """``{function: (status, warning kinds)}`` of a report: what must not depend on where
    the module ran."""
    return {f.name: (f.status, tuple(sorted({c.kind for c in f.checks if c.status == "WARN"})))
            for f in report.functions}


def failing(report) -> dict:
    """``{function: failing tensors}`` of the functions that FAIL."""
    return {f.name: {c.tensor for c in f.checks if c.status == "FAIL"}
            for f in report.functions if f.status == "FAIL"}


def same_verdicts(one, other, path="") -> None:
    """Assert that two reports of one module agree: the same status and warnings for every
    function, and failing tensors in common for each failing function (which of them a
    run finds may depend on what uninitialised memory held)."""
    assert verdicts(one) == verdicts(other), (
        f"{path}: verdicts differ:\n{verdicts(one)}\n{verdicts(other)}")
    for name, tensors in failing(one).items():
        assert tensors & failing(other)[name], (
            f"{path}: {name} fails on other tensors: {tensors} / {failing(other)[name]}")


def verify_module(path, api: str = "auto", ways: str = "both", **options):
    """``(report, adapter)`` of ``path`` (see the module docstring)."""
    path = str(path)
    timeout = options.pop("timeout", 30.0)
    report = None
    if ways in ("both", "in-process"):
        report = verify_target(path, api, timeout=timeout, isolated=False, **options)
    if ways in ("both", "isolated"):
        isolated = verify_target(path, api, isolated=True, limits=Limits(timeout=timeout),
                                 **options)
        if report is None:
            report = isolated
        else:
            same_verdicts(isolated, report, f"{path} (isolated / in-process)")
    return report, report.adapter
