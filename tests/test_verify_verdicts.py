"""``verify`` verdicts a person can trust: FAIL only for wrong values, WARN for hazards.

Hazards with right values are warnings of a kind (exit 0, exit 1 under --strict) that
the text and JSON reports carry with their first case; a function that returns None
is one "not implemented" verdict and what depends on it is UNTESTED; every call gets
its own copies, so a change to a caller's array is one warning, never a wrong number
elsewhere; loading names Python 2 code, imports namespace packages and suggests the
closest name for a missing one; the default run prints one row per component.
"""
import json
import unittest

import pytest

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402
from test_verify_cli import CS231N, _TempModule, table_row, verify  # noqa: E402
from verifying import verify_module  # noqa: E402

from torch_ref.status import MISSING, PASS, UNTESTED, WARN  # noqa: E402

FLOAT64_H = ("h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))\n"
             "    step_caches",
             "h = np.zeros((N, T, h0.shape[1]))\n    step_caches")


def status_of(report, name):
    (result,) = [f for f in report.functions if f.name == name]
    return result


class Warnings(_TempModule):
    def test_a_hazard_exits_0_and_fails_under_strict(self):
        path = self.variant(*FLOAT64_H)
        code, out, _ = verify("--module", path, "--only", "rnn")
        self.assertEqual(code, 0, out)
        self.assertIn("WARN", table_row(out, "rnn_forward"))
        self.assertIn("[dtype:", out)
        self.assertIn("first in:", out)
        self.assertTrue(out.strip().splitlines()[-1].endswith("1 warned (1 dtype), 0 failed"))
        code, out, _ = verify("--module", path, "--only", "rnn", "--strict")
        self.assertEqual(code, 1, out)

    def test_json_carries_each_warning_with_kind_and_first_case(self):
        path = self.variant(*FLOAT64_H)
        report = self.dir / "report.json"
        code, _, _ = verify("--module", path, "--only", "rnn", "--json", report)
        self.assertEqual(code, 0)
        doc = json.loads(report.read_text())
        self.assertTrue(doc["ok"])
        self.assertEqual(doc["summary"]["warnings"], {"dtype": 1})
        (forward,) = [f for f in doc["functions"] if f["name"] == "rnn_forward"]
        (warning,) = forward["warnings"]
        self.assertEqual((warning["kind"], warning["tensor"]), ("dtype", "h"))
        self.assertIn("float32", warning["first_case"])

    def test_a_mutation_is_one_warning_and_no_wrong_number_in_the_document_cells(self):
        # dnext_c changed in place after use: hw3 In [9] takes its numerical gradient with
        # the same arrays; the copies keep that cell right and the change is reported once
        path = self.variant("dcell = dnext_c + dnext_h * gate_o * (1 - tanh_c * tanh_c)",
                            "dnext_c += dnext_h * gate_o * (1 - tanh_c * tanh_c)\n"
                            "        dcell = dnext_c", "hw3")
        report, _ = verify_module(str(path), "hw3", only=["lstm_step"])
        result = status_of(report, "LSTMLayer.backward_step")
        self.assertEqual(result.status, WARN)
        self.assertEqual([(c.kind, c.tensor) for c in result.warnings()],
                         [("argument-modified", "dnext_c (argument)")])
        golden = [c for c in report.checks if c.component == "golden"]
        self.assertTrue(golden)
        self.assertTrue(all(c.passed for c in golden))


class RootCauseFirst(_TempModule):
    def test_a_step_returning_none_is_not_implemented_and_its_backward_untested(self):
        path = self.variant("    return next_h, (x, prev_h, Wx, Wh, next_h)",
                            "    next_h, cache = None, None\n    return next_h, cache")
        report, _ = verify_module(str(path), "cs231n", only=["rnn_step"])
        forward = status_of(report, "rnn_step_forward")
        self.assertEqual(forward.status, MISSING)
        self.assertTrue(forward.note.startswith("not implemented"), forward.note)
        backward = status_of(report, "rnn_step_backward")
        self.assertEqual(backward.status, UNTESTED)
        self.assertIn("needs rnn_step_forward, which is not implemented", backward.note)
        self.assertFalse(report.ok)

    def test_what_depends_on_a_step_that_is_not_implemented_names_it(self):
        path = self.variant("    return next_h, (x, prev_h, Wx, Wh, next_h)", "    pass")
        report, _ = verify_module(str(path), "cs231n", only=["rnn_step", "rnn"])
        for name in ("rnn_forward", "rnn_backward"):
            result = status_of(report, name)
            self.assertEqual(result.status, UNTESTED, name)
            self.assertIn("rnn_step_forward, which is not implemented", result.note, name)

    def test_a_forward_returning_none_and_a_function_that_returns_nothing_agree(self):
        for i, (old, new) in enumerate((
                ("    return next_h, (x, prev_h, Wx, Wh, next_h)", "    pass"),
                ("    return h, step_caches", "    pass"))):
            path = mutants.build(mutants.Mutant("cs231n", "variant", "-", None, old, new),
                                 self.dir / str(i))
            report, _ = verify_module(str(path), "cs231n", only=["rnn_step", "rnn"])
            statuses = {f.name: f.status for f in report.functions}
            broken = [n for n, s in statuses.items() if s not in (PASS, UNTESTED)]
            self.assertEqual(len(broken), 1, statuses)
            self.assertEqual(statuses[broken[0]], MISSING, statuses)

    def test_a_model_cell_does_not_blame_the_loss_for_a_forward_returning_none(self):
        path = self.variant("        return hidden\n", "        pass\n", "params")
        report, _ = verify_module(str(path), "params", only=["lstm", "temporal_softmax_loss"])
        self.assertEqual(status_of(report, "LSTM.forward").status, MISSING)
        self.assertEqual(status_of(report, "LSTM.backward").status, UNTESTED)
        self.assertEqual(status_of(report, "temporal_softmax_CE_loss.forward").status, PASS)
        self.assertEqual(status_of(report, "temporal_softmax_CE_loss.backward").status, PASS)

    def test_no_fix_first_note_for_a_function_that_only_warns(self):
        path = self.variant(*FLOAT64_H)
        code, out, _ = verify("--module", path, "--only", "rnn", "rnn_step")
        self.assertEqual(code, 0, out)
        self.assertNotIn("first", "".join(line for line in out.splitlines()
                                          if line.startswith("note:")))


class Loading(_TempModule):
    def test_namespace_package_with_relative_imports(self):
        package = self.dir / "submission"
        (package / "helpers.py").parent.mkdir()
        (package / "helpers.py").write_text("import numpy as np\n\n\ndef sigmoid(x):\n"
                                            "    return 1 / (1 + np.exp(-np.clip(x, -50, 50)))\n")
        module = package / "rnn_layers.py"
        module.write_text("from .helpers import sigmoid  # noqa\n")
        # a module defining nothing itself: its API is named (auto-detection counts
        # only what a module defines)
        code, out, err = verify("--module", module, "--api", "cs231n", "--only", "sigmoid")
        self.assertNotIn("relative import", err)
        self.assertIn(table_row(out, "sigmoid").split()[1], (PASS, "FAIL"), out + err)

    def test_python_2_source_is_named(self):
        path = self.write("rnn_layers.py", "import numpy as np\n\nprint 'loaded'\n")
        code, _, err = verify("--module", path)
        self.assertEqual(code, 2)
        self.assertIn(f"Python 2 code: print statement at {path}:3", err)

    def test_python_2_names_reached_in_a_call_are_named(self):
        path = self.variant("    for t in range(T):\n        state, step_cache",
                            "    for t in xrange(T):\n        state, step_cache")
        code, out, _ = verify("--module", path, "--only", "rnn")
        self.assertEqual(code, 1)
        self.assertIn("Python 2 code: xrange at", out)

    def test_missing_class_suggests_the_closest_name(self):
        # (temporal_softmax_loss would be CSCI 599's name for it: another edition)
        path = self.variant("class temporal_softmax_CE_loss:", "class temporal_softmax_CE_Loss:",
                            "params")
        code, out, _ = verify("--module", path, "--api", "params", "--only",
                              "temporal_softmax_loss")
        self.assertEqual(code, 1)
        self.assertIn("did you mean temporal_softmax_CE_Loss (a class", out)

    def test_a_misspelt_name_is_suggested_once_with_the_submission_path(self):
        path = self.variant("def rnn_step_backward(", "def rnn_step_backwards(")
        code, out, _ = verify("--module", path, "--only", "rnn_step", "rnn")
        self.assertEqual(code, 1)
        self.assertIn(f"did you mean rnn_step_backwards (a function, {path}:", out)
        details = [line for line in out.splitlines() if line.startswith("MISSING")]
        self.assertEqual(sum("did you mean" in line for line in details), 1, out)
        self.assertNotIn("torch_ref-sandbox", out)  # the child's copy is never named

    def test_not_a_python_file(self):
        code, _, err = verify("--module", mutants.REFERENCE_DIR.parent.parent / "README.md")
        self.assertEqual(code, 2)
        self.assertIn("is not a Python file", err)

    def test_timeouts_that_are_not_finite_positive_numbers_are_usage_errors(self):
        for value in ("nan", "inf", "1e20", "0", "-1"):
            code, _, err = verify("--module", CS231N, "--timeout", value)
            self.assertEqual(code, 2, value)
            self.assertIn("--timeout", err)
            self.assertNotIn("import", err)


class DefaultRun(unittest.TestCase):
    def test_one_row_per_component_and_what_is_counted(self):
        code, out, _ = verify("--only", "sigmoid", "word_embedding")
        self.assertEqual(code, 0, out)
        lines = out.strip().splitlines()
        self.assertIn("comparisons", lines[0])
        self.assertIn("of tolerance", lines[0])
        self.assertIn("PASS", table_row(out, "sigmoid"))
        self.assertEqual(len([line for line in lines if line.startswith("word_embedding")]), 1)
        self.assertRegex(out, r"\d+ comparisons passed, 0 failed")

    def test_components_beyond_the_cs231n_api_run_on_numpy_rnn_itself(self):
        from torch_ref.catalog import CATALOG
        from torch_ref.verify.adapters.cs231n import Cs231nAdapter

        beyond = [c.name for c in CATALOG.values() if c.scope == "functional"
                  and not all(f in Cs231nAdapter.BINDINGS for f in c.functions)]
        if not beyond:
            self.skipTest("every functional component is part of the cs231n API")
        code, out, _ = verify("--only", *beyond)
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"\d+ comparisons passed, 0 failed")

    def test_per_tensor_rows_behind_a_flag(self):
        def sigmoid_rows(out):
            return len([line for line in out.splitlines() if line.startswith("sigmoid")])

        _, plain, _ = verify("--only", "sigmoid")
        _, full, _ = verify("--only", "sigmoid", "--checks")
        self.assertEqual(sigmoid_rows(plain), 1)
        self.assertGreater(sigmoid_rows(full), 10)
