"""Finding the submissions of a class and the module inside each one.

A submission is a ``.py`` file, a folder of one student's files, or an archive of
them (``.zip``, ``.tar``, ``.tar.gz``/``.tgz``, ``.tar.bz2``, ``.tar.xz``). A folder
holding none of the API's files but sub-folders, archives or several ``.py`` files
(a class folder) stands for each of its entries. Archives are extracted safely: no
absolute paths, no ``..``, no links or devices, at most :data:`MAX_MEMBERS` members
and :data:`MAX_EXTRACTED` bytes.
"""
from __future__ import annotations

import os
import re
import shutil
import tarfile
import zipfile
from dataclasses import dataclass

MAX_MEMBERS = 2000
MAX_EXTRACTED = 200 << 20
_ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


class SubmissionError(Exception):
    """A submission that cannot be opened (bad archive, no module inside)."""


@dataclass
class Submission:
    """One student's work. name: unique, file-system safe; source: what was given."""

    name: str
    source: str


def is_archive(path: str) -> bool:
    return os.path.isfile(path) and path.lower().endswith(_ARCHIVES)


def _stem(path: str) -> str:
    base = os.path.basename(os.path.normpath(path))
    for suffix in sorted(_ARCHIVES + (".py",), key=len, reverse=True):
        if base.lower().endswith(suffix):
            return base[:-len(suffix)]
    return base


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "submission"


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


def collect(paths, conventional_files=()) -> list:
    """The submissions behind the command-line arguments, with unique names.

    Raises ``ValueError`` naming an argument that is neither a .py file, a folder nor
    an archive.
    """
    found = []
    for path in paths:
        if os.path.isdir(path) and not _holds_module(path, conventional_files):
            entries = sorted(os.path.join(path, e) for e in os.listdir(path)
                             if not e.startswith("."))
            members = [e for e in entries
                       if os.path.isdir(e) or is_archive(e) or e.endswith(".py")]
            if not members:
                raise ValueError(f"{path}: a folder with no Python file, no archive and no "
                                 f"sub-folder: nothing to grade")
            found.extend(members)
        elif os.path.isdir(path) or is_archive(path) or (
                os.path.isfile(path) and path.endswith(".py")):
            found.append(path)
        else:
            raise ValueError(f"SUBMISSION {path}: not a .py file, a folder or an archive "
                             f"({', '.join(_ARCHIVES)})" if os.path.exists(path)
                             else f"SUBMISSION {path}: no such file or folder")
    submissions, used = [], set()
    for path in found:
        name, k = _safe_name(_stem(path)), 1
        while name in used:
            k += 1
            name = f"{_safe_name(_stem(path))}-{k}"
        used.add(name)
        submissions.append(Submission(name, os.path.abspath(path)))
    return submissions


def extract(archive: str, destination: str) -> None:
    """Extract ``archive`` into ``destination``; :class:`SubmissionError` when it is
    malformed or unsafe (absolute or ``..`` paths, links, devices, too big)."""
    os.makedirs(destination, exist_ok=True)
    try:
        if archive.lower().endswith(".zip"):
            _extract_zip(archive, destination)
        else:
            _extract_tar(archive, destination)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        raise SubmissionError(f"{os.path.basename(archive)}: cannot be extracted "
                              f"({exc})") from None


def _member_path(destination: str, name: str) -> str:
    clean = name.replace("\\", "/")
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or ".." in parts:
        raise SubmissionError(f"archive member {name!r} points outside the archive")
    target = os.path.join(destination, *parts) if parts else destination
    root = os.path.realpath(destination)
    if not os.path.realpath(target).startswith(root + os.sep) and parts:
        raise SubmissionError(f"archive member {name!r} points outside the archive")
    return target


def _check_sizes(count: int, total: int) -> None:
    if count > MAX_MEMBERS:
        raise SubmissionError(f"more than {MAX_MEMBERS} files in the archive")
    if total > MAX_EXTRACTED:
        raise SubmissionError(f"more than {MAX_EXTRACTED >> 20} MiB once extracted")


def _extract_zip(archive: str, destination: str) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        _check_sizes(len(infos), sum(i.file_size for i in infos))
        written = 0
        for info in infos:
            target = _member_path(destination, info.filename)
            mode = (info.external_attr >> 16) & 0o170000
            if mode and mode not in (0o100000, 0o040000):
                raise SubmissionError(f"archive member {info.filename!r} is a link or a "
                                      f"special file")
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                while True:  # count real bytes: a member may lie about its size
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    written += len(chunk)
                    _check_sizes(0, written)
                    dst.write(chunk)


def _extract_tar(archive: str, destination: str) -> None:
    with tarfile.open(archive) as tf:
        members = tf.getmembers()
        _check_sizes(len(members), sum(m.size for m in members if m.isfile()))
        for member in members:
            target = _member_path(destination, member.name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.isfile():
                os.makedirs(os.path.dirname(target), exist_ok=True)
                src = tf.extractfile(member)
                with src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            else:
                raise SubmissionError(f"archive member {member.name!r} is a link or a "
                                      f"special file")


def find_module(folder: str, conventional_files=()) -> str:
    """The module to check inside a submission folder: a conventional file (at its
    place, or anywhere below by its file name), else the only ``.py`` file.
    Raises :class:`SubmissionError`."""
    for name in conventional_files:
        if os.path.isfile(os.path.join(folder, name)):
            return os.path.join(folder, name)
    python_files = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        python_files.extend(os.path.join(here, f) for f in sorted(files) if f.endswith(".py"))
    for name in conventional_files:
        tail = os.sep + name.replace("/", os.sep)
        base = os.path.basename(name)
        matches = [p for p in python_files if p.endswith(tail)] or [
            p for p in python_files if os.path.basename(p) == base]
        if matches:
            return min(matches, key=len)
    candidates = [p for p in python_files if os.path.basename(p) != "__init__.py"]
    if len(candidates) == 1:
        return candidates[0]
    expected = ", ".join(conventional_files) or "a .py file"
    raise SubmissionError(f"no module to check: expected {expected}"
                          + (f"; found {len(candidates)} other .py files" if candidates
                             else "; found no .py file"))
