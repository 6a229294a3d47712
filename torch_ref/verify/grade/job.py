"""Grading one submission: stage it alone, name its content, reuse or check, score.

:func:`grade_one` is what a worker runs for each submission (see
:mod:`torch_ref.verify.grade.pool`); it returns the submission's gradebook entry and
leaves its report files in ``OUT/reports/NAME/``. Whatever goes wrong with one
submission (a bad archive, a module that does not import, a fault of the grader) is that
submission's "could not be graded" entry, never another's.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import time
import traceback
from dataclasses import dataclass

from torch_ref.status import ERROR, NA, UNTESTED
from torch_ref.verify.grade import reports
from torch_ref.verify.grade.check import CheckError, CheckOptions, check
from torch_ref.verify.grade.gradebook import Rubric, score
from torch_ref.verify.grade.submissions import (
    Submission,
    SubmissionError,
    digest,
    find_module,
    stage,
)


@dataclass(frozen=True)
class GradeOptions:
    """What a worker needs to grade any submission (picklable).

    out: the output folder; private: the grader's own folder (``0700``, hidden from
    every child) where each submission is staged; check: how modules are checked;
    functions: ``[(name, optional)]`` of the API; conventional: the API's file names;
    settings: what else decides a result (for the digest)."""

    out: str
    private: str
    check: CheckOptions
    functions: tuple
    rubric: Rubric
    conventional: tuple = ()
    gradescope: bool = False
    regrade: bool = False
    grader_version: str = ""

    @property
    def settings(self) -> dict:
        c = self.check
        return {"format": reports.FORMAT, "grader": self.grader_version, "api": c.api,
                "seed": c.seed, "strict": c.strict, "rubric": self.rubric.as_dict(),
                "timeout": c.timeout, "memory": c.memory, "budget": c.budget}


def report_folder(options: GradeOptions, sub: Submission) -> str:
    return os.path.join(options.out, "reports", sub.name)


def grade_one(sub: Submission, options: GradeOptions, slot=None) -> dict:
    """Grade ``sub``; its gradebook entry. Never raises for a fault of one submission."""
    private = os.path.join(options.private, "staged", sub.name)
    shutil.rmtree(private, ignore_errors=True)  # left by a worker that died on it
    try:
        return _grade(sub, options, slot, private)
    except Exception as exc:  # noqa: BLE001 - one submission must not stop the class
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return not_graded(sub, options, f"the grader failed on it: {detail}", retry=True)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _grade(sub: Submission, options: GradeOptions, slot, private: str) -> dict:
    start = time.perf_counter()
    try:
        staged = stage(sub, private)
    except SubmissionError as exc:  # nothing to name: tried again on a rerun
        return not_graded(sub, options, str(exc))
    key = digest(staged, options.settings)
    folder = report_folder(options, sub)
    if not options.regrade:
        done = reports.finished(folder, key)
        if done is not None:
            entry, text, details = done
            entry.update(submission=sub.name, source=sub.source, reused=True)
            if options.gradescope and not os.path.isfile(os.path.join(folder,
                                                                      "results.json")):
                reports.write_gradescope(folder, entry, details, text, options.check.strict)
            return entry
    shown = os.path.dirname(sub.source) if sub.kind == "file" else sub.source
    try:
        module = find_module(staged, options.conventional)
        result = check(module, dataclasses.replace(options.check, cpu_slot=slot),
                       within=private)
    except (SubmissionError, CheckError) as exc:
        return not_graded(sub, options, _shown(str(exc), staged, shown), key=key)
    statuses = dict(result.statuses)
    for name, optional in options.functions:
        statuses.setdefault(name, NA if optional else UNTESTED)
    text = _shown(result.text, staged, shown)
    entry = {"submission": sub.name, "source": sub.source, "digest": key,
             "module": os.path.relpath(module, staged).replace(os.sep, "/"),
             "statuses": statuses, "hints": result.hints, "graded": True, "note": "",
             "summary": text.splitlines()[-1] if text else "",
             "elapsed_s": round(time.perf_counter() - start, 2)}
    entry.update(score(statuses, options.functions, options.rubric, options.check.strict))
    details = {name: _shown(detail, staged, shown) for name, detail in result.details.items()}
    _write(options, sub, entry, text, _shown(result.report, staged, shown), details)
    return entry


def not_graded(sub: Submission, options: GradeOptions, why: str, key: str | None = None,
               retry: bool = False) -> dict:
    """The entry (and report files) of a submission that could not be graded: 0 points.
    key: the digest of its content when known (then a rerun reuses it unless
    ``retry``: a fault of the grader, not of the submission)."""
    statuses = {name: NA if optional else ERROR for name, optional in options.functions}
    first = why.strip().splitlines()[0][:300] if why.strip() else "unknown reason"
    entry = {"submission": sub.name, "source": sub.source, "digest": key, "module": "",
             "statuses": statuses, "hints": [], "graded": False, "note": first,
             "retry": retry, "summary": f"not graded: {first}"}
    entry.update(score(statuses, options.functions, options.rubric, options.check.strict))
    text = (f"grade {sub.source} (--api {options.check.api})\n\nnot graded: {why}\n\n"
            f"0 functions passed, {sum(s == ERROR for s in statuses.values())} failed")
    details = {name: f"not graded: {why}" for name in statuses}
    _write(options, sub, entry, text, None, details)
    return entry


def _write(options, sub, entry, text, report, details) -> None:
    reports.write(report_folder(options, sub), entry, text, report, details,
                  rubric_source=options.rubric.source, functions=options.functions,
                  gradescope_file=options.gradescope, strict=options.check.strict)


def _shown(value, staged: str, shown: str):
    """``value`` (text, or lists and dicts of it) with the staged copy's path replaced by
    the path of the submission it came from."""
    if isinstance(value, str):
        return value.replace(staged, shown)
    if isinstance(value, list):
        return [_shown(v, staged, shown) for v in value]
    if isinstance(value, dict):
        return {k: _shown(v, staged, shown) for k, v in value.items()}
    return value
