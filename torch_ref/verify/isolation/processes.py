"""The processes of a sandbox, read from /proc: an unused uid per child
(:class:`UserSlot`), the processes of a uid or below a pid, their CPU time and memory,
killing them all, the CPU they share with the grader (:class:`SharedCpu`), and the
System V IPC objects they leave (the fallback has no IPC namespace)."""
from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import tempfile
import time

_UID_RANGE = range(64000, 64512)


class UserSlot:
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
                kill_user(uid)
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


def kill_user(uid: int) -> None:
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


def tasks_of(uid: int) -> int:
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


def cpu_and_memory(pids) -> tuple:
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


def identity(pid: int):
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


def kill_tree(top: int, seen=()) -> None:
    """SIGKILL ``top``, every process below it and the processes of ``seen``
    (identities met before, see :func:`identity`), and wait until none of them runs
    (a few seconds at most). Processes are told apart by their start time, so a
    reused pid is never killed."""
    known = {ident for ident in seen if identity(ident[0]) == ident}
    ident = identity(top)
    if ident:
        known.add(ident)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for pid, _ in list(known):
            for below in descendants(pid):
                ident = identity(below)
                if ident:
                    known.add(ident)
        alive = [ident for ident in known if identity(ident[0]) == ident]
        if not alive:
            return
        for pid, _ in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.005)


# ---- the CPU shared with the grader -------------------------------------------------

class SharedCpu:
    """The grader and the processes of its sandbox pinned to one CPU; ``saved``: the
    grader's CPUs before (None: not pinned), given back by :meth:`restore`."""

    def __init__(self):
        self.saved = None

    def share(self, top: int, slot) -> None:
        """Run the child on the grader's CPU (and keep the grader there): the two hand
        the CPU to each other on every call, which is many times faster on one CPU
        than across two. ``slot`` (``Limits.cpu_slot``) chooses it; by default the current
        one. ``top``: the sandbox's first process (it and every process below it)."""
        if not hasattr(os, "sched_setaffinity") or slot is False:
            return
        try:
            allowed = sorted(os.sched_getaffinity(0))
            if self.saved is None:
                self.saved = set(allowed)
            allowed = sorted(self.saved)
            if len(allowed) < 2:
                return
            if slot is None:
                with open("/proc/self/stat") as fh:
                    cpu = int(fh.read().rsplit(")", 1)[1].split()[36])
                cpu = cpu if cpu in allowed else allowed[0]
            else:
                cpu = allowed[slot % len(allowed)]
            os.sched_setaffinity(0, {cpu})
            for pid in descendants(top):
                try:
                    os.sched_setaffinity(pid, {cpu})
                except OSError:
                    pass
        except (OSError, ValueError, IndexError):
            pass

    def restore(self) -> None:
        if self.saved is not None:
            try:
                os.sched_setaffinity(0, self.saved)
            except OSError:
                pass
            self.saved = None


# ---- System V IPC left behind (the fallback has no IPC namespace) ------------------------

_IPC_RMID = 0


def remove_ipc(uid=None, pids=()) -> int:
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
