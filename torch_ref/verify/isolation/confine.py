"""What the child does to itself before it loads the submission.

Everything here runs in the child while only the grader's code has run there:

- resource limits: address space (``RLIMIT_AS``), size of any file written
  (``RLIMIT_FSIZE``, with ``SIGXFSZ`` ignored so a write fails instead of killing),
  processes of the sandbox user (``RLIMIT_NPROC``), no core files;
- when started as root: an unprivileged user (``setgroups``/``setgid``/``setuid``), so
  the module can neither signal the grader nor write its files; it keeps only
  ``CAP_DAC_READ_SEARCH`` (a Python installed under ``/root`` must stay readable),
  and only when Landlock is there to say what it may read;
- Landlock (Linux 5.13+): reads everywhere but the reference implementation, the
  grader's output folder and the other excluded trees; writes only in the child's
  temporary directory; no TCP; no signals to processes outside the sandbox;
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal

# Landlock ABI constants (include/uapi/linux/landlock.h)
_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446
_CREATE_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE = 1 << 13, 1 << 14
_NET_ALL = 3  # bind / connect TCP
_SCOPE_ALL = 3  # abstract unix sockets, signals
_PR_SET_NO_NEW_PRIVS, _PR_SET_PDEATHSIG = 38, 1

def set_limits(memory: int | None, file_size: int | None, processes: int | None) -> None:
    """Resource limits of this process (bytes, bytes, count); None leaves one alone."""
    limits = [(resource.RLIMIT_CORE, 0)]
    if memory:
        limits.append((resource.RLIMIT_AS, memory))
    if file_size:
        limits.append((resource.RLIMIT_FSIZE, file_size))
    if processes and os.geteuid() == 0:  # per user: meaningful for the sandbox user only
        limits.append((resource.RLIMIT_NPROC, processes))
    for which, value in limits:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


_PR_SET_KEEPCAPS = 8
_CAP_VERSION_3 = 0x20080522
CAP_DAC_READ_SEARCH = 2


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def set_capabilities(*caps: int) -> None:
    """Keep exactly ``caps`` (effective and permitted); none when empty."""
    mask = 0
    for cap in caps:
        mask |= 1 << cap
    data = (_CapData * 2)((mask & 0xFFFFFFFF, mask & 0xFFFFFFFF, 0), (mask >> 32, mask >> 32, 0))
    if _libc().capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def drop_privileges(uid: int, gid: int, keep_reading: bool = False) -> None:
    """Become ``uid``/``gid`` with no supplementary groups (root only).

    keep_reading: keep only ``CAP_DAC_READ_SEARCH``, so that the Python installation
    stays readable where it is not world-readable (under ``/root``); Landlock then
    decides what may be read, and :func:`set_capabilities` drops it if Landlock
    cannot be had.
    """
    if keep_reading:
        _libc().prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not switch to the sandbox user")
    set_capabilities(*((CAP_DAC_READ_SEARCH,) if keep_reading else ()))


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent() -> None:
    """SIGKILL when the grader ends (cleared by a change of user: call after).
    Linux only; elsewhere the grader's kill at the end is what stops the child."""
    try:
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (AttributeError, OSError):
        pass


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
        libc = _libc()
        version = libc.syscall(_SYS_CREATE, None, ctypes.c_size_t(0),
                               ctypes.c_uint32(_CREATE_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def _readable_except(root: str, excluded: tuple, add) -> None:
    """``add(path)`` for ``root`` or, when an excluded tree lies inside it, for each of
    its entries but the excluded ones (descending only along excluded paths)."""
    inside = [e for e in excluded if e == root or e.startswith(root.rstrip("/") + "/")]
    if root in excluded:
        return
    if not inside:
        add(root)
        return
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return
    for entry in entries:
        path = os.path.join(root, entry)
        if os.path.islink(path):
            continue  # the target is reached through its real path
        if os.path.isdir(path):
            _readable_except(path, excluded, add)
        elif path not in excluded:
            add(path)


def readable_roots(hidden: tuple) -> list:
    """The trees to allow reading so that everything but ``hidden`` is readable."""
    roots: list = []
    hidden = tuple(sorted({os.path.realpath(h) for h in hidden if h}))
    _readable_except("/", hidden, roots.append)
    return roots


def landlock(writable: tuple, hidden: tuple, readable: tuple = (), roots=None) -> str:
    """Confine this process: read all but ``hidden`` (plus ``readable`` inside them),
    write only under ``writable``; no TCP, no signals out. ``roots``: the result of
    :func:`readable_roots` for ``hidden`` when already known. Returns a description,
    or raises ``OSError`` when the kernel refuses."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError("Landlock is not available in this kernel")
    fs = _FS_ALL_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    attr = _RulesetAttr(fs, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    libc = _libc()
    ruleset = libc.syscall(_SYS_CREATE, ctypes.byref(attr), ctypes.c_size_t(size),
                           ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

    def add(path, access=read):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                access &= _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | (
                    _FS_TRUNCATE if abi >= 3 else 0)
            rule = _PathBeneath(access & fs, fd)
            if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH,
                            ctypes.byref(rule), ctypes.c_uint32(0)) < 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
        finally:
            os.close(fd)

    try:
        for path in roots if roots is not None else readable_roots(hidden):
            add(path)
        for path in readable:
            add(os.path.realpath(path))
        for path in writable:
            add(os.path.realpath(path), fs)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(_SYS_RESTRICT, ruleset, ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return f"Landlock ABI {abi}: writes only in its temporary directory" + (
        ", no signals to the grader" if abi >= 6 else "")


def enter(config: dict) -> str:
    """Everything the child does to itself before the submission runs, as the grader's
    ``config`` says (limits, user, file system); a description of what took effect."""
    set_limits(config.get("memory"), config.get("file_size"), config.get("processes"))
    notes = []
    switch = config.get("uid") is not None
    can_confine = landlock_abi() >= 1
    if switch:
        # reading stays possible where the sandbox user has no permission (a Python
        # under /root) only while Landlock decides what can be read
        drop_privileges(config["uid"], config["gid"], keep_reading=can_confine)
        notes.append(f"user {config['uid']}")
    die_with_parent()
    try:
        notes.append(landlock((config["tmp"], "/dev/null"), tuple(config["hidden"]),
                              tuple(config.get("readable", ())),
                              roots=config.get("readable_roots")))
    except OSError as exc:
        if switch:
            set_capabilities()
        notes.append(f"no file system confinement ({exc})")
    return "; ".join(notes)
