import numpy as np


def stable_sigmoid(x):
    """
    Logistic sigmoid that never overflows: exp is only taken of -|x|.
    """
    positive = x >= 0
    negative = ~positive
    e = np.zeros_like(x)
    e[positive] = np.exp(-x[positive])
    e[negative] = np.exp(x[negative])
    numerator = np.ones_like(x)
    numerator[negative] = e[negative]
    return numerator / (1 + e)


def affine_time(x, w, b):
    """(N, T, D) x (D, M) + (M,) -> (N, T, M)"""
    return np.tensordot(x, w, axes=([2], [0])) + b
