"""Hazards are warnings: right values from hazardous code never make ``verify`` fail.

The hazard mutants come from tests/mutants.py (:data:`mutants.HAZARDS`): a reference
solution edited so that it changes an array its caller passed, returns float64 for
float32 input, raises floating-point flags, or takes the log of probabilities (the
course template's loss). Every value it returns is still right, so ``verify --module``
(document cells included) exits 0 and its report carries a warning of the mutant's
kind; ``--strict`` turns that warning into exit status 1.
"""
import tempfile
import unittest
from pathlib import Path

import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402
from test_verify_cli import verify  # noqa: E402


class HazardsWarn(unittest.TestCase):
    @parameterized.expand([(m.test_name, m) for m in mutants.HAZARDS])
    def test_warns_and_fails_only_when_strict(self, _, mutant):
        with tempfile.TemporaryDirectory() as directory:
            path = mutants.build(mutant, Path(directory))
            argv = ("--module", path, "--api", mutant.api, "--only", mutant.function)
            code, out, err = verify(*argv)
            self.assertEqual(code, 0, out + err)
            self.assertIn("WARN", out)
            self.assertIn(mutant.warning, out)
            strict, out, err = verify(*argv, "--strict")
            self.assertEqual(strict, 1, out + err)
