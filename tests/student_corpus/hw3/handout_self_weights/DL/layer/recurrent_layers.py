# HW3 recurrent layers
from .layers_with_weights import LayerWithWeights
from copy import deepcopy
from abc import abstractmethod
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
        """in_size: D, the size of each input vector
        out_size: H, the size of the hidden state
        """
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, out_size)
        self.Wh = np.random.rand(out_size, out_size)
        self.b = np.random.rand(out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def forward_step(self, x, prev_h):
        """one timestep
        x: (N, D) input; prev_h: (N, H) previous hidden state
        returns next_h (N, H) and the tuple backward_step needs
        """
        next_h = np.tanh(np.dot(x, self.Wx) + np.dot(prev_h, self.Wh) + self.b)
        cache = (x, prev_h, next_h)
        return next_h, cache

    def forward(self, x, h0):
        """all T timesteps of a minibatch of N sequences
        x: (N, T, D); h0: (N, H)
        returns h (N, T, H); the step caches go to self.cache (a list)
        """
        N, T, D = x.shape
        H = h0.shape[1]
        h = np.empty((N, T, H))
        cache = []
        prev_h = h0
        for t in np.arange(T):
            next_h, cache_t = self.forward_step(x[:, t, :], prev_h)
            cache.append(cache_t)
            h[:, t, :] = next_h
            prev_h = next_h
        self.cache = cache.copy()
        return h

    def backward_step(self, dnext_h, cache):
        """gradients of one timestep
        dnext_h: (N, H) gradient of the loss w.r.t. next_h; cache: from forward_step
        returns dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,)
        """
        x, prev_h, next_h = cache
        dtanh = dnext_h * (1 - np.power(next_h, 2))
        dx = np.dot(dtanh, np.transpose(self.Wx))
        dprev_h = np.dot(dtanh, np.transpose(self.Wh))
        dWx = np.dot(np.transpose(x), dtanh)
        dWh = np.dot(np.transpose(prev_h), dtanh)
        db = np.sum(dtanh, axis=0)
        return dx, dprev_h, dWx, dWh, db

    def backward(self, dh):
        """backprop through time over self.cache
        dh: (N, T, H) gradients of all hidden states
        fills self.grad: dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,)
        """
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        dx = np.zeros((N, T, D))
        dWx = np.zeros((D, H))
        dWh = np.zeros((H, H))
        db = np.zeros(H)
        dprev_h = np.zeros((N, H))
        for t in np.arange(T - 1, -1, -1):
            dx_t, dprev_h, dWx_t, dWh_t, db_t = self.backward_step(dh[:, t, :] + dprev_h,
                                                                   self.cache[t])
            dx[:, t, :] = dx_t
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {'dx': dx, 'dh0': dprev_h, 'dWx': dWx, 'dWh': dWh, 'db': db}


class LSTMLayer(LayerWithWeights):
    """LSTM over a batch of sequences (gates i, f, o, g)."""

    def __init__(self, in_size, out_size):
        """in_size: D, the size of each input vector
        out_size: H, the size of hidden and cell states
        """
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None,
                     'dWh': None, 'db': None}

    def forward_step(self, x, prev_h, prev_c):
        """one timestep
        returns next_h (N, H), next_c (N, H) and the tuple backward_step needs
        """
        H = self.out_size
        a = np.dot(x, self.Wx) + np.dot(prev_h, self.Wh) + self.b
        i = sigmoid(a[:, 0:H])
        f = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:4 * H])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        cache = (x, prev_h, prev_c, next_c, i, f, o, g)
        return next_h, next_c, cache

    def forward(self, x, h0):
        """all T timesteps, cell state starting at zero
        returns h (N, T, H)
        """
        N, T, D = x.shape
        H = h0.shape[1]
        h = np.empty((N, T, H))
        prev_c = np.zeros((N, H))
        prev_h = h0
        cache = []
        for t in np.arange(T):
            prev_h, prev_c, cache_t = self.forward_step(x[:, t, :], prev_h, prev_c)
            cache.append(cache_t)
            h[:, t, :] = prev_h
        self.cache = deepcopy(cache)
        return h

    def backward_step(self, dnext_h, dnext_c, cache):
        """gradients of one timestep
        returns dx, dprev_h, dprev_c, dWx, dWh, db
        """
        x, prev_h, prev_c, next_c, i, f, o, g = cache
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        dai = dc * g * i * (1 - i)
        daf = dc * prev_c * f * (1 - f)
        dao = dnext_h * tanh_c * o * (1 - o)
        dag = dc * i * (1 - g ** 2)
        da = np.concatenate((dai, daf, dao, dag), axis=1)
        dx = np.dot(da, self.Wx.T)
        dprev_h = np.dot(da, self.Wh.T)
        dprev_c = dc * f
        dWx = np.dot(x.T, da)
        dWh = np.dot(prev_h.T, da)
        db = np.sum(da, axis=0)
        return dx, dprev_h, dprev_c, dWx, dWh, db

    def backward(self, dh):
        """backprop through time over self.cache; fills self.grad
        """
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        dx = np.zeros((N, T, D))
        dWx = np.zeros((D, 4 * H))
        dWh = np.zeros((H, 4 * H))
        db = np.zeros(4 * H)
        dnext_h = np.zeros((N, H))
        dnext_c = np.zeros((N, H))
        for t in np.arange(T - 1, -1, -1):
            dx[:, t, :], dnext_h, dnext_c, dWx_t, dWh_t, db_t = self.backward_step(
                dh[:, t, :] + dnext_h, dnext_c, self.cache[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {'dx': dx, 'dh0': dnext_h, 'dWx': dWx, 'dWh': dWh, 'db': db}
