"""Optimisers and gradient clipping: update rules and errors (NumPy only)."""
import unittest

import numpy as np
from parameterized import parameterized

from numpy_rnn.optim import SGD, Adam, clip_grad_norm


def _pair(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {"a.W": rng.standard_normal((3, 4)).astype(dtype),
              "a.b": rng.standard_normal(4).astype(dtype)}
    grads = {k: rng.standard_normal(v.shape).astype(dtype) for k, v in params.items()}
    return params, grads


class Updates(unittest.TestCase):
    def test_sgd_is_param_minus_lr_grad(self):
        params, grads = _pair()
        before = {k: v.copy() for k, v in params.items()}
        arrays = {k: id(v) for k, v in params.items()}
        SGD(0.1).step(params, grads)
        for k in params:
            np.testing.assert_allclose(params[k], before[k] - 0.1 * grads[k], rtol=1e-15)
            self.assertEqual(id(params[k]), arrays[k])  # updated in place

    def test_sgd_momentum_accumulates(self):
        params, grads = _pair()
        start = params["a.W"].copy()
        opt = SGD(0.1, momentum=0.5)
        g1, g2 = grads["a.W"].copy(), 2 * grads["a.W"]
        opt.step(params, grads)
        opt.step(params, {"a.W": g2, "a.b": grads["a.b"]})
        # buffer: g1, then 0.5 * g1 + g2
        np.testing.assert_allclose(params["a.W"], start - 0.1 * g1 - 0.1 * (0.5 * g1 + g2),
                                   rtol=1e-14)

    def test_adam_first_step_moves_each_entry_by_lr(self):
        # after one step m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps)
        params, grads = _pair(1)
        before = params["a.W"].copy()
        Adam(0.01).step(params, grads)
        g = grads["a.W"]
        np.testing.assert_allclose(params["a.W"], before - 0.01 * g / (np.abs(g) + 1e-8),
                                   rtol=1e-12)

    def test_zero_gradient_leaves_params(self):
        params, grads = _pair(2)
        before = {k: v.copy() for k, v in params.items()}
        zeros = {k: np.zeros_like(v) for k, v in grads.items()}
        for opt in (SGD(0.1, momentum=0.9), Adam(0.1)):
            opt.step(params, zeros)
        for k in params:
            np.testing.assert_array_equal(params[k], before[k])

    @parameterized.expand([("sgd", lambda: SGD(0.1, momentum=0.9)), ("adam", lambda: Adam(0.1))])
    def test_float32_stays_float32_and_grads_untouched(self, _, make):
        params, grads = _pair(3, np.float32)
        grads_before = {k: v.copy() for k, v in grads.items()}
        make().step(params, grads)
        self.assertTrue(all(v.dtype == np.float32 for v in params.values()))
        for k in grads:
            np.testing.assert_array_equal(grads[k], grads_before[k])


class Errors(unittest.TestCase):
    @parameterized.expand([("sgd", SGD), ("adam", Adam)])
    def test_missing_and_extra_keys(self, _, cls):
        params, grads = _pair()
        grads["b.W"] = grads.pop("a.b")
        with self.assertRaisesRegex(ValueError, r"no gradient for parameter\(s\) \['a.b'\]; "
                                                r"gradient\(s\) \['b.W'\] for no parameter"):
            cls(0.1).step(params, grads)

    def test_shape_mismatch_names_key_and_shapes(self):
        params, grads = _pair()
        grads["a.W"] = grads["a.W"].T
        with self.assertRaisesRegex(ValueError, r"grads\['a.W'\] has shape \(4, 3\), "
                                                r"expected \(3, 4\)"):
            Adam(0.1).step(params, grads)

    def test_none_gradient(self):
        params, grads = _pair()
        grads["a.b"] = None
        with self.assertRaisesRegex(ValueError, r"grads\['a.b'\] is None"):
            SGD(0.1).step(params, grads)

    def test_state_shape_changed(self):
        params, grads = _pair()
        opt = Adam(0.1)
        opt.step(params, grads)
        params["a.b"], grads["a.b"] = np.zeros(5), np.ones(5)
        with self.assertRaisesRegex(ValueError, r"params\['a.b'\] has shape \(5,\).*\(4,\)"):
            opt.step(params, grads)

    @parameterized.expand([
        ("negative lr", lambda: SGD(-1.0), "lr"),
        ("nan lr", lambda: Adam(float("nan")), "lr"),
        ("momentum 1", lambda: SGD(0.1, momentum=1.0), "momentum"),
        ("beta2 1", lambda: Adam(0.1, beta2=1.0), "beta2"),
    ])
    def test_bad_hyper_parameters(self, _, make, word):
        with self.assertRaisesRegex(ValueError, word):
            make()


class Clipping(unittest.TestCase):
    def test_clips_to_max_norm_and_returns_norm_before(self):
        _, grads = _pair(4)
        before = {k: v.copy() for k, v in grads.items()}
        expected = np.sqrt(sum(np.sum(g ** 2) for g in before.values()))
        total = clip_grad_norm(grads, 0.5)
        self.assertAlmostEqual(total, expected, places=12)
        after = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
        self.assertAlmostEqual(after, 0.5 * expected / (expected + 1e-6), places=12)
        for k in grads:  # one common factor: directions kept
            np.testing.assert_allclose(grads[k], before[k] * (0.5 / (expected + 1e-6)),
                                       rtol=1e-14)

    def test_small_norm_unchanged(self):
        _, grads = _pair(5)
        before = {k: v.copy() for k, v in grads.items()}
        clip_grad_norm(grads, 1e6)
        for k in grads:
            np.testing.assert_array_equal(grads[k], before[k])

    def test_non_finite(self):
        _, grads = _pair(6)
        grads["a.b"][0] = np.nan
        with self.assertRaisesRegex(ValueError, "total gradient norm is nan"):
            clip_grad_norm(grads, 1.0, error_if_nonfinite=True)
        self.assertTrue(np.isnan(clip_grad_norm(grads, 1.0)))

    def test_bad_max_norm(self):
        with self.assertRaisesRegex(ValueError, "max_norm"):
            clip_grad_norm(_pair()[1], 0.0)
