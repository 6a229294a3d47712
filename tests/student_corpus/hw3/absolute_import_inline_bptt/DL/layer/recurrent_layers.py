import numpy as np

from DL.layer.layers_with_weights import LayerWithWeights


def sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


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
        next_h = np.tanh(x.dot(self.Wx) + prev_h.dot(self.Wh) + self.b)
        return next_h, (x, prev_h, next_h, self.Wx, self.Wh)

    def backward_step(self, dnext_h, cache):
        x, prev_h, next_h, Wx, Wh = cache
        dz = dnext_h * (1 - next_h ** 2)
        return dz.dot(Wx.T), dz.dot(Wh.T), x.T.dot(dz), prev_h.T.dot(dz), dz.sum(axis=0)

    def forward(self, x, h0):
        # keep every hidden state, h0 included, so backward can run without the steps
        N, T, D = x.shape
        states = np.zeros((N, T + 1, self.out_size))
        states[:, 0, :] = h0
        for t in range(T):
            states[:, t + 1, :] = np.tanh(x[:, t, :].dot(self.Wx)
                                          + states[:, t, :].dot(self.Wh) + self.b)
        self.cache = {'x': x, 'states': states, 'Wx': self.Wx, 'Wh': self.Wh}
        return states[:, 1:, :]

    def backward(self, dh):
        x, states = self.cache['x'], self.cache['states']
        Wx, Wh = self.cache['Wx'], self.cache['Wh']
        N, T, H = dh.shape
        dx = np.zeros(x.shape)
        dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
        carry = np.zeros((N, H))
        for t in reversed(range(T)):
            dz = (dh[:, t, :] + carry) * (1 - states[:, t + 1, :] ** 2)
            dx[:, t, :] = dz.dot(Wx.T)
            dWx += x[:, t, :].T.dot(dz)
            dWh += states[:, t, :].T.dot(dz)
            db += dz.sum(axis=0)
            carry = dz.dot(Wh.T)
        self.grad = dict(dx=dx, dh0=carry, dWx=dWx, dWh=dWh, db=db)


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

    def _gates(self, a):
        H = self.out_size
        return sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]), \
            np.tanh(a[:, 3 * H:])

    def forward_step(self, x, prev_h, prev_c):
        i, f, o, g = self._gates(x.dot(self.Wx) + prev_h.dot(self.Wh) + self.b)
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, (x, prev_h, prev_c, next_c, (i, f, o, g), self.Wx, self.Wh)

    def backward_step(self, dnext_h, dnext_c, cache):
        x, prev_h, prev_c, next_c, (i, f, o, g), Wx, Wh = cache
        tc = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tc ** 2)
        da = np.hstack((dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                        dnext_h * tc * o * (1 - o), dc * i * (1 - g ** 2)))
        return da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da), da.sum(0)

    def forward(self, x, h0):
        N, T, D = x.shape
        H = self.out_size
        hs = np.zeros((N, T + 1, H))
        cs = np.zeros((N, T + 1, H))
        gates = np.zeros((T, 4, N, H))
        hs[:, 0, :] = h0
        for t in range(T):
            gates[t] = self._gates(x[:, t, :].dot(self.Wx) + hs[:, t, :].dot(self.Wh) + self.b)
            i, f, o, g = gates[t]
            cs[:, t + 1, :] = f * cs[:, t, :] + i * g
            hs[:, t + 1, :] = o * np.tanh(cs[:, t + 1, :])
        self.cache = (x, hs, cs, gates, self.Wx, self.Wh)
        return hs[:, 1:, :]

    def backward(self, dh):
        x, hs, cs, gates, Wx, Wh = self.cache
        N, T, H = dh.shape
        dx = np.zeros(x.shape)
        dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(4 * H)
        dh_carry, dc_carry = np.zeros((N, H)), np.zeros((N, H))
        for t in reversed(range(T)):
            i, f, o, g = gates[t]
            tc = np.tanh(cs[:, t + 1, :])
            dh_t = dh[:, t, :] + dh_carry
            dc = dc_carry + dh_t * o * (1 - tc ** 2)
            da = np.hstack((dc * g * i * (1 - i), dc * cs[:, t, :] * f * (1 - f),
                            dh_t * tc * o * (1 - o), dc * i * (1 - g ** 2)))
            dx[:, t, :] = da.dot(Wx.T)
            dWx += x[:, t, :].T.dot(da)
            dWh += hs[:, t, :].T.dot(da)
            db += da.sum(0)
            dh_carry = da.dot(Wh.T)
            dc_carry = dc * f
        self.grad = dict(dx=dx, dh0=dh_carry, dWx=dWx, dWh=dWh, db=db)
