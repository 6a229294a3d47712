"""The layout module: gate reordering and weight round trips through torch modules."""
import unittest

import numpy as np
import pytest
from parameterized import parameterized

from torch_ref import layout

torch = pytest.importorskip("torch", reason="building torch modules needs torch")


class GateOrder(unittest.TestCase):
    def test_reorder_moves_output_gate_after_cell_candidate(self):
        H = 2
        blocks = np.repeat(np.arange(4), H)  # 0=i 1=f 2=o 3=g in numpy order
        self.assertEqual(layout.lstm_to_torch_order(blocks, H).tolist(),
                         [0, 0, 1, 1, 3, 3, 2, 2])

    @parameterized.expand([(1,), (3,)])
    def test_round_trip(self, H):
        a = np.random.default_rng(H).standard_normal((5, 4 * H))
        there = layout.lstm_to_torch_order(a, H, axis=1)
        np.testing.assert_array_equal(layout.lstm_from_torch_order(there, H, axis=1), a)

    def test_gate_of_index(self):
        self.assertEqual([layout.gate_of(i, 3) for i in (0, 3, 6, 11)], ["i", "f", "o", "g"])


class ModulesHoldNumpyWeights(unittest.TestCase):
    @parameterized.expand([(f"{name}_{'cell' if step else 'sequence'}", name, step)
                           for name in layout.CELLS for step in (True, False)])
    def test_weights_read_back(self, _, name, step):
        spec = layout.CELLS[name]
        rng = np.random.default_rng(0)
        D, H = 3, 2
        G = spec.width * H
        arrays = [rng.standard_normal(s) for s in ((D, G), (H, G), *[(G,)] * len(spec.biases))]
        module = layout.make_recurrent(name, *arrays, step=step)
        for p in module.parameters():
            p.grad = p.detach().clone()  # gradient == weight, so reading grads reads weights
        back = layout.recurrent_grads(module)
        for got, want in zip(back, arrays, strict=True):
            np.testing.assert_array_equal(got, want)
        if None in spec.torch_biases:  # the bias torch splits off is zero, not trained
            bias_hh = module.bias_hh if step else module.bias_hh_l0
            np.testing.assert_array_equal(bias_hh.detach().numpy(), np.zeros(G))
            self.assertFalse(any(p is bias_hh for p in layout.numpy_parameters(module)))
        self.assertEqual(len(layout.numpy_parameters(module)), 2 + len(spec.biases))

    @parameterized.expand([
        ("Wh rows", "rnn", ((3, 4), (1, 4), (4,)), "Wh", "(H, H) = (4, 4)"),
        ("Wx not 4H", "lstm", ((3, 6), (2, 8), (8,)), "Wx", "(D, 4H) = (3, 4H), got (3, 6)"),
        ("b size", "lstm", ((3, 8), (2, 8), (4,)), "b", "(4H,) = (8,)"),
        ("bh size", "gru", ((3, 6), (2, 6), (6,), (5,)), "bh", "(3H,) = (6,)"),
        ("missing bias", "gru", ((3, 6), (2, 6), (6,)), "biases", "bx, bh"),
    ])
    def test_copies_check_shapes(self, _, name, shapes, argument, expected):
        # copy_ would broadcast a (1, 4) Wh into a 4x4 weight_hh: the shapes are checked
        arrays = [np.ones(s) for s in shapes]
        with self.assertRaises(ValueError) as ctx:
            layout.make_recurrent(name, *arrays)
        self.assertIn(argument, str(ctx.exception))
        self.assertIn(expected, str(ctx.exception))

    def test_make_rnn_names_the_argument(self):
        with self.assertRaisesRegex(ValueError, r"make_rnn: Wh must have shape"):
            layout.make_rnn(np.ones((3, 4)), np.ones((1, 4)), np.ones(4))

    def test_linear_computes_x_w_plus_b(self):
        rng = np.random.default_rng(1)
        x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
        out = layout.make_linear(w, b)(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(out, x @ w + b, rtol=1e-12)

    def test_float32_modules(self):
        w = np.ones((3, 2), np.float32)
        self.assertEqual(layout.make_linear(w, np.zeros(2, np.float32)).weight.dtype,
                         torch.float32)

    def test_rejects_other_dtypes(self):
        with self.assertRaisesRegex(ValueError, "float32 or float64"):
            layout.torch_dtype(np.int64)
