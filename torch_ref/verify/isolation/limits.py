"""What one child may use (:class:`Limits`), and sizes in words."""
from __future__ import annotations

from dataclasses import dataclass

GiB = 1 << 30
MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one child may use.

    timeout: wall seconds per call into user code (None: no limit; the caller turns it
    into each request's limit); cpu: CPU seconds per call (default: ``timeout``);
    memory: bytes of memory of the whole sandbox (the sum of its processes' resident
    memory; also each process's address space); output: bytes of printed output kept
    (half from the start, half from the end); file_size: largest file, in bytes; disk:
    bytes of files in all (the tmpfs under bubblewrap); processes: processes and
    threads of the sandbox; startup: seconds the child may take to start (the
    interpreter, NumPy) before any request; restarts: fresh children after crashes
    before giving up; cpu_slot: which of the allowed CPUs the grader and its child
    share (None: the current one; False: no pinning); budget: seconds for the whole
    module (None: no limit); confinement: ``auto``, ``bubblewrap`` or ``fallback``.
    """

    timeout: float | None = 30.0
    cpu: float | None = None
    memory: int = 4 * GiB
    output: int = 256 << 10
    file_size: int = 64 * MiB
    disk: int = 256 * MiB
    processes: int = 64
    startup: float = 120.0
    restarts: int = 8
    cpu_slot: int | None | bool = None
    budget: float | None = None
    confinement: str = "auto"

    @property
    def cpu_limit(self):
        return self.cpu if self.cpu is not None else self.timeout


def describe_bytes(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"
