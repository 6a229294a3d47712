"""The book's ``common/layers.py`` layers that time layers build on.

Every layer holds ``params`` and ``grads`` lists; ``backward`` writes ``grads[i][...]``.
"""
import numpy as np
from common.functions import cross_entropy_error, sigmoid, softmax


class MatMul:
    def __init__(self, W):
        self.params, self.grads, self.x = [W], [np.zeros_like(W)], None

    def forward(self, x):
        self.x = x
        return x @ self.params[0]

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        return dout @ self.params[0].T


class Affine:
    def __init__(self, W, b):
        self.params, self.grads, self.x = [W, b], [np.zeros_like(W), np.zeros_like(b)], None

    def forward(self, x):
        self.x = x
        return x @ self.params[0] + self.params[1]

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = dout.sum(axis=0)
        return dout @ self.params[0].T


class Sigmoid:
    def __init__(self):
        self.params, self.grads, self.out = [], [], None

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class Softmax:
    def __init__(self):
        self.params, self.grads, self.out = [], [], None

    def forward(self, x):
        self.out = softmax(x)
        return self.out

    def backward(self, dout):
        dx = self.out * dout
        return dx - self.out * dx.sum(axis=1, keepdims=True)


class SoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads, self.y, self.t = [], [], None, None

    def forward(self, x, t):
        self.t, self.y = t, softmax(x)
        if self.t.size == self.y.size:
            self.t = self.t.argmax(axis=1)
        return cross_entropy_error(self.y, self.t)

    def backward(self, dout=1):
        n = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx * dout / n


class Embedding:
    def __init__(self, W):
        self.params, self.grads, self.idx = [W], [np.zeros_like(W)], None

    def forward(self, idx):
        self.idx = idx
        return self.params[0][idx]

    def backward(self, dout):
        dW = self.grads[0]
        dW[...] = 0
        np.add.at(dW, self.idx, dout)
        return None
