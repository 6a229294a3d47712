"""First-order optimisers over ``params``/``grads`` dicts, and global-norm clipping.

Every model in the package exposes ``params`` and ``grads``: dicts from a
parameter name (``'rnn.Wx'``) to a NumPy array. An optimiser's ``step(params,
grads)`` updates each ``params[name]`` in place from ``grads[name]`` and keeps
its own state (momentum buffers, Adam moments) per name. The updates follow
``torch.optim.SGD`` and ``torch.optim.Adam`` operation for operation, so that the
same gradients give the same parameters up to rounding.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["SGD", "Adam", "clip_grad_norm"]


def _check_pair(params: dict, grads: dict) -> None:
    """Raise ``ValueError`` unless ``params`` and ``grads`` hold the same names and shapes."""
    missing = sorted(set(params) - set(grads))
    extra = sorted(set(grads) - set(params))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no gradient for parameter(s) {missing}")
        if extra:
            parts.append(f"gradient(s) {extra} for no parameter")
        raise ValueError("grads must have the same keys as params: " + "; ".join(parts))
    for name, value in params.items():
        grad = grads[name]
        if not isinstance(value, np.ndarray):
            raise ValueError(f"params[{name!r}] must be a NumPy array (updated in place), "
                             f"got {type(value).__name__}")
        if grad is None:
            raise ValueError(f"grads[{name!r}] is None: run the backward pass before step()")
        grad = np.asarray(grad)
        if grad.shape != value.shape:
            raise ValueError(f"grads[{name!r}] has shape {grad.shape}, expected {value.shape} "
                             f"(the shape of params[{name!r}])")
        if not np.issubdtype(value.dtype, np.floating):
            raise ValueError(f"params[{name!r}] must be a float array, got dtype {value.dtype}")


class _Optimizer:
    """Shared bookkeeping: learning rate, per-name state, shape checks."""

    def __init__(self, lr: float):
        lr = float(lr)
        if not math.isfinite(lr) or lr < 0:
            raise ValueError(f"lr must be a finite number >= 0, got {lr}")
        self.lr = lr
        self.state: dict = {}

    def _state_for(self, name: str, value: np.ndarray) -> dict:
        state = self.state.setdefault(name, {})
        for key, buffer in state.items():
            if isinstance(buffer, np.ndarray) and buffer.shape != value.shape:
                raise ValueError(f"params[{name!r}] has shape {value.shape}, but the optimiser "
                                 f"state {key!r} was built for shape {buffer.shape}; use a new "
                                 "optimiser for a new model")
        return state

    def step(self, params: dict, grads: dict) -> None:
        """Update every ``params[name]`` in place from ``grads[name]``.

        params: dict name -> float array (any shape), modified in place.
        grads:  dict with the same names and shapes (not modified).
        Raises ValueError for missing/extra names or mismatched shapes.
        """
        _check_pair(params, grads)
        for name, value in params.items():
            grad = np.asarray(grads[name], dtype=value.dtype)
            self._update(value, grad, self._state_for(name, value))

    def _update(self, param, grad, state) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(_Optimizer):
    """Stochastic gradient descent with optional (heavy-ball) momentum.

    As ``torch.optim.SGD`` without dampening or weight decay: the momentum buffer
    starts as the first gradient, then ``buf = momentum * buf + grad``, and
    ``param -= lr * buf``.

    lr:       learning rate (>= 0).
    momentum: momentum factor in [0, 1); 0 is plain SGD.
    """

    def __init__(self, lr: float, momentum: float = 0.0):
        super().__init__(lr)
        momentum = float(momentum)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum

    def _update(self, param, grad, state) -> None:
        direction = grad
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= self.momentum
                buf += grad
            direction = buf
        param -= self.lr * direction


class Adam(_Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (no weight decay, no amsgrad).

    Per parameter, at step ``t`` (starting at 1)::

        m = m + (1 - beta1) * (g - m)            # = beta1 m + (1 - beta1) g
        v = beta2 * v + (1 - beta2) * g * g
        param -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    lr:    learning rate (>= 0).
    beta1: decay of the first moment, in [0, 1).
    beta2: decay of the second moment, in [0, 1).
    eps:   added to the denominator (>= 0).
    """

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= float(beta) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {beta}")
        if not float(eps) >= 0.0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _update(self, param, grad, state) -> None:
        if "m" not in state:
            state["t"] = 0
            state["m"] = np.zeros_like(param)
            state["v"] = np.zeros_like(param)
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m += (1.0 - self.beta1) * (grad - m)
        v *= self.beta2
        v += (1.0 - self.beta2) * (grad * grad)
        step_size = self.lr / (1.0 - self.beta1 ** t)
        denom = np.sqrt(v) / math.sqrt(1.0 - self.beta2 ** t)
        denom += self.eps
        param -= step_size * (m / denom)


def clip_grad_norm(grads: dict, max_norm: float, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients in place so that their global 2-norm is at most ``max_norm``.

    Same rule as ``torch.nn.utils.clip_grad_norm_``: ``total = sqrt(sum of
    squared entries of every gradient)``; every gradient is multiplied by
    ``min(1, max_norm / (total + 1e-6))``. Like the torch function it works in
    place (on the arrays held by ``grads``) and returns the norm before clipping.

    grads:              dict name -> float array; the arrays are scaled in place.
    max_norm:           largest allowed global norm (> 0).
    error_if_nonfinite: raise ValueError when the norm is NaN or infinite
                        (otherwise the gradients become NaN, as in torch).
    Returns: the total norm before clipping (a Python float).
    """
    max_norm = float(max_norm)
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    arrays = []
    for name, grad in grads.items():
        if not isinstance(grad, np.ndarray) or not np.issubdtype(grad.dtype, np.floating):
            raise ValueError(f"grads[{name!r}] must be a float NumPy array (scaled in place), "
                             f"got {type(grad).__name__}")
        arrays.append(grad)
    if not arrays:
        return 0.0
    norms = np.array([np.linalg.norm(g.ravel()) for g in arrays], dtype=arrays[0].dtype)
    total = np.linalg.norm(norms)
    if error_if_nonfinite and not np.isfinite(total):
        raise ValueError(f"the total gradient norm is {float(total)}; cannot clip it")
    with np.errstate(invalid="ignore", over="ignore"):
        # np.minimum keeps NaN (torch's clamp does too); an infinite norm gives 0
        coef = np.minimum(max_norm / (np.float64(total) + 1e-6), 1.0)
        for grad in arrays:
            grad *= coef
    return float(total)
