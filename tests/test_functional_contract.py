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

N, T, D, H, V, M = (ERROR_SIZES[k] for k in "NTDHVM")


def _functional_entries() -> dict:
    """Forward function -> the first functional catalog entry calling it (its cases make the
    inputs; a new component is covered at once)."""
    found = {}
    for c in CATALOG.values():
        if c.scope == "functional" and c.build is not None:
            found.setdefault(c.functions[0], c)
    return found


ENTRIES = _functional_entries()
# helpers of the functional API that are no component of their own: valid inputs
_HELPERS = {"softmax": lambda f: dict(x=f(N, T, V)), "log_softmax": lambda f: dict(x=f(N, T, V))}


def _inputs(fn: str, dtype=np.float64, seed=0) -> dict:
    """Valid keyword arguments of the forward function ``fn``."""
    if fn in _HELPERS:
        rng = np.random.default_rng(seed)
        return _HELPERS[fn](lambda *shape: rng.standard_normal(shape).astype(dtype))
    entry = ENTRIES[fn]
    case = entry.sized_case(np.dtype(dtype).name, ERROR_SIZES, seed, label="contract")
    return {**case.inputs, **entry.options}


# backward function -> (its forward, number of forward outputs, upstream argument names)
BACKWARD = {}
for _fn, _entry in ENTRIES.items():
    if len(_entry.signature) == 2:
        _backward, (_upstream, _) = list(_entry.signature.items())[1]
        BACKWARD[_backward] = (_fn, len(_upstream) - 1, _upstream[:-1])
FORWARD = [*ENTRIES, *_HELPERS]


def _run_backward(fn: str, dtype=np.float64, cache=None):
    """Run the forward of ``fn`` on valid inputs, then ``fn`` with upstream gradients
    shaped like the forward outputs. Returns (inputs, upstream, grads)."""
    forward, n_out, names = BACKWARD[fn]
    inputs = _inputs(forward, dtype)
    result = getattr(F, forward)(**inputs)
    outputs, own_cache = result[:n_out], result[n_out]
    rng = np.random.default_rng(1)
    upstream = {name: rng.standard_normal(out.shape).astype(dtype)
                for name, out in zip(names, outputs, strict=True)}
    grads = getattr(F, fn)(**upstream, cache=own_cache if cache is None else cache)
    return inputs, upstream, grads


def _other_cache():
    return F.lstm_forward(**_inputs("lstm_forward"))[1]


def _catalog_errors():
    """Every catalog entry's error inputs: (label, entry name, ErrorInput)."""
    return [(e.label.replace(" ", "_"), c.name, e) for c in CATALOG.values() for e in c.errors]


def _call_entry(component, error):
    """Call ``error.function`` with valid inputs of ``component`` changed by ``error`` (a
    backward after its forward; a helper of the component with the overrides alone)."""
    case = component.sized_case("float64", ERROR_SIZES, label="errors")
    forward, backward = (*component.functions, None)[:2]
    inputs = {**case.inputs, **component.options}
    if error.function == forward:
        return getattr(F, forward)(**error.arguments(inputs))
    if error.function != backward:
        return getattr(F, error.function)(**error.arguments({}))
    *_, cache = getattr(F, forward)(**inputs)
    upstream = {"d" + k: v for k, v in case.upstream.items()}
    return getattr(F, backward)(**error.arguments(upstream), cache=cache)


class BadInputs(unittest.TestCase):
    """Bad inputs raise ValueError/IndexError whose message names the argument and shows the
    expected and the actual shape, dtype or value."""

    @parameterized.expand(_catalog_errors())
    def test_catalog_error_inputs(self, _, name, error):
        with self.assertRaises(error.exception) as ctx:
            _call_entry(CATALOG[name], error)
        for fragment in error.fragments:
            self.assertIn(fragment, str(ctx.exception))

    def test_every_functional_function_has_error_inputs(self):
        refused = {e.function for c in CATALOG.values() for e in c.errors}
        self.assertEqual(sorted(set(FORWARD) - refused), [])
        self.assertEqual(sorted(set(BACKWARD) - refused), [])

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

    @parameterized.expand([(fn,) for fn in BACKWARD])
    def test_outputs_do_not_alias_the_cache(self, backward):
        forward, n_out, _ = BACKWARD[backward]
        result = getattr(F, forward)(**_inputs(forward))
        outputs, cache = result[:n_out], result[n_out]
        rng = np.random.default_rng(3)
        douts = [rng.standard_normal(out.shape) for out in outputs]
        expected = _as_tuple(getattr(F, backward)(*douts, cache))
        for out in outputs:
            out[...] = 123.0  # a caller may reuse the output buffers
        for a, b in zip(_as_tuple(getattr(F, backward)(*douts, cache)), expected, strict=True):
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
