"""The contract of numpy_rnn.functional and numpy_rnn.layers beyond the numbers.

* bad inputs raise ValueError/IndexError whose message names the argument and
  shows the expected and the actual shape, dtype or value;
* no function modifies its inputs (forward or backward), and a cache can be used
  by its backward pass more than once;
* float32 and float64 are preserved in every output, gradient and loss;
* sigmoid and the softmax loss stay finite and silent at +-1e4;
* the layer classes: params/grads names and shapes, forward reads the current
  params, backward before forward is an error.
"""
import contextlib
import math
import subprocess
import sys
import unittest
import warnings

import numpy as np
from parameterized import parameterized

from numpy_rnn import functional as F
from numpy_rnn import layers
from torch_ref.catalog import CATALOG, ERROR_SIZES

N, T, D, H, V, M = 2, 3, 4, 5, 6, 3


def _catalog_forwards() -> dict:
    """Forward function -> the first functional catalog entry that makes its inputs, for
    the functions the tables below do not list (a new component is covered at once)."""
    found = {}
    for c in CATALOG.values():
        if c.scope == "functional" and c.build is not None and len(c.functions) == 2:
            found.setdefault(c.functions[0], c)
    return {fn: c for fn, c in found.items() if fn not in _LISTED}


_LISTED = ("rnn_step_forward", "rnn_forward", "lstm_step_forward", "lstm_forward",
           "word_embedding_forward", "temporal_affine_forward", "affine_forward",
           "temporal_softmax_loss")


def _inputs(fn: str, dtype=np.float64, seed=0) -> dict:
    """Valid keyword arguments of the forward function ``fn``."""
    entry = _catalog_forwards().get(fn)
    if entry is not None:
        case = entry.sized_case(np.dtype(dtype).name, ERROR_SIZES, seed, label="contract")
        return {**case.inputs, **entry.options}
    rng = np.random.default_rng(seed)

    def f(*shape):
        return rng.standard_normal(shape).astype(dtype)

    def words(high):
        return rng.integers(0, high, (N, T))

    return {
        "rnn_step_forward": lambda: dict(x=f(N, D), prev_h=f(N, H), Wx=f(D, H), Wh=f(H, H),
                                         b=f(H)),
        "rnn_forward": lambda: dict(x=f(N, T, D), h0=f(N, H), Wx=f(D, H), Wh=f(H, H), b=f(H)),
        "lstm_step_forward": lambda: dict(x=f(N, D), prev_h=f(N, H), prev_c=f(N, H),
                                          Wx=f(D, 4 * H), Wh=f(H, 4 * H), b=f(4 * H)),
        "lstm_forward": lambda: dict(x=f(N, T, D), h0=f(N, H), Wx=f(D, 4 * H), Wh=f(H, 4 * H),
                                     b=f(4 * H)),
        "word_embedding_forward": lambda: dict(x=words(V), W=f(V, D)),
        "temporal_affine_forward": lambda: dict(x=f(N, T, D), w=f(D, M), b=f(M)),
        "affine_forward": lambda: dict(x=f(N, D), w=f(D, M), b=f(M)),
        "temporal_softmax_loss": lambda: dict(x=f(N, T, V), y=words(V),
                                              mask=rng.random((N, T)) < 0.7),
        "mse_loss": lambda: dict(y_hat=f(N, M), y=f(N, M)),
        "sigmoid": lambda: dict(x=f(N, M)),
        "softmax": lambda: dict(x=f(N, T, V)),
        "log_softmax": lambda: dict(x=f(N, T, V)),
    }[fn]()


# backward function -> (its forward, number of forward outputs, upstream argument names)
BACKWARD = {
    "rnn_step_backward": ("rnn_step_forward", 1, ("dnext_h",)),
    "rnn_backward": ("rnn_forward", 1, ("dh",)),
    "lstm_step_backward": ("lstm_step_forward", 2, ("dnext_h", "dnext_c")),
    "lstm_backward": ("lstm_forward", 1, ("dh",)),
    "word_embedding_backward": ("word_embedding_forward", 1, ("dout",)),
    "temporal_affine_backward": ("temporal_affine_forward", 1, ("dout",)),
    "affine_backward": ("affine_forward", 1, ("dout",)),
}
FORWARD = [*_LISTED, "mse_loss", "sigmoid", "softmax", "log_softmax"]
for _fn, _entry in _catalog_forwards().items():
    _upstream = _entry.sized_case("float64", ERROR_SIZES).upstream
    BACKWARD[_entry.functions[1]] = (_fn, len(_upstream), tuple("d" + k for k in _upstream))
    FORWARD.append(_fn)


def _run_backward(fn: str, dtype=np.float64, upstream_overrides=None, cache=None):
    """Run the forward of ``fn`` on valid inputs, then ``fn`` with upstream gradients
    shaped like the forward outputs (or as overridden). Returns (inputs, upstream, grads)."""
    forward, n_out, names = BACKWARD[fn]
    inputs = _inputs(forward, dtype)
    result = getattr(F, forward)(**inputs)
    outputs, own_cache = result[:n_out], result[n_out]
    rng = np.random.default_rng(1)
    upstream = {name: rng.standard_normal(out.shape).astype(dtype)
                for name, out in zip(names, outputs, strict=True)}
    upstream.update(upstream_overrides or {})
    grads = getattr(F, fn)(**upstream, cache=own_cache if cache is None else cache)
    return inputs, upstream, grads


def _call(fn: str, overrides: dict):
    if fn in BACKWARD:
        return _run_backward(fn, upstream_overrides=overrides)
    return getattr(F, fn)(**{**_inputs(fn), **overrides})


def _arr(*shape, dtype=np.float64, at=None, value=np.nan):
    """An array of 0.5s, with ``value`` at index ``at`` when given."""
    arr = np.full(shape, 0.5, dtype=dtype)
    if at is not None:
        arr[at] = value
    return arr


def _with(value, index, fn="rnn_forward", name="x"):
    """A valid input of ``fn`` with one element replaced."""
    arr = _inputs(fn)[name].copy()
    arr[index] = value
    return arr


def _other_cache():
    return F.lstm_forward(**_inputs("lstm_forward"))[1]


# (label, function, overriding arguments, exception, fragments the message must contain)
BAD_INPUTS = [
    # rank
    ("rnn x 2-D", "rnn_forward", dict(x=_arr(N, D)), ValueError,
     ["rnn_forward", "x", "3-D", "(N, T, D)", "(2, 4)"]),
    ("rnn_step x 3-D", "rnn_step_forward", dict(x=_arr(N, T, D)), ValueError,
     ["rnn_step_forward", "x", "2-D", "(N, D)", "(2, 3, 4)"]),
    ("lstm b 2-D", "lstm_forward", dict(b=_arr(1, 4 * H)), ValueError,
     ["b", "1-D", "(4H,)", "(1, 20)"]),
    ("embedding W 1-D", "word_embedding_forward", dict(W=_arr(V)), ValueError,
     ["W", "2-D", "(V, D)", "(6,)"]),
    ("affine x 3-D", "affine_forward", dict(x=_arr(N, T, D)), ValueError,
     ["affine_forward", "x", "2-D", "(N, D)", "(2, 3, 4)"]),
    ("softmax loss x 2-D", "temporal_softmax_loss", dict(x=_arr(N, V)), ValueError,
     ["x", "3-D", "(N, T, V)", "(2, 6)"]),
    # sizes that disagree between arguments
    ("rnn h0 batch", "rnn_forward", dict(h0=_arr(3, H)), ValueError,
     ["h0", "(N, H) = (2, 5)", "got (3, 5)", "N=2 from x"]),
    ("rnn Wx input size", "rnn_forward", dict(Wx=_arr(D + 1, H)), ValueError,
     ["Wx", "(D, H) = (4, 5)", "got (5, 5)", "D=4 from x"]),
    ("rnn Wh not square", "rnn_forward", dict(Wh=_arr(H, H + 1)), ValueError,
     ["Wh", "(H, H) = (5, 5)", "got (5, 6)"]),
    ("rnn b hidden size", "rnn_forward", dict(b=_arr(H + 1)), ValueError,
     ["b", "(H,) = (5,)", "got (6,)", "H=5 from h0"]),
    ("rnn_step prev_h hidden", "rnn_step_forward", dict(prev_h=_arr(N, H), Wh=_arr(H + 1, H + 1)),
     ValueError, ["Wh", "(H, H) = (5, 5)", "got (6, 6)", "H=5 from prev_h"]),
    ("lstm Wx not 4H", "lstm_forward", dict(Wx=_arr(D, 3 * H)), ValueError,
     ["Wx", "(D, 4H) = (4, 20)", "got (4, 15)", "H=5 from h0"]),
    ("lstm Wh rows", "lstm_forward", dict(Wh=_arr(H + 1, 4 * H)), ValueError,
     ["Wh", "(H, 4H) = (5, 20)", "got (6, 20)"]),
    ("lstm_step prev_c", "lstm_step_forward", dict(prev_c=_arr(N, H + 2)), ValueError,
     ["prev_c", "(N, H) = (2, 5)", "got (2, 7)"]),
    ("lstm_step b", "lstm_step_forward", dict(b=_arr(H)), ValueError,
     ["b", "(4H,) = (20,)", "got (5,)"]),
    ("temporal affine w", "temporal_affine_forward", dict(w=_arr(D + 1, M)), ValueError,
     ["w", "(D, M) = (4, 3)", "got (5, 3)", "D=4 from x"]),
    ("temporal affine b", "temporal_affine_forward", dict(b=_arr(M + 1)), ValueError,
     ["b", "(M,) = (3,)", "got (4,)", "M=3 from w"]),
    ("affine w", "affine_forward", dict(w=_arr(D - 1, M)), ValueError,
     ["w", "(D, M) = (4, 3)", "got (3, 3)"]),
    ("softmax loss y shape", "temporal_softmax_loss", dict(y=np.zeros((N, T + 1), int)),
     ValueError, ["y", "(N, T) = (2, 3)", "got (2, 4)"]),
    ("mse shapes", "mse_loss", dict(y=_arr(N, M + 1)), ValueError,
     ["mse_loss", "y", "(2, 3)", "(2, 4)"]),
    ("rnn empty time axis", "rnn_forward", dict(x=_arr(N, 0, D)), ValueError,
     ["x", "non-zero", "(2, 0, 4)"]),
    # dtypes
    ("rnn h0 float32", "rnn_forward", dict(h0=_arr(N, H, dtype=np.float32)), ValueError,
     ["h0", "float32", "x", "float64"]),
    ("lstm_step Wh float32", "lstm_step_forward", dict(Wh=_arr(H, 4 * H, dtype=np.float32)),
     ValueError, ["Wh", "float32", "x", "float64"]),
    ("mse y float32", "mse_loss", dict(y=_arr(N, M, dtype=np.float32)), ValueError,
     ["y", "float32", "y_hat", "float64"]),
    ("rnn int x", "rnn_forward", dict(x=np.ones((N, T, D), dtype=np.int64)), ValueError,
     ["x", "float32 or float64", "int64"]),
    ("affine float16 w", "affine_forward", dict(w=_arr(D, M, dtype=np.float16)), ValueError,
     ["w", "float32 or float64", "float16"]),
    ("sigmoid int", "sigmoid", dict(x=np.arange(3)), ValueError, ["sigmoid", "x", "int64"]),
    ("softmax 0-d", "softmax", dict(x=np.float64(1.0)), ValueError,
     ["softmax", "x", "(..., V)", "()"]),
    # integer indices
    ("embedding float indices", "word_embedding_forward", dict(x=_arr(N, T)), ValueError,
     ["x", "integer", "float64"]),
    ("embedding negative index", "word_embedding_forward",
     dict(x=np.array([[0, -1, 2], [1, 2, 3]])), IndexError,
     ["x", "value -1", "position (0, 1)", "[0, 6)"]),
    ("embedding index == V", "word_embedding_forward",
     dict(x=np.array([[0, 1, 2], [3, 4, 6]])), IndexError,
     ["x", "value 6", "position (1, 2)", "[0, 6)", "V=6"]),
    ("embedding uint index too large", "word_embedding_forward",
     dict(x=np.array([[0, 1, 2], [9, 4, 5]], dtype=np.uint32)), IndexError,
     ["x", "value 9", "position (1, 0)", "[0, 6)"]),
    ("labels too large", "temporal_softmax_loss", dict(y=np.array([[0, 1, 6], [0, 0, 0]])),
     IndexError, ["y", "value 6", "position (0, 2)", "[0, 6)"]),
    ("labels negative", "temporal_softmax_loss", dict(y=np.array([[0, 1, 2], [0, -3, 0]])),
     IndexError, ["y", "value -3", "position (1, 1)", "[0, 6)"]),
    ("labels float", "temporal_softmax_loss", dict(y=_arr(N, T)), ValueError,
     ["y", "integer", "float64"]),
    # masks
    ("mask transposed", "temporal_softmax_loss", dict(mask=np.ones((T, N), bool)), ValueError,
     ["mask", "(N, T) = (2, 3)", "got (3, 2)"]),
    ("mask 1-D", "temporal_softmax_loss", dict(mask=np.ones(N * T, bool)), ValueError,
     ["mask", "2-D", "(N, T)", "(6,)"]),
    ("mask not 0/1", "temporal_softmax_loss", dict(mask=np.array([[1, 0, 2], [1, 1, 1]])),
     ValueError, ["mask", "0 and 1", "2", "(0, 2)"]),
    ("mask of strings", "temporal_softmax_loss", dict(mask=np.full((N, T), "y")), ValueError,
     ["mask", "boolean", "<U1"]),
    # NaN / Inf
    ("rnn NaN in x", "rnn_forward", dict(x=_with(np.nan, (1, 2, 3))), ValueError,
     ["x", "finite", "nan", "(1, 2, 3)"]),
    ("lstm inf in Wh", "lstm_forward", dict(Wh=_with(np.inf, (0, 7), "lstm_forward", "Wh")),
     ValueError, ["Wh", "finite", "inf", "(0, 7)"]),
    ("embedding -inf in W", "word_embedding_forward",
     dict(W=_with(-np.inf, (5, 0), "word_embedding_forward", "W")), ValueError,
     ["W", "finite", "-inf", "(5, 0)"]),
    ("softmax loss NaN logits", "temporal_softmax_loss",
     dict(x=_with(np.nan, (0, 1, 2), "temporal_softmax_loss")), ValueError,
     ["x", "finite", "nan", "(0, 1, 2)"]),
    ("mse NaN target", "mse_loss", dict(y=_with(np.nan, (1, 1), "mse_loss", "y")), ValueError,
     ["y", "finite", "nan", "(1, 1)"]),
    ("sigmoid inf", "sigmoid", dict(x=np.array([0.0, np.inf])), ValueError,
     ["sigmoid", "x", "finite", "inf", "(1,)"]),
    # backward passes: upstream gradients against the forward's cache
    ("rnn dh hidden", "rnn_backward", dict(dh=_arr(N, T, H - 1)), ValueError,
     ["rnn_backward", "dh", "(N, T, H) = (2, 3, 5)", "got (2, 3, 4)", "from rnn_forward"]),
    ("rnn dh float32", "rnn_backward", dict(dh=_arr(N, T, H, dtype=np.float32)), ValueError,
     ["dh", "float32", "rnn_forward", "float64"]),
    ("rnn dh NaN", "rnn_backward", dict(dh=_arr(N, T, H, at=(1, 0, 4))), ValueError,
     ["dh", "finite", "nan", "(1, 0, 4)"]),
    ("lstm_step dnext_h inf", "lstm_step_backward",
     dict(dnext_h=_arr(N, H, at=(0, 3), value=np.inf)), ValueError,
     ["dnext_h", "finite", "inf", "(0, 3)"]),
    ("rnn_step dnext_h batch", "rnn_step_backward", dict(dnext_h=_arr(N + 1, H)), ValueError,
     ["dnext_h", "(N, H) = (2, 5)", "got (3, 5)"]),
    ("lstm dh time", "lstm_backward", dict(dh=_arr(N, T + 1, H)), ValueError,
     ["dh", "(N, T, H) = (2, 3, 5)", "got (2, 4, 5)", "T=3 from lstm_forward"]),
    ("lstm_step dnext_c", "lstm_step_backward", dict(dnext_c=_arr(N, 4 * H)), ValueError,
     ["dnext_c", "(N, H) = (2, 5)", "got (2, 20)"]),
    ("embedding dout width", "word_embedding_backward", dict(dout=_arr(N, T, D + 1)),
     ValueError, ["dout", "(N, T, D) = (2, 3, 4)", "got (2, 3, 5)"]),
    ("temporal affine dout", "temporal_affine_backward", dict(dout=_arr(N, T, M + 2)),
     ValueError, ["dout", "(N, T, M) = (2, 3, 3)", "got (2, 3, 5)"]),
    ("affine dout rank", "affine_backward", dict(dout=_arr(N, T, M)), ValueError,
     ["dout", "2-D", "(N, M)", "(2, 3, 3)"]),
]


def _catalog_errors():
    """Every catalog entry's error inputs: (label, entry name, ErrorInput)."""
    return [(e.label.replace(" ", "_"), c.name, e) for c in CATALOG.values() for e in c.errors]


def _call_entry(component, error):
    """Call ``error.function`` with valid inputs of ``component`` changed by ``error``."""
    case = component.sized_case("float64", ERROR_SIZES, label="errors")
    forward, backward = component.functions
    inputs = {**case.inputs, **component.options}
    if error.function == forward:
        return getattr(F, forward)(**{**inputs, **error.overrides})
    *_, cache = getattr(F, forward)(**inputs)
    upstream = {"d" + k: v for k, v in case.upstream.items()}
    return getattr(F, backward)(**{**upstream, **error.overrides}, cache=cache)


class BadInputs(unittest.TestCase):
    @parameterized.expand(_catalog_errors())
    def test_catalog_error_inputs(self, _, name, error):
        with self.assertRaises(error.exception) as ctx:
            _call_entry(CATALOG[name], error)
        for fragment in error.fragments:
            self.assertIn(fragment, str(ctx.exception))

    @parameterized.expand([(label.replace(" ", "_"), *rest) for label, *rest in BAD_INPUTS])
    def test_raises_naming_argument_expected_and_actual(self, _, fn, overrides, exc, fragments):
        with self.assertRaises(exc) as ctx:
            _call(fn, overrides)
        message = str(ctx.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)

    @parameterized.expand([(fn,) for fn in BACKWARD])
    def test_backward_rejects_a_foreign_cache(self, fn):
        with self.assertRaises(ValueError) as ctx:
            _run_backward(fn, cache=_other_cache() if fn != "lstm_backward"
                          else F.rnn_forward(**_inputs("rnn_forward"))[1])
        self.assertIn("cache", str(ctx.exception))
        self.assertIn(BACKWARD[fn][0], str(ctx.exception))


def _as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def _snapshot(arrays: dict) -> dict:
    return {k: np.array(v, copy=True) for k, v in arrays.items()}


def _assert_unchanged(test, before: dict, after: dict):
    for name, old in before.items():
        test.assertEqual(after[name].dtype, old.dtype, name)
        np.testing.assert_array_equal(after[name], old, err_msg=f"{name} was modified")


_DTYPES = [("float64", np.float64), ("float32", np.float32)]


class InputsUntouched(unittest.TestCase):
    @parameterized.expand([(fn,) for fn in FORWARD])
    def test_forward_leaves_inputs_alone(self, fn):
        inputs = _inputs(fn)
        before = _snapshot(inputs)
        getattr(F, fn)(**inputs)
        _assert_unchanged(self, before, inputs)

    @parameterized.expand([(fn,) for fn in BACKWARD])
    def test_backward_leaves_inputs_and_cache_alone(self, fn):
        forward, n_out, names = BACKWARD[fn]
        inputs = _inputs(forward)
        before = _snapshot(inputs)
        result = getattr(F, forward)(**inputs)
        outputs, cache = result[:n_out], result[n_out]
        rng = np.random.default_rng(2)
        upstream = {n: rng.standard_normal(o.shape) for n, o in zip(names, outputs, strict=True)}
        up_before = _snapshot(upstream)
        first = getattr(F, fn)(**upstream, cache=cache)
        second = getattr(F, fn)(**upstream, cache=cache)  # the cache is reusable
        _assert_unchanged(self, before, inputs)
        _assert_unchanged(self, up_before, upstream)
        for a, b in zip(_as_tuple(first), _as_tuple(second), strict=True):
            np.testing.assert_array_equal(a, b)

    @parameterized.expand([(fn,) for fn in BACKWARD])
    def test_read_only_inputs_are_enough(self, fn):
        # any write into an input or upstream gradient would raise here
        forward, n_out, names = BACKWARD[fn]
        inputs = _inputs(forward)
        for value in inputs.values():
            value.flags.writeable = False
        result = getattr(F, forward)(**inputs)
        upstream = {n: np.ones_like(o) for n, o in zip(names, result[:n_out], strict=True)}
        for value in upstream.values():
            value.flags.writeable = False
        getattr(F, fn)(**upstream, cache=result[n_out])

    @parameterized.expand([("rnn_forward",), ("lstm_forward",), ("temporal_affine_forward",)])
    def test_outputs_do_not_alias_the_cache(self, fn):
        backward = {"rnn_forward": F.rnn_backward, "lstm_forward": F.lstm_backward,
                    "temporal_affine_forward": F.temporal_affine_backward}[fn]
        out, cache = getattr(F, fn)(**_inputs(fn))
        dout = np.random.default_rng(3).standard_normal(out.shape)
        expected = backward(dout, cache)
        out[...] = 123.0  # a caller may reuse the output buffer
        for a, b in zip(backward(dout, cache), expected, strict=True):
            np.testing.assert_array_equal(a, b)


class DtypePreserved(unittest.TestCase):
    @parameterized.expand([(f"{fn}_{name}", fn, dt) for fn in FORWARD for name, dt in _DTYPES])
    def test_forward_outputs(self, _, fn, dtype):
        result = getattr(F, fn)(**_inputs(fn, dtype))
        arrays = [r for r in _as_tuple(result) if isinstance(r, (np.ndarray, np.generic))]
        self.assertTrue(arrays)
        for value in arrays:
            self.assertEqual(np.asarray(value).dtype, dtype)
        if fn in ("temporal_softmax_loss", "mse_loss"):
            self.assertIsInstance(result[0], np.floating)
            self.assertEqual(np.ndim(result[0]), 0)

    @parameterized.expand([(f"{fn}_{name}", fn, dt) for fn in BACKWARD for name, dt in _DTYPES])
    def test_backward_gradients(self, _, fn, dtype):
        _, _, grads = _run_backward(fn, dtype)
        for grad in _as_tuple(grads):
            self.assertEqual(grad.dtype, dtype)


@contextlib.contextmanager
def _strict():
    """Every floating-point flag raised and every warning an error."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _logistic(v: float) -> float:
    """Reference logistic function in Python floats, written without overflow."""
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


class Stability(unittest.TestCase):
    @parameterized.expand(_DTYPES)
    def test_sigmoid_saturates_exactly_without_flags(self, _, dtype):
        x = np.array([-1e4, -800.0, -100.0, 0.0, 100.0, 800.0, 1e4], dtype=dtype)
        with _strict():
            s = F.sigmoid(x)
        self.assertEqual(s.dtype, dtype)
        self.assertTrue(np.all(np.isfinite(s)))
        self.assertEqual((s[0], s[-1]), (0.0, 1.0))
        expected = np.array([_logistic(float(v)) for v in x])
        np.testing.assert_allclose(s, expected, rtol=1e-6, atol=1e-30)

    @parameterized.expand(_DTYPES)
    def test_softmax_loss_at_extreme_logits(self, _, dtype):
        # one row strongly right, one strongly wrong, one masked out
        x = np.array([[[1e4, -1e4, 0.0], [1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]]], dtype=dtype)
        y = np.array([[0, 1, 0]])
        mask = np.array([[True, True, False]])
        with _strict():
            loss, dx = F.temporal_softmax_loss(x, y, mask)
        # -log softmax: 0 for the right row, 1e4 - (-1e4) = 2e4 for the wrong one
        self.assertEqual(loss.dtype, dtype)
        self.assertAlmostEqual(float(loss), 2e4, delta=2e4 * 1e-6)
        expected = np.array([[[0, 0, 0], [1, -1, 0], [0, 0, 0]]], dtype=dtype)
        np.testing.assert_array_equal(dx, expected)

    @parameterized.expand(_DTYPES)
    def test_softmax_helpers_at_extreme_logits(self, _, dtype):
        x = np.array([[1e4, -1e4, 0.0]], dtype=dtype)
        with _strict():
            p, logp = F.softmax(x), F.log_softmax(x)
        np.testing.assert_array_equal(p, np.array([[1, 0, 0]], dtype=dtype))
        np.testing.assert_allclose(logp, np.array([[0, -2e4, -1e4]]), rtol=1e-6)

    @parameterized.expand(_DTYPES)
    def test_saturated_lstm_stays_finite(self, _, dtype):
        inputs = _inputs("lstm_forward", dtype)
        inputs["Wx"] = inputs["Wx"] * dtype(1e4)
        with np.errstate(over="raise", divide="raise", invalid="raise"), \
                warnings.catch_warnings():
            warnings.simplefilter("error")
            h, cache = F.lstm_forward(**inputs)
            grads = F.lstm_backward(np.ones_like(h), cache)
        for value in (h, *grads):
            self.assertTrue(np.all(np.isfinite(value)))


# ---- layer classes -----------------------------------------------------------------------

def _recurrent_layer(cls):
    G = cls.gates * H
    return (cls.__name__, lambda **kw: cls(D, H, **kw),
            {"Wx": (D, G), "Wh": (H, G), **{b: (G,) for b in cls.biases}})


LAYERS = [
    *(_recurrent_layer(cls) for cls in layers.RECURRENT.values()),
    ("WordEmbedding", lambda **kw: layers.WordEmbedding(V, D, **kw), {"W": (V, D)}),
    ("TemporalAffine", lambda **kw: layers.TemporalAffine(D, M, **kw), {"W": (D, M), "b": (M,)}),
    ("Affine", lambda **kw: layers.Affine(D, M, **kw), {"W": (D, M), "b": (M,)}),
]


def _layer_inputs(name: str, dtype=np.float64):
    """(forward args, the matching functional forward, params as its arguments)."""
    rng = np.random.default_rng(5)

    def f(*shape):
        return rng.standard_normal(shape).astype(dtype)
    recurrent = {cls.__name__: ((f(N, T, D), f(N, H)), cls._forward, ("Wx", "Wh", *cls.biases))
                 for cls in layers.RECURRENT.values()}
    return {
        **recurrent,
        "WordEmbedding": ((rng.integers(0, V, (N, T)),), F.word_embedding_forward, ("W",)),
        "TemporalAffine": ((f(N, T, D),), F.temporal_affine_forward, ("W", "b")),
        "Affine": ((f(N, D),), F.affine_forward, ("W", "b")),
    }[name]


class Layers(unittest.TestCase):
    @parameterized.expand([(n, make, shapes, dt) for n, make, shapes in LAYERS
                           for dt in (np.float64, np.float32)])
    def test_params_and_grads_names_shapes_dtypes(self, name, make, shapes, dtype):
        layer = make(rng=0, dtype=dtype)
        self.assertEqual(set(layer.params), set(shapes))
        self.assertEqual(set(layer.grads), set(shapes))
        for key, shape in shapes.items():
            self.assertEqual(layer.params[key].shape, shape)
            self.assertEqual(layer.params[key].dtype, dtype)
            self.assertEqual(layer.grads[key].shape, shape)
        if name not in ("RNN", "LSTM", "GRU"):  # those start as torch's: uniform biases too
            for key in ("b", "bx", "bh"):
                if key in shapes:
                    np.testing.assert_array_equal(layer.params[key], 0)

    @parameterized.expand([(n, make) for n, make, _ in LAYERS])
    def test_seeded_initialisation_is_reproducible(self, _, make):
        a, b = make(rng=3), make(rng=np.random.default_rng(3))
        for key in a.params:
            np.testing.assert_array_equal(a.params[key], b.params[key])

    @parameterized.expand([("RNN", 1), ("LSTM", 4), ("GRU", 3)])
    def test_recurrent_layers_start_as_torch_and_the_language_model(self, name, gates):
        from numpy_rnn.lm.model import LanguageModel

        layer = getattr(layers, name)(50, 64, rng=0)
        bound = 1 / np.sqrt(64)
        model = LanguageModel(30, 50, 64, cell=name.lower(), rng=0)
        for key, value in layer.params.items():
            self.assertLessEqual(np.abs(value).max(), bound)
            self.assertGreater(np.abs(value).max(), 0.9 * bound)  # uniform, not 0.02 N(0, 1)
            self.assertAlmostEqual(float(value.std()), bound / np.sqrt(3), delta=0.1 * bound)
            self.assertAlmostEqual(float(value.std()), float(model.params["rnn." + key].std()),
                                   delta=0.1 * bound)
        self.assertEqual(layer.params["Wx"].shape, (50, gates * 64))

    @parameterized.expand([(n, make) for n, make, _ in LAYERS[:2]])
    def test_h0_is_optional_and_means_zeros(self, name, make):
        layer = make(rng=0)
        x = np.random.default_rng(1).standard_normal((N, T, D))
        np.testing.assert_array_equal(layer.forward(x), layer.forward(x, np.zeros((N, H))))

    def test_init_scale_sets_the_weight_spread(self):
        big = layers.LSTM(50, 60, init_scale=0.02, rng=0)
        self.assertAlmostEqual(float(big.params["Wh"].std()), 0.02, delta=0.002)
        emb = layers.WordEmbedding(500, 40, rng=0)
        self.assertAlmostEqual(float(emb.params["W"].std()), 1.0, delta=0.05)

    @parameterized.expand([(n, make) for n, make, _ in LAYERS])
    def test_forward_reads_current_params(self, name, make):
        layer = make(rng=0)
        args, functional_forward, order = _layer_inputs(name)
        rng = np.random.default_rng(9)
        first = order[0]
        layer.params[first] = rng.standard_normal(layer.params[first].shape)  # replaced
        if len(order) > 1:
            layer.params[order[1]] *= 3.0  # changed in place
            layer.params[order[-1]] += 0.25
        expected, _ = functional_forward(*args, *(layer.params[k] for k in order))
        np.testing.assert_array_equal(layer.forward(*args), expected)

    @parameterized.expand([(n, make) for n, make, _ in LAYERS])
    def test_backward_before_forward_is_an_error(self, name, make):
        layer = make(rng=0)
        with self.assertRaisesRegex(RuntimeError, f"{name}.backward called before forward"):
            layer.backward(np.ones((N, T, H)))

    @parameterized.expand([(n, make) for n, make, _ in LAYERS])
    def test_backward_fills_grads_like_the_functional_core(self, name, make):
        layer = make(rng=0)
        args, functional_forward, order = _layer_inputs(name)
        out = layer.forward(*args)
        dout = np.random.default_rng(4).standard_normal(out.shape)
        returned = layer.backward(dout)
        _, cache = functional_forward(*args, *(layer.params[k] for k in order))
        backward = {**{cls.__name__: cls._backward for cls in layers.RECURRENT.values()},
                    "WordEmbedding": F.word_embedding_backward,
                    "TemporalAffine": F.temporal_affine_backward,
                    "Affine": F.affine_backward}[name]
        expected = backward(dout, cache)
        if name == "WordEmbedding":
            self.assertIsNone(returned)
            np.testing.assert_array_equal(layer.grads["W"], expected)
            return
        n_inputs = len(expected) - len(order)
        param_grads = dict(zip(order, expected[n_inputs:], strict=True))
        for key, value in param_grads.items():
            np.testing.assert_array_equal(layer.grads[key], value)
        returned = returned if isinstance(returned, tuple) else (returned,)
        for got, want in zip(returned, expected[:n_inputs], strict=True):
            np.testing.assert_array_equal(got, want)

    @parameterized.expand([
        ("zero size", lambda: layers.RNN(0, 3), "input_dim"),
        ("float size", lambda: layers.LSTM(3, 2.5), "hidden_dim"),
        ("int dtype", lambda: layers.Affine(2, 3, dtype=np.int32), "dtype"),
        ("bad rng", lambda: layers.WordEmbedding(4, 2, rng="seed"), "rng"),
    ])
    def test_constructor_rejects_bad_arguments(self, _, make, word):
        with self.assertRaisesRegex(ValueError, word):
            make()


class ImportHygiene(unittest.TestCase):
    def test_import_pulls_no_optional_dependency(self):
        code = ("import sys, numpy_rnn; "
                "print(sorted(m for m in ('torch', 'matplotlib', 'tqdm') if m in sys.modules))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        self.assertEqual(out.stdout.strip(), "[]")


if __name__ == "__main__":
    unittest.main()
