"""``verify --api dlai`` on the editions of deeplearning.ai's "Building your Recurrent
Neural Network - Step by Step".

Two notebooks under tests/student_corpus/dlai/editions/, written in each edition's
conventions: v3 (2018-2020; the forward pass done, the optional backward pass left as
the template, ``for t in reversed(range(None))`` and all) and W1A1 (2021 on; public
tests, exercises 1-8, every function done including the backward pass with the lines
the template gives). Both must pass with their edition named; untouched templates are
"not implemented" (n/a where optional), never an ERROR raised by template code; the
v3 notebook's own expected output for lstm_backward (no gradient carried between time
steps) is a FAIL with a hint saying so. Isolated and in-process alike.
"""
import functools
import json
import tempfile
import unittest
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="verify compares with the torch reference")
nbformat = pytest.importorskip("nbformat", reason="notebooks are read with nbformat")

from verifying import verify_module  # noqa: E402

from torch_ref.status import ERROR, FAIL, MISSING, PASS, UNTESTED  # noqa: E402
from torch_ref.status import NA as SKIPPED  # noqa: E402
from torch_ref.verify.adapters.dlai import _untouched_template  # noqa: E402
from torch_ref.verify.render import describe_function  # noqa: E402

EDITIONS = Path(__file__).resolve().parent / "student_corpus" / "dlai" / "editions"
MODULES = {"v1-v3": "v3/Building a Recurrent Neural Network - Step by Step - v3.ipynb",
           "W1A1": "W1A1/Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb"}
BAD = (FAIL, ERROR, MISSING, UNTESTED)
BACKWARD = ("rnn_cell_backward", "rnn_backward", "lstm_cell_backward", "lstm_backward")
_VARIANTS = tempfile.TemporaryDirectory(prefix="dlai_editions_")


def variant(edition: str, name: str, function: str, *edits) -> Path:
    """The edition's notebook copied with each ``(text, replacement)`` written into the
    cell defining ``function`` (each text exactly once there)."""
    root = Path(_VARIANTS.name) / name
    path = root / Path(MODULES[edition]).name
    if not root.exists():
        root.mkdir(parents=True)
        notebook = json.loads((EDITIONS / MODULES[edition]).read_text(encoding="utf-8"))
        (cell,) = [c for c in notebook["cells"] if c["cell_type"] == "code"
                   and f"def {function}(" in "".join(c["source"])]
        text = "".join(cell["source"])
        for old, new in edits:
            assert text.count(old) == 1, f"{name}: {old[:60]!r}"
            text = text.replace(old, new)
        cell["source"] = text
        path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


@functools.lru_cache(maxsize=None)
def report_of(path, only=None):
    report, _ = verify_module(path, only=list(only) if only else None)
    return report


def failing(report, *excepted) -> str:
    return "\n".join(describe_function(f) for f in report.functions
                     if f.status in BAD and f.name not in excepted)


class EditionsPass(unittest.TestCase):
    def test_v3_with_the_optional_backward_left_as_the_template(self):
        report = report_of(str(EDITIONS / MODULES["v1-v3"]))
        self.assertEqual(report.api, "dlai")
        self.assertTrue(report.assumed.startswith("dlai v1-v3 ("), report.assumed)
        self.assertTrue(report.ok, failing(report))
        for name in BACKWARD:
            self.assertEqual(report.status(name), SKIPPED, name)
        for name in ("rnn_cell_forward", "rnn_forward", "lstm_cell_forward", "lstm_forward"):
            self.assertEqual(report.status(name), PASS, name)

    def test_w1a1_everything_done(self):
        report = report_of(str(EDITIONS / MODULES["W1A1"]))
        self.assertTrue(report.assumed.startswith("dlai W1A1 ("), report.assumed)
        self.assertTrue(report.ok, failing(report))
        self.assertEqual({f.status for f in report.functions}, {PASS})


class Templates(unittest.TestCase):
    def test_forward_left_as_the_template_is_not_implemented(self):
        path = variant("W1A1", "forward_untouched", "rnn_cell_forward",
                       ("a_next = np.tanh(np.dot(Waa, a_prev) + np.dot(Wax, xt) + ba)",
                        "a_next = None"),
                       ("yt_pred = softmax(Wya @ a_next + by)", "yt_pred = None"))
        report = report_of(str(path), ("rnn_step", "rnn"))
        cell = [f for f in report.functions if f.name == "rnn_cell_forward"][0]
        self.assertEqual(cell.status, MISSING, describe_function(cell))
        self.assertIn("not implemented", cell.note)
        self.assertEqual(report.status("rnn_forward"), UNTESTED)
        self.assertNotIn(ERROR, {f.status for f in report.functions})

    def test_the_templates_own_lines_are_recognised(self):
        def cell(edition, function):
            notebook = json.loads((EDITIONS / MODULES[edition]).read_text(encoding="utf-8"))
            return next("".join(c["source"]) for c in notebook["cells"]
                        if f"def {function}(" in "".join(c["source"]))

        for function in BACKWARD:  # v3: range(None), x[...] = None, += None, given lines
            self.assertTrue(_untouched_template(cell("v1-v3", function)), function)
        for function in BACKWARD + ("rnn_cell_forward", "lstm_forward"):
            self.assertFalse(_untouched_template(cell("W1A1", function)), function)
        # W1A1's lstm_backward template: da_prevt/dc_prevt lines in the loop, += None
        w1a1 = cell("v1-v3", "lstm_backward").replace(
            "        dx[:,:,t] = None\n        dWf = None",
            "        da_prevt = None\n        dc_prevt = None\n        dx[:,:,t] = None\n"
            "        dWf += None")
        self.assertTrue(_untouched_template(w1a1))
        # and W1A1's rnn_backward with its first lines given
        given = cell("v1-v3", "rnn_backward").replace(
            "(caches, x) = None", "(caches, x) = caches").replace(
            "(a1, a0, x1, parameters) = None", "(a1, a0, x1, parameters) = caches[0]").replace(
            "n_a, m, T_x = None", "n_a, m, T_x = da.shape").replace(
            "n_x, m = None", "n_x, m = x1.shape").replace(
            "reversed(range(None))", "reversed(range(T_x))")
        self.assertTrue(_untouched_template(given))
        # one line of work is enough to make it the student's
        self.assertFalse(_untouched_template(given.replace(
            "        gradients = None", "        gradients = rnn_cell_backward(da[:, :, t], "
            "caches[t])")))


class ExpectedOutputOfV3(unittest.TestCase):
    def test_lstm_backward_without_the_recurrent_gradient_fails_with_the_reason(self):
        done = {name: next("".join(c["source"]) for c in json.loads(
            (EDITIONS / MODULES["W1A1"]).read_text(encoding="utf-8"))["cells"]
            if f"def {name}(" in "".join(c["source"])) for name in BACKWARD}
        root = Path(_VARIANTS.name) / "v3_expected_output"
        path = root / Path(MODULES["v1-v3"]).name
        if not root.exists():
            root.mkdir(parents=True)
            notebook = json.loads((EDITIONS / MODULES["v1-v3"]).read_text(encoding="utf-8"))
            for c in notebook["cells"]:
                for name in BACKWARD:
                    if f"def {name}(" in "".join(c["source"]):
                        c["source"] = done[name]
            (c,) = [c for c in notebook["cells"] if "def lstm_backward(" in "".join(c["source"])]
            text = "".join(c["source"])
            # what the v3 template leaves room for: nothing carried between time steps
            old = ("        gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, "
                   "caches[t])\n        # Store or add the gradient to the parameters' previous "
                   "step's gradient\n        da_prevt = gradients['da_prev']\n"
                   "        dc_prevt = gradients['dc_prev']\n")
            assert text.count(old) == 1
            text = text.replace(old, "        gradients = lstm_cell_backward(da[:, :, t], "
                                     "dc_prevt, caches[t])\n")
            # and da0 read from the last (first-step) gradients, as those solutions do
            assert text.count("    da0 = da_prevt\n") == 1
            c["source"] = text.replace("    da0 = da_prevt\n", "    da0 = gradients['da_prev']\n")
            path.write_text(json.dumps(notebook), encoding="utf-8")
        report = report_of(str(path), ("lstm",))
        (result,) = [f for f in report.functions if f.name == "lstm_backward"]
        self.assertEqual(result.status, FAIL)
        text = describe_function(result)
        self.assertIn("nothing is carried back through time", text)
        self.assertIn("v3 notebook's expected output for lstm_backward", text)
        self.assertNotIn("sum over all timesteps", text)


class Sizes(unittest.TestCase):
    def test_each_size_at_one(self):
        report = report_of(str(EDITIONS / MODULES["W1A1"]))
        labels = {c.case_description.split(" [")[0] for c in report.checks}
        for label in ("N=1", "T=1", "D=1", "H=1"):
            self.assertIn(label, labels)
