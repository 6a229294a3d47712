"""Progress bars: tqdm when installed, a plain stderr counter otherwise.

The core depends on NumPy only, so tqdm is an optional extra (``progress``).
"""
from __future__ import annotations

import sys
import time


class _PlainBar:
    """Minimal stand-in for ``tqdm.tqdm`` (update / set_postfix / close)."""

    def __init__(self, total=None, desc="", disable=False, stream=None):
        self.total = total
        self.desc = desc
        self.disable = disable
        self.stream = stream if stream is not None else sys.stderr
        self.n = 0
        self.postfix = ""
        self._last = 0.0

    def update(self, n=1):
        self.n += n
        self._render()

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())
        self._render()

    def set_description(self, desc=None, refresh=True):
        self.desc = desc or ""
        self._render()

    def _render(self, force=False):
        if self.disable:
            return
        now = time.monotonic()
        # redraw at most 4 times a second to keep logs readable
        if not force and now - self._last < 0.25 and self.n != self.total:
            return
        self._last = now
        total = f"/{self.total}" if self.total is not None else ""
        self.stream.write(f"\r{self.desc}: {self.n}{total} {self.postfix}".rstrip())
        self.stream.flush()

    def close(self):
        if not self.disable:
            self._render(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def progress_bar(total=None, desc="", disable=None):
    """Return a progress bar with ``update``, ``set_postfix`` and ``close``.

    Disabled automatically when stderr is not a terminal (CI logs), unless
    ``disable`` is given explicitly.
    """
    if disable is None:
        disable = not sys.stderr.isatty()
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(total=total, desc=desc, disable=disable)
    return tqdm(total=total, desc=desc, disable=disable, leave=False)
