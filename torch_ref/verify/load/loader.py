"""Import a module under test, and call into it with a time limit.

``load_module(target, path=None)`` accepts what real submissions look like:

- a file that is not in a package (``rnn_layers.py``): its directory goes on
  ``sys.path`` and it is imported by its stem;
- a file inside a package that uses relative imports
  (``DL/layer/recurrent_layers.py`` starting ``from .layers_with_weights import
  ...``): the package root is found by walking up the directories holding an
  ``__init__.py``, put on ``sys.path``, and the module imported by its dotted
  name (``DL.layer.recurrent_layers``);
- a file with relative imports in a folder without ``__init__.py`` (a namespace
  package): the folders its deepest relative import climbs are taken as packages;
- a file that imports its own folder by name (``common/time_layers.py`` doing ``from
  common.functions import ...``, written to run with the folder above on the path):
  imported as that package's member (``common.time_layers``), ``__init__.py`` or not;
- a dotted name (``DL.layer.recurrent_layers``), with ``path`` naming the
  directory it is importable from (the current directory when ``path`` is None).

Python 2 source is named as such (``Python 2 code: print statement at file:line``),
at import time and when a Python 2 name (``xrange`` ...) is reached in a call.

Anything that stops the import (a ``SyntaxError``, an ``ImportError``, an
exception raised at import time, a hang) raises :class:`ModuleLoadError`, whose
message shows the cause and the user's ``file:line``, never a traceback.
:func:`unload` removes what :func:`load_module` imported, so that several
modules with the same package name can be checked in one process.

:class:`CallGuard` runs one call into user code: a per-call time limit
(``SIGALRM``, main thread only), the user's printing captured, and any exception
tagged with the user function it came from.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import signal
import sys
import threading
import traceback
from dataclasses import dataclass, field

import numpy as np

# torch_ref/
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# file:line of the culprit is looked for outside these directories
_LIBRARY_DIRS = tuple(os.path.dirname(os.path.abspath(m.__file__)) for m in
                      (contextlib, importlib, np) if getattr(m, "__file__", None))

# roots of the modules loaded so far; their frames are the user's frames
USER_ROOTS: list = []
# top-level names of the modules this loader imported (the only ones it may replace)
_LOADED_TOPS: set = set()


class ModuleLoadError(Exception):
    """The module under test cannot be imported; the message says why and where."""


class FunctionTimeout(BaseException):
    """A call into user code ran past its time limit.

    A ``BaseException`` so that ``except Exception`` in the user's code cannot
    swallow it.
    """


@dataclass
class LoadedModule:
    """A module imported by :func:`load_module`.

    module: the module object.  name: its dotted name.  root: the directory put on
    ``sys.path``.  file: its source file (None for a namespace package).  paths: other
    directories put on ``sys.path`` for it (taken off again by :func:`unload`).
    """

    module: object
    name: str
    root: str
    file: str | None
    imported: tuple = field(default=(), repr=False)
    paths: tuple = ()


def _in_package(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "__init__.py"))


def _relative_import_depth(file: str) -> int:
    """How many package levels the file's relative imports climb (0: none, or unparsable)."""
    import ast

    try:
        with open(file, "rb") as fh:
            tree = ast.parse(fh.read(), filename=file)
    except (SyntaxError, ValueError, OSError):
        return 0
    return max((node.level for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.level), default=0)


def _imports_own_folder(file: str, folder: str) -> bool:
    """Whether the file imports its own folder by name (``from common.functions import
    ...`` in ``common/time_layers.py``): written to run with the folder above on the path
    (the folder a namespace package when it has no ``__init__.py``)."""
    import ast

    if not folder.isidentifier():
        return False
    try:
        with open(file, "rb") as fh:
            tree = ast.parse(fh.read(), filename=file)
    except (SyntaxError, ValueError, OSError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        if any(name.split(".")[0] == folder for name in names):
            return True
    return False


def dotted_name_of(file: str):
    """``(root, dotted_name)`` of a ``.py`` file: walk up the ``__init__.py`` directories.

    ``/a/DL/layer/recurrent_layers.py`` with ``__init__.py`` in ``DL`` and
    ``DL/layer`` -> ``("/a", "DL.layer.recurrent_layers")``. Without ``__init__.py``
    files, a file whose relative imports climb ``k`` levels is taken as a module of
    the namespace package of its ``k`` enclosing folders, and one that imports its own
    folder by name (``common/time_layers.py`` doing ``from common.functions import
    ...``) a module of that folder's namespace package.
    """
    file = os.path.abspath(file)
    directory, base = os.path.split(file)
    stem = os.path.splitext(base)[0]
    parts = [] if stem == "__init__" else [stem]
    depth = None
    while _in_package(directory):
        above, package = os.path.split(directory)
        if not package.isidentifier():
            # a repository folder that happens to hold an __init__.py: it can be the
            # package only if the file's relative imports need it
            depth = _relative_import_depth(file) if depth is None else depth
            if depth < len(parts) + (stem == "__init__"):
                break
        directory = above
        parts.insert(0, package)
    if len(parts) == 1:
        for _ in range(_relative_import_depth(file)):
            directory, package = os.path.split(directory)
            if not package:
                break
            parts.insert(0, package)
    if len(parts) == 1 and _imports_own_folder(file, os.path.basename(directory)):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    if not parts:
        raise ModuleLoadError(f"{file}: an __init__.py outside any package cannot be checked")
    for part in parts:
        if not part.isidentifier():
            raise ModuleLoadError(
                f"{file}: {part!r} is not a valid Python module name (rename it, e.g. "
                f"{part.replace('-', '_').replace(' ', '_')!r})")
    return directory, ".".join(parts)


def _where(exc: BaseException, roots) -> str:
    """``file:line`` of the innermost traceback frame in the user's code."""
    return _user_frame(traceback.extract_tb(exc.__traceback__), roots)


def user_location_of_stack(frames) -> str:
    """``file:line`` of the innermost of ``frames`` (``traceback.extract_stack()``) in the
    user's code (``?`` when unknown)."""
    return _user_frame(frames, USER_ROOTS)


def _user_frame(frames, roots) -> str:
    roots = tuple(os.path.abspath(r) + os.sep for r in roots)
    mine = [f for f in frames if os.path.abspath(f.filename).startswith(roots)]
    if not mine:
        mine = [f for f in frames
                if not os.path.abspath(f.filename).startswith((_PACKAGE_DIR,) + _LIBRARY_DIRS)
                and not f.filename.startswith("<frozen")]
    frame = (mine or frames or [None])[-1]
    return f"{frame.filename}:{frame.lineno}" if frame else "?"


def user_location(exc: BaseException) -> str:
    """``file:line`` in the user's code where ``exc`` was raised (``?`` when unknown)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    location = getattr(exc, "verify_location", None)
    if location is not None:
        return location or "?"
    return _where(exc, USER_ROOTS)


def definition_of(fn) -> str:
    """``file:line`` where a function, method or class is defined ('' when unknown)."""
    import inspect

    target = getattr(fn, "__func__", fn)
    if isinstance(target, type):
        target = getattr(target, "__init__", target)
    try:
        target = inspect.unwrap(target)
        return f"{inspect.getsourcefile(target)}:{inspect.getsourcelines(target)[1]}"
    except (TypeError, OSError):
        return ""


# names that exist in Python 2 only, as a NameError or AttributeError reports them
_PYTHON2_NAMES = ("xrange", "raw_input", "unicode", "basestring", "unichr", "long",
                  "iteritems", "itervalues", "iterkeys", "has_key")


def type_name(exc: BaseException) -> str:
    """The name of the exception's type: an exception rebuilt in the grader from an
    executor's facts (``type_name``) is named as the original was."""
    name = getattr(exc, "type_name", None)
    return name if isinstance(name, str) else type(exc).__name__


def _is(exc: BaseException, *classes) -> bool:
    """``isinstance`` that also knows the original type of a rebuilt exception."""
    import builtins

    if isinstance(exc, classes):
        return True
    original = getattr(builtins, type_name(exc), None)
    return isinstance(original, type) and issubclass(original, classes) and getattr(
        exc, "type_name", None) is not None


def _python2_name(exc: BaseException) -> str:
    if _is(exc, NameError, AttributeError):
        name = getattr(exc, "name", None)
        if name in _PYTHON2_NAMES:
            return name
    return ""


# NumPy names that older submissions use and NumPy 1.24 / 2.0 removed -> what replaces them
_REMOVED_NUMPY_NAMES = {
    "int": "int", "float": "float", "bool": "bool", "object": "object", "str": "str",
    "complex": "complex", "unicode": "str", "float_": "np.float64",
    "complex_": "np.complex128", "NaN": "np.nan", "NAN": "np.nan", "Inf": "np.inf",
    "Infinity": "np.inf", "infty": "np.inf", "PINF": "np.inf", "NINF": "-np.inf",
    "asscalar": "a.item()", "product": "np.prod", "cumproduct": "np.cumprod",
    "alltrue": "np.all", "sometrue": "np.any", "round_": "np.round",
    "asfarray": "np.asarray(a, dtype=float)"}


def _removed_numpy_name(exc: BaseException) -> str:
    import re

    # numpy's module __getattr__ raises without .obj/.name: read its message
    found = re.match(r"module 'numpy' has no attribute '(\w+)'", str(exc))
    if _is(exc, AttributeError) and found and found[1] in _REMOVED_NUMPY_NAMES:
        return found[1]
    return ""


def _numpy1_name(exc: BaseException):
    """``(name, replacement)`` when ``exc`` is NumPy 2's own word that a NumPy 1 name is
    gone (``np.float_``, ``np.Inf`` ...: "`np.float_` was removed in the NumPy 2.0
    release. Use `np.float64` instead."), else None."""
    import re

    found = re.match(r"`np\.(\w+)` was removed in the NumPy 2\.0 release\.(?: Use (`[^`]+`"
                     r"|[^.]+))?", str(exc))
    if not (_is(exc, AttributeError) and found):
        return None
    use = (found[2] or "").strip("`") or _REMOVED_NUMPY_NAMES.get(found[1], "")
    return found[1], use


def describe_exception(exc: BaseException) -> str:
    """``Type: message (file:line)``, the form every report uses for a user's exception."""
    name = _python2_name(exc)
    if name:
        return f"Python 2 code: {name} at {user_location(exc)} (not in Python 3)"
    numpy1 = _numpy1_name(exc)
    if numpy1:
        name, use = numpy1
        return (f"NumPy 1 code: np.{name} at {user_location(exc)} was removed in NumPy 2.0 "
                f"(this checker runs NumPy {np.__version__})" + (f"; use {use}" if use else ""))
    name = _removed_numpy_name(exc)
    if name:
        return (f"code for an older NumPy: np.{name} at {user_location(exc)} was removed "
                f"(this checker runs NumPy {np.__version__}); use {_REMOVED_NUMPY_NAMES[name]}")
    text = str(exc).strip().splitlines()
    first = f": {text[0]}" if text else ""
    return f"{type_name(exc)}{first} ({user_location(exc)})"


def _python2_statement(exc: SyntaxError) -> str:
    """``print statement`` ... when a SyntaxError comes from Python 2 source."""
    import re

    text = (exc.text or "").strip()
    if "Missing parentheses in call to 'print'" in str(exc.msg) or re.match(
            r"print\s+[^\s(=]", text):
        return "print statement"
    if "Missing parentheses in call to 'exec'" in str(exc.msg):
        return "exec statement"
    if re.match(r"except\s+[\w.]+\s*,\s*\w+\s*:", text):
        return "'except E, e:' clause"
    if re.match(r"raise\s+[\w.]+\s*,", text):
        return "'raise E, message' statement"
    if "leading zeros in decimal integer literals" in str(exc.msg):
        return "octal literal without 0o"
    if "`" in text:
        return "backquote repr"
    return ""


def _describe_syntax_error(exc: SyntaxError) -> str:
    statement = _python2_statement(exc)
    if statement:
        lines = [f"Python 2 code: {statement} at {exc.filename}:{exc.lineno} (this checker "
                 f"runs Python 3)"]
        if exc.text:
            lines.append(f"    {exc.text.strip()}")
        return "\n".join(lines)
    lines = [f"{exc.filename}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"]
    if exc.text:
        code = exc.text.rstrip("\n")
        stripped = code.lstrip()
        lines.append(f"    {stripped}")
        if exc.offset:
            column = max(0, exc.offset - 1 - (len(code) - len(stripped)))
            lines.append("    " + " " * column + "^")
    return "\n".join(lines)


def _purge(name: str) -> None:
    """Forget ``name`` and its submodules (a module loaded before from another root)."""
    top = name.split(".")[0]
    for key in [k for k in sys.modules if k == top or k.startswith(top + ".")]:
        del sys.modules[key]


def _check_not_shadowing(top: str, root: str) -> None:
    """Refuse a package name that is an installed module (``numpy``, ``torch`` ...)."""
    if top == __name__.split(".")[0]:
        raise ModuleLoadError(f"{top!r} is the checker itself; it cannot be checked this way")
    existing = sys.modules.get(top)
    if existing is None or top in _LOADED_TOPS:
        return  # free, or loaded earlier by us (perhaps from another root): replaced below
    # decided by name, never by path: an installed package can live under the user's
    # root (a virtual environment inside /tmp) and must not be evicted
    where = getattr(existing, "__file__", None) or ""
    raise ModuleLoadError(
        f"the module name {top!r} is already taken by {where or 'a built-in module'}; "
        f"rename the package or the file")


def load_module(target: str, path: str | None = None, guard: CallGuard | None = None,
                conventional_files=()) -> LoadedModule:
    """Import the module under test: a ``.py`` file, a directory (then the first of
    ``conventional_files`` found under it, or its only module), or a dotted module name
    imported from ``path`` (default: the current directory); see
    :func:`torch_ref.verify.target.resolve`. Raises :class:`ModuleLoadError`."""
    from torch_ref.verify.target import resolve

    resolved = resolve(target, path, conventional_files)
    if resolved.kind != "module":
        raise ModuleLoadError(f"{target} is a {resolved.kind}, not a Python module")
    return import_dotted(resolved.dotted, resolved.root, guard)


def import_dotted(name: str, root: str, guard: CallGuard | None = None) -> LoadedModule:
    """Import ``name`` with ``root`` first on ``sys.path``, through ``guard`` (time limit,
    captured output; a default one when None). Raises :class:`ModuleLoadError`."""
    guard = guard or CallGuard()
    _check_not_shadowing(name.split(".")[0], root)
    _purge(name)
    importlib.invalidate_caches()
    before = set(sys.modules)
    sys.path.insert(0, root)
    USER_ROOTS.insert(0, root)
    try:
        module = guard.run("import " + name, importlib.import_module, name)
    except SyntaxError as exc:
        _forget(root, before, name.split(".")[0])
        raise ModuleLoadError(_describe_syntax_error(exc)) from None
    except FunctionTimeout:
        _forget(root, before, name.split(".")[0])
        raise ModuleLoadError(f"importing {name} did not finish within {guard.timeout:g} s "
                              f"(code at module level that never ends?)") from None
    except ModuleNotFoundError as exc:
        _forget(root, before, name.split(".")[0])
        if exc.name and name.startswith(exc.name):
            raise ModuleLoadError(f"cannot find module {name!r} under {root}") from None
        raise ModuleLoadError(f"importing {name} failed: {describe_exception(exc)}") from None
    except BaseException as exc:  # anything at import time is the module's fault
        if isinstance(exc, KeyboardInterrupt):
            raise
        _forget(root, before, name.split(".")[0])
        raise ModuleLoadError(f"importing {name} failed: {describe_exception(exc)}") from None
    imported = tuple(sorted(set(sys.modules) - before))
    _LOADED_TOPS.add(name.split(".")[0])
    return LoadedModule(module, name, root, getattr(module, "__file__", None), imported)


def _users_modules(keys, top: str, root: str) -> list:
    """The modules among ``keys`` that belong to the user: the package ``top`` and
    modules from files under ``root``, but never installed ones (site-packages):
    re-importing an extension such as numpy in one process fails."""
    installed = tuple(os.path.abspath(p) + os.sep for p in sys.path
                      if "site-packages" in p or "dist-packages" in p)
    mine = []
    for key in keys:
        module = sys.modules.get(key)
        where = os.path.abspath(getattr(module, "__file__", None) or "")
        if key == top or key.startswith(top + "."):
            mine.append(key)
        elif where.startswith(os.path.abspath(root) + os.sep) and not where.startswith(installed):
            mine.append(key)
    return mine


def _forget(root: str, before: set, top: str = "") -> None:
    for key in _users_modules(set(sys.modules) - before, top, root):
        del sys.modules[key]
    if root in sys.path:
        sys.path.remove(root)
    if root in USER_ROOTS:
        USER_ROOTS.remove(root)


def unload(loaded: LoadedModule) -> None:
    """Undo :func:`load_module`: drop its modules from ``sys.modules`` and its root."""
    for key in _users_modules(loaded.imported, loaded.name.split(".")[0], loaded.root):
        sys.modules.pop(key, None)
    _purge(loaded.name)
    for directory in (loaded.root, *loaded.paths):
        if directory in sys.path:
            sys.path.remove(directory)
    if loaded.root in USER_ROOTS:
        USER_ROOTS.remove(loaded.root)


class CallGuard:
    """Runs calls into user code: a time limit per call, output captured, culprit named.

    timeout: seconds per call (None: no limit). A function that runs past it is
    stopped (:class:`FunctionTimeout`) and remembered as hung: calling it again
    raises at once, so one hung function costs one time limit, not one per case.
    Exceptions leaving a call get ``verify_function`` (the user function's name)
    when they do not have one yet. What the user's code prints is kept in
    ``output`` instead of mixing with the report.
    """

    def __init__(self, timeout: float | None = 30.0):
        self.timeout = timeout
        self.hung: dict = {}
        self.output = io.StringIO()
        self.current: str | None = None
        self.last_error: BaseException | None = None
        self._previous_handler = None

    def _can_time(self) -> bool:
        return (self.timeout is not None and hasattr(signal, "setitimer")
                and threading.current_thread() is threading.main_thread())

    def run(self, name: str, fn, /, *args, **kwargs):
        """``fn(*args, **kwargs)`` as the user function ``name``."""
        if name in self.hung:
            skipped = FunctionTimeout(f"{name} was stopped after {self.hung[name]:g} s "
                                      f"in an earlier call; not called again")
            skipped.verify_function, skipped.verify_location = name, ""
            self.last_error = skipped
            raise skipped
        outer, self.current = self.current, name
        timed = self._can_time() and outer is None
        if timed:
            if self._previous_handler is None:
                self._previous_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            # repeat every 0.5 s in case the user's code swallows the first one
            signal.setitimer(signal.ITIMER_REAL, self.timeout, 0.5)
        try:
            with contextlib.redirect_stdout(self.output):
                return fn(*args, **kwargs)
        except BaseException as exc:
            if isinstance(exc, FunctionTimeout):
                self.hung.setdefault(name, self.timeout)
            if not hasattr(exc, "verify_function"):
                exc.verify_function = name
            if isinstance(exc, TypeError) and exc.__traceback__.tb_next is None:
                # raised by the call itself (wrong arguments): point at the definition
                exc.verify_location = definition_of(fn)
            self.last_error = exc
            raise
        finally:
            if timed:
                signal.setitimer(signal.ITIMER_REAL, 0)
            self.current = outer

    def _on_alarm(self, signum, frame):
        raise FunctionTimeout(f"{self.current} did not return within {self.timeout:g} s; "
                              f"stopped")

    def close(self) -> None:
        """Give ``SIGALRM`` back to whoever had it before the first timed call."""
        if self._previous_handler is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous_handler)
            self._previous_handler = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
