"""A CMU 11-785 handout root as the module under test (``verify --module HW3P1/``).

The handout keeps each cell in its own file under ``mytorch/`` (``rnn_cell.py``,
``gru_cell.py``; ``mytorch/rnn/`` in some years) and its runner puts both the root and
``root/mytorch`` on the path, so the files import their activations either as
``mytorch.nn.activation`` or as ``nn.activation``. :func:`load_handout` does the same and
gathers the classes of every cell file found into one module.
"""
from __future__ import annotations

import importlib
import os
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
_INNER = ("mytorch", os.path.join("mytorch", "rnn"))


def cell_files(root: str) -> list:
    """``[(directory, module name)]`` of the cell files under a handout root."""
    found = []
    for inner in _INNER:
        for name in CELL_FILES:
            if os.path.isfile(os.path.join(root, inner, name + ".py")):
                found.append((os.path.join(root, inner), name))
    return found


def is_handout(target: str) -> bool:
    return os.path.isdir(target) and bool(cell_files(target))


def load_handout(root: str, guard) -> LoadedModule:
    """Import every cell file of the handout at ``root``; one module holding their classes.

    Raises :class:`ModuleLoadError` naming the file that does not import.
    """
    root = os.path.abspath(root)
    files = cell_files(root)
    paths = tuple(dict.fromkeys(directory for directory, _ in files))
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
