"""``verify`` on the courses' APIs: dlai, dlfs2, mytorch, eecs498; notebooks; --api auto.

The reference solutions (tests/reference_solutions/<api>/) are correct modules written
the way each course's students write them, with the course's helpers left out (the
checker provides them). They must pass with the API detected; correct rewrites in
other students' styles must pass too; the single-bug variants are in
tests/course_mutants.py and run by test_verify_mutants.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np
import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")
nbformat = pytest.importorskip("nbformat", reason="notebooks are read with nbformat")

import course_mutants  # noqa: E402
import mutants  # noqa: E402
from verifying import verify_module  # noqa: E402

from torch_ref.status import NA as SKIPPED  # noqa: E402
from torch_ref.status import PASS  # noqa: E402
from torch_ref.verify.render import describe_function  # noqa: E402
from torch_ref.verify.run import UsageError  # noqa: E402

REFS = mutants.REFERENCE_DIR
NOTEBOOK = REFS / "dlai" / "Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb"
# module -> (API it is detected as, functions that PASS, functions n/a)
REFERENCES = {
    "dlai/rnn_step_by_step.py": ("dlai", 8, set()),
    "dlai/" + NOTEBOOK.name: ("dlai", 8, set()),
    "dlfs2/common/time_layers.py": ("dlfs2", 18, set()),
    "mytorch": ("mytorch", 6, set()),
    "mytorch/mytorch/rnn_cell.py": ("mytorch", 2, {"GRUCell.forward", "GRUCell.backward",
                                                   "RNNPhonemeClassifier.forward",
                                                   "RNNPhonemeClassifier.backward"}),
    "eecs498/rnn_lstm_captioning.py": ("eecs498", 8, set()),
}


def failures(report) -> str:
    return "\n".join(describe_function(f) for f in report.functions
                     if f.status not in (PASS, SKIPPED))


def check(path, **options):
    report, _ = verify_module(str(path), **options)
    return report


class ReferenceSolutionsPass(unittest.TestCase):
    @parameterized.expand([(name,) for name in REFERENCES])
    def test_detected_and_passing(self, name):
        api, passing, not_applicable = REFERENCES[name]
        state = np.random.get_state()
        report = check(REFS / name)
        self.assertEqual(report.api, api)
        self.assertTrue(report.ok, failures(report))
        self.assertEqual(report.counts(), (passing, 0, 0))
        self.assertEqual({f.name for f in report.functions if f.status == SKIPPED},
                         not_applicable)
        for result in report.functions:  # the reuse sequence ran on every function
            if result.status == PASS:
                self.assertTrue(any(c.case.startswith("reuse-") for c in result.checks),
                                result.name)
        after = np.random.get_state()
        self.assertTrue(all(np.array_equal(a, b) for a, b in zip(state, after, strict=True)))

    def test_helpers_do_not_outlive_the_check(self):
        check(REFS / "dlfs2" / "common" / "time_layers.py", only=["TimeAffine"])
        check(REFS / "dlai" / "rnn_step_by_step.py", only=["rnn_cell_forward"])
        self.assertFalse({"common", "common.np", "rnn_utils"} & set(sys.modules))
        self.assertFalse([p for p in sys.path if "shims" in p])

    def test_dlfs2_is_checked_in_float32_without_what_the_book_cannot_take(self):
        report = check(REFS / "dlfs2" / "common" / "time_layers.py",
                       only=["TimeSoftmaxWithLoss"])
        self.assertEqual(report.dtypes, ("float32",))
        cases = {c.case for c in report.checks}
        self.assertTrue(cases)
        self.assertFalse([c for c in cases if c.startswith("spread beyond exp")])
        self.assertTrue([c for c in cases if c.startswith("large logits")])
        self.assertTrue(all("float32" in c for c in cases if not c.startswith("reuse")))


class FollowsTheCourse(unittest.TestCase):
    def test_dlai_reference_prints_what_the_notebook_prints(self):
        """rnn_cell_forward's check cell (np.random.seed(1)); values as the notebook prints."""
        from torch_ref.verify.load.shims import course_helpers

        with course_helpers(["dlai"]):
            sys.path.insert(0, str(REFS / "dlai"))
            try:
                import rnn_step_by_step as module
            finally:
                sys.path.remove(str(REFS / "dlai"))
                sys.modules.pop("rnn_step_by_step", None)
        rng = np.random.RandomState(1)
        xt, a_prev = rng.randn(3, 10), rng.randn(5, 10)
        names = (("Waa", (5, 5)), ("Wax", (5, 3)), ("Wya", (2, 5)), ("ba", (5, 1)),
                 ("by", (2, 1)))
        parameters = {name: rng.randn(*shape) for name, shape in names}
        a_next, yt_pred, _ = module.rnn_cell_forward(xt, a_prev, parameters)
        printed_a4 = [0.59584544, 0.18141802, 0.61311866, 0.99808218, 0.85016201, 0.99980978,
                      -0.18887155, 0.99815551, 0.6531151, 0.82872037]
        printed_y1 = [0.9888161, 0.01682021, 0.21140899, 0.36817467, 0.98988387, 0.88945212,
                      0.36920224, 0.9966312, 0.9982559, 0.17746526]
        np.testing.assert_allclose(a_next[4], printed_a4, atol=1e-8)
        np.testing.assert_allclose(yt_pred[1], printed_y1, atol=1e-8)


class CourseNames(unittest.TestCase):
    """Reports speak of the course's tensors, in its layout, and its gate names."""

    def report_of(self, api, name, only):
        (mutant,) = [m for m in mutants.MUTANTS if m.api == api and m.name == name]
        with tempfile.TemporaryDirectory() as directory:
            return check(mutants.build(mutant, Path(directory)), only=only, golden=False)

    def assert_worst_values_agree(self, report):
        failing = [c for c in report.checks if c.status == "FAIL" and c.worst_index]
        self.assertTrue(failing)
        for c in failing:
            actual, expected = np.asarray(c.actual), np.asarray(c.expected)
            self.assertAlmostEqual(abs(actual[c.worst_index] - expected[c.worst_index]),
                                   c.max_abs, delta=1e-12 + 1e-9 * c.max_abs, msg=c.tensor)

    def test_dlai_transposed_weights_and_gate_matrices(self):
        report = self.report_of("dlai", "rnn_cell_backward_dWaa_of_a_next",
                                ["rnn_cell_backward"])
        (dWaa,) = {c.tensor: c for c in report.checks if not c.passed}.values()
        self.assertEqual(dWaa.tensor, "dWaa")
        self.assert_worst_values_agree(report)
        report = self.report_of("dlai", "lstm_cell_backward_output_gate_no_sigmoid_derivative",
                                ["lstm_cell_backward"])
        self.assertIn("dWo[:, n_a:]", {c.tensor for c in report.checks if not c.passed})
        self.assert_worst_values_agree(report)

    def test_mytorch_gru_gate_matrices(self):
        report = self.report_of("mytorch", "gru_backward_dWnh_without_reset",
                                ["GRUCell.backward"])
        self.assertEqual({c.gate for c in report.checks if c.tensor == "dWnh"}, {"n"})
        self.assert_worst_values_agree(report)

    def test_hints_use_the_course_gate_names_and_packing(self):
        report = self.report_of("dlfs2", "lstm_gate_blocks_ifg", ["LSTM.forward"])
        hints = {c.hint for c in report.checks if c.hint}
        self.assertIn("matches the LSTM with its 4H blocks read as [i, f, g, o]; the book "
                      "packs them as [f, g, i, o]", hints)


class CorrectRewritesPass(unittest.TestCase):
    @parameterized.expand([(f"{api}__{name}", api, old, new, module)
                           for api, name, old, new, module in course_mutants.CORRECT])
    def test_passes(self, _, api, old, new, module):
        edits = list(zip(old, new, strict=True)) if isinstance(old, tuple) else [(old, new)]
        variant = mutants.Mutant(api, "correct", "", None, *edits[0], module=module)
        with tempfile.TemporaryDirectory() as directory:
            path = mutants.build(variant, Path(directory))
            text = path.read_text(encoding="utf-8")
            for before, after in edits[1:]:
                self.assertEqual(text.count(before), 1, before)
                text = text.replace(before, after)
            path.write_text(text, encoding="utf-8")
            report = check(path, api=api, golden=False)
        self.assertTrue(report.ok, failures(report))
        self.assertEqual(report.api, api)
        # really checked, not n/a (a mytorch file holds one of the two cells, and no
        # classifier)
        self.assertLessEqual({f.name for f in report.functions if f.status == SKIPPED},
                             {f"{c}.{m}" for c in ("RNNCell", "GRUCell", "RNNPhonemeClassifier")
                              for m in ("forward", "backward")})
        self.assertGreaterEqual(report.counts()[0], 2)


class OptionalParts(unittest.TestCase):
    def test_an_untouched_dlai_backward_template_is_not_applicable(self):
        source = (REFS / "dlai" / "rnn_step_by_step.py").read_text(encoding="utf-8")
        template = ('def rnn_cell_backward(da_next, cache):\n'
                    '    (a_next, a_prev, xt, parameters) = cache\n'
                    '    dtanh = None\n    dxt = None\n    dWax = None\n    da_prev = None\n'
                    '    dWaa = None\n    dba = None\n'
                    '    gradients = {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, '
                    '"dWaa": dWaa, "dba": dba}\n    return gradients\n\n\n')
        start = source.index("def rnn_cell_backward")
        end = source.index("def rnn_backward")
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "student.py"
            path.write_text(source[:start] + template + source[end:], encoding="utf-8")
            report = check(path, only=["rnn_step"])
        self.assertTrue(report.ok, failures(report))
        (backward,) = [f for f in report.functions if f.name == "rnn_cell_backward"]
        self.assertEqual(backward.status, SKIPPED)
        self.assertIn("not implemented yet", backward.note)

    def test_the_untouched_notebook_template_is_not_applicable_before_it_runs(self):
        template = ('def rnn_backward(da, caches):\n'
                    '    ### START CODE HERE ###\n'
                    '    # Retrieve values from the first cache (t=1) of caches (≈2 lines)\n'
                    '    (caches, x) = None\n    (a1, a0, x1, parameters) = None\n'
                    '    dx = None\n    ### END CODE HERE ###\n'
                    '    gradients = {"dx": dx}\n    return gradients\n')
        source = (REFS / "dlai" / "rnn_step_by_step.py").read_text(encoding="utf-8")
        start = source.index("def rnn_backward")
        end = source.index("def lstm_cell_forward")
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "student.py"
            path.write_text(source[:start] + template + "\n\n" + source[end:],
                            encoding="utf-8")
            report = check(path, only=["rnn"])
        self.assertTrue(report.ok, failures(report))
        self.assertEqual(report.status("rnn_backward"), SKIPPED)
        self.assertEqual(report.status("rnn_forward"), PASS)


class Notebooks(unittest.TestCase):
    def write(self, directory, cells):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        path = Path(directory) / "work.ipynb"
        nbformat.write(notebook, str(path))
        return path

    def test_test_cells_training_loops_and_shell_lines_never_run(self):
        cells = ["!pip install nothing\n%matplotlib inline\nimport numpy as np\n"
                 "from rnn_utils import *\nfrom public_tests import *",
                 NOTEBOOK_CELL,
                 "raise SystemExit('a test cell ran')",
                 "for epoch in range(10**9):\n    pass",
                 "%%bash\nexit 1",
                 "np.dot?"]
        with tempfile.TemporaryDirectory() as directory:
            report = check(self.write(directory, cells), only=["rnn_cell_forward"])
        self.assertEqual(report.api, "dlai")
        self.assertEqual(report.status("rnn_cell_forward"), PASS)

    def test_weights_from_a_test_cell_are_an_error_pointing_at_the_cell_and_line(self):
        cells = ["import numpy as np\nfrom rnn_utils import softmax",
                 "parameters_tmp = {'Wax': np.ones((5, 3))}",
                 NOTEBOOK_CELL.replace('Wax = parameters["Wax"]', 'Wax = parameters_tmp["Wax"]')]
        with tempfile.TemporaryDirectory() as directory:
            report = check(self.write(directory, cells), only=["rnn_cell_forward"])
        (result,) = [f for f in report.functions if f.name == "rnn_cell_forward"]
        self.assertEqual(result.status, "ERROR")
        detail = describe_function(result)
        self.assertIn("parameters_tmp", detail)
        self.assertIn("work.ipynb [cell 3]:2", detail)

    def test_a_syntax_error_names_the_cell_and_line(self):
        cells = ["import numpy as np", "def rnn_cell_forward(xt, a_prev, parameters):\n"
                                       "    return (xt,"]
        with tempfile.TemporaryDirectory() as directory:
            with self.assertRaisesRegex(UsageError, r"work\.ipynb \[cell 2\]:2"):
                check(self.write(directory, cells))


NOTEBOOK_CELL = '''def rnn_cell_forward(xt, a_prev, parameters):
    Wax = parameters["Wax"]
    Waa = parameters["Waa"]
    Wya = parameters["Wya"]
    ba = parameters["ba"]
    by = parameters["by"]
    a_next = np.tanh(np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba)
    yt_pred = softmax(np.dot(Wya, a_next) + by)
    return a_next, yt_pred, (a_next, a_prev, xt, parameters)'''


class AutoDetection(unittest.TestCase):
    def module(self, directory, text, name="student.py"):
        path = Path(directory) / name
        path.write_text(text, encoding="utf-8")
        return path

    def test_a_module_fitting_two_apis_equally_lists_them(self):
        with tempfile.TemporaryDirectory() as directory:
            path = self.module(directory, "def rnn_forward(x, h0, Wx, Wh, b):\n    pass\n")
            with self.assertRaises(UsageError) as raised:
                check(path)
        message = str(raised.exception)
        self.assertIn("--api cs231n", message)
        self.assertIn("--api dlai", message)
        self.assertNotIn("--api dlfs2", message)

    def test_a_module_fitting_nothing_lists_every_api_and_exits_2(self):
        with tempfile.TemporaryDirectory() as directory:
            path = self.module(directory, "def train():\n    pass\n")
            run = subprocess.run([sys.executable, "-m", "torch_ref", "verify", "--module",
                                  str(path)], capture_output=True, text=True,
                                 env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, timeout=120)
        self.assertEqual(run.returncode, 2, run.stderr)
        for api in ("cs231n", "hw3", "params", "dlai", "dlfs2", "mytorch", "eecs498"):
            self.assertIn(f"--api {api}:", run.stderr)

    def test_a_generic_helper_alone_makes_no_api(self):
        # a char-level LSTM script with its own sigmoid, indented with tabs (a sign of
        # the params 2017 edition): no course's API, so nothing is judged
        with tempfile.TemporaryDirectory() as directory:
            path = self.module(directory, "import numpy as np\n\n\ndef sigmoid(x):\n"
                                          "\treturn 1 / (1 + np.exp(-x))\n\n\n"
                                          "class SimpleLSTM:\n\tdef step(self, x):\n"
                                          "\t\treturn sigmoid(x)\n")
            with self.assertRaisesRegex(UsageError, "defines none of the functions"):
                check(path)

    def test_the_same_names_are_told_apart_by_their_signatures(self):
        source = (REFS / "cs231n" / "rnn_layers.py").read_text(encoding="utf-8")
        eecs = (REFS / "eecs498" / "rnn_lstm_captioning.py").read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory() as directory:
            plain = self.module(directory, source, "plain.py")
            # an unused import of torch does not make a NumPy module a torch course's
            torchy = self.module(directory, "import torch\n" + source, "torchy.py")
            on_torch = self.module(directory, eecs, "on_torch.py")
            self.assertEqual(check(plain, only=["rnn_step_forward"]).api, "cs231n")
            self.assertEqual(check(torchy, only=["rnn_step_forward"]).api, "cs231n")
            self.assertEqual(check(on_torch, only=["rnn_step_forward"]).api, "eecs498")

    def test_a_helper_next_to_the_module_wins_over_the_provided_one(self):
        source = (REFS / "dlai" / "rnn_step_by_step.py").read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory() as directory:
            path = self.module(directory, source)
            # the student's own rnn_utils: a softmax over the wrong axis
            self.module(directory, "import numpy as np\n"
                                   "def softmax(x):\n    e = np.exp(x)\n"
                                   "    return e / e.sum(axis=1, keepdims=True)\n"
                                   "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n",
                        "rnn_utils.py")
            report = check(path, only=["rnn_cell_forward"])
        self.assertEqual(report.status("rnn_cell_forward"), "ERROR")


class HandoutHelpers(unittest.TestCase):
    def test_the_handouts_own_activation_wins(self):
        """A handout shipping its own nn/activation.py (here a broken Tanh) uses it."""
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory) / "HW3P1"
            (root / "mytorch" / "nn").mkdir(parents=True)
            (root / "mytorch" / "rnn_cell.py").write_text(
                (REFS / "mytorch" / "mytorch" / "rnn_cell.py").read_text(encoding="utf-8"),
                encoding="utf-8")
            (root / "mytorch" / "nn" / "activation.py").write_text(
                "class Tanh:\n    def forward(self, z):\n        return z\n"
                "    def backward(self, state=None):\n        return 1 - state * state\n",
                encoding="utf-8")
            report = check(root, only=["RNNCell.forward"])
        self.assertEqual(report.status("RNNCell.forward"), "FAIL")


class CommandLine(unittest.TestCase):
    def test_notebook_by_default_api_with_json(self):
        with tempfile.TemporaryDirectory() as directory:
            out = Path(directory) / "report.json"
            run = subprocess.run([sys.executable, "-m", "torch_ref", "verify", "--module",
                                  str(NOTEBOOK), "--only", "rnn_forward", "--json", str(out)],
                                 capture_output=True, text=True, timeout=120,
                                 env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            self.assertIn("(--api dlai)", run.stdout)
            self.assertEqual(json.loads(out.read_text())["api"], "dlai")


def _slow_enabled(config) -> bool:
    return "slow" in (config.getoption("markexpr") or "") or bool(
        os.environ.get("NUMPY_RNN_SLOW_TESTS"))


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in REFERENCES if not n.endswith(".ipynb")])
def test_no_false_positive_over_21_seeds(name, pytestconfig):
    """Seeds 0..20 (seven runs of three seeds), every dtype the course computes in."""
    if not _slow_enabled(pytestconfig):
        pytest.skip("slow: run with -m slow or NUMPY_RNN_SLOW_TESTS=1")
    for seed in range(0, 21, 3):
        report = check(REFS / name, seed=seed)
        assert report.ok, f"seed {seed}:\n{failures(report)}"
