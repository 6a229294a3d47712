"""``verify`` on modules written the way students write them (tests/student_corpus/).

Every module under ``student_corpus/<api>/<style>/`` other than ``broken/`` is a
correct, independently written implementation of its API: ``verify --module``
must pass it (exit status 0; warnings allowed). The modules under
``student_corpus/<api>/broken/`` are real-world submissions that are not correct;
each must get the verdict a person can act on (see student_corpus/README.md). The
modules under ``student_corpus/<api>/editions/``, one per edition of a course's
template, have tests of their own (tests/test_verify_<api>.py).

All modules are checked in this one process, as an autograder would, so modules
with the same package name (``cs231n``, ``DL``, ``lib``) follow each other. The
default run checks a representative subset of the correct modules (one of each
layout and of each kind of code that verify has to tell apart from a bug); the
others are marked slow (``-m slow`` or ``NUMPY_RNN_SLOW_TESTS=1``).
"""
import os
import re
import shutil
import tempfile
import unittest
from pathlib import Path

import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

from verifying import verify_module  # noqa: E402

from torch_ref.status import ERROR, FAIL, MISSING, UNTESTED  # noqa: E402
from torch_ref.status import NA as SKIPPED  # noqa: E402
from torch_ref.verify.render import describe_function, format_report  # noqa: E402
from torch_ref.verify.run import UsageError  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "student_corpus"
# api -> the file name a module written to it has
MODULE_FILE = {"cs231n": "rnn_layers.py", "hw3": "recurrent_layers.py",
               "params": "layer_utils.py"}
MIN_CORRECT_PER_API = 8
# one of each layout and each kind of code verify must not mistake for a bug:
# the template loss (log of probabilities), float64 allocations, a namespace package,
# Python-2 idioms, an absolute import of the course package, a naive sigmoid,
# dtype-preserving code, a log-sum-exp loss with einsum
FAST = {
    ("cs231n", "template_2016_tuple_cache"),
    ("cs231n", "namespace_package"),
    ("cs231n", "py2_compatible_idioms"),
    ("hw3", "absolute_import_inline_bptt"),
    ("hw3", "lambda_sigmoid_dict_cache"),
    ("hw3", "namespace_package"),
    ("params", "template_transpose_onehot"),
    ("params", "einsum_logsumexp_loss"),
    ("params", "input_dtype_stack_lists"),
}


def module_of(api: str, style: str) -> Path:
    """The one module file of a corpus entry."""
    (found,) = sorted((CORPUS / api / style).rglob(MODULE_FILE[api]))
    return found


def correct_entries() -> list:
    """``(api, style)`` of every correct module in the corpus."""
    return [(api, d.name) for api in MODULE_FILE for d in sorted((CORPUS / api).iterdir())
            if d.is_dir() and d.name not in ("broken", "editions")]


BAD = (FAIL, ERROR, MISSING, UNTESTED)


def not_passing(report) -> str:
    return "\n".join(describe_function(f) for f in report.functions if f.status in BAD)


def bad_functions(report, *excepted) -> list:
    """Names of the functions with a failing verdict, ``excepted`` left out."""
    return [f.name for f in report.functions if f.status in BAD and f.name not in excepted]


def check_passes(test, api: str, style: str) -> None:
    report, _ = verify_module(str(module_of(api, style)), api)
    test.assertTrue(report.ok, f"{api}/{style}:\n{not_passing(report)}")
    test.assertEqual(bad_functions(report), [])
    checked = [f for f in report.functions if f.status != SKIPPED]
    test.assertGreaterEqual(len(checked), 8)
    test.assertTrue(all(f.checks for f in checked))


def _slow_enabled(config) -> bool:
    return "slow" in (config.getoption("markexpr") or "") or bool(
        os.environ.get("NUMPY_RNN_SLOW_TESTS"))


class CorpusShape(unittest.TestCase):
    def test_at_least_eight_correct_modules_per_api(self):
        for api in MODULE_FILE:
            styles = [s for a, s in correct_entries() if a == api]
            self.assertGreaterEqual(len(styles), MIN_CORRECT_PER_API, api)

    def test_every_entry_holds_exactly_one_module_of_its_api(self):
        for api, style in correct_entries():
            self.assertEqual(module_of(api, style).name, MODULE_FILE[api], style)

    def test_the_fast_subset_names_existing_entries(self):
        self.assertLessEqual(FAST, set(correct_entries()))


class CorrectModulesPass(unittest.TestCase):
    @parameterized.expand(sorted(FAST), name_func=lambda f, n, p: f"{f.__name__}_{n}_"
                          + "_".join(p.args))
    def test_passes(self, api, style):
        check_passes(self, api, style)


@pytest.mark.slow
@pytest.mark.parametrize("api,style", [e for e in correct_entries() if e not in FAST])
def test_correct_module_passes(api, style, pytestconfig):
    if not _slow_enabled(pytestconfig):
        pytest.skip("slow: run with -m slow or NUMPY_RNN_SLOW_TESTS=1")
    check_passes(unittest.TestCase(), api, style)


class TheCoursesOwnLoss(unittest.TestCase):
    def test_is_checked_with_both_options_and_not_warned_for_the_courses_formula(self):
        # the course hands the loss out written (a log of probabilities): only logits
        # exp can take are given to it, with dim_average True and False
        report, _ = verify_module(str(module_of("params", "template_transpose_onehot")),
                                  "params")
        (loss,) = [f for f in report.functions
                   if f.name == "temporal_softmax_CE_loss.forward"]
        self.assertEqual(loss.warnings(), [])
        self.assertTrue(any(c.tensor == "loss (dim_average=False)" and c.passed
                            for c in loss.checks))
        self.assertFalse([c for c in loss.checks if c.case.startswith("spread beyond exp")])


# broken submissions that are a correct corpus module with one student mistake:
# name -> (the correct style, its file, [(text in it, what the submission has instead)])
_NOT_IMPLEMENTED_LSTM_FORWARD = """\
  N, T, D = x.shape
  H = h0.shape[1]
  h = np.zeros((N, T, H))
  c = np.zeros((N, H))
  prev_h = h0
  cache = []
  for t in range(T):
    prev_h, c, cache_t = lstm_step_forward(x[:, t, :], prev_h, c, Wx, Wh, b)
    h[:, t, :] = prev_h
    cache.append(cache_t)
"""
_NOT_IMPLEMENTED_LSTM_BACKWARD = """\
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        dx = np.zeros((N, T, D))
        dWx = np.zeros((D, 4 * H))
        dWh = np.zeros((H, 4 * H))
        db = np.zeros(4 * H)
        dnext_h = np.zeros((N, H))
        dnext_c = np.zeros((N, H))
        for t in np.arange(T - 1, -1, -1):
            dx[:, t, :], dnext_h, dnext_c, dWx_t, dWh_t, db_t = self.backward_step(
                dh[:, t, :] + dnext_h, dnext_c, self.cache[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {'dx': dx, 'dh0': dnext_h, 'dWx': dWx, 'dWh': dWh, 'db': db}
"""
VARIANTS = {
    ("cs231n", "lstm_forward_not_implemented"): (
        "template_2016_tuple_cache", "rnn_layers.py",
        [(_NOT_IMPLEMENTED_LSTM_FORWARD, "  pass\n")]),
    ("cs231n", "python2_print_statement"): (
        "template_2016_tuple_cache", "rnn_layers.py",
        [("  prev_h = h0\n  for t in range(T):\n    prev_h, c = rnn_step_forward(",
          "  prev_h = h0\n  for t in xrange(T):\n    prev_h, c = rnn_step_forward("),
         ("  for t in range(T - 1, -1, -1):", "  for t in xrange(T - 1, -1, -1):"),
         ("  cache = []\n  for t in range(T):\n", "  cache = []\n  for t in xrange(T):\n"),
         ("    print('dscores: ', dscores.shape)", "    print 'dscores: ', dscores.shape")]),
    ("hw3", "lstm_backward_not_implemented"): (
        "handout_self_weights", "DL/layer/recurrent_layers.py",
        [(_NOT_IMPLEMENTED_LSTM_BACKWARD, "        pass\n")]),
    ("hw3", "rnn_forward_step_not_implemented"): (
        "handout_self_weights", "DL/layer/recurrent_layers.py",
        [("        next_h = np.tanh(np.dot(x, self.Wx) + np.dot(prev_h, self.Wh) + self.b)\n"
          "        cache = (x, prev_h, next_h)\n        return next_h, cache\n",
          "        # TODO: the forward pass of one timestep\n        pass\n")]),
    ("params", "loss_class_misnamed"): (
        "dict_meta_grads_recreated", "layer_utils.py",
        [("class temporal_softmax_CE_loss(object):", "class TemporalSoftmaxCELoss(object):")]),
}
_VARIANT_ROOT = tempfile.TemporaryDirectory(prefix="student_corpus_broken_")


def _variant(api: str, name: str) -> Path:
    """The broken submission ``name``: its correct style copied, the mistake written in."""
    style, file, changes = VARIANTS[(api, name)]
    root = Path(_VARIANT_ROOT.name) / api / name
    if not root.exists():
        shutil.copytree(CORPUS / api / style, root)
        path = root / file
        source = path.read_text()
        for correct, mistaken in changes:
            # exactly once: a change that no longer applies must not pass unnoticed
            assert source.count(correct) == 1, f"{api}/{name}: {correct[:60]!r}"
            source = source.replace(correct, mistaken)
        path.write_text(source)
    return root


def _broken(api: str, name: str, file: str) -> str:
    if (api, name) in VARIANTS:
        return str(_variant(api, name) / file)
    return str(CORPUS / api / "broken" / name / file)


class BrokenModulesGetTheRightVerdict(unittest.TestCase):
    def verdicts(self, report) -> dict:
        return {f.name: f for f in report.functions}

    def test_python2_source_is_named_as_such(self):
        path = _broken("cs231n", "python2_print_statement", "rnn_layers.py")
        with self.assertRaises(UsageError) as caught:
            verify_module(path, "cs231n")
        message = str(caught.exception)
        self.assertIn("Python 2", message)
        self.assertIn("print", message)
        lines = Path(path).read_text().splitlines()
        first = next(i for i, line in enumerate(lines, 1) if re.match(r"\s*print [^(]", line))
        self.assertRegex(message, re.escape("rnn_layers.py") + rf":{first}\b")

    def test_lstm_forward_left_as_the_template_is_the_one_root_cause(self):
        report, _ = verify_module(_broken("cs231n", "lstm_forward_not_implemented",
                                          "rnn_layers.py"), "cs231n")
        functions = self.verdicts(report)
        # one "not implemented" verdict (MISSING: the function is there only in name)
        self.assertIn(functions["lstm_forward"].status, (ERROR, MISSING),
                      describe_function(functions["lstm_forward"]))
        self.assertRegex(describe_function(functions["lstm_forward"]), "None|not implemented")
        self.assertEqual(functions["lstm_backward"].status, UNTESTED)
        self.assertEqual(bad_functions(report, "lstm_forward", "lstm_backward"), [],
                         not_passing(report))

    def test_lstm_backward_left_as_pass_is_reported_alone(self):
        path = _broken("hw3", "lstm_backward_not_implemented", "DL/layer/recurrent_layers.py")
        report, adapter = verify_module(path, "hw3")
        functions = self.verdicts(report)
        # its body is the template's pass: not implemented, whatever that made it raise
        self.assertEqual(functions["LSTMLayer.backward"].status, MISSING,
                         describe_function(functions["LSTMLayer.backward"]))
        self.assertIn("not implemented", functions["LSTMLayer.backward"].note)
        self.assertEqual(bad_functions(report, "LSTMLayer.backward"), [], not_passing(report))
        # LSTMLayer.forward is right: nothing tells the student to fix it first
        self.assertNotIn("fix LSTMLayer.forward", format_report(report, adapter))

    def test_what_depends_on_an_unimplemented_step_is_untested(self):
        path = _broken("hw3", "rnn_forward_step_not_implemented", "DL/layer/recurrent_layers.py")
        report, _ = verify_module(path, "hw3")
        functions = self.verdicts(report)
        step = functions["RNNLayer.forward_step"]
        self.assertEqual(step.status, MISSING, describe_function(step))
        self.assertIn("not implemented", step.note)
        for name in ("RNNLayer.backward_step", "RNNLayer.forward", "RNNLayer.backward"):
            self.assertEqual(functions[name].status, UNTESTED, describe_function(functions[name]))
        self.assertEqual(bad_functions(report, "RNNLayer.forward_step", "RNNLayer.backward_step",
                                       "RNNLayer.forward", "RNNLayer.backward"), [],
                         not_passing(report))

    def test_misnamed_loss_class_is_missing_with_the_name_it_has(self):
        report, _ = verify_module(_broken("params", "loss_class_misnamed", "layer_utils.py"),
                                  "params")
        functions = self.verdicts(report)
        forward = functions["temporal_softmax_CE_loss.forward"]
        self.assertEqual(forward.status, MISSING)
        self.assertIn("TemporalSoftmaxCELoss", forward.note)
        self.assertEqual(bad_functions(report, "temporal_softmax_CE_loss.forward",
                                       "temporal_softmax_CE_loss.backward"), [],
                         not_passing(report))

    def test_template_stub_raising_not_implemented_is_one_root_cause(self):
        path = _broken("hw3", "template_raises_not_implemented",
                       "DL/layer/recurrent_layers.py")
        report, _ = verify_module(path, "hw3")
        functions = self.verdicts(report)
        for name in ("RNNLayer.forward_step", "RNNLayer.forward", "LSTMLayer.forward_step"):
            self.assertEqual(functions[name].status, MISSING, describe_function(functions[name]))
            self.assertIn("not implemented", functions[name].note)
        # a sequence method stopped by its step's stub is not a second cause
        self.assertEqual(functions["LSTMLayer.forward"].status, UNTESTED)
        self.assertIn("LSTMLayer.forward_step", functions["LSTMLayer.forward"].note)
        for name in ("RNNLayer.backward_step", "RNNLayer.backward", "LSTMLayer.backward_step",
                     "LSTMLayer.backward"):
            self.assertEqual(functions[name].status, UNTESTED, describe_function(functions[name]))
        self.assertNotIn(ERROR, {f.status for f in report.functions})

    def test_numpy_alias_removed_is_named_and_blamed_once(self):
        report, _ = verify_module(_broken("params", "numpy_alias_removed", "layer_utils.py"),
                                  "params")
        functions = self.verdicts(report)
        step = functions["LSTM.step_forward"]
        self.assertEqual(step.status, ERROR)
        self.assertRegex(describe_function(step), r"older NumPy: np\.int at .*layer_utils\.py:\d+")
        self.assertEqual(functions["LSTM.forward"].status, UNTESTED)
        self.assertIn("calls LSTM.step_forward", functions["LSTM.forward"].note)
        self.assertIn("LSTM.step_forward", functions["LSTM.backward"].note)
        self.assertEqual(bad_functions(report, "LSTM.step_forward", "LSTM.step_backward",
                                       "LSTM.forward", "LSTM.backward"), [],
                         not_passing(report))

    def test_template_stub_returning_unset_names_is_not_implemented(self):
        # the handout's lstm_step_backward returns dprev_h, dprev_c but sets dh, dc
        report, _ = verify_module(_broken("cs231n", "lstm_step_backward_left_as_template",
                                          "rnn_layers.py"), "cs231n")
        functions = self.verdicts(report)
        step = functions["lstm_step_backward"]
        self.assertEqual(step.status, MISSING, describe_function(step))
        self.assertIn("not implemented", step.note)
        self.assertEqual(functions["lstm_backward"].status, UNTESTED)
        self.assertIn("lstm_step_backward", functions["lstm_backward"].note)
        self.assertEqual(bad_functions(report, "lstm_step_backward", "lstm_backward"), [],
                         not_passing(report))
