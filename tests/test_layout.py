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
    @parameterized.expand([("rnn", 1, layout.make_rnn_cell), ("lstm", 4, layout.make_lstm_cell)])
    def test_cell_weights_read_back(self, _, gates, make):
        rng = np.random.default_rng(0)
        D, H = 3, 2
        Wx, Wh, b = (rng.standard_normal(s) for s in ((D, gates * H), (H, gates * H),
                                                      (gates * H,)))
        cell = make(Wx, Wh, b)
        for p in cell.parameters():
            p.grad = p.detach().clone()  # gradient == weight, so reading grads reads weights
        back = layout.recurrent_grads(cell)
        for got, want in zip(back, (Wx, Wh, b), strict=True):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(cell.bias_hh.detach().numpy(), np.zeros(gates * H))

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
