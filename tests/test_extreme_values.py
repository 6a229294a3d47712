"""The core at the edges of the float range: the right finite answer, or an error naming the
function; never a silent inf/NaN or a stray RuntimeWarning."""
import unittest
import warnings

import numpy as np
from parameterized import parameterized

import numpy_rnn as nr
from numpy_rnn.core._kernels import _tanh_into

BIG = np.finfo(np.float64).max / 1.05  # about 1.7e308


def _quiet(fn, *args):
    """``fn(*args)`` with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):  # and no floating-point flag left unhandled
            return fn(*args)


class SoftmaxLoss(unittest.TestCase):
    def _logits(self):
        x = np.full((2, 3, 4), BIG)
        x[..., ::2] = -BIG
        return x

    def test_every_position_masked_is_zero(self):
        loss, dx = _quiet(nr.temporal_softmax_loss, self._logits(), np.zeros((2, 3), int),
                          np.zeros((2, 3)))
        self.assertEqual(loss, 0.0)
        np.testing.assert_array_equal(dx, 0)

    def test_masked_positions_never_spoil_the_others(self):
        x = self._logits()
        x[0, 0] = [0.0, 1.0, 2.0, 3.0]
        mask = np.zeros((2, 3))
        mask[0, 0] = 1
        loss, _ = _quiet(nr.temporal_softmax_loss, x, np.zeros((2, 3), int), mask)
        expected = -np.log(np.exp(0.0) / np.exp([0.0, 1.0, 2.0, 3.0]).sum()) / 2
        self.assertAlmostEqual(float(loss), expected, places=12)

    def test_a_counted_loss_beyond_the_range_is_an_error(self):
        with self.assertRaisesRegex(ValueError, r"^temporal_softmax_loss: the loss overflows "
                                                r"float64: at \(n, t\) = \(0, 0\)"):
            _quiet(nr.temporal_softmax_loss, self._logits(), np.zeros((2, 3), int),
                   np.ones((2, 3)))


class MSE(unittest.TestCase):
    def test_a_loss_beyond_the_range_is_an_error(self):
        with self.assertRaisesRegex(ValueError, r"^mse_loss: the loss overflows float64"):
            _quiet(nr.mse_loss, np.array([1e300]), np.array([-1e300]))

    @parameterized.expand([(np.float64, 1e154, 10_000), (np.float32, 1e19, 10_000)])
    def test_a_mean_in_range_whose_sum_is_not(self, dtype, value, n):
        loss, grad = _quiet(nr.mse_loss, np.full(n, value, dtype), np.zeros(n, dtype))
        self.assertTrue(np.isfinite(loss))
        np.testing.assert_allclose(float(loss), float(value) ** 2, rtol=1e-5)
        np.testing.assert_allclose(grad, 2 * value / n, rtol=1e-6)


def _true_sign(x, W):
    """Sign of ``x @ W`` computed on ``x`` scaled to 1 (no overflow)."""
    scale = np.abs(x).max()
    return np.sign((x / scale) @ W)


class RecurrentOverflow(unittest.TestCase):
    @parameterized.expand([(fn, scale) for fn in ("rnn_forward", "lstm_forward")
                           for scale in (1e300, 1e308)])
    def test_huge_inputs_give_the_saturated_answer(self, fn, scale):
        rng = np.random.default_rng(0)
        N, T, D, H = 2, 3, 50, 5
        G = 4 if fn == "lstm_forward" else 1
        x = np.full((N, T, D), scale)
        x[..., ::2] *= -1
        Wx, Wh = rng.standard_normal((D, G * H)), rng.standard_normal((H, G * H))
        h, _ = _quiet(getattr(nr, fn), x, np.zeros((N, H)), Wx, Wh, np.zeros(G * H))
        self.assertTrue(np.all(np.isfinite(h)))
        sign = _true_sign(x[0, 0], Wx)  # every pre-activation is beyond +-1e300
        if fn == "rnn_forward":
            np.testing.assert_array_equal(h[0, 0], sign)
        else:  # gates are 0 or 1 exactly: h = o * tanh(i * g)
            i, o, g = (sign[k * H:(k + 1) * H] > 0 for k in (0, 2, 3))
            np.testing.assert_array_equal(h[0, 0], o * np.tanh(i * np.where(g, 1.0, -1.0)))

    @parameterized.expand([(fn, scale) for fn in ("rnn_step_forward", "lstm_step_forward")
                           for scale in (1e300, 1e308)])
    def test_steps_give_the_saturated_answer(self, fn, scale):
        rng = np.random.default_rng(0)
        N, D, H = 2, 50, 5
        G = 4 if fn == "lstm_step_forward" else 1
        x = np.full((N, D), scale)
        x[:, ::2] *= -1
        Wx = rng.standard_normal((D, G * H))
        args = [x, np.zeros((N, H))] + ([np.zeros((N, H))] if G == 4 else [])
        out = _quiet(getattr(nr, fn), *args, Wx, rng.standard_normal((H, G * H)),
                     np.zeros(G * H))
        sign = _true_sign(x[0], Wx)
        if G == 1:
            np.testing.assert_array_equal(out[0][0], sign)
        else:
            i, o, g = (sign[k * H:(k + 1) * H] > 0 for k in (0, 2, 3))
            np.testing.assert_array_equal(out[0][0], o * np.tanh(i * np.where(g, 1.0, -1.0)))

    @parameterized.expand([("rnn_forward", 1), ("lstm_forward", 4)])
    def test_a_cancelling_sum_beyond_the_range_is_computed_scaled(self, fn, G):
        D, H = 50, 5
        x = np.full((2, 3, D), 1e308)
        Wx = np.full((D, G * H), 1e308)
        Wx[::2] *= -1  # every product overflows; the true sum is exactly 0
        h, _ = _quiet(getattr(nr, fn), x, np.zeros((2, H)), Wx, np.zeros((H, G * H)),
                      np.zeros(G * H))
        expected = 0.0 if G == 1 else 0.5 * np.tanh(0.5 * 0.0)  # i = f = o = 1/2, g = 0
        np.testing.assert_array_equal(h, expected)

    @parameterized.expand([("rnn_forward", 1), ("lstm_forward", 4)])
    def test_recurrent_weights_that_can_overflow_name_the_function(self, fn, G):
        H = 5
        with self.assertRaisesRegex(ValueError, rf"^{fn}: Wh is too large"):
            _quiet(getattr(nr, fn), np.zeros((2, 3, 4)), np.zeros((2, H)),
                   np.zeros((4, G * H)), np.full((H, G * H), 1e308), np.zeros(G * H))

    @parameterized.expand([("rnn_step_forward", 1), ("lstm_step_forward", 4)])
    def test_steps_name_themselves_when_inf_meets_minus_inf(self, fn, G):
        D, H = 3, 5
        x, prev_h = np.full((2, D), 1e308), np.full((2, H), 1e308)
        args = [x, prev_h] + ([np.zeros((2, H))] if G == 4 else [])
        args += [np.full((D, G * H), 1e308), np.full((H, G * H), -1e308), np.zeros(G * H)]
        with self.assertRaisesRegex(ValueError, rf"^{fn}: x Wx \+ prev_h Wh \+ b overflows"):
            _quiet(getattr(nr, fn), *args)


def _float32_sweep():
    """Every 997th positive float32 below inf (all magnitudes), both signs, and +-inf."""
    bits = np.arange(0, 0x7F800000, 997, dtype=np.uint32)
    x = bits.view(np.float32)
    return np.concatenate([x, -x, np.array([np.inf, -np.inf], np.float32)])


class Tanh(unittest.TestCase):
    def test_float32_within_2_ulp_over_the_whole_range(self):
        x = _float32_sweep()
        got = _tanh_into(x, np.empty_like(x)).astype(np.float64)
        exact = np.tanh(x.astype(np.float64))  # float64: ~29 bits beyond float32
        ulp = np.spacing(np.abs(exact.astype(np.float32))).astype(np.float64)
        ulp[exact == 0] = np.finfo(np.float32).smallest_subnormal
        errors = np.abs(got - exact) / ulp
        worst = int(np.argmax(errors))
        self.assertLessEqual(errors[worst], 2.0, f"{errors[worst]:.3g} ulp at x = {x[worst]!r}")

    def test_float32_relative_accuracy_near_zero(self):
        x = np.array([1e-7, 1e-6, 1e-5, -3e-8], np.float32)
        got = _tanh_into(x, np.empty_like(x))
        np.testing.assert_allclose(got, np.tanh(x.astype(np.float64)), rtol=2e-7)

    def test_float64_is_numpy_tanh(self):
        x = np.linspace(-20, 20, 1001)
        np.testing.assert_array_equal(_tanh_into(x, np.empty_like(x)), np.tanh(x))


class RaggedInput(unittest.TestCase):
    @parameterized.expand([
        ("rnn_step_forward", "x", lambda ragged: nr.rnn_step_forward(
            ragged, np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2)), np.zeros(2))),
        ("mse_loss", "y", lambda ragged: nr.mse_loss(np.zeros(2), ragged)),
        ("temporal_softmax_loss", "y", lambda ragged: nr.temporal_softmax_loss(
            np.zeros((2, 1, 3)), ragged, np.ones((2, 1)))),
    ])
    def test_names_the_function_and_the_argument(self, fn, arg, call):
        with self.assertRaisesRegex(ValueError, rf"^{fn}: {arg} must be a rectangular array"):
            call([[1.0, 2.0], [3.0]] if arg == "x" else [[1], [2, 0]])
