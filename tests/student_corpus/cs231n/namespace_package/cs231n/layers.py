import numpy as np


def affine_forward(x, w, b):
    """Affine layer forward: x (N, d_1, ..., d_k), w (D, M), b (M,) -> out (N, M)."""
    out = x.reshape(x.shape[0], np.prod(x.shape[1:])) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Affine layer backward: returns dx, dw, db."""
    x, w, b = cache
    x2d = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(*x.shape)
    dw = x2d.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
