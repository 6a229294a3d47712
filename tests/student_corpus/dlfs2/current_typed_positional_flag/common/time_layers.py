"""Deep Learning from Scratch 2, common/time_layers.py, as printed since June 2020,
retyped with type hints (the GRU has a bias and params/grads lists like every layer)."""
from typing import List, Optional

import numpy as np

from common.functions import sigmoid, softmax
from common.layers import Embedding

Array = np.ndarray


class RNN:
    def __init__(self, Wx: Array, Wh: Array, b: Array) -> None:
        self.params: List[Array] = [Wx, Wh, b]
        self.grads: List[Array] = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache: Optional[tuple] = None

    def forward(self, x: Array, h_prev: Array) -> Array:
        Wx, Wh, b = self.params
        h_next = np.tanh(h_prev @ Wh + x @ Wx + b)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next: Array):
        Wx, Wh, _ = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next ** 2)
        self.grads[0][...] = x.T @ dt
        self.grads[1][...] = h_prev.T @ dt
        self.grads[2][...] = dt.sum(axis=0)
        return dt @ Wx.T, dt @ Wh.T


class TimeRNN:
    def __init__(self, Wx: Array, Wh: Array, b: Array, keep_state: bool = False) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers: List[RNN] = []
        self.h: Optional[Array] = None
        self.dh: Optional[Array] = None
        self.keep_state = keep_state

    def set_state(self, h: Array) -> None:
        self.h = h

    def reset_state(self) -> None:
        self.h = None

    def forward(self, xs: Array) -> Array:
        N, T, _ = xs.shape
        H = self.params[1].shape[0]
        hs = np.empty((N, T, H), dtype=np.float32)
        if not self.keep_state or self.h is None:
            self.h = np.zeros((N, H), dtype=np.float32)
        self.layers = []
        for t in range(T):
            layer = RNN(*self.params)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs: Array) -> Array:
        N, T, _ = dhs.shape
        D = self.params[0].shape[0]
        dxs = np.empty((N, T, D), dtype=np.float32)
        dh: Array = np.zeros_like(dhs[:, 0, :])
        sums = [np.zeros_like(p) for p in self.params]
        for t in range(T - 1, -1, -1):
            dx, dh = self.layers[t].backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for s, g in zip(sums, self.layers[t].grads):
                s += g
        for g, s in zip(self.grads, sums):
            g[...] = s
        self.dh = dh
        return dxs


class LSTM:
    def __init__(self, Wx: Array, Wh: Array, b: Array) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache: Optional[tuple] = None

    def forward(self, x: Array, h_prev: Array, c_prev: Array):
        Wx, Wh, b = self.params
        f, g, i, o = np.split(x @ Wx + h_prev @ Wh + b, 4, axis=1)
        f, g, i, o = sigmoid(f), np.tanh(g), sigmoid(i), sigmoid(o)
        c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, i, f, g, o, c_next)
        return h_next, c_next

    def backward(self, dh_next: Array, dc_next: Array):
        Wx, Wh, _ = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        tanh_c = np.tanh(c_next)
        ds = dc_next + dh_next * o * (1 - tanh_c ** 2)
        dA = np.hstack((ds * c_prev * f * (1 - f), ds * i * (1 - g ** 2),
                        ds * g * i * (1 - i), dh_next * tanh_c * o * (1 - o)))
        self.grads[0][...] = x.T @ dA
        self.grads[1][...] = h_prev.T @ dA
        self.grads[2][...] = dA.sum(axis=0)
        return dA @ Wx.T, dA @ Wh.T, ds * f


class TimeLSTM:
    def __init__(self, Wx: Array, Wh: Array, b: Array, keep_state: bool = False) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers: List[LSTM] = []
        self.h: Optional[Array] = None
        self.c: Optional[Array] = None
        self.dh: Optional[Array] = None
        self.keep_state = keep_state

    def set_state(self, h: Array, c: Optional[Array] = None) -> None:
        self.h, self.c = h, c

    def reset_state(self) -> None:
        self.h, self.c = None, None

    def forward(self, xs: Array) -> Array:
        N, T, _ = xs.shape
        H = self.params[1].shape[0]
        hs = np.empty((N, T, H), dtype=np.float32)
        if not self.keep_state or self.h is None:
            self.h = np.zeros((N, H), dtype=np.float32)
        if not self.keep_state or self.c is None:
            self.c = np.zeros((N, H), dtype=np.float32)
        self.layers = []
        for t in range(T):
            layer = LSTM(*self.params)
            self.h, self.c = layer.forward(xs[:, t, :], self.h, self.c)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs: Array) -> Array:
        N, T, _ = dhs.shape
        D = self.params[0].shape[0]
        dxs = np.empty((N, T, D), dtype=np.float32)
        dh: Array = np.zeros_like(dhs[:, 0, :])
        dc: Array = np.zeros_like(dh)
        sums = [np.zeros_like(p) for p in self.params]
        for t in range(T - 1, -1, -1):
            dx, dh, dc = self.layers[t].backward(dhs[:, t, :] + dh, dc)
            dxs[:, t, :] = dx
            for s, g in zip(sums, self.layers[t].grads):
                s += g
        for g, s in zip(self.grads, sums):
            g[...] = s
        self.dh = dh
        return dxs


class TimeEmbedding:
    def __init__(self, W: Array) -> None:
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.layers: List[Embedding] = []

    def forward(self, xs: Array) -> Array:
        N, T = xs.shape
        out = np.empty((N, T, self.params[0].shape[1]), dtype=np.float32)
        self.layers = []
        for t in range(T):
            layer = Embedding(self.params[0])
            out[:, t, :] = layer.forward(xs[:, t])
            self.layers.append(layer)
        return out

    def backward(self, dout: Array) -> None:
        total = np.zeros_like(self.params[0])
        for t, layer in enumerate(self.layers):
            layer.backward(dout[:, t, :])
            total += layer.grads[0]
        self.grads[0][...] = total


class TimeAffine:
    def __init__(self, W: Array, b: Array) -> None:
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x: Optional[Array] = None

    def forward(self, x: Array) -> Array:
        W, b = self.params
        self.x = x
        N, T, D = x.shape
        return (x.reshape(N * T, D) @ W + b).reshape(N, T, -1)

    def backward(self, dout: Array) -> Array:
        W, _ = self.params
        N, T, D = self.x.shape
        flat = dout.reshape(N * T, -1)
        self.grads[0][...] = self.x.reshape(N * T, D).T @ flat
        self.grads[1][...] = flat.sum(axis=0)
        return (flat @ W.T).reshape(N, T, D)


class TimeSoftmaxWithLoss:
    def __init__(self) -> None:
        self.params: List[Array] = []
        self.grads: List[Array] = []
        self.cache: Optional[tuple] = None
        self.ignore_label = -1

    def forward(self, xs: Array, ts: Array) -> float:
        N, T, V = xs.shape
        if ts.ndim == 3:
            ts = ts.argmax(axis=2)
        mask = (ts != self.ignore_label).reshape(N * T)
        ts = ts.reshape(N * T)
        ys = softmax(xs.reshape(N * T, V))
        ls = np.log(ys[np.arange(N * T), ts]) * mask
        loss = -ls.sum() / mask.sum()
        self.cache = (ts, ys, mask, (N, T, V))
        return loss

    def backward(self, dout: float = 1) -> Array:
        ts, ys, mask, (N, T, V) = self.cache
        dx = ys.copy()
        dx[np.arange(N * T), ts] -= 1
        dx *= dout / mask.sum()
        dx *= mask[:, np.newaxis]
        return dx.reshape(N, T, V)


class GRU:
    def __init__(self, Wx: Array, Wh: Array, b: Array) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache: Optional[tuple] = None

    def forward(self, x: Array, h_prev: Array) -> Array:
        Wx, Wh, b = self.params
        H = Wh.shape[0]
        a = x @ Wx + b
        z = sigmoid(a[:, :H] + h_prev @ Wh[:, :H])
        r = sigmoid(a[:, H:2 * H] + h_prev @ Wh[:, H:2 * H])
        h_hat = np.tanh(a[:, 2 * H:] + (r * h_prev) @ Wh[:, 2 * H:])
        self.cache = (x, h_prev, z, r, h_hat)
        return (1 - z) * h_prev + z * h_hat

    def backward(self, dh_next: Array):
        Wx, Wh, _ = self.params
        H = Wh.shape[0]
        x, h_prev, z, r, h_hat = self.cache
        dt_h = dh_next * z * (1 - h_hat ** 2)
        drh = dt_h @ Wh[:, 2 * H:].T
        dt_z = dh_next * (h_hat - h_prev) * z * (1 - z)
        dt_r = drh * h_prev * r * (1 - r)
        dt = np.hstack((dt_z, dt_r, dt_h))
        self.grads[0][...] = x.T @ dt
        self.grads[1][...] = np.hstack((h_prev.T @ dt_z, h_prev.T @ dt_r,
                                        (r * h_prev).T @ dt_h))
        self.grads[2][...] = dt.sum(axis=0)
        dx = dt @ Wx.T
        dh_prev = dh_next * (1 - z) + r * drh + dt_z @ Wh[:, :H].T + dt_r @ Wh[:, H:2 * H].T
        return dx, dh_prev


class TimeGRU:
    def __init__(self, Wx: Array, Wh: Array, b: Array, keep_state: bool = False) -> None:
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers: List[GRU] = []
        self.h: Optional[Array] = None
        self.dh: Optional[Array] = None
        self.keep_state = keep_state

    def forward(self, xs: Array) -> Array:
        N, T, _ = xs.shape
        H = self.params[1].shape[0]
        hs = np.empty((N, T, H), dtype=np.float32)
        if not self.keep_state or self.h is None:
            self.h = np.zeros((N, H), dtype=np.float32)
        self.layers = []
        for t in range(T):
            layer = GRU(*self.params)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs: Array) -> Array:
        N, T, _ = dhs.shape
        D = self.params[0].shape[0]
        dxs = np.empty((N, T, D), dtype=np.float32)
        dh: Array = np.zeros_like(dhs[:, 0, :])
        sums = [np.zeros_like(p) for p in self.params]
        for t in range(T - 1, -1, -1):
            dx, dh = self.layers[t].backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for s, g in zip(sums, self.layers[t].grads):
                s += g
        for g, s in zip(self.grads, sums):
            g[...] = s
        self.dh = dh
        return dxs

    def set_state(self, h: Array) -> None:
        self.h = h

    def reset_state(self) -> None:
        self.h = None
