"""The one place where grading calls ``verify``: everything else in
:mod:`torch_ref.verify.grade` works with what :func:`check` returns and with the API
facts below, never with the verify machinery itself.

:func:`check` checks one staged module the way ``verify --module`` does, in a confined
child process, and returns plain data: the report as JSON-ready dicts, its text, the
status of every function the report names, the hints that fired and each function's
detail text. It raises :class:`CheckError` when the module cannot be checked at all
(it does not import, its relative imports reach outside its submission, ...).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field


class CheckError(Exception):
    """The module cannot be checked; the message says why (for its report)."""


@dataclass(frozen=True)
class CheckOptions:
    """How to check a module. memory in GiB; budget: seconds for the whole module;
    confinement: auto, bubblewrap or fallback (see the sandbox);
    hidden: trees the child may not read (the grader's output and private folders, every
    submission's original); cpu_slot: which allowed CPU the child shares (None: any)."""

    api: str
    seed: int = 0
    strict: bool = False
    timeout: float = 30.0
    memory: float = 4.0
    confinement: str = "auto"
    budget: float | None = 900.0
    hidden: tuple = ()
    cpu_slot: int | None = None


@dataclass
class CheckResult:
    """report: the report as JSON-ready dicts; text: as ``verify --module`` prints it;
    statuses: function -> status (:mod:`torch_ref.status`); hints: the hints that fired;
    details: function -> the report's text about it (its status when it passed)."""

    report: dict
    text: str
    statuses: dict
    hints: list = field(default_factory=list)
    details: dict = field(default_factory=dict)


def check(module_path: str, options: CheckOptions, within: str | None = None) -> CheckResult:
    """Check the module at ``module_path`` in a child that gets a copy of its folder
    (or of its package) and nothing else. within: the folder that copy must lie in; a
    module whose package or relative imports would take a folder above it is refused."""
    from torch_ref.status import NA, PASS
    from torch_ref.verify.isolation.limits import GiB, Limits
    from torch_ref.verify.load.loader import ModuleLoadError
    from torch_ref.verify.render import describe_function, format_report
    from torch_ref.verify.run import UsageError
    from torch_ref.verify.session import verify_target
    from torch_ref.verify.target import resolve

    if within is not None:
        try:
            root = resolve(module_path, None, conventional_files(options.api)).root
        except ModuleLoadError as exc:
            raise CheckError(f"cannot import the module: {exc}") from None
        within = os.path.realpath(within)
        if os.path.commonpath([os.path.realpath(root), within]) != within:
            raise CheckError("cannot import the module: its relative imports climb above "
                             "the submission's own folder")
    limits = Limits(timeout=options.timeout, memory=int(options.memory * GiB),
                    confinement=options.confinement,
                    budget=options.budget, cpu_slot=options.cpu_slot)
    try:
        report = verify_target(module_path, options.api, seed=options.seed, limits=limits,
                               hidden=options.hidden, strict=options.strict)
    except UsageError as exc:
        raise CheckError(str(exc)) from None
    details = {f.name: f.status if f.status in (PASS, NA) else describe_function(f)
               for f in report.functions}
    return CheckResult(report=report.as_dict(), text=format_report(report),
                       statuses={f.name: f.status for f in report.functions},
                       hints=sorted({c.hint for c in report.checks if c.hint}),
                       details=details)


# ---- facts about the APIs ---------------------------------------------------------------

def api_names() -> tuple:
    """The APIs submissions can be graded against, the default first."""
    from torch_ref.verify import adapters

    return tuple(adapters.available())


def default_api() -> str:
    from torch_ref.verify import adapters

    return adapters.DEFAULT


def api_functions(api: str) -> list:
    """``[(user function, optional)]`` of ``api``, in report order. Raises ValueError
    for an unknown API."""
    from torch_ref.verify import adapters

    return list(adapters.get(api).describe().user_functions())


def conventional_files(api: str) -> tuple:
    """The file names a submission's module has under ``api`` (``rnn_layers.py``)."""
    from torch_ref.verify import adapters

    return tuple(adapters.get(api).conventional_files)
