"""Course helpers a student's module imports but a submission rarely ships.

One directory per API (``dlai/rnn_utils.py``, ``dlfs2/common/``, ``mytorch/activation.py``
...). :func:`course_helpers` appends those directories to the *end* of ``sys.path`` while
one module is checked, so the student's own copy, next to the module, always wins, and
forgets every helper module imported from them afterwards. The helper packages
(``common``, ``nn``, ``mytorch``) are namespace packages: a student's own directory of
the same name stays visible, its files first.

A course's directory may also hold ``course_lines.json``: lines of the course's own
template that this Python cannot compile (``{"python2": [[old, new], ...]}``: the 2016
cs231n template's ``print 'dx_flat: ', dx_flat.shape``). While the block is active, a
source file that does not compile as it is is compiled once more with each ``old``
text replaced by its ``new`` reading (nothing else changes, line numbers included): the
student's own code is never rewritten, so a Python 2 line of theirs still stops the
import and is named as such. Nothing compiled that way is cached as bytecode.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def directories(apis) -> list:
    """The helper directories of ``apis`` (names without one are skipped)."""
    found = [os.path.join(_HERE, api) for api in apis]
    return [d for d in found if os.path.isdir(d)]


@contextlib.contextmanager
def course_helpers(apis):
    """Make the helpers of ``apis`` importable inside the block, and only there."""
    added = [d for d in directories(apis) if d not in sys.path]
    sys.path.extend(added)
    try:
        with _reading(course_lines(apis)):
            yield added
    finally:
        for d in added:
            if d in sys.path:
                sys.path.remove(d)
        prefixes = tuple(d + os.sep for d in added)
        if prefixes:
            for name in [n for n, m in list(sys.modules.items()) if _from(m, prefixes)]:
                del sys.modules[name]


def _from(module, prefixes) -> bool:
    """Whether ``module`` was loaded from under ``prefixes`` (a namespace package, which
    has no ``__file__``, by its ``__path__``)."""
    places = [getattr(module, "__file__", None) or ""]
    path = getattr(module, "__path__", None)
    if isinstance(path, list) or type(path).__name__ == "_NamespacePath":
        try:
            places += list(path)
        except KeyError:  # a namespace path whose parent module is gone
            pass
    return any(str(p).startswith(prefixes) for p in places)


def course_lines(apis) -> tuple:
    """``((old, new), ...)``: the course lines of ``apis`` read another way (see the
    module docstring); a file of the wrong form counts as none."""
    found = []
    for directory in directories(apis):
        try:
            with open(os.path.join(directory, "course_lines.json"), encoding="utf-8") as fh:
                pairs = json.load(fh).get("python2", [])
        except (OSError, ValueError, AttributeError):
            continue
        found += [(old, new) for old, new in pairs
                  if isinstance(old, str) and isinstance(new, str) and old]
    return tuple(found)


def read_as_course(text: str, lines: tuple) -> str:
    """``text`` with every course line of ``lines`` replaced by its other reading."""
    for old, new in lines:
        text = text.replace(old, new)
    return text


@contextlib.contextmanager
def _reading(lines: tuple):
    """Inside the block, a source file that does not compile is compiled once more with
    the course's ``lines`` read their other way (see the module docstring)."""
    if not lines:
        yield
        return
    from importlib.machinery import SourceFileLoader
    from importlib.util import decode_source

    own = SourceFileLoader.__dict__.get("source_to_code")
    original = SourceFileLoader.source_to_code
    writes = sys.dont_write_bytecode

    def source_to_code(self, data, path, *args, **kwargs):
        try:
            return original(self, data, path, *args, **kwargs)
        except SyntaxError:
            try:
                text = decode_source(data)
            except (SyntaxError, UnicodeDecodeError, LookupError):
                raise
            other = read_as_course(text, lines)
            if other == text:
                raise
            code = original(self, other, path, *args, **kwargs)
            sys.dont_write_bytecode = True  # never cache what the file does not say
            return code

    SourceFileLoader.source_to_code = source_to_code
    try:
        yield
    finally:
        if own is None:
            del SourceFileLoader.source_to_code
        else:
            SourceFileLoader.source_to_code = own
        sys.dont_write_bytecode = writes
