#HW3 recurrent layers
from .layers_with_weights import LayerWithWeights
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
        self.cache = []
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h):
        next_h = np.tanh(self.b + np.dot(prev_h, self.Wh) + np.dot(x, self.Wx))
        cache = (prev_h, next_h, x, self.Wx, self.Wh)
        return next_h, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.out_size))
        self.cache = []
        prev_h = h0
        for t in range(T):
            prev_h, c = self.forward_step(x[:, t, :], prev_h)
            h[:, t, :] = prev_h
            self.cache.append(c)
        return h

    def backward_step(self, dnext_h, cache):
        prev_h, next_h, x, Wx, Wh = cache
        dtanh = dnext_h * (1 - next_h ** 2)
        dx = dtanh.dot(Wx.T)
        dprev_h = dtanh.dot(Wh.T)
        dWx = x.T.dot(dtanh)
        dWh = prev_h.T.dot(dtanh)
        db = dtanh.sum(axis=0)
        return dx, dprev_h, dWx, dWh, db

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.in_size
        dx = np.zeros((N, T, D))
        dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
        dprev = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dprev, a, b, c = self.backward_step(dh[:, t, :] + dprev, self.cache[t])
            dWx, dWh, db = dWx + a, dWh + b, db + c
        self.grad = {'dx': dx, 'dh0': dprev, 'dWx': dWx, 'dWh': dWh, 'db': db}


class LSTMLayer(LayerWithWeights):
    """LSTM over a batch of sequences (gates i, f, o, g)."""
    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = []
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h, prev_c):
        H = self.out_size
        a = self.b + np.dot(prev_h, self.Wh) + np.dot(x, self.Wx)
        a_i, a_f, a_o, a_g = np.split(a, 4, axis=1)
        i, f, o, g = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o), np.tanh(a_g)
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        cache = (prev_h, prev_c, next_c, x, i, f, o, g, self.Wx, self.Wh)
        return next_h, next_c, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.out_size))
        self.cache = []
        prev_h, prev_c = h0, np.zeros((N, self.out_size))
        for t in range(T):
            prev_h, prev_c, c = self.forward_step(x[:, t, :], prev_h, prev_c)
            h[:, t, :] = prev_h
            self.cache.append(c)
        return h

    def backward_step(self, dnext_h, dnext_c, cache):
        prev_h, prev_c, next_c, x, i, f, o, g, Wx, Wh = cache
        do = dnext_h * np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c) ** 2)
        di, df, dg = dc * g, dc * prev_c, dc * i
        da = np.concatenate((di * i * (1 - i), df * f * (1 - f), do * o * (1 - o),
                             dg * (1 - g ** 2)), axis=1)
        return (da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da),
                da.sum(axis=0))

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.in_size
        dx = np.zeros((N, T, D))
        dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
        dnext_h, dnext_c = np.zeros((N, H)), np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dnext_h, dnext_c, a, b, c = self.backward_step(
                dh[:, t, :] + dnext_h, dnext_c, self.cache[t])
            dWx += a
            dWh += b
            db += c
        self.grad = {'dx': dx, 'dh0': dnext_h, 'dWx': dWx, 'dWh': dWh, 'db': db}
