"""A sequence classifier: a stacked RNN read out by an affine layer at the last step.

What ``torch.nn.RNN(D, H, num_layers=L, batch_first=True)`` followed by
``torch.nn.Linear(H, M)`` on the output of the last timestep computes (the CMU 11-785
"RNN phoneme classifier"), composed from :func:`~numpy_rnn.core.stacked.rnn_stacked_forward`
and :func:`~numpy_rnn.core.affine.affine_forward` (no second copy of either's maths)::

    logits, cache = rnn_classifier_forward(x, h0, w, b, Wx_l0=..., Wh_l0=..., b_l0=..., ...)
    dx, dh0, dw, db, dWx_l0, dWh_l0, db_l0, ... = rnn_classifier_backward(dlogits, cache)

``x (N, T, D)``, ``h0 (L, N, H)``; the readout ``w (H, M)``, ``b (M,)`` multiplies on the
right (NumPy's layout; ``nn.Linear.weight`` is ``w.T``); the RNN's weights are the
stacked network's keyword arguments (``Wx_l0 (D, H)``, ``Wx_l{k} (H, H)`` above,
``Wh_l{k} (H, H)``, ``b_l{k} (H,)``), forward only. The logits depend on the last
hidden state of the top layer alone, so the gradients of every other output of the
stack are zero.
"""
from __future__ import annotations

import contextlib
from typing import NamedTuple

import numpy as np

from numpy_rnn.core.affine import affine_backward, affine_forward
from numpy_rnn.core.stacked import rnn_stacked_backward, rnn_stacked_forward
from numpy_rnn.core.validation import ArgChecker, check_cache

__all__ = ["rnn_classifier_forward", "rnn_classifier_backward"]


@contextlib.contextmanager
def _as(fn: str, inner: str):
    """A ``ValueError`` of ``inner`` named as ``fn``'s (the caller called ``fn``)."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(str(exc).replace(inner, fn, 1)) from None


class _ClassifierCache(NamedTuple):
    stacked: tuple
    readout: tuple
    hidden_shape: tuple  # (N, T, H) of the top layer's output


def rnn_classifier_forward(x, h0, w, b, **weights):
    """Logits of the last timestep of a stacked (forward only) vanilla RNN.

    x:        (N, T, D) input sequences.
    h0:       (L, N, H) initial hidden state of every layer.
    w:        (H, M) readout weights.  b: (M,) readout bias.
    weights:  ``Wx_l{k}``, ``Wh_l{k}``, ``b_l{k}`` of each layer k (see
              :func:`~numpy_rnn.core.stacked.rnn_stacked_forward`); no ``_reverse``.

    Returns ``(logits, cache)``: logits (N, M) = ``h[:, -1] @ w + b`` where ``h`` is the
    top layer's output, and the cache for :func:`rnn_classifier_backward`.
    """
    fn = "rnn_classifier_forward"
    reverse = sorted(k for k in weights if k.endswith("_reverse"))
    if reverse:
        raise ValueError(f"{fn}: the classifier reads a forward-only RNN; unexpected "
                         f"argument(s) {', '.join(reverse)}")
    with _as(fn, "rnn_stacked_forward"):
        h, _, stacked = rnn_stacked_forward(x, h0, **weights)
    chk = ArgChecker(fn, sizes={"H": h.shape[2]}, source="the weights", dtype=h.dtype)
    chk.float_array("w", w, ("H", "M"))
    chk.float_array("b", b, ("M",))
    logits, readout = affine_forward(h[:, -1], w, b)
    return logits, _ClassifierCache(stacked, readout, h.shape)


def rnn_classifier_backward(dlogits, cache):
    """Backward pass of :func:`rnn_classifier_forward`.

    dlogits: (N, M) upstream gradient of the logits.
    cache:   from :func:`rnn_classifier_forward`.

    Returns ``(dx, dh0, dw, db, dWx_l0, dWh_l0, db_l0, ...)``: dx (N, T, D), dh0 (L, N, H),
    the readout's dw (H, M) and db (M,), then the RNN's weight gradients in
    :func:`~numpy_rnn.core.stacked.stacked_weight_names` order.
    """
    fn = "rnn_classifier_backward"
    check_cache(fn, cache, _ClassifierCache, "rnn_classifier_forward")
    N, T, H = cache.hidden_shape
    w = cache.readout[1]
    chk = ArgChecker(fn, sizes={"N": N, "M": w.shape[1]}, source="rnn_classifier_forward",
                     dtype=w.dtype)
    dlogits = chk.float_array("dlogits", dlogits, ("N", "M"))
    dlast, dw, db = affine_backward(dlogits, cache.readout)
    dh = np.zeros((N, T, H), dtype=dlast.dtype)
    dh[:, -1] = dlast
    with _as(fn, "rnn_stacked_backward"):
        dx, dh0, *dweights = rnn_stacked_backward(dh, None, cache.stacked)
    return (dx, dh0, dw, db, *dweights)
