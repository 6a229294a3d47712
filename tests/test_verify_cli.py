"""``python -m torch_ref verify --module``: what a user sees for real submissions.

Unimportable modules (exit 2 with file:line), missing, raising and hanging
functions, package-relative imports, dotted names with --path, --json, optional
functions, and the numpy_rnn mode without --module.
"""
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from pathlib import Path

import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

import mutants  # noqa: E402

from torch_ref.__main__ import main  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CS231N = mutants.reference_module("cs231n")
HW3 = mutants.reference_module("hw3")


def verify(*argv):
    """``(exit status, stdout, stderr)`` of ``python -m torch_ref verify ARGV``, in-process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["verify", *map(str, argv)])
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def table_row(output: str, function: str) -> str:
    """The summary-table row of ``function``."""
    rows = [line for line in output.splitlines() if line.split()[:1] == [function]]
    assert rows, f"no row for {function} in:\n{output}"
    return rows[0]


def line_of(path: Path, text: str) -> int:
    """1-based line number of the first line of ``path`` containing ``text``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


class _TempModule(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    def variant(self, old: str, new: str, api: str = "cs231n") -> Path:
        """The reference module of ``api`` with ``old`` replaced by ``new`` (once)."""
        return mutants.build(mutants.Mutant(api, "variant", "-", None, old, new), self.dir)

    def write(self, name: str, source: str) -> Path:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        return path


class Unimportable(_TempModule):
    def test_syntax_error_exits_2_with_file_and_line(self):
        path = self.variant("    dpre = dnext_h * (1.0 - next_h * next_h)\n",
                            "    dpre = dnext_h * (1.0 - next_h * next_h\n")
        code, out, err = verify("--module", path)
        self.assertEqual(code, 2)
        self.assertRegex(err, re.escape(str(path)) + r":\d+: SyntaxError")
        self.assertNotIn("Traceback", err + out)
        self.assertNotIn("passed", out)

    def test_exception_at_import_exits_2_with_the_users_line(self):
        path = self.write("broken.py", """\
            import numpy as np

            SCALE = 1 / 0
            """)
        code, _, err = verify("--module", path)
        self.assertEqual(code, 2)
        self.assertIn("ZeroDivisionError", err)
        self.assertIn(f"{path}:3", err)
        self.assertNotIn("Traceback", err)

    def test_import_of_a_missing_module_exits_2(self):
        path = self.write("needs.py", "from DL.checks import rel_error\n")
        code, _, err = verify("--module", path)
        self.assertEqual(code, 2)
        self.assertIn("ModuleNotFoundError", err)
        self.assertIn(f"{path}:1", err)

    @parameterized.expand([
        ("no_such_file", ["--module", "/nonexistent/rnn_layers.py"], "no such file"),
        ("unknown_api", ["--module", CS231N, "--api", "keras"], "invalid choice"),
        ("unknown_only", ["--module", CS231N, "--only", "rnn_forwards"], "unknown name"),
        ("path_with_file", ["--module", CS231N, "--path", "/tmp"], "--path goes with"),
        ("shadowing", ["--module", "numpy", "--path", "/tmp"], "already taken"),
    ])
    def test_usage_errors_exit_2(self, _, argv, message):
        code, _, err = verify(*argv)
        self.assertEqual(code, 2)
        self.assertIn(message, err)


class FunctionsThatMisbehave(_TempModule):
    def test_missing_function_is_missing_and_the_rest_is_checked(self):
        path = self.variant("def rnn_backward(dh, cache):", "def rnn_backward_v2(dh, cache):")
        code, out, _ = verify("--module", path, "--only", "rnn", "word_embedding", "sigmoid")
        self.assertEqual(code, 1)
        self.assertIn("MISSING", table_row(out, "rnn_backward"))
        self.assertIn("no function rnn_backward", out)
        for checked in ("rnn_forward", "word_embedding_forward", "word_embedding_backward",
                        "sigmoid"):
            self.assertIn("PASS", table_row(out, checked))
        self.assertEqual(out.strip().splitlines()[-1], "4 functions passed, 0 warned, 1 failed")

    def test_a_function_needing_a_missing_one_is_untested(self):
        path = self.variant("def rnn_forward(x, h0, Wx, Wh, b):",
                            "def rnn_forward_v2(x, h0, Wx, Wh, b):")
        code, out, _ = verify("--module", path, "--only", "rnn")
        self.assertEqual(code, 1)
        self.assertIn("MISSING", table_row(out, "rnn_forward"))
        self.assertIn("UNTESTED", table_row(out, "rnn_backward"))
        self.assertIn("needs rnn_forward, which is missing", out)

    def test_raising_function_is_an_error_at_the_users_line(self):
        path = self.variant("    dprev_c = dc * f\n",
                            "    dprev_c = dc * f\n    raise ValueError('boom')\n")
        code, out, _ = verify("--module", path, "--only", "lstm_step", "sigmoid")
        self.assertEqual(code, 1)
        self.assertIn("ERROR", table_row(out, "lstm_step_backward"))
        self.assertIn(f"ValueError: boom ({path}:{line_of(path, 'boom')})", out)
        self.assertIn("PASS", table_row(out, "lstm_step_forward"))
        self.assertIn("PASS", table_row(out, "sigmoid"))

    def test_hung_function_is_stopped_after_the_time_limit(self):
        path = self.variant("    pre_activation = x @ Wx + prev_h @ Wh + b\n",
                            "    while True:\n        pass\n")
        start = time.perf_counter()
        code, out, _ = verify("--module", path, "--only", "rnn_step", "sigmoid",
                              "--timeout", "0.3")
        elapsed = time.perf_counter() - start
        self.assertEqual(code, 1)
        self.assertIn("ERROR", table_row(out, "rnn_step_forward"))
        self.assertIn("rnn_step_forward: killed after 0.3 s; not called again", out)
        self.assertIn("UNTESTED", table_row(out, "rnn_step_backward"))
        self.assertIn("PASS", table_row(out, "sigmoid"))
        # one time limit for the hung function, not one per case
        self.assertLess(elapsed, 15)
        # in-process, the alarm stops the call where it is
        code, out, _ = verify("--module", path, "--only", "rnn_step", "sigmoid",
                              "--timeout", "0.3", "--in-process")
        self.assertEqual(code, 1)
        self.assertIn("did not return within 0.3 s; stopped at "
                      f"{path}:{line_of(path, 'while True')}", out)

    def test_wrong_signature_points_at_the_definition(self):
        path = self.variant("    def forward_step(self, x, prev_h):\n"
                            "        \"\"\"x (N, D), prev_h (N, H) -> next_h (N, H), cache.\"\"\"\n"
                            "        Wx, Wh, b",
                            "    def forward_step(self, x, prev_h, extra):\n"
                            "        \"\"\"x (N, D), prev_h (N, H) -> next_h (N, H), cache.\"\"\"\n"
                            "        Wx, Wh, b", "hw3")
        code, out, _ = verify("--module", path, "--api", "hw3", "--only", "rnn_step")
        self.assertEqual(code, 1)
        self.assertIn("ERROR", table_row(out, "RNNLayer.forward_step"))
        self.assertIn("missing 1 required positional argument: 'extra'", out)
        self.assertIn(f"{path}:{line_of(path, 'def forward_step(self, x, prev_h, extra)')}", out)
        self.assertIn("UNTESTED", table_row(out, "RNNLayer.backward_step"))

    def test_returning_none_names_the_function_and_where_it_is(self):
        path = self.variant("    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, "
                            "g, tanh_c)\n", "    pass\n")
        code, out, _ = verify("--module", path, "--only", "lstm_step_forward")
        self.assertEqual(code, 1)
        self.assertIn("lstm_step_forward returned None", out)
        self.assertIn(f"{path}:{line_of(path, 'def lstm_step_forward')}", out)

    def test_what_the_module_prints_is_kept_out_of_the_report(self):
        path = self.variant("    out = W[x]\n", "    print('debug', x.shape)\n    out = W[x]\n")
        code, out, _ = verify("--module", path, "--only", "word_embedding")
        self.assertEqual(code, 0)
        self.assertNotIn("debug", out)
        self.assertIn("the module printed", out)


class OptionalFunctions(_TempModule):
    AFFINE = """
        def affine_forward(x, w, b):
            return x @ w + b, (x, w)


        def affine_backward(dout, cache):
            x, w = cache
            return dout @ w.T, x.T @ dout, dout.sum(axis=0){scale}
        """

    def test_absent_optional_functions_are_not_applicable(self):
        code, out, _ = verify("--module", CS231N, "--only", "affine", "mse_loss", "sigmoid")
        self.assertEqual(code, 0)
        for name in ("affine_forward", "affine_backward", "mse_loss"):
            self.assertIn("n/a", table_row(out, name))
        self.assertEqual(out.strip().splitlines()[-1], "1 functions passed, 0 warned, 0 failed")

    @parameterized.expand([("correct", "", 0, "PASS"), ("wrong", " * 2", 1, "FAIL")])
    def test_present_optional_functions_are_checked(self, _, scale, status, verdict):
        path = self.write("layers.py", "import numpy as np\n"
                          + textwrap.dedent(self.AFFINE).format(scale=scale))
        # (--api: affine functions alone are any course's fully-connected layer)
        code, out, _ = verify("--module", path, "--api", "cs231n", "--only", "affine")
        self.assertEqual(code, status)
        self.assertIn("PASS", table_row(out, "affine_forward"))
        self.assertIn(verdict, table_row(out, "affine_backward"))


class WhereTheModuleIs(_TempModule):
    def test_file_inside_a_package_with_relative_imports(self):
        self.assertTrue(HW3.read_text().startswith("from .layers_with_weights import"))
        code, out, _ = verify("--module", HW3, "--api", "hw3", "--only", "RNNLayer.forward_step")
        self.assertEqual(code, 0, out)
        self.assertIn("PASS", table_row(out, "RNNLayer.forward_step"))

    def test_dotted_name_with_path(self):
        root = HW3.parent.parent.parent
        code, out, _ = verify("--module", "DL.layer.recurrent_layers", "--path", root,
                              "--api", "hw3", "--only", "LSTMLayer.forward")
        self.assertEqual(code, 0, out)
        self.assertIn("PASS", table_row(out, "LSTMLayer.forward"))

    def test_two_packages_with_the_same_name_one_after_the_other(self):
        broken = self.variant("next_h = np.tanh(x @ Wx + prev_h @ Wh + b)",
                              "next_h = np.tanh(x @ Wx + prev_h @ Wh)", "hw3")
        for path, status in ((HW3, 0), (broken, 1), (HW3, 0)):
            code, _, _ = verify("--module", path, "--api", "hw3", "--only",
                                "RNNLayer.forward_step")
            self.assertEqual(code, status, path)

    def test_directory_holding_the_conventional_file(self):
        code, out, _ = verify("--module", CS231N.parent, "--only", "sigmoid")
        self.assertEqual(code, 0, out)


class JsonReport(_TempModule):
    def test_json_holds_functions_checks_and_the_first_failure(self):
        path = self.variant("db = dpre.sum(axis=0)", "db = dpre.mean(axis=0)")
        report = self.dir / "report.json"
        code, out, _ = verify("--module", path, "--only", "rnn_step", "--json", report)
        self.assertEqual(code, 1)
        doc = json.loads(report.read_text())
        self.assertEqual(doc["api"], "cs231n")
        self.assertEqual(doc["module"], str(path))
        statuses = {f["name"]: f["status"] for f in doc["functions"]}
        self.assertEqual(statuses, {"rnn_step_forward": "PASS", "rnn_step_backward": "FAIL"})
        self.assertEqual((doc["summary"]["functions_passed"], doc["summary"]["functions_failed"]),
                         (1, 1))
        self.assertEqual(out.strip().splitlines()[-1], "1 functions passed, 0 warned, 1 failed")
        (backward,) = [f for f in doc["functions"] if f["name"] == "rnn_step_backward"]
        (problem,) = backward["problems"]
        self.assertEqual(problem["tensor"], "db")
        self.assertEqual(problem["status"], "FAIL")
        self.assertIn("1/N", problem["hint"])
        self.assertEqual(len(problem["worst_index"]), 1)
        self.assertGreater(problem["max_abs"], 0)
        self.assertEqual(len(doc["checks"]), doc["summary"]["checks"])
        self.assertTrue(all({"function", "tensor", "status", "case"} <= set(c)
                            for c in doc["checks"]))


class NumpyRnnMode(unittest.TestCase):
    def test_without_module_checks_numpy_rnn_with_the_table(self):
        code, out, _ = verify("--only", "sigmoid", "word_embedding")
        self.assertEqual(code, 0, out)
        self.assertIn("component", out.splitlines()[0])
        self.assertRegex(out.strip().splitlines()[-1], r"^\d+ comparisons passed, 0 failed$")


class CommandLine(unittest.TestCase):
    """The real command in a fresh process (everything else runs in-process)."""

    def test_unimportable_module_in_a_fresh_process(self):
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "rnn_layers.py"
            path.write_text("def rnn_forward(x:\n    pass\n")
            done = subprocess.run([sys.executable, "-m", "torch_ref", "verify", "--module",
                                   str(path)], capture_output=True, text=True, cwd=REPO,
                                  env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
        self.assertEqual(done.returncode, 2)
        self.assertIn(f"{path}:1: SyntaxError", done.stderr)
        self.assertNotIn("Traceback", done.stderr)
