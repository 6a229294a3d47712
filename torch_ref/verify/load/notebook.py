"""A Jupyter notebook as the module under test (``verify --module work.ipynb``).

Only what defines the student's code is run: from each code cell, in order, its
imports and its top-level ``def`` and ``class`` statements (with their decorators).
Test cells, training loops, prints, assignments, shell (``!``) and magic (``%``, ``%%``)
lines are never run (a cell that does not parse and defines nothing, IPython's ``np.dot?``,
is skipped). Each cell is compiled under the file name ``work.ipynb [cell 3]``
with its own line numbers, so an error anywhere, at load or while checking, points at
the cell and the line in it. An import of a module that cannot be found (the course's
``public_tests``) is skipped; what then goes undefined fails where it is used.
"""
from __future__ import annotations

import ast
import importlib
import linecache
import os
import sys
import types

from torch_ref.verify.load.loader import (
    USER_ROOTS,
    FunctionTimeout,
    LoadedModule,
    ModuleLoadError,
    _describe_syntax_error,
    describe_exception,
)

_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def is_notebook(target: str) -> bool:
    return target.endswith(".ipynb")


def cell_label(path: str, index: int) -> str:
    """The file name a cell's code is compiled under: ``path [cell N]`` (N from 1)."""
    return f"{path} [cell {index}]"


def _read(path: str):
    try:
        import nbformat
    except ImportError:
        raise ModuleLoadError("reading a notebook needs nbformat: pip install nbformat"
                              ) from None
    try:
        return nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise ModuleLoadError(f"{path}: no such file") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a bad file
        raise ModuleLoadError(f"{path} is not a readable notebook: {exc}") from None


def _without_shell_lines(source: str) -> str:
    """Shell and magic lines blanked (line numbers kept); a ``%%`` cell entirely."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return ""
    return "\n".join("" if line.lstrip().startswith(("!", "%")) else line for line in lines)


def _defines(source: str) -> bool:
    """Whether a cell has a ``def`` or ``class`` statement (or an import) at its top level."""
    return any(line.startswith(("def ", "class ", "async def ", "@", "import ", "from "))
               for line in source.splitlines())


def definitions(path: str):
    """``[(cell number, label, code object), ...]``: the kept statements of each cell.

    Raises :class:`ModuleLoadError` for a cell that does not parse (cell and line).
    """
    notebook = _read(path)
    kept = []
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        source = _without_shell_lines(cell.source)
        label = cell_label(path, index)
        linecache.cache[label] = (len(source), None, source.splitlines(True), label)
        try:
            tree = ast.parse(source, filename=label)
        except SyntaxError as exc:
            if not _defines(source):  # IPython-only syntax (``np.dot?``) in a test cell
                continue
            raise ModuleLoadError(_describe_syntax_error(exc)) from None
        for node in tree.body:
            if isinstance(node, _KEPT):
                code = compile(ast.Module([node], type_ignores=[]), label, "exec")
                kept.append((index, label, node, code))
    return kept


def load_notebook(path: str, guard) -> LoadedModule:
    """Run the kept statements of the notebook at ``path`` in a new module.

    The notebook's directory goes on ``sys.path`` (helpers next to it are found) and
    counts as the user's code in reports. Raises :class:`ModuleLoadError`.
    """
    path = os.path.abspath(path)
    kept = definitions(path)
    root = os.path.dirname(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    name = "".join(c if c.isalnum() else "_" for c in stem) + "_ipynb"
    if not name[0].isalpha():
        name = "nb_" + name
    module = types.ModuleType(name)
    module.__file__ = path
    before = set(sys.modules)
    sys.path.insert(0, root)
    USER_ROOTS.insert(0, root)
    sys.modules[name] = module
    importlib.invalidate_caches()
    skipped = []
    try:
        for index, _, node, code in kept:
            try:
                guard.run(f"cell {index} of {os.path.basename(path)}", exec, code,
                          module.__dict__)
            except ModuleNotFoundError as exc:
                if not isinstance(node, (ast.Import, ast.ImportFrom)):
                    raise
                skipped.append(f"{exc.name} (cell {index})")
    except FunctionTimeout:
        _forget(name, root, before)
        raise ModuleLoadError(f"{path}: a cell's definitions did not finish within "
                              f"{guard.timeout:g} s") from None
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        _forget(name, root, before)
        raise ModuleLoadError(f"running the definitions of {path} failed: "
                              f"{describe_exception(exc)}") from None
    module.__verify_skipped_imports__ = tuple(skipped)
    imported = tuple(sorted(set(sys.modules) - before))
    return LoadedModule(module, name, root, path, imported)


def _forget(name: str, root: str, before: set) -> None:
    for key in set(sys.modules) - before:
        where = getattr(sys.modules.get(key), "__file__", None) or ""
        if key == name or where.startswith(root + os.sep):
            sys.modules.pop(key, None)
    if root in sys.path:
        sys.path.remove(root)
    if root in USER_ROOTS:
        USER_ROOTS.remove(root)
