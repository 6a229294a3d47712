"""The Python entry of ``verify``: a module object or a path in, a report out.

In-process on purpose: a student checking their own code in a notebook wants to
pass the module they are editing, and trusts it. ``verify --module`` and ``grade``
isolate (see :mod:`torch_ref.verify.isolation`). The steps are those of
:mod:`torch_ref.verify.session`: only where the module runs differs.
"""
from __future__ import annotations

import os

_OPTIONS = ("only", "seed", "dtypes", "timeout", "reuse", "golden", "path", "strict")


def verify_module(module, api: str = "auto", **options):
    """The :class:`~torch_ref.verify.report.Report` of ``module``.

    module: a module object (or any object with the API's functions and classes as
    attributes), or the path of a ``.py`` file / dotted name. Raises ``ValueError``
    for an unknown option or API and :class:`~torch_ref.verify.run.UsageError` for a
    module that cannot be imported.
    """
    from torch_ref.verify import adapters, detect
    from torch_ref.verify.isolation.client import LocalExecutor
    from torch_ref.verify.run import UsageError, check_adapter
    from torch_ref.verify.session import DEFAULT_TIMEOUT, verify_target
    from torch_ref.verify.sources import Sources

    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"verify_module: unknown option(s) {', '.join(unknown)}; "
                         f"choose from: {', '.join(_OPTIONS)}")
    try:
        adapter_class = None if api == "auto" else adapters.get(api)
    except ValueError as exc:
        raise ValueError(f"verify_module: api: {exc}") from None
    if isinstance(module, (str, os.PathLike)):
        return verify_target(os.fspath(module), api, isolated=False, **options)
    if options.pop("path", None) is not None:
        raise ValueError("verify_module: path goes with a dotted module name")
    executor = LocalExecutor(options.pop("timeout", DEFAULT_TIMEOUT))
    try:
        inventory = executor.adopt(module)
        file = getattr(module, "__file__", None)
        if adapter_class is None:
            try:
                adapter_class = detect.choose(inventory, adapters.available(),
                                              Sources(os.path.dirname(file) if file else None))
            except detect.Undecided as exc:
                raise ValueError(f"verify_module: {exc}") from None
        adapter = adapter_class(executor, Sources(os.path.dirname(file) if file else None))
        try:
            return check_adapter(adapter, target=getattr(module, "__name__",
                                                         type(module).__name__), **options)
        except UsageError as exc:
            raise ValueError(f"verify_module: {exc}") from None
    finally:
        executor.close()


__all__ = ["verify_module"]
