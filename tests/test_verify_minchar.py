"""``verify --api minchar``: min-char-rnn, its forks and its LSTM ports.

The catalog side (``char_rnn``, ``char_lstm``: numpy_rnn's ``char_rnn_loss`` /
``char_lstm_loss`` against torch and the mistake model the hints use), the script
loader (definitions only, Python 2 statements, debugger calls), what the adapter reads
from a module's source, and verify on modules written in the styles of the original and
of its forks (tests/student_corpus/minchar/, each correct) and on one-mistake variants of
them, which must fail with the hint that names the mistake. The corpus and mutant runs
check each module isolated and in-process (a representative subset by default, the rest
with ``NUMPY_RNN_SLOW_TESTS=1``).
"""
import ast
import dataclasses
import os
import shutil
import tempfile
import textwrap
import time
import unittest
from pathlib import Path

import numpy as np
import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")

from verifying import verify_module  # noqa: E402

import numpy_rnn  # noqa: E402
from torch_ref import layout as L  # noqa: E402
from torch_ref.catalog import CATALOG  # noqa: E402
from torch_ref.catalog import char_rnn as catalog_entry  # noqa: E402
from torch_ref.status import FAIL, PASS, WARN  # noqa: E402
from torch_ref.verify.adapters import minchar_source as S  # noqa: E402
from torch_ref.verify.adapters.minchar import MincharAdapter  # noqa: E402
from torch_ref.verify.load import script  # noqa: E402
from torch_ref.verify.load.loader import CallGuard, ModuleLoadError, unload  # noqa: E402
from torch_ref.verify.render import describe_function, format_report  # noqa: E402
from torch_ref.verify.run import UsageError  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "student_corpus" / "minchar"
SLOW = pytest.mark.skipif(not os.environ.get("NUMPY_RNN_SLOW_TESTS"),
                          reason="slow: set NUMPY_RNN_SLOW_TESTS=1")

# style -> the script; every one correct (warnings allowed)
CORRECT = {
    "gist_style": "min-char-rnn.py",
    "py2_print_xrange": "min-char-rnn.py",
    "renamed_uvw": "char_rnn.py",
    "class_adam": "model.py",
    "seq_length_loop": "min_char_rnn.py",
    "lstm_per_gate_h_first": "min-char-lstm.py",
    "lstm_packed_fiog": "lstm.py",
    "no_clip_first_revision": "min-char-rnn.py",
    "clip_one_out": "min-char-rnn.py",
    "pdb_left_in": "min-char-rnn.py",
}
FAST = {"gist_style", "py2_print_xrange", "lstm_per_gate_h_first"}

GIST = "gist_style"
PER_GATE = "lstm_per_gate_h_first"
PACKED = "lstm_packed_fiog"
# name -> (style, old, new, failing tensors (the module's names), a fragment of the hint)
MUTANTS = {
    "tanh_at_preactivation": (GIST, "dhraw = (1 - hs[t] * hs[t]) * dh",
                              "dhraw = (1 - zs[t] * zs[t]) * dh",
                              {"dWxh", "dWhh", "dbh"}, "at the pre-activation"),
    "tanh_twice": (GIST, "dhraw = (1 - hs[t] * hs[t]) * dh",
                   "dhraw = (1 - np.tanh(hs[t]) ** 2) * dh", {"dWxh", "dWhh", "dbh"},
                   "tanh applied twice"),
    "dhnext_not_carried": (GIST, "dh = np.dot(Why.T, dy) + dhnext", "dh = np.dot(Why.T, dy)",
                           {"dWxh", "dWhh", "dbh"}, "dhnext is never carried back"),
    "dy_target_missing": (GIST, "        dy[targets[t]] -= 1\n", "",
                          {"dWxh", "dWhh", "dWhy", "dbh", "dby"},
                          "misses dy[targets[t]] -= 1"),
    "dy_every_target": (GIST, "dy[targets[t]] -= 1", "dy[targets] -= 1",
                        {"dWxh", "dWhh", "dWhy", "dbh", "dby"},
                        "subtracts at every target"),
    "bias_summed_over_units": (GIST, "dbh += dhraw", "dbh += np.sum(dhraw, axis=0)", {"dbh"},
                               "summed over axis 0"),
    "clip_inside_time_loop": (
        GIST, "        dhnext = np.dot(Whh.T, dhraw)\n    for dparam in [dWxh, dWhh, dWhy, dbh, "
              "dby]:\n        np.clip(dparam, -5, 5, out=dparam)\n",
        "        dhnext = np.dot(Whh.T, dhraw)\n        for dparam in [dWxh, dWhh, dWhy, dbh, "
        "dby]:\n            np.clip(dparam, -5, 5, out=dparam)\n",
        {"dWxh", "dWhh", "dWhy", "dbh"}, "clipped inside the loop over time"),
    "clip_without_effect": (GIST, "np.clip(dparam, -5, 5, out=dparam)",
                            "dparam = np.clip(dparam, -5, 5)",
                            {"dWxh", "dWhh", "dWhy", "dbh", "dby"}, "returned unclipped"),
    "states_in_a_list": (GIST, "xs, zs, hs, ys, ps = {}, {}, {}, {}, {}",
                         "xs, zs, ys, ps = {}, {}, {}, {}\n    hs = [None] * len(inputs)",
                         {"dWhh"}, "only in the t=0 term"),
    "mean_loss": (GIST, "return loss, dWxh", "return loss / len(inputs), dWxh", {"loss"},
                  "averaged over time instead of summed"),
    "returns_hprev": (GIST, "hs[len(inputs) - 1]\n\n\ndef sample", "hs[-1]\n\n\ndef sample",
                      {"h"}, "is hprev"),
    "whh_not_transposed": (GIST, "dhnext = np.dot(Whh.T, dhraw)", "dhnext = np.dot(Whh, dhraw)",
                           {"dWxh", "dWhh", "dbh"}, "instead of its transpose"),
    "lstm_cell_tanh_at_preactivation": (
        PER_GATE, "dc = dh * o[t] * (1 - tc ** 2) + dc_next",
        "dc = dh * o[t] * (1 - cs[t] ** 2) + dc_next", None, "not cs[t]"),
    "lstm_dcnext_not_carried": (PER_GATE, "dc_next = f[t] * dc", "dc_next = 0 * dc", None,
                                "dcnext is never carried back"),
    "lstm_backward_gate_order": (
        PACKED, "da = np.vstack([dc * cs[t - 1] * fs[t] * (1 - fs[t]),\n"
                "                        dc * gs[t] * is_[t] * (1 - is_[t]),",
        "da = np.vstack([dc * gs[t] * is_[t] * (1 - is_[t]),\n"
        "                        dc * cs[t - 1] * fs[t] * (1 - fs[t]),",
        {"dWxh", "dWhh", "dbh"}, "gate f's gradient where gate i belongs"),
    "lstm_candidate_tanh_twice": (PACKED, "dc * is_[t] * (1 - gs[t] * gs[t])",
                                  "dc * is_[t] * (1 - np.tanh(gs[t]) ** 2)",
                                  {"dWxh", "dWhh", "dbh"}, "tanh applied twice"),
}
FAST_MUTANTS = {"tanh_at_preactivation", "dhnext_not_carried", "clip_inside_time_loop",
                "lstm_backward_gate_order"}


def corpus_module(style: str) -> Path:
    return CORPUS / style / CORRECT[style]


def mutated(test, style: str, old: str, new: str) -> str:
    """A copy of the corpus module of ``style`` with ``old`` replaced (once) by ``new``."""
    text = corpus_module(style).read_text()
    test.assertEqual(text.count(old), 1, f"{style}: the change must apply exactly once")
    folder = tempfile.mkdtemp()
    test.addCleanup(shutil.rmtree, folder, True)
    path = Path(folder) / CORRECT[style]
    path.write_text(text.replace(old, new))
    return str(path)


def written(test, text: str, name: str = "script.py") -> str:
    folder = tempfile.mkdtemp()
    test.addCleanup(shutil.rmtree, folder, True)
    path = Path(folder) / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def problems(report) -> str:
    return "\n".join(describe_function(f) for f in report.functions if f.status not in
                     (PASS, WARN))


# ---- the catalog ------------------------------------------------------------------------

class Catalog(unittest.TestCase):
    def cases(self, name, dtype="float64"):
        return list(CATALOG[name].all_cases(dtypes=(dtype,)))

    @parameterized.expand([("char_rnn",), ("char_lstm",)])
    def test_the_mistake_model_without_a_mistake_is_torch(self, name):
        # the hints compare a failing tensor with the original algorithm done wrong: done
        # right, it must be the reference (the far-apart logits aside: its stable softmax)
        for case in self.cases(name):
            expected = CATALOG[name].run_torch(case).tensors()
            got = catalog_entry.variant(case)
            for tensor, value in expected.items():
                np.testing.assert_allclose(got[tensor], value, rtol=1e-7, atol=1e-9,
                                           err_msg=f"{case.describe()} {tensor}")

    @parameterized.expand([("char_rnn",), ("char_lstm",)])
    def test_the_first_case_is_the_same_at_every_clip_bound(self, name):
        # a reuse sequence runs the first case of seeds s+100.. for every edition
        for seed in (0, 1, 2, 100, 101, 102):
            case = next(iter(CATALOG[name].cases("float64", seed)))
            raw = dataclasses.replace(case, inputs={**case.inputs, "clip": np.inf})
            largest = max(np.abs(g).max() for g in CATALOG[name].run_torch(raw).grads.values())
            self.assertLess(largest, 1.0, f"seed {seed}")

    @parameterized.expand([("char_rnn",), ("char_lstm",)])
    def test_the_clip_cases_go_beyond_their_bound(self, name):
        for case in self.cases(name):
            if not case.label.startswith("gradients beyond 5"):
                continue
            raw = dataclasses.replace(case, inputs={**case.inputs, "clip": np.inf})
            largest = max(np.abs(g).max() for g in CATALOG[name].run_torch(raw).grads.values())
            self.assertGreater(largest, 5.0, case.describe())

    def test_char_lstm_loss_keeps_float32_and_its_inputs(self):
        for dtype in ("float32", "float64"):
            case = next(iter(CATALOG["char_lstm"].cases(dtype, 0)))
            inputs = {k: np.array(v, copy=True) for k, v in case.inputs.items()}
            result = numpy_rnn.char_lstm_loss(**inputs)
            for value in result:
                self.assertEqual(np.asarray(value).dtype, np.dtype(dtype))
            for key, value in case.inputs.items():
                np.testing.assert_array_equal(inputs[key], value)

    def test_char_lstm_loss_rejects_bad_inputs(self):
        case = next(iter(CATALOG["char_lstm"].cases("float64", 0)))
        bad = {"cprev": (np.zeros((1, 4)), "cprev must be a column"),
               "Wxh": (np.zeros((15, 8)), r"Wxh must have shape \(4H, V\)"),
               "inputs": (np.array([0, 8, 1, 2, 3]), "inputs has value 8"),
               "clip": (-1.0, "clip must be a positive number")}
        for name, (value, message) in bad.items():
            with self.subTest(name), self.assertRaisesRegex((ValueError, IndexError), message):
                numpy_rnn.char_lstm_loss(**{**case.inputs, name: value})

    def test_lstm_layouts_of_the_forks_round_trip(self):
        rng = np.random.default_rng(3)
        V, H = 5, 3
        Wxh, Whh, bh = rng.normal(size=(4 * H, V)), rng.normal(size=(4 * H, H)), \
            rng.normal(size=(4 * H, 1))
        for x_first in (True, False):
            gates = L.char_lstm_to_gates(Wxh, Whh, bh, x_first)
            self.assertEqual(gates["f"][0].shape, (H, V + H))
            back = L.char_lstm_from_gates(gates, V, x_first)
            for a, b in zip(back, (Wxh, Whh, bh), strict=True):
                np.testing.assert_array_equal(a, b)
        forked = L.char_lstm_reordered(Wxh, "fiog", H)
        np.testing.assert_array_equal(forked[:H], Wxh[H:2 * H])  # the fork's first block: f
        np.testing.assert_array_equal(L.char_lstm_reordered(forked, "fiog", H, back=True), Wxh)


# ---- the script loader ----------------------------------------------------------------------

class ScriptLoader(unittest.TestCase):
    def test_only_imports_constants_and_definitions_run(self):
        path = written(self, """\
            import numpy as np
            data = open('input.txt').read()
            hidden_size = 100
            n, p = 0, 0
            def f():
                return hidden_size
            while True:
                pass
            """)
        guard = CallGuard(10)
        start = time.perf_counter()
        loaded = script.load_script(path, guard)
        self.addCleanup(unload, loaded)
        self.assertLess(time.perf_counter() - start, 5)
        module = loaded.module
        self.assertEqual((module.hidden_size, module.n, module.p, module.f()), (100, 0, 0, 100))
        self.assertFalse(hasattr(module, "data"))
        reading, _ = script.read_file(path)
        self.assertEqual([what for what, _ in reading.skipped],
                         ["an assignment", "the training loop"])

    def test_python2_statements_are_rewritten_line_for_line(self):
        text = textwrap.dedent("""\
            import numpy as np
            try:
                import cPickle as pickle
            except ImportError, e:
                print 'no cPickle', e
            print 'a', \\
                'b'
            print ('x %d'
                   % 3)
            def f(n):
                for i in xrange(n): print i
                return `n`
            """)
        source, fixes = script.python3_source(text)
        self.assertEqual(len(source.splitlines()), len(text.splitlines()))
        ast.parse(source)
        self.assertEqual([(what, line) for what, line in fixes],
                         [("'except E, e:' clause", 4), ("print statement", 5),
                          ("print statement", 6), ("print statement", 11),
                          ("backquote repr", 12)])
        namespace = {"xrange": range}
        exec(compile(ast.parse(source), "f", "exec"), namespace)
        self.assertEqual(namespace["f"](3), "3")
        reading, _ = script.read(text)
        notes = "\n".join(reading.notes("f.py"))
        self.assertIn("3 print statements (line 5, 6, 11) made 'pass'", notes)
        self.assertIn("xrange given as range", notes)

    def test_python2_beyond_statements_is_named_as_such(self):
        path = written(self, "def f(x):\n    exec 'y = 1' in x\n    print x\n")
        with self.assertRaisesRegex(ModuleLoadError, "Python 2 code"):
            script.read_file(path)

    def test_debugger_calls_are_dropped_and_said(self):
        reading, compiled = script.read(textwrap.dedent("""\
            import pdb
            def f(x):
                pdb.set_trace()
                breakpoint()
                return x + 1
            """))
        self.assertEqual(reading.debuggers, [3, 4])
        namespace = {}
        for _, code in compiled:
            exec(code, namespace)
        self.assertEqual(namespace["f"](1), 2)
        self.assertIn("debugger calls at line 3, 4 ignored", "\n".join(reading.notes()))

    def test_what_cannot_be_defined_is_recorded_not_fatal(self):
        path = written(self, """\
            import no_such_module_here
            from numpy.core.numeric import NaN
            chars = sorted(set(open('input.txt').read()))
            def sample(n=len(chars)):
                return n
            def lossFun(inputs, targets, hprev):
                return 0
            """)
        loaded = script.load_script(path, CallGuard(10))
        self.addCleanup(unload, loaded)
        skipped = "\n".join(loaded.module.__verify_skipped_imports__)
        self.assertIn("import no_such_module_here (line 1)", skipped)
        self.assertIn("sample (line 4) not defined: NameError", skipped)
        self.assertIn("from numpy.core.numeric import NaN (line 2)", skipped)
        self.assertTrue(callable(loaded.module.lossFun))


# ---- what the adapter reads from the source ------------------------------------------

def tree_of(text: str):
    return S.parse(textwrap.dedent(text))


def entry_of(text: str):
    tree = tree_of(text)
    return tree, S.find_entries(tree)[0]


class SourceReading(unittest.TestCase):
    def test_entry_points_by_name_method_and_shape(self):
        tree = tree_of("""\
            def LossFun(a, b, c): pass
            def compute_loss_and_gradients(x, y, h): pass
            class Model:
                def loss_fun(self, i, t, h): pass
            class Other:
                def train(self, inputs, targets, vocab_size, hidden):
                    dA, dB, dC = np.zeros_like(A), np.zeros_like(B), np.zeros_like(C)
                    dD, dE = np.zeros_like(D), np.zeros_like(E)
                    return loss, dA, dB, dC, dD, dE, h
            def lossFun(a, b): pass
            """)
        found = [(e.name, e.params) for e in S.find_entries(tree)]
        self.assertEqual(found, [("LossFun", ["a", "b", "c"]),
                                 ("compute_loss_and_gradients", ["x", "y", "h"]),
                                 ("Model.loss_fun", ["i", "t", "h"]),
                                 ("Other.train", ["inputs", "targets", "vocab_size",
                                                  "hidden"])])

    def test_weights_from_their_zeros_like_gradients(self):
        text = """\
            def f(i, t, h):
                dU, dW = np.zeros_like(U), np.zeros(W.shape)
                dV, db, dc = (np.zeros_like(w) for w in (V, b, c))
                self.dX = np.zeros_like(self.X)
                dX = self.dX
            """
        tree, _ = tree_of(text), None
        self.assertEqual(S._zeros_like(tree.body[0]),
                         {"dU": "U", "dW": "W", "dV": "V", "db": "b", "dc": "c",
                          "self.dX": "self.X", "dX": "self.X"})

    @parameterized.expand([
        ("in place", "for d in [dA]:\n        np.clip(d, -5, 5, out=d)", 5.0, True),
        ("positional out", "np.clip(dA, -1, 1, dA)", 1.0, True),
        ("method", "dA = dA.clip(-1, 1)", 1.0, True),
        ("rebinding the loop variable", "for d in [dA]:\n        d = np.clip(d, -5, 5)",
         5.0, False),
        ("result dropped", "np.clip(dA, -5, 5)", 5.0, False),
        ("a module constant", "np.clip(dA, -BOUND, BOUND, out=dA)", 10.0, True),
        ("none", "pass", None, True),
    ])
    def test_clipping(self, _, code, bound, effective):
        text = ("BOUND = 10\ndef lossFun(i, t, h):\n    dA = np.zeros_like(A)\n    "
                + code + "\n    return loss, dA, h\n")
        tree = S.parse(text)
        node = tree.body[1]
        clip = S.clipping(node, text, {"dA"}, S.literals(tree))
        self.assertEqual((clip.bound, clip.effective), (bound, effective))

    def test_gates_from_names_slices_and_stacking(self):
        self.assertEqual([S.gate_of(n) for n in ("Wf", "bi", "Wcc", "W_o", "bg", "Wy", "Why",
                                                 "by", "self.Wz")],
                         ["f", "i", "g", "o", "g", None, None, None, "g"])
        _, entry = entry_of("""\
            def lossFun(inputs, targets, hprev, cprev):
                H = hidden_size
                z = np.row_stack((hs[t - 1], xs[t]))
                a = np.dot(W, z)
                fs[t] = sig(a[:H])
                os[t] = sigmoid(a[H:2 * H])
                gs[t] = np.tanh(a[2*H:3*H])
                is_[t] = sigmoid(a[3 * H:])
            """)
        self.assertFalse(S.stacking(entry.node))
        self.assertEqual(S.packed_gates(entry.node, {"hidden_size"}), ["f", "o", "g", "i"])

    def test_a_gru_and_a_deeper_network_are_named_not_misjudged(self):
        gru = """\
            def lossFun(inputs, targets, hprev):
                H = hidden_size
                dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
                dbh, dby = np.zeros_like(bh), np.zeros_like(by)
                z = sigmoid(W[:H] + U[:H])
                r = sigmoid(W[H:2 * H] + U[H:2 * H])
                n = np.tanh(W[2 * H:] + r * U[2 * H:])
                return loss, dWxh, dWhh, dWhy, dbh, dby, h
            """
        tree, entry = entry_of(gru)
        reading = S.read_entry(entry, tree, textwrap.dedent(gru), set())
        self.assertEqual(reading.kind, "unsupported")
        self.assertIn("a GRU", reading.problem)


# ---- verify on scripts ---------------------------------------------------------------------

def corpus_params():
    return [(style, style in FAST) for style in CORRECT]


class Corpus(unittest.TestCase):
    @parameterized.expand(corpus_params())
    def test_correct_script_passes(self, style, fast):
        if not fast and not os.environ.get("NUMPY_RNN_SLOW_TESTS"):
            self.skipTest("slow: set NUMPY_RNN_SLOW_TESTS=1")
        report, adapter = verify_module(corpus_module(style), "minchar")
        self.assertTrue(report.ok, problems(report))
        self.assertEqual(len(report.functions), 1)
        self.assertTrue(report.checks)
        self.assertTrue(any(c.case.startswith("reuse-") for c in report.checks))
        kinds = {c.kind for c in report.checks if c.status == WARN}
        # the only hazards of these scripts: the original's softmax, and no clipping
        allowed = {"log-sum-exp"} | ({"clipping"} if style == "no_clip_first_revision"
                                     else set())
        self.assertLessEqual(kinds, allowed, style)

    def test_auto_detects_the_api_and_reads_the_module_as_a_script(self):
        report, _ = verify_module(corpus_module("lstm_packed_fiog"), "auto", ways="in-process")
        self.assertEqual(report.api, "minchar")
        self.assertIn("LSTM, packed gates", report.assumed)
        self.assertIn("order f, i, o, g", report.assumed)

    def test_a_notebook_defining_lossfun(self):
        nbformat = pytest.importorskip("nbformat")
        text = corpus_module(GIST).read_text()
        cells = [text[:text.index("def lossFun")],
                 text[text.index("def lossFun"):text.index("def sample")],
                 text[text.index("def sample"):]]
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder, True)
        path = Path(folder) / "char_rnn.ipynb"
        nbformat.write(notebook, str(path))
        report, _ = verify_module(path, "auto")
        self.assertEqual(report.api, "minchar")
        self.assertTrue(report.ok, problems(report))
        self.assertIn("at char_rnn.ipynb [cell 2] line 1", report.assumed)

    def test_an_endless_training_loop_is_checked_in_seconds(self):
        start = time.perf_counter()
        report, _ = verify_module(corpus_module(GIST), "minchar", ways="isolated", timeout=10)
        self.assertLess(time.perf_counter() - start, 60)
        self.assertTrue(report.ok, problems(report))
        self.assertIn("never its other top-level code", report.assumed)
        self.assertIn("the training loop at line", report.assumed)

    def test_the_report_says_how_the_script_was_read(self):
        report, _ = verify_module(corpus_module("py2_print_xrange"), "minchar",
                                  ways="in-process")
        text = format_report(report)
        self.assertIn("Python 2 code, read as Python 3", text)
        self.assertIn("5 print statements (line 8, 12, 52, 83, 86) made 'pass'", text)
        self.assertIn("gradients clipped to [-5, 5]", text)
        report, _ = verify_module(corpus_module("pdb_left_in"), "minchar", ways="in-process")
        self.assertIn("debugger calls at line 36, 51 ignored", report.assumed)

    def test_editions_and_clipping_come_from_the_source(self):
        checks = {
            "renamed_uvw": ("RNN", "of U, W, V, b, c"),
            "lstm_per_gate_h_first": ("LSTM, a matrix per gate", "on [h; x]"),
            "clip_one_out": ("RNN", "clipped to [-1, 1]"),
            "no_clip_first_revision": ("RNN", "no clipping"),
        }
        for style, (edition, evidence) in checks.items():
            with self.subTest(style):
                report, adapter = verify_module(corpus_module(style), "minchar",
                                                ways="in-process", reuse=False)
                self.assertEqual(adapter.edition.name, edition)
                self.assertIn(evidence, report.assumed)

    def test_no_clipping_is_a_warning_where_the_original_clips(self):
        report, _ = verify_module(corpus_module("no_clip_first_revision"), "minchar",
                                  ways="in-process", reuse=False)
        clipping = [c for c in report.checks if c.kind == "clipping"]
        cases = {c.case.split("/")[0] for c in clipping}
        self.assertIn("gradients beyond 5", cases)
        self.assertNotIn("ordinary", cases)  # only where a gradient goes beyond 5
        self.assertIn("it does not clip", clipping[0].message)
        self.assertEqual(report.functions[0].status, WARN)

    def test_the_lstm_is_reported_in_the_forks_own_names(self):
        report, _ = verify_module(mutated(self, PER_GATE, *MUTANTS[
            "lstm_cell_tanh_at_preactivation"][1:3]), "minchar", ways="in-process",
            reuse=False)
        failing = {c.tensor for c in report.functions[0].problems()}
        self.assertTrue(failing & {"dWg[:, H:]", "dWg[:, :H]", "dbg"}, failing)
        self.assertTrue(all(t.startswith(("dW", "db")) and t[2] in "figo" for t in failing),
                        failing)

    def test_a_method_entry_gets_a_fresh_instance_without_its_constructor(self):
        report, _ = verify_module(CORPUS / "broken" / "lazy_gradient_buffers" / "char_model.py",
                                  "minchar")
        result = report.functions[0]
        self.assertEqual((result.name, result.status), ("CharModel.lossFun", FAIL))
        wrong = [c for c in result.problems()]
        self.assertTrue(all(c.case.startswith("reuse-") for c in wrong), wrong)
        self.assertIn("state kept from the previous call", wrong[0].hint)

    def test_a_variable_only_the_training_loop_sets_is_named(self):
        path = written(self, """\
            import numpy as np
            Wxh = Whh = Why = bh = by = None
            def lossFun(inputs, targets, hprev):
                dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
                dbh, dby = np.zeros_like(bh), np.zeros_like(by)
                scale = 1.0 / step
                return 0.0, dWxh, dWhh, dWhy, dbh, dby, hprev
            step = len(open('input.txt').read())
            while True:
                step += 1
            """)
        report, _ = verify_module(path, "minchar", reuse=False)
        text = describe_function(report.functions[0])
        self.assertIn("lossFun reads step, which only the script's top-level code sets "
                      "(line 8)", text)

    @parameterized.expand([
        ("two layers", """\
            def lossFun(inputs, targets, hprev):
                dWxh, dWhh1, dWhh2 = np.zeros_like(Wxh), np.zeros_like(Whh1), np.zeros_like(Whh2)
                dWh1h2, dWhy = np.zeros_like(Wh1h2), np.zeros_like(Why)
                dbh1, dbh2, dby = np.zeros_like(bh1), np.zeros_like(bh2), np.zeros_like(by)
                return loss, dWxh, dWhh1, dWhh2, dWh1h2, dWhy, dbh1, dbh2, dby, h
            """, "10 values with 8 gradients"),
        ("untied", """\
            def lossFun(inputs, targets, hprev, sprev):
                dWfs, dWis, dWos, dWgs = (np.zeros_like(w) for w in (Wfs, Wis, Wos, Wgs))
                dbfs, dbis, dbos, dbgs = (np.zeros_like(b) for b in (bfs, bis, bos, bgs))
                dWhy, dby = np.zeros_like(Why), np.zeros_like(by)
                z = np.vstack((xs[t], hs[t - 1]))
                f = sigmoid(np.dot(Wfs[t], z) + bfs[t])
                return (loss, dWfs, dWis, dWos, dWgs, dbfs, dbis, dbos, dbgs, dWhy, dby,
                        h, s)
            """, "untied across time"),
    ])
    def test_models_the_api_does_not_check_are_named_not_judged(self, _, code, words):
        path = written(self, "import numpy as np\n" + textwrap.dedent(code))
        with self.assertRaisesRegex(UsageError, words):
            verify_module(path, "minchar", ways="in-process")

    def test_a_module_of_another_api_is_not_read_as_a_script(self):
        reference = Path(__file__).resolve().parent / "reference_solutions" / "cs231n"
        module = next(reference.rglob("rnn_layers.py"))
        self.assertFalse(MincharAdapter.reads_as_script(str(module), False))
        self.assertTrue(MincharAdapter.reads_as_script(str(corpus_module(GIST)), False))


def mutant_params():
    return [(name, name in FAST_MUTANTS) for name in MUTANTS]


class Mutants(unittest.TestCase):
    @parameterized.expand(mutant_params())
    def test_mutant_fails_with_its_hint(self, name, fast):
        if not fast and not os.environ.get("NUMPY_RNN_SLOW_TESTS"):
            self.skipTest("slow: set NUMPY_RNN_SLOW_TESTS=1")
        style, old, new, tensors, hint = MUTANTS[name]
        report, _ = verify_module(mutated(self, style, old, new), "minchar")
        result = report.functions[0]
        self.assertEqual(result.status, FAIL, format_report(report))
        wrong = result.problems()
        if tensors is not None:
            self.assertEqual({c.tensor for c in wrong}, tensors, describe_function(result))
        self.assertTrue(any(hint in c.hint for c in wrong), describe_function(result))


@SLOW
class Grade(unittest.TestCase):
    def test_a_class_of_scripts(self):
        import subprocess
        import sys

        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder, True)
        shutil.copy(corpus_module(GIST), Path(folder) / "alice.py")
        Path(folder, "bob.py").write_text(corpus_module(GIST).read_text().replace(
            "dh = np.dot(Why.T, dy) + dhnext", "dh = np.dot(Why.T, dy)"))
        out = Path(folder) / "grades"
        done = subprocess.run([sys.executable, "-m", "torch_ref", "grade", folder + "/alice.py",
                               folder + "/bob.py", "--api", "minchar", "--out", str(out)],
                              capture_output=True, text=True, timeout=600)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        book = (out / "gradebook.csv").read_text()
        self.assertIn("alice", book)
        self.assertIn("bob", book)
        self.assertIn("dhnext is never carried back",
                      (out / "reports" / "bob" / "report.txt").read_text())
