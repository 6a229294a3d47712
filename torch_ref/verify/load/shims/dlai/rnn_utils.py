"""The deeplearning.ai ``rnn_utils`` helpers: softmax over axis 0 and the sigmoid."""
import numpy as np


def softmax(x):
    """Softmax over axis 0 (features first: ``x (n, m)``)."""
    e = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def sigmoid(x):
    """Logistic sigmoid, without overflow for large negative inputs."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
