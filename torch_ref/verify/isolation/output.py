"""The child's printed output: its start and its end kept, the middle counted."""
from __future__ import annotations

import os
import threading


class CappedOutput:
    """The start and the end of a stream, with a count of what was dropped between."""

    def __init__(self, limit: int):
        self.half = max(limit // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.lock = threading.Lock()

    def add(self, data: bytes) -> None:
        with self.lock:
            self.total += len(data)
            room = self.half - len(self.head)
            if room > 0:
                self.head += data[:room]
                data = data[room:]
            if data:
                self.tail += data
                if len(self.tail) > self.half:
                    del self.tail[:len(self.tail) - self.half]

    def text(self) -> str:
        with self.lock:
            kept = len(self.head) + len(self.tail)
            middle = (f"\n[... {self.total - kept} bytes of output not kept ...]\n"
                      if self.total > kept else "")
            return (self.head.decode("utf-8", "replace") + middle
                    + self.tail.decode("utf-8", "replace"))


def drain(fd: int, sink: CappedOutput) -> None:
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            break
        if not data:
            break
        sink.add(data)
    os.close(fd)
