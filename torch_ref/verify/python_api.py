"""The Python entry of ``verify``: a module object or a path in, a report out.

In-process on purpose: a student checking their own code in a notebook wants to
pass the module they are editing, and trusts it. ``verify --module`` and ``grade``
isolate (see :mod:`torch_ref.verify.isolation`).
"""
from __future__ import annotations

import os

_OPTIONS = ("only", "seed", "dtypes", "timeout", "reuse", "golden", "path")


def verify_module(module, api: str = "auto", **options):
    """The :class:`~torch_ref.verify.runner.Report` of ``module``.

    module: a module object (or any object with the API's functions and classes as
    attributes), or the path of a ``.py`` file / dotted name. Raises ``ValueError``
    for an unknown option or API and :class:`~torch_ref.verify.runner.UsageError`
    for a module that cannot be imported.
    """
    from torch_ref.verify import adapters
    from torch_ref.verify.loader import CallGuard
    from torch_ref.verify.runner import DEFAULT_TIMEOUT, UsageError, verify_adapter
    from torch_ref.verify.runner import verify_module as verify_path

    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"verify_module: unknown option(s) {', '.join(unknown)}; "
                         f"choose from: {', '.join(_OPTIONS)}")
    try:
        adapter_class = None if api == "auto" else adapters.get(api)
    except ValueError as exc:
        raise ValueError(f"verify_module: api: {exc}") from None
    if isinstance(module, (str, os.PathLike)):
        report, adapter = verify_path(os.fspath(module), api, **options)
    else:
        if options.pop("path", None) is not None:
            raise ValueError("verify_module: path goes with a dotted module name")
        timeout = options.pop("timeout", DEFAULT_TIMEOUT)
        if adapter_class is None:
            from torch_ref.verify import detect

            try:
                adapter_class = detect.choose(module, adapters.available())
            except detect.Undecided as exc:
                raise ValueError(f"verify_module: {exc}") from None
        with CallGuard(timeout) as guard:
            adapter = adapter_class(module, guard)
            try:
                report = verify_adapter(adapter, target=getattr(module, "__name__",
                                                                 type(module).__name__),
                                        **options)
            except UsageError as exc:
                raise ValueError(f"verify_module: {exc}") from None
    report.adapter = adapter
    return report


__all__ = ["verify_module"]
