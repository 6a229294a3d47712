"""The notebook's numerical gradient check of the sequence-to-one RNN (golden fixture).

fixtures/golden/seq2one_rnn_gradcheck_notebook.json records the check of In [5]/In [6]:
two-sided differences (eps 1e-7) of sum(y_hat) for one (5, 5) sequence, identity init,
1 and 5 outputs, passing when the norm of the difference is below 1e-7. It runs here
for every parameter, with the recorded init and with the uniform init.
"""
import json
import unittest
from pathlib import Path

import numpy as np
from parameterized import parameterized

from numpy_rnn.seq2one.model import PARAM_NAMES, Seq2OneRNN
from torch_ref.compare import golden

FIXTURE = golden.GOLDEN_DIR / "seq2one_rnn_gradcheck_notebook.json"
CHECK = "seq2one_numerical_gradient"


def load_gradient_checks(path=FIXTURE) -> list:
    """The gradient-check records of ``path``; GoldenFixtureError naming the file otherwise."""
    records = [r for r in golden.load_document(path)
               if r.get("facts", {}).get("check") == CHECK]
    if not records:
        raise golden.GoldenFixtureError(f"{path}: no record with facts.check == {CHECK!r}")
    return records


RECORDS = load_gradient_checks()


def numerical_gradients(model, x, eps) -> dict:
    """The notebook's two-sided differences of sum(y_hat), through get/set_weights."""
    weights = model.get_weights()
    grads = {}
    for name, weight in weights.items():
        grad = np.zeros_like(weight)
        for index in np.ndindex(weight.shape):
            values = []
            for sign in (1.0, -1.0):
                changed = weight.copy()
                changed[index] += sign * eps
                model.set_weights({**weights, name: changed})
                values.append(np.sum(model.forward(x)))
            grad[index] = (values[0] - values[1]) / (2 * eps)
        grads[name] = grad
    model.set_weights(weights)
    return grads


def _setup(record, init):
    facts = record["facts"]
    m = facts["model"]
    rng = np.random.default_rng(facts["seed"])
    model = Seq2OneRNN(m["input_size"], m["hidden_size"], m["output_size"], init=init, rng=rng)
    x = rng.random(tuple(facts["x"]["shape"]))
    return model, x


_CASES = [(f"{r['id']}_{init}", r["id"], init)
          for r in RECORDS for init in dict.fromkeys((r["facts"]["model"]["init"], "uniform"))]
_BY_ID = {r["id"]: r for r in RECORDS}


class NotebookGradientCheck(unittest.TestCase):
    @parameterized.expand(_CASES)
    def test_every_parameter_passes(self, _, record_id, init):
        record = _BY_ID[record_id]
        facts = record["facts"]
        model, x = _setup(record, init)
        numerical = numerical_gradients(model, x, facts["numerical"]["eps"])
        model.forward(x)
        model.backward(np.ones(model.output_size))
        self.assertEqual(sorted(facts["parameters"]), sorted(PARAM_NAMES))
        for name in facts["parameters"]:
            difference = np.linalg.norm(numerical[name] - model.grads[name])
            self.assertLess(difference, facts["threshold"],
                            f"{record_id} ({init} init) d{name}: difference {difference:.3e}")
            # a gradient that is all zero would pass trivially
            self.assertGreater(np.linalg.norm(model.grads[name]), 1e-3, name)

    @parameterized.expand([(r["id"], r["id"]) for r in RECORDS])
    def test_fixture_is_the_notebook_setup(self, _, record_id):
        facts = _BY_ID[record_id]["facts"]
        model, x = _setup(_BY_ID[record_id], facts["model"]["init"])
        self.assertEqual(x.shape, (5, 5))
        self.assertTrue(0.0 <= x.min() and x.max() < 1.0)
        np.testing.assert_array_equal(model.params["R"], np.eye(10))
        self.assertEqual(facts["numerical"]["eps"], 1e-7)
        self.assertEqual(facts["threshold"], 1e-7)
        # the notebook printed a pass for each parameter, below the threshold
        for name, diff in facts["document_differences"].items():
            self.assertLess(diff, facts["threshold"], name)
            self.assertEqual(facts["document_verdicts"][name], "passed")


class FixtureLoading(unittest.TestCase):
    def setUp(self):
        import tempfile

        self.tmp = Path(tempfile.mkdtemp())

    def tearDown(self):
        import shutil

        shutil.rmtree(self.tmp)

    def test_missing_file_names_it(self):
        path = self.tmp / "seq2one_missing.json"
        with self.assertRaisesRegex(golden.GoldenFixtureError, "seq2one_missing.json.*not found"):
            load_gradient_checks(path)

    def test_corrupt_file_names_it(self):
        path = self.tmp / "seq2one_corrupt.json"
        path.write_text(FIXTURE.read_text()[:200])
        with self.assertRaisesRegex(golden.GoldenFixtureError, "seq2one_corrupt.json.*JSON"):
            load_gradient_checks(path)

    def test_file_without_gradient_checks_names_it(self):
        data = json.loads(FIXTURE.read_text())
        for record in data["records"]:
            record["facts"]["check"] = "something else"
        path = self.tmp / "seq2one_other.json"
        path.write_text(json.dumps(data))
        with self.assertRaisesRegex(golden.GoldenFixtureError, "seq2one_other.json.*no record"):
            load_gradient_checks(path)
