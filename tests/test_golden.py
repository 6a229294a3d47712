"""Golden fixtures: every value and threshold the documents print, run against numpy_rnn.

One test per record of fixtures/golden; plus the loader's errors on broken files and
proof that a wrong implementation makes the relevant records fail.
"""
import json
import math
import shutil
import tempfile
import types
import unittest
from pathlib import Path
from unittest import mock

import numpy as np
from parameterized import parameterized

import numpy_rnn.functional as F
from torch_ref.compare import golden
from torch_ref.compare.engine import ERROR, FAIL, PASS

RECORDS = golden.load_records()
BY_ID = {record["id"]: record for record in RECORDS}


def _name(func, _num, param):
    return f"{func.__name__}_{param.args[0]}"


def _training_fact_problems(record) -> list:
    """Relations between the printed training facts; each broken one is a transcription slip."""
    facts, problems = record["facts"], []
    if "input_text_size" in facts:
        if facts["predicted_words"] != facts["input_text_size"] - 1:
            problems.append("predicted_words != input_text_size - 1")
    if "training_accuracy_per_epoch" in facts:
        acc = np.asarray(facts["training_accuracy_per_epoch"])
        counts = acc * facts["accuracy_denominator"]
        if len(acc) != facts["max_epoch"] or not np.allclose(counts, np.round(counts),
                                                             rtol=0, atol=1e-6):
            problems.append("accuracies are not counts over accuracy_denominator per epoch")
        if facts["final_training_accuracy"] != acc[-1]:
            problems.append("final accuracy is not the last epoch's")
        if not math.isclose(facts["best_performance_percent"], 100 * acc.max(), rel_tol=1e-12):
            problems.append("best performance is not the best epoch")
        if not acc[-1] > facts["expected_training_accuracy_above"]:
            problems.append("final accuracy below the expected bound")
        corpus = BY_ID[facts["corpus"]]["facts"]
        if facts["accuracy_denominator"] != corpus["predicted_words"]:
            problems.append("accuracy denominator is not the corpus' predicted words")
        uniform = facts["T"] * math.log(corpus["input_word_number"])
        if abs(facts["loss_at_iteration"]["1"] - uniform) > 0.5:
            problems.append(f"first loss far from T ln(V) = {uniform:.2f}")
        if facts["iterations"] != facts["iterations_per_epoch"] * facts["max_epoch"]:
            problems.append("iterations != iterations_per_epoch * max_epoch")
    if "sample" in facts:
        words = facts["sample"].split()
        if len(words) != facts["text_length"] or words[0] != facts["start_word"]:
            problems.append("sample is not text_length words from start_word")
    return problems


class GoldenRecords(unittest.TestCase):
    # model_gradient_check records belong to the model's own tests (test_seq2one_golden.py)
    @parameterized.expand([(record["id"], record) for record in RECORDS
                           if record["kind"] != "model_gradient_check"], name_func=_name)
    def test_record(self, _id, record):
        if record["kind"] == "training_reference":
            self.assertEqual(_training_fact_problems(record), [])
            return
        results = golden.run_record(F, record)
        self.assertTrue(results)
        failed = [r for r in results if not r.passed]
        self.assertFalse(failed, "\n" + golden.format_results(failed))


class FixtureConsistency(unittest.TestCase):
    def test_every_document_with_values_has_records(self):
        documents = {record["document"] for record in RECORDS}
        self.assertEqual(documents, {"hw3_rnn_lstm_checks.txt",
                                     "language_modeling_assignment.txt",
                                     "seq2one_rnn_gradcheck_notebook.txt",
                                     "cs231n_captioning_notebooks.txt"})

    def test_records_of_other_sources_cite_them(self):
        for record in RECORDS:
            if record["document"].startswith("cs231n"):
                self.assertIn("ipynb", record["source"], record["id"])

    def test_document_errors_pass_their_own_thresholds(self):
        # the documents passed their own checks: a bound that rejects them is mis-transcribed
        for record in RECORDS:
            for check in record.get("checks", []):
                if "document_error" in check:
                    self.assertLess(check["document_error"], check["threshold"], record["id"])

    def test_printed_sanity_losses_lie_within_tolerance_of_analytic(self):
        sanity = [r for r in RECORDS if r["kind"] == "loss_sanity"
                  and "document_value" in r["checks"][0]]
        self.assertEqual(len(sanity), 3)
        for record in sanity:
            sizes, check = record["sizes"], record["checks"][0]
            analytic = sizes["T"] * sizes["p"] * math.log(sizes["V"])
            self.assertLess(abs(check["document_value"] - analytic), check["threshold"])

    def test_run_golden_skips_training_references_only(self):
        results = golden.run_golden(F, ["hw3_rnn_lstm_checks.txt"])
        self.assertEqual({r.record for r in results},
                         {r["id"] for r in RECORDS if r["document"] == "hw3_rnn_lstm_checks.txt"})
        self.assertTrue(all(r.status == PASS for r in results))


def _broken(mutate):
    """A copy of the hw3 fixture changed by ``mutate(data) -> data or text``."""
    def apply(path: Path):
        data = json.loads((golden.GOLDEN_DIR / "hw3_rnn_lstm_checks.json").read_text())
        result = mutate(data)
        path.write_text(result if isinstance(result, str) else json.dumps(result))
    return apply


def _drop(key, index=0):
    def mutate(data):
        del data["records"][index][key]
        return data
    return mutate


def _set(path, value, index=0):
    def mutate(data):
        target = data["records"][index]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return data
    return mutate


def _duplicate_id(data):
    data["records"][1]["id"] = data["records"][0]["id"]
    return data


class OpsFromTheCatalog(unittest.TestCase):
    def test_every_forward_backward_entry_is_an_op(self):
        from torch_ref.catalog import CATALOG

        pairs = [c.name for c in CATALOG.values()
                 if c.scope == "functional" and not c.options and len(c.signature) == 2]
        self.assertIn("gru_step", pairs)
        self.assertLessEqual(set(pairs), set(golden.OPS))

    def test_an_op_called_as_its_signature_says_passes_a_gradient_check(self):
        shapes = dict(x=[2, 4], prev_h=[2, 5], Wx=[4, 15], Wh=[5, 15], bx=[15], bh=[15])
        record = {"id": "gru step", "document": "none", "cell": "none",
                  "kind": "gradient_check", "op": "gru_step", "seed": 0,
                  "inputs": [{"name": n, "randn": s} for n, s in shapes.items()]
                  + [{"name": "dnext_h", "randn": [2, 5]}],
                  "upstream": {"next_h": "dnext_h"},
                  "checks": [{"grad": name, "threshold": 1e-6} for name in shapes]}
        golden.validate_record(record, "test")
        results = golden.run_record(F, record)
        self.assertEqual(len(results), len(shapes))
        self.assertTrue(all(r.passed for r in results), golden.format_results(results))


class FixtureErrors(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.dir)

    @parameterized.expand([
        ("missing_file", None, "not found"),
        ("invalid_json", _broken(lambda data: json.dumps(data)[:-7]), "not valid JSON"),
        ("no_records", _broken(lambda data: {"document": data["document"]}),
         "missing key(s) records"),
        ("record_without_cell", _broken(_drop("cell")), "missing key(s) cell"),
        ("record_without_inputs", _broken(_drop("inputs", 2)),
         "(hw3_rnn_step_backward): record is missing key(s) inputs"),
        ("unknown_kind", _broken(_set(["kind"], "forward_value")), "unknown kind"),
        ("unknown_op", _broken(_set(["op"], "attention_step")), "unknown op 'attention_step'"),
        ("input_without_builder", _broken(_set(["inputs", 0], {"name": "x"})),
         "input 'x': needs exactly one of"),
        ("check_without_threshold",
         _broken(_set(["checks", 0], {"output": "next_h", "metric": "rel_error"})),
         "check is missing key(s) threshold"),
        ("unknown_metric", _broken(_set(["checks", 0, "metric"], "max_error")),
         "unknown metric 'max_error'"),
        ("draw_without_seed", _broken(_drop("seed", 2)), "needs the record's seed"),
        ("duplicate_id", _broken(_duplicate_id), "already used"),
        ("unknown_output", _broken(_set(["checks", 0, "output"], "h")),
         "op rnn_step has no output 'h'"),
        ("gradient_of_unknown_input", _broken(_set(["checks", 0, "grad"], "h0", 2)),
         "refers to 'h0', not among its inputs"),
    ], name_func=_name)
    def test_error_names_the_file(self, _label, write, fragment):
        path = self.dir / "broken.json"
        if write is not None:
            write(path)
        with self.assertRaises(golden.GoldenFixtureError) as caught:
            golden.load_records([path])
        message = str(caught.exception)
        self.assertIn(str(path), message)
        self.assertIn(fragment, message)
        self.assertIsInstance(caught.exception, ValueError)

    def test_unknown_document_name(self):
        with self.assertRaisesRegex(golden.GoldenFixtureError,
                                    r"no_such_document\.json.*not found"):
            golden.load_records(["no_such_document"])


# ---- wrong implementations must fail the records that cover them -----------------------

def _api(**overrides):
    """numpy_rnn.functional with some functions replaced."""
    return types.SimpleNamespace(**{**{name: getattr(F, name) for name in F.__all__},
                                    **overrides})


def _rnn_step_without_recurrence(x, prev_h, Wx, Wh, b):
    next_h, cache = F.rnn_step_forward(x, prev_h, Wx, Wh, b)
    return np.tanh(x @ Wx + b), cache  # forgets prev_h @ Wh


def _rnn_backward_transposed_dWh(dh, cache):
    dx, dh0, dWx, dWh, db = F.rnn_backward(dh, cache)
    return dx, dh0, dWx, dWh.T, db


def _lstm_step_backward_dropping_dnext_c(dnext_h, dnext_c, cache):
    return F.lstm_step_backward(dnext_h, np.zeros_like(dnext_c), cache)


def _lstm_forward_with_gates_g_and_o_swapped(x, h0, Wx, Wh, b):
    H = h0.shape[1]
    order = np.r_[0:2 * H, 3 * H:4 * H, 2 * H:3 * H]
    return F.lstm_forward(x, h0, Wx[:, order], Wh[:, order], b[order])


def _loss_divided_by_time(x, y, mask):
    loss, dx = F.temporal_softmax_loss(x, y, mask)
    return loss / x.shape[1], dx / x.shape[1]


def _embedding_reversed_in_time(x, W):
    return F.word_embedding_forward(x[:, ::-1].copy(), W)


class WrongImplementationsFail(unittest.TestCase):
    @parameterized.expand([
        ("rnn_step_forward", _rnn_step_without_recurrence,
         {"hw3_rnn_step_forward": "next_h", "lm_rnn_step_forward": "next_h",
          "hw3_rnn_step_backward": "dprev_h"}),
        ("rnn_backward", _rnn_backward_transposed_dWh,
         {"hw3_rnn_backward": "dWh", "lm_rnn_backward": "dWh", "lm_test_rnn_gradcheck": "dWh"}),
        ("lstm_step_backward", _lstm_step_backward_dropping_dnext_c,
         {"hw3_lstm_step_backward": "dprev_c", "lm_lstm_step_backward": "dprev_c"}),
        ("lstm_forward", _lstm_forward_with_gates_g_and_o_swapped,
         {"hw3_lstm_forward": "h[0]", "lm_lstm_forward": "h", "lm_test_rnn_loss_lstm": "loss"}),
        ("temporal_softmax_loss", _loss_divided_by_time,
         {"lm_temporal_softmax_loss_sanity_N100_T10_V10_p1_0": "loss",
          "lm_test_rnn_loss_rnn": "loss"}),
        ("word_embedding_forward", _embedding_reversed_in_time,
         {"lm_word_embedding_forward": "out"}),
    ], name_func=_name)
    def test_relevant_records_fail(self, function, wrong, expected_failures):
        api = _api(**{function: wrong})
        for record_id, check in expected_failures.items():
            results = {r.check: r for r in golden.run_record(api, BY_ID[record_id])}
            self.assertEqual(results[check].status, FAIL, f"{record_id} {check}")
            self.assertGreaterEqual(results[check].error, results[check].threshold)

    def test_a_wrong_step_leaves_unrelated_checks_passing(self):
        api = _api(rnn_backward=_rnn_backward_transposed_dWh)
        results = {r.check: r.status for r in golden.run_record(api, BY_ID["hw3_rnn_backward"])}
        self.assertEqual(results, {"dx": PASS, "dh0": PASS, "dWx": PASS, "dWh": FAIL,
                                   "db": PASS})

    def test_missing_function_is_an_error_naming_it(self):
        api = _api()
        del api.lstm_step_forward
        (result,) = golden.run_record(api, BY_ID["lm_lstm_step_forward"])
        self.assertEqual(result.status, ERROR)
        self.assertIn("lstm_step_forward", result.message)

    def test_wrong_number_of_gradients_is_an_error_naming_the_function(self):
        api = _api(rnn_step_backward=lambda dnext_h, cache: F.rnn_step_backward(dnext_h,
                                                                                 cache)[:4])
        (result,) = golden.run_record(api, BY_ID["lm_rnn_step_backward"])
        self.assertEqual(result.status, ERROR)
        self.assertIn("rnn_step_backward returned 4 value(s), expected 5", result.message)

    def test_wrong_output_shape_fails_with_the_shapes(self):
        def transposed(x, prev_h, Wx, Wh, b):
            next_h, cache = F.rnn_step_forward(x, prev_h, Wx, Wh, b)
            return next_h.T, cache
        (result,) = golden.run_record(_api(rnn_step_forward=transposed),
                                      BY_ID["hw3_rnn_step_forward"])
        self.assertEqual(result.status, FAIL)
        self.assertIn("shape (4, 3), expected (3, 4)", result.message)


def _lstm_step_backward_adding_into_dnext_c(dnext_h, dnext_c, cache):
    grads = F.lstm_step_backward(dnext_h, dnext_c, cache)
    dnext_c += 1.0  # changes the caller's array after using it
    return grads


def _with_thresholds(record, threshold):
    record = json.loads(json.dumps(record))
    for check in record["checks"]:
        check["threshold"] = threshold
    return record


class NumericalGradientsNeverOverrideTorch(unittest.TestCase):
    @parameterized.expand([("hw3_lstm_backward",), ("lm_test_rnn_gradcheck",),
                           ("lm_temporal_softmax_loss_gradcheck",)])
    def test_a_correct_gradient_over_the_bound_passes_with_a_note(self, record_id):
        # a bound below the central difference's rounding noise, as on some CPUs
        record = _with_thresholds(BY_ID[record_id], 1e-13)
        results = golden.run_record(F, record)
        self.assertTrue(all(r.status == PASS for r in results))
        by = "torch autograd" if _has_torch() else golden._REFINED
        self.assertTrue(all(f"agrees with {by}" in r.note for r in results))
        self.assertTrue(all(r.error >= r.threshold for r in results))

    @parameterized.expand([("hw3_lstm_backward",), ("lm_test_rnn_gradcheck",)])
    def test_without_torch_a_finer_difference_is_the_second_opinion(self, record_id):
        record = _with_thresholds(BY_ID[record_id], 1e-13)
        with mock.patch.object(golden, "torch_agreement", return_value={}):
            right = golden.run_record(F, record)
            wrong = golden.run_record(_api(**{name: _scaled(getattr(F, name)) for name in (
                "lstm_backward", "rnn_backward")}), record)
        self.assertTrue(all(r.status == PASS and golden._REFINED in r.note for r in right))
        self.assertTrue(all(r.status == FAIL and not r.note for r in wrong))

    def test_a_wrong_gradient_over_the_bound_still_fails(self):
        api = _api(lstm_backward=lambda dh, cache: tuple(
            g * 1.001 for g in F.lstm_backward(dh, cache)))
        results = golden.run_record(api, BY_ID["hw3_lstm_backward"])
        self.assertTrue(all(r.status == FAIL and not r.note for r in results))

    def test_numerical_gradients_are_taken_on_the_documents_arrays(self):
        api = _api(lstm_step_backward=_lstm_step_backward_adding_into_dnext_c)
        for record_id in ("hw3_lstm_step_backward", "lm_lstm_step_backward"):
            results = golden.run_record(api, BY_ID[record_id])
            self.assertEqual({r.status for r in results}, {PASS}, record_id)
            self.assertFalse(any(r.note for r in results), record_id)


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _scaled(backward, factor=1.0 + 1e-5):
    """``backward`` with every gradient off by a relative ``factor - 1``."""
    return lambda *args: tuple(g * factor for g in backward(*args))


class FaithfulReplay(unittest.TestCase):
    def test_a_cell_building_a_layer_draws_its_inputs_after_the_constructor(self):
        record = BY_ID["hw3_lstm_backward"]
        built = []

        def constructor(class_name, args, seed):
            # where the module runs: seeded, then a constructor drawing its weights
            built.append((class_name, args))
            stream = np.random.RandomState(seed)
            stream.randn(7)
            return stream.get_state()

        api = _api(document_constructor=constructor)
        state = np.random.get_state()
        inputs = golden.build_inputs(record, api)
        after = np.random.get_state()
        self.assertEqual(built, [("LSTMLayer", (3, 6))])
        stream = np.random.RandomState(record["seed"])
        stream.randn(7)
        np.testing.assert_array_equal(inputs["x"], stream.randn(2, 10, 3))
        self.assertTrue(all(np.array_equal(a, b) for a, b in zip(state, after, strict=True)))

    def test_without_a_constructor_the_draws_start_at_the_seed(self):
        record = BY_ID["hw3_lstm_backward"]
        inputs = golden.build_inputs(record, F)
        np.testing.assert_array_equal(inputs["x"],
                                      np.random.RandomState(record["seed"]).randn(2, 10, 3))
