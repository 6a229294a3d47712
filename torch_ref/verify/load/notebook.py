"""A Jupyter notebook as the module under test (``verify --module work.ipynb``).

Only what defines the student's code is run: from each code cell, in order, its
imports, its top-level ``def`` and ``class`` statements (with their decorators) and its
inert assignments (a name set to a literal, a container of literals or a module's
attribute such as ``torch.double``: the setup cell's ``to_double = {'dtype':
torch.double, 'device': 'cpu'}``; one that cannot run is skipped). Test cells, training
loops, prints, other assignments, shell (``!``) and magic (``%``, ``%%``) lines are
never run. A name a ``def`` needs when it is defined (a default argument such as
``ignore_index=NULL_index``) that only a statement never run assigns (one computed from
the course's data) is bound to a placeholder saying so. A cell that does not parse and
defines nothing (IPython's ``np.dot?``) is skipped. Each cell is compiled under the file
name ``work.ipynb [cell 3]`` with its own line numbers, so an error anywhere, at load or
while checking, points at the cell and the line in it. An import of a module that
cannot be found (the course's ``public_tests``) is skipped; what then goes undefined
fails where it is used.
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


def _inert(node) -> bool:
    """A value computed without calling anything: a literal, a container of them, a
    dotted name (``torch.double``), a negated number."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_inert(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _inert(k) for k in node.keys) and all(
            _inert(v) for v in node.values)
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name) or (
            isinstance(node.value, ast.Attribute) and _inert(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant)
    return False


def _inert_assignment(node) -> bool:
    """``name = <inert value>`` (one plain name, nothing else)."""
    return (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and _inert(node.value))


def _assigned_names(node) -> set:
    """The top-level names a statement that is never run would have assigned."""
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    names = set()
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.add(sub.id)
    return names


class NotRun:
    """Stands for a name a notebook computes in a statement the loader never runs
    (``NULL_index = data_dict['vocab']['token_to_idx']['<NULL>']``), where a ``def`` needs
    it to be defined at all (a default argument)."""

    def __init__(self, name: str, cell: int):
        self.name, self.cell = name, cell

    def __repr__(self) -> str:
        return (f"<{self.name}: computed in cell {self.cell} of the notebook from its data, "
                f"which is not run>")


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


def definitions(path: str, not_run: dict | None = None):
    """``[(cell number, label, node, code object), ...]``: the kept statements of each
    cell; ``not_run`` (when given) gets ``{name: cell}`` of what the statements left out
    assign.

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
            if isinstance(node, _KEPT) or _inert_assignment(node):
                code = compile(ast.Module([node], type_ignores=[]), label, "exec")
                kept.append((index, label, node, code))
            elif not_run is not None:
                for name in _assigned_names(node):
                    not_run.setdefault(name, index)
    return kept


def load_notebook(path: str, guard) -> LoadedModule:
    """Run the kept statements of the notebook at ``path`` in a new module.

    The notebook's directory goes on ``sys.path`` (helpers next to it are found) and
    counts as the user's code in reports. Raises :class:`ModuleLoadError`.
    """
    path = os.path.abspath(path)
    not_run: dict = {}
    kept = definitions(path, not_run)
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
            _run_cell_statement(guard, path, index, node, code, module, not_run, skipped)
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


def _run_cell_statement(guard, path, index, node, code, module, not_run, skipped) -> None:
    """Run one kept statement of cell ``index`` in ``module`` (see the module docstring)."""
    what = f"cell {index} of {os.path.basename(path)}"
    for _ in range(8):  # each try binds one more name a statement never run assigns
        try:
            guard.run(what, exec, code, module.__dict__)
            return
        except ModuleNotFoundError as exc:
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                raise
            skipped.append(f"{exc.name} (cell {index})")
            return
        except NameError as exc:
            name = getattr(exc, "name", None)
            if _inert_assignment(node):
                return  # a setup value that needs what is not there: left out
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                    or name not in not_run or name in module.__dict__:
                raise
            module.__dict__[name] = NotRun(name, not_run[name])
        except Exception:
            if _inert_assignment(node):
                return
            raise
    guard.run(what, exec, code, module.__dict__)


def _forget(name: str, root: str, before: set) -> None:
    for key in set(sys.modules) - before:
        where = getattr(sys.modules.get(key), "__file__", None) or ""
        if key == name or where.startswith(root + os.sep):
            sys.modules.pop(key, None)
    if root in sys.path:
        sys.path.remove(root)
    if root in USER_ROOTS:
        USER_ROOTS.remove(root)
