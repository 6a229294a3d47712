"""How the grader starts a sandbox's launcher
(:func:`~torch_ref.verify.isolation.confine.launch`): the files it imports, its
command line (the interpreter and the folders it imports from) and its environment."""
from __future__ import annotations

import os
import sys

from torch_ref.verify.isolation import allowlist

# what the launcher needs besides the caller's files
LAUNCHER_FILES = ("torch_ref/__init__.py", "torch_ref/verify/__init__.py",
                "torch_ref/verify/isolation/__init__.py",
                "torch_ref/verify/isolation/confine.py",
                "torch_ref/verify/isolation/seccomp.py")


def command(allowed, mirrored: bool) -> tuple:
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


def environment(world: str) -> dict:
    """The environment of the launcher and the child: nothing of the grader's;
    ``world``, the child's writable folder, as its home and temporary folder."""
    return {"PATH": "/usr/bin:/bin", "HOME": world, "TMPDIR": world,
            "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "USER": "sandbox", "LOGNAME": "sandbox", "TZ": "UTC"}
