"""``verify --api params`` on every edition of USC CSCI 599 / 566 ``layer_utils.py``.

CSCI 599 (fall 2017, spring 2019) names the loss class ``temporal_softmax_loss``, CSCI
566 (fall 2019, fall 2020) ``temporal_softmax_CE_loss``; 2017's file is tab-indented.
Every edition hands the loss out written (a log of probabilities, ``dim_average``
dividing by N) and computes in float64. The modules under
tests/student_corpus/params/editions/ and broken/ are written in those conventions;
the bugs real submissions have are written into them one at a time. Every check runs
isolated and in-process.
"""
import tempfile
import unittest
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

from verifying import edited_copy, verify_module  # noqa: E402

from torch_ref.compare.engine import TensorCheck  # noqa: E402
from torch_ref.status import ERROR, FAIL, MISSING, PASS, UNTESTED, WARN  # noqa: E402
from torch_ref.verify.render import describe_function  # noqa: E402
from torch_ref.verify.verdict import FunctionResult  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "student_corpus" / "params"
TABS_2017 = ("editions/csci599_2017_tabs", "lib/layer_utils.py")
TEMPLATE_2019 = ("broken/csci599_2019_template_stubs", "lib/layer_utils.py")
_ROOT = tempfile.TemporaryDirectory(prefix="params_variants_")


def module(entry) -> str:
    return str(CORPUS / entry[0] / entry[1])


def variant(entry, name: str, *changes) -> str:
    """The corpus module with each ``(text, replacement)`` made exactly once (texts in
    four-space indentation; the file's tabs are matched)."""
    tabs = "\t" in (CORPUS / entry[0] / entry[1]).read_text(encoding="utf-8")
    return str(edited_copy(CORPUS / entry[0], Path(_ROOT.name) / name, entry[1], changes,
                           tabs=tabs))


def statuses(report) -> dict:
    return {f.name: f for f in report.functions}


def problems(report) -> str:
    return "\n".join(describe_function(f) for f in report.functions if f.status != PASS)


class Csci599(unittest.TestCase):
    def test_2017_tab_indented_with_its_loss_class_passes(self):
        report, _ = verify_module(module(TABS_2017), "params")
        self.assertTrue(report.ok, problems(report))
        self.assertEqual(report.counts(), (15, 0, 0))
        self.assertRegex(report.assumed, r"^params CSCI 599 fall 2017 .*recognised by: "
                                         r"defines temporal_softmax_loss; it is indented "
                                         r"with tabs")
        self.assertEqual(report.dtypes, ("float64",))
        loss = statuses(report)["temporal_softmax_loss.forward"]
        tensors = {c.tensor for c in loss.checks}
        self.assertIn("loss (dim_average=False)", tensors)
        cases = {c.case.split("/")[0] for c in loss.checks}
        self.assertIn("large logits", cases)
        self.assertIn("rows on different scales", cases)
        self.assertNotIn("spread beyond exp", cases)
        self.assertIn("V=1", cases)

    def test_2019_template_stubs_are_not_implemented(self):
        report, adapter = verify_module(module(TEMPLATE_2019), "params")
        self.assertRegex(report.assumed, r"^params CSCI 599 spring 2019 ")
        functions = statuses(report)
        for name in ("VanillaRNN.step_forward", "VanillaRNN.forward", "LSTM.step_forward",
                     "LSTM.forward", "word_embedding.forward"):
            self.assertEqual(functions[name].status, MISSING, name)
            self.assertIn("not implemented", functions[name].note)
        for name in ("VanillaRNN.backward", "LSTM.backward", "word_embedding.backward"):
            self.assertEqual(functions[name].status, UNTESTED, name)
        for name in ("temporal_fc.forward", "temporal_fc.backward",
                     "temporal_softmax_loss.forward", "temporal_softmax_loss.backward"):
            self.assertEqual(functions[name].status, PASS, name)
        self.assertNotIn(ERROR, {f.status for f in report.functions})
        # the template's own lines around a stub: its assert, self.meta = [], None values
        for name in ("VanillaRNN.step_forward", "VanillaRNN.forward", "VanillaRNN.backward",
                     "LSTM.backward", "word_embedding.backward"):
            self.assertTrue(adapter.left_as_template(name), name)
        self.assertFalse(adapter.left_as_template("temporal_fc.forward"))


class RealBugsAreReported(unittest.TestCase):
    def test_gradients_accumulated_across_calls(self):
        # the template's resets of self.grads removed: right once, wrong on reuse
        path = variant(TABS_2017, "grads_accumulated",
                       ("        self.grads[self.wx_name] = np.zeros((D, H))\n"
                        "        self.grads[self.wh_name] = np.zeros((H, H))\n"
                        "        self.grads[self.b_name] = np.zeros(H)\n",
                        "        for key, shape in ((self.wx_name, (D, H)), (self.wh_name, "
                        "(H, H)), (self.b_name, (H,))):\n"
                        "            if self.grads[key] is None:\n"
                        "                self.grads[key] = np.zeros(shape)\n"))
        report, _ = verify_module(path, "params", only=["VanillaRNN"])
        backward = statuses(report)["VanillaRNN.backward"]
        self.assertEqual(backward.status, FAIL, describe_function(backward))
        bad = {c.case.split("/")[0] for c in backward.checks if c.status == FAIL}
        self.assertTrue(bad and all(case.startswith("reuse-") for case in bad), bad)

    def test_word_embedding_backward_for_three_timesteps_only(self):
        path = variant(TABS_2017, "embedding_three_steps",
                       ("        np.add.at(dW, x, dout)\n",
                        "        for t in range(3):\n"
                        "            np.add.at(dW, x[:, t], dout[:, t])\n"))
        report, _ = verify_module(path, "params", only=["word_embedding"])
        backward = statuses(report)["word_embedding.backward"]
        self.assertIn(backward.status, (FAIL, ERROR), describe_function(backward))
        self.assertFalse(report.ok)

    def test_a_loss_that_ignores_the_mask_still_fails(self):
        # no case is hidden from a course-given loss but the one only log-sum-exp survives
        path = variant(TABS_2017, "loss_mask_ignored",
                       ("        loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), "
                        "label_flat]))\n",
                        "        loss = -np.sum(np.log(probs[np.arange(N * T), label_flat]))\n"))
        report, _ = verify_module(path, "params", only=["temporal_softmax_loss"])
        forward = statuses(report)["temporal_softmax_loss.forward"]
        self.assertEqual(forward.status, FAIL, describe_function(forward))
        self.assertIn("loss", {c.tensor for c in forward.checks if c.status == FAIL})


class WarningsAreNotRepeated(unittest.TestCase):
    def test_an_option_variant_does_not_repeat_its_tensors_warning(self):
        def check(tensor, case):
            return TensorCheck("temporal_softmax_loss", case, tensor, "loss_fn.forward", WARN,
                               kind="log-sum-exp", message="only log-sum-exp survives")
        result = FunctionResult("loss_fn.forward", WARN, checks=[
            check("loss", "spread beyond exp/float64/seed0"),
            check("loss (dim_average=False)", "spread beyond exp/float64/seed0"),
            check("loss", "spread beyond exp/float64/seed1")])
        self.assertEqual([(w.kind, w.tensor) for w in result.warnings()],
                         [("log-sum-exp", "loss")])
