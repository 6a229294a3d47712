import numpy as np


def stable_sigmoid(x):
    pos_mask = (x >= 0)
    neg_mask = (x < 0)
    z = np.zeros_like(x)
    z[pos_mask] = np.exp(-x[pos_mask])
    z[neg_mask] = np.exp(x[neg_mask])
    top = np.ones_like(x)
    top[neg_mask] = z[neg_mask]
    return top / (1 + z)


def affine_time(x, w, b):
    """(N, T, D) x (D, M) + (M,) -> (N, T, M)"""
    return np.tensordot(x, w, axes=([2], [0])) + b
