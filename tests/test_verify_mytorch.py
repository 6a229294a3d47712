"""``verify --api mytorch`` (CMU 11-785 HW3P1) on a handout of every edition.

tests/student_corpus/mytorch/<edition style>/ holds correct handouts written in each
edition's conventions (class names, GRU formulation and delta shape, bias names,
activation API, layout and imports, output layer gradients): each must pass with its
edition recognised, isolated and in-process alike. broken/ holds what must be reported
for what it is: a GRU left as the template (not implemented), a squeeze that breaks
only at H=1 (a bug, said to be the size-1 case), an HW1 activation beside the cells
(said plainly), the autograd variant (not checkable). The classifier mutants are
one-edit variants of the reference classifier that must fail.
"""
import os
import shutil
import tempfile
import unittest
from pathlib import Path

import numpy as np
import pytest
from parameterized import parameterized

pytest.importorskip("torch", reason="verify compares with the torch reference")

from verifying import verify_module  # noqa: E402

from numpy_rnn import functional as F  # noqa: E402
from torch_ref.status import ERROR, FAIL, MISSING, PASS, UNTESTED, WARN  # noqa: E402
from torch_ref.status import NA as SKIPPED  # noqa: E402
from torch_ref.verify.run import UsageError  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "student_corpus" / "mytorch"
REFERENCE = Path(__file__).resolve().parent / "reference_solutions" / "mytorch"
CELLS = ("forward", "backward")

# style -> (edition, class names, statuses beyond PASS: {function: (status, warning kind)})
EDITIONS = {
    "s19_single_file_gru/hw3p1": ("S19", ("RNN_Cell", "GRU_Cell", "RNN_Phoneme_Classifier"),
                                  {"RNN_Cell": SKIPPED, "RNN_Phoneme_Classifier": SKIPPED}),
    "s20_underscored_cells": ("S20-F20", ("RNN_Cell", "GRU_Cell", "RNN_Phoneme_Classifier"),
                              {}),
    "s21_bias_ih_names": ("S21-F21", ("RNNCell", "GRUCell", "RNNPhonemeClassifier"), {}),
    "f22_flat_hw3": ("F22-F23", ("RNNCell", "GRUCell", "RNNPhonemeClassifier"), {}),
    # the handout's own classifier template keeps self.hiddens across forward calls
    "s24_nn_helpers": ("S24-S26", ("RNNCell", "GRUCell", "RNNPhonemeClassifier"),
                       {"RNNPhonemeClassifier.backward": WARN}),
    "f25_package_relative": ("S24-S26", ("RNNCell", "GRUCell", "RNNPhonemeClassifier"), {}),
    "library_mytorch_nn": ("S24-S26", ("RNNCell", "GRUCell", "RNNPhonemeClassifier"), {}),
}
FAST = ("s20_underscored_cells", "s24_nn_helpers")


def _slow_enabled() -> bool:
    return bool(os.environ.get("NUMPY_RNN_SLOW_TESTS"))


def statuses(report) -> dict:
    return {f.name: f.status for f in report.functions}


class EditionsPass(unittest.TestCase):
    """A correct handout of each edition passes, its edition recognised from its code."""

    @parameterized.expand([(style,) for style in EDITIONS])
    def test_edition_recognised_and_passing(self, style):
        if style not in FAST and not _slow_enabled():
            self.skipTest("slow: NUMPY_RNN_SLOW_TESTS=1")
        edition, classes, expected = EDITIONS[style]
        report, adapter = verify_module(CORPUS / style, "auto")
        self.assertEqual(report.api, "mytorch")
        self.assertEqual(adapter.edition.name, edition)
        self.assertIn(f"mytorch {edition} (", report.assumed)
        for cls in classes:
            for method in CELLS:
                name = f"{cls}.{method}"
                want = expected.get(name, expected.get(cls, PASS))
                self.assertEqual(statuses(report)[name], want, f"{style}: {name}")
        self.assertTrue(report.ok, style)

    def test_reference_solution_checks_all_six_functions(self):
        report, adapter = verify_module(REFERENCE, "mytorch", ways="in-process")
        self.assertEqual(set(statuses(report).values()), {PASS})
        self.assertEqual(len(report.functions), 6)
        self.assertIn("rnn_classifier", [c.name for c in report.components])


class Conventions(unittest.TestCase):
    """What each edition's conventions are read from (never tried one after the other)."""

    def _adapter(self, style):
        return verify_module(CORPUS / style, "mytorch", ways="in-process",
                             only=["GRUCell"])[1]

    def test_gru_delta_from_the_templates_asserts(self):
        self.assertEqual(self._adapter("f22_flat_hw3").convention("gru_delta"), "(1, H)")
        self.assertEqual(self._adapter("s24_nn_helpers").convention("gru_delta"), "(H,)")

    def test_a_row_delta_edition_gets_a_row_delta(self):
        # an F22 GRU whose backward works only on the (1, H) delta of its course's tests
        root = Path(tempfile.mkdtemp(prefix="mytorch_row_"))
        self.addCleanup(shutil.rmtree, root)
        shutil.copytree(CORPUS / "f22_flat_hw3" / "mytorch", root / "mytorch")
        gru = root / "mytorch" / "gru_cell.py"
        text = gru.read_text(encoding="utf-8")
        gru.write_text(text.replace("d = delta\n", "d = delta\n        assert d.shape == (1, "
                                                   "self.h)\n"), encoding="utf-8")
        report, _ = verify_module(gru, "mytorch", only=["GRUCell"])
        self.assertEqual(statuses(report)["GRUCell.backward"], PASS)


    def test_output_layer_scale_from_the_course_test_beside(self):
        # a Linear summing over the batch in the 2022 layout: right when the course's own
        # test beside compares it with torch's gradient times batch_size, wrong otherwise
        root = Path(tempfile.mkdtemp(prefix="mytorch_linear_"))
        self.addCleanup(shutil.rmtree, root)
        shutil.copytree(CORPUS / "f22_flat_hw3", root, dirs_exist_ok=True)
        linear = root / "mytorch" / "linear.py"
        linear.write_text(linear.read_text(encoding="utf-8").replace(" / self.N", ""),
                          encoding="utf-8")
        only = ["RNNPhonemeClassifier"]
        report, _ = verify_module(root, "mytorch", ways="in-process", only=only)
        self.assertEqual(statuses(report)["RNNPhonemeClassifier.backward"], FAIL)
        test = root / "autograder" / "hw3_autograder" / "test_rnn.py"
        test.parent.mkdir(parents=True)
        test.write_text("assert np.allclose(\n    my_rnn_model.output_layer.dLdW,\n"
                        "    grad_dict[\"output.weight\"].detach().numpy() * batch_size,\n"
                        "    rtol=1e-03)\n", encoding="utf-8")
        report, _ = verify_module(root, "mytorch", only=only)
        self.assertEqual(statuses(report)["RNNPhonemeClassifier.backward"], PASS)


class Broken(unittest.TestCase):
    def test_gru_left_as_the_template_is_not_implemented(self):
        report, _ = verify_module(CORPUS / "broken" / "gru_left_as_template", "mytorch")
        result = {f.name: f for f in report.functions}
        self.assertEqual(result["GRUCell.forward"].status, MISSING)
        self.assertIn("not implemented", result["GRUCell.forward"].note)
        self.assertEqual(result["GRUCell.backward"].status, UNTESTED)
        self.assertIn("not implemented", result["GRUCell.backward"].note)
        self.assertEqual(result["RNNCell.backward"].status, PASS)

    def test_squeeze_breaking_only_at_size_one_is_a_bug_said_so(self):
        path = CORPUS / "broken" / "squeeze_at_size_one" / "mytorch" / "gru_cell.py"
        report, _ = verify_module(path, "mytorch")
        result = {f.name: f for f in report.functions}
        self.assertEqual(result["GRUCell.forward"].status, ERROR)
        problem = result["GRUCell.forward"].problems()[0]
        self.assertIn("H=1", problem.message)
        self.assertIn("never use", problem.message)
        self.assertIn("H=1", problem.case)
        self.assertEqual(result["GRUCell.backward"].status, PASS)

    def test_hw1_activation_beside_the_cells_is_named(self):
        report, _ = verify_module(CORPUS / "broken" / "hw1_activation", "mytorch")
        result = {f.name: f for f in report.functions}
        self.assertEqual(result["RNNCell.forward"].status, ERROR)
        message = result["RNNCell.forward"].problems()[0].message
        self.assertIn("mytorch/activation.py is not the HW3 activation", message)
        self.assertFalse(report.ok)

    def test_autograd_variant_is_refused_plainly(self):
        for ways in ("in-process", "isolated"):
            with self.assertRaises(UsageError) as ctx:
                verify_module(CORPUS / "broken" / "autograd_variant", "mytorch", ways=ways)
            self.assertIn("autograd variant", str(ctx.exception))

    def test_an_unrelated_root_file_is_never_taken_for_the_handout(self):
        report, _ = verify_module(CORPUS / "library_mytorch_nn", "mytorch", ways="in-process",
                                  only=["RNNCell"])
        self.assertEqual(statuses(report)["RNNCell.backward"], PASS)


# ---- the classifier ------------------------------------------------------------------

CLASSIFIER = REFERENCE / "models" / "rnn_classifier.py"
# (name, old, new, function that must fail): one edit each
CLASSIFIER_MUTANTS = [
    ("layer_index_hard_coded_backward",
     "else self.hiddens[t + 1][layer - 1]", "else self.hiddens[t + 1][0]",
     "RNNPhonemeClassifier.backward"),
    ("layer_index_hard_coded_forward",
     "logits = self.output_layer.forward(hidden[-1])",
     "logits = self.output_layer.forward(hidden[1])", "RNNPhonemeClassifier.forward"),
    ("time_not_reversed", "for t in range(seq_len - 1, -1, -1):", "for t in range(seq_len):",
     "RNNPhonemeClassifier.backward"),
    ("states_of_the_wrong_layer", "h_t = self.hiddens[t + 1][layer]",
     "h_t = self.hiddens[t + 1][-1]", "RNNPhonemeClassifier.backward"),
    ("dh_split_overwritten", "dh[layer - 1] += dx", "dh[layer - 1] = dx",
     "RNNPhonemeClassifier.backward"),
    ("dh_0_not_averaged", "return dh / batch_size", "return dh",
     "RNNPhonemeClassifier.backward"),
    ("dh_0_averaged_over_time", "return dh / batch_size", "return dh / (batch_size * seq_len)",
     "RNNPhonemeClassifier.backward"),
    ("h_0_ignored", "            hidden = h_0\n",
     "            hidden = np.zeros_like(h_0)\n", "RNNPhonemeClassifier.forward"),
]
FAST_MUTANTS = ("layer_index_hard_coded_backward", "time_not_reversed")


def _mutant(old: str, new: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix="mytorch_classifier_"))
    shutil.copytree(REFERENCE, root, dirs_exist_ok=True)
    target = root / "models" / "rnn_classifier.py"
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    target.write_text(text.replace(old, new), encoding="utf-8")
    return root


class ClassifierMutants(unittest.TestCase):
    @parameterized.expand([(m[0], m) for m in CLASSIFIER_MUTANTS])
    def test_caught(self, name, mutant):
        if name not in FAST_MUTANTS and not _slow_enabled():
            self.skipTest("slow: NUMPY_RNN_SLOW_TESTS=1")
        _, old, new, function = mutant
        root = _mutant(old, new)
        self.addCleanup(shutil.rmtree, root)
        report, _ = verify_module(root, "mytorch", only=["RNNPhonemeClassifier"])
        self.assertIn(statuses(report)[function], (FAIL, ERROR), name)
        self.assertFalse(report.ok)

    def test_a_three_layer_case_catches_the_two_layer_assumption(self):
        root = _mutant(*CLASSIFIER_MUTANTS[0][1:3])
        self.addCleanup(shutil.rmtree, root)
        report, _ = verify_module(root, "mytorch", ways="in-process",
                                  only=["RNNPhonemeClassifier"])
        (result,) = [f for f in report.functions if f.name == "RNNPhonemeClassifier.backward"]
        self.assertTrue(all("3 layers" in c.case for c in result.checks
                            if c.status == FAIL and "reuse" not in c.case), result.checks)

    def test_hiddens_kept_across_calls_is_a_reuse_warning_not_a_failure(self):
        root = _mutant("        self.hiddens = [hidden.copy()]\n",
                       "        self.hiddens.append(hidden.copy())\n")
        self.addCleanup(shutil.rmtree, root)
        report, _ = verify_module(root, "mytorch", only=["RNNPhonemeClassifier"])
        (result,) = [f for f in report.functions if f.name == "RNNPhonemeClassifier.backward"]
        self.assertEqual(result.status, WARN)
        self.assertEqual({w.kind for w in result.warnings()}, {"reuse"})
        self.assertTrue(report.ok)


class ClassifierFunctional(unittest.TestCase):
    """numpy_rnn's classifier is the stacked RNN and the affine layer composed."""

    def test_matches_the_stacked_rnn_and_affine_layer(self):
        rng = np.random.default_rng(0)
        N, T, D, H, M = 2, 3, 4, 5, 3
        weights = {"Wx_l0": rng.normal(size=(D, H)), "Wh_l0": rng.normal(size=(H, H)),
                   "b_l0": rng.normal(size=H), "Wx_l1": rng.normal(size=(H, H)),
                   "Wh_l1": rng.normal(size=(H, H)), "b_l1": rng.normal(size=H)}
        x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(2, N, H))
        w, b, dlogits = rng.normal(size=(H, M)), rng.normal(size=M), rng.normal(size=(N, M))
        logits, cache = F.rnn_classifier_forward(x, h0, w, b, **weights)
        h, _, stacked = F.rnn_stacked_forward(x, h0, **weights)
        np.testing.assert_allclose(logits, h[:, -1] @ w + b)
        dx, dh0, dw, db, *dweights = F.rnn_classifier_backward(dlogits, cache)
        dh = np.zeros_like(h)
        dh[:, -1] = dlogits @ w.T
        expected = F.rnn_stacked_backward(dh, None, stacked)
        np.testing.assert_allclose(dx, expected[0])
        np.testing.assert_allclose(dh0, expected[1])
        for got, want in zip(dweights, expected[2:], strict=True):
            np.testing.assert_allclose(got, want)
        np.testing.assert_allclose(dw, h[:, -1].T @ dlogits)
        np.testing.assert_allclose(db, dlogits.sum(0))

    def test_refuses_a_reverse_direction(self):
        with self.assertRaises(ValueError) as ctx:
            F.rnn_classifier_forward(np.zeros((1, 2, 3)), np.zeros((2, 1, 4)), np.zeros((4, 2)),
                                     np.zeros(2), Wx_l0=np.zeros((3, 4)),
                                     Wh_l0=np.zeros((4, 4)), b_l0=np.zeros(4),
                                     Wx_l0_reverse=np.zeros((3, 4)), Wh_l0_reverse=np.zeros(
                                         (4, 4)), b_l0_reverse=np.zeros(4))
        self.assertIn("forward-only", str(ctx.exception))
