"""``verify --api dlfs2`` on every edition of Deep Learning from Scratch 2's time layers.

The modules under tests/student_corpus/dlfs2/ are written in the conventions of the
book's printings and of its readers' copies: the first printing's GRU without bias
(``GRU(Wx, Wh)``, gradients in ``dWx``/``dWh``), the current code typed with a renamed
state flag, and a rewrite with renamed state attributes, a ``common/`` folder without
``__init__.py`` that imports its own helper, and a GRU of its own design. The correct
ones must pass; the bugs readers' real copies have (written into them one at a time)
must be reported with the right verdict. Every check runs isolated and in-process.
"""
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import pytest

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402
from verifying import edited_copy, verify_module  # noqa: E402

from torch_ref.status import ERROR, FAIL, PASS, WARN  # noqa: E402
from torch_ref.status import NA as SKIPPED  # noqa: E402
from torch_ref.verify.load.loader import dotted_name_of  # noqa: E402
from torch_ref.verify.render import describe_function  # noqa: E402
from torch_ref.verify.run import UsageError  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "student_corpus" / "dlfs2"
MODULE = Path("common") / "time_layers.py"
FIRST = "first_printing_no_bias_gru"
TYPED = "current_typed_positional_flag"
OWN = "renamed_state_own_gru"
GRU = ("GRU.forward", "GRU.backward", "TimeGRU.forward", "TimeGRU.backward")
_ROOT = tempfile.TemporaryDirectory(prefix="dlfs2_variants_")


def module(entry: str) -> str:
    return str(CORPUS / entry / MODULE)


def variant(entry: str, name: str, *changes, extra: dict | None = None) -> str:
    """``entry`` copied with each ``(text, replacement)`` made exactly once (and the files
    of ``extra`` added): one reader's mistake written into a correct module."""
    return str(edited_copy(CORPUS / entry, Path(_ROOT.name) / name, MODULE, changes,
                           extra=extra))


def statuses(report) -> dict:
    return {f.name: f for f in report.functions}


def failing(result) -> set:
    return {c.tensor for c in result.checks if c.status in (FAIL, ERROR)}


class Editions(unittest.TestCase):
    def assumed(self, path):
        report, _ = verify_module(path, "dlfs2", only=["TimeAffine"])
        return report.assumed

    def test_each_printing_is_recognised_from_the_gru_it_defines(self):
        self.assertRegex(self.assumed(module(FIRST)),
                         r"^dlfs2 first printing .*recognised by: GRU's constructor takes "
                         r"two weights")
        self.assertRegex(self.assumed(module(TYPED)),
                         r"^dlfs2 2020-06 onwards .*recognised by: GRU's constructor takes "
                         r"three weights")
        second = variant(FIRST, "second_printing",
                         ("from common.functions import sigmoid\n",
                          "from common.functions import softmax, sigmoid\n"),
                         ("        selfdWx, self.dWh = None, None\n",
                          "        self.dWx, self.dWh = None, None\n"))
        self.assertRegex(self.assumed(second), r"^dlfs2 2020 printings ")

    def test_a_module_without_the_books_gru_is_read_as_the_current_code(self):
        # a GRU of its own design is no sign of the printings without bias
        self.assertIn("assumed (no sign of another edition)", self.assumed(module(OWN)))


class CorrectModulesPass(unittest.TestCase):
    def test_first_printing_gru_without_bias_checked_with_zero_biases(self):
        report, _ = verify_module(module(FIRST), "dlfs2")
        self.assertTrue(report.ok, "\n".join(describe_function(f) for f in report.functions))
        self.assertEqual(report.counts(), (18, 0, 0))
        functions = statuses(report)
        for name in GRU:
            cases = [c for c in functions[name].checks if not c.case.startswith("reuse")]
            self.assertTrue(cases, name)
            self.assertTrue(all("zero biases" in c.case_description for c in cases), name)
            # saturated through the biases: a GRU without any is not given that case
            self.assertFalse([c for c in cases if c.case.startswith("saturated")], name)
            # its bias gradients are not asked for
            self.assertFalse([c for c in cases if c.tensor.startswith("db")], name)
        self.assertTrue([c for c in functions["LSTM.forward"].checks
                         if c.case.startswith("saturated")])

    def test_current_code_typed_with_a_renamed_state_flag(self):
        report, _ = verify_module(module(TYPED), "dlfs2")
        self.assertTrue(report.ok, "\n".join(describe_function(f) for f in report.functions))
        self.assertEqual(report.counts(), (18, 0, 0))
        # every dimension at 1 while the others are larger, for every function
        functions = statuses(report)
        for name, dims in (("RNN.backward", "NDH"), ("TimeRNN.backward", "NTDH"),
                           ("LSTM.backward", "NDH"), ("TimeLSTM.backward", "NTDH"),
                           ("GRU.backward", "NDH"), ("TimeGRU.backward", "NTDH"),
                           ("TimeAffine.backward", "NT"), ("TimeEmbedding.backward", "NT"),
                           ("TimeSoftmaxWithLoss.backward", "NTV")):
            seen = {c.case.split("/")[0] for c in functions[name].checks}
            for dim in dims:
                self.assertIn(f"{dim}=1", seen, name)

    def test_renamed_state_namespace_common_and_a_gru_of_its_own(self):
        report, adapter = verify_module(module(OWN), "dlfs2")
        self.assertTrue(report.ok, "\n".join(describe_function(f) for f in report.functions))
        functions = statuses(report)
        for name in GRU:
            self.assertEqual(functions[name].status, SKIPPED, name)
            self.assertIn("is not the book's", functions[name].note)
        self.assertIn("GRU(Wx_zr, Wx_n, Wh_zr, Wh_n, b_zr, b_n)", functions["GRU.forward"].note)
        # the initial state went in through set_state and dh0 came out of dhidden
        for name in ("TimeRNN.forward", "TimeRNN.backward", "TimeLSTM.forward",
                     "TimeLSTM.backward"):
            self.assertEqual(functions[name].status, PASS, describe_function(functions[name]))
        # a real hazard stays a warning: the loss shifts the caller's logits in place
        loss = functions["TimeSoftmaxWithLoss.forward"]
        self.assertEqual(loss.status, WARN)
        self.assertEqual([w.kind for w in loss.warnings()], ["argument-modified"])


class RealBugsAreReported(unittest.TestCase):
    def verdict(self, path, function):
        report, _ = verify_module(path, "dlfs2", only=[function.split(".")[0]])
        self.assertFalse(report.ok)
        result = statuses(report)[function]
        return result, describe_function(result)

    def test_first_printing_time_gru_assigning_its_gradient(self):
        path = variant(FIRST, "time_gru_dWx_assigned",
                       ("            self.dWx += layer.dWx\n",
                        "            self.dWx = layer.dWx\n"))
        result, detail = self.verdict(path, "TimeGRU.backward")
        self.assertEqual(result.status, FAIL, detail)
        self.assertIn("dWx", failing(result), detail)
        self.assertNotIn("dWh", failing(result), detail)

    def test_first_printing_gru_with_the_update_gate_the_other_way(self):
        path = variant(FIRST, "gru_update_gate_swapped",
                       ("        h_next = (1 - z) * h_prev + z * h_hat\n",
                        "        h_next = z * h_prev + (1 - z) * h_hat\n"))
        result, detail = self.verdict(path, "GRU.forward")
        self.assertEqual(result.status, FAIL, detail)
        self.assertIn("h_next", failing(result), detail)

    def test_time_rnn_backward_that_drops_the_carried_gradient(self):
        path = variant(TYPED, "time_rnn_dh_not_carried",
                       ("            dx, dh = self.layers[t].backward(dhs[:, t, :] + dh)\n"
                        "            dxs[:, t, :] = dx\n            for s, g in zip(sums, "
                        "self.layers[t].grads):\n                s += g\n        for g, s in "
                        "zip(self.grads, sums):\n            g[...] = s\n        self.dh = dh\n"
                        "        return dxs\n\n\nclass LSTM",
                        "            dx, dh = self.layers[t].backward(dhs[:, t, :])\n"
                        "            dxs[:, t, :] = dx\n            for s, g in zip(sums, "
                        "self.layers[t].grads):\n                s += g\n        for g, s in "
                        "zip(self.grads, sums):\n            g[...] = s\n        self.dh = dh\n"
                        "        return dxs\n\n\nclass LSTM"))
        result, detail = self.verdict(path, "TimeRNN.backward")
        self.assertEqual(result.status, FAIL, detail)
        self.assertIn("no gradient flows back through the hidden state", detail)

    def test_time_lstm_starting_its_cell_state_uninitialised(self):
        path = variant(TYPED, "time_lstm_c0_np_empty",
                       ("            self.c = np.zeros((N, H), dtype=np.float32)\n",
                        "            self.c = np.empty((N, H), dtype=np.float32)\n"))
        result, detail = self.verdict(path, "TimeLSTM.forward")
        self.assertEqual(result.status, FAIL, detail)

    def test_set_state_with_a_typo_is_an_error_where_it_is(self):
        path = variant(TYPED, "set_state_typo",
                       ("        self.h, self.c = h, c\n", "        self.h, self, c = h, c\n"))
        result, detail = self.verdict(path, "TimeLSTM.forward")
        self.assertEqual(result.status, ERROR, detail)
        source = Path(path).read_text().splitlines()
        line = next(i for i, text in enumerate(source, 1) if "self.h, self, c" in text)
        self.assertRegex(detail, rf"time_layers\.py:{line}\b")

    def test_time_rnn_backward_that_keeps_no_dh(self):
        path = variant(TYPED, "time_rnn_without_dh",
                       ("            g[...] = s\n        self.dh = dh\n        return dxs\n\n\n"
                        "class LSTM", "            g[...] = s\n        return dxs\n\n\n"
                        "class LSTM"))
        result, detail = self.verdict(path, "TimeRNN.backward")
        self.assertEqual(result.status, ERROR, detail)
        self.assertIn("TimeRNN.dh is None", detail)

    def test_np_empty_with_a_misspelt_keyword(self):
        path = variant(FIRST, "np_empty_stype",
                       ("        D = Wx.shape[0]\n        dxs = np.empty((N, T, D), dtype='f')\n"
                        "        dh = 0\n",
                        "        D = Wx.shape[0]\n        dxs = np.empty((N, T, D), stype='f')\n"
                        "        dh = 0\n"))
        result, detail = self.verdict(path, "TimeRNN.backward")
        self.assertEqual(result.status, ERROR, detail)
        self.assertIn("stype", detail)

    def test_a_bug_that_shows_only_at_size_one_is_reported(self):
        path = variant(TYPED, "squeezed_upstream",
                       ("            dx, dh = self.layers[t].backward(dhs[:, t, :] + dh)\n"
                        "            dxs[:, t, :] = dx\n            for s, g in zip(sums, "
                        "self.layers[t].grads):\n                s += g\n        for g, s in "
                        "zip(self.grads, sums):\n            g[...] = s\n        self.dh = dh\n"
                        "        return dxs\n\n\nclass LSTM",
                        "            dx, dh = self.layers[t].backward(np.squeeze(dhs[:, t, :]) + "
                        "dh)\n            dxs[:, t, :] = dx\n            for s, g in zip(sums, "
                        "self.layers[t].grads):\n                s += g\n        for g, s in "
                        "zip(self.grads, sums):\n            g[...] = s\n        self.dh = dh\n"
                        "        return dxs\n\n\nclass LSTM"))
        result, detail = self.verdict(path, "TimeRNN.backward")
        self.assertIn(result.status, (FAIL, ERROR), detail)
        bad = {c.case.split("/")[0] for c in result.checks if c.status in (FAIL, ERROR)}
        self.assertTrue(bad, detail)
        self.assertTrue(bad <= {"N=1", "H=1", "drawn", "reuse-1", "reuse-2", "reuse-3"}, bad)
        self.assertTrue(bad & {"N=1", "H=1"}, bad)


class Loading(unittest.TestCase):
    def test_common_without_init_importing_itself_is_imported_as_a_package(self):
        root, dotted = dotted_name_of(module(OWN))
        self.assertEqual((Path(root), dotted), (CORPUS / OWN, "common.time_layers"))
        report, _ = verify_module(module(OWN), "dlfs2", only=["TimeEmbedding"])
        self.assertTrue(report.ok)
        self.assertFalse({"common", "common.embedding", "common.time_layers"}
                         & set(sys.modules))

    def test_numpy_1_code_is_named_as_such(self):
        path = variant(OWN, "numpy_1_alias",
                       ("from common.embedding import Embedding\n",
                        "from common.embedding import Embedding\nfrom common.types import "
                        "Float\n"),
                       extra={"common/types.py": "import numpy as np\n\nFloat = np.float_\n"})
        for ways in ("in-process", "isolated"):
            with self.assertRaises(UsageError) as caught:
                verify_module(path, "dlfs2", ways=ways)
            message = str(caught.exception)
            self.assertIn("NumPy 1 code: np.float_", message)
            self.assertRegex(message, r"types\.py:3\b")
            self.assertIn("use np.float64", message)


class UninitialisedMemory(unittest.TestCase):
    def test_no_verdict_depends_on_what_np_empty_hands_out(self):
        """The reference solution, with every buffer NumPy keeps for np.empty (up to 1 KiB)
        NaN-filled wherever the adapter poisons: a verdict that read uninitialised memory
        (the module's, or the checker's own arrays) would change. In-process only: the
        poison is patched in this process's executor."""
        from torch_ref.verify.isolation import child
        from torch_ref.verify.load.poison import poison

        def everywhere(*shapes, dtypes=("float64", "float32")):
            for n in range(1, 129):
                poison((n,), dtypes=("float64", "float32"))
            poison(*shapes, dtypes=dtypes)
        with mock.patch.object(child, "_poison", everywhere):
            report, _ = verify_module(str(mutants.reference_module("dlfs2")), "dlfs2",
                                      ways="in-process")
        self.assertEqual(report.counts(), (18, 0, 0),
                         "\n".join(describe_function(f) for f in report.functions))
