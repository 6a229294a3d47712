"""Sequence-to-one RNN regressor: a tanh RNN read out once, after the last timestep.

Equations (column vectors, as the specification documents write them)::

    s(t)  = W^T x(t) + R^T a(t-1) + bs        a(0) = 0
    a(t)  = tanh(s(t))                         t = 1 .. T
    y_hat = V^T a(T) + by

Parameters, kept in ``params`` (gradients in ``grads``, same keys and shapes):

=======  ==========  =================================
name     shape       what
=======  ==========  =================================
``W``    ``(D, H)``  input-to-hidden weights
``R``    ``(H, H)``  hidden-to-hidden (recurrent) weights
``bs``   ``(H,)``    hidden bias
``V``    ``(H, M)``  hidden-to-output weights
``by``   ``(M,)``    output bias
=======  ==========  =================================

A batch ``x (N, T, D)`` gives ``y_hat (N, M)``; a single sequence ``x (T, D)``
gives ``y_hat (M,)``. Row-vector form used by the code: ``s = x W + a R + bs``.
"""
from __future__ import annotations

import numpy as np

from numpy_rnn.core.rnn import rnn_backward_with_states, rnn_forward
from numpy_rnn.core.validation import ArgChecker, float_dtype, generator, positive_int

__all__ = ["INITS", "PARAM_NAMES", "Seq2OneRNN"]

INITS = ("uniform", "identity")
PARAM_NAMES = ("W", "R", "bs", "V", "by")
UNIFORM_LIMIT = 0.2  # the slides' U(-0.2, 0.2)


def _lecun_uniform(rng, fan_in: int, shape) -> np.ndarray:
    """U(-sqrt(3 / fan_in), +sqrt(3 / fan_in)): unit variance of ``x W`` for unit-variance x."""
    limit = np.sqrt(3.0 / fan_in)
    return rng.uniform(-limit, limit, shape)


class Seq2OneRNN:
    """Tanh RNN over a sequence followed by an affine readout of the last hidden state.

    input_size:  D, features per timestep.
    hidden_size: H, hidden units.
    output_size: M, outputs.
    init:        ``'uniform'``: W, R, V ~ U(-0.2, 0.2), zero biases (the slides);
                 ``'identity'``: R = I, W and V LeCun uniform
                 U(-sqrt(3 / fan_in), +sqrt(3 / fan_in)) with fan_in D and H, zero
                 biases (the notebook).
    rng:         None, an int seed or a ``np.random.Generator`` for the initial weights.
    dtype:       float64 (default) or float32; inputs must have this dtype.

    After :meth:`backward`, ``grads`` holds dL/dparam (summed over time and batch)
    and ``hidden_grads`` holds dL/da(t) for every timestep: ``(N, T, H)``, or
    ``(T, H)`` for a single sequence.
    """

    def __init__(self, input_size, hidden_size, output_size, init="uniform", rng=None,
                 dtype=np.float64):
        D = self.input_size = positive_int("input_size", input_size)
        H = self.hidden_size = positive_int("hidden_size", hidden_size)
        M = self.output_size = positive_int("output_size", output_size)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.init = init
        self.dtype = float_dtype(dtype)
        rng = generator(rng)
        if init == "uniform":
            lim = UNIFORM_LIMIT
            W = rng.uniform(-lim, lim, (D, H))
            R = rng.uniform(-lim, lim, (H, H))
            V = rng.uniform(-lim, lim, (H, M))
        else:
            W = _lecun_uniform(rng, D, (D, H))
            R = np.eye(H)
            V = _lecun_uniform(rng, H, (H, M))
        self.params = {"W": W, "R": R, "bs": np.zeros(H), "V": V, "by": np.zeros(M)}
        self.params = {k: v.astype(self.dtype) for k, v in self.params.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.hidden_grads = None
        self._cache = None
        self._has_grads = False

    # ---- shapes --------------------------------------------------------------------

    def expected_shapes(self) -> dict:
        """Parameter name -> shape."""
        return {k: v.shape for k, v in self.params.items()}

    def _batched_input(self, x):
        """``(x (N, T, D), single)`` where ``single`` says ``x`` was one ``(T, D)`` sequence."""
        x = np.asarray(x)
        D = self.input_size
        if x.ndim not in (2, 3):
            raise ValueError(f"Seq2OneRNN.forward: x must have shape (N, T, D) or (T, D) "
                             f"with D={D}, got {x.ndim}-D shape {x.shape}")
        chk = ArgChecker("Seq2OneRNN.forward", {"D": D}, "the model's input_size")
        chk.float_array("x", x, ("T", "D") if x.ndim == 2 else ("N", "T", "D"))
        if x.dtype != self.dtype:
            raise ValueError(f"Seq2OneRNN.forward: x must have the model's dtype {self.dtype}, "
                             f"got {x.dtype}")
        return (x[None], True) if x.ndim == 2 else (x, False)

    # ---- forward / backward ----------------------------------------------------------

    def forward(self, x):
        """Run the RNN over ``x`` and read out the last hidden state.

        x: (N, T, D) batch, or (T, D) one sequence; dtype must be the model's.
        Returns: y_hat (N, M), or (M,) for one sequence.
        """
        x, single = self._batched_input(x)
        p = self.params
        h0 = np.zeros((x.shape[0], self.hidden_size), dtype=self.dtype)
        a, rnn_cache = rnn_forward(x, h0, p["W"], p["R"], p["bs"])
        y_hat = a[:, -1] @ p["V"] + p["by"]
        self._cache = (a, rnn_cache, single)
        return y_hat[0] if single else y_hat

    def backward(self, dy_hat):
        """Back-propagate ``dy_hat`` through the last forward pass.

        dy_hat: (N, M), or (M,) when forward had one sequence: dL/dy_hat.
        Returns: dx, the shape of forward's x. Fills ``grads`` (dW (D, H), dR (H, H),
        dbs (H,), dV (H, M), dby (M,), summed over time and batch) and
        ``hidden_grads`` (dL/da(t): (N, T, H), or (T, H) for one sequence).
        """
        if self._cache is None:
            raise RuntimeError("backward() needs a forward() first")
        a, rnn_cache, single = self._cache
        N = a.shape[0]
        M = self.output_size
        chk = ArgChecker("Seq2OneRNN.backward", {"N": N, "M": M}, "the forward pass",
                         dtype=self.dtype)
        dy = chk.float_array("dy_hat", dy_hat, ("M",) if single else ("N", "M"))
        dy = dy[None] if single else dy
        p = self.params
        # only the last hidden state is read out
        da = np.zeros_like(a)
        da[:, -1] = dy @ p["V"].T
        (dx, _, dW, dR, dbs), dstates = rnn_backward_with_states(da, rnn_cache)
        self.grads = {"W": dW, "R": dR, "bs": dbs, "V": a[:, -1].T @ dy, "by": dy.sum(axis=0)}
        self.hidden_grads = dstates[0] if single else dstates
        self._has_grads = True
        return dx[0] if single else dx

    def update(self, lr: float) -> None:
        """One plain gradient-descent step ``param -= lr * grad`` with the last ``grads``.

        lr: learning rate (finite, >= 0). Raises RuntimeError unless backward() ran since
        the last update.
        """
        lr = float(lr)
        if not np.isfinite(lr) or lr < 0:
            raise ValueError(f"lr must be a finite number >= 0, got {lr}")
        if not self._has_grads:
            raise RuntimeError("update() needs gradients: call backward() first")
        for name, value in self.params.items():
            value -= self.dtype.type(lr) * self.grads[name]
        self._has_grads = False

    # ---- weights -------------------------------------------------------------------

    def get_weights(self) -> dict:
        """Copies of the parameters: dict ``W, R, bs, V, by`` -> array."""
        return {k: v.copy() for k, v in self.params.items()}

    def set_weights(self, weights: dict) -> None:
        """Copy ``weights[name]`` into every parameter in place (optimiser state stays valid).

        weights: dict with exactly the keys ``W, R, bs, V, by`` and arrays of the shapes
        in :meth:`expected_shapes` (cast to the model's dtype).
        Raises ValueError naming a missing or unknown key, or a mis-shaped or non-finite array.
        """
        if not isinstance(weights, dict):
            raise ValueError(f"weights must be a dict, got {type(weights).__name__}")
        missing = [k for k in PARAM_NAMES if k not in weights]
        unknown = sorted(str(k) for k in weights if k not in self.params)
        if missing:
            raise ValueError(f"weights is missing key(s) {missing}; expected exactly "
                             f"{list(PARAM_NAMES)}")
        if unknown:
            raise ValueError(f"weights has unknown key(s) {unknown}; expected exactly "
                             f"{list(PARAM_NAMES)}")
        arrays = {}
        for name, target in self.params.items():
            value = np.asarray(weights[name])
            if value.shape != target.shape:
                raise ValueError(f"weights[{name!r}] must have shape {target.shape}, "
                                 f"got {value.shape}")
            if value.dtype.kind not in "fiu" or not np.all(np.isfinite(value)):
                raise ValueError(f"weights[{name!r}] must hold finite real numbers, "
                                 f"got dtype {value.dtype}"
                                 + (" with NaN or Inf" if value.dtype.kind in "fiu" else ""))
            arrays[name] = value
        for name, target in self.params.items():
            np.copyto(target, arrays[name], casting="unsafe")
