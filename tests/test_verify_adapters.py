"""The adapter registry, and that a new API is one new Adapter subclass."""
import importlib.util
import types
import unittest

import pytest

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402

from torch_ref.status import FAIL, PASS  # noqa: E402
from torch_ref.verify import adapters  # noqa: E402
from torch_ref.verify.adapters.base import FUNCTIONAL, Adapter  # noqa: E402
from torch_ref.verify.isolation.client import LocalExecutor  # noqa: E402
from torch_ref.verify.run import check_adapter  # noqa: E402


class CamelCaseAdapter(Adapter):
    """A made-up fourth API: the same functions with CamelCase names."""

    name = "camel"
    description = "CamelCase functions"
    BINDINGS = {"sigmoid": "Sigmoid", "temporal_affine_forward": "TemporalAffineForward",
                "temporal_affine_backward": "TemporalAffineBackward"}

    def implement(self, functional):
        user = self.BINDINGS[functional]
        return lambda *args: self.values(user, self.call(user, user, *args),
                                         FUNCTIONAL[functional][1])


def camel_module(**replace):
    """The cs231n reference's sigmoid and temporal affine layer under CamelCase names."""
    spec = importlib.util.spec_from_file_location("reference_rnn_layers",
                                                  mutants.reference_module("cs231n"))
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    module = types.ModuleType("camel")
    module.Sigmoid = reference.sigmoid
    module.TemporalAffineForward = reference.temporal_affine_forward
    module.TemporalAffineBackward = reference.temporal_affine_backward
    for name, fn in replace.items():
        setattr(module, name, fn)
    return module


class Registry(unittest.TestCase):
    def test_every_adapter_module_is_found_default_first(self):
        self.assertEqual(list(adapters.available()),
                         ["cs231n", "dlai", "dlfs2", "eecs498", "hw3", "minchar", "mytorch",
                          "params"])
        self.assertEqual(adapters.DEFAULT, "cs231n")

    def test_unknown_api(self):
        with self.assertRaisesRegex(ValueError, "choose from: cs231n, dlai, dlfs2, eecs498, "
                                                "hw3, minchar, mytorch, params"):
            adapters.get("keras")

    def test_functional_names_are_the_catalog_signatures(self):
        from torch_ref.catalog import CATALOG, functional_signatures

        self.assertEqual(FUNCTIONAL, functional_signatures())
        for component in CATALOG.values():
            if component.scope == "functional":
                self.assertLessEqual(set(component.functions), set(FUNCTIONAL), component.name)

    def test_bindings_cover_only_functional_names(self):
        for adapter in adapters.available().values():
            self.assertLessEqual(set(adapter.BINDINGS), set(FUNCTIONAL), adapter.name)


class NewApi(unittest.TestCase):
    def check(self, module):
        executor = LocalExecutor(30)
        try:
            executor.adopt(module)
            report = check_adapter(CamelCaseAdapter(executor), golden=False)
        finally:
            executor.close()
        return {f.name: f.status for f in report.functions}

    def test_a_correct_module_passes(self):
        self.assertEqual(self.check(camel_module()),
                         {"Sigmoid": PASS, "TemporalAffineForward": PASS,
                          "TemporalAffineBackward": PASS})

    def test_a_wrong_one_fails_under_its_own_name(self):
        def backward(dout, cache):
            dx, dw, db = camel_module().TemporalAffineBackward(dout, cache)
            return dx, dw, 2 * db
        statuses = self.check(camel_module(TemporalAffineBackward=backward))
        self.assertEqual(statuses["TemporalAffineBackward"], FAIL)
        self.assertEqual(statuses["TemporalAffineForward"], PASS)
