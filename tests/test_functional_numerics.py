"""Numerical gradient checks of every backward pass of numpy_rnn.functional (float64).

Every functional catalog entry with a gradient, its inputs drawn by the entry's
build and run as its signature says, at the sizes below (N=1, T=1, H=1, D == H):
one test compares every analytic gradient with central differences
(numpy_rnn.core.gradcheck) and reports the documents' rel_error.
"""
import unittest
from typing import Callable, NamedTuple

import numpy as np
from parameterized import parameterized

from numpy_rnn import functional as F
from numpy_rnn.core.gradcheck import (
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    rel_error,
)
from torch_ref.catalog import CATALOG
from torch_ref.tolerances import GRADCHECK

# The hw3 notebook's threshold for every gradient check (the assignment's cells reach
# 1e-7 to 1e-11 on its own shapes; entries with small gradients set the worst case).
TOLERANCE = GRADCHECK


class Checked(NamedTuple):
    """inputs(sizes) -> dict, drawn by the entry's build; forward(inputs) -> (outputs
    tuple, cache); backward(upstream tuple, cache, inputs) -> dict input name -> gradient
    (every one checked); wrt: the inputs named in the signature; scalar: the single output
    is a loss (checked with eval_numerical_gradient)."""

    inputs: Callable
    forward: Callable
    backward: Callable
    wrt: tuple
    scalar: bool = False


def _as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def _checked(entry):
    """A functional catalog entry as a :class:`Checked`, from its signature: a forward/backward
    pair, or a loss returning its gradient with the loss (the "cache" is that gradient).
    Every input the backward returns a gradient of is checked. A signature ending in
    ``**weights`` / ``*dweights`` (the stacked networks) takes its weights as keyword
    arguments and returns their gradients in the order they were given."""
    (forward, (args, returned)), *rest = entry.signature.items()
    if rest:
        grads = rest[0][1][1]
        n_outputs = len(returned) - 1  # the cache last
    else:
        grads, n_outputs = returned[1:], 1
    wrt = tuple(g.removeprefix("d") for g in grads if not g.startswith("*"))
    fixed = tuple(a for a in args if not a.startswith("*"))

    def fwd(inputs):
        result = getattr(F, forward)(**inputs)
        return result[:n_outputs], result[n_outputs]

    def bwd(upstream, cache, inputs):
        if not rest:
            return {wrt[0]: cache}
        names = wrt + (tuple(k for k in inputs if k not in fixed and k not in entry.options)
                       if grads[-1].startswith("*") else ())
        return dict(zip(names, _as_tuple(getattr(F, rest[0][0])(*upstream, cache)),
                        strict=True))

    def inputs(sizes):
        return {**entry.sized_case("float64", sizes, label="gradcheck").inputs, **entry.options}
    return Checked(inputs, fwd, bwd, wrt, scalar=not rest)


# every functional entry of the catalog with a gradient (each cell, one step and
# sequences, variants; embedding, affine layers, losses)
COMPONENTS = {name: _checked(entry) for name, entry in CATALOG.items()
              if entry.scope == "functional" and entry.build is not None
              and len(next(iter(entry.signature.values()))[1]) > 1}


_SEQ = {"ordinary": dict(N=3, T=4, D=5, H=6), "N=1": dict(N=1, T=3, D=4, H=5),
        "T=1": dict(N=2, T=1, D=4, H=5), "H=1": dict(N=2, T=3, D=4, H=1),
        "D==H": dict(N=2, T=3, D=4, H=4)}
_STEP = {k: v for k, v in _SEQ.items() if k != "T=1"}
# every weight of a network is checked: small ones (with rel_error at least 30x below the
# threshold: an element of a gradient near zero makes central differences noisy)
_STACKED = {"2 layers bidirectional": dict(N=2, T=2, D=3, H=3, layers=2, directions=2),
            "3 layers": dict(N=2, T=2, D=2, H=2, layers=3, directions=1),
            "1 layer bidirectional T=1": dict(N=2, T=1, D=3, H=2, layers=1, directions=2),
            "N=1 H=1": dict(N=1, T=3, D=2, H=1, layers=2, directions=2)}
_SHAPES = {
    **{name: _STACKED if "_stacked" in name else _STEP if "_step" in name else _SEQ
       for name in COMPONENTS if CATALOG[name].cell},
    "word_embedding": {"ordinary": dict(N=2, T=4, V=5, D=3), "N=1": dict(N=1, T=3, V=4, D=2),
                       "T=1": dict(N=3, T=1, V=6, D=2), "V=1": dict(N=2, T=2, V=1, D=3)},
    "temporal_affine": {"ordinary": dict(N=2, T=3, D=4, M=5), "N=1 T=1": dict(N=1, T=1, D=3, M=2),
                        "D==M": dict(N=2, T=2, D=3, M=3)},
    "affine": {"ordinary": dict(N=3, D=4, M=5), "N=1": dict(N=1, D=3, M=2),
               "M=1": dict(N=4, D=3, M=1)},
    "temporal_softmax_loss": {"ordinary": dict(N=3, T=4, V=5), "N=1": dict(N=1, T=3, V=4),
                              "T=1": dict(N=3, T=1, V=4), "V=1": dict(N=2, T=2, V=1)},
    "mse_loss": {"ordinary": dict(N=4, M=3), "N=1 M=1": dict(N=1, M=1)},
    "rnn_classifier": {"2 layers": dict(N=2, T=3, D=3, H=3, M=2, layers=2),
                       "3 layers N=1": dict(N=1, T=2, D=2, H=2, M=2, layers=3),
                       "1 layer T=1 H=1": dict(N=2, T=1, D=3, H=1, M=3, layers=1)},
}
# the GRU without biases is gru_step_reset_before with its biases zero: the same code,
# checked there (central differences of a gradient of zero biases only measure noise)
_SHAPES.pop("gru_step_reset_before_nobias", None)

CASES = [(f"{name} {label}".replace(" ", "_").replace("=", ""), name, sizes)
         for name, shapes in _SHAPES.items() for label, sizes in shapes.items()]


def _numerical_gradient(component, inputs, upstream, name):
    """Central differences of sum(outputs * upstream) w.r.t. inputs[name]."""
    target = inputs[name]
    if component.scalar:
        return eval_numerical_gradient(lambda _: component.forward(inputs)[0][0], target)
    total = np.zeros(target.shape)
    for k, df in enumerate(upstream):
        total += eval_numerical_gradient_array(lambda _, k=k: component.forward(inputs)[0][k],
                                               target, df)
    return total


class NumericalGradients(unittest.TestCase):
    @parameterized.expand(CASES)
    def test_backward_matches_central_differences(self, _, name, sizes):
        component = COMPONENTS[name]
        rng = np.random.default_rng(231)
        inputs = component.inputs(sizes)
        outputs, cache = component.forward(inputs)
        upstream = tuple(rng.standard_normal(np.shape(out)) for out in outputs)
        analytic = component.backward(upstream, cache, inputs)
        self.assertLessEqual(set(component.wrt), set(analytic))
        for wrt in analytic:
            numeric = _numerical_gradient(component, inputs, upstream, wrt)
            self.assertEqual(analytic[wrt].shape, numeric.shape, wrt)
            error = rel_error(numeric, analytic[wrt])
            self.assertLess(error, TOLERANCE, f"{name} {sizes}: d{wrt} rel_error {error:.2e}")


def _chain_steps(kind, inputs, dh):
    """Forward by repeated step_forward, backward by chaining step_backward in reverse."""
    x, h0, Wx, Wh, b = (inputs[k] for k in ("x", "h0", "Wx", "Wh", "b"))
    N, T, _ = x.shape
    h, caches, hs = h0, [], []
    c = np.zeros_like(h0)
    for t in range(T):
        if kind == "lstm":
            h, c, cache = F.lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        else:
            h, cache = F.rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    grads = {"x": np.zeros_like(x), "Wx": 0, "Wh": 0, "b": 0}
    dnext_h, dnext_c = np.zeros_like(h0), np.zeros_like(h0)
    for t in reversed(range(T)):
        if kind == "lstm":
            dx, dnext_h, dnext_c, dWx, dWh, db = F.lstm_step_backward(
                dh[:, t] + dnext_h, dnext_c, caches[t])
        else:
            dx, dnext_h, dWx, dWh, db = F.rnn_step_backward(dh[:, t] + dnext_h, caches[t])
        grads["x"][:, t] = dx
        grads["Wx"] = grads["Wx"] + dWx
        grads["Wh"] = grads["Wh"] + dWh
        grads["b"] = grads["b"] + db
    grads["h0"] = dnext_h
    return np.stack(hs, axis=1), grads


class SequenceIsStepOverTime(unittest.TestCase):
    @parameterized.expand([(f"{kind}_{label}".replace("=", ""), kind, sizes)
                           for kind in ("rnn", "lstm") for label, sizes in _SEQ.items()])
    def test_sequence_equals_chained_steps(self, _, kind, sizes):
        rng = np.random.default_rng(7)
        inputs = COMPONENTS[kind].inputs(sizes)
        forward, backward = (F.lstm_forward, F.lstm_backward) if kind == "lstm" else (
            F.rnn_forward, F.rnn_backward)
        h, cache = forward(**inputs)
        dh = rng.standard_normal(h.shape)
        dx, dh0, dWx, dWh, db = backward(dh, cache)
        h_steps, grads = _chain_steps(kind, inputs, dh)
        np.testing.assert_allclose(h, h_steps, rtol=1e-12, atol=1e-14)
        for name, value in (("x", dx), ("h0", dh0), ("Wx", dWx), ("Wh", dWh), ("b", db)):
            np.testing.assert_allclose(value, grads[name], rtol=1e-11, atol=1e-13, err_msg=name)


class GradcheckHelpers(unittest.TestCase):
    def test_numerical_gradient_restores_input_exactly(self):
        x = np.random.default_rng(0).standard_normal((3, 4))
        before = x.copy()
        grad = eval_numerical_gradient(lambda v: np.sum(np.sin(v)), x)
        np.testing.assert_array_equal(x, before)
        np.testing.assert_allclose(grad, np.cos(x), rtol=1e-8)

    def test_array_gradient_is_vector_jacobian_product(self):
        rng = np.random.default_rng(1)
        x, df = rng.standard_normal(5), rng.standard_normal(5)
        np.testing.assert_allclose(eval_numerical_gradient_array(np.exp, x, df),
                                   np.exp(x) * df, rtol=1e-8)

    def test_rel_error_is_the_documents_formula(self):
        self.assertAlmostEqual(rel_error(np.array([1.0, 0.0]), np.array([3.0, 0.0])), 0.5)
        self.assertAlmostEqual(rel_error(np.array([1e-9]), np.array([0.0])), 0.1)

    @parameterized.expand([("float32", np.float32), ("int", np.int64)])
    def test_rejects_non_float64_targets(self, _, dtype):
        with self.assertRaisesRegex(ValueError, "float64"):
            eval_numerical_gradient(np.sum, np.ones(3, dtype=dtype))


if __name__ == "__main__":
    unittest.main()
