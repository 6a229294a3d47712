# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

import numpy as np

from .layers_with_weights import LayerWithWeights

try:
    xrange
except NameError:
    xrange = range


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
        super(RNNLayer, self).__init__()
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, out_size)
        self.Wh = np.random.rand(out_size, out_size)
        self.b = np.random.rand(out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def __repr__(self):
        return 'RNNLayer(%d, %d)' % (self.in_size, self.out_size)

    def forward_step(self, x, prev_h):
        next_h = np.tanh(np.dot(x, self.Wx) + np.dot(prev_h, self.Wh) + self.b)
        cache = (x, prev_h, next_h, self.Wx, self.Wh)
        return next_h, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.out_size))
        self.cache = [None] * T
        prev_h = h0
        for t in xrange(T):
            prev_h, self.cache[t] = self.forward_step(x[:, t, :], prev_h)
            h[:, t, :] = prev_h
        return h

    def backward_step(self, dnext_h, cache):
        x, prev_h, next_h, Wx, Wh = cache
        dtanh = (1. - next_h ** 2) * dnext_h
        return (np.dot(dtanh, Wx.T), np.dot(dtanh, Wh.T), np.dot(x.T, dtanh),
                np.dot(prev_h.T, dtanh), np.sum(dtanh, axis=0))

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        grad = {'dx': np.zeros((N, T, D)), 'dWx': np.zeros((D, H)),
                'dWh': np.zeros((H, H)), 'db': np.zeros(H)}
        dprev_h = np.zeros((N, H))
        for t in reversed(xrange(T)):
            dx, dprev_h, dWx, dWh, db = self.backward_step(dh[:, t, :] + dprev_h,
                                                           self.cache[t])
            grad['dx'][:, t, :] = dx
            for key, value in (('dWx', dWx), ('dWh', dWh), ('db', db)):
                grad[key] += value
        grad['dh0'] = dprev_h
        self.grad = grad


class LSTMLayer(LayerWithWeights):
    """LSTM over a batch of sequences (gates i, f, o, g)."""

    def __init__(self, in_size, out_size):
        super(LSTMLayer, self).__init__()
        self.in_size = in_size
        self.out_size = out_size
        self.Wx = np.random.rand(in_size, 4 * out_size)
        self.Wh = np.random.rand(out_size, 4 * out_size)
        self.b = np.random.rand(4 * out_size)
        self.cache = None
        self.grad = {'dx': None, 'dh0': None, 'dWx': None, 'dWh': None, 'db': None}

    def __repr__(self):
        return 'LSTMLayer(%d, %d)' % (self.in_size, self.out_size)

    def forward_step(self, x, prev_h, prev_c):
        H = prev_h.shape[1]
        a = np.dot(x, self.Wx) + np.dot(prev_h, self.Wh) + self.b
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        cache = (x, prev_h, prev_c, next_c, i, f, o, g, self.Wx, self.Wh)
        return next_h, next_c, cache

    def forward(self, x, h0):
        N, T, D = x.shape
        H = self.out_size
        h = np.zeros((N, T, H))
        self.cache = [None] * T
        prev_h, prev_c = h0, np.zeros((N, H))
        for t in xrange(T):
            prev_h, prev_c, self.cache[t] = self.forward_step(x[:, t, :], prev_h, prev_c)
            h[:, t, :] = prev_h
        return h

    def backward_step(self, dnext_h, dnext_c, cache):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = cache
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1. - tanh_c ** 2)
        da = np.concatenate([dc * g * i * (1. - i), dc * prev_c * f * (1. - f),
                             dnext_h * tanh_c * o * (1. - o), dc * i * (1. - g ** 2)], axis=1)
        return (np.dot(da, Wx.T), np.dot(da, Wh.T), dc * f, np.dot(x.T, da),
                np.dot(prev_h.T, da), np.sum(da, axis=0))

    def backward(self, dh):
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        grad = {'dx': np.zeros((N, T, D)), 'dWx': np.zeros((D, 4 * H)),
                'dWh': np.zeros((H, 4 * H)), 'db': np.zeros(4 * H)}
        dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
        for t in reversed(xrange(T)):
            dx, dprev_h, dprev_c, dWx, dWh, db = self.backward_step(
                dh[:, t, :] + dprev_h, dprev_c, self.cache[t])
            grad['dx'][:, t, :] = dx
            for key, value in (('dWx', dWx), ('dWh', dWh), ('db', db)):
                grad[key] += value
        grad['dh0'] = dprev_h
        self.grad = grad
