"""A seccomp filter, written as classic BPF with ctypes (no libseccomp needed).

:func:`install` refuses, for the calling process and everything it starts:

- every socket (``socket`` for every family, ``socketpair``): no network, no Unix
  sockets to the grader's agents;
- System V IPC and POSIX message queues (objects that outlive a process),
  ``memfd_create`` (memory no process's RSS shows), ``io_uring`` (its operations
  bypass this filter);
- ``ptrace``, ``process_vm_*``, ``kcmp``, ``pidfd_*``; ``mount`` and the new mount
  API, ``unshare``, ``setns``, ``chroot``; keyrings, ``bpf``, ``perf_event_open``,
  ``userfaultfd``, ``open_by_handle_at``, modules, ``kexec``, ``reboot``, swap,
  ``acct``, ``syslog``, ``iopl``/``ioperm``;
- with ``processes=False`` (the fallback, which has no pid namespace): new processes
  (``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``; ``clone3`` answers ENOSYS
  so that the C library falls back to ``clone``: threads still start), ``setsid``
  and ``setpgid``, and signals to any process but this one (``kill``, ``tkill``,
  ``tgkill``, ``rt_sigqueueinfo``, ``rt_tgsigqueueinfo``).

Calls of another architecture's ABI (i386 through ``int 0x80``, x32) kill the process.
x86_64 and aarch64 only; :func:`supported` says whether this machine is one.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

# linux/audit.h
_ARCHES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# syscall numbers (asm/unistd_64.h for x86_64, asm-generic/unistd.h for aarch64)
_X86_64 = {
    "socket": 41, "socketpair": 53, "fork": 57, "vfork": 58, "clone": 56, "clone3": 435,
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kill": 62,
    "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
    "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438, "shmget": 29,
    "shmat": 30, "shmctl": 31, "shmdt": 67, "semget": 64, "semop": 65, "semctl": 66,
    "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71,
    "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243,
    "mq_notify": 244, "mq_getsetattr": 245, "setsid": 112, "setpgid": 109, "mount": 165,
    "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
    "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321, "perf_event_open": 298,
    "userfaultfd": 323, "open_by_handle_at": 304, "name_to_handle_at": 303,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "memfd_create": 319, "memfd_secret": 447, "kcmp": 312, "process_madvise": 440,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246,
    "kexec_file_load": 320, "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163,
    "syslog": 103, "iopl": 172, "ioperm": 173, "fanotify_init": 300, "open_tree": 428,
    "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
    "mount_setattr": 442, "quotactl": 179, "uselib": 134,
}
_AARCH64 = {
    "socket": 198, "socketpair": 199, "clone": 220, "clone3": 435, "ptrace": 117,
    "process_vm_readv": 270, "process_vm_writev": 271, "kill": 129, "tkill": 130,
    "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
    "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438, "shmget": 194,
    "shmat": 196, "shmctl": 195, "shmdt": 197, "semget": 190, "semop": 193, "semctl": 191,
    "semtimedop": 192, "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187,
    "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183,
    "mq_notify": 184, "mq_getsetattr": 185, "setsid": 157, "setpgid": 154, "mount": 40,
    "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
    "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280, "perf_event_open": 241,
    "userfaultfd": 282, "open_by_handle_at": 265, "name_to_handle_at": 264,
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "memfd_create": 279, "memfd_secret": 447, "kcmp": 272, "process_madvise": 440,
    "init_module": 105, "finit_module": 273, "delete_module": 106, "kexec_load": 104,
    "kexec_file_load": 294, "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89,
    "syslog": 116, "fanotify_init": 262, "open_tree": 428, "move_mount": 429,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442,
    "quotactl": 60,
}
_TABLES = {"x86_64": _X86_64, "aarch64": _AARCH64}

ALWAYS_REFUSED = (
    "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "process_madvise", "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop",
    "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
    "mq_timedreceive", "mq_notify", "mq_getsetattr", "memfd_create", "memfd_secret",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "open_tree",
    "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
    "open_by_handle_at", "name_to_handle_at", "init_module", "finit_module",
    "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff",
    "acct", "syslog", "iopl", "ioperm", "fanotify_init", "quotactl", "uselib",
)
# without a pid namespace: no processes, no new sessions or groups, no signals out
PROCESS_REFUSED = ("fork", "vfork", "setsid", "setpgid", "tkill")
_OWN_PID_ONLY = {"kill": 0, "tgkill": 0, "rt_sigqueueinfo": 0, "rt_tgsigqueueinfo": 0}

_CLONE_THREAD = 0x00010000
# classic BPF (linux/filter.h, linux/seccomp.h)
_LD_W_ABS, _JEQ_K, _JSET_K, _JGE_K, _RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
_RET_ALLOW, _RET_KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_X32_BIT = 0x40000000
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


def machine() -> str | None:
    """``x86_64`` or ``aarch64`` (None: an architecture this filter does not know)."""
    name = platform.machine().lower()
    name = {"amd64": "x86_64", "arm64": "aarch64"}.get(name, name)
    if name in _TABLES and struct.calcsize("P") == 8:
        return name
    return None


def supported() -> bool:
    return machine() is not None


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k & 0xFFFFFFFF)


def program(processes: bool, pid: int | None = None, arch: str | None = None) -> bytes:
    """The filter as raw ``sock_filter`` instructions (what ``bwrap --seccomp`` reads).

    processes: whether new processes (and signals among them) are allowed (a pid
    namespace holds them); pid: the only process signals may go to (default: this
    one), used when ``processes`` is False."""
    arch = arch or machine()
    if arch is None:
        raise OSError(errno.ENOSYS, "seccomp: unsupported architecture")
    table = _TABLES[arch]
    pid = os.getpid() if pid is None else pid
    code = [_insn(_LD_W_ABS, 0, 0, 4),                     # seccomp_data.arch
            _insn(_JEQ_K, 1, 0, _ARCHES[arch]),
            _insn(_RET_K, 0, 0, _RET_KILL_PROCESS),
            _insn(_LD_W_ABS, 0, 0, 0)]                     # seccomp_data.nr
    if arch == "x86_64":
        code += [_insn(_JGE_K, 0, 1, _X32_BIT), _insn(_RET_K, 0, 0, _RET_KILL_PROCESS)]

    def refuse(name, err=errno.EPERM):
        if name in table:
            code.extend([_insn(_JEQ_K, 0, 1, table[name]),
                         _insn(_RET_K, 0, 0, _RET_ERRNO | err)])

    def only_if(name, block):  # ``block`` ends in returns; the accumulator is reloaded
        if name in table:
            code.append(_insn(_JEQ_K, 0, len(block), table[name]))
            code.extend(block)

    for name in ALWAYS_REFUSED:
        refuse(name)
    if not processes:
        refuse("clone3", errno.ENOSYS)
        for name in PROCESS_REFUSED:
            refuse(name)
        # clone(flags, ...): threads only
        only_if("clone", [_insn(_LD_W_ABS, 0, 0, 16),
                          _insn(_JSET_K, 0, 1, _CLONE_THREAD),
                          _insn(_RET_K, 0, 0, _RET_ALLOW),
                          _insn(_RET_K, 0, 0, _RET_ERRNO | errno.EPERM)])
        for name, arg in _OWN_PID_ONLY.items():
            only_if(name, [_insn(_LD_W_ABS, 0, 0, 16 + 8 * arg),
                           _insn(_JEQ_K, 0, 1, pid),
                           _insn(_RET_K, 0, 0, _RET_ALLOW),
                           _insn(_RET_K, 0, 0, _RET_ERRNO | errno.EPERM)])
    code.append(_insn(_RET_K, 0, 0, _RET_ALLOW))
    return b"".join(code)


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(processes: bool) -> str:
    """Load the filter into this process (single-threaded: call before any thread
    starts); it stays for every process started from here. Returns a description;
    raises ``OSError`` when the kernel refuses."""
    code = program(processes)
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = _Program(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
    return "seccomp" if processes else "seccomp (threads only, no signals out)"
