"""``verify`` catches single-bug variants of correct modules written to each API.

The mutants come from tests/mutants.py: each is a small source edit of a reference
solution in tests/reference_solutions/. Each is checked in-process with ``--only``
restricted to the function it breaks, without the golden document cells (those only
add checks: a FAIL without them is a FAIL with them; test_verify_reference runs
them), and must be reported FAIL or ERROR on that function, naming the tensor (MISSING,
"not implemented", for a function that returns None).
"""
import collections
import os
import tempfile
import unittest
from pathlib import Path

import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402
from verifying import verify_module  # noqa: E402

from torch_ref.status import ERROR, FAIL, MISSING  # noqa: E402

# the three first APIs have 30 or more; each course API at least 25
MIN_PER_API = {"cs231n": 30, "hw3": 30, "params": 30}


# every this-many-th mutant runs isolated and in-process, its verdicts compared (all of
# them with -m slow or NUMPY_RNN_SLOW_TESTS=1); the others in-process only
BOTH_WAYS_EVERY = 6


def _both_ways(mutant) -> bool:
    if os.environ.get("NUMPY_RNN_SLOW_TESTS"):
        return True
    return mutants.ALL.index(mutant) % BOTH_WAYS_EVERY == 0


def run_mutant(mutant, **options):
    """The verify report of ``mutant`` (its function only, no document cells)."""
    with tempfile.TemporaryDirectory() as directory:
        path = mutants.build(mutant, Path(directory))
        options.setdefault("only", [mutant.function])
        options.setdefault("golden", False)
        options.setdefault("ways", "both" if _both_ways(mutant) else "in-process")
        report, _ = verify_module(str(path), mutant.api, **options)
    return report


def verdict(report, function):
    """``(status, failing tensors, detail)`` of one function of a report."""
    from torch_ref.verify.render import describe_function

    (result,) = [f for f in report.functions if f.name == function]
    failing = {c.tensor for c in result.checks if not c.passed}
    return result.status, failing, describe_function(result)


class MutationTable(unittest.TestCase):
    def test_enough_mutants_per_api(self):
        counts = collections.Counter(m.api for m in mutants.MUTANTS)
        for api in mutants.MODULES:
            self.assertGreaterEqual(counts[api], MIN_PER_API.get(api, 25), api)

    def test_names_are_unique(self):
        names = [m.test_name for m in mutants.ALL]
        self.assertEqual(len(names), len(set(names)))

    def test_every_snippet_occurs_exactly_once_in_its_reference(self):
        for m in mutants.ALL:
            text = mutants.reference_module(m.api, m.module).read_text(encoding="utf-8")
            self.assertEqual(text.count(m.old), 1, f"{m.test_name}: {m.old!r}")
            self.assertNotEqual(m.old, m.new, m.test_name)

    def test_value_bugs_and_hazards_are_told_apart(self):
        self.assertTrue(all(m.warning is None for m in mutants.MUTANTS))
        self.assertTrue(all(m.warning in mutants.WARNING_KINDS for m in mutants.HAZARDS))

    def test_build_refuses_a_snippet_that_is_not_unique(self):
        stale = mutants.Mutant("cs231n", "stale", "rnn_forward", None, "def ", "def  ")
        with tempfile.TemporaryDirectory() as directory:
            with self.assertRaisesRegex(AssertionError, "occurs [0-9]+ times"):
                mutants.build(stale, Path(directory))


class MutantsAreCaught(unittest.TestCase):
    @parameterized.expand([(m.test_name, m) for m in mutants.MUTANTS])
    def test_reported(self, _, mutant):
        report = run_mutant(mutant)
        status, failing, detail = verdict(report, mutant.function)
        self.assertIn(status, (FAIL, ERROR, MISSING), detail)
        self.assertFalse(report.ok, detail)
        if mutant.tensor is not None:
            self.assertIn(mutant.tensor, failing, detail)
