"""Seq2OneRNN: numerical gradients, dL/da(t), weights API, update, initialisation, dtypes."""
import unittest

import numpy as np
from parameterized import parameterized

from numpy_rnn.core.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)
from numpy_rnn.optim import Adam
from numpy_rnn.seq2one.model import PARAM_NAMES, Seq2OneRNN


def _model(D, H, M, seed=0, init="uniform", dtype=np.float64):
    """A model with random non-zero weights and biases (so no gradient term hides)."""
    rng = np.random.default_rng(seed)
    model = Seq2OneRNN(D, H, M, init=init, rng=rng, dtype=dtype)
    model.set_weights({"W": rng.normal(0, 1 / np.sqrt(D), (D, H)),
                       "R": rng.normal(0, 1 / np.sqrt(H), (H, H)),
                       "bs": rng.normal(0, 0.5, H), "V": rng.normal(0, 1 / np.sqrt(H), (H, M)),
                       "by": rng.normal(0, 0.5, M)})
    return model, rng


# (name, N or None for one (T, D) sequence, T, D, H, M)
SHAPES = [
    ("batch", 3, 4, 2, 5, 2),
    ("batch_M1", 2, 6, 3, 4, 1),
    ("N1_T1", 1, 1, 3, 4, 2),
    ("D_eq_H", 2, 3, 4, 4, 3),
    ("single", None, 5, 3, 4, 2),
    ("single_T1", None, 1, 2, 3, 1),
]


def _reference_forward(params, x, t_offset=None, offset=None):
    """Loop-per-sequence forward written from the equations; ``offset`` is added to a(t)."""
    W, R, bs, V, by = (params[k] for k in PARAM_NAMES)
    outputs = []
    for seq in x:
        a = np.zeros(R.shape[0])
        for t, x_t in enumerate(seq):
            a = np.tanh(W.T @ x_t + R.T @ a + bs)
            if t == t_offset:
                a = a + offset
        outputs.append(V.T @ a + by)
    return np.array(outputs)


class Gradients(unittest.TestCase):
    @parameterized.expand(SHAPES)
    def test_against_numerical_gradients(self, _, N, T, D, H, M):
        model, rng = _model(D, H, M)
        x = rng.normal(size=(T, D) if N is None else (N, T, D))
        dy = rng.normal(size=(M,) if N is None else (N, M))
        y_hat = model.forward(x)
        self.assertEqual(y_hat.shape, dy.shape)
        dx = model.backward(dy)
        self.assertEqual(dx.shape, x.shape)
        num_dx = eval_numerical_gradient_array(lambda _: model.forward(x), x, dy)
        self.assertLess(rel_error(dx, num_dx), 1e-7)
        for name in PARAM_NAMES:
            p = model.params[name]
            num = eval_numerical_gradient_array(lambda _: model.forward(x), p, dy)
            self.assertEqual(model.grads[name].shape, p.shape, name)
            self.assertLess(rel_error(model.grads[name], num), 1e-7, name)

    @parameterized.expand(SHAPES)
    def test_forward_matches_the_equations(self, _, N, T, D, H, M):
        model, rng = _model(D, H, M, seed=1)
        x = rng.normal(size=(T, D) if N is None else (N, T, D))
        expected = _reference_forward(model.params, x[None] if N is None else x)
        np.testing.assert_allclose(model.forward(x), expected[0] if N is None else expected,
                                   rtol=1e-12, atol=1e-14)

    @parameterized.expand([("batch", 3, 6, 2, 4, 2), ("T1", 2, 1, 2, 3, 1)])
    def test_hidden_grads_are_dL_da_t(self, _, N, T, D, H, M):
        model, rng = _model(D, H, M, seed=2)
        x, dy = rng.normal(size=(N, T, D)), rng.normal(size=(N, M))
        model.forward(x)
        model.backward(dy)
        self.assertEqual(model.hidden_grads.shape, (N, T, H))
        for t in range(T):
            offset = np.zeros(H)

            def loss(offset, t=t):
                return np.sum(_reference_forward(model.params, x, t, offset) * dy)
            # summed over the batch: an offset of a(t) shared by all sequences
            num = eval_numerical_gradient(loss, offset)
            np.testing.assert_allclose(model.hidden_grads[:, t].sum(axis=0), num,
                                       rtol=1e-7, atol=1e-10)

    def test_hidden_grads_per_sequence(self):
        model, rng = _model(2, 3, 1, seed=3)
        x, dy = rng.normal(size=(2, 5, 2)), rng.normal(size=(2, 1))
        model.forward(x)
        model.backward(dy)
        batch = model.hidden_grads.copy()
        for n in range(2):
            model.forward(x[n])
            model.backward(dy[n])
            self.assertEqual(model.hidden_grads.shape, (5, 3))
            np.testing.assert_allclose(model.hidden_grads, batch[n], rtol=1e-13, atol=1e-15)

    def test_single_sequence_is_a_batch_of_one(self):
        model, rng = _model(3, 4, 2, seed=4)
        x, dy = rng.normal(size=(5, 3)), rng.normal(size=2)
        y1 = model.forward(x)
        dx1 = model.backward(dy)
        g1 = {k: v.copy() for k, v in model.grads.items()}
        y2 = model.forward(x[None])
        dx2 = model.backward(dy[None])
        np.testing.assert_array_equal(y1, y2[0])
        np.testing.assert_array_equal(dx1, dx2[0])
        for k in PARAM_NAMES:
            np.testing.assert_array_equal(g1[k], model.grads[k])

    def test_inputs_are_not_modified(self):
        model, rng = _model(2, 3, 2, seed=5)
        x, dy = rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 2))
        x0, dy0 = x.copy(), dy.copy()
        model.forward(x)
        model.backward(dy)
        np.testing.assert_array_equal(x, x0)
        np.testing.assert_array_equal(dy, dy0)


class Weights(unittest.TestCase):
    def test_get_returns_copies(self):
        model = Seq2OneRNN(2, 3, 1, rng=0)
        weights = model.get_weights()
        self.assertEqual(sorted(weights), sorted(PARAM_NAMES))
        weights["W"][:] = 7.0
        self.assertFalse(np.any(model.params["W"] == 7.0))

    def test_set_copies_into_the_same_arrays(self):
        model = Seq2OneRNN(2, 3, 1, rng=0)
        held = model.params["R"]
        new = {k: np.full_like(v, 0.5) for k, v in model.params.items()}
        model.set_weights(new)
        new["R"][:] = 9.0
        self.assertIs(model.params["R"], held)  # optimiser state keyed on it stays valid
        np.testing.assert_array_equal(model.params["R"], np.full((3, 3), 0.5))

    def test_set_casts_to_the_model_dtype(self):
        model = Seq2OneRNN(2, 3, 1, rng=0, dtype=np.float32)
        model.set_weights({k: np.ones(v.shape, np.float64) for k, v in model.params.items()})
        self.assertTrue(all(v.dtype == np.float32 for v in model.params.values()))

    def _weights(self):
        return Seq2OneRNN(2, 3, 4, rng=0).get_weights()

    def test_missing_key(self):
        weights = self._weights()
        del weights["bs"]
        with self.assertRaisesRegex(ValueError, r"missing key\(s\) \['bs'\]"):
            Seq2OneRNN(2, 3, 4).set_weights(weights)

    def test_unknown_key(self):
        weights = {**self._weights(), "U": np.zeros(3)}
        with self.assertRaisesRegex(ValueError, r"unknown key\(s\) \['U'\]"):
            Seq2OneRNN(2, 3, 4).set_weights(weights)

    def test_wrong_shape_shows_expected_and_actual(self):
        weights = {**self._weights(), "V": np.zeros((4, 3))}
        with self.assertRaisesRegex(ValueError, r"weights\['V'\] must have shape \(3, 4\), "
                                                r"got \(4, 3\)"):
            Seq2OneRNN(2, 3, 4).set_weights(weights)

    def test_non_finite_and_not_a_dict(self):
        weights = self._weights()
        weights["R"][0, 0] = np.nan
        with self.assertRaisesRegex(ValueError, r"weights\['R'\].*NaN"):
            Seq2OneRNN(2, 3, 4).set_weights(weights)
        with self.assertRaisesRegex(ValueError, "weights must be a dict"):
            Seq2OneRNN(2, 3, 4).set_weights([1, 2])

    def test_failed_set_changes_nothing(self):
        model = Seq2OneRNN(2, 3, 4, rng=0)
        before = model.get_weights()
        bad = {**{k: np.zeros_like(v) for k, v in before.items()}, "by": np.zeros(5)}
        with self.assertRaises(ValueError):
            model.set_weights(bad)
        for k in PARAM_NAMES:
            np.testing.assert_array_equal(model.params[k], before[k])


class Update(unittest.TestCase):
    def test_needs_backward(self):
        model = Seq2OneRNN(1, 2, 1, rng=0)
        with self.assertRaisesRegex(RuntimeError, "backward"):
            model.update(0.1)
        model.forward(np.ones((2, 3, 1)))
        with self.assertRaisesRegex(RuntimeError, "backward"):
            model.update(0.1)

    def test_gradient_step_and_once_per_backward(self):
        model, rng = _model(2, 3, 2, seed=6)
        model.forward(rng.normal(size=(4, 3, 2)))
        model.backward(rng.normal(size=(4, 2)))
        before = model.get_weights()
        model.update(0.25)
        for k in PARAM_NAMES:
            np.testing.assert_allclose(model.params[k], before[k] - 0.25 * model.grads[k],
                                       rtol=0, atol=1e-15)
        with self.assertRaisesRegex(RuntimeError, "backward"):
            model.update(0.25)

    def test_bad_lr(self):
        model, rng = _model(1, 2, 1)
        model.forward(rng.normal(size=(1, 2, 1)))
        model.backward(np.ones((1, 1)))
        for lr in (-0.1, float("nan")):
            with self.assertRaisesRegex(ValueError, "lr"):
                model.update(lr)

    def test_works_with_the_optimisers(self):
        model, rng = _model(1, 4, 1, seed=7)
        opt = Adam(0.05)
        x, y = rng.uniform(-1, 1, (16, 3, 1)), None
        y = x[:, 0]
        losses = []
        for _ in range(30):
            err = model.forward(x) - y
            losses.append(float(np.mean(err ** 2)))
            model.backward(2 * err / err.size)
            opt.step(model.params, model.grads)
        self.assertLess(losses[-1], 0.5 * losses[0])


class Initialisation(unittest.TestCase):
    def test_uniform_range_statistics_and_zero_biases(self):
        model = Seq2OneRNN(50, 200, 60, init="uniform", rng=0)
        for name in ("W", "R", "V"):
            w = model.params[name]
            self.assertLessEqual(np.abs(w).max(), 0.2, name)
            self.assertGreater(np.abs(w).max(), 0.19, name)       # fills the range
            self.assertLess(abs(w.mean()), 0.01, name)
            self.assertAlmostEqual(w.var(), 0.2 ** 2 / 3, delta=0.002, msg=name)
        self.assertFalse(model.params["bs"].any() or model.params["by"].any())

    def test_identity_lecun(self):
        D, H, M = 40, 300, 50
        model = Seq2OneRNN(D, H, M, init="identity", rng=1)
        np.testing.assert_array_equal(model.params["R"], np.eye(H))
        for name, fan_in in (("W", D), ("V", H)):
            w, limit = model.params[name], np.sqrt(3 / fan_in)
            self.assertLessEqual(np.abs(w).max(), limit, name)
            self.assertGreater(np.abs(w).max(), 0.95 * limit, name)
            self.assertAlmostEqual(w.var() * fan_in, 1.0, delta=0.05, msg=name)  # LeCun
        self.assertFalse(model.params["bs"].any() or model.params["by"].any())

    def test_seeded_and_reproducible(self):
        a, b, c = (Seq2OneRNN(2, 3, 1, rng=s) for s in (5, 5, 6))
        np.testing.assert_array_equal(a.params["W"], b.params["W"])
        self.assertFalse(np.array_equal(a.params["W"], c.params["W"]))

    def test_grads_start_as_zeros_of_the_param_shapes(self):
        model = Seq2OneRNN(2, 3, 4)
        self.assertEqual({k: v.shape for k, v in model.grads.items()},
                         {"W": (2, 3), "R": (3, 3), "bs": (3,), "V": (3, 4), "by": (4,)})


class Dtypes(unittest.TestCase):
    @parameterized.expand([("float32", np.float32), ("float64", np.float64)])
    def test_dtype_is_preserved(self, _, dtype):
        model = Seq2OneRNN(2, 3, 2, init="identity", rng=0, dtype=dtype)
        x = np.random.default_rng(0).normal(size=(4, 5, 2)).astype(dtype)
        y = model.forward(x)
        dx = model.backward(np.ones((4, 2), dtype))
        self.assertEqual(y.dtype, dtype)
        self.assertEqual(dx.dtype, dtype)
        self.assertEqual(model.hidden_grads.dtype, dtype)
        for name in PARAM_NAMES:
            self.assertEqual(model.params[name].dtype, dtype, name)
            self.assertEqual(model.grads[name].dtype, dtype, name)

    def test_float32_close_to_float64(self):
        m64, rng = _model(2, 3, 2, seed=8)
        m32 = Seq2OneRNN(2, 3, 2, dtype=np.float32)
        m32.set_weights(m64.get_weights())
        x = rng.normal(size=(3, 4, 2))
        np.testing.assert_allclose(m32.forward(x.astype(np.float32)), m64.forward(x),
                                   rtol=1e-5, atol=1e-6)

    def test_mismatched_input_dtype(self):
        model = Seq2OneRNN(2, 3, 2, dtype=np.float32)
        with self.assertRaisesRegex(ValueError, "x must have the model's dtype float32, "
                                                "got float64"):
            model.forward(np.zeros((1, 2, 2)))
        model.forward(np.zeros((1, 2, 2), np.float32))
        with self.assertRaisesRegex(ValueError, "dy_hat has dtype float64 but the forward pass "
                                                "ran in float32"):
            model.backward(np.zeros((1, 2)))


class Validation(unittest.TestCase):
    @parameterized.expand([
        ("wrong_D", (2, 3, 4), r"x must have shape \(N, T, D\) = \(2, 3, 2\), got \(2, 3, 4\) "
                               r"\(D=2 from the model's input_size\)"),
        ("wrong_D_single", (3, 4), r"x must have shape \(T, D\) = \(3, 2\), got \(3, 4\)"),
        ("1d", (2,), r"x must have shape \(N, T, D\) or \(T, D\) with D=2, got 1-D shape \(2,\)"),
        ("4d", (1, 2, 3, 2), r"got 4-D shape \(1, 2, 3, 2\)"),
        ("empty_T", (2, 0, 2), r"x must have non-zero sizes \(N, T, D\), got \(2, 0, 2\)"),
    ])
    def test_bad_x_shape(self, _, shape, pattern):
        with self.assertRaisesRegex(ValueError, pattern):
            Seq2OneRNN(2, 3, 1).forward(np.zeros(shape))

    def test_non_finite_and_non_array_x(self):
        x = np.zeros((1, 3, 2))
        x[0, 1, 0] = np.inf
        with self.assertRaisesRegex(ValueError, r"x must be finite, found inf at index "
                                                r"\(0, 1, 0\)"):
            Seq2OneRNN(2, 3, 1).forward(x)
        with self.assertRaisesRegex(ValueError, "x must be a float32 or float64 array, "
                                                "got dtype int64"):
            Seq2OneRNN(2, 3, 1).forward(np.zeros((1, 3, 2), dtype=np.int64))

    def test_backward_checks(self):
        model = Seq2OneRNN(2, 3, 2)
        with self.assertRaisesRegex(RuntimeError, "forward"):
            model.backward(np.ones((1, 2)))
        model.forward(np.zeros((4, 3, 2)))
        with self.assertRaisesRegex(ValueError, r"dy_hat must be 2-D with shape \(N, M\)"):
            model.backward(np.ones(2))
        with self.assertRaisesRegex(ValueError, r"dy_hat must have shape \(N, M\) = \(4, 2\), "
                                                r"got \(3, 2\) \(N=4 from the forward pass\)"):
            model.backward(np.ones((3, 2)))
        model.forward(np.zeros((3, 2)))
        with self.assertRaisesRegex(ValueError, r"dy_hat must be 1-D with shape \(M,\), "
                                                r"got a 2-D array"):
            model.backward(np.ones((1, 2)))

    @parameterized.expand([
        ("input_size", (0, 3, 1), {}, "input_size must be a positive integer, got 0"),
        ("hidden_size", (1, 2.5, 1), {}, "hidden_size must be a positive integer, got 2.5"),
        ("output_size", (1, 3, True), {}, "output_size must be a positive integer"),
        ("init", (1, 3, 1), {"init": "orthogonal"}, r"init must be one of \('uniform', "),
        ("dtype", (1, 3, 1), {"dtype": np.int64}, "dtype must be float32 or float64, got int64"),
    ])
    def test_bad_constructor_arguments(self, _, args, kwargs, pattern):
        with self.assertRaisesRegex(ValueError, pattern):
            Seq2OneRNN(*args, **kwargs)
