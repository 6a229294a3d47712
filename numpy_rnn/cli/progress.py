"""Progress reports: a tqdm bar on a terminal, plain progress lines in a log.

The core depends on NumPy only, so tqdm is an optional extra (``progress``); on a
terminal without it a one-line counter is redrawn instead. When stderr is not a
terminal (a log file, CI) no bar is drawn: a progress line is printed every
:data:`LOG_INTERVAL` seconds instead, so a long run still shows that it advances.
Lines that must not be drawn over by the bar go through :func:`write`.
"""
from __future__ import annotations

import sys
import time

__all__ = ["LOG_INTERVAL", "progress_bar", "write"]

LOG_INTERVAL = 30.0  # seconds between progress lines when stderr is not a terminal

_active = []  # plain bars drawn on a terminal now, cleared by write()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class _PlainBar:
    """Minimal stand-in for ``tqdm.tqdm`` (update / set_postfix / close).

    mode ``"bar"`` redraws one line (a terminal); ``"log"`` prints a full line
    every ``interval`` seconds (a log); ``"off"`` prints nothing.
    """

    def __init__(self, total=None, desc="", mode="bar", stream=None, interval=LOG_INTERVAL,
                 unit="it", clock=time.monotonic):
        self.total = total
        self.desc = desc
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.unit = unit
        self.n = 0
        self.postfix = ""
        self._clock = clock
        self._start = clock()
        self._last = self._start
        self._closed = False
        if mode == "bar":
            _active.append(self)

    @property
    def disable(self) -> bool:
        return self.mode == "off"

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

    def _log_line(self, now) -> str:
        elapsed = now - self._start
        done = f"{self.n}"
        left = ""
        if self.total:
            done += f"/{self.total} {self.unit} ({100 * self.n / self.total:.0f}%)"
            if self.n:
                left = f", about {_duration(elapsed * (self.total - self.n) / self.n)} left"
        else:
            done += f" {self.unit}"
        postfix = f", {self.postfix}" if self.postfix else ""
        return f"{self.desc}: {done}, {_duration(elapsed)} elapsed{left}{postfix}\n"

    def _render(self, force=False):
        if self.mode == "off" or self._closed:
            return
        now = self._clock()
        if self.mode == "log":
            if now - self._last >= self.interval:
                self._last = now
                self.stream.write(self._log_line(now))
                self.stream.flush()
            return
        # redraw at most 4 times a second to keep the terminal readable
        if not force and now - self._last < 0.25 and self.n != self.total:
            return
        self._last = now
        total = f"/{self.total}" if self.total is not None else ""
        self.stream.write(f"\r{self.desc}: {self.n}{total} {self.postfix}".rstrip())
        self.stream.flush()

    def clear(self):
        if self.mode == "bar" and not self._closed:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def close(self):
        if self._closed:
            return
        if self.mode == "bar":
            self._render(force=True)
            self.stream.write("\n")
            self.stream.flush()
            _active.remove(self)
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def progress_bar(total=None, desc="", disable=None, unit="it", interval=LOG_INTERVAL):
    """Return a progress bar with ``update``, ``set_postfix`` and ``close``.

    disable: True for no output at all; None (default) decides by stderr: a bar
    on a terminal (tqdm when installed), a progress line every ``interval``
    seconds otherwise; False forces a bar.
    """
    if disable:
        return _PlainBar(total=total, desc=desc, mode="off")
    if disable is None and not sys.stderr.isatty():
        return _PlainBar(total=total, desc=desc, mode="log", interval=interval, unit=unit)
    try:
        from tqdm import tqdm
    except ImportError:
        return _PlainBar(total=total, desc=desc, mode="bar", unit=unit)
    return tqdm(total=total, desc=desc, leave=False, unit=unit)


def write(text: str, file=None) -> None:
    """Print ``text`` (a line) without drawing it over a progress bar on the terminal."""
    file = sys.stdout if file is None else file
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None and getattr(tqdm, "_instances", None):
        tqdm.write(text, file=file)
        file.flush()
        return
    for bar in _active:
        bar.clear()
    print(text, file=file, flush=True)
    for bar in _active:
        bar._render(force=True)
