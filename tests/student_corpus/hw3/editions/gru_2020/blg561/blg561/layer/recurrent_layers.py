from .layers_with_weights import LayerWithWeights
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


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
        next_h = np.tanh(x.dot(self.Wx) + prev_h.dot(self.Wh) + self.b)
        return next_h, (x, prev_h, next_h)

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, h0.shape[1]))
        self.cache = []
        prev_h = h0
        for t in range(T):
            prev_h, cache = self.forward_step(x[:, t, :], prev_h)
            h[:, t, :] = prev_h
            self.cache.append(cache)
        return h

    def backward_step(self, dnext_h, cache):
        x, prev_h, next_h = cache
        da = dnext_h * (1 - next_h ** 2)
        return (da.dot(self.Wx.T), da.dot(self.Wh.T), x.T.dot(da), prev_h.T.dot(da),
                da.sum(axis=0))

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        dx = np.zeros((N, T, D))
        dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
        dprev_h = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = self.backward_step(
                dh[:, t, :] + dprev_h, self.cache[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {'dx': dx, 'dh0': dprev_h, 'dWx': dWx, 'dWh': dWh, 'db': db}


class LSTMLayer(LayerWithWeights):
    """ Simple LSTM Layer - only calculates hidden states and cell states """

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h, prev_c):
        H = prev_h.shape[1]
        a = x.dot(self.Wx) + prev_h.dot(self.Wh) + self.b
        i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, (x, prev_h, prev_c, i, f, o, g, next_c)

    def forward(self, x, h0):
        N, T, D = x.shape
        H = h0.shape[1]
        h = np.zeros((N, T, H))
        prev_h, prev_c = h0, np.zeros((N, H))
        self.cache = []
        for t in range(T):
            prev_h, prev_c, cache = self.forward_step(x[:, t, :], prev_h, prev_c)
            h[:, t, :] = prev_h
            self.cache.append(cache)
        return h

    def backward_step(self, dnext_h, dnext_c, cache):
        x, prev_h, prev_c, i, f, o, g, next_c = cache
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                        dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)])
        return (da.dot(self.Wx.T), da.dot(self.Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da),
                da.sum(axis=0))

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        dx = np.zeros((N, T, D))
        dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
        dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = self.backward_step(
                dh[:, t, :] + dprev_h, dprev_c, self.cache[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {'dx': dx, 'dh0': dprev_h, 'dWx': dWx, 'dWh': dWh, 'db': db}


class GRULayer(LayerWithWeights):
    """ Simple GRU Layer - only calculates hidden states """

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
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None,
                     'dWxi': None, 'dWhi': None, 'dbi': None}

    def forward_step(self, x, prev_h):
        H = prev_h.shape[1]
        gates = sigmoid(x.dot(self.Wx) + prev_h.dot(self.Wh) + self.b)
        z, r = gates[:, :H], gates[:, H:]
        cand = np.tanh(x.dot(self.Wxi) + (r * prev_h).dot(self.Whi) + self.bi)
        next_h = z * prev_h + (1 - z) * cand
        return next_h, (x, prev_h, z, r, cand)

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, h0.shape[1]))
        self.cache = []
        prev_h = h0
        for t in range(T):
            prev_h, cache = self.forward_step(x[:, t, :], prev_h)
            h[:, t, :] = prev_h
            self.cache.append(cache)
        return h

    def backward_step(self, dnext_h, cache):
        x, prev_h, z, r, cand = cache
        dcand = dnext_h * (1 - z) * (1 - cand ** 2)
        dz = dnext_h * (prev_h - cand) * z * (1 - z)
        drh = dcand.dot(self.Whi.T)
        dr = drh * prev_h * r * (1 - r)
        dgates = np.hstack([dz, dr])
        dx = dgates.dot(self.Wx.T) + dcand.dot(self.Wxi.T)
        dprev_h = dnext_h * z + drh * r + dgates.dot(self.Wh.T)
        return (dx, dprev_h, x.T.dot(dgates), prev_h.T.dot(dgates), dgates.sum(axis=0),
                x.T.dot(dcand), (r * prev_h).T.dot(dcand), dcand.sum(axis=0))

    def backward(self, dh):
        N, T, H = dh.shape
        names = ('dWx', 'dWh', 'db', 'dWxi', 'dWhi', 'dbi')
        D = self.cache[0][0].shape[1]
        totals = {'dWx': np.zeros((D, 2 * H)), 'dWh': np.zeros((H, 2 * H)),
                  'db': np.zeros(2 * H), 'dWxi': np.zeros((D, H)), 'dWhi': np.zeros((H, H)),
                  'dbi': np.zeros(H)}
        dx = np.zeros((N, T, D))
        dprev_h = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            step = self.backward_step(dh[:, t, :] + dprev_h, self.cache[t])
            dx[:, t, :], dprev_h = step[0], step[1]
            for name, value in zip(names, step[2:]):
                totals[name] += value
        self.grad = dict(dx=dx, dh0=dprev_h, **totals)
