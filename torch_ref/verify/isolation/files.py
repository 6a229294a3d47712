"""The files of a sandbox: the copy of the submission it reads, the size of what it
wrote (deleted files still held open included), and removing it all afterwards."""
from __future__ import annotations

import os
import shutil
import stat


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


def disk_used(path: str, pids) -> tuple:
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
