"""``verify`` on modules written the way students write them (tests/student_corpus/).

Every module under ``student_corpus/<api>/<style>/`` other than ``broken/`` is a
correct, independently written implementation of its API: ``verify --module``
must pass it (exit status 0; warnings allowed). The modules under
``student_corpus/<api>/broken/`` are real-world submissions that are not correct;
each must get the verdict a person can act on (see student_corpus/README.md).

All modules are checked in this one process, as an autograder would, so modules
with the same package name (``cs231n``, ``DL``, ``lib``) follow each other. The
default run checks a representative subset of the correct modules through
``verify_module`` (one of each kind of code that verify has to tell apart from a
bug), the namespace packages and the exit statuses through the command line
(in-process); the other correct modules are marked slow (``-m slow`` or
``NUMPY_RNN_SLOW_TESTS=1``).
"""
import os
import re
import unittest
from pathlib import Path

import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

from test_verify_cli import verify  # noqa: E402

from torch_ref.verify.runner import (  # noqa: E402
    ERROR,
    FAIL,
    MISSING,
    SKIPPED,
    UNTESTED,
    UsageError,
    describe_function,
    format_report,
    verify_module,
)

CORPUS = Path(__file__).resolve().parent / "student_corpus"
# api -> the file name a module written to it has
MODULE_FILE = {"cs231n": "rnn_layers.py", "hw3": "recurrent_layers.py",
               "params": "layer_utils.py"}
MIN_CORRECT_PER_API = 8
# one of each layout and each kind of code verify must not mistake for a bug:
# the template loss (log of probabilities), float64 allocations, Python-2 idioms,
# absolute imports of the course package, debug prints, a naive sigmoid,
# dtype-preserving code, a log-sum-exp loss with einsum (the namespace packages go
# through the command line)
FAST = {
    ("cs231n", "template_2016_tuple_cache"),
    ("cs231n", "py2_compatible_idioms"),
    ("hw3", "absolute_import_inline_bptt"),
    ("hw3", "lambda_sigmoid_dict_cache"),
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
            if d.is_dir() and d.name != "broken"]


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


class SamePackageNameTwice(unittest.TestCase):
    def test_each_module_is_checked_as_itself(self):
        """Two packages named ``cs231n`` one after the other: the second one (which
        imports ``cs231n.layers`` absolutely and prints while it runs) is the one
        checked the second time."""
        first, _ = verify_module(str(module_of("cs231n", "package_relative_import")), "cs231n")
        self.assertNotIn("rnn_forward: N=", first.output)
        second, _ = verify_module(str(module_of("cs231n", "absolute_import_debug_prints")),
                                  "cs231n")
        self.assertIn("rnn_forward: N=", second.output)
        self.assertTrue(first.ok and second.ok, not_passing(first) + not_passing(second))


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


class ExitStatus(unittest.TestCase):
    """What an autograder sees: ``python -m torch_ref verify --module ... --api ...``."""

    @parameterized.expand([(api,) for api in MODULE_FILE])
    def test_namespace_package_exits_0(self, api):
        code, out, err = verify("--module", module_of(api, "namespace_package"), "--api", api)
        self.assertEqual(code, 0, out + err)

    def test_python2_file_exits_2(self):
        code, out, err = verify("--module", _broken("cs231n", "python2_print_statement",
                                                    "rnn_layers.py"))
        self.assertEqual(code, 2, out + err)

    def test_unimplemented_function_exits_1(self):
        code, out, err = verify("--module", _broken("cs231n", "lstm_forward_not_implemented",
                                                    "rnn_layers.py"))
        self.assertEqual(code, 1, out + err)


def _broken(api: str, name: str, file: str) -> str:
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
        self.assertRegex(message, re.escape("rnn_layers.py") + r":398\b")

    def test_lstm_forward_left_as_the_template_is_the_one_root_cause(self):
        report, _ = verify_module(_broken("cs231n", "lstm_forward_not_implemented",
                                          "rnn_layers.py"), "cs231n")
        functions = self.verdicts(report)
        self.assertEqual(functions["lstm_forward"].status, ERROR,
                         describe_function(functions["lstm_forward"]))
        self.assertRegex(describe_function(functions["lstm_forward"]), "None|not implemented")
        self.assertEqual(functions["lstm_backward"].status, UNTESTED)
        self.assertEqual(bad_functions(report, "lstm_forward", "lstm_backward"), [],
                         not_passing(report))

    def test_lstm_backward_left_as_pass_is_reported_alone(self):
        path = _broken("hw3", "lstm_backward_not_implemented", "DL/layer/recurrent_layers.py")
        report, adapter = verify_module(path, "hw3")
        functions = self.verdicts(report)
        self.assertEqual(functions["LSTMLayer.backward"].status, ERROR,
                         describe_function(functions["LSTMLayer.backward"]))
        self.assertEqual(bad_functions(report, "LSTMLayer.backward"), [], not_passing(report))
        # LSTMLayer.forward is right: nothing tells the student to fix it first
        self.assertNotIn("fix LSTMLayer.forward", format_report(report, adapter))

    def test_what_depends_on_an_unimplemented_step_is_untested(self):
        path = _broken("hw3", "rnn_forward_step_not_implemented", "DL/layer/recurrent_layers.py")
        report, _ = verify_module(path, "hw3")
        functions = self.verdicts(report)
        step = functions["RNNLayer.forward_step"]
        self.assertEqual(step.status, ERROR, describe_function(step))
        self.assertRegex(describe_function(step), "None|not implemented")
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
        self.assertIn("temporal_softmax_loss", forward.note)
        self.assertEqual(bad_functions(report, "temporal_softmax_CE_loss.forward",
                                       "temporal_softmax_CE_loss.backward"), [],
                         not_passing(report))
