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
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h):
        # computed as (W^T x^T)^T, the way the equations are written in the notebook
        a = (self.Wx.T.dot(x.T) + self.Wh.T.dot(prev_h.T)).T + self.b
        next_h = np.tanh(a)
        return next_h, (x, prev_h, next_h, self.Wx, self.Wh)

    def backward_step(self, dnext_h, cache):
        x, prev_h, next_h, Wx, Wh = cache
        da = dnext_h * (1 - next_h ** 2)
        dx = Wx.dot(da.T).T
        dprev_h = Wh.dot(da.T).T
        dWx = da.T.dot(x).T
        dWh = da.T.dot(prev_h).T
        db = da.sum(axis=0)
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        xs = x.transpose(1, 0, 2)  # (T, N, D)
        hs = []
        self.cache = []
        h = h0
        for x_t in xs:
            h, c = self.forward_step(x_t, h)
            hs.append(h)
            self.cache.append(c)
        return np.array(hs).transpose(1, 0, 2)

    def backward(self, dh):
        dhs = dh.transpose(1, 0, 2)  # (T, N, H)
        T = dhs.shape[0]
        dxs = [None] * T
        dWx = np.zeros_like(self.cache[0][3], dtype=float)
        dWh = np.zeros_like(self.cache[0][4], dtype=float)
        db = np.zeros(dh.shape[2])
        carry = np.zeros(dhs.shape[1:])
        for t in reversed(range(T)):
            dxs[t], carry, dWx_t, dWh_t, db_t = self.backward_step(dhs[t] + carry, self.cache[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {'dx': np.array(dxs).transpose(1, 0, 2), 'dh0': carry,
                     'dWx': dWx, 'dWh': dWh, 'db': db}


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
        a = (self.Wx.T.dot(x.T) + self.Wh.T.dot(prev_h.T)).T + self.b
        i = sigmoid(a[:, 0 * H:1 * H])
        f = sigmoid(a[:, 1 * H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:4 * H])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, (x, prev_h, prev_c, next_c, i, f, o, g, self.Wx, self.Wh)

    def backward_step(self, dnext_h, dnext_c, cache):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = cache
        H = self.out_size
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        da = np.empty((x.shape[0], 4 * H))
        da[:, 0 * H:1 * H] = dc * g * i * (1 - i)
        da[:, 1 * H:2 * H] = dc * prev_c * f * (1 - f)
        da[:, 2 * H:3 * H] = dnext_h * tanh_c * o * (1 - o)
        da[:, 3 * H:4 * H] = dc * i * (1 - g ** 2)
        dx = Wx.dot(da.T).T
        dprev_h = Wh.dot(da.T).T
        dWx = da.T.dot(x).T
        dWh = da.T.dot(prev_h).T
        return dx, dprev_h, dc * f, dWx, dWh, da.sum(axis=0)

    def forward(self, x, h0):
        xs = x.transpose(1, 0, 2)
        hs = []
        self.cache = []
        h, c = h0, np.zeros(h0.shape)
        for x_t in xs:
            h, c, cache = self.forward_step(x_t, h, c)
            hs.append(h)
            self.cache.append(cache)
        return np.array(hs).transpose(1, 0, 2)

    def backward(self, dh):
        dhs = dh.transpose(1, 0, 2)
        T, N, H = dhs.shape
        dxs = [None] * T
        dWx, dWh, db = 0.0, 0.0, 0.0
        dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dxs[t], dh_next, dc_next, a, b, c = self.backward_step(dhs[t] + dh_next, dc_next,
                                                                   self.cache[t])
            dWx, dWh, db = dWx + a, dWh + b, db + c
        self.grad = {'dx': np.array(dxs).transpose(1, 0, 2), 'dh0': dh_next,
                     'dWx': dWx, 'dWh': dWh, 'db': db}


class GRULayer(LayerWithWeights):
    """GRU over a batch of sequences (bonus, not graded)."""

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 2 * out_size)
        self.Wh = np.random.rand(out_size, 2 * out_size)
        self.b = np.random.rand(2 * out_size)
        self.Wxi = np.random.rand(in_size, out_size)
        self.Whi = np.random.rand(out_size, out_size)
        self.bi = np.random.rand(out_size)
        self.cache = None
        self.grad = {}

    def forward_step(self, x, prev_h):
        H = self.out_size
        a = x.dot(self.Wx) + prev_h.dot(self.Wh) + self.b
        z, r = sigmoid(a[:, :H]), sigmoid(a[:, H:])
        cand = np.tanh(x.dot(self.Wxi) + (r * prev_h).dot(self.Whi) + self.bi)
        next_h = z * prev_h + (1 - z) * cand
        return next_h, (x, prev_h, z, r, cand)

    def forward(self, x, h0):
        hs, self.cache = [], []
        h = h0
        for t in range(x.shape[1]):
            h, c = self.forward_step(x[:, t, :], h)
            hs.append(h)
            self.cache.append(c)
        return np.stack(hs, axis=1)

    def backward(self, dh):
        raise NotImplementedError
