from .layers_with_weights import LayerWithWeights
import numpy as np


class RNNLayer(LayerWithWeights):
    """ Simple RNN Layer - only calculates hidden states """

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, out_size)
        self.Wh = np.random.rand(out_size, out_size)
        self.b = np.random.rand(out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h):
        #  FILL
        raise NotImplementedError
        return next_h, cache

    def forward(self, x, h0):
        #  FILL
        raise NotImplementedError
        return h

    def backward_step(self, dnext_h, cache):
        #  FILL
        raise NotImplementedError
        return dx, dprev_h, dWx, dWh, db

    def backward(self, dh):
        #  FILL
        raise NotImplementedError
        self.grad = {'dx': dx, 'dh0': dh0, 'dWx': dWx, 'dWh': dWh, 'db': db}


class LSTMLayer(LayerWithWeights):
    """ Simple LSTM Layer - only calculates hidden states and cell states """

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None,
                     'dWh': None, 'db': None}

    def forward_step(self, x, prev_h, prev_c):
        #  FILL
        raise NotImplementedError
        return next_h, next_c, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        H = h0.shape[1]
        h = np.zeros((N, T, H))
        c = np.zeros((N, H))
        self.cache = []
        for t in range(T):
            h0, c, step = self.forward_step(x[:, t, :], h0, c)
            h[:, t, :] = h0
            self.cache.append(step)
        return h

    def backward_step(self, dnext_h, dnext_c, cache):
        x, prev_h, prev_c, i, f, o, g, tanh_c = cache
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                        dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)])
        return (da.dot(self.Wx.T), da.dot(self.Wh.T), dc * f,
                x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0))

    def backward(self, dh):
        N, T, H = dh.shape
        dx = np.zeros((N, T, self.in_size))
        dWx, dWh, db = np.zeros_like(self.Wx), np.zeros_like(self.Wh), np.zeros_like(self.b)
        dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t], dprev_h, dprev_c, dwx, dwh, dbb = self.backward_step(
                dh[:, t] + dprev_h, dprev_c, self.cache[t])
            dWx += dwx
            dWh += dwh
            db += dbb
        self.grad = {'dx': dx, 'dh0': dprev_h, 'dWx': dWx, 'dWh': dWh, 'db': db}
