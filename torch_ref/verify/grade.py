"""``python -m torch_ref grade SUBMISSION... --api API -j N --out DIR``: grade a class.

Each submission (a ``.py`` file, a folder of one student's files or an archive of
them, see :mod:`torch_ref.verify.submissions`) is checked the way ``verify --module``
checks it, in its own confined child process, and gets a folder ``DIR/NAME/`` with
``report.txt`` and ``report.json`` (and ``results.json`` for Gradescope with
``--gradescope``). Then ``DIR/gradebook.csv`` (one row per submission: the status of
every function, points, total) and the class summary ``DIR/summary.txt`` and
``DIR/summary.png`` (failing submissions per function, commonest hints). With one
submission and ``--gradescope``, ``DIR/results.json`` is Gradescope's file.

Submissions are graded by ``-j`` worker processes; a submission whose grading fails
for any reason gets a report saying so, and the others are not affected. A rerun
skips submissions whose ``report.json`` is complete (``--regrade`` grades them again).
A WARN (right values from hazardous code) earns its points unless ``--strict``.
Exit status: 0 every submission graded and passing, 1 otherwise, 2 usage error.
"""
from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import shutil
import sys
import time
import traceback

from torch_ref.verify.gradebook import (
    Rubric,
    RubricError,
    class_summary,
    format_summary,
    gradescope_results,
    load_rubric,
    plot_summary,
    score,
    write_gradebook,
)
from torch_ref.verify.submissions import Submission, SubmissionError, collect, extract, find_module

_VERSION = 1
_WORKER: dict = {}


def add_arguments(parser) -> None:
    from torch_ref.verify import adapters

    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                        help=".py files, folders (one per student, or a class folder "
                             "holding them) or archives (.zip, .tar.gz ...)")
    parser.add_argument("--api", default=adapters.DEFAULT, choices=tuple(adapters.available()),
                        help="the API the submissions are written to (default cs231n)")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for the reports, the gradebook and the summary")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="submissions graded at once (default 1)")
    parser.add_argument("--rubric", metavar="FILE",
                        help="points per function, JSON or TOML (default: 1 per function)")
    parser.add_argument("--gradescope", action="store_true",
                        help="also write Gradescope's results.json for each submission")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                        help="time limit of one call into a submission (default 30)")
    parser.add_argument("--memory", type=float, default=4.0, metavar="GIB",
                        help="memory limit of a submission's process (default 4)")
    parser.add_argument("--budget", type=float, default=900.0, metavar="SECONDS",
                        help="time for one whole submission (default 900)")
    parser.add_argument("--seed", type=int, default=0,
                        help="first of the three seeds each case is drawn with (default 0)")
    parser.add_argument("--strict", action="store_true",
                        help="warnings (right values from hazardous code) earn no points")
    parser.add_argument("--regrade", action="store_true",
                        help="grade again submissions that already have a report")


class GradeOptions:
    """What every worker needs to grade one submission (picklable)."""

    def __init__(self, args, rubric: Rubric, functions):
        self.api, self.out = args.api, os.path.abspath(args.out)
        self.timeout, self.memory, self.budget = args.timeout, args.memory, args.budget
        self.seed, self.gradescope = args.seed, args.gradescope
        self.regrade, self.strict = args.regrade, args.strict
        self.rubric, self.functions = rubric, functions


def _check(args) -> None:
    for name, value in (("--timeout", args.timeout), ("--memory", args.memory),
                        ("--budget", args.budget)):
        if value <= 0:
            raise ValueError(f"{name} must be positive")
    if args.jobs < 1:
        raise ValueError("-j/--jobs must be at least 1")


def run(args) -> int:
    from torch_ref.verify import adapters

    try:
        _check(args)
        adapter_class = adapters.get(args.api)
        functions = adapter_class(None).user_functions()
        rubric = load_rubric(args.rubric, functions)
        submissions = collect(args.submissions, adapter_class.conventional_files)
        out = os.path.abspath(args.out)
        os.makedirs(out, exist_ok=True)
    except (ValueError, RubricError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: --out {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    options = GradeOptions(args, rubric, functions)
    entries = grade_all(submissions, options, args.jobs)
    write_gradebook(os.path.join(out, "gradebook.csv"), entries, functions)
    summary = class_summary(entries, functions)
    text = format_summary(summary)
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    plotted = plot_summary(os.path.join(out, "summary.png"), summary)
    if args.gradescope and len(entries) == 1:
        shutil.copyfile(os.path.join(out, entries[0]["folder"], "results.json"),
                        os.path.join(out, "results.json"))
    print(text)
    print(f"\nwrote {os.path.join(out, 'gradebook.csv')}, summary.txt"
          + (", summary.png" if plotted else "") + f" and {len(entries)} report folder(s)")
    good = ("PASS", "n/a") if args.strict else ("PASS", "WARN", "n/a")
    return 0 if all(not e.get("note") and all(s in good for s in e["statuses"].values())
                    for e in entries) else 1


def grade_all(submissions, options: GradeOptions, jobs: int) -> list:
    """Grade every submission; their gradebook entries in the order given."""
    from numpy_rnn.cli.progress import progress_bar

    entries = {}
    bar = progress_bar(total=len(submissions), desc="grading")
    try:
        if jobs == 1:
            _init_worker(None)
            for sub in submissions:
                entries[sub.name] = _safe_grade(sub, options)
                bar.update(1)
        else:
            _grade_in_pool(submissions, options, jobs, entries, bar)
    finally:
        bar.close()
    return [entries[s.name] for s in submissions]


def _grade_in_pool(submissions, options, jobs, entries, bar) -> None:
    attempts = {s.name: 0 for s in submissions}
    pending = list(submissions)
    context = multiprocessing.get_context("spawn")
    while pending:
        slots = context.Queue()
        for slot in range(jobs):
            slots.put(slot)
        retry = []
        with concurrent.futures.ProcessPoolExecutor(
                max_workers=min(jobs, len(pending)), mp_context=context,
                initializer=_init_worker, initargs=(slots,)) as pool:
            futures = {pool.submit(_safe_grade, sub, options): sub for sub in pending}
            for future in concurrent.futures.as_completed(futures):
                sub = futures[future]
                try:
                    entries[sub.name] = future.result()
                except Exception as exc:  # noqa: BLE001 - a worker died: try once more
                    attempts[sub.name] += 1
                    if attempts[sub.name] < 2:
                        retry.append(sub)
                        continue
                    entries[sub.name] = _failed_entry(sub, options,
                                                      f"the grader failed: {exc!r}")
                bar.update(1)
        pending = retry


def _init_worker(slots) -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - the references need torch anyway
        pass
    _WORKER["slot"] = slots.get() if slots is not None else None


def _safe_grade(sub: Submission, options: GradeOptions) -> dict:
    """:func:`grade_one`, turning any failure of the grader into that submission's
    report (never another's)."""
    try:
        return grade_one(sub, options)
    except Exception as exc:  # noqa: BLE001 - one submission must not stop the class
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return _failed_entry(sub, options, f"the grader failed on it: {detail}")


def _folder(options, sub) -> str:
    return os.path.join(options.out, sub.name)


def _finished(options, sub):
    path = os.path.join(_folder(options, sub), "report.json")
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return None
    entry = doc.get("entry") if isinstance(doc, dict) else None
    if (doc.get("version") != _VERSION or doc.get("api") != options.api
            or doc.get("source") != sub.source or not isinstance(entry, dict)):
        return None
    if options.gradescope and not os.path.isfile(os.path.join(_folder(options, sub),
                                                              "results.json")):
        return None
    entry.update(score(entry["statuses"], options.functions, options.rubric,
                       options.strict))
    return entry


def grade_one(sub: Submission, options: GradeOptions) -> dict:
    """Grade one submission into ``OUT/NAME/``; its gradebook entry."""
    from torch_ref.verify.isolation.remote import verify_isolated
    from torch_ref.verify.isolation.sandbox import GiB, Limits
    from torch_ref.verify.runner import UsageError, describe_function, format_report

    if not options.regrade:
        done = _finished(options, sub)
        if done is not None:
            return done
    folder = _folder(options, sub)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    start = time.perf_counter()
    try:
        module = _module_of(sub, folder, options)
    except SubmissionError as exc:
        return _failed_entry(sub, options, str(exc))
    limits = Limits(timeout=options.timeout, memory=int(options.memory * GiB),
                    budget=options.budget, cpu_slot=_WORKER.get("slot"))
    try:
        report, adapter = verify_isolated(module, options.api, seed=options.seed,
                                          limits=limits, hidden=(options.out,),
                                          strict=options.strict)
    except UsageError as exc:
        return _failed_entry(sub, options, str(exc))
    statuses = {f.name: f.status for f in report.functions}
    for name, optional in options.functions:
        statuses.setdefault(name, "n/a" if optional else "UNTESTED")
    hints = sorted({c.hint for c in report.checks if c.hint})
    entry = {"submission": sub.name, "source": sub.source, "folder": sub.name,
             "module": os.path.relpath(module, os.path.dirname(sub.source)),
             "statuses": statuses, "hints": hints, "note": "",
             "elapsed_s": round(time.perf_counter() - start, 2)}
    entry.update(score(statuses, options.functions, options.rubric, options.strict))
    text = format_report(report, adapter)
    entry["summary"] = text.splitlines()[-1]
    details = {f.name: describe_function(f) if f.status not in ("PASS", "n/a") else f.status
               for f in report.functions}
    _write(folder, sub, options, entry, text, report.as_dict(), details)
    return entry


def _module_of(sub, folder, options) -> str:
    from torch_ref.verify import adapters

    conventional = adapters.get(options.api).conventional_files
    if sub.source.endswith(".py") and os.path.isfile(sub.source):
        return sub.source
    if os.path.isdir(sub.source):
        return find_module(sub.source, conventional)
    files = os.path.join(folder, "files")
    extract(sub.source, files)
    return find_module(files, conventional)


def _failed_entry(sub, options, why: str) -> dict:
    """The entry (and the report files) of a submission that could not be checked."""
    statuses = {name: "n/a" if optional else "ERROR" for name, optional in options.functions}
    entry = {"submission": sub.name, "source": sub.source, "folder": sub.name, "module": "",
             "statuses": statuses, "hints": [], "note": why.splitlines()[0][:300],
             "summary": f"not graded: {why}"}
    entry.update(score(statuses, options.functions, options.rubric))
    folder = _folder(options, sub)
    os.makedirs(folder, exist_ok=True)
    text = f"grade {sub.source} (--api {options.api})\n\nnot graded: {why}\n\n0 passed, " \
           f"{sum(s == 'ERROR' for s in statuses.values())} failed"
    details = {name: f"not graded: {why}" for name in statuses}
    _write(folder, sub, options, entry, text, None, details)
    return entry


def _write(folder, sub, options, entry, text, report, details) -> None:
    points = "\n".join(f"  {name}: {entry['points'][name]:g} / {entry['max'][name]:g}"
                       for name, _ in options.functions if entry["max"].get(name))
    with open(os.path.join(folder, "report.txt"), "w", encoding="utf-8") as fh:
        fh.write(f"{text}\n\npoints ({options.rubric.source}):\n{points}\n"
                 f"total: {entry['total']:g} / {entry['max_total']:g}\n")
    if options.gradescope:
        results = gradescope_results(entry, details)
        results["output"] = text
        with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)
    # written last: its presence marks the submission as finished
    doc = {"version": _VERSION, "api": options.api, "source": sub.source, "entry": entry,
           "report": report}
    tmp = os.path.join(folder, "report.json.partial")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
    os.replace(tmp, os.path.join(folder, "report.json"))
