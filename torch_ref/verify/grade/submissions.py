"""Finding the submissions of a class, staging each one alone, and naming its content.

A submission is a ``.py`` file, a folder of one student's files, or an archive of
them (``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``). A folder
holding none of the API's files but sub-folders, archives or several ``.py`` files
(a class folder) stands for each of its entries.

:func:`stage` copies one submission, and nothing else, into a private folder of the
grader (``0700``): a loose file alone, a folder's own files (no links, no caches, no
version control), an archive extracted by :func:`torch_ref.verify.grade.archives.extract`.
The child that checks it is given that copy only, so a loose ``a.py`` next to ``b.py``
in a class folder cannot import ``b``. :func:`digest` names the staged content: a rerun
reuses a finished report only when the content (and the settings) are the same.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
from dataclasses import dataclass

from torch_ref.verify.grade.archives import (
    ARCHIVE_SUFFIXES,
    MAX_BYTES,
    MAX_MEMBERS,
    ArchiveError,
    extract,
)

_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", ".venv", "venv", "env", "node_modules",
              "site-packages", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache"}
_MAX_DEPTH = 16
_MAX_NAME = 80


class SubmissionError(Exception):
    """A submission that cannot be staged (bad archive, too big, no module inside)."""


@dataclass(frozen=True)
class Submission:
    """One student's work. name: unique (ignoring case), file-system safe, used for its
    report folder; source: the absolute path given (file, folder or archive)."""

    name: str
    source: str

    @property
    def kind(self) -> str:
        if os.path.isdir(self.source):
            return "folder"
        return "archive" if is_archive(self.source) else "file"


def is_archive(path: str) -> bool:
    return os.path.isfile(path) and path.lower().endswith(ARCHIVE_SUFFIXES)


def _stem(path: str) -> str:
    base = os.path.basename(os.path.normpath(path))
    for suffix in sorted(ARCHIVE_SUFFIXES + (".py",), key=len, reverse=True):
        if base.lower().endswith(suffix):
            return base[:-len(suffix)]
    return base


def safe_name(text: str) -> str:
    """A folder name made of ``[A-Za-z0-9_.-]``, never starting with ``.`` or ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._")[:_MAX_NAME].strip("._")
    return name or "submission"


def _holds_module(folder: str, conventional_files) -> bool:
    """One student's folder: it holds the API's file, or one Python file and nothing
    that looks like another submission (a sub-folder or an archive)."""
    if any(os.path.isfile(os.path.join(folder, f)) for f in conventional_files):
        return True
    entries = [os.path.join(folder, e) for e in os.listdir(folder) if not e.startswith(".")]
    if any(os.path.isdir(e) and not os.path.basename(e).startswith("__") or is_archive(e)
           for e in entries):
        return False
    return sum(e.endswith(".py") for e in entries) == 1


def collect(paths, conventional_files=(), exclude=()) -> list:
    """The submissions behind the command-line arguments, with unique names.

    exclude: folders that are never submissions (the output folder). Raises
    ``ValueError`` naming an argument that is neither a .py file, a folder nor an
    archive.
    """
    excluded = {os.path.realpath(e) for e in exclude}
    found = []
    for path in paths:
        if os.path.isdir(path) and not _holds_module(path, conventional_files):
            entries = sorted(os.path.join(path, e) for e in os.listdir(path)
                             if not e.startswith("."))
            members = [e for e in entries if os.path.realpath(e) not in excluded
                       and (os.path.isdir(e) or is_archive(e) or e.endswith(".py"))]
            if not members:
                raise ValueError(f"{path}: a folder with no Python file, no archive and no "
                                 f"sub-folder: nothing to grade")
            found.extend(members)
        elif os.path.isdir(path) or is_archive(path) or (
                os.path.isfile(path) and path.endswith(".py")):
            found.append(path)
        else:
            raise ValueError(f"SUBMISSION {path}: not a .py file, a folder or an archive "
                             f"({', '.join(ARCHIVE_SUFFIXES)})" if os.path.exists(path)
                             else f"SUBMISSION {path}: no such file or folder")
    submissions, used = [], set()
    for path in found:
        base = safe_name(_stem(path))
        name, k = base, 1
        while name.lower() in used:  # report folders differ on case-blind file systems too
            k += 1
            name = f"{base}-{k}"
        used.add(name.lower())
        submissions.append(Submission(name, os.path.abspath(path)))
    return submissions


# ---- staging --------------------------------------------------------------------------

def stage(sub: Submission, private: str) -> str:
    """Copy ``sub`` alone into ``private`` (a new folder, made ``0700``); the folder
    holding the copy (``private/NAME``: a folder one level down, so that a package
    submission keeps its name and its root stays inside ``private``).
    Raises :class:`SubmissionError`."""
    os.makedirs(private, mode=0o700)
    os.chmod(private, 0o700)
    staged = os.path.join(private, sub.name)
    kind = sub.kind
    try:
        if kind == "archive":
            try:
                extract(sub.source, staged)
            except ArchiveError as exc:
                raise SubmissionError(f"{os.path.basename(sub.source)}: {exc}") from None
        elif kind == "folder":
            _copy_folder(sub.source, staged)
        else:
            os.makedirs(staged)
            size = os.path.getsize(sub.source)
            if size > MAX_BYTES:
                raise SubmissionError(f"{os.path.basename(sub.source)}: more than "
                                      f"{MAX_BYTES >> 20} MiB")
            shutil.copyfile(sub.source, os.path.join(staged, _module_file_name(sub.source)))
    except OSError as exc:
        raise SubmissionError(f"{os.path.basename(sub.source)}: cannot be read "
                              f"({exc.strerror or exc})") from None
    return staged


def _module_file_name(path: str) -> str:
    """A loose file keeps its name when Python can import it under that name."""
    base = os.path.basename(path)
    stem = base[:-3] if base.endswith(".py") else base
    if stem.isidentifier():
        return base
    return (re.sub(r"\W", "_", stem).lstrip("0123456789") or "submission") + ".py"


def _copy_folder(source: str, destination: str) -> None:
    """A student's folder, without links, special files, caches, environments or
    version control; at most ``MAX_MEMBERS`` entries and ``MAX_BYTES`` bytes."""
    count = total = 0
    pending = [(source, destination, 0)]
    while pending:
        here, target, depth = pending.pop()
        os.makedirs(target, exist_ok=True)
        with os.scandir(here) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_symlink():
                    continue  # might point at a classmate's folder
                count += 1
                if count > MAX_MEMBERS:
                    raise SubmissionError(f"{os.path.basename(source)}: more than "
                                          f"{MAX_MEMBERS} files and folders")
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in _SKIP_DIRS and depth < _MAX_DEPTH:
                        pending.append((entry.path, os.path.join(target, entry.name),
                                        depth + 1))
                elif entry.is_file(follow_symlinks=False) and not entry.name.endswith(
                        (".pyc", ".pyo")):
                    total += entry.stat(follow_symlinks=False).st_size
                    if total > MAX_BYTES:
                        raise SubmissionError(f"{os.path.basename(source)}: more than "
                                              f"{MAX_BYTES >> 20} MiB")
                    shutil.copyfile(entry.path, os.path.join(target, entry.name),
                                    follow_symlinks=False)


def digest(staged: str, settings: dict) -> str:
    """SHA-256 of what is graded: every staged file's path (relative, ``/``-separated)
    and bytes, in path order, and ``settings`` (API, seed, strict, rubric, limits,
    report-format version: whatever changes the result). Length-prefixed, so no two
    different contents give the same input."""
    import json

    h = hashlib.sha256(b"torch_ref grade digest 1\0")
    blob = json.dumps(settings, sort_keys=True, separators=(",", ":")).encode()
    h.update(struct.pack(">Q", len(blob)) + blob)
    files = []
    for here, dirs, names in os.walk(staged):
        dirs.sort()
        for name in names:
            path = os.path.join(here, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files.append((os.path.relpath(path, staged).replace(os.sep, "/"), path))
    for relative, path in sorted(files):
        name = relative.encode("utf-8", "surrogateescape")
        h.update(struct.pack(">Q", len(name)) + name)
        h.update(struct.pack(">Q", os.path.getsize(path)))
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def find_module(folder: str, conventional_files=()) -> str:
    """What to check inside a submission folder: the folder itself when it is a handout
    root, else the module the verify target resolver finds in it
    (:func:`torch_ref.verify.target.module_in_folder`). Raises :class:`SubmissionError`."""
    from torch_ref.verify.load import handout
    from torch_ref.verify.load.loader import ModuleLoadError
    from torch_ref.verify.target import module_in_folder

    if handout.is_handout(folder):
        return folder
    try:
        return module_in_folder(folder, conventional_files)
    except ModuleLoadError as exc:
        raise SubmissionError(f"no module to check: {exc}") from None
