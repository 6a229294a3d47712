"""``verify --api eecs498`` on every public edition of UMich EECS 498/598's captioning layers.

One module per edition under tests/student_corpus/eecs498/editions/, written in that
edition's conventions: Fall 2019 (a notebook: ``coutils``, the dtype/device dicts of its
setup cell, ``ignore_index=NULL_index`` from a cell that loads the data), Fall 2020
(``from a4_helper import *`` and the helper beside it, importing torchvision.datasets
and SciPy; module-level LSTM functions) and Winter 2022 (``class LSTM(nn.Module)``; a
``RegNet_X_400MF_Weights`` import). Each is correct and must pass with its edition named,
isolated and in-process alike; the real mistakes of students of each edition, written
into copies of them, must get the right verdict.
"""
import functools
import os
import tempfile
import unittest
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")
nbformat = pytest.importorskip("nbformat", reason="notebooks are read with nbformat")

from verifying import edited_copy, verify_module  # noqa: E402

from torch_ref.status import ERROR, FAIL, MISSING, PASS, UNTESTED  # noqa: E402
from torch_ref.verify.adapters.eecs498 import ignored_label  # noqa: E402
from torch_ref.verify.render import describe_function  # noqa: E402

EDITIONS = Path(__file__).resolve().parent / "student_corpus" / "eecs498" / "editions"
MODULES = {"Fall 2019": "fall2019/rnn_lstm_attention_captioning.ipynb",
           "Fall 2020": "fall2020/rnn_lstm_attention_captioning.py",
           "Winter 2022": "winter2022/rnn_lstm_captioning.py"}
BAD = (FAIL, ERROR, MISSING, UNTESTED)
_VARIANTS = tempfile.TemporaryDirectory(prefix="eecs498_editions_")


def variant(edition: str, name: str, *edits, drop=()) -> Path:
    """The edition's folder copied with each ``(text, replacement)`` written into its
    module (each text exactly once) and the files in ``drop`` left out."""
    folder = Path(MODULES[edition]).parent
    return edited_copy(EDITIONS / folder, Path(_VARIANTS.name) / name / folder,
                       Path(MODULES[edition]).name, edits, drop=drop)


@functools.lru_cache(maxsize=None)
def report_of(path, api="auto", only=None, golden=True):
    report, _ = verify_module(path, api, only=list(only) if only else None, golden=golden)
    return report


def failing(report) -> str:
    return "\n".join(describe_function(f) for f in report.functions if f.status in BAD)


class EditionsPass(unittest.TestCase):
    def check(self, edition, path=None, only=None):
        report = report_of(str(path or EDITIONS / MODULES[edition]), only=only)
        self.assertEqual(report.api, "eecs498")
        self.assertTrue(report.assumed.startswith(f"eecs498 {edition} ("), report.assumed)
        self.assertTrue(report.ok, failing(report))
        return report

    def test_fall_2019_notebook_with_its_setup_dicts_and_null_index(self):
        report = self.check("Fall 2019", only=("rnn", "temporal_softmax_loss", "lstm"))
        self.assertEqual(report.status("temporal_softmax_loss"), PASS)

    def test_fall_2020_with_the_courses_helper_beside_it(self):
        # a4_helper imports torchvision.datasets and scipy.ndimage.filters, and makes
        # tensors at import; the module uses F from it
        self.check("Fall 2020", only=("temporal_softmax_loss", "lstm_step"))

    def test_fall_2020_without_the_helper_gets_what_the_real_one_exports(self):
        path = variant("Fall 2020", "no_helper", drop=("a4_helper.py",))
        self.check("Fall 2020", path, only=("temporal_softmax_loss",))

    def test_winter_2022_class_lstm_is_checked_isolated_and_in_process(self):
        report = self.check("Winter 2022", only=("lstm_step", "lstm", "word_embedding"))
        for name in ("LSTM.step_forward", "LSTM.forward", "WordEmbedding.forward"):
            self.assertEqual(report.status(name), PASS, name)


@pytest.mark.slow
@pytest.mark.parametrize("edition", list(MODULES))
def test_every_function_of_each_edition(edition):
    if not os.environ.get("NUMPY_RNN_SLOW_TESTS"):
        pytest.skip("slow: run with NUMPY_RNN_SLOW_TESTS=1")
    report = report_of(str(EDITIONS / MODULES[edition]))
    assert report.ok, failing(report)
    assert all(f.checks and f.status == PASS for f in report.functions), failing(report)


class RealMistakes(unittest.TestCase):
    def test_winter_2022_lstm_without_the_forget_gate_fails_in_both_ways(self):
        path = variant("Winter 2022", "forget_gate_dropped",
                       ("next_c = torch.sigmoid(f) * prev_c + torch.sigmoid(i) * torch.tanh(g)",
                        "next_c = torch.sigmoid(i) * torch.tanh(g)"))
        report = report_of(str(path), only=("lstm_step",))
        self.assertEqual(report.status("LSTM.step_forward"), FAIL)

    def test_squeeze_of_the_hidden_state_breaks_at_h_one(self):
        path = variant("Winter 2022", "squeeze_h",
                       ("h[:, t] = prev_h", "h[:, t] = prev_h.squeeze(1)"))
        report = report_of(str(path), only=("rnn",), golden=False)
        (result,) = [f for f in report.functions if f.name == "rnn_forward"]
        self.assertEqual(result.status, ERROR, describe_function(result))
        specials = {s for c in result.checks if not c.passed for s in c.special}
        self.assertIn("H=1", specials)

    def test_squeeze_of_the_step_input_breaks_at_n_one(self):
        path = variant("Fall 2020", "squeeze_x",
                       ("lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)",
                        "lstm_step_forward(x[:, t, :].squeeze(), prev_h, prev_c, Wx, Wh, b)"))
        report = report_of(str(path), only=("lstm",), golden=False)
        (result,) = [f for f in report.functions if f.name == "lstm_forward"]
        self.assertEqual(result.status, ERROR, describe_function(result))
        specials = {s for c in result.checks if not c.passed for s in c.special}
        self.assertIn("N=1", specials)

    def test_the_notebooks_cuda_dict_is_an_error_on_the_line_using_it(self):
        path = variant("Fall 2019", "cuda_dict",
                       ("h = torch.zeros(N, T, h0.shape[1], dtype=x.dtype, device=x.device)",
                        "h = torch.zeros(N, T, h0.shape[1], **to_double_cuda)"))
        report = report_of(str(path), only=("rnn",), golden=False)
        (result,) = [f for f in report.functions if f.name == "rnn_forward"]
        self.assertEqual(result.status, ERROR)
        self.assertRegex(describe_function(result), r"CUDA.*\[cell \d+\]:\d+")


class LossMask(unittest.TestCase):
    def test_ignored_label_is_a_class_no_kept_label_uses(self):
        y = np.array([[0, 1, 2], [2, 1, 0]])
        mask = y != 1
        labels, ignore = ignored_label(y, mask, 4)
        self.assertEqual(ignore, 1)  # no kept label is 1
        self.assertTrue(((labels == ignore) == ~mask).all())
        # every class kept: nothing to ignore; one class: its loss is 0 at every step
        labels, ignore = ignored_label(y, y >= 0, 3)
        self.assertEqual(ignore, -100)
        self.assertIsNotNone(ignored_label(y * 0, mask, 1))
        # a step dropped, every class used by the kept ones: not expressible
        self.assertIsNone(ignored_label(y, [[True, True, True], [True, True, False]], 3))

    def test_each_size_at_one(self):
        report = report_of(str(EDITIONS / MODULES["Winter 2022"]),
                           only=("rnn", "word_embedding", "temporal_softmax_loss"),
                           golden=False)
        labels = {c.case_description.split(" [")[0] for c in report.checks}
        for label in ("N=1", "T=1", "D=1", "H=1", "V=1"):
            self.assertIn(label, labels)
        self.assertTrue(report.ok, failing(report))
