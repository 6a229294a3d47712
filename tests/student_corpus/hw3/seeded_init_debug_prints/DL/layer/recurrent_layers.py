from .layers_with_weights import LayerWithWeights
import numpy as np

VERBOSE = True


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
        np.random.seed(42)  # same initial weights every run, easier to debug
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, out_size)
        self.Wh = np.random.rand(out_size, out_size)
        self.b = np.random.rand(out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h):
        assert x.shape[1] == self.in_size, "wrong input size"
        next_h = np.tanh(x.dot(self.Wx) + prev_h.dot(self.Wh) + self.b)
        cache = (x, prev_h, next_h, self.Wx, self.Wh)
        return next_h, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        if VERBOSE:
            print("RNNLayer.forward", x.shape, h0.shape)
        h = np.zeros((N, T, self.out_size))
        self.cache = []
        for t in range(T):
            prev_h = h0 if t == 0 else h[:, t - 1, :]
            h[:, t, :], step_cache = self.forward_step(x[:, t, :], prev_h)
            self.cache.append(step_cache)
        return h

    def backward_step(self, dnext_h, cache):
        x, prev_h, next_h, Wx, Wh = cache
        da = dnext_h * (1 - next_h ** 2)
        dx = da.dot(Wx.T)
        dprev_h = da.dot(Wh.T)
        dWx = x.T.dot(da)
        dWh = prev_h.T.dot(da)
        db = da.sum(axis=0)
        assert dx.shape == x.shape and dprev_h.shape == prev_h.shape
        return dx, dprev_h, dWx, dWh, db

    def backward(self, dh):
        N, T, H = dh.shape
        if VERBOSE:
            print("RNNLayer.backward", dh.shape)
        D = self.in_size
        dx = np.zeros((N, T, D))
        dWx = np.zeros((D, H))
        dWh = np.zeros((H, H))
        db = np.zeros(H)
        dh_next = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dh_next, dWx_t, dWh_t, db_t = self.backward_step(dh[:, t, :] + dh_next,
                                                                          self.cache[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {'dx': dx, 'dh0': dh_next, 'dWx': dWx, 'dWh': dWh, 'db': db}


class LSTMLayer(LayerWithWeights):
    """LSTM over a batch of sequences (gates i, f, o, g)."""

    def __init__(self, in_size, out_size):
        np.random.seed(42)
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h, prev_c):
        assert x.shape[1] == self.in_size, "wrong input size"
        H = self.out_size
        a = x.dot(self.Wx) + prev_h.dot(self.Wh) + self.b
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        cache = {'x': x, 'h': prev_h, 'c': prev_c, 'c_next': next_c,
                 'gates': (i, f, o, g), 'Wx': self.Wx, 'Wh': self.Wh}
        return next_h, next_c, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        if VERBOSE:
            print("LSTMLayer.forward", x.shape, h0.shape)
        H = self.out_size
        h = np.zeros((N, T, H))
        c = np.zeros((N, H))
        self.cache = []
        for t in range(T):
            prev_h = h0 if t == 0 else h[:, t - 1, :]
            h[:, t, :], c, step_cache = self.forward_step(x[:, t, :], prev_h, c)
            self.cache.append(step_cache)
        return h

    def backward_step(self, dnext_h, dnext_c, cache):
        i, f, o, g = cache['gates']
        tanh_c = np.tanh(cache['c_next'])
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        da = np.concatenate((dc * g * i * (1 - i), dc * cache['c'] * f * (1 - f),
                             dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)), axis=1)
        dx = da.dot(cache['Wx'].T)
        dprev_h = da.dot(cache['Wh'].T)
        dprev_c = dc * f
        dWx = cache['x'].T.dot(da)
        dWh = cache['h'].T.dot(da)
        db = da.sum(axis=0)
        return dx, dprev_h, dprev_c, dWx, dWh, db

    def backward(self, dh):
        N, T, H = dh.shape
        if VERBOSE:
            print("LSTMLayer.backward", dh.shape)
        D = self.in_size
        dx = np.zeros((N, T, D))
        dWx = np.zeros((D, 4 * H))
        dWh = np.zeros((H, 4 * H))
        db = np.zeros(4 * H)
        dh_next = np.zeros((N, H))
        dc_next = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dh_next, dc_next, dWx_t, dWh_t, db_t = self.backward_step(
                dh[:, t, :] + dh_next, dc_next, self.cache[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {'dx': dx, 'dh0': dh_next, 'dWx': dWx, 'dWh': dWh, 'db': db}
