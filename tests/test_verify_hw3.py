"""``verify --api hw3`` on every edition of ITU BLG 561E's recurrent layers.

2024 (``DL/layer/recurrent_layers.py``: RNNLayer, LSTMLayer), 2020
(``blg561/layer/recurrent_layers.py`` with a GRULayer whose candidate lives in ``Wxi``,
``Whi``, ``bi``) and 2018 (the stateful RNNLayer of ``blg561/layer/layers_with_weights.py``:
``W_ih``, ``W_hh``, gradients left on the layer). The 2020 and 2018 modules under
tests/student_corpus/hw3/editions/ are written in those editions' conventions; the
bugs real submissions have are written into them one at a time. Every check runs
isolated and in-process.
"""
import tempfile
import unittest
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402
from verifying import edited_copy, verify_module  # noqa: E402

from torch_ref.status import ERROR, FAIL, MISSING, PASS  # noqa: E402
from torch_ref.status import NA as SKIPPED  # noqa: E402
from torch_ref.verify.render import describe_function  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "student_corpus" / "hw3"
GRU_2020 = ("editions/gru_2020", "blg561/blg561/layer/recurrent_layers.py")
STATEFUL_2018 = ("editions/stateful_2018", "HW-4/blg561/layer/layers_with_weights.py")
GRU = ("GRULayer.forward_step", "GRULayer.backward_step", "GRULayer.forward",
       "GRULayer.backward")
LSTM = ("LSTMLayer.forward_step", "LSTMLayer.backward_step", "LSTMLayer.forward",
        "LSTMLayer.backward")
_ROOT = tempfile.TemporaryDirectory(prefix="hw3_variants_")


def module(entry) -> str:
    return str(CORPUS / entry[0] / entry[1])


def variant(entry, name: str, *changes) -> str:
    """The corpus module with each ``(text, replacement)`` made exactly once."""
    return str(edited_copy(CORPUS / entry[0], Path(_ROOT.name) / name, entry[1], changes))


def statuses(report) -> dict:
    return {f.name: f for f in report.functions}


def problems(report) -> str:
    return "\n".join(describe_function(f) for f in report.functions
                     if f.status not in (PASS, SKIPPED))


class Editions(unittest.TestCase):
    def assumed(self, path):
        report, _ = verify_module(path, "hw3", only=["RNNLayer"])
        return report

    def test_each_edition_is_recognised(self):
        self.assertRegex(self.assumed(module(GRU_2020)).assumed,
                         r"^hw3 2020 .*recognised by: a file blg561/layer/recurrent_layers"
                         r"\.py; defines GRULayer")
        self.assertRegex(self.assumed(module(STATEFUL_2018)).assumed,
                         r"^hw3 2018 .*recognised by: RNNLayer\.backward_step takes dprev")
        report = self.assumed(str(CORPUS / "broken" / "template_raises_not_implemented" / "DL"
                                  / "layer" / "recurrent_layers.py"))
        self.assertRegex(report.assumed, r"^hw3 2024 .*FILL banners")

    def test_the_course_computes_in_float64_only(self):
        report = self.assumed(str(mutants.reference_module("hw3")))
        self.assertEqual(report.dtypes, ("float64",))


class Gru2020(unittest.TestCase):
    def test_a_correct_gru_layer_passes_against_the_reset_before_gru(self):
        report, _ = verify_module(module(GRU_2020), "hw3")
        self.assertTrue(report.ok, problems(report))
        self.assertEqual(report.counts(), (12, 0, 0))
        functions = statuses(report)
        for name in GRU:
            components = {c.component for c in functions[name].checks}
            self.assertTrue(components <= {"gru_step_reset_before", "gru_reset_before"}, name)
            seen = {c.case.split("/")[0] for c in functions[name].checks}
            for dim in ("N", "D", "H"):
                self.assertIn(f"{dim}=1", seen, name)
        # the course's own tensors: Wx (D, 2H) packs [z, r], the candidate apart
        tensors = {c.tensor for c in functions["GRULayer.backward_step"].checks}
        self.assertTrue({t for t in tensors if t.startswith(("dWx/dWxi", "db/dbi"))}, tensors)

    def test_the_gru_of_the_2020_edition_is_required(self):
        source = Path(module(GRU_2020)).read_text()
        start = source.index("class GRULayer")
        path = variant(GRU_2020, "no_gru", (source[start:], ""))
        report, _ = verify_module(path, "hw3")
        functions = statuses(report)
        self.assertEqual(functions["GRULayer.forward"].status, MISSING)
        self.assertFalse(report.ok)

    def test_the_update_gradient_of_a_real_submission(self):
        # da_z = (dnext_h * (h_candidate - prev_h) + 1) * ..., as one 2020 submission has it
        path = variant(GRU_2020, "gru_update_gradient",
                       ("        dz = dnext_h * (prev_h - cand) * z * (1 - z)\n",
                        "        dz = (dnext_h * (cand - prev_h) + 1) * z * (1 - z)\n"))
        report, _ = verify_module(path, "hw3", only=["GRULayer"])
        functions = statuses(report)
        step = functions["GRULayer.backward_step"]
        self.assertEqual(step.status, FAIL, describe_function(step))
        self.assertIn("dx", {c.tensor for c in step.checks if c.status == FAIL})
        self.assertIn("z", describe_function(step))
        self.assertEqual(functions["GRULayer.forward_step"].status, PASS)

    def test_the_update_gate_in_the_books_sense_is_a_failure_here(self):
        path = variant(GRU_2020, "gru_book_update_gate",
                       ("        next_h = z * prev_h + (1 - z) * cand\n",
                        "        next_h = (1 - z) * prev_h + z * cand\n"))
        report, _ = verify_module(path, "hw3", only=["GRULayer"])
        step = statuses(report)["GRULayer.forward_step"]
        self.assertEqual(step.status, FAIL, describe_function(step))
        self.assertIn("next_h", {c.tensor for c in step.checks if c.status == FAIL})

    def test_a_gru_layer_beside_the_2024_layers_is_checked_as_an_extra(self):
        # its backward is a stub: n/a (an extra of that edition), its forward checked
        path = CORPUS / "time_major_transposes_gru" / "DL" / "layer" / "recurrent_layers.py"
        report, _ = verify_module(str(path), "hw3", only=["GRULayer"])
        self.assertTrue(report.ok, problems(report))
        functions = statuses(report)
        self.assertEqual(functions["GRULayer.forward_step"].status, PASS)
        self.assertEqual(functions["GRULayer.forward"].status, PASS)
        self.assertEqual(functions["GRULayer.backward"].status, SKIPPED)
        self.assertEqual(functions["GRULayer.backward_step"].status, SKIPPED)


class Stateful2018(unittest.TestCase):
    def test_the_stateful_rnn_layer_passes_and_has_no_lstm(self):
        report, _ = verify_module(module(STATEFUL_2018), "hw3")
        self.assertTrue(report.ok, problems(report))
        functions = statuses(report)
        for name in ("RNNLayer.forward_step", "RNNLayer.backward_step", "RNNLayer.forward",
                     "RNNLayer.backward"):
            self.assertEqual(functions[name].status, PASS, name)
            self.assertTrue(any(c.case.startswith("reuse-") for c in functions[name].checks))
        for name in LSTM + GRU:
            self.assertEqual(functions[name].status, SKIPPED, name)
        self.assertIn("not part of the 2018 edition", functions["LSTMLayer.forward"].note)

    def test_dh0_returned_as_one_row(self):
        path = variant(STATEFUL_2018, "dh0_row",
                       ("        return dx, carry, dW_ih, dW_hh, db\n",
                        "        return dx, carry[0], dW_ih, dW_hh, db\n"))
        report, _ = verify_module(path, "hw3", only=["RNNLayer"])
        backward = statuses(report)["RNNLayer.backward"]
        self.assertEqual(backward.status, FAIL, describe_function(backward))
        self.assertIn("dh0", {c.tensor for c in backward.checks if c.status == FAIL})
        self.assertIn("has shape", describe_function(backward))

    def test_backward_step_reading_the_wrong_activation(self):
        path = variant(STATEFUL_2018, "backward_step_first_activation",
                       ("        dz = dprev * (1 - self.prev_H[-1] ** 2)\n",
                        "        dz = dprev * (1 - self.prev_H[0] ** 2)\n"))
        report, _ = verify_module(path, "hw3", only=["RNNLayer"])
        functions = statuses(report)
        self.assertIn(functions["RNNLayer.backward_step"].status, (FAIL, ERROR),
                      describe_function(functions["RNNLayer.backward_step"]))


class Template2024(unittest.TestCase):
    def test_stubs_with_the_templates_unreachable_lines_are_not_implemented(self):
        path = CORPUS / "broken" / "template_raises_not_implemented" / "DL" / "layer" / \
            "recurrent_layers.py"
        report, adapter = verify_module(str(path), "hw3")
        self.assertNotIn(ERROR, {f.status for f in report.functions}, problems(report))
        # a FILL banner, raise NotImplementedError, then the template's own lines
        self.assertTrue(adapter.left_as_template("RNNLayer.backward"))
        self.assertTrue(adapter.left_as_template("RNNLayer.forward_step"))
        self.assertFalse(adapter.left_as_template("LSTMLayer.backward_step"))
