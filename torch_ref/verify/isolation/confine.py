"""The child's first code: confine itself, then hand over to the child's entry point.

:class:`~torch_ref.verify.isolation.sandbox.Sandbox` starts every child as
``python -I -B -c "... confine.launch(CONFIG)"``; :func:`launch` runs before anything
of the submission (only the standard library and this package's files), then:

1. in the fallback only, becomes a *subreaper* and forks: the parent stays behind to
   reap and finally kill every process of the sandbox (orphans come back to it), the
   child goes on;
2. copies the submission into its writable world (the tmpfs under bubblewrap);
3. sets resource limits: address space (``RLIMIT_AS``) and file size
   (``RLIMIT_FSIZE``, ``SIGXFSZ`` ignored so a write fails instead of killing) per
   process, processes and threads of its user (``RLIMIT_NPROC``; inside bubblewrap's
   user namespace that counts the sandbox only), open files, no core files;
4. in the fallback: becomes the sandbox's unprivileged uid (when the grader is root)
   with no capability left, dies with its parent, and applies Landlock (the
   allow-list readable, only its world writable, no TCP, no abstract Unix sockets or
   signals out of the sandbox);
5. installs the seccomp filter (:mod:`~torch_ref.verify.isolation.seccomp`), which in
   the fallback also refuses new processes and signals to other processes;
6. imports the modules to preload (NumPy) and the entry's module, runs the entry's
   ``setup`` when there is one (both are start-up, not a request's time), tells the
   grader it is ready (one JSON line on a pipe it then closes: what the child prints afterwards
   can never reach that pipe), and calls the entry with the child's configuration.

Also here: :func:`block_imports`, the import hook a child uses to refuse the
reference packages by name.
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import resource
import shutil
import signal
import sys

# Landlock (include/uapi/linux/landlock.h)
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_CREATE_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_ALL = 3     # bind / connect TCP
_SCOPE_ALL = 3   # abstract Unix sockets, signals
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS, _PR_SET_CHILD_SUBREAPER = 1, 38, 36
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV

# packages the module under test may not import (the reference and the checker)
BLOCKED_PACKAGES = ("numpy_rnn", "torch_ref", "torch")


def _libc():
    return ctypes.CDLL(None, use_errno=True)


# ---- resource limits -----------------------------------------------------------------

def set_limits(memory: int | None, file_size: int | None, processes: int | None,
               files: int | None = 1024) -> None:
    """Resource limits of this process and its children (bytes, bytes, count of the
    user's processes and threads, open files); None leaves one alone."""
    limits = [(resource.RLIMIT_CORE, 0)]
    if memory:
        limits.append((resource.RLIMIT_AS, memory))
    if file_size:
        limits.append((resource.RLIMIT_FSIZE, file_size))
    if processes:
        limits.append((resource.RLIMIT_NPROC, processes))
    if files:
        limits.append((resource.RLIMIT_NOFILE, files))
    for which, value in limits:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


# ---- users and capabilities ----------------------------------------------------------

_CAP_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """No effective, permitted or inheritable capability, none in the bounding set."""
    libc = _libc()
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP; EINVAL past the last one
    data = (_CapData * 2)((0, 0, 0), (0, 0, 0))
    if libc.capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def capabilities() -> int:
    """This process's effective capabilities (a bit mask)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` with no supplementary groups and no capability (root only)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getresuid() != (uid, uid, uid) or os.getresgid() != (gid, gid, gid):
        raise OSError("could not switch to the sandbox user")
    drop_capabilities()
    if capabilities():
        raise OSError("capabilities left after the switch to the sandbox user")


def die_with_parent() -> None:
    """SIGKILL when the parent ends (cleared by a change of user: call after one)."""
    _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ---- Landlock ------------------------------------------------------------------------

class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: not available)."""
    try:
        version = _libc().syscall(_SYS_CREATE, None, ctypes.c_size_t(0),
                                  ctypes.c_uint32(_CREATE_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def landlock(rules, writable=(), devices=()) -> str:
    """Confine this process and its children: read (and run) only what ``rules`` allow
    (``(path, "read" | "list")`` pairs), write only under ``writable``, ``devices``
    (``/dev/null``) read and written; no TCP (ABI 4+), no abstract Unix sockets and no
    signals out of the sandbox (ABI 6+). Returns a description; raises ``OSError``
    when the kernel refuses."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError("Landlock is not available in this kernel")
    fs = _FS_ALL_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0) \
        | (_FS_IOCTL_DEV if abi >= 5 else 0)
    attr = _RulesetAttr(fs, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    libc = _libc()
    ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

    def add(path, access):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                access &= _FILE_RIGHTS
            rule = _PathBeneath(access & fs, fd)
            if access & fs and libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH,
                                            ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
        finally:
            os.close(fd)

    try:
        for path, kind in rules:
            add(path, read if kind == "read" else _FS_READ_DIR)
        for path in devices:
            add(path, _FS_READ_FILE | _FS_WRITE_FILE | _FS_TRUNCATE)
        for path in writable:
            add(os.path.realpath(path), fs)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_SYS_RESTRICT, ruleset, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return f"Landlock ABI {abi}"


# ---- the launcher --------------------------------------------------------------------

def _children() -> list:
    found = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/children") as fh:
                found += [int(p) for p in fh.read().split()]
        except (OSError, ValueError):
            pass
    return found


def _reap(child: int, fds) -> None:
    """The subreaper's life: wait for ``child``, then kill and reap every process left
    (orphans of the sandbox are re-parented here); exit as the child did."""
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE,
                signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_IGN)
    status = 0
    while True:
        try:
            pid, how = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            status = how
            break
    for _ in range(100):
        left = _children()
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def _copy(source: str, target: str) -> None:
    shutil.copytree(source, target, symlinks=False, dirs_exist_ok=True)


class _Absent:
    """A meta-path finder answering ``ModuleNotFoundError`` for the packages the
    allow-list leaves out (their folders are masked or unreadable: without it an
    ``import`` would find an empty namespace or a file it may not read)."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (not in this sandbox)",
                                      name=name)
        return None


def enter(config: dict) -> list:
    """Steps 2-5 of :func:`launch`; the notes describing what was applied."""
    notes = []
    os.umask(0o077)
    world = config["world"]
    if config.get("copy_from"):
        _copy(config["copy_from"], config["submission"])
    set_limits(config.get("memory"), config.get("file_size"), config.get("nproc"),
               config.get("files", 1024))
    if config["level"] == "fallback":
        if config.get("uid") is not None:
            drop_privileges(config["uid"], config["gid"])
            notes.append(f"uid {config['uid']}")
        else:
            drop_capabilities()
        die_with_parent()
        try:
            # its own /proc entries (no process of its own can follow: seccomp), the
            # names in /proc (as under bubblewrap, where it lists its namespace's)
            rules = [tuple(r) for r in config["rules"]] + [
                (f"/proc/{os.getpid()}", "read"), ("/proc", "list")]
            notes.append(landlock(rules, (world,), config.get("devices", ())))
        except OSError as exc:
            notes.append(f"no Landlock ({exc})")
    if config.get("seccomp", True):
        from torch_ref.verify.isolation import seccomp

        try:
            seccomp.install(processes=config["level"] != "fallback")
            notes.append("seccomp")
        except OSError as exc:
            notes.append(f"no seccomp ({exc})")
    os.chdir(world)
    if config.get("absent"):
        sys.meta_path.insert(0, _Absent(config["absent"]))
    return notes


def _say(fd: int, message: dict) -> None:
    data = (json.dumps(message) + "\n").encode()
    try:
        os.write(fd, data)
    except OSError:
        pass


def _function(name: str):
    module_name, _, function = name.partition(":")
    return getattr(importlib.import_module(module_name), function)


def launch(config_text: str) -> None:
    """The child's first code (see the module's docstring); never returns."""
    config = json.loads(config_text)
    status = config["fd_status"]
    try:
        if config.get("reaper"):
            _libc().prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            die_with_parent()
            pid = os.fork()
            if pid:
                _reap(pid, [status, *config.get("fds", ())])
        notes = enter(config)
        for name in config.get("preload", ()):
            importlib.import_module(name)
        entry = _function(config["entry"])
        if config.get("setup"):
            _function(config["setup"])(json.dumps(config["child"]))
        for path in config.get("drop_paths", ()):
            while path in sys.path:
                sys.path.remove(path)
    except BaseException as exc:  # noqa: BLE001 - told to the grader, which decides
        _say(status, {"error": f"{type(exc).__name__}: {exc}"[:2000]})
        os._exit(70)
    _say(status, {"ready": True, "notes": notes})
    os.close(status)
    entry(json.dumps(config["child"]))
    sys.exit(0)


def run_script(config_text: str) -> None:
    """An entry that runs a script of the submission (``script`` in the child's
    configuration, relative to its copy) as ``__main__``, with the configuration as
    ``sys.argv[1]`` (the fds it may talk on)."""
    import runpy

    config = json.loads(config_text)
    script = os.path.join(config["submission"], config["script"])
    sys.argv = [script, config_text]
    runpy.run_path(script, run_name="__main__")


# ---- the import hook -----------------------------------------------------------------

class _Blocker:
    """A meta-path finder refusing the reference packages; remembers who asked."""

    def __init__(self, blocked, allowed):
        self.blocked, self.allowed = tuple(blocked), set(allowed)
        self.attempts: list = []

    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in self.blocked and name not in self.allowed:
            if name not in self.attempts:
                self.attempts.append(name)
            raise ImportError(f"{name} is part of the grader (its reference implementation "
                              f"or the checker); the module under test cannot import it",
                              name=name)
        return None


def block_imports(blocked=BLOCKED_PACKAGES) -> _Blocker:
    """Refuse the reference packages (those already imported by the child stay)."""
    for name in list(sys.modules):
        if name.split(".")[0] in ("numpy_rnn", "torch") and name.split(".")[0] in blocked:
            del sys.modules[name]
    blocker = _Blocker(blocked, [n for n in sys.modules if n.split(".")[0] in blocked])
    sys.meta_path.insert(0, blocker)
    return blocker
