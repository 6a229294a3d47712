"""The grader's side of one child: confine it, start it, time it, kill it.

:class:`Sandbox` runs a child (an entry point the caller names, with a configuration
it chooses) confined by one of two levels, ``bubblewrap`` or ``fallback``, chosen once
per process (:mod:`~torch_ref.verify.isolation.confinement` says what each does).

At both levels: the child's start-up (the interpreter, NumPy, the entry's imports)
has its own limit (:attr:`Limits.startup`); :meth:`Sandbox.request` sends one
request and kills the sandbox when it runs past its wall-clock limit, past its CPU
limit (CPU seconds of every process of the sandbox during the request) or past the
overall deadline. The timers live here and read nothing the child writes. A watchdog
(:mod:`~torch_ref.verify.isolation.watchdog`) sums the memory (RSS) of every process
of the sandbox, and (fallback) the size of its files, and kills the sandbox past
:attr:`Limits.memory` / :attr:`Limits.disk`, between requests too.
:meth:`Sandbox.close` kills every process of the sandbox and removes what it left
(files, System V IPC objects).

``TORCH_REF_CONFINEMENT`` (``auto``, ``bubblewrap``, ``fallback``) forces a level where
:attr:`Limits.confinement` says ``auto``; :attr:`Sandbox.confinement` says which one
ran and what it does not cover.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time

from torch_ref.verify.isolation import allowlist, bwrap, files, launcher, processes, protocol
from torch_ref.verify.isolation.confinement import Confinement, SandboxUnavailable, describe, level
from torch_ref.verify.isolation.launcher import LAUNCHER_FILES
from torch_ref.verify.isolation.limits import GiB, Limits, MiB, describe_bytes
from torch_ref.verify.isolation.output import CappedOutput, drain
from torch_ref.verify.isolation.watchdog import WATCH_TICK, Watchdog

# importable from here, whether defined here or in the modules above
__all__ = ["LAUNCHER_FILES", "ChildFailure", "Confinement", "GiB", "Limits", "MiB", "Sandbox",
           "SandboxUnavailable", "describe_bytes", "level"]

_TICK = 0.05       # how often a request checks its timers
_GRACE = 0.5       # the child's own timeout fires first; the kill comes this much later


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
        self.output = CappedOutput(limits.output)
        self.process = None
        self.started = 0
        self.level = None
        self.confinement: Confinement | None = None
        self.why_not_bubblewrap: str | None = None
        self._cpus = processes.SharedCpu()
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
        self.slot = processes.UserSlot() if root else None
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
        env = launcher.environment(self.world)
        if self.level == "bubblewrap":
            source = None
            size = self.limits.disk
            if self.submission is not None:
                source = os.path.join(self.host, "source")
                size += files.copy_submission(self.submission, source, owner)
                os.chmod(source, 0o700)  # bwrap reads it as the sandbox's uid
                config["copy_from"] = "/run/torch_ref-submission"
            argv, python_root = launcher.command(allowed, mirrored=False)
            config["drop_paths"] = [python_root]
            command = bwrap.command(binary, allowed, self.world, size, env,
                                    argv + [json.dumps(config)], source,
                                    "/run/torch_ref-submission")
            pass_fds = (*child_fds, status_w)
        else:
            if self.submission is not None:
                files.copy_submission(self.submission, self.copy, owner)
            if owner is not None:
                os.chown(self.world, *owner)
            else:
                config["nproc"] = processes.tasks_of(os.getuid()) + self.limits.processes
            config["reaper"] = True
            config["rules"] = [list(r) for r in allowed.rules()] + [
                [p, "read"] for p in ("/proc/cpuinfo", "/proc/meminfo", "/proc/stat")
                if os.path.exists(p)]
            config["devices"] = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]
            argv, python_root = launcher.command(allowed, mirrored=True)
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
        self._drainer = threading.Thread(target=drain, args=(out_r, self.output),
                                         daemon=True)
        self._drainer.start()
        self._watchdog = Watchdog(self)
        self._watchdog.start()
        try:
            notes = self._wait_ready(status_r, started)
        finally:
            os.close(status_r)
        self.confinement = describe(self.level, uid, notes)
        self._cpus.share(self.process.pid, self.limits.cpu_slot)
        self._watchdog.check()  # the CPU its start-up used is no request's

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
        processes.kill_tree(process.pid, seen)
        try:
            process.kill()
        except OSError:
            pass
        process.wait()
        if self.slot is not None:
            processes.kill_user(self.slot.uid)
        if self.level == "fallback":
            processes.remove_ipc(self.slot.uid if self.slot else None, {pid for pid, _ in seen})
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
            files.remove_tree(self.host)
            self.host = None
        self._cpus.restore()

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
        cpu, _ = processes.cpu_and_memory(processes.descendants(self.process.pid))
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
                        if time.monotonic() - watchdog.last > WATCH_TICK:
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
