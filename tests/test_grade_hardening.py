"""``grade`` against submissions that reach for their classmates' work, reruns after a
resubmission, names and text chosen to break the gradebook or the terminal, archive
bombs, and its exit statuses.
"""
import csv
import io
import json
import lzma
import os
import stat
import struct
import tarfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="grading compares with the torch reference")

import mutants  # noqa: E402

from torch_ref.__main__ import main  # noqa: E402
from torch_ref.verify.grade import archives, cli  # noqa: E402
from torch_ref.verify.grade.archives import ArchiveError, extract  # noqa: E402
from torch_ref.verify.grade.check import CheckError, CheckOptions, check  # noqa: E402
from torch_ref.verify.grade.submissions import (  # noqa: E402
    Submission,
    SubmissionError,
    collect,
    digest,
    stage,
)

REFERENCE = mutants.reference_module("cs231n").read_text()
_LINE = "    pre_activation = x @ Wx + prev_h @ Wh + b\n"
WRONG = REFERENCE.replace(_LINE, "    pre_activation = x @ Wx + prev_h @ Wh + 2 * b\n")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def grade(*argv) -> tuple:
    """``(exit status, what it printed)`` of ``python -m torch_ref grade ARGV``."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", out)
        code = main(["grade", *map(str, argv)])
    return code, out.getvalue()


def gradebook(out: Path) -> dict:
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        return {row["submission"]: row for row in csv.DictReader(fh)}


def full_marks(row) -> bool:
    return row["graded"] == "yes" and float(row["total"]) == float(row["max_total"]) > 0


# ---- classmates' work ---------------------------------------------------------------

def test_a_loose_file_cannot_import_its_classmate(tmp_path):
    """In a class folder of loose files, a.py that only says ``from b import *`` must
    not get b's marks: it is staged alone and cannot import b."""
    root = tmp_path / "class"
    root.mkdir()
    (root / "a.py").write_text("from b import *  # noqa\n")
    (root / "b.py").write_text(REFERENCE)
    out = tmp_path / "grades"
    code, printed = grade(root, "--out", out, "-j", "2")
    rows = gradebook(out)
    assert code == cli.EXIT_NOT_GRADED
    assert full_marks(rows["b"])
    assert rows["a"]["graded"] == "no" and float(rows["a"]["total"]) == 0
    assert "No module named 'b'" in rows["a"]["note"]
    assert "No module named 'b'" in (out / "reports" / "a" / "report.txt").read_text()
    assert "a: cannot import the module" in printed


ATTACK = '''
import os as _os, time as _time

_MARK = "CLASSMATE" + "_B"
_PLACES = {places!r}
_found, _end = None, _time.monotonic() + 10
while _found is None and _time.monotonic() < _end:
    for _path in _PLACES:
        try:
            with open(_path) as _fh:
                _text = _fh.read()
        except OSError:
            continue
        if _MARK in _text:
            _found = _text
            break
    _time.sleep(0.05)
if _found is not None:
    exec(compile(_found, "b", "exec"), globals())
'''


def test_two_submissions_at_once_cannot_read_each_other(tmp_path, monkeypatch):
    """Graded side by side (-j 2), a wrong a.py looks for b's original and b's staged
    copy (whose place it is told) and runs it if it can read it: it must not."""
    root = tmp_path / "class"
    root.mkdir()
    private = tmp_path / "private"

    def known_private_folder():
        private.mkdir(mode=0o700)
        (private / "staged").mkdir(mode=0o700)
        return str(private)

    monkeypatch.setattr(cli, "_private_folder", known_private_folder)
    places = [str(root / "b.py"), str(private / "staged" / "b" / "b" / "b.py")]
    (root / "a.py").write_text(WRONG + ATTACK.format(places=places))
    (root / "b.py").write_text("# CLASSMATE_B\n" + REFERENCE)
    out = tmp_path / "grades"
    code, _ = grade(root, "--out", out, "-j", "2")
    rows = gradebook(out)
    assert full_marks(rows["b"])
    assert rows["a"]["graded"] == "yes" and rows["a"]["rnn_step_forward"] == "FAIL"
    assert code == cli.EXIT_FAILED
    assert not private.exists()  # staged copies go with the run


def test_staging_copies_one_submission_and_nothing_else(tmp_path):
    root = tmp_path / "class"
    (root / "carol").mkdir(parents=True)
    (root / "a.py").write_text("x = 1\n")
    (root / "b.py").write_text("y = 2\n")
    (root / "carol" / "rnn_layers.py").write_text("z = 3\n")
    (root / "carol" / "stolen.py").symlink_to(root / "b.py")
    (root / "carol" / "__pycache__").mkdir()
    (root / "carol" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    subs = {s.name: s for s in collect([str(root)], ("rnn_layers.py",))}
    staged = stage(subs["a"], str(tmp_path / "p" / "a"))
    assert sorted(os.listdir(staged)) == ["a.py"]
    assert stat.S_IMODE(os.stat(tmp_path / "p" / "a").st_mode) == 0o700
    staged = stage(subs["carol"], str(tmp_path / "p" / "carol"))
    assert sorted(os.listdir(staged)) == ["rnn_layers.py"]  # no link, no cache
    many = tmp_path / "many"
    many.mkdir()
    for k in range(archives.MAX_MEMBERS + 1):
        (many / f"m{k}.py").write_text("")
    with pytest.raises(SubmissionError, match="more than 2000 files"):
        stage(Submission("many", str(many)), str(tmp_path / "p" / "many"))


def test_relative_imports_cannot_climb_out_of_the_submission(tmp_path):
    private = tmp_path / "private" / "x"
    sub = tmp_path / "x.py"
    sub.write_text("from .. import secrets\n")
    staged = stage(Submission("x", str(sub)), str(private))
    with pytest.raises(CheckError, match="climb above the submission's own folder"):
        check(os.path.join(staged, "x.py"), CheckOptions(api="cs231n"), within=str(private))


# ---- reruns ---------------------------------------------------------------------------

def test_a_resubmission_is_graded_again_and_an_unchanged_one_is_not(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    (root / "bob.py").write_text(REFERENCE)
    out = tmp_path / "grades"
    report = out / "reports" / "bob" / "report.json"
    root = root / "bob.py"
    assert grade(root, "--out", out)[0] == cli.EXIT_PASSED
    assert full_marks(gradebook(out)["bob"])
    first = json.loads(report.read_text())["digest"]
    root.write_text(WRONG)  # same name, new content
    code, printed = grade(root, "--out", out)
    assert code == cli.EXIT_FAILED and "unchanged" not in printed
    row = gradebook(out)["bob"]
    assert row["rnn_step_forward"] == "FAIL" and not full_marks(row)
    assert json.loads(report.read_text())["digest"] != first
    stamp = report.stat().st_mtime_ns
    code, printed = grade(root, "--out", out)  # nothing changed: nothing regraded
    assert code == cli.EXIT_FAILED and "1 unchanged since the last run" in printed
    assert report.stat().st_mtime_ns == stamp
    assert gradebook(out)["bob"]["rnn_step_forward"] == "FAIL"


def test_the_digest_is_the_content_and_the_settings_not_the_path(tmp_path):
    def staged(where, files):
        folder = tmp_path / where
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text)
        return str(folder)

    settings = {"api": "cs231n", "seed": 0}
    one = digest(staged("a/x", {"rnn_layers.py": "x = 1\n"}), settings)
    assert one == digest(staged("b/y", {"rnn_layers.py": "x = 1\n"}), settings)
    assert one != digest(staged("c", {"rnn_layers.py": "x = 2\n"}), settings)
    assert one != digest(staged("d", {"other.py": "x = 1\n"}), settings)
    assert one != digest(staged("e", {"rnn_layers.py": "x = 1\n", "h.py": ""}), settings)
    assert one != digest(staged("f", {"rnn_layers.py": "x = 1\n"}), {**settings, "seed": 1})
    # the boundary between a name and its bytes is not ambiguous
    assert digest(staged("g", {"ab": "c"}), settings) != digest(staged("h", {"a": "bc"}),
                                                                 settings)


# ---- names and text from submissions ------------------------------------------------

ESCAPES = "\x1b[2K\r\x1b[1A\x1b[32m40 submission(s); mean 14.00 / 14\x1b[0m"


def test_names_and_text_from_submissions_stay_inert(tmp_path):
    """A file named like the gradebook, names and messages that a spreadsheet would run
    as formulas, escape sequences that would rewrite the terminal."""
    root = tmp_path / "class"
    root.mkdir()
    (root / "gradebook.csv.py").write_text("")
    (root / "=HYPERLINK(A1).py").write_text(
        "raise RuntimeError('=HYPERLINK(\"http://evil.example\", \"x\")')\n")
    (root / "-2+3.py").write_text(f"raise RuntimeError({ESCAPES!r})\n")
    (root / "@x.py").write_text("raise RuntimeError(\"+cmd|' /C calc'!A0\")\n")
    (root / "esc.py").write_text(REFERENCE.replace(
        _LINE, f"    print({ESCAPES!r})\n    raise RuntimeError({ESCAPES!r})\n"))
    out = tmp_path / "grades"
    code, printed = grade(root, "--out", out, "-j", "2", "--gradescope")
    assert code == cli.EXIT_NOT_GRADED
    assert (out / "gradebook.csv").is_file() and (out / "summary.txt").is_file()
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    for row in table:
        for cell in row:
            assert not cell.startswith(FORMULA_START), cell
            assert not any(ord(c) < 0x20 or ord(c) == 0x7f for c in cell), cell
    rows = {row[0].lstrip("'"): dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert set(rows) == {"gradebook.csv", "HYPERLINK_A1", "-2_3", "x", "esc"}
    assert rows["HYPERLINK_A1"]["file"] == "'=HYPERLINK(A1).py"
    assert rows["-2_3"]["submission"] == "'-2_3"
    assert rows["gradebook.csv"]["graded"] == "yes"  # graded like any other
    assert (out / "reports" / "gradebook.csv" / "report.txt").is_file()
    assert rows["esc"]["rnn_step_forward"] == "ERROR"
    assert "\x1b" not in printed and "\r" not in printed
    assert "\\x1b[2K" in printed  # the message is shown, made visible
    for name in rows:
        text = (out / "reports" / name / "report.txt").read_text()
        assert "\x1b" not in text and "\r" not in text, name
        results = json.loads((out / "reports" / name / "results.json").read_text())
        outputs = [results["output"]] + [t["output"] for t in results["tests"]]
        assert not any("\x1b" in o or "\r" in o for o in outputs), name
    assert "\\x1b[2K" in (out / "reports" / "esc" / "report.txt").read_text()
    assert "\x1b" not in (out / "summary.txt").read_text()


# ---- archives -------------------------------------------------------------------------

def empty_member_bomb(path: Path, members: int = 200_000) -> Path:
    """A .tar.xz of ``members`` empty files (a few KiB; ~100 MiB of headers)."""
    header = tarfile.TarInfo("x").tobuf(tarfile.GNU_FORMAT)
    compressor = lzma.LZMACompressor(preset=0)
    with open(path, "wb") as fh:
        for _ in range(members // 10_000):
            fh.write(compressor.compress(header * 10_000))
        fh.write(compressor.compress(b"\0" * 1024) + compressor.flush())
    return path


def zip_claiming(path: Path, entries: int = 0, directory: int = 0) -> Path:
    """A one-member zip whose end-of-central-directory record claims ``entries``
    entries and a ``directory`` of that many bytes (0: the true values)."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("rnn_layers.py", REFERENCE)
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    fields = list(struct.unpack_from("<4s4H2LH", data, at))
    if entries:
        fields[3] = fields[4] = entries
    if directory:
        fields[5] = directory
    struct.pack_into("<4s4H2LH", data, at, *fields)
    path.write_bytes(bytes(data))
    return path


def test_an_empty_member_bomb_is_refused_fast_in_bounded_memory(tmp_path):
    bomb = empty_member_bomb(tmp_path / "bomb.tar.xz")
    assert bomb.stat().st_size < 64 << 10
    start = time.monotonic()
    with pytest.raises(ArchiveError, match="more than 2000 files and folders"):
        extract(str(bomb), str(tmp_path / "x"))
    assert time.monotonic() - start < 30  # ~1 s; the whole archive would take minutes
    # the reading itself streams: what it holds stays small however many members follow
    tracemalloc.start()
    try:
        with pytest.raises(archives._Refused):
            archives._extract_tar(str(bomb), str(tmp_path / "y"), archives._Budget(60))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak


def test_a_zip_is_refused_by_what_its_directory_claims(tmp_path):
    with pytest.raises(ArchiveError, match="claims 60000 entries"):
        extract(str(zip_claiming(tmp_path / "n.zip", entries=60000)), str(tmp_path / "n"))
    with pytest.raises(ArchiveError, match="claims 4000000000 bytes"):
        extract(str(zip_claiming(tmp_path / "d.zip", directory=4_000_000_000)),
                str(tmp_path / "d"))
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for k in range(archives.MAX_MEMBERS + 1):
            zf.writestr(f"m{k}.py", "")
    with pytest.raises(ArchiveError, match="claims 2001 entries"):
        extract(str(many), str(tmp_path / "m"))
    # zip64: the claim in the zip64 record counts
    plain = zip_claiming(tmp_path / "z.zip")
    data = plain.read_bytes()
    at = data.rfind(b"PK\x05\x06")
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 10**9, 10**9,
                         100, 0)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)
    (tmp_path / "z64.zip").write_bytes(data[:at] + record + locator + data[at:])
    with open(tmp_path / "z64.zip", "rb") as fh:
        assert archives._zip_directory_claims(fh)[0] == 10**9
    extract(str(zip_claiming(tmp_path / "ok.zip")), str(tmp_path / "ok"))
    assert (tmp_path / "ok" / "rnn_layers.py").read_text() == REFERENCE


def test_bad_archives_cost_no_neighbour_its_row(tmp_path):
    root = tmp_path / "class"
    root.mkdir()
    empty_member_bomb(root / "bomb.tar.xz")
    zip_claiming(root / "claims.zip", entries=60000)
    (root / "broken.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    (root / "good.py").write_text(REFERENCE)
    out = tmp_path / "grades"
    start = time.monotonic()
    code, printed = grade(root, "--out", out, "-j", "2")
    elapsed = time.monotonic() - start
    rows = gradebook(out)
    assert code == cli.EXIT_NOT_GRADED
    assert full_marks(rows["good"])
    assert "more than 2000 files" in rows["bomb"]["note"]
    assert "claims 60000 entries" in rows["claims"]["note"]
    assert "cannot be extracted" in rows["broken"]["note"]
    for name in ("bomb", "claims", "broken"):
        assert rows[name]["graded"] == "no" and float(rows[name]["total"]) == 0
        assert (out / "reports" / name / "report.txt").is_file()
    assert "3 could not be graded" in printed
    assert elapsed < 300


# ---- exit statuses ------------------------------------------------------------------

def _entry(statuses, graded=True):
    return {"statuses": statuses, "graded": graded}


def test_exit_statuses():
    passing = _entry({"rnn_forward": "PASS", "mse_loss": "n/a"})
    warned = _entry({"rnn_forward": "WARN"})
    failing = _entry({"rnn_forward": "FAIL"})
    lost = _entry({"rnn_forward": "ERROR"}, graded=False)
    assert cli.exit_status([passing, warned]) == cli.EXIT_PASSED == 0
    assert cli.exit_status([passing, warned], strict=True) == cli.EXIT_FAILED == 1
    assert cli.exit_status([passing, failing]) == cli.EXIT_FAILED
    assert cli.exit_status([passing, failing, lost]) == cli.EXIT_NOT_GRADED == 3
    assert cli.EXIT_USAGE == 2
    assert len({cli.EXIT_PASSED, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_NOT_GRADED}) == 4


def test_help_lists_the_exit_statuses(capsys):
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    text = capsys.readouterr().out
    assert "exit status:" in text
    for status in (cli.EXIT_PASSED, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_NOT_GRADED):
        assert f"\n  {status}  " in text
    assert "reports/NAME/report.txt" in text
