from .layers_with_weights import LayerWithWeights
import numpy as np


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
        next_h = np.tanh(x @ self.Wx + prev_h @ self.Wh + self.b)
        cache = {'x': x, 'prev_h': prev_h, 'next_h': next_h, 'Wx': self.Wx, 'Wh': self.Wh}
        return next_h, cache

    def forward(self, x, h0):
        hs = []
        self.cache = []
        h = h0
        for t in range(x.shape[1]):
            h, c = self.forward_step(x[:, t, :], h)
            hs.append(h)
            self.cache.append(c)
        return np.stack(hs, axis=1)

    def backward_step(self, dnext_h, cache):
        dz = dnext_h * (1 - cache['next_h'] ** 2)
        dx = dz @ cache['Wx'].T
        dprev_h = dz @ cache['Wh'].T
        dWx = cache['x'].T @ dz
        dWh = cache['prev_h'].T @ dz
        db = dz.sum(axis=0)
        return dx, dprev_h, dWx, dWh, db

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.in_size
        self.grad = {'dx': np.zeros((N, T, D)), 'dh0': None,
                     'dWx': np.zeros((D, H)), 'dWh': np.zeros((H, H)), 'db': np.zeros(H)}
        dnext = np.zeros((N, H))
        for t in reversed(range(T)):
            dx_t, dnext, dWx, dWh, db = self.backward_step(dh[:, t, :] + dnext, self.cache[t])
            self.grad['dx'][:, t, :] = dx_t
            self.grad['dWx'] += dWx
            self.grad['dWh'] += dWh
            self.grad['db'] += db
        self.grad['dh0'] = dnext


class LSTMLayer(LayerWithWeights):
    """LSTM over a batch of sequences (gates i, f, o, g)."""

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None,
                     'dWh': None, 'db': None}
        self.sigmoid = lambda x: 1 / (1 + np.exp(-x))

    def forward_step(self, x, prev_h, prev_c):
        H = prev_h.shape[1]
        a = x @ self.Wx + prev_h @ self.Wh + self.b
        i = self.sigmoid(a[:, :H])
        f = self.sigmoid(a[:, H:2 * H])
        o = self.sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        cache = {'x': x, 'prev_h': prev_h, 'prev_c': prev_c, 'next_c': next_c,
                 'i': i, 'f': f, 'o': o, 'g': g, 'Wx': self.Wx, 'Wh': self.Wh}
        return next_h, next_c, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        hs = []
        self.cache = []
        h, c = h0, np.zeros_like(h0)
        for t in range(T):
            h, c, cache = self.forward_step(x[:, t, :], h, c)
            hs.append(h)
            self.cache.append(cache)
        return np.stack(hs, axis=1)

    def backward_step(self, dnext_h, dnext_c, cache):
        grad_sigmoid = lambda s: s * (1 - s)
        i, f, o, g = cache['i'], cache['f'], cache['o'], cache['g']
        tanh_c = np.tanh(cache['next_c'])
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        da = np.hstack([dc * g * grad_sigmoid(i),
                        dc * cache['prev_c'] * grad_sigmoid(f),
                        dnext_h * tanh_c * grad_sigmoid(o),
                        dc * i * (1 - g ** 2)])
        dx = da @ cache['Wx'].T
        dprev_h = da @ cache['Wh'].T
        dprev_c = dc * f
        dWx = cache['x'].T @ da
        dWh = cache['prev_h'].T @ da
        db = da.sum(axis=0)
        return dx, dprev_h, dprev_c, dWx, dWh, db

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.in_size
        self.grad = {'dx': np.zeros((N, T, D)), 'dh0': None,
                     'dWx': np.zeros((D, 4 * H)), 'dWh': np.zeros((H, 4 * H)),
                     'db': np.zeros(4 * H)}
        dnext_h = np.zeros((N, H))
        dnext_c = np.zeros((N, H))
        for t in reversed(range(T)):
            dx_t, dnext_h, dnext_c, dWx, dWh, db = self.backward_step(
                dh[:, t, :] + dnext_h, dnext_c, self.cache[t])
            self.grad['dx'][:, t, :] = dx_t
            self.grad['dWx'] += dWx
            self.grad['dWh'] += dWh
            self.grad['db'] += db
        self.grad['dh0'] = dnext_h
