"""Every catalog case: numpy_rnn against torch autograd, outputs and every gradient."""
import unittest

import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="the torch reference needs torch")

import numpy_rnn  # noqa: E402
from numpy_rnn import functional  # noqa: E402
from torch_ref.catalog import CATALOG  # noqa: E402
from torch_ref.compare.engine import check_case  # noqa: E402
from torch_ref.verify.render import describe_failure  # noqa: E402


def setUpModule():
    # the reference tensors are tiny: extra threads only add contention
    torch.set_num_threads(1)


def _all_cases():
    return [(f"{c.name}__{case.key}".replace("/", "_").replace(" ", "_").replace("=", ""),
             c.name, case)
            for c in CATALOG.values() for case in c.all_cases()]


class CatalogAgainstTorch(unittest.TestCase):
    @parameterized.expand(_all_cases())
    def test_case(self, _, component_name, case):
        component = CATALOG[component_name]
        api = functional if component.scope == "functional" else numpy_rnn
        checks = check_case(component, api, case)
        failures = [describe_failure(c) for c in checks if not c.passed]
        self.assertEqual(failures, [], "\n".join(failures))
        self.assertTrue(checks)
