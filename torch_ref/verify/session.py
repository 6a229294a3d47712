"""One ``verify --module`` run, in-process or isolated, start to end.

:func:`verify_target` resolves what the user named (:mod:`torch_ref.verify.target`),
starts an executor for it (a confined child process, or this process for trusted
code), loads the module, decides its API from the inventory (``--api auto``),
builds the adapter in this process and runs every check through it
(:func:`torch_ref.verify.run.check_adapter`). Both paths take exactly these steps;
only where the executor runs differs.
"""
from __future__ import annotations

from torch_ref.verify.load.loader import ModuleLoadError
from torch_ref.verify.run import UsageError, check_adapter

DEFAULT_TIMEOUT = 30.0
TORCH_RULE = ("this course's submissions compute in NumPy; torch is the checker's "
              "reference and may be imported but not used")


def verify_target(target: str, api: str = "auto", path: str | None = None, only=None,
                  seed: int = 0, dtypes=("float64", "float32"),
                  timeout: float | None = DEFAULT_TIMEOUT, reuse: bool = True,
                  golden: bool = True, strict: bool = False, isolated: bool = True,
                  limits=None, hidden=()):
    """Check the module at ``target``; its :class:`~torch_ref.verify.report.Report`.

    target: a ``.py`` file (inside a package is fine), a notebook, a folder or handout
    root, or a dotted name imported from ``path``. api: an adapter's name, or
    ``auto`` (detected from what the module defines). isolated: run the module in a
    confined child process (``limits``: :class:`~torch_ref.verify.isolation.limits.
    Limits`; ``hidden``: more trees it may not read), else in this process with a time
    limit of ``timeout`` seconds per call. Raises :class:`UsageError` for an unknown or
    undecidable API, an unknown ``--only`` name and a module that cannot be loaded.
    """
    from torch_ref.verify import adapters, detect
    from torch_ref.verify.sources import Sources
    from torch_ref.verify.target import resolve

    known = adapters.available()
    try:
        chosen = None if api == "auto" else adapters.get(api)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    candidates = [chosen] if chosen else list(known.values())
    conventional = tuple(dict.fromkeys(f for c in candidates for f in c.conventional_files))
    def script(file: str) -> bool:  # a training loop at module level never lets it return
        return any(c.reads_as_script(file, chosen is not None) for c in candidates)
    try:
        resolved = resolve(target, path, conventional, script=script)
    except ModuleLoadError as exc:
        raise UsageError(f"cannot import the module: {exc}") from None
    helpers = [c.name for c in candidates]
    torch = bool(chosen and chosen.torch)
    sources = Sources(resolved.root)
    executor = _executor(resolved, isolated, timeout, limits, hidden, torch)
    try:
        try:
            inventory = _load(executor, resolved, helpers, torch)
        except UsageError as exc:
            if chosen is not None or torch or "TorchRefused" not in str(exc):
                raise
            # torch used at import (a course helper's constants): told apart with torch
            # usable; a NumPy course is then loaded again without it, and refused
            executor.close()
            torch = True
            executor = _executor(resolved, isolated, timeout, limits, hidden, True)
            inventory = _load(executor, resolved, helpers, True)
        if chosen is None:
            try:
                chosen = detect.choose(inventory, known, sources)
            except detect.Undecided as exc:
                raise UsageError(str(exc)) from None
        # the edition the module follows may compute in torch where its course's others
        # do not (cs231n from 2025)
        wanted = _computes_in_torch(chosen, inventory, sources)
        if wanted != torch:
            # loaded again with torch usable, or (a NumPy course's) stubbed
            executor.close()
            executor = _executor(resolved, isolated, timeout, limits, hidden, wanted)
            _load(executor, resolved, [chosen.name], wanted)
        adapter = chosen(executor, sources)
        return check_adapter(adapter, only, seed, dtypes, reuse, golden,
                             target=target, strict=strict)
    finally:
        executor.close()


def _executor(resolved, isolated, timeout, limits, hidden, torch: bool):
    from torch_ref.verify.isolation.client import LocalExecutor, SandboxExecutor

    if not isolated:
        return LocalExecutor(timeout)
    from torch_ref.verify.isolation.limits import Limits

    limits = limits or Limits(timeout=timeout)
    return SandboxExecutor(limits, resolved.root, hidden, allow_torch=torch,
                           torch_rule=TORCH_RULE)


def _load(executor, resolved, helpers, torch: bool) -> dict:
    try:
        return executor.load(resolved, helpers, "allow" if torch else "stub")
    except ModuleLoadError as exc:
        raise UsageError(f"cannot import the module: {exc}") from None


def _computes_in_torch(adapter_class, inventory: dict, sources) -> bool:
    """Whether the module, under the edition of ``adapter_class`` its inventory points to,
    computes in torch (the adapter's ``torch``, as its edition sets it)."""
    from torch_ref.verify.detect import _Known

    return bool(adapter_class(_Known(inventory), sources).torch)
