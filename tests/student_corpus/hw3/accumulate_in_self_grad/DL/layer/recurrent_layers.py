from .layers_with_weights import LayerWithWeights
from copy import deepcopy
import numpy as np


def sigmoid(x):
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


class RNNLayer(LayerWithWeights):
    """Vanilla tanh RNN over a batch of sequences."""

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, out_size)
        self.Wh = np.random.rand(out_size, out_size)
        self.b = np.random.rand(out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h):
        next_h = np.tanh(np.matmul(x, self.Wx) + np.matmul(prev_h, self.Wh) + self.b)
        cache = [x.copy(), prev_h.copy(), next_h.copy(), self.Wx.copy(), self.Wh.copy()]
        return next_h, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        h = []
        cache = []
        prev_h = h0
        for t in range(T):
            prev_h, c = self.forward_step(x[:, t, :], prev_h)
            h.append(prev_h)
            cache.append(c)
        self.cache = deepcopy(cache)
        return np.array(h).transpose(1, 0, 2)

    def backward_step(self, dnext_h, cache):
        x, prev_h, next_h, Wx, Wh = cache
        dtanh = dnext_h * (1 - next_h * next_h)
        return (np.matmul(dtanh, Wx.T), np.matmul(dtanh, Wh.T), np.matmul(x.T, dtanh),
                np.matmul(prev_h.T, dtanh), np.sum(dtanh, axis=0))

    def backward(self, dh):
        dh = dh.copy()
        N, T, H = dh.shape
        D = self.in_size
        self.grad = {'dx': np.zeros((N, T, D)), 'dh0': np.zeros((N, H)),
                     'dWx': np.zeros((D, H)), 'dWh': np.zeros((H, H)), 'db': np.zeros(H)}
        for t in np.flip(np.arange(T)):
            dx, dprev_h, dWx, dWh, db = self.backward_step(dh[:, t, :], self.cache[t])
            self.grad['dx'][:, t, :] = dx
            self.grad['dWx'] += dWx
            self.grad['dWh'] += dWh
            self.grad['db'] += db
            if t > 0:
                dh[:, t - 1, :] += dprev_h
            else:
                self.grad['dh0'] += dprev_h


class LSTMLayer(LayerWithWeights):
    """LSTM over a batch of sequences (gates i, f, o, g)."""

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h, prev_c):
        H = self.out_size
        a = np.matmul(x, self.Wx) + np.matmul(prev_h, self.Wh) + self.b
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        cache = [x, prev_h, prev_c, next_c, i, f, o, g, self.Wx.copy(), self.Wh.copy()]
        return next_h, next_c, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        h = []
        self.cache = []
        prev_h, prev_c = h0, np.zeros((N, self.out_size))
        for t in range(T):
            prev_h, prev_c, c = self.forward_step(x[:, t, :], prev_h, prev_c)
            h.append(prev_h)
            self.cache.append(c)
        return np.array(h).transpose(1, 0, 2)

    def backward_step(self, dnext_h, dnext_c, cache):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = cache
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tanh_c * tanh_c)
        di = dc * g * i * (1 - i)
        df = dc * prev_c * f * (1 - f)
        do = dnext_h * tanh_c * o * (1 - o)
        dg = dc * i * (1 - g * g)
        da = np.concatenate((di, df, do, dg), axis=1)
        return (np.matmul(da, Wx.T), np.matmul(da, Wh.T), dc * f, np.matmul(x.T, da),
                np.matmul(prev_h.T, da), np.sum(da, axis=0))

    def backward(self, dh):
        dh = dh.copy()
        N, T, H = dh.shape
        D = self.in_size
        self.grad = {'dx': np.zeros((N, T, D)), 'dh0': np.zeros((N, H)),
                     'dWx': np.zeros((D, 4 * H)), 'dWh': np.zeros((H, 4 * H)),
                     'db': np.zeros(4 * H)}
        dc = np.zeros((N, H))
        for t in np.flip(np.arange(T)):
            dx, dprev_h, dc, dWx, dWh, db = self.backward_step(dh[:, t, :], dc, self.cache[t])
            self.grad['dx'][:, t, :] = dx
            self.grad['dWx'] += dWx
            self.grad['dWh'] += dWh
            self.grad['db'] += db
            if t > 0:
                dh[:, t - 1, :] += dprev_h
            else:
                self.grad['dh0'] += dprev_h
