"""Extracting a submitted archive without letting it cost more than a submission may.

:func:`extract` runs this file as a script in a child process with an address-space
limit (:data:`MAX_MEMORY`), a CPU limit and a wall-clock limit (:data:`MAX_SECONDS`)
and a largest file (:data:`MAX_BYTES`); whatever the archive does to the decompressor
or to :mod:`tarfile`/:mod:`zipfile` ends there, as that submission's error. Inside,
the archive is read as a stream and every limit is checked as it is read:

- tar (plain, gzip, bzip2, xz): ``tarfile.open(mode="r|*")``, one header at a time;
  the :data:`MAX_MEMBERS` + 1st member ends it, so an archive of millions of empty
  members costs as much as one of :data:`MAX_MEMBERS`;
- zip: the end-of-central-directory record (and its zip64 form) is read first; an
  archive whose directory claims more than :data:`MAX_MEMBERS` entries or more than
  :data:`MAX_DIRECTORY` bytes is refused before :class:`zipfile.ZipFile` parses it;
- every member: no absolute path, no ``..``, no link, device or FIFO; its bytes are
  counted as they are decompressed (a member may lie about its size), at most
  :data:`MAX_BYTES` in all.

Only the standard library is imported here: the child starts in a few milliseconds.
"""
from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import time

MAX_MEMBERS = 2000          # files and folders in one archive
MAX_BYTES = 200 << 20       # bytes once extracted
MAX_DIRECTORY = 2 << 20     # bytes of a zip's central directory (~1 KiB per member)
MAX_SECONDS = 60            # wall-clock and CPU seconds to extract one archive
MAX_MEMORY = 768 << 20      # address space of the extracting process

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz",
                    ".txz")
_REFUSED = 3  # exit status of the child for an archive it refuses (message on stdout)


class ArchiveError(Exception):
    """An archive that cannot be extracted or is refused (the message says why)."""


def extract(archive: str, destination: str, seconds: float = MAX_SECONDS) -> None:
    """Extract ``archive`` into the (new or empty) folder ``destination`` in a limited
    child process. Raises :class:`ArchiveError` saying why it is refused."""
    os.makedirs(destination, exist_ok=True)
    command = [sys.executable, "-I", "-S", os.path.abspath(__file__), archive, destination,
               str(seconds)]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=seconds + 5, env={"LANG": "C.UTF-8"})
    except subprocess.TimeoutExpired:
        raise ArchiveError(f"refused: extracting it took more than {seconds:g} s") from None
    message = done.stdout.decode("utf-8", "replace").strip()[:500]
    if done.returncode == 0:
        return
    if done.returncode == _REFUSED and message:
        raise ArchiveError(message)
    if done.returncode < 0:
        raise ArchiveError(f"refused: extracting it was stopped by signal {-done.returncode} "
                           f"(more than {seconds:g} s of CPU or "
                           f"{MAX_MEMORY >> 20} MiB of memory)")
    detail = message or done.stderr.decode("utf-8", "replace").strip()[-300:]
    raise ArchiveError(f"cannot be extracted ({detail})")


# ---- the child ------------------------------------------------------------------------

class _Refused(Exception):
    pass


class _Budget:
    """Members and bytes so far, and the deadline, checked as the archive is read."""

    def __init__(self, seconds: float):
        self.members = self.bytes = 0
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def member(self) -> None:
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise _Refused(f"refused: more than {MAX_MEMBERS} files and folders in the "
                           f"archive")
        self.tick()

    def add(self, n: int) -> None:
        self.bytes += n
        if self.bytes > MAX_BYTES:
            raise _Refused(f"refused: more than {MAX_BYTES >> 20} MiB once extracted")
        self.tick()

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Refused(f"refused: extracting it took more than {self.seconds:g} s")


def _member_path(destination: str, name: str) -> str:
    clean = name.replace("\\", "/")
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or ".." in parts:
        raise _Refused(f"refused: archive member {name!r} points outside the archive")
    if "\0" in clean:
        raise _Refused(f"refused: archive member {name!r} has a NUL in its name")
    return os.path.join(destination, *parts) if parts else destination


def _copy(source, target: str, budget: _Budget) -> None:
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as out:
        while True:
            chunk = source.read(1 << 16)
            if not chunk:
                return
            budget.add(len(chunk))
            out.write(chunk)


def _extract_tar(archive: str, destination: str, budget: _Budget) -> None:
    import tarfile

    with tarfile.open(archive, mode="r|*") as tf:
        for member in tf:  # one header at a time; members already read stay few
            budget.member()
            target = _member_path(destination, member.name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.isreg():
                source = tf.extractfile(member)
                with source:
                    _copy(source, target, budget)
            else:
                raise _Refused(f"refused: archive member {member.name!r} is a link or a "
                               f"special file")


_EOCD = struct.Struct("<4s4H2LH")             # end of central directory
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def _zip_directory_claims(fh) -> tuple:
    """``(entries, directory bytes)`` the end records claim (the zip64 record when there
    is one, as :class:`zipfile.ZipFile` reads them); ``(0, 0)`` when there is none
    (ZipFile then says what is wrong)."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    start = max(size - (1 << 16) - _EOCD.size, 0)
    fh.seek(start)
    tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return 0, 0
    _, _, _, here, total, directory, _, _ = _EOCD.unpack_from(tail, at)
    entries = max(here, total)
    where = start + at - _ZIP64_LOCATOR.size
    if where >= 0:
        fh.seek(where)
        locator = fh.read(_ZIP64_LOCATOR.size)
        if locator[:4] == b"PK\x06\x07":
            candidates = [_ZIP64_LOCATOR.unpack(locator)[2], where - _ZIP64_EOCD.size]
            for offset in candidates:  # where it says, and just before it (ZipFile)
                if offset < 0:
                    continue
                fh.seek(offset)
                record = fh.read(_ZIP64_EOCD.size)
                if len(record) == _ZIP64_EOCD.size and record[:4] == b"PK\x06\x06":
                    fields = _ZIP64_EOCD.unpack(record)
                    entries = max(entries, fields[6], fields[7])
                    directory = max(directory, fields[8])
    return entries, directory


def _extract_zip(archive: str, destination: str, budget: _Budget) -> None:
    import zipfile

    with open(archive, "rb") as fh:
        entries, directory = _zip_directory_claims(fh)
    if entries > MAX_MEMBERS:
        raise _Refused(f"refused: its directory claims {entries} entries (at most "
                       f"{MAX_MEMBERS})")
    if directory > MAX_DIRECTORY:
        raise _Refused(f"refused: its directory claims {directory} bytes (at most "
                       f"{MAX_DIRECTORY >> 20} MiB)")
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            budget.member()
            target = _member_path(destination, info.filename)
            kind = (info.external_attr >> 16) & 0o170000
            if kind and kind not in (0o100000, 0o040000):
                raise _Refused(f"refused: archive member {info.filename!r} is a link or a "
                               f"special file")
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            with zf.open(info) as source:
                _copy(source, target, budget)


def _limit_self(seconds: float) -> None:
    import resource

    cpu = int(seconds) + 1
    for which, value in ((resource.RLIMIT_AS, MAX_MEMORY), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, MAX_BYTES), (resource.RLIMIT_CORE, 0)):
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def main(argv) -> int:
    archive, destination, seconds = argv[0], argv[1], float(argv[2])
    _limit_self(seconds)
    budget = _Budget(seconds)
    try:
        if archive.lower().endswith(".zip"):
            _extract_zip(archive, destination, budget)
        else:
            _extract_tar(archive, destination, budget)
    except _Refused as exc:
        print(exc)
        return _REFUSED
    except MemoryError:
        print(f"refused: extracting it needs more than {MAX_MEMORY >> 20} MiB of memory")
        return _REFUSED
    except RecursionError:
        print("refused: its headers nest too deeply")
        return _REFUSED
    except Exception as exc:  # noqa: BLE001 - a malformed archive, in any way
        print(f"cannot be extracted ({type(exc).__name__}: {exc})")
        return _REFUSED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
