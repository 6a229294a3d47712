import numpy as np


def sigmoid(x):
    """Logistic function that does not overflow: uses exp of -|x| only."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def dsigmoid_from_output(s):
    """Derivative of the logistic function written with its output."""
    return s * (1.0 - s)


def dtanh_from_output(t):
    """Derivative of tanh written with its output."""
    return 1.0 - t * t
