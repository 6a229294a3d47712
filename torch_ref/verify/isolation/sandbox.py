"""The grader's side of one child process: start it, talk to it, time it, kill it.

:class:`Limits` holds what a child may use. :class:`Sandbox` starts the child
(:mod:`~torch_ref.verify.isolation.child`) in a new session with a fresh temporary
working directory, as an unprivileged user when the grader is root, and sends it
requests. While a request runs, the child announces each call into user code; the
grader kills the child (``SIGKILL``, which no loop in C, ignored or blocked signal
or swallowed exception survives) when one call runs past its wall or CPU time, when
the whole request runs too long, or when the child sends something malformed. What
the child prints goes to a pipe that the grader drains and caps (its start and its
end are kept). Killing takes every process of the sandbox user (or of its session
when not root) with it, so a fork does not outlive its submission.
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from torch_ref.verify.isolation import protocol

GiB = 1 << 30
_UID_RANGE = range(64000, 64512)
_TICK = 0.05
_STARTUP = 120.0  # seconds a child may take to start before it runs any user code


@dataclass(frozen=True)
class Limits:
    """What one child may use.

    timeout: wall seconds per call into user code (None: no limit); cpu: CPU seconds
    per call (default: ``timeout``); memory: address space in bytes; output: bytes of
    printed output kept (half from the start, half from the end); file_size: largest
    file it may write, in bytes; processes: processes and threads of the sandbox user;
    restarts: fresh children after crashes before giving up; cpu_slot: which of the
    allowed CPUs the grader and its child share (None: the current one; False: no
    pinning); budget: seconds for the whole module (None: no limit).
    """

    timeout: float | None = 30.0
    cpu: float | None = None
    memory: int = 4 * GiB
    output: int = 256 << 10
    file_size: int = 64 << 20
    processes: int = 64
    restarts: int = 8
    cpu_slot: int | None | bool = None
    budget: float | None = None

    @property
    def cpu_limit(self):
        return self.cpu if self.cpu is not None else self.timeout


def describe_bytes(n: int) -> str:
    for unit, size in (("GiB", GiB), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


class ChildFailure(Exception):
    """The child died, hung or misbehaved during a request.

    reason: why, in words (``killed after 30 s``); function: the user function that was
    running (the last one the child announced; None when none).
    """

    def __init__(self, reason: str, function: str | None, fatal_to_function: bool = True):
        super().__init__(reason)
        self.reason, self.function = reason, function
        self.fatal_to_function = fatal_to_function


class _CappedOutput:
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


def _drain(fd: int, sink: _CappedOutput) -> None:
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            break
        if not data:
            break
        sink.add(data)
    os.close(fd)


class _UserSlot:
    """An unused uid for one child, held with a lock file while the child lives."""

    def __init__(self):
        import pwd

        directory = os.path.join(tempfile.gettempdir(), "torch_ref-sandbox-users")
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
        taken = {p.pw_uid for p in pwd.getpwall()}
        for uid in _UID_RANGE:
            if uid in taken:
                continue
            fh = open(os.path.join(directory, str(uid)), "w")  # noqa: SIM115 - held open
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.close()
                continue
            self.uid = self.gid = uid
            self._lock = fh
            return
        raise RuntimeError("no free sandbox user id")

    def release(self) -> None:
        self._lock.close()


def _processes_of(uid: int) -> list:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                for line in fh:
                    if line.startswith("State:") and line.split()[1] in ("Z", "X"):
                        break  # a zombie: already dead
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(entry))
                        break
        except (OSError, ValueError):
            continue
    return found


def _kill_user(uid: int) -> None:
    """SIGKILL every process of ``uid`` until none is left (forks included)."""
    for _ in range(50):
        pids = _processes_of(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _peak_memory(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _package_root() -> str:
    import torch_ref

    return os.path.dirname(os.path.dirname(os.path.abspath(torch_ref.__file__)))


def hidden_trees(extra=(), torch: bool = True) -> tuple:
    """What the child may not read: the reference implementation, the checker, torch
    (unless ``torch`` is False), the golden fixtures (the project checkout when run from
    one) and ``extra``."""
    import importlib.util

    hidden = []
    for name in ("numpy_rnn", "torch_ref") + (("torch",) if torch else ()):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            hidden.extend(spec.submodule_search_locations)
    root = _package_root()
    if os.path.isdir(os.path.join(root, "numpy_rnn")) and os.path.isdir(
            os.path.join(root, "torch_ref")):
        # a checkout: the golden fixtures, the reference solutions of the tests
        hidden.extend(os.path.join(root, d) for d in ("fixtures", "tests", ".git"))
    return tuple(os.path.abspath(h) for h in (*hidden, *extra) if h)


_SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "env", "node_modules", "site-packages",
              ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache"}
_COPY_FILE_LIMIT = 8 << 20
_COPY_TOTAL_LIMIT = 64 << 20
_COPY_COUNT_LIMIT = 4000


def copy_submission(source: str, destination: str, owner=None) -> None:
    """Copy the submission's tree (what the module can import: Python files and small
    data files; no caches, environments or version control) for the child, owned by
    ``owner`` (uid, gid) when given. The original is never written to."""
    total = count = 0
    source = os.path.abspath(source)
    for here, dirs, files in os.walk(source):
        depth = os.path.relpath(here, source).count(os.sep)
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")
                         and depth < 8)
        target = os.path.join(destination, os.path.relpath(here, source))
        os.makedirs(target, exist_ok=True)
        for name in sorted(files):
            path = os.path.join(here, name)
            if name.endswith((".pyc", ".pyo")) or os.path.islink(path) \
                    or not os.path.isfile(path):
                continue
            size = os.path.getsize(path)
            if size > _COPY_FILE_LIMIT or total + size > _COPY_TOTAL_LIMIT \
                    or count >= _COPY_COUNT_LIMIT:
                continue
            shutil.copyfile(path, os.path.join(target, name))
            total, count = total + size, count + 1
    if owner is not None:
        for here, dirs, files in os.walk(destination):
            for name in (*dirs, *files):
                os.chown(os.path.join(here, name), *owner)
        os.chown(destination, *owner)


def _shims_dir() -> str:
    """The course helpers a submission may import (public course files)."""
    from torch_ref.verify.load import shims

    return os.path.dirname(os.path.abspath(shims.__file__))


_ROOTS: dict = {}


def _readable_roots(hidden: tuple) -> list:
    """:func:`confine.readable_roots`, computed once per set of hidden trees."""
    from torch_ref.verify.isolation import confine

    if hidden not in _ROOTS:
        _ROOTS[hidden] = confine.readable_roots(hidden)
    return _ROOTS[hidden]


class Sandbox:
    """One child process at a time; :meth:`request` sends one request.

    hidden: trees the child may not read (see :func:`hidden_trees`); submission: the
    directory the module is imported from, copied into the child's temporary directory
    (:attr:`copy`) at each start: the child reads that copy, never the original.
    """

    def __init__(self, limits: Limits, hidden=(), submission: str | None = None,
                 allow_torch: bool = False, torch_rule: str = ""):
        self.limits = limits
        self.allow_torch = allow_torch
        self.torch_rule = torch_rule
        self.hidden = tuple(hidden)
        self.submission = submission
        self.copy = None
        self.output = _CappedOutput(limits.output)
        self.process = None
        self.started = 0
        self._affinity = None

    # ---- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        self.close()
        self.started += 1
        self.tmp = tempfile.mkdtemp(prefix="torch_ref-sandbox-")
        self.slot = _UserSlot() if os.geteuid() == 0 else None
        owner = (self.slot.uid, self.slot.gid) if self.slot is not None else None
        if self.submission is not None:
            self.copy = os.path.join(self.tmp, "submission")
            copy_submission(self.submission, self.copy, owner)
        if owner is not None:
            os.chown(self.tmp, *owner)
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        out_r, out_w = os.pipe()
        self._progress, progress_w = os.pipe()
        os.set_blocking(self._progress, False)
        self._progress_buffer = b""
        self._progress_seen = None
        root = _package_root()
        config = {"fd_in": to_child_r, "fd_out": from_child_w, "fd_progress": progress_w,
                  "tmp": self.tmp,
                  "uid": self.slot.uid if self.slot else None,
                  "gid": self.slot.gid if self.slot else None,
                  "memory": self.limits.memory, "file_size": self.limits.file_size,
                  "processes": self.limits.processes, "hidden": list(self.hidden),
                  "readable_roots": _readable_roots(self.hidden),
                  "readable": [_shims_dir()],
                  "torch": "allow" if self.allow_torch else "stub",
                  "torch_rule": self.torch_rule, "cwd": self.tmp,
                  "drop_paths": [root]}
        env = {"PATH": "/usr/bin:/bin", "HOME": self.tmp, "TMPDIR": self.tmp,
               "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        code = (f"import sys; sys.path.insert(0, {root!r}); "
                f"from torch_ref.verify.isolation.child import main; main(sys.argv[1])")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-B", "-c", code, json.dumps(config)],
                stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, cwd=self.tmp, env=env,
                pass_fds=(to_child_r, from_child_w, progress_w), start_new_session=True)
        finally:
            for fd in (to_child_r, from_child_w, out_w, progress_w):
                os.close(fd)
        os.set_blocking(self._from_child, False)
        os.set_blocking(self._to_child, False)
        self._share_cpu()
        self._buffer = bytearray()
        self._booted = False
        self._drainer = threading.Thread(target=_drain, args=(out_r, self.output),
                                         daemon=True)
        self._drainer.start()

    def _share_cpu(self) -> None:
        """Run the child on the grader's CPU (and keep the grader there): the two hand
        the CPU to each other on every call, which is many times faster on one CPU
        than across two. ``Limits.cpu_slot`` chooses it; by default the current one."""
        if not hasattr(os, "sched_setaffinity") or self.limits.cpu_slot is False:
            return
        try:
            allowed = sorted(os.sched_getaffinity(0))
            if self._affinity is None:
                self._affinity = set(allowed)
            allowed = sorted(self._affinity)
            if len(allowed) < 2:
                return
            if self.limits.cpu_slot is None:
                with open("/proc/self/stat") as fh:
                    cpu = int(fh.read().rsplit(")", 1)[1].split()[36])
                cpu = cpu if cpu in allowed else allowed[0]
            else:
                cpu = allowed[self.limits.cpu_slot % len(allowed)]
            os.sched_setaffinity(0, {cpu})
            os.sched_setaffinity(self.process.pid, {cpu})
        except (OSError, ValueError, IndexError):
            pass

    def _restore_cpus(self) -> None:
        if self._affinity is not None:
            try:
                os.sched_setaffinity(0, self._affinity)
            except OSError:
                pass
            self._affinity = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        """Kill the child and everything it started; remove its directory."""
        if self.process is None:
            self._restore_cpus()
            return
        process, self.process = self.process, None
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            process.kill()
        except OSError:
            pass
        process.wait()
        if self.slot is not None:
            _kill_user(self.slot.uid)
        for fd in (self._to_child, self._from_child, self._progress):
            try:
                os.close(fd)
            except OSError:
                pass
        self._drainer.join(timeout=5)
        if self.slot is not None:
            self.slot.release()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._restore_cpus()

    # ---- requests ------------------------------------------------------------------

    def request(self, header: dict, blobs=(), calls_allowed: int = 16, deadline=None):
        """Send one request; ``(reply header, blobs)``. Raises :class:`ChildFailure`
        (the child is then killed) when it dies, hangs or misbehaves."""
        if not self.alive():
            raise ChildFailure("the process is not running", None, False)
        current = [None]
        self._progress_at_start = self._latest_call()
        try:
            return self._exchange(protocol.pack(header, blobs), calls_allowed, current,
                                  deadline)
        except ChildFailure:
            self.close()
            raise
        except protocol.ProtocolError as exc:
            self.close()
            raise ChildFailure(f"sent a malformed reply ({exc})", current[0]) from None

    def _latest_call(self):
        """The last ``(number, user function)`` the child announced (None: none yet)."""
        while True:
            try:
                chunk = os.read(self._progress, 1 << 16)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            if not chunk:
                break
            self._progress_buffer = (self._progress_buffer + chunk)[-4096:]
        lines = self._progress_buffer.split(b"\n")
        self._progress_buffer = lines[-1]
        for line in reversed(lines[:-1]):
            number, _, name = line.decode("utf-8", "replace").partition(" ")
            if number.isdigit() and name.isprintable():
                self._progress_seen = (int(number), name[:200])
                break
        return self._progress_seen

    def _exchange(self, frame: bytes, calls_allowed: int, current, deadline=None):
        limit = self.limits.timeout
        cpu_limit = self.limits.cpu_limit
        start = time.monotonic()
        whole = None if limit is None else (limit + 1) * calls_allowed + 5 + (
            0 if self._booted else _STARTUP)
        seen = self._latest_call()
        call_start, cpu_start = start, _cpu_seconds(self.process.pid)
        pending = memoryview(frame)
        while True:
            readable, writable, _ = select.select(
                [self._from_child], [self._to_child] if pending else [], [], _TICK)
            if not readable and not writable:  # a tick: check the timers
                now = time.monotonic()
                latest = self._latest_call()
                if latest != seen:
                    seen, current[0] = latest, latest[1]
                    call_start, cpu_start = now, _cpu_seconds(self.process.pid)
                # until the child has started and announced a call, its own start-up
                # (Python, NumPy) is not the module's time
                starting = not self._booted and current[0] is None
                if limit is not None and now - call_start > (
                        _STARTUP if starting else limit + 0.5):
                    self._fail(f"killed after {limit:g} s" if not starting else
                               f"did not start within {_STARTUP:g} s", current[0])
                if whole is not None and now - start > whole:
                    self._fail(f"killed after {now - start:.0f} s in one request", current[0])
                if deadline is not None and now > deadline:
                    self._fail(f"killed: the module used up its time budget of "
                               f"{self.limits.budget:g} s", current[0])
                if cpu_limit is not None and not starting:
                    used = _cpu_seconds(self.process.pid) - cpu_start
                    if used > cpu_limit + 0.5:
                        self._fail(f"killed after using {cpu_limit:g} s of CPU", current[0])
                if self.process.poll() is not None:
                    self._died(current)
                continue
            if writable:
                try:
                    pending = pending[os.write(self._to_child, pending):]
                except BlockingIOError:
                    pass
                except OSError:
                    pending = pending[:0]
            if readable:
                try:
                    chunk = os.read(self._from_child, 1 << 20)
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    self._died(current)
                if chunk:
                    self._buffer += chunk
                frame_in = protocol.unpack(self._buffer)
                if frame_in is not None:
                    if self._buffer:
                        raise protocol.ProtocolError("more than one reply")
                    self._booted = True
                    return frame_in

    def _fail(self, reason: str, function):
        raise ChildFailure(reason, function)

    def _died(self, current):
        """The child is gone (or closed its channel): say how."""
        latest = self._latest_call()
        if latest is not None and latest != self._progress_at_start:
            current[0] = latest[1]
        function = current[0]
        pid = self.process.pid
        peak = _peak_memory(pid)
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            raise ChildFailure("closed its channel to the grader", function) from None
        if code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ \
                else f"signal {-code}"
            reason = f"its process was killed by {name}"
            if peak and peak > 0.9 * self.limits.memory:
                reason += f" (exceeded {describe_bytes(self.limits.memory)} of memory)"
        else:
            reason = f"called os._exit({code}) or otherwise ended its process (status {code})"
        raise ChildFailure(reason, function)
