"""Course helpers a student's module imports but a submission rarely ships.

One directory per API (``dlai/rnn_utils.py``, ``dlfs2/common/``, ``mytorch/activation.py``
...). :func:`course_helpers` appends those directories to the *end* of ``sys.path`` while
one module is checked, so the student's own copy, next to the module, always wins, and
forgets every helper module imported from them afterwards. The helper packages
(``common``, ``nn``, ``mytorch``) are namespace packages: a student's own directory of
the same name stays visible, its files first.
"""
from __future__ import annotations

import contextlib
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
