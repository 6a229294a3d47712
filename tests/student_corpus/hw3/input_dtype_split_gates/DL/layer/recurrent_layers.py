"""Recurrent layers for HW3: every array is allocated in the dtype of the input."""
from .layers_with_weights import LayerWithWeights
import numpy as np


def _sigmoid(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


class RNNLayer(LayerWithWeights):
    """h_t = tanh(b + W_h h_{t-1} + W_x x_t)"""

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, out_size)
        self.Wh = np.random.rand(out_size, out_size)
        self.b = np.random.rand(out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h):
        next_h = np.tanh(self.b + prev_h @ self.Wh + x @ self.Wx)
        return next_h, (x, prev_h, next_h, self.Wx, self.Wh)

    def backward_step(self, dnext_h, cache):
        x, prev_h, next_h, Wx, Wh = cache
        dz = dnext_h * (1.0 - next_h ** 2)
        grads = [dz @ Wx.T, dz @ Wh.T, x.T @ dz, prev_h.T @ dz, dz.sum(axis=0)]
        return tuple(grads)

    def forward(self, x, h0):
        N, T, _ = x.shape
        h = np.zeros((N, T, self.out_size), dtype=x.dtype)
        self.cache = []
        state = h0
        for t in range(T):
            state, step_cache = self.forward_step(x[:, t], state)
            h[:, t] = state
            self.cache.append(step_cache)
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        x0 = self.cache[0][0]
        dx = np.zeros((N, T, x0.shape[1]), dtype=dh.dtype)
        dWx = np.zeros((x0.shape[1], H), dtype=dh.dtype)
        dWh = np.zeros((H, H), dtype=dh.dtype)
        db = np.zeros(H, dtype=dh.dtype)
        dstate = np.zeros((N, H), dtype=dh.dtype)
        for t in range(T)[::-1]:
            dx[:, t], dstate, g_wx, g_wh, g_b = self.backward_step(dh[:, t] + dstate,
                                                                   self.cache[t])
            dWx += g_wx
            dWh += g_wh
            db += g_b
        self.grad = {'dx': dx, 'dh0': dstate, 'dWx': dWx, 'dWh': dWh, 'db': db}


class LSTMLayer(LayerWithWeights):
    """a = b + W_h h_{t-1} + W_x x_t split as [i, f, o, g]"""

    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h, prev_c):
        a_i, a_f, a_o, a_g = np.split(self.b + prev_h @ self.Wh + x @ self.Wx, 4, axis=1)
        i, f, o, g = _sigmoid(a_i), _sigmoid(a_f), _sigmoid(a_o), np.tanh(a_g)
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, (x, prev_h, prev_c, next_c, i, f, o, g, self.Wx, self.Wh)

    def backward_step(self, dnext_h, dnext_c, cache):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = cache
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)
        da = np.concatenate([dc * g * i * (1.0 - i), dc * prev_c * f * (1.0 - f),
                             dnext_h * tanh_c * o * (1.0 - o), dc * i * (1.0 - g ** 2)],
                            axis=1)
        return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    def forward(self, x, h0):
        N, T, _ = x.shape
        h = np.zeros((N, T, self.out_size), dtype=x.dtype)
        self.cache = []
        state, cell = h0, np.zeros_like(h0)
        for t in range(T):
            state, cell, step_cache = self.forward_step(x[:, t], state, cell)
            h[:, t] = state
            self.cache.append(step_cache)
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dWx = np.zeros((D, 4 * H), dtype=dh.dtype)
        dWh = np.zeros((H, 4 * H), dtype=dh.dtype)
        db = np.zeros(4 * H, dtype=dh.dtype)
        dstate = np.zeros((N, H), dtype=dh.dtype)
        dcell = np.zeros((N, H), dtype=dh.dtype)
        for t in range(T)[::-1]:
            dx[:, t], dstate, dcell, g_wx, g_wh, g_b = self.backward_step(
                dh[:, t] + dstate, dcell, self.cache[t])
            dWx += g_wx
            dWh += g_wh
            db += g_b
        self.grad = {'dx': dx, 'dh0': dstate, 'dWx': dWx, 'dWh': dWh, 'db': db}
