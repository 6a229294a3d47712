"""Course helpers a student's module imports but a submission rarely ships.

One directory per API (``dlai/rnn_utils.py``, ``dlfs2/common/``, ``mytorch/activation.py``
...). :func:`course_helpers` appends those directories to the *end* of ``sys.path`` while
one module is checked, so the student's own copy, next to the module, always wins, and
forgets every helper module imported from them afterwards.
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
        for name, module in list(sys.modules.items()):
            where = getattr(module, "__file__", None) or ""
            if prefixes and where.startswith(prefixes):
                del sys.modules[name]
