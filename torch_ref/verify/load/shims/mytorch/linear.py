"""The CMU 11-785 ``Linear`` layer as the 2022+ handouts give it (``W (out, in)``, ``b (out,
1)``, gradients ``dLdW``, ``dLdb`` summed over the batch), with the older years'
``init_weights(W, b)``."""
import numpy as np


class Linear:
    def __init__(self, in_features, out_features, debug=False):
        self.W = np.zeros((out_features, in_features))
        self.b = np.zeros((out_features, 1))
        self.dLdW = np.zeros((out_features, in_features))
        self.dLdb = np.zeros((out_features, 1))
        self.debug = debug

    def __call__(self, A):
        return self.forward(A)

    def init_weights(self, W, b):
        self.W = W
        self.b = np.asarray(b).reshape(-1, 1)

    def forward(self, A):
        self.A = A
        self.N = A.shape[0]
        self.Ones = np.ones((self.N, 1))
        return self.A @ self.W.T + self.Ones @ self.b.T

    def backward(self, dLdZ):
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.T @ self.Ones
        return dLdZ @ self.W
