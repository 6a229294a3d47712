"""The language model and the recurrent scorer: golden losses, numerical gradients, sampling."""
import json
import os
import unittest

import numpy as np
import pytest
from parameterized import parameterized

from numpy_rnn.core.gradcheck import eval_numerical_gradient, rel_error
from numpy_rnn.functional import temporal_softmax_loss
from numpy_rnn.lm.model import LanguageModel, RecurrentScorer

GOLDEN = os.path.join(os.path.dirname(__file__), os.pardir, "fixtures", "golden",
                      "language_modeling_assignment.json")

# The assignment's TestRNN checks (In [10] and In [16]): loss within 1e-9 of these.
DOCUMENT_LOSS = {"rnn": 51.0949189134, "lstm": 49.2140256354}


def _scorer_with_linspace_params(cell):
    N, D, H, T = 10, 20, 40, 13
    model = RecurrentScorer(D, H, cell=cell)
    for name, value in model.params.items():
        model.params[name] = np.linspace(-1.4, 1.3, num=value.size).reshape(value.shape)
    x = np.linspace(-1.5, 0.3, num=N * T * D).reshape(N, T, D)
    h0 = np.linspace(-1.5, 0.5, num=N * H).reshape(N, H)
    labels = (np.arange(N * T) % 4).reshape(N, T)
    return model, x, h0, labels, np.ones((N, T))


class GoldenTestRNN(unittest.TestCase):
    @parameterized.expand([("rnn",), ("lstm",)])
    def test_document_loss(self, cell):
        model, x, h0, labels, mask = _scorer_with_linspace_params(cell)
        loss, _ = model.loss(x, h0, labels, mask)
        self.assertLess(abs(loss - DOCUMENT_LOSS[cell]), 1e-9)

    @parameterized.expand([("rnn", "lm_test_rnn_loss_rnn"), ("lstm", "lm_test_rnn_loss_lstm")])
    def test_golden_fixture_record(self, cell, record_id):
        if not os.path.exists(GOLDEN):
            pytest.skip("fixtures/golden/language_modeling_assignment.json not present")
        with open(GOLDEN, encoding="utf-8") as fh:
            records = {r["id"]: r for r in json.load(fh)["records"]}
        record = records[record_id]
        inputs = {}
        for spec in record["inputs"]:
            if "linspace" in spec:
                ls = spec["linspace"]
                inputs[spec["name"]] = np.linspace(ls["start"], ls["stop"],
                                                   num=ls["num"]).reshape(ls["shape"])
            elif "arange_mod" in spec:
                am = spec["arange_mod"]
                inputs[spec["name"]] = (np.arange(am["num"]) % am["mod"]).reshape(am["shape"])
            else:
                inputs[spec["name"]] = np.ones(spec["ones"])
        s = record["sizes"]
        model = RecurrentScorer(s["D"], s["H"], cell=cell)
        model.set_params({f"rnn.{k}": inputs[k] for k in ("Wx", "Wh", "b")})
        loss, _ = model.loss(inputs["features"], inputs["h0"], inputs["y"], inputs["mask"])
        (check,) = record["checks"]
        self.assertLess(abs(loss - record["expected"]["loss"]), check["threshold"])


def _lm_case(cell, seed=0, V=5, N=2, T=3, D=3, H=4, masked=True):
    model = LanguageModel(V, D, H, cell=cell, rng=seed)
    # the case's own stream: independent of how many numbers the initialisation draws
    rng = np.random.default_rng([seed, 1])
    # larger than the 0.02 initialisation so that every gradient is far from zero
    model.set_params({k: rng.standard_normal(v.shape) * (0.5 if k != "embed.W" else 1.0)
                      for k, v in model.params.items()})
    words, targets = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    mask = rng.random((N, T)) < 0.7 if masked else np.ones((N, T), bool)
    mask[0, 0] = True
    return model, words, targets, mask


def _assert_numerical_grads(model, loss, atol: float, label: str) -> None:
    """Every gradient of ``loss() -> (loss, grads)`` against central differences over
    ``model.params`` (rtol 1e-6, ``atol``)."""
    grads = {k: v.copy() for k, v in loss()[1].items()}
    for name, value in model.params.items():
        num = eval_numerical_gradient(lambda _: loss()[0], value)
        np.testing.assert_allclose(grads[name], num, rtol=1e-6, atol=atol,
                                   err_msg=f"{label} {name}")


class NumericalGradients(unittest.TestCase):
    @parameterized.expand([(cell, masked) for cell in ("rnn", "lstm") for masked in (True, False)])
    def test_language_model(self, cell, masked):
        model, words, targets, mask = _lm_case(cell, masked=masked)
        # central differences (h=1e-5) carry ~1e-10 absolute error, which is large
        # relative to near-zero entries: compare elementwise with both tolerances
        _assert_numerical_grads(model, lambda: model.loss(words, targets, mask), 1e-9, cell)

    def test_language_model_h0(self):
        model, words, targets, mask = _lm_case("lstm", seed=3)
        h0 = np.random.default_rng(1).standard_normal((2, 4))
        scores = model.forward(words, h0)
        _, dscores = temporal_softmax_loss(scores, targets, mask)
        dh0 = model.backward(dscores)
        num = eval_numerical_gradient(
            lambda _: temporal_softmax_loss(model.forward(words, h0), targets, mask)[0], h0)
        self.assertLess(rel_error(num, dh0), 1e-6)

    # LSTM gate products leave some weight gradients below 1e-6, where the ~1e-11
    # noise of central differences alone exceeds a relative error of 1e-7: an
    # absolute floor far below the gradients' scale (1e-3) keeps the check strict
    @parameterized.expand([("rnn",), ("lstm",)])
    def test_recurrent_scorer(self, cell):
        rng = np.random.default_rng(231)
        model = RecurrentScorer(4, 6, cell=cell, rng=rng)
        # scaled so that the LSTM gates are not saturated (tiny gradients, large rel. error)
        model.set_params({k: 0.5 * rng.standard_normal(v.shape) for k, v in model.params.items()})
        x, h0 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 6))
        labels = rng.integers(0, 4, (2, 3))
        _assert_numerical_grads(model, lambda: model.loss(x, h0, labels), 1e-10, cell)


class ModelBehaviour(unittest.TestCase):
    @parameterized.expand([("rnn", 1), ("lstm", 4)])
    def test_parameter_names_shapes_and_initialisation(self, cell, gates):
        model = LanguageModel(11, 3, 5, cell=cell, rng=0)
        shapes = {k: v.shape for k, v in model.params.items()}
        self.assertEqual(shapes, {"embed.W": (11, 3), "rnn.Wx": (3, gates * 5),
                                  "rnn.Wh": (5, gates * 5), "rnn.b": (gates * 5,),
                                  "out.W": (5, 11), "out.b": (11,)})
        bound = 1 / np.sqrt(5)  # recurrent and output parameters ~ U(-1/sqrt(H), 1/sqrt(H))
        for name in ("rnn.Wx", "rnn.Wh", "rnn.b", "out.W", "out.b"):
            values = model.params[name]
            self.assertTrue(np.all(np.abs(values) <= bound) and values.std() > bound / 4, name)
        self.assertEqual(set(model.grads), set(model.params))

    def test_same_seed_same_weights(self):
        a, b, c = (LanguageModel(7, 3, 4, rng=s) for s in (1, 1, 2))
        for k in a.params:
            np.testing.assert_array_equal(a.params[k], b.params[k])
        self.assertFalse(np.array_equal(a.params["rnn.Wx"], c.params["rnn.Wx"]))

    @parameterized.expand([("rnn",), ("lstm",)])
    def test_float32_preserved(self, cell):
        model = LanguageModel(6, 3, 4, cell=cell, rng=0, dtype=np.float32)
        words = np.array([[1, 2, 3], [0, 5, 4]])
        self.assertEqual(model.forward(words).dtype, np.float32)
        loss, grads = model.loss(words, np.roll(words, -1, 1))
        self.assertTrue(np.isfinite(loss))
        self.assertTrue(all(g.dtype == np.float32 for g in grads.values()))

    def test_inputs_not_modified(self):
        model, words, targets, mask = _lm_case("lstm")
        copies = [a.copy() for a in (words, targets, mask)]
        model.loss(words, targets, mask)
        for before, after in zip(copies, (words, targets, mask), strict=True):
            np.testing.assert_array_equal(before, after)

    def test_replaced_param_array_is_used(self):
        model, words, targets, mask = _lm_case("rnn")
        before = model.forward(words)
        model.params["out.b"] = model.params["out.b"] + 1.0  # a new array, not in place
        np.testing.assert_allclose(model.forward(words), before + 1.0, rtol=1e-12)

    def test_mask_zero_positions_do_not_count(self):
        model, words, targets, _ = _lm_case("rnn", N=2, T=4)
        mask = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], bool)
        other = targets.copy()
        other[~mask] = (other[~mask] + 1) % model.vocab_size  # change only masked targets
        self.assertEqual(model.loss(words, targets, mask)[0], model.loss(words, other, mask)[0])

    @parameterized.expand([
        ("word out of range", dict(words=[[0, 5]]), IndexError, r"words: word id 5 out of range"),
        ("negative word", dict(words=[[0, -1]]), IndexError, r"words: word id -1"),
        ("float words", dict(words=[[0.0, 1.0]]), ValueError, "integer word ids"),
        ("1-D words", dict(words=[0, 1]), ValueError, r"shape \(N, T\)"),
        ("targets shape", dict(targets=[[0, 1, 2]]), ValueError,
         r"targets must have shape \(1, 2\)"),
        ("target out of range", dict(targets=[[0, 9]]), IndexError, "targets: word id 9"),
        ("mask shape", dict(mask=np.ones((2, 2))), ValueError, r"mask must have shape \(1, 2\)"),
        ("h0 shape", dict(h0=np.zeros((1, 3))), ValueError, r"h0 must have shape \(1, 4\)"),
    ])
    def test_bad_input(self, _, change, error, message):
        model = LanguageModel(5, 3, 4, rng=0)
        args = dict(words=[[0, 1]], targets=[[1, 2]], mask=None, h0=None)
        args.update(change)
        with self.assertRaisesRegex(error, message):
            model.loss(np.array(args["words"]), np.array(args["targets"]), args["mask"],
                       h0=args["h0"])

    @parameterized.expand([
        ("cell", dict(cell="transformer"), "cell must be one of"),
        ("vocab", dict(vocab_size=0), "vocab_size must be a positive integer"),
        ("dtype", dict(dtype=np.int32), "dtype must be float32 or float64"),
    ])
    def test_bad_constructor(self, _, change, message):
        kwargs = dict(vocab_size=5, embed_dim=3, hidden_dim=4)
        kwargs.update(change)
        with self.assertRaisesRegex(ValueError, message):
            LanguageModel(**kwargs)

    def test_set_params_errors(self):
        model = LanguageModel(5, 3, 4, rng=0)
        values = model.get_params()
        values["out.W"] = values["out.W"].T
        with self.assertRaisesRegex(ValueError, r"values\['out.W'\] has shape \(5, 4\), "
                                                r"expected \(4, 5\)"):
            model.set_params(values)
        del values["out.W"]
        with self.assertRaisesRegex(ValueError, r"missing \['out.W'\]"):
            model.set_params(values)

    def test_backward_before_forward(self):
        with self.assertRaisesRegex(RuntimeError, "before forward"):
            LanguageModel(5, 3, 4, rng=0).backward(np.zeros((1, 2, 5)))


class Sampling(unittest.TestCase):
    @parameterized.expand([("rnn",), ("lstm",)])
    def test_greedy_is_argmax_of_the_whole_prefix(self, cell):
        model, *_ = _lm_case(cell, V=9, D=4, H=6)
        ids = model.sample(3, 12)
        self.assertEqual((ids.shape, ids[0]), ((12,), 3))
        # independently: run the generated prefix as one sequence, argmax at each step
        scores = model.forward(ids[None, :-1])
        np.testing.assert_array_equal(np.argmax(scores[0], axis=-1), ids[1:])

    def test_temperature_sampling_is_seeded(self):
        model, *_ = _lm_case("lstm", V=9)
        a = model.sample(0, 30, temperature=1.0, rng=4)
        np.testing.assert_array_equal(a, model.sample(0, 30, temperature=1.0, rng=4))
        self.assertFalse(np.array_equal(a, model.sample(0, 30, temperature=1.0, rng=5)))
        self.assertFalse(np.array_equal(a, model.sample(0, 30)))

    def test_low_temperature_is_greedy(self):
        model, *_ = _lm_case("rnn", V=9)
        np.testing.assert_array_equal(model.sample(2, 15, temperature=1e-4, rng=0),
                                      model.sample(2, 15))

    def test_length_one_is_the_start_word(self):
        self.assertEqual(LanguageModel(4, 2, 3, rng=0).sample(2, 1).tolist(), [2])

    @parameterized.expand([("start", dict(start=4), IndexError, r"start must be a word id"),
                           ("length", dict(length=0), ValueError, "length"),
                           ("temperature", dict(temperature=-1.0), ValueError, "temperature")])
    def test_bad_arguments(self, _, change, error, message):
        kwargs = dict(start=0, length=3)
        kwargs.update(change)
        with self.assertRaisesRegex(error, message):
            LanguageModel(4, 2, 3, rng=0).sample(**kwargs)
