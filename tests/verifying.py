"""How the tests run ``verify --module``: in-process, isolated, or both compared.

:func:`verify_module` is the tests' entry: by default it checks the module twice,
isolated in a confined child process (what ``verify --module`` does) and in this
process (``--in-process``), asserts that both give the same verdicts (each
function's status and failing tensors) and returns the in-process report with its
adapter. ``ways="in-process"`` or ``ways="isolated"`` runs one of them only.
"""
from __future__ import annotations

import shutil
from pathlib import Path

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


def edited_copy(source: Path, destination: Path, module: str, changes, *, tabs: bool = False,
                drop=(), extra=None) -> Path:
    """The folder ``source`` copied to ``destination`` (once: a copy already there is
    reused) with each ``(text, replacement)`` of ``changes`` made exactly once in its file
    ``module``; the files ``drop`` left out and the files of ``extra`` (name -> text)
    added. tabs: the texts are written with four spaces and matched as tabs (a
    tab-indented module). Returns the copy of ``module``: one mistake written into a
    correct module."""
    path = Path(destination) / module
    if Path(destination).exists():
        return path
    shutil.copytree(source, destination)
    for file in drop:
        (Path(destination) / file).unlink()
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        if tabs:
            old, new = old.replace("    ", "\t"), new.replace("    ", "\t")
        assert text.count(old) == 1, f"{destination}: {old[:60]!r}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    for file, content in (extra or {}).items():
        (Path(destination) / file).write_text(content, encoding="utf-8")
    return path
