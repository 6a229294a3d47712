"""A training script as the module under test: its definitions, never its training.

Scripts such as Karpathy's ``min-char-rnn.py`` and its forks read ``input.txt`` and run an
endless training loop at module level, so importing one never returns. The grader reads
such a file as a notebook is read (:mod:`torch_ref.verify.load.notebook`): from its top
level only what defines code runs, in order:

- ``import`` and ``from ... import`` (a module that cannot be imported is skipped and
  recorded; what it would have defined fails where it is used);
- ``def`` and ``class`` statements (with their decorators); annotations are never
  evaluated;
- assignments of literals to names (``hidden_size = 100``, ``n, p = 0, 0``), the
  constants a function may read;
- a ``try`` made only of imports.

Everything else (reading data, ``sys.argv``, the training loop, ``if __name__ ==
"__main__":``) never runs. Two things are made harmless, and said so: a debugger call
(``pdb.set_trace()``, ``breakpoint()``) inside a function is dropped (with stdin closed
it would stop the call with ``BdbQuit``), and Python 2 *statements*, which only a
Python 2 interpreter parses, are rewritten line for line: a ``print`` statement becomes
``pass``, ``except E, e:`` becomes ``except E as e:``, a backquote ``repr()``; where the
source names ``xrange``, ``xrange = range`` is given. Line numbers never move, so errors
point at the file's own lines. :func:`read` says what it did (:class:`Reading`), for the
grader's report as much as for the loader.
"""
from __future__ import annotations
import __future__

import ast
import importlib
import os
import re
import sys
import types
from dataclasses import dataclass, field

from torch_ref.verify.load.loader import (
    USER_ROOTS,
    FunctionTimeout,
    LoadedModule,
    ModuleLoadError,
    _describe_syntax_error,
    describe_exception,
)
from torch_ref.verify.load.notebook import _forget

_DEFINES = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_MAX_BYTES = 4 << 20
# a print statement, alone or after a one-line if/for/while/else
_PRINT = re.compile(r"^(?P<head>\s*(?:(?:if|elif|else|for|while|try|except)\b[^#]*:\s*)?)"
                    r"print(?=\s*$|\s+[^\s(=.]|\s*>>|\s*\(.*\)\s*[,%])")
_EXCEPT = re.compile(r"^(\s*except\s+[\w.()\s,]+?)\s*,\s*(\w+)\s*:")
_BACKQUOTE = re.compile(r"`([^`\n]+)`")
_STRINGS = re.compile(r"'''.*?'''|\"\"\".*?\"\"\"|'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"")
_DEBUGGERS = {("pdb", "set_trace"), ("ipdb", "set_trace"), ("pdb", "post_mortem"),
              ("", "breakpoint"), ("", "set_trace")}


@dataclass
class Reading:
    """What :func:`read` made of a script.

    source:     the text that is parsed (the file's, or its Python 2 statements rewritten).
    python2:    ``[(what, line)]``: the Python 2 statements rewritten (``print statement``,
                ``'except E, e:' clause``, ``backquote repr``).
    xrange:     whether the source names ``xrange`` (then ``xrange = range`` is given).
    debuggers:  lines of the debugger calls dropped.
    kept:       the top-level statements that run.
    skipped:    ``[(what, line)]``: the top-level statements that never run.
    """

    source: str
    python2: list = field(default_factory=list)
    xrange: bool = False
    debuggers: list = field(default_factory=list)
    kept: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def notes(self, file: str = "") -> list:
        """The report's lines on how the script was read."""
        where = os.path.basename(file) if file else "the script"
        out = [f"{where} read as a script: its imports, constants and definitions ran, "
               f"never its other top-level code ({_listing(self.skipped)})"
               if self.skipped else f"{where} read as a script: its imports, constants and "
                                    f"definitions ran"]
        if self.python2 or self.xrange:
            kinds = {}
            for what, line in self.python2:
                kinds.setdefault(what, []).append(line)
            done = [f"{len(lines)} {what}{'s' if len(lines) > 1 else ''} (line "
                    f"{_lines(lines)}) made 'pass'" if what == "print statement" else
                    f"{what} (line {_lines(lines)}) rewritten for Python 3"
                    for what, lines in kinds.items()]
            if self.xrange:
                done.append("xrange given as range")
            out.append("Python 2 code, read as Python 3: " + "; ".join(done))
        if self.debuggers:
            out.append(f"debugger call{'s' if len(self.debuggers) > 1 else ''} at line "
                       f"{_lines(self.debuggers)} ignored (it would stop with BdbQuit: "
                       f"nobody is at the keyboard)")
        return out


def _lines(lines) -> str:
    shown = ", ".join(str(n) for n in lines[:6])
    return shown + (f" and {len(lines) - 6} more" if len(lines) > 6 else "")


def _listing(skipped) -> str:
    words = {}
    for what, line in skipped:
        words.setdefault(what, line)
    shown = [f"{what} at line {line}" for what, line in list(words.items())[:4]]
    return ", ".join(shown) + (" ..." if len(words) > 4 else "")


# ---- Python 2 statements -------------------------------------------------------------------

def _depth(line: str) -> int:
    """Brackets a line leaves open (its strings and comment ignored)."""
    code = _STRINGS.sub("''", line).split("#")[0]
    return sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")


def python3_source(text: str):
    """``(source, [(what, line)])``: ``text`` itself when it parses, else with its Python 2
    statements rewritten line for line (the line count kept). The rewrite may still not
    parse: the caller then reports the file's own syntax error."""
    try:
        ast.parse(text)
        return text, []
    except (SyntaxError, ValueError):
        pass
    fixes, out = [], []
    lines = text.splitlines()
    depth, joined = 0, False  # a print statement made 'pass' still goes on (brackets, \\)
    for number, line in enumerate(lines, start=1):
        if depth > 0 or joined:
            out.append("")
            depth = max(depth + _depth(line), 0)
            joined = line.split("#")[0].rstrip().endswith("\\")
            continue
        match = _PRINT.match(line)
        if match and not re.match(r"^\s*print\(.*\)\s*(#.*)?$", line):
            out.append(f"{match['head']}pass")
            fixes.append(("print statement", number))
            depth = max(_depth(line), 0)
            joined = line.split("#")[0].rstrip().endswith("\\")
            continue
        if _EXCEPT.match(line):
            line = _EXCEPT.sub(r"\1 as \2:", line)
            fixes.append(("'except E, e:' clause", number))
        if "`" in line and not line.lstrip().startswith("#"):
            line = _BACKQUOTE.sub(r"repr(\1)", line)
            fixes.append(("backquote repr", number))
        out.append(line)
    return "\n".join(out) + "\n", fixes


# ---- what runs -----------------------------------------------------------------------------

def _literal(node) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _names_only(target) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(_names_only(e)
                                                             for e in target.elts)


def _kept(node) -> bool:
    if isinstance(node, _DEFINES):
        return True
    if isinstance(node, ast.Assign):
        return all(_names_only(t) for t in node.targets) and _literal(node.value)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.value is not None and _literal(
            node.value)
    if isinstance(node, ast.Try):
        body = node.body + node.orelse + node.finalbody + [
            s for h in node.handlers for s in h.body]
        return all(isinstance(s, (ast.Import, ast.ImportFrom, ast.Pass)) for s in body)
    return False


def _what(node) -> str:
    """A top-level statement that never runs, in words."""
    if isinstance(node, (ast.While, ast.For)):
        return "the training loop" if isinstance(node, ast.While) else "a for loop"
    if isinstance(node, ast.If):
        test = node.test
        if isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) \
                and test.left.id == "__name__":
            return "if __name__ == '__main__'"
        return "an if statement"
    if isinstance(node, ast.With):
        return "a with block"
    if isinstance(node, ast.Try):
        return "a try block"
    if isinstance(node, ast.Expr):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return "the docstring"
        return "a call"
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return "an assignment"
    return "a statement"


class _NoDebugger(ast.NodeTransformer):
    """``pdb.set_trace()``, ``breakpoint()`` ... as statements -> ``pass``."""

    def __init__(self):
        self.lines = []

    def visit_Expr(self, node):
        call = node.value
        if isinstance(call, ast.Call):
            fn = call.func
            key = ((fn.value.id, fn.attr) if isinstance(fn, ast.Attribute)
                   and isinstance(fn.value, ast.Name) else
                   ("", fn.id) if isinstance(fn, ast.Name) else None)
            if key in _DEBUGGERS:
                self.lines.append(node.lineno)
                return ast.copy_location(ast.Pass(), node)
        return node


def _has_name(tree, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


def read(text: str, filename: str = "<script>"):
    """``(Reading, [(node, code object)])`` of a script's text: what runs, compiled under
    ``filename``. Raises ``SyntaxError`` (of the file's own text) when it does not parse."""
    source, fixes = python3_source(text)
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError:
        ast.parse(text, filename=filename)  # the file's own error, at its own line
        raise
    reading = Reading(source, fixes, xrange=_has_name(tree, "xrange"))
    flags = __future__.annotations.compiler_flag
    compiled = []
    for node in tree.body:
        if not _kept(node):
            if not isinstance(node, ast.Pass) and not (  # a print made 'pass', a docstring
                    isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                reading.skipped.append((_what(node), node.lineno))
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            guard = _NoDebugger()
            node = ast.fix_missing_locations(guard.visit(node))
            reading.debuggers += guard.lines
        reading.kept.append(node)
        module = ast.Module([node], type_ignores=[])
        compiled.append((node, compile(module, filename, "exec", flags=flags,
                                       dont_inherit=True)))
    return reading, compiled


def read_file(path: str):
    """:func:`read` of the file at ``path``. Raises :class:`ModuleLoadError`."""
    try:
        if os.path.getsize(path) > _MAX_BYTES:
            raise ModuleLoadError(f"{path}: larger than {_MAX_BYTES >> 20} MiB")
        with open(path, "rb") as fh:
            text = importlib.util.decode_source(fh.read())
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:
        raise ModuleLoadError(f"{path}: cannot be read ({exc})") from None
    try:
        return read(text, path)
    except SyntaxError as exc:
        raise ModuleLoadError(_describe_syntax_error(exc)) from None


def _module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in stem)
    return (name if name[:1].isalpha() else "script_" + name) + "_script"


def load_script(path: str, guard) -> LoadedModule:
    """Run what :func:`read` keeps of the script at ``path`` in a new module.

    The script's folder goes on ``sys.path`` (modules next to it are found) and counts
    as the user's code in reports. Imports that fail, and definitions that raise (a
    default value read from the data), are recorded in the module's
    ``__verify_skipped_imports__``. Raises :class:`ModuleLoadError`.
    """
    path = os.path.abspath(path)
    reading, compiled = read_file(path)
    root = os.path.dirname(path)
    name = _module_name(path)
    module = types.ModuleType(name)
    module.__file__ = path
    if reading.xrange:
        module.xrange = range
    before = set(sys.modules)
    sys.path.insert(0, root)
    USER_ROOTS.insert(0, root)
    sys.modules[name] = module
    importlib.invalidate_caches()
    skipped = []
    try:
        for node, code in compiled:
            try:
                guard.run(f"line {node.lineno} of {os.path.basename(path)}", exec, code,
                          module.__dict__)
            except (FunctionTimeout, KeyboardInterrupt):
                raise
            except ImportError as exc:
                if not isinstance(node, (ast.Import, ast.ImportFrom, ast.Try)):
                    skipped.append(_failed(node, exc))
                    continue
                skipped.append(f"{ast.unparse(node).splitlines()[0][:120]} (line "
                               f"{node.lineno}): {type(exc).__name__}: {exc}")
            except Exception as exc:  # noqa: BLE001 - a definition that needs the data
                skipped.append(_failed(node, exc))
    except FunctionTimeout:
        _forget(name, root, before)
        raise ModuleLoadError(f"{path}: its definitions did not finish within "
                              f"{guard.timeout:g} s") from None
    module.__verify_skipped_imports__ = tuple(skipped)
    imported = tuple(sorted(set(sys.modules) - before))
    return LoadedModule(module, name, root, path, imported)


def _failed(node, exc) -> str:
    what = getattr(node, "name", None) or ast.unparse(node).splitlines()[0][:80]
    return f"{what} (line {node.lineno}) not defined: {describe_exception(exc)}"
