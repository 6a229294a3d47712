"""Stacked and bidirectional networks beyond the catalog: the layers' API, the one-layer
layer unchanged, carried state and single steps, the language model with ``--layers``.

The catalog (``rnn_stacked``, ``lstm_stacked``, ``gru_stacked``) compares the functions
with torch case by case; here the layers are compared with the same torch modules
(built from ``layer.params`` by torch_ref.layout) and with the functions.
"""
import json
import unittest

import numpy as np
import pytest
from parameterized import parameterized

import numpy_rnn
from numpy_rnn import functional as F
from numpy_rnn.core.gradcheck import eval_numerical_gradient_array, rel_error
from numpy_rnn.lm.checkpoint import load_checkpoint, metadata_path, save_checkpoint
from numpy_rnn.lm.corpus import Corpus
from numpy_rnn.lm.model import LanguageModel

N, T, D, H = 2, 5, 3, 4
CELLS = {"RNN": "rnn", "LSTM": "lstm", "GRU": "gru"}
NETWORKS = [(1, True), (2, False), (2, True), (3, True)]
LAYER_CASES = [(f"{cls}_{L}_layers{'_bidirectional' if bi else ''}", cls, L, bi)
               for cls in CELLS for L, bi in NETWORKS]


def _x(dtype=np.float64, seed=1, T=T):
    return np.random.default_rng(seed).standard_normal((N, T, D)).astype(dtype)


class LayerApi(unittest.TestCase):
    @parameterized.expand(LAYER_CASES)
    def test_params_are_torch_names_in_numpy_layout(self, _, cls, L, bi):
        layer = getattr(numpy_rnn, cls)(D, H, num_layers=L, bidirectional=bi, rng=0)
        names = F.stacked_weight_names(CELLS[cls], L, bi)
        self.assertEqual(tuple(layer.params), names)
        self.assertEqual(set(layer.grads), set(names))
        dirs = 2 if bi else 1
        G = layer.gates * H
        for name, value in layer.params.items():
            rows = D if name.startswith("Wx_l0") else dirs * H if name.startswith("Wx") else H
            expected = (rows, G) if name.startswith("W") else (G,)
            self.assertEqual(value.shape, expected, name)
        self.assertEqual((layer.output_dim, layer.directions, layer.stacked),
                         (dirs * H, dirs, True))

    @parameterized.expand(LAYER_CASES)
    def test_forward_backward_shapes_and_grads_of_the_functions(self, _, cls, L, bi):
        layer = getattr(numpy_rnn, cls)(D, H, num_layers=L, bidirectional=bi, rng=0)
        dirs = 2 if bi else 1
        x = _x()
        h0 = np.random.default_rng(2).standard_normal((L * dirs, N, H))
        h = layer.forward(x, h0)
        self.assertEqual(h.shape, (N, T, dirs * H))
        dh = np.random.default_rng(3).standard_normal(h.shape)
        dx, dh0 = layer.backward(dh)
        self.assertEqual((dx.shape, dh0.shape), (x.shape, h0.shape))
        forward = getattr(F, f"{CELLS[cls]}_stacked_forward")
        backward = getattr(F, f"{CELLS[cls]}_stacked_backward")
        *outs, cache = forward(x, h0, **layer.params)
        np.testing.assert_array_equal(h, outs[0])
        grads = backward(dh, *([None] * (len(outs) - 1)), cache)
        np.testing.assert_array_equal(dx, grads[0])
        np.testing.assert_array_equal(dh0, grads[1])
        for name, value in zip(layer.params, grads[len(outs):], strict=True):
            np.testing.assert_array_equal(layer.grads[name], value, err_msg=name)

    @parameterized.expand([(cls,) for cls in CELLS])
    def test_h0_is_optional_and_means_zeros(self, cls):
        layer = getattr(numpy_rnn, cls)(D, H, num_layers=2, bidirectional=True, rng=0)
        x = _x()
        np.testing.assert_array_equal(layer.forward(x), layer.forward(x, np.zeros((4, N, H))))

    @parameterized.expand([(cls, dt) for cls in CELLS for dt in ("float32", "float64")])
    def test_dtype_is_kept(self, cls, dtype):
        layer = getattr(numpy_rnn, cls)(D, H, num_layers=2, bidirectional=True, rng=0,
                                        dtype=dtype)
        h = layer.forward(_x(dtype))
        dx, dh0 = layer.backward(np.ones_like(h))
        for value in (h, dx, dh0, *layer.grads.values()):
            self.assertEqual(value.dtype, np.dtype(dtype))

    @parameterized.expand([
        ("zero layers", dict(num_layers=0), "num_layers must be a positive integer, got 0"),
        ("float layers", dict(num_layers=2.0), "num_layers"),
        ("bidirectional not a bool", dict(bidirectional="yes"),
         "bidirectional must be True or False, got 'yes'"),
    ])
    def test_constructor_rejects_bad_arguments(self, _, kwargs, message):
        for cls in CELLS:
            with self.assertRaisesRegex(ValueError, f"{cls}: {message}"):
                getattr(numpy_rnn, cls)(D, H, **kwargs)

    def test_h0_of_one_layer_is_refused_by_name(self):
        layer = numpy_rnn.LSTM(D, H, num_layers=2, bidirectional=True, rng=0)
        with self.assertRaisesRegex(ValueError, r"h0 must be 3-D with shape \(L\*dirs, N, H\)"):
            layer.forward(_x(), np.zeros((N, H)))


class OneLayerUnchanged(unittest.TestCase):
    @parameterized.expand([(cls,) for cls in CELLS])
    def test_default_is_the_one_layer_layer(self, cls):
        make = getattr(numpy_rnn, cls)
        default, explicit = make(D, H, rng=0), make(D, H, rng=0, num_layers=1,
                                                    bidirectional=False)
        names = ("Wx", "Wh", *make.biases)
        self.assertEqual(tuple(default.params), names)
        self.assertFalse(default.stacked)
        for name in names:
            np.testing.assert_array_equal(default.params[name], explicit.params[name])
        x = _x()
        one = getattr(F, f"{CELLS[cls]}_forward")(x, np.zeros((N, H)),
                                                  *(default.params[k] for k in names))[0]
        np.testing.assert_array_equal(default.forward(x), one)  # the one-layer function
        dx, dh0 = default.backward(np.ones_like(one))
        self.assertEqual((dx.shape, dh0.shape), ((N, T, D), (N, H)))

    @parameterized.expand([(cls,) for cls in CELLS])
    def test_one_layer_equals_the_stacked_network_of_one_layer(self, cls):
        layer = getattr(numpy_rnn, cls)(D, H, rng=0)
        x, h0 = _x(), np.random.default_rng(4).standard_normal((N, H))
        h = layer.forward(x, h0)
        dh = np.random.default_rng(5).standard_normal(h.shape)
        dx, dh0 = layer.backward(dh)
        cell = CELLS[cls]
        weights = dict(zip(F.stacked_weight_names(cell, 1),
                           (layer.params[k] for k in ("Wx", "Wh", *layer.biases)), strict=True))
        *outs, cache = getattr(F, f"{cell}_stacked_forward")(x, h0[None], **weights)
        grads = getattr(F, f"{cell}_stacked_backward")(dh, *([None] * (len(outs) - 1)), cache)
        np.testing.assert_allclose(outs[0], h, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(outs[1][0], h[:, -1], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(grads[0], dx, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(grads[1][0], dh0, rtol=1e-11, atol=1e-13)
        for name, value in zip(("Wx", "Wh", *layer.biases), grads[len(outs):], strict=True):
            np.testing.assert_allclose(value, layer.grads[name], rtol=1e-11, atol=1e-13,
                                       err_msg=name)


class CarriedState(unittest.TestCase):
    @parameterized.expand([(cls, L) for cls in CELLS for L in (1, 3)])
    def test_run_in_chunks_equals_one_forward(self, cls, L):
        layer = getattr(numpy_rnn, cls)(D, H, num_layers=L, rng=0)
        x = _x()
        h, _ = layer.run(x[:, :2])
        rest, state = layer.run(x[:, 2:], _)
        np.testing.assert_allclose(np.concatenate([h, rest], axis=1), layer.forward(x),
                                   rtol=1e-12, atol=1e-14)
        self.assertEqual(len(state), layer.state_size)

    @parameterized.expand([(cls,) for cls in CELLS])
    def test_steps_equal_the_forward_pass(self, cls):
        layer = getattr(numpy_rnn, cls)(D, H, num_layers=3, rng=0)
        x = _x()
        state = layer.initial_state(N)
        self.assertEqual(state[0].shape, (3, N, H))
        for t in range(T):
            state = layer.step(x[:, t], state)
        h, final = layer.run(x)
        np.testing.assert_allclose(state[0][-1], h[:, -1], rtol=1e-12, atol=1e-14)
        for got, want in zip(state, final, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)

    def test_a_bidirectional_layer_has_no_step(self):
        layer = numpy_rnn.GRU(D, H, bidirectional=True, rng=0)
        with self.assertRaisesRegex(ValueError, "bidirectional layer has no single step"):
            layer.step(_x()[:, 0], layer.initial_state(N))

    def test_lstm_c0_none_means_zeros_and_final_gradients_none_mean_zeros(self):
        layer = numpy_rnn.LSTM(D, H, num_layers=2, bidirectional=True, rng=0)
        x, h0 = _x(), np.random.default_rng(6).standard_normal((4, N, H))
        h, h_n, c_n, cache = F.lstm_stacked_forward(x, h0, **layer.params)
        zeros = np.zeros_like(h0)
        h2, h_n2, c_n2, cache2 = F.lstm_stacked_forward(x, h0, zeros, **layer.params)
        for a, b in ((h, h2), (h_n, h_n2), (c_n, c_n2)):
            np.testing.assert_array_equal(a, b)
        dh = np.ones_like(h)
        for a, b in zip(F.lstm_stacked_backward(dh, None, None, cache),
                        F.lstm_stacked_backward(dh, zeros, zeros, cache2), strict=True):
            np.testing.assert_array_equal(a, b)


class ResetBefore(unittest.TestCase):
    """The GRU's original formulation has no torch module: central differences check it."""

    def test_stacked_gru_reset_before_matches_central_differences(self):
        layer = numpy_rnn.GRU(2, 2, num_layers=2, bidirectional=True, rng=0, reset_after=False)
        rng = np.random.default_rng(7)
        x, h0 = rng.standard_normal((2, 3, 2)), rng.standard_normal((4, 2, 2))
        h, h_n, cache = F.gru_stacked_forward(x, h0, reset_after=False, **layer.params)
        dh, dh_n = rng.standard_normal(h.shape), rng.standard_normal(h_n.shape)
        analytic = F.gru_stacked_backward(dh, dh_n, cache)
        inputs = {"x": x, "h0": h0, **layer.params}

        def outputs(k):
            return lambda _: F.gru_stacked_forward(reset_after=False, **inputs)[k]
        for name, grad in zip(inputs, analytic, strict=True):
            numeric = (eval_numerical_gradient_array(outputs(0), inputs[name], dh)
                       + eval_numerical_gradient_array(outputs(1), inputs[name], dh_n))
            self.assertLess(rel_error(numeric, grad), 1e-7, name)
        np.testing.assert_array_equal(layer.forward(x, h0), h)


class LayersAgainstTorch(unittest.TestCase):
    """A stacked layer's params build the torch module directly (torch_ref.layout)."""

    @parameterized.expand(LAYER_CASES)
    def test_layer_matches_torch(self, _, cls, L, bi):
        torch = pytest.importorskip("torch", reason="the torch reference needs torch")
        from torch_ref import layout

        layer = getattr(numpy_rnn, cls)(D, H, num_layers=L, bidirectional=bi, rng=0)
        module = layout.make_stacked(CELLS[cls], layer.params)
        self.assertEqual((module.num_layers, module.bidirectional), (L, bi))
        x = _x()
        h0 = np.random.default_rng(8).standard_normal((L * (2 if bi else 1), N, H))
        h = layer.forward(x, h0)
        dh = np.random.default_rng(9).standard_normal(h.shape)
        dx, dh0 = layer.backward(dh)
        xt, h0t = layout.tensor(x, True), layout.stacked_state(h0)
        state = (h0t, torch.zeros_like(h0t)) if cls == "LSTM" else h0t
        out, _ = module(xt, state)
        out.backward(layout.tensor(dh))
        np.testing.assert_allclose(h, layout.to_numpy(out), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(dx, layout.to_numpy(xt.grad), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(dh0, layout.to_numpy(h0t.grad), rtol=1e-7, atol=1e-9)
        for name, grad in layout.stacked_grads(module).items():
            np.testing.assert_allclose(layer.grads[name], grad, rtol=1e-7, atol=1e-9,
                                       err_msg=name)


TEXT = "the cat sat on the mat . the dog sat on the log . the cat saw the dog .\n" * 3


class StackedLanguageModel(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    @parameterized.expand([(cell,) for cell in CELLS.values()])
    def test_names_training_steps_and_text_predictions(self, cell):
        corpus = Corpus.from_text(TEXT)
        V = len(corpus.vocab)
        model = LanguageModel(V, 4, 6, cell=cell, rng=0, num_layers=2)
        self.assertEqual(model.config()["num_layers"], 2)
        self.assertEqual(set(model.params), set(LanguageModel.parameter_shapes(
            V, 4, 6, cell=cell, num_layers=2)))
        self.assertIn("rnn.Wx_l1", model.params)
        self.assertEqual(model.params["rnn.Wx_l1"].shape[0], 6)  # reads layer 0's H outputs
        ids = corpus.ids
        words, targets = ids[None, :-1][:, :12], ids[None, 1:][:, :12]
        losses = []
        for _ in range(15):
            loss, grads = model.loss(words, targets)
            losses.append(loss)
            numpy_rnn.Adam(0.05).step(model.params, grads)
        self.assertLess(losses[-1], losses[0])
        # the whole text in chunks that carry every layer's state = one forward pass
        predicted = np.concatenate([p for _, p in model.predict_text(ids, chunk_words=7)])
        np.testing.assert_array_equal(predicted, model.predict(ids[None, :-1])[0])
        # greedy sampling steps the layers; the forward pass over its output agrees
        sample = model.sample(int(ids[0]), 8)
        np.testing.assert_array_equal(model.predict(sample[None, :-1])[0], sample[1:])

    def test_h0_has_a_layers_axis(self):
        model = LanguageModel(5, 3, 4, cell="lstm", rng=0, num_layers=3)
        words = np.array([[0, 1, 2]])
        h0 = np.random.default_rng(0).standard_normal((3, 1, 4))
        self.assertEqual(model.forward(words, h0).shape, (1, 3, 5))
        dh0 = model.backward(np.ones((1, 3, 5)))
        self.assertEqual(dh0.shape, (3, 1, 4))
        with self.assertRaisesRegex(ValueError, r"h0 must have shape \(3, 1, 4\)"):
            model.forward(words, np.zeros((1, 4)))

    @parameterized.expand([("lstm", np.float64), ("gru", np.float32)])
    def test_checkpoint_round_trip(self, cell, dtype):
        corpus = Corpus.from_text(TEXT)
        model = LanguageModel(len(corpus.vocab), 3, 4, cell=cell, rng=1, dtype=dtype,
                              num_layers=2)
        path = save_checkpoint(self.tmp / "model.npz", model, corpus.vocab)
        loaded, vocab, metadata = load_checkpoint(path)
        self.assertEqual(loaded.config(), model.config())
        self.assertEqual(metadata["model"]["num_layers"], 2)
        with open(metadata_path(path), encoding="utf-8") as fh:
            self.assertEqual(json.load(fh)["model"]["num_layers"], 2)
        for k in model.params:
            np.testing.assert_array_equal(loaded.params[k], model.params[k])
        words = np.array([[0, 1, 2]])
        np.testing.assert_array_equal(loaded.forward(words), model.forward(words))

    def test_checkpoint_without_num_layers_is_one_layer(self):
        """Checkpoints written before models stacked have no num_layers: one layer."""
        corpus = Corpus.from_text(TEXT)
        model = LanguageModel(len(corpus.vocab), 3, 4, cell="rnn", rng=1)
        path = save_checkpoint(self.tmp / "model.npz", model, corpus.vocab)
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        metadata = json.loads(str(arrays["metadata"]))
        del metadata["model"]["num_layers"]
        arrays["metadata"] = np.array(json.dumps(metadata))
        np.savez(path, **arrays)
        loaded, _, _ = load_checkpoint(path)
        self.assertEqual(loaded.num_layers, 1)
        np.testing.assert_array_equal(loaded.params["rnn.Wx"], model.params["rnn.Wx"])

    def test_train_command_with_layers(self):
        from numpy_rnn.__main__ import main

        corpus = self.tmp / "corpus.txt"
        corpus.write_text(TEXT, encoding="utf-8")
        out = self.tmp / "run"
        code = main(["train", "--corpus", str(corpus), "--out", str(out), "--layers", "2",
                     "--cell", "gru", "--embed", "4", "--hidden", "5", "--timesteps", "5",
                     "--batch", "4", "--epochs", "2", "--quiet", "--no-plot"])
        self.assertEqual(code, 0)
        with open(out / "model.json", encoding="utf-8") as fh:
            saved = json.load(fh)
        self.assertEqual(saved["model"]["num_layers"], 2)
        self.assertEqual(saved["extra"]["settings"]["layers"], 2)
        with open(out / "history.json", encoding="utf-8") as fh:
            self.assertEqual(json.load(fh)["settings"]["layers"], 2)
        self.assertEqual(main(["sample", "--model", str(out / "model.npz"), "--start", "the",
                               "--length", "4"]), 0)
        with self.assertRaises(SystemExit) as ctx:  # argparse: exit status 2
            main(["train", "--corpus", str(corpus), "--out", str(out), "--layers", "0"])
        self.assertEqual(ctx.exception.code, 2)


if __name__ == "__main__":
    unittest.main()
