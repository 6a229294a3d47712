"""``verify --api cs231n`` on every public edition of the assignment.

One module per edition under tests/student_corpus/cs231n/editions/, written in that
edition's conventions: 2016 (Python 2 template: two-space indentation, the course's own
``print 'dx_flat: '`` line in its loss), 2017-2020 (``from builtins import range``,
START/END markers, a package), 2021-2024 (``affine_*`` in the file, the extra-credit
LSTM left as the template) and 2025-2026 (``rnn_layers_pytorch.py``: torch, forward only,
autograd, the LSTM not part of the notebook). Each is correct and must pass with the
edition named; the real mistakes found in students' submissions of each edition are
written into copies of them (``variant``) and must get the right verdict. Every check
runs isolated and in-process (tests/verifying.py). Full runs of every component are
slow; the default runs name the components they need.
"""
import functools
import os
import tempfile
import unittest
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

from verifying import edited_copy, verify_module  # noqa: E402

from torch_ref.status import ERROR, FAIL, MISSING, PASS, UNTESTED, WARN  # noqa: E402
from torch_ref.status import NA as SKIPPED  # noqa: E402
from torch_ref.verify.render import describe_function  # noqa: E402
from torch_ref.verify.run import UsageError  # noqa: E402

EDITIONS = Path(__file__).resolve().parent / "student_corpus" / "cs231n" / "editions"
MODULES = {"2016": "2016/rnn_layers.py", "2017-2020": "2017_2020/cs231n/rnn_layers.py",
           "2021-2024": "2021_2024/rnn_layers.py",
           "2025-2026": "2025_2026/rnn_layers_pytorch.py"}
BAD = (FAIL, ERROR, MISSING, UNTESTED)
_VARIANTS = tempfile.TemporaryDirectory(prefix="cs231n_editions_")


def slow_enabled() -> bool:
    return bool(os.environ.get("NUMPY_RNN_SLOW_TESTS"))


def variant(edition: str, name: str, *edits) -> Path:
    """The edition's module copied (its folder) with each ``(text, replacement)`` written
    in; each text must occur exactly once."""
    top, *rest = Path(MODULES[edition]).parts
    return edited_copy(EDITIONS / top, Path(_VARIANTS.name) / name / top, Path(*rest), edits)


@functools.lru_cache(maxsize=None)
def report_of(path, api="auto", only=None, golden=True):
    report, _ = verify_module(path, api, only=list(only) if only else None, golden=golden)
    return report


def functions(report) -> dict:
    return {f.name: f for f in report.functions}


def failing(report, *excepted) -> str:
    return "\n".join(describe_function(f) for f in report.functions
                     if f.status in BAD and f.name not in excepted)


class EditionsAreRecognised(unittest.TestCase):
    """Each edition's module is taken for the cs231n API and its edition, by its signs."""

    def check(self, edition, only):
        report = report_of(str(EDITIONS / MODULES[edition]), only=only, golden=False)
        self.assertEqual(report.api, "cs231n")
        self.assertTrue(report.assumed.startswith(f"cs231n {edition} ("), report.assumed)
        self.assertTrue(report.ok, failing(report))
        return report

    def test_2016_python2_template_loads_with_the_courses_print_read_as_python3(self):
        report = self.check("2016", ("rnn_step", "temporal_softmax_loss"))
        self.assertIn("the course's own Python 2 line at", report.assumed)
        self.assertRegex(report.assumed, r"rnn_layers\.py:\d+ \(in its temporal_softmax_loss\)")

    def test_2017_2020(self):
        self.check("2017-2020", ("rnn_step",))

    def test_2021_2024_untouched_extra_credit_lstm_is_not_applicable(self):
        report = self.check("2021-2024", ("lstm", "lstm_step", "affine"))
        found = functions(report)
        for name in ("lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"):
            self.assertEqual(found[name].status, SKIPPED, describe_function(found[name]))
            self.assertIn("not implemented", found[name].note)
        self.assertEqual(found["affine_forward"].status, PASS)

    def test_2025_2026_torch_is_cs231n_not_eecs498(self):
        report = self.check("2025-2026", ("rnn", "word_embedding", "temporal_softmax_loss",
                                          "lstm_step"))
        found = functions(report)
        # forward functions only: each backward is autograd through them
        self.assertEqual(found["rnn_forward"].status, PASS)
        self.assertEqual(found["word_embedding_forward"].status, PASS)
        self.assertEqual(found["temporal_softmax_loss"].status, PASS)
        self.assertNotIn("rnn_backward", found)
        self.assertNotIn("sigmoid", found)
        # the LSTM stubs are not part of the notebook
        self.assertEqual(found["lstm_step_forward"].status, SKIPPED)

    def test_2025_2026_with_the_api_named(self):
        report = report_of(str(EDITIONS / MODULES["2025-2026"]), "cs231n", ("rnn_step",),
                           golden=False)
        self.assertTrue(report.assumed.startswith("cs231n 2025-2026"), report.assumed)
        self.assertEqual(report.status("rnn_step_forward"), PASS)


@pytest.mark.slow
@pytest.mark.parametrize("edition", list(MODULES))
def test_every_function_of_each_edition(edition):
    """The whole catalog and the notebook cells: the module passes and every function it
    defines is checked (n/a only for what the edition makes optional and leaves as the
    template, and what is not part of its API)."""
    if not slow_enabled():
        pytest.skip("slow: run with NUMPY_RNN_SLOW_TESTS=1")
    report = report_of(str(EDITIONS / MODULES[edition]))
    assert report.ok, failing(report)
    optional = {"affine_forward", "affine_backward", "mse_loss"}
    if edition in ("2021-2024", "2025-2026"):
        optional |= {"lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward"}
    for result in report.functions:
        if result.status == SKIPPED:
            assert result.name in optional, describe_function(result)
        else:
            assert result.checks, result.name


class Python2(unittest.TestCase):
    """The course's own Python 2 line is read as Python 3; the student's is named."""

    def test_the_students_xrange_is_named_as_python2_code(self):
        path = variant("2016", "student_xrange",
                       ("  for t in range(T):\n    prev_h, step_cache = rnn_step_forward(",
                        "  for t in xrange(T):\n    prev_h, step_cache = rnn_step_forward("))
        report = report_of(str(path), only=("rnn",), golden=False)
        (result,) = [f for f in report.functions if f.name == "rnn_forward"]
        self.assertEqual(result.status, ERROR)
        self.assertRegex(describe_function(result),
                         r"Python 2 code: xrange at .*rnn_layers\.py:\d+")
        self.assertEqual(report.status("rnn_backward"), UNTESTED)

    def test_the_students_print_statement_stops_the_import_with_its_line(self):
        path = variant("2016", "student_print",
                       ("  dh0 = dprev\n", "  print 'dh0', dprev.shape\n  dh0 = dprev\n"))
        with self.assertRaises(UsageError) as caught:
            report_of(str(path), only=("rnn",))
        message = str(caught.exception)
        line = next(i for i, text in enumerate(path.read_text().splitlines(), 1)
                    if "print 'dh0'" in text)
        self.assertIn(f"Python 2 code: print statement at {path}:{line}", message)

    def test_nothing_compiled_is_left_behind(self):
        report_of(str(EDITIONS / MODULES["2016"]), only=("rnn_step", "temporal_softmax_loss"),
                  golden=False)
        self.assertFalse(list(EDITIONS.rglob("*.pyc")))


class CourseCode(unittest.TestCase):
    """The course's provided loss: its log-sum-exp hazard is the course's; any change to
    it is checked on every case."""

    def test_the_courses_loss_unchanged_gets_no_warning(self):
        report = report_of(str(EDITIONS / MODULES["2017-2020"]),
                           only=("temporal_softmax_loss",), golden=False)
        self.assertEqual(report.status("temporal_softmax_loss"), PASS)
        self.assertIn("temporal_softmax_loss is the course's code, unchanged", report.assumed)

    def test_a_rewritten_loss_without_log_sum_exp_is_warned(self):
        path = variant("2017-2020", "own_loss",
                       ("    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), "
                        "y_flat])) / N",
                        "    picked = probs[np.arange(N * T), y_flat]\n"
                        "    loss = -np.sum(mask_flat * np.log(picked)) / N"))
        report = report_of(str(path), only=("temporal_softmax_loss",), golden=False)
        (loss,) = report.functions
        self.assertEqual(loss.status, WARN, describe_function(loss))
        self.assertEqual([w.kind for w in loss.warnings()], ["log-sum-exp"])

    def test_a_wrong_change_to_the_courses_loss_fails(self):
        path = variant("2017-2020", "loss_not_over_N", ("    dx_flat /= N\n", ""))
        report = report_of(str(path), only=("temporal_softmax_loss",), golden=False)
        self.assertEqual(report.status("temporal_softmax_loss"), FAIL)


class RealMistakes(unittest.TestCase):
    """What students of each edition got wrong: reported, with the right verdict."""

    def test_squeeze_breaks_at_size_one(self):
        # np.squeeze of a (N, H) upstream gradient: (H,) at N=1, (N,) at H=1
        path = variant("2016", "squeeze",
                       ("rnn_step_backward(dh[:, t, :] + dprev, cache[t])",
                        "rnn_step_backward(np.squeeze(dh[:, t, :]) + dprev, cache[t])"))
        report = report_of(str(path), only=("rnn",), golden=False)
        (result,) = [f for f in report.functions if f.name == "rnn_backward"]
        self.assertIn(result.status, (FAIL, ERROR))
        specials = {s for c in result.checks if not c.passed for s in c.special}
        self.assertIn("H=1", specials)
        self.assertEqual(report.status("rnn_forward"), WARN)

    def test_dimension_hard_coded_to_the_notebooks(self):
        path = variant("2017-2020", "hard_coded_D",
                       ("    dxs = [None] * T\n    dWx, dWh, db = 0, 0, 0\n    dh0 = np.zeros_like("
                        "dh[:, 0, :])\n    for t in range(T - 1, -1, -1):\n        dxs[t], dh0,",
                        "    dxs = [None] * T\n"
                        "    dWx, dWh, db = np.zeros((3, dh.shape[2])), 0, 0\n"
                        "    dh0 = np.zeros_like(dh[:, 0, :])\n    for t in range(T - 1, -1, -1):\n"
                        "        dxs[t], dh0,"))
        report = report_of(str(path), only=("rnn",), golden=False)
        self.assertEqual(report.status("rnn_backward"), ERROR)

    def test_extra_credit_lstm_attempted_and_wrong_fails(self):
        path = variant("2021-2024", "lstm_attempted",
                       ("    next_h, next_c, cache = None, None, None\n", "    next_h, next_c, "
                        "cache = None, None, None\n    H = prev_h.shape[1]\n"
                        "    a = x @ Wx + prev_h @ Wh + b\n"
                        "    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2*H])\n"
                        "    o = sigmoid(a[:, 2*H:3*H])\n"
                        "    next_c = f * prev_c + i * np.tanh(a[:, 3*H:])\n"
                        "    next_h = o * next_c\n    cache = ()\n"))
        report = report_of(str(path), only=("lstm_step",), golden=False)
        self.assertEqual(report.status("lstm_step_forward"), FAIL)

    def test_torch_edition_lstm_attempted_and_wrong_fails(self):
        path = variant("2025-2026", "torch_lstm",
                       ("    next_h, next_c = None, None\n", "    next_h, next_c = None, None\n"
                        "    a = x @ Wx + prev_h @ Wh + b\n"
                        "    i, f, o, g = a.chunk(4, dim=1)\n"
                        "    next_c = torch.sigmoid(f) * prev_c\n"
                        "    next_c = next_c + torch.sigmoid(i) * torch.tanh(g)\n"
                        "    next_h = torch.sigmoid(o) * next_c\n"))
        report = report_of(str(path), only=("lstm_step",), golden=False)
        self.assertEqual(report.status("lstm_step_forward"), FAIL)

    def test_torch_edition_squeeze_at_n_one(self):
        path = variant("2025-2026", "torch_squeeze",
                       ("prev_h = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)",
                        "prev_h = rnn_step_forward(x[:, t, :].squeeze(), prev_h, Wx, Wh, b)"))
        report = report_of(str(path), only=("rnn",), golden=False)
        (result,) = [f for f in report.functions if f.name == "rnn_forward"]
        self.assertIn(result.status, (FAIL, ERROR), describe_function(result))
        specials = {s for c in result.checks if not c.passed for s in c.special}
        self.assertTrue({"N=1", "D=1 (one input feature)"} & specials, specials)


class Sizes(unittest.TestCase):
    """Every size at 1 with the others larger, in both the NumPy and the torch editions."""

    def test_each_size_at_one(self):
        for edition in ("2017-2020", "2025-2026"):
            report = report_of(str(EDITIONS / MODULES[edition]),
                               only=("rnn", "word_embedding", "temporal_softmax_loss"),
                               golden=False)
            labels = {c.case_description.split(" [")[0] for c in report.checks}
            for label in ("N=1", "T=1", "D=1", "H=1", "V=1"):
                self.assertIn(label, labels, edition)
            self.assertTrue(report.ok, failing(report))


class NotCs231n(unittest.TestCase):
    def test_dinosaurus_utils_with_the_same_names_are_no_known_api(self):
        # deeplearning.ai's week 1 assignment 2 ships rnn_step_forward(parameters, a_prev, x)
        source = ("import numpy as np\n\n"
                  "def rnn_step_forward(parameters, a_prev, x):\n    return None, None, None\n\n"
                  "def rnn_step_backward(dy, gradients, parameters, x, a, a_prev):\n"
                  "    return gradients\n\n"
                  "def rnn_forward(X, Y, a0, parameters, vocab_size=27):\n    return 0, None\n\n"
                  "def rnn_backward(X, Y, parameters, cache):\n    return None, None\n")
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "utils.py"
            path.write_text(source)
            with self.assertRaises(UsageError) as caught:
                verify_module(str(path), ways="in-process")
        self.assertIn("defines none of the functions", str(caught.exception))
