"""verify's verdicts are those it gave before it was rebuilt around the executor.

``verdicts_before_rebuild.json`` holds, for every reference solution, student-corpus
module and mutant, each function's status, failing tensors and warning kinds as the
in-process verify of the old design reported them. The rebuilt verify must give the
same verdicts, isolated and in-process alike: the same status and warnings for every
function, and failing tensors in common with the old ones (uninitialised memory may
change which of them a run finds). Functions checked since (a course's GRU, the
phoneme classifier) may be added; :data:`CHANGED` and :data:`DROPPED` list the
verdicts changed on purpose since, each with its reason, and :data:`RETIRED` the
subjects that no longer exist; nothing else may move.

By default the reference solutions and every tenth mutant run (the student corpus has
its verdicts checked both ways in ``test_student_corpus.py``); ``NUMPY_RNN_SLOW_TESTS=1``
(or ``-m slow``) runs the corpus and every mutant as well.
"""
import json
import os
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402
from verifying import verify_module  # noqa: E402

HERE = Path(__file__).resolve().parent
BEFORE = json.loads((HERE / "verdicts_before_rebuild.json").read_text())
CORPUS = HERE / "student_corpus"
MODULE_FILE = {"cs231n": "rnn_layers.py", "hw3": "recurrent_layers.py",
               "params": "layer_utils.py"}
MUTANT_EVERY = 10

# subject -> {function: (new status, why)}: verdicts changed on purpose
CHANGED = {
    "corpus/cs231n/broken/lstm_step_backward_left_as_template": {
        "temporal_softmax_loss": ("PASS", "the course's own loss, unchanged: its log of "
                                          "probabilities is not the student's hazard")},
}
# api -> (warning kinds no verdict of that api gives any more, why)
DROPPED = {
    "hw3": ({"dtype"}, "every edition computes in float64: float32 is not checked"),
    "params": ({"dtype", "log-sum-exp"}, "float64 only; the course hands its loss out "
                                          "written, so it is not given logits only a "
                                          "log-sum-exp loss survives"),
}
# subjects of before that no longer exist, and why
RETIRED = {
    f"mutant/{api}/{cell}_forward_float64_output": "a float64-only course: no float32 input"
    for api in ("hw3", "params") for cell in ("rnn", "lstm")}


def _slow(config) -> bool:
    return "slow" in (config.getoption("markexpr") or "") or bool(
        os.environ.get("NUMPY_RNN_SLOW_TESTS"))


def _subjects() -> list:
    found = [(f"reference/{api}", None) for api in
             ("cs231n", "hw3", "params", "dlai", "dlfs2", "mytorch", "eecs498")]
    for api in MODULE_FILE:
        for entry in sorted((CORPUS / api).iterdir()):
            if not entry.is_dir():
                continue
            for one in ([entry] if entry.name != "broken"
                        else sorted(d for d in entry.iterdir() if d.is_dir())):
                found.append((f"corpus/{api}/{one.relative_to(CORPUS / api)}", None))
    found += [(f"mutant/{m.api}/{m.name}", m) for m in mutants.ALL]
    return found


# the subjects of before (new corpus modules and editions have tests of their own)
SUBJECTS = [(s, m) for s, m in _subjects() if s in BEFORE]


def _verdicts(report) -> dict:
    return {f.name: {"status": f.status,
                     "failing": sorted({c.tensor for c in f.checks
                                        if c.status in ("FAIL", "ERROR")}),
                     "warnings": sorted({c.kind for c in f.checks if c.status == "WARN"})}
            for f in report.functions}


def _run(subject, mutant, directory):
    kind, api, *rest = subject.split("/")
    if kind == "reference":
        return verify_module(mutants.REFERENCE_DIR / api, api)[0]
    if kind == "corpus":
        (path,) = sorted((CORPUS / api / "/".join(rest)).rglob(MODULE_FILE[api]))
        return verify_module(path, api)[0]
    path = mutants.build(mutant, Path(directory))
    return verify_module(path, mutant.api, only=[mutant.function], golden=False)[0]


@pytest.mark.parametrize("subject, mutant", [
    pytest.param(s, m, id=s) for s, m in SUBJECTS])
def test_the_same_verdicts_as_before_the_rebuild(subject, mutant, pytestconfig):
    sampled = subject.startswith("reference/") or (
        mutant is not None and not mutants.ALL.index(mutant) % MUTANT_EVERY)
    if not sampled and not _slow(pytestconfig):
        pytest.skip("slow: run with -m slow or NUMPY_RNN_SLOW_TESTS=1")
    before = BEFORE[subject]
    with tempfile.TemporaryDirectory() as directory:
        now = _verdicts(_run(subject, mutant, directory))
    assert set(before) <= set(now), subject
    dropped = DROPPED.get(subject.split("/")[1], (set(),))[0]
    for function, old in before.items():
        new = now[function]
        changed = CHANGED.get(subject, {}).get(function)
        if changed is not None:
            assert new["status"] == changed[0], (subject, function, new, changed[1])
            continue
        warnings = [w for w in old["warnings"] if w not in dropped]
        status = "PASS" if old["status"] == "WARN" and not warnings else old["status"]
        assert (new["status"], new["warnings"]) == (status, warnings), (
            subject, function, old, new)
        if old["failing"]:
            assert set(new["failing"]) & set(old["failing"]), (subject, function, old, new)


def test_every_subject_of_before_is_still_checked():
    assert {s for s, _ in SUBJECTS} | set(RETIRED) == set(BEFORE)
    assert not {s for s, _ in SUBJECTS} & set(RETIRED)
    assert set(CHANGED) <= set(BEFORE)
