"""``python -m torch_ref grade``: the command line, what it prints, its exit status.

See :mod:`torch_ref.verify.grade` for what it does and the layout of ``--out``.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

from torch_ref.status import passes
from torch_ref.verify.escape import terminal

# exit statuses; the worst one that applies wins (2, then 3, then 1)
EXIT_PASSED = 0        # every submission graded, and every function passes
EXIT_FAILED = 1        # every submission graded; some function fails in some submission
EXIT_USAGE = 2         # a usage error: nothing graded, nothing written
EXIT_NOT_GRADED = 3    # some submission could not be graded (its row has a note, 0 points)

EPILOG = f"""\
Writes OUT/gradebook.csv, OUT/summary.txt (and summary.png with matplotlib) and, for each
submission, OUT/reports/NAME/report.txt and report.json (and results.json with
--gradescope; with one submission also OUT/results.json). A rerun reuses a report only
when the submission's content and the settings are unchanged (--regrade: never).

exit status:
  {EXIT_PASSED}  every submission was graded and every function passes (WARN too, unless --strict)
  {EXIT_FAILED}  every submission was graded; some function fails in some submission
  {EXIT_USAGE}  usage error (bad option, no such submission, bad rubric, --out unusable):
     nothing graded, nothing written
  {EXIT_NOT_GRADED}  some submission could not be graded (bad archive, no module in it, a module
     that does not import, a fault of the grader): 0 points, its note in gradebook.csv
"""


def add_arguments(parser) -> None:
    from torch_ref.verify.grade.check import api_names, default_api

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                        help=".py files, folders (one per student, or a class folder "
                             "holding them) or archives (.zip, .tar.gz ...)")
    parser.add_argument("--api", default=default_api(), choices=api_names(),
                        help=f"the API the submissions are written to (default "
                             f"{default_api()})")
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
    parser.add_argument("--confinement", choices=("auto", "bubblewrap", "fallback"),
                        default="auto",
                        help="how the module's process is confined: bubblewrap (namespaces), "
                             "fallback (where user namespaces are refused), or auto (the "
                             "first that works here; default; TORCH_REF_CONFINEMENT sets it)")
    parser.add_argument("--budget", type=float, default=900.0, metavar="SECONDS",
                        help="time for one whole submission (default 900)")
    parser.add_argument("--seed", type=int, default=0,
                        help="first of the three seeds each case is drawn with (default 0)")
    parser.add_argument("--strict", action="store_true",
                        help="warnings (right values from hazardous code) earn no points")
    parser.add_argument("--regrade", action="store_true",
                        help="grade every submission again, even unchanged ones")


def exit_status(entries, strict: bool = False) -> int:
    """:data:`EXIT_NOT_GRADED`, :data:`EXIT_FAILED` or :data:`EXIT_PASSED` for the
    gradebook ``entries``."""
    if any(not e["graded"] for e in entries):
        return EXIT_NOT_GRADED
    if all(passes(s, strict) for e in entries for s in e["statuses"].values()):
        return EXIT_PASSED
    return EXIT_FAILED


def _usage_error(message: str) -> int:
    print(terminal(f"error: {message}"), file=sys.stderr)
    return EXIT_USAGE


def run(args) -> int:
    from torch_ref.verify.grade.check import CheckOptions, api_functions, conventional_files
    from torch_ref.verify.grade.gradebook import RubricError, load_rubric
    from torch_ref.verify.grade.job import GradeOptions
    from torch_ref.verify.grade.submissions import collect

    for name, value in (("--timeout", args.timeout), ("--memory", args.memory),
                        ("--budget", args.budget)):
        if not value > 0:
            return _usage_error(f"{name} must be positive")
    if args.jobs < 1:
        return _usage_error("-j/--jobs must be at least 1")
    out = os.path.abspath(args.out)
    if not _hideable(out):
        return _usage_error(f"--out {args.out}: holds the Python that runs the grader; "
                            f"choose a folder of its own")
    try:
        functions = tuple(api_functions(args.api))
        rubric = load_rubric(args.rubric, functions)
        conventional = conventional_files(args.api)
        submissions = collect(args.submissions, conventional, exclude=(out,))
        os.makedirs(os.path.join(out, "reports"), exist_ok=True)
    except (ValueError, RubricError) as exc:
        return _usage_error(str(exc))
    except OSError as exc:
        return _usage_error(f"--out {args.out}: {exc.strerror or exc}")
    private = _private_folder()
    try:
        check = CheckOptions(api=args.api, seed=args.seed, strict=args.strict,
                             timeout=args.timeout, memory=args.memory, budget=args.budget,
                             confinement=args.confinement,
                             hidden=_hidden(out, private, args.submissions,
                                            submissions))
        options = GradeOptions(out=out, private=private, check=check, functions=functions,
                               rubric=rubric, conventional=conventional,
                               gradescope=args.gradescope, regrade=args.regrade,
                               grader_version=_version())
        entries = _grade(submissions, options, args.jobs)
    finally:
        shutil.rmtree(private, ignore_errors=True)
    _write_class_files(out, entries, functions, args.gradescope)
    return exit_status(entries, args.strict)


def _grade(submissions, options, jobs: int) -> list:
    from numpy_rnn.cli.progress import progress_bar
    from torch_ref.verify.grade import pool
    from torch_ref.verify.grade.job import grade_one, not_graded

    def lost(sub, why):
        return not_graded(sub, options, why, retry=True)

    bar = progress_bar(total=len(submissions), desc="grading")
    try:
        entries = pool.grade_all(submissions, grade_one, lost, options, jobs,
                                 on_done=lambda entry: bar.update(1))
    finally:
        bar.close()
    return [entries[s.name] for s in submissions]


def _write_class_files(out: str, entries: list, functions, gradescope: bool) -> None:
    from torch_ref.verify.grade.gradebook import (
        class_summary,
        format_summary,
        plot_summary,
        write_gradebook,
    )

    write_gradebook(os.path.join(out, "gradebook.csv"), entries, functions)
    summary = class_summary(entries, functions)
    text = format_summary(summary)  # escaped
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    plotted = plot_summary(os.path.join(out, "summary.png"), summary)
    if gradescope and len(entries) == 1:
        shutil.copyfile(os.path.join(out, "reports", entries[0]["submission"], "results.json"),
                        os.path.join(out, "results.json"))
    reused = sum(1 for e in entries if e.get("reused"))
    print(text)
    print(terminal(f"\nwrote {os.path.join(out, 'gradebook.csv')}, summary.txt"
               + (", summary.png" if plotted else "")
               + f" and {len(entries)} report folder(s) in reports/"
               + (f" ({reused} unchanged since the last run, not graded again)"
                  if reused else "")))


def _private_folder() -> str:
    """The grader's own folder (``0700``, hidden from every child): ``staged/NAME/``
    holds one submission's copy while it is graded."""
    private = tempfile.mkdtemp(prefix="torch_ref-grade-")
    os.mkdir(os.path.join(private, "staged"), 0o700)
    return private


def _hideable(path: str) -> bool:
    """Whether ``path`` can be hidden from a child: it does not hold the Python (and
    NumPy) the child runs on."""
    import numpy

    path = os.path.realpath(path)
    needed = (sys.prefix, sys.base_prefix, sys.executable, os.path.dirname(numpy.__file__))
    return not any(os.path.commonpath([path, os.path.realpath(n)]) == path for n in needed)


def _hidden(out: str, private: str, arguments, submissions) -> tuple:
    """What no child may read: the output and private folders, the folders and files
    given and every submission's original (each child gets its own staged copy). A
    folder given that holds the Python running the grader is left readable (each
    submission in it is still hidden)."""
    given = (os.path.abspath(a) for a in arguments)
    return (out, private, *(p for p in (*given, *(s.source for s in submissions))
                            if _hideable(p)))


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("numpy-rnn")
    except Exception:  # noqa: BLE001 - not installed: run from a checkout
        return "checkout"
