# coding: utf-8
"""Time layers: RNN, TimeRNN, LSTM, TimeLSTM, GRU, TimeGRU, TimeEmbedding, TimeAffine,
TimeSoftmaxWithLoss.

Batch first (xs: N, T, D); each layer keeps params and grads lists and writes its
gradients into grads[i][...]. LSTM gates are packed f, g, i, o; GRU gates z, r, h~.
"""
from common.functions import sigmoid, softmax
from common.layers import Embedding
from common.np import *  # noqa: F403


class RNN:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]  # noqa: F405
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        t = np.dot(h_prev, Wh) + np.dot(x, Wx) + b  # noqa: F405
        h_next = np.tanh(t)  # noqa: F405
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        db = np.sum(dt, axis=0)  # noqa: F405
        dWh = np.dot(h_prev.T, dt)  # noqa: F405
        dh_prev = np.dot(dt, Wh.T)  # noqa: F405
        dWx = np.dot(x.T, dt)  # noqa: F405
        dx = np.dot(dt, Wx.T)  # noqa: F405
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        return dx, dh_prev


class TimeRNN:
    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]  # noqa: F405
        self.layers = None
        self.h, self.dh = None, None
        self.stateful = stateful

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        D, H = Wx.shape
        self.layers = []
        hs = np.empty((N, T, H), dtype='f')  # noqa: F405
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype='f')  # noqa: F405
        for t in range(T):
            layer = RNN(*self.params)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D, H = Wx.shape
        dxs = np.empty((N, T, D), dtype='f')  # noqa: F405
        dh = 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs


class LSTM:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]  # noqa: F405
        self.cache = None

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        N, H = h_prev.shape
        A = np.dot(x, Wx) + np.dot(h_prev, Wh) + b  # noqa: F405
        f = A[:, :H]
        g = A[:, H:2 * H]
        i = A[:, 2 * H:3 * H]
        o = A[:, 3 * H:]
        f = sigmoid(f)
        g = np.tanh(g)  # noqa: F405
        i = sigmoid(i)
        o = sigmoid(o)
        c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)  # noqa: F405
        self.cache = (x, h_prev, c_prev, i, f, g, o, c_next)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        tanh_c_next = np.tanh(c_next)  # noqa: F405
        ds = dc_next + (dh_next * o) * (1 - tanh_c_next ** 2)
        dc_prev = ds * f
        di = ds * g
        df = ds * c_prev
        do = dh_next * tanh_c_next
        dg = ds * i
        di *= i * (1 - i)
        df *= f * (1 - f)
        do *= o * (1 - o)
        dg *= (1 - g ** 2)
        dA = np.hstack((df, dg, di, do))  # noqa: F405
        dWh = np.dot(h_prev.T, dA)  # noqa: F405
        dWx = np.dot(x.T, dA)  # noqa: F405
        db = dA.sum(axis=0)
        self.grads[0][...] = dWx
        self.grads[1][...] = dWh
        self.grads[2][...] = db
        dx = np.dot(dA, Wx.T)  # noqa: F405
        dh_prev = np.dot(dA, Wh.T)  # noqa: F405
        return dx, dh_prev, dc_prev


class TimeLSTM:
    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]  # noqa: F405
        self.layers = None
        self.h, self.c = None, None
        self.dh = None
        self.stateful = stateful

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        self.layers = []
        hs = np.empty((N, T, H), dtype='f')  # noqa: F405
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype='f')  # noqa: F405
        if not self.stateful or self.c is None:
            self.c = np.zeros((N, H), dtype='f')  # noqa: F405
        for t in range(T):
            layer = LSTM(*self.params)
            self.h, self.c = layer.forward(xs[:, t, :], self.h, self.c)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D = Wx.shape[0]
        dxs = np.empty((N, T, D), dtype='f')  # noqa: F405
        dh, dc = 0, 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh, dc = layer.backward(dhs[:, t, :] + dh, dc)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None


class TimeEmbedding:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]  # noqa: F405
        self.layers = None
        self.W = W

    def forward(self, xs):
        N, T = xs.shape
        V, D = self.W.shape
        out = np.empty((N, T, D), dtype='f')  # noqa: F405
        self.layers = []
        for t in range(T):
            layer = Embedding(self.W)
            out[:, t, :] = layer.forward(xs[:, t])
            self.layers.append(layer)
        return out

    def backward(self, dout):
        N, T, D = dout.shape
        grad = 0
        for t in range(T):
            layer = self.layers[t]
            layer.backward(dout[:, t, :])
            grad += layer.grads[0]
        self.grads[0][...] = grad
        return None


class TimeAffine:
    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]  # noqa: F405
        self.x = None

    def forward(self, x):
        N, T, D = x.shape
        W, b = self.params
        rx = x.reshape(N * T, -1)
        out = np.dot(rx, W) + b  # noqa: F405
        self.x = x
        return out.reshape(N, T, -1)

    def backward(self, dout):
        x = self.x
        N, T, D = x.shape
        W, b = self.params
        dout = dout.reshape(N * T, -1)
        rx = x.reshape(N * T, -1)
        db = np.sum(dout, axis=0)  # noqa: F405
        dW = np.dot(rx.T, dout)  # noqa: F405
        dx = np.dot(dout, W.T)  # noqa: F405
        dx = dx.reshape(*x.shape)
        self.grads[0][...] = dW
        self.grads[1][...] = db
        return dx


class TimeSoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None
        self.ignore_label = -1

    def forward(self, xs, ts):
        N, T, V = xs.shape
        if ts.ndim == 3:
            ts = ts.argmax(axis=2)
        mask = (ts != self.ignore_label)
        xs = xs.reshape(N * T, V)
        ts = ts.reshape(N * T)
        mask = mask.reshape(N * T)
        ys = softmax(xs)
        ls = np.log(ys[np.arange(N * T), ts])  # noqa: F405
        ls *= mask
        loss = -np.sum(ls)  # noqa: F405
        loss /= mask.sum()
        self.cache = (ts, ys, mask, (N, T, V))
        return loss

    def backward(self, dout=1):
        ts, ys, mask, (N, T, V) = self.cache
        dx = ys
        dx[np.arange(N * T), ts] -= 1  # noqa: F405
        dx *= dout
        dx /= mask.sum()
        dx *= mask[:, np.newaxis]  # noqa: F405
        dx = dx.reshape((N, T, V))
        return dx


class GRU:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]  # noqa: F405
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
        Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
        bz, br, bh = b[:H], b[H:2 * H], b[2 * H:]
        z = sigmoid(np.dot(x, Wxz) + np.dot(h_prev, Whz) + bz)  # noqa: F405
        r = sigmoid(np.dot(x, Wxr) + np.dot(h_prev, Whr) + br)  # noqa: F405
        h_hat = np.tanh(np.dot(x, Wxh) + np.dot(r * h_prev, Whh) + bh)  # noqa: F405
        h_next = (1 - z) * h_prev + z * h_hat
        self.cache = (x, h_prev, z, r, h_hat)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        Wxz, Wxr, Wxh = Wx[:, :H], Wx[:, H:2 * H], Wx[:, 2 * H:]
        Whz, Whr, Whh = Wh[:, :H], Wh[:, H:2 * H], Wh[:, 2 * H:]
        x, h_prev, z, r, h_hat = self.cache

        dh_hat = dh_next * z
        dh_prev = dh_next * (1 - z)

        # tanh
        dt = dh_hat * (1 - h_hat ** 2)
        dbh = np.sum(dt, axis=0)  # noqa: F405
        dWhh = np.dot((r * h_prev).T, dt)  # noqa: F405
        dhr = np.dot(dt, Whh.T)  # noqa: F405
        dWxh = np.dot(x.T, dt)  # noqa: F405
        dx = np.dot(dt, Wxh.T)  # noqa: F405
        dh_prev += r * dhr

        # update gate (z)
        dz = dh_next * h_hat - dh_next * h_prev
        dt = dz * z * (1 - z)
        dbz = np.sum(dt, axis=0)  # noqa: F405
        dWhz = np.dot(h_prev.T, dt)  # noqa: F405
        dh_prev += np.dot(dt, Whz.T)  # noqa: F405
        dWxz = np.dot(x.T, dt)  # noqa: F405
        dx += np.dot(dt, Wxz.T)  # noqa: F405

        # reset gate (r)
        dr = dhr * h_prev
        dt = dr * r * (1 - r)
        dbr = np.sum(dt, axis=0)  # noqa: F405
        dWhr = np.dot(h_prev.T, dt)  # noqa: F405
        dh_prev += np.dot(dt, Whr.T)  # noqa: F405
        dWxr = np.dot(x.T, dt)  # noqa: F405
        dx += np.dot(dt, Wxr.T)  # noqa: F405

        self.grads[0][...] = np.hstack((dWxz, dWxr, dWxh))  # noqa: F405
        self.grads[1][...] = np.hstack((dWhz, dWhr, dWhh))  # noqa: F405
        self.grads[2][...] = np.hstack((dbz, dbr, dbh))  # noqa: F405
        return dx, dh_prev


class TimeGRU:
    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]  # noqa: F405
        self.layers = None
        self.h, self.dh = None, None
        self.stateful = stateful

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        self.layers = []
        hs = np.empty((N, T, H), dtype='f')  # noqa: F405
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype='f')  # noqa: F405
        for t in range(T):
            layer = GRU(Wx, Wh, b)
            h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = h
            self.h = h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        D = Wx.shape[0]
        dxs = np.empty((N, T, D), dtype='f')  # noqa: F405
        dh_t = 0
        grads = [0, 0, 0]
        for t in range(T - 1, -1, -1):
            layer = self.layers[t]
            dx, dh_t = layer.backward(dhs[:, t, :] + dh_t)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh_t
        return dxs

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None
