"""Property-based fuzzing: random sizes, dtypes, seeds, masks and indices, NumPy vs torch.

Each example is a catalog case drawn by ``torch_ref.catalog.fuzz`` and checked by the
same comparison engine as the fixed catalog cases. Profiles (tests/conftest.py):
``ci`` (default, 300 examples per component), ``quick`` (25), ``thorough`` (5,000):
``pytest tests/test_fuzz.py --hypothesis-profile=thorough -n 2``.
"""
import unittest

import pytest

torch = pytest.importorskip("torch", reason="fuzzing compares with the torch reference")
hypothesis = pytest.importorskip("hypothesis", reason="fuzzing needs hypothesis")

from hypothesis import given  # noqa: E402

from numpy_rnn import functional  # noqa: E402
from torch_ref.catalog import CATALOG  # noqa: E402
from torch_ref.catalog import fuzz as strategies  # noqa: E402
from torch_ref.compare.engine import check_case  # noqa: E402
from torch_ref.verify.render import describe_failure  # noqa: E402

pytestmark = pytest.mark.fuzz


def _fuzz_test(name):
    """A test drawing cases of component ``name`` and checking each against torch."""
    def test(self, spec):
        case = strategies.build_case(spec)
        checks = check_case(CATALOG[name], functional, case)
        failures = [describe_failure(c) for c in checks if not c.passed]
        self.assertTrue(checks, f"no tensor compared for {case.describe()}")
        if failures:
            self.fail(f"{case.describe()}\n" + "\n".join(failures))

    # its own name before @given, so each component has its own example database entry
    test.__name__ = test.__qualname__ = f"test_{name}_matches_torch"
    return given(spec=strategies.specs(name))(test)


class FuzzAgainstTorch(unittest.TestCase):
    def test_every_functional_component_is_fuzzed(self):
        functional_names = {c.name for c in CATALOG.values() if c.scope == "functional"}
        self.assertEqual(functional_names - set(strategies.FUZZED), set())


for _name in strategies.FUZZED:
    setattr(FuzzAgainstTorch, f"test_{_name}_matches_torch", _fuzz_test(_name))
