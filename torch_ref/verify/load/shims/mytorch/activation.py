"""The CMU 11-785 activations, accepting every year's calling convention.

``act(Z)`` / ``act.forward(Z)`` keep the output; the derivative comes from
``act.derivative(state=None)``, ``act.backward(state=...)`` (older years) or
``act.backward(dLdA, state=None)`` (newer ones, multiplied by ``dLdA``).
"""
import numpy as np


class Activation:
    def __init__(self):
        self.state = None
        self.A = None

    def __call__(self, Z):
        return self.forward(Z)

    def forward(self, Z):
        self.state = self.A = self._f(Z)
        return self.A

    def derivative(self, state=None):
        return self._df(self.A if state is None else state)

    def backward(self, dLdA=None, state=None):
        derivative = self.derivative(state)
        return derivative if dLdA is None else dLdA * derivative


class Identity(Activation):
    def _f(self, Z):
        return Z

    def _df(self, A):
        return np.ones_like(A)


class Sigmoid(Activation):
    def _f(self, Z):
        e = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))

    def _df(self, A):
        return A * (1 - A)


class Tanh(Activation):
    def _f(self, Z):
        return np.tanh(Z)

    def _df(self, A):
        return 1 - A * A


class ReLU(Activation):
    def _f(self, Z):
        return np.maximum(Z, 0)

    def _df(self, A):
        return (A > 0).astype(A.dtype)
