"""The watchdog of a running sandbox: sums the memory (and, in the fallback, the files)
of its processes on each tick and kills it past its limits."""
from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from torch_ref.verify.isolation.files import disk_used
from torch_ref.verify.isolation.limits import describe_bytes
from torch_ref.verify.isolation.processes import cpu_and_memory, descendants, identity, kill_tree

if TYPE_CHECKING:
    from torch_ref.verify.isolation.sandbox import Sandbox

WATCH_TICK = 0.1  # how often the watchdog sums memory


class Watchdog(threading.Thread):
    """Sums the memory (and, in the fallback, the files) of every process of a sandbox
    on each tick; kills the sandbox past its limits and says why."""

    def __init__(self, sandbox: Sandbox):
        super().__init__(daemon=True)
        self.sandbox = sandbox
        self.stop = threading.Event()
        self.cpu = 0.0
        self.peak = 0
        self.seen: set = set()
        self.violation: str | None = None
        self.lock = threading.Lock()
        self.last = 0.0

    def check(self) -> None:
        self.last = time.monotonic()
        box = self.sandbox
        top = box.process.pid
        pids = descendants(top)
        self.seen.update(filter(None, map(identity, pids)))
        cpu, memory = cpu_and_memory(pids)
        with self.lock:
            self.cpu = max(self.cpu, cpu)
            self.peak = max(self.peak, memory)
        limits = box.limits
        if memory > limits.memory:
            self.kill(f"killed: its processes used {describe_bytes(memory)} of memory "
                      f"together (exceeded {describe_bytes(limits.memory)} of memory)")
        if box.level == "fallback":
            size, count = disk_used(box.world, pids)
            if size > limits.disk:
                self.kill(f"killed: it wrote {describe_bytes(size)} of files "
                          f"(the limit is {describe_bytes(limits.disk)})")
            elif count > box.max_files:
                self.kill(f"killed: it made {count} files (the limit is {box.max_files})")

    def kill(self, reason: str) -> None:
        if self.violation is None:
            self.violation = reason
        kill_tree(self.sandbox.process.pid)

    def run(self) -> None:
        self.ticks = 0
        while not self.stop.wait(WATCH_TICK):
            self.ticks += 1
            try:
                self.check()
            except Exception:  # noqa: BLE001 - /proc races; the next tick tries again
                pass
