"""Correct modules written to each API pass ``verify``: no false positives.

The three reference solutions (tests/reference_solutions/) are independent correct
implementations of the cs231n functional API, the HW3 classes and the params-dict
classes. The default run (catalog cases, reuse sequence, the documents' own check
cells) must pass them all; the slow test repeats the catalog over 21 seeds.
"""
import os
import unittest

import numpy as np
import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402
from verifying import verify_module  # noqa: E402

from torch_ref.status import NA as SKIPPED  # noqa: E402
from torch_ref.status import PASS  # noqa: E402
from torch_ref.verify.render import describe_function  # noqa: E402

# api -> (functions that must PASS, functions reported n/a)
EXPECTED = {
    "cs231n": (14, {"affine_forward", "affine_backward", "mse_loss"}),
    "hw3": (12, set()),
    "params": (15, set()),
}
# the course APIs (no document cells of their own): tests/test_verify_courses.py
APIS = [(api,) for api in EXPECTED]
COURSE_DOCUMENTS = {"cs231n": {"cs231n_captioning_notebooks.txt"},
                    "hw3": {"hw3_rnn_lstm_checks.txt"},
                    "params": {"language_modeling_assignment.txt"}}


def failures(report) -> str:
    return "\n".join(describe_function(f) for f in report.functions
                     if f.status not in (PASS, SKIPPED))


class ReferenceSolutionsPass(unittest.TestCase):
    @parameterized.expand(APIS)
    def test_default_run_passes(self, api):
        state = np.random.get_state()
        report, _ = verify_module(str(mutants.reference_module(api)), api)
        self.assertTrue(report.ok, failures(report))
        passing, not_applicable = EXPECTED[api]
        self.assertEqual(report.counts(), (passing, 0, 0))
        self.assertEqual({f.name for f in report.functions if f.status == SKIPPED},
                         not_applicable)
        # every function was really exercised: catalog, reuse and document cells
        for result in report.functions:
            if result.status == PASS:
                self.assertTrue(any(c.case.startswith("reuse-") for c in result.checks),
                                result.name)
        golden = [c for c in report.checks if c.component == "golden"]
        self.assertGreater(len(golden), 5)
        self.assertTrue(all(c.passed for c in golden))
        # document cells of the course's own documents only
        self.assertEqual({c.case_description.rsplit(" of ", 1)[1] for c in golden},
                         COURSE_DOCUMENTS[api])
        # the constructors drew from np.random; the caller's stream is left as it was
        after = np.random.get_state()
        self.assertTrue(all(np.array_equal(a, b) for a, b in zip(state, after, strict=True)))


def _slow_enabled(config) -> bool:
    return "slow" in (config.getoption("markexpr") or "") or bool(
        os.environ.get("NUMPY_RNN_SLOW_TESTS"))


@pytest.mark.slow
@pytest.mark.parametrize("api", list(EXPECTED))
def test_no_false_positive_over_21_seeds(api, pytestconfig):
    """Seeds 0..20 (seven runs of three seeds), both dtypes, reuse sequences included."""
    if not _slow_enabled(pytestconfig):
        pytest.skip("slow: run with -m slow or NUMPY_RNN_SLOW_TESTS=1")
    for seed in range(0, 21, 3):
        report, _ = verify_module(str(mutants.reference_module(api)), api, seed=seed,
                                  golden=False)
        assert report.ok, f"seed {seed}:\n{failures(report)}"
