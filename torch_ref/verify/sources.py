"""The submission's source, read by the grader: what its code says, never what it does.

The grader parses (never runs) the files of the submission it was given to tell a
template stub from a bug: the function at a ``file:line`` the executor named is
found with :mod:`ast` in the grader's own copy of the file. Only files under the
submission's root are read, whatever the executor names; notebook cells are named
``work.ipynb [cell N]`` as the loader compiles them.
"""
from __future__ import annotations

import ast
import os
import re
import textwrap

_CELL = re.compile(r"^(?P<path>.*\.ipynb) \[cell (?P<index>\d+)\]$")
_MAX_BYTES = 4 << 20


class Sources:
    """The source files of one submission rooted at ``root``."""

    def __init__(self, root: str | None):
        self.root = os.path.realpath(root) if root else None
        self._texts: dict = {}

    def _inside(self, path: str) -> bool:
        if self.root is None:
            return False
        real = os.path.realpath(path)
        return real == self.root or real.startswith(self.root + os.sep)

    def text(self, filename: str) -> str | None:
        """The source text of ``filename`` (a file, or a notebook cell label) when it lies
        under the root; None otherwise."""
        if filename in self._texts:
            return self._texts[filename]
        text = None
        cell = _CELL.match(filename)
        try:
            if cell and self._inside(cell["path"]):
                text = _notebook_cell(cell["path"], int(cell["index"]))
            elif not cell and self._inside(filename) and os.path.isfile(filename) \
                    and os.path.getsize(filename) <= _MAX_BYTES:
                with open(filename, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
        except (OSError, ValueError):
            text = None
        self._texts[filename] = text
        return text

    def function(self, filename: str, line: int):
        """The ``def`` starting at ``line`` of ``filename`` (its decorators aside): an
        ``ast.FunctionDef`` and the function's source, or None."""
        text = self.text(filename)
        if text is None:
            return None
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            # Python 2 files and the like: parse the function on its own
            return self._alone(text, line)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    node.lineno == line or any(d.lineno == line for d in node.decorator_list)):
                return node, ast.get_source_segment(text, node) or ""
        return None

    def _alone(self, text: str, line: int):
        lines = text.splitlines(True)[line - 1:]
        if not lines:
            return None
        indent = len(lines[0]) - len(lines[0].lstrip())
        body = [lines[0]]
        for current in lines[1:]:
            stripped = current.strip()
            if stripped and len(current) - len(current.lstrip()) <= indent:
                break
            body.append(current)
        source = textwrap.dedent("".join(body))
        try:
            node = ast.parse(source).body[0]
        except (SyntaxError, ValueError, IndexError):
            return None
        return (node, source) if isinstance(node, (ast.FunctionDef,
                                                    ast.AsyncFunctionDef)) else None

    def at(self, where: str):
        """:meth:`function` of a ``file:line`` string."""
        path, _, line = where.rpartition(":")
        return self.function(path, int(line)) if line.isdigit() else None

    def is_stub(self, filename: str, line: int) -> bool:
        """Whether the function at ``filename:line`` only sets names to None, passes,
        returns (None) or raises NotImplementedError: a template stub as handed out."""
        found = self.function(filename, line)
        return found is not None and is_stub_body(found[0])


def is_stub_body(node) -> bool:
    """Whether a function's body does nothing: ``pass``, ``...``, a docstring, names set
    to None, ``return`` / ``return None`` or ``raise NotImplementedError``."""
    def none(value) -> bool:
        if isinstance(value, ast.Tuple):
            return all(none(e) for e in value.elts)
        return isinstance(value, ast.Constant) and value.value is None

    def empty(stmt) -> bool:
        if isinstance(stmt, ast.Pass):
            return True
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return True  # a docstring, or ...
        if isinstance(stmt, ast.Return):  # nothing, or names it never set
            value = stmt.value
            items = value.elts if isinstance(value, ast.Tuple) else [value]
            return value is None or all(isinstance(v, ast.Name) or none(v) for v in items)
        if isinstance(stmt, ast.Assign):
            return none(stmt.value)
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            target = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            return isinstance(target, ast.Name) and target.id == "NotImplementedError"
        return False

    return all(empty(stmt) for stmt in node.body)


def _notebook_cell(path: str, index: int) -> str | None:
    """Cell ``index`` (from 1, every cell counted) as the loader compiles it."""
    from torch_ref.verify.load import notebook
    from torch_ref.verify.load.loader import ModuleLoadError

    if os.path.getsize(path) > 64 << 20:
        return None
    try:
        cells = notebook._read(path).cells
    except ModuleLoadError:
        return None
    if not 1 <= index <= len(cells):
        return None
    return notebook._without_shell_lines(cells[index - 1].source)
