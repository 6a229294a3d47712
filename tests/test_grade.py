"""``python -m torch_ref grade``: gradebook, Gradescope file, rubric, archives, reruns.

The gradebook of generated submissions (mutants and correct copies) must match,
function by function, what ``verify --module`` says of each one.
"""
import csv
import io
import json
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="grading compares with the torch reference")

import mutants  # noqa: E402

from torch_ref.__main__ import main  # noqa: E402
from torch_ref.verify.grade.archives import ArchiveError, extract  # noqa: E402
from torch_ref.verify.grade.gradebook import (  # noqa: E402
    Rubric,
    RubricError,
    load_rubric,
    score,
)
from torch_ref.verify.grade.submissions import collect, find_module  # noqa: E402
from torch_ref.verify.isolation.sandbox import Limits  # noqa: E402
from torch_ref.verify.session import verify_target  # noqa: E402

CS231N = [m for m in mutants.MUTANTS if m.api == "cs231n"]


def _slow_enabled(config) -> bool:
    return "slow" in (config.getoption("markexpr") or "") or bool(
        os.environ.get("NUMPY_RNN_SLOW_TESTS"))


def make_class(directory: Path, mutant_count: int, correct: int) -> Path:
    """A class folder: one folder per mutant, plus correct copies as bare .py files."""
    root = directory / "class"
    root.mkdir()
    for mutant in CS231N[:mutant_count]:
        built = mutants.build(mutant, directory / "build" / mutant.name)
        shutil.copyfile(built, root / f"{mutant.name}.py")
    for k in range(correct):
        shutil.copyfile(mutants.reference_module("cs231n"), root / f"correct{k}.py")
    return root


def grade(*argv) -> int:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", io.StringIO())
        return main(["grade", *map(str, argv)])


def check_gradebook_and_gradescope(root: Path, out: Path, names) -> None:
    with open(out / "gradebook.csv", newline="") as fh:
        rows = {row["submission"]: row for row in csv.DictReader(fh)}
    assert set(rows) == set(names)
    for name in names:
        report = verify_target(str(root / f"{name}.py"), "cs231n", limits=Limits(timeout=30))
        expected = {f.name: f.status for f in report.functions}
        got = {fn: rows[name][fn] for fn in expected}
        assert got == expected, name
        results = json.loads((out / "reports" / name / "results.json").read_text())
        assert set(results) >= {"score", "tests"}
        assert results["score"] == sum(t["score"] for t in results["tests"])
        for test in results["tests"]:
            assert set(test) >= {"name", "score", "max_score", "status", "output"}
            assert test["status"] in ("passed", "failed")
            assert isinstance(test["output"], str) and test["output"]
            assert test["score"] == (test["max_score"] if test["status"] == "passed" else 0)
            assert (test["status"] == "passed") == (expected[test["name"]] in ("PASS", "WARN"))
        assert float(rows[name]["total"]) == results["score"]


def test_gradebook_matches_verify_one_by_one(tmp_path):
    root = make_class(tmp_path, mutant_count=4, correct=2)
    out = tmp_path / "grades"
    assert grade(root, "--out", out, "-j", "2", "--gradescope") == 1
    names = [p.stem for p in root.iterdir()]
    check_gradebook_and_gradescope(root, out, names)
    summary = (out / "summary.txt").read_text()
    assert "6 submission(s)" in summary and "Graded submissions failing each function" in summary
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # the chart needs the plot extra
        assert not (out / "summary.png").exists()
    else:
        assert (out / "summary.png").stat().st_size > 1000
    # a rerun skips what is finished: the reports are not rewritten
    stamps = {n: (out / "reports" / n / "report.json").stat().st_mtime_ns for n in names}
    assert grade(root, "--out", out, "-j", "2", "--gradescope") == 1
    assert stamps == {n: (out / "reports" / n / "report.json").stat().st_mtime_ns
                      for n in names}


@pytest.mark.slow
def test_forty_submissions(tmp_path, pytestconfig):
    if not _slow_enabled(pytestconfig):
        pytest.skip("slow: run with -m slow or NUMPY_RNN_SLOW_TESTS=1")
    root = make_class(tmp_path, mutant_count=34, correct=6)
    out = tmp_path / "grades"
    assert grade(root, "--out", out, "-j", "2", "--gradescope") == 1
    check_gradebook_and_gradescope(root, out, [p.stem for p in root.iterdir()])


def test_one_submission_for_gradescope(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copyfile(mutants.reference_module("cs231n"), submission / "rnn_layers.py")
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('default = 2\n[points]\nlstm_backward = 5\nsigmoid = 0\n')
    out = tmp_path / "results"
    assert grade(submission, "--out", out, "--gradescope", "--rubric", rubric) == 0
    results = json.loads((out / "results.json").read_text())
    worth = {t["name"]: t["max_score"] for t in results["tests"]}
    assert worth["lstm_backward"] == 5 and worth["rnn_forward"] == 2
    assert "sigmoid" not in worth or worth["sigmoid"] == 0


def test_archives_are_extracted_safely(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.write(mutants.reference_module("cs231n"), "hw/rnn_layers.py")
    extract(str(good), str(tmp_path / "x"))
    assert find_module(str(tmp_path / "x"), ("rnn_layers.py",)).endswith("hw/rnn_layers.py")
    for name in ("../evil.py", "/abs/evil.py", "a/../../evil.py"):
        bad = tmp_path / "bad.zip"
        with zipfile.ZipFile(bad, "w") as zf:
            zf.writestr(name, "x = 1\n")
        with pytest.raises(ArchiveError, match="outside the archive"):
            extract(str(bad), str(tmp_path / "y"))
    link = tmp_path / "link.tar"
    with tarfile.open(link, "w") as tf:
        info = tarfile.TarInfo("rnn_layers.py")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(info)
    with pytest.raises(ArchiveError, match="link"):
        extract(str(link), str(tmp_path / "z"))
    assert not (tmp_path / "evil.py").exists()


def test_collect_names_submissions_and_rejects_the_rest(tmp_path):
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "rnn_layers.py").write_text("")
    found = collect([str(tmp_path)], ("rnn_layers.py",))
    assert [s.name for s in found] == ["a", "b"]
    with pytest.raises(ValueError, match="SUBMISSION .*no such file"):
        collect([str(tmp_path / "missing.zip")])
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(ValueError, match="not a .py file, a folder or an archive"):
        collect([str(tmp_path / "notes.txt")])


def test_rubric_files(tmp_path):
    functions = [("rnn_forward", False), ("mse_loss", True)]
    assert score({"rnn_forward": "PASS", "mse_loss": "n/a"}, functions, Rubric())["total"] == 1
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"points": {"rnn_forward": 3, "mse_loss": 2}}))
    rubric = load_rubric(str(path), functions)
    result = score({"rnn_forward": "PASS", "mse_loss": "FAIL"}, functions, rubric)
    assert (result["total"], result["max_total"]) == (3, 5)
    path.write_text(json.dumps({"points": {"rnn_fwd": 1}}))
    with pytest.raises(RubricError, match="unknown function.*rnn_fwd"):
        load_rubric(str(path), functions)
    path.write_text("{")
    with pytest.raises(RubricError, match="not valid JSON"):
        load_rubric(str(path), functions)


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nothing.py"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "a.py").write_text("")
    assert main(["grade", str(tmp_path / "a.py"), "--out", str(tmp_path / "o"),
                 "-j", "0"]) == 2
    assert "-j/--jobs" in capsys.readouterr().err
