"""What ``--module`` names, resolved once: a file, a folder, a notebook, a handout root
or a dotted name, to a :class:`Target` the executor loads as it is told.

The same resolver serves ``verify --module`` in-process and isolated and ``grade``;
the executor never chooses a file itself. Reading the tree (which files a folder
holds, where a package starts, how far relative imports climb) never imports it.

==============  ===========================================================================
kind            loaded as
==============  ===========================================================================
``module``      ``import dotted`` with ``root`` on ``sys.path`` (a ``.py`` file, in a
                package or not, or a dotted name with ``--path``)
``notebook``    the imports and top-level definitions of ``file``'s code cells
``script``      the imports, constants and definitions of a ``.py`` file whose other
                top-level code (a training loop) must never run; chosen by the API
                (:meth:`~torch_ref.verify.adapters.base.Adapter.reads_as_script`)
``handout``     every cell file under a CMU 11-785 handout root (``mytorch/...``)
==============  ===========================================================================
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

from torch_ref.verify.load import handout
from torch_ref.verify.load.loader import ModuleLoadError, dotted_name_of


@dataclass(frozen=True)
class Target:
    """A resolved module under test.

    kind:   ``module``, ``notebook``, ``script`` or ``handout``.
    root:   the directory the submission lives in: put on ``sys.path``, copied for an
            isolated run, and the user's code in reports.
    file:   the ``.py`` file or notebook (a handout: its root); None for a dotted name
            given with ``--path``.
    dotted: the module's dotted name (kind ``module``).
    given:  what the user wrote, for reports.
    """

    kind: str
    root: str
    file: str | None
    dotted: str = ""
    given: str = ""

    def relocated(self, root: str) -> Target:
        """The same target inside a copy of :attr:`root` at ``root``."""
        def moved(path):
            return None if path is None else os.path.join(root, os.path.relpath(path,
                                                                                self.root))
        return replace(self, root=root, file=moved(self.file))

    def as_dict(self) -> dict:
        return {"kind": self.kind, "root": self.root, "file": self.file,
                "dotted": self.dotted}

    @property
    def name(self) -> str:
        """A short name: the file's name, or the dotted name."""
        return os.path.basename(self.file) if self.file else self.dotted


def resolve(target: str, path: str | None = None, conventional_files=(),
            script=None) -> Target:
    """Resolve ``target`` (a ``.py`` file, a notebook, a folder, a handout root, or a
    dotted name with ``path`` the directory it is imported from).

    A folder is a handout root when it holds a handout's cell files, else it stands
    for the module :func:`module_in_folder` finds in it. ``script(file)``, when given,
    says whether a ``.py`` file is read as a script (its definitions only; its name need
    not be a module name). Raises
    :class:`ModuleLoadError` saying what is wrong.
    """
    given = target
    if path is not None:
        if (target.endswith((".py", ".ipynb")) or os.sep in target) and os.path.exists(target):
            raise ModuleLoadError("--path goes with a dotted module name, not with a file")
        if not os.path.isdir(path):
            raise ModuleLoadError(f"--path {path}: no such directory")
        return _dotted(target, os.path.abspath(path), given)
    if os.path.isdir(target):
        target = os.path.abspath(target)
        if handout.is_handout(target):
            return Target("handout", target, target, "mytorch_handout", given)
        target = module_in_folder(target, conventional_files)
    if os.path.isfile(target):
        target = os.path.abspath(target)
        if target.endswith(".ipynb"):
            return Target("notebook", os.path.dirname(target), target, "", given)
        if not target.endswith(".py"):
            raise ModuleLoadError(f"{given} is not a Python file: give the .py file of the "
                                  f"module (or its folder, or a dotted name with --path)")
        if script is not None and script(target):
            return Target("script", os.path.dirname(target), target, "", given)
        root, dotted = dotted_name_of(target)
        return Target("module", root, target, dotted, given)
    if target.endswith((".py", ".ipynb")) or os.sep in target:
        raise ModuleLoadError(f"{given}: no such file")
    return _dotted(target, os.path.abspath(os.getcwd()), given)


_SKIPPED = (".", "__")


def module_in_folder(folder: str, conventional_files=()) -> str:
    """The file to check in ``folder``: the first of ``conventional_files`` at its place,
    else one of them anywhere below (by its path's end, the names with more of their path
    first, then by its name; the shallowest first), else the folder's only module
    (``__init__.py`` aside) anywhere below, else its only notebook. Raises
    :class:`ModuleLoadError` saying what it holds."""
    for name in conventional_files:
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    modules, notebooks = [], []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(_SKIPPED)
                         and d not in ("venv", ".venv", "site-packages"))
        for name in sorted(files):
            path = os.path.join(here, name)
            if name.endswith(".py") and name != "__init__.py":
                modules.append(path)
            elif name.endswith(".ipynb"):
                notebooks.append(path)
    # a name with more of its path (lib/rnn/layer_utils.py) before a bare one that
    # another folder's file (lib/mlp/layer_utils.py) also ends with
    for name in sorted(conventional_files, key=lambda n: -n.count("/")):
        tail = os.sep + name.replace("/", os.sep)
        base = os.path.basename(name)
        found = [p for p in modules + notebooks if p.endswith(tail)] or [
            p for p in modules + notebooks if os.path.basename(p) == base]
        if found:
            return min(found, key=lambda p: (p.count(os.sep), len(p)))
    for found in (modules, notebooks):
        if len(found) == 1:
            return found[0]
        if found:
            break
    holds = (", ".join(os.path.relpath(p, folder) for p in (modules + notebooks)[:8])
             or "no module")
    raise ModuleLoadError(f"{folder} is a directory holding none of "
                          f"{', '.join(conventional_files) or 'the expected files'} "
                          f"(it holds {holds}); give the file to check")


def _dotted(name: str, root: str, given: str) -> Target:
    if not name or not all(part.isidentifier() for part in name.split(".")):
        raise ModuleLoadError(f"{name!r} is neither a file nor a dotted module name")
    return Target("module", root, None, name, given)
