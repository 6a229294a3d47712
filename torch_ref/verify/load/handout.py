"""A CMU 11-785 handout root as the module under test (``verify --module HW3P1/``).

The handout keeps each cell in its own file under ``mytorch/`` (``rnn_cell.py``,
``gru_cell.py``; ``mytorch/rnn/`` in some years, ``mytorch/nn/`` in students' libraries)
and the classifier in ``models/rnn_classifier.py`` (``hw3/`` in 2020-2022, the root in
some copies); its runner puts both the root and ``root/mytorch`` on the path, so the
files import their activations as ``mytorch.nn.activation``, ``nn.activation`` or
``activation``. :func:`load_handout` does the same and gathers the classes of every cell
file and of the classifier into one module. Where ``mytorch/`` is a package (it has an
``__init__.py``) its cell files are imported as its members (``mytorch.rnn_cell``), so
that relative imports (``from .nn.activation import *``) work.
"""
from __future__ import annotations

import importlib
import os
import re
import sys
import types

from torch_ref.verify.load.loader import (
    USER_ROOTS,
    FunctionTimeout,
    LoadedModule,
    ModuleLoadError,
    _purge,
    describe_exception,
    unload,
)

CELL_FILES = ("rnn_cell", "gru_cell")
_INNER = ("mytorch", os.path.join("mytorch", "rnn"), os.path.join("mytorch", "nn"))
# where the classifier lives, newest handouts first
CLASSIFIER_FILES = (os.path.join("models", "rnn_classifier.py"),
                    os.path.join("hw3", "rnn_classifier.py"), "rnn_classifier.py")


def cell_files(root: str) -> list:
    """``[(directory, module name)]`` of the cell files under a handout root: each cell
    from the first of ``mytorch/``, ``mytorch/rnn/``, ``mytorch/nn/`` that has it."""
    found, seen = [], set()
    for inner in _INNER:
        for name in CELL_FILES:
            if name not in seen and os.path.isfile(os.path.join(root, inner, name + ".py")):
                found.append((os.path.join(root, inner), name))
                seen.add(name)
    return found


def classifier_file(root: str):
    """The classifier's file under a handout root (None: none)."""
    for name in CLASSIFIER_FILES:
        if os.path.isfile(os.path.join(root, name)):
            return os.path.join(root, name)
    return None


_RELATIVE = re.compile(r"^\s*from\s+\.", re.M)


def _dotted(root: str, directory: str, name: str) -> str:
    """``name`` as the runner imports it (a top-level module), unless the file imports
    relatively (``from .nn.activation import *``): then as a member of the packages
    between ``root`` and ``directory`` (every folder on the way has an ``__init__.py``)."""
    try:
        with open(os.path.join(directory, name + ".py"), encoding="utf-8",
                  errors="replace") as fh:
            relative = _RELATIVE.search(fh.read()) is not None
    except OSError:
        relative = False
    if not relative:
        return name
    parts = os.path.relpath(directory, root).split(os.sep)
    for k in range(len(parts)):
        if all(os.path.isfile(os.path.join(root, *parts[:j + 1], "__init__.py"))
               for j in range(k, len(parts))):
            return ".".join(parts[k:] + [name])
    return name


def is_handout(target: str) -> bool:
    return os.path.isdir(target) and bool(cell_files(target))


def load_handout(root: str, guard) -> LoadedModule:
    """Import every cell file of the handout at ``root``; one module holding their classes.

    Raises :class:`ModuleLoadError` naming the file that does not import.
    """
    root = os.path.abspath(root)
    files = [(directory, _dotted(root, directory, name)) for directory, name in
             cell_files(root)]
    classifier = classifier_file(root)
    if classifier is not None:
        files.append((os.path.dirname(classifier), "rnn_classifier"))
    # the runner's path: the root and root/mytorch (``from activation import *``,
    # ``from nn.activation import *``), and each file's own folder
    paths = tuple(dict.fromkeys([os.path.join(root, "mytorch"),
                                 *(directory for directory, _ in files)]))
    before = set(sys.modules)
    for directory in (*paths, root):
        sys.path.insert(0, directory)
    USER_ROOTS.insert(0, root)
    module = types.ModuleType("mytorch_handout")
    module.__file__ = os.path.join(root, "mytorch")
    loaded = LoadedModule(module, module.__name__, root, None, (), paths)
    try:
        for _, name in files:
            _purge(name)
            cell_module = guard.run("import " + name, importlib.import_module, name)
            for attr, value in vars(cell_module).items():
                if isinstance(value, type) and value.__module__ == name:
                    setattr(module, attr, value)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        unload(LoadedModule(module, module.__name__, root, None,
                            tuple(set(sys.modules) - before), paths))
        if isinstance(exc, FunctionTimeout):
            raise ModuleLoadError(f"importing the handout at {root} did not finish") from None
        raise ModuleLoadError(f"importing the handout at {root} failed: "
                              f"{describe_exception(exc)}") from None
    module.__verify_sources__ = tuple(name for _, name in files)
    loaded.imported = tuple(sorted(set(sys.modules) - before))
    return loaded
