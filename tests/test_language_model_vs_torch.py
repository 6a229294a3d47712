"""The language-model catalog entries (model and optimisers) against torch, seed 0.

``tests/test_catalog_vs_torch.py`` runs every seed of every registered component;
this file runs the language-model entries directly (one seed) and checks that
the comparison catches a wrong optimiser step.
"""
import unittest

import numpy as np
import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="the torch reference needs torch")

import numpy_rnn  # noqa: E402
from numpy_rnn import optim  # noqa: E402
from torch_ref.catalog import CATALOG  # noqa: E402
from torch_ref.catalog import language_model as entries  # noqa: E402
from torch_ref.compare.engine import check_case  # noqa: E402
from torch_ref.verify.render import describe_failure  # noqa: E402

NAMES = [f"{kind}_{cell}" for kind in ("language_model", "adam", "sgd")
         for cell in ("rnn", "lstm")]


def _cases():
    return [(f"{name}_{case.key}".replace("/", "_").replace(" ", "_").replace("=", ""),
             name, case)
            for name in NAMES for case in CATALOG[name].all_cases(seeds=(0,))]


class LanguageModelEntries(unittest.TestCase):
    def test_registered(self):
        self.assertTrue(set(NAMES) <= set(CATALOG))
        self.assertEqual({case.label for case in CATALOG["language_model_lstm"].cases(
            "float64", 0)}, {label for label, *_ in entries._MODEL_CASES})

    @parameterized.expand(_cases())
    def test_case(self, _, name, case):
        checks = check_case(CATALOG[name], numpy_rnn, case)
        failures = [describe_failure(c) for c in checks if not c.passed]
        self.assertEqual(failures, [], "\n".join(failures))
        self.assertGreaterEqual(len(checks), 3)

    def test_a_wrong_adam_step_is_caught(self):
        component = CATALOG["adam_lstm"]
        case = next(iter(component.cases("float64", 0)))
        original = optim.Adam._update

        def no_bias_correction(self, param, grad, state):
            if "m" not in state:
                state.update(m=np.zeros_like(param), v=np.zeros_like(param))
            state["t"] = 10 ** 6  # beta ** t == 0: no bias correction, first steps too small
            original(self, param, grad, state)

        optim.Adam._update = no_bias_correction
        try:
            checks = check_case(component, numpy_rnn, case)
        finally:
            optim.Adam._update = original
        failed = {c.tensor for c in checks if not c.passed}
        self.assertIn("rnn.Wx", failed)
        self.assertIn("out.b", failed)
