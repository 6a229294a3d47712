import numpy as np

from .rnn_ops import stable_sigmoid, affine_time

sigmoid = stable_sigmoid


class VanillaRNN(object):
    def __init__(self, input_dim, h_dim, init_scale=0.02, name='vanilla_rnn'):
        self.name = name
        self.wx_name = name + "_wx"
        self.wh_name = name + "_wh"
        self.b_name = name + "_b"
        self.input_dim = input_dim
        self.h_dim = h_dim
        self.params = {}
        self.grads = {}
        self.params[self.wx_name] = init_scale * np.random.randn(input_dim, h_dim)
        self.params[self.wh_name] = init_scale * np.random.randn(h_dim, h_dim)
        self.params[self.b_name] = np.zeros(h_dim)
        self.grads[self.wx_name] = None
        self.grads[self.wh_name] = None
        self.grads[self.b_name] = None
        self.meta = None

    def step_forward(self, x, prev_h):
        Wx = self.params[self.wx_name]
        Wh = self.params[self.wh_name]
        next_h = np.tanh(np.dot(x, Wx) + np.dot(prev_h, Wh) + self.params[self.b_name])
        return next_h, [x, prev_h, next_h, Wx, Wh]

    def step_backward(self, dnext_h, meta):
        x, prev_h, next_h, Wx, Wh = meta
        dz = (1 - next_h ** 2) * dnext_h
        dx = np.dot(dz, Wx.T)
        dprev_h = np.dot(dz, Wh.T)
        dWx = np.dot(x.T, dz)
        dWh = np.dot(prev_h.T, dz)
        db = np.sum(dz, axis=0)
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        self.meta = []
        hs = []
        h = h0
        for x_t in np.swapaxes(x, 0, 1):
            h, m = self.step_forward(x_t, h)
            hs.append(h)
            self.meta.append(m)
        return np.swapaxes(np.array(hs), 0, 1)

    def backward(self, dh):
        dxs = []
        dWx = np.zeros_like(self.params[self.wx_name])
        dWh = np.zeros_like(self.params[self.wh_name])
        db = np.zeros_like(self.params[self.b_name])
        dprev = np.zeros_like(dh[:, 0, :])
        for t in reversed(range(len(self.meta))):
            dx_t, dprev, a, b, c = self.step_backward(dh[:, t, :] + dprev, self.meta[t])
            dxs.append(dx_t)
            dWx += a
            dWh += b
            db += c
        dxs.reverse()
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return np.swapaxes(np.array(dxs), 0, 1), dprev


class LSTM(object):
    def __init__(self, input_dim, h_dim, init_scale=0.02, name='lstm'):
        self.name = name
        self.wx_name = name + "_wx"
        self.wh_name = name + "_wh"
        self.b_name = name + "_b"
        self.input_dim = input_dim
        self.h_dim = h_dim
        self.params = {}
        self.grads = {}
        self.params[self.wx_name] = init_scale * np.random.randn(input_dim, 4 * h_dim)
        self.params[self.wh_name] = init_scale * np.random.randn(h_dim, 4 * h_dim)
        self.params[self.b_name] = np.zeros(4 * h_dim)
        self.grads[self.wx_name] = None
        self.grads[self.wh_name] = None
        self.grads[self.b_name] = None
        self.meta = None

    def step_forward(self, x, prev_h, prev_c):
        Wx = self.params[self.wx_name]
        Wh = self.params[self.wh_name]
        a = np.dot(x, Wx) + np.dot(prev_h, Wh) + self.params[self.b_name]
        a_i, a_f, a_o, a_g = np.hsplit(a, 4)
        i, f, o, g = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o), np.tanh(a_g)
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, [x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh]

    def step_backward(self, dnext_h, dnext_c, meta):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = meta
        tc = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tc ** 2)
        da = np.hstack((dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                        dnext_h * tc * o * (1 - o), dc * i * (1 - g ** 2)))
        dx = np.dot(da, Wx.T)
        dprev_h = np.dot(da, Wh.T)
        dprev_c = dc * f
        dWx = np.dot(x.T, da)
        dWh = np.dot(prev_h.T, da)
        db = np.sum(da, axis=0)
        return dx, dprev_h, dprev_c, dWx, dWh, db

    def forward(self, x, h0):
        self.meta = []
        hs = []
        h, c = h0, np.zeros_like(h0)
        for x_t in np.swapaxes(x, 0, 1):
            h, c, m = self.step_forward(x_t, h, c)
            hs.append(h)
            self.meta.append(m)
        return np.swapaxes(np.array(hs), 0, 1)

    def backward(self, dh):
        dxs = []
        dWx = np.zeros_like(self.params[self.wx_name])
        dWh = np.zeros_like(self.params[self.wh_name])
        db = np.zeros_like(self.params[self.b_name])
        dprev_h = np.zeros_like(dh[:, 0, :])
        dprev_c = np.zeros_like(dh[:, 0, :])
        for t in reversed(range(len(self.meta))):
            dx_t, dprev_h, dprev_c, a, b, c = self.step_backward(dh[:, t, :] + dprev_h, dprev_c,
                                                                 self.meta[t])
            dxs.insert(0, dx_t)
            dWx += a
            dWh += b
            db += c
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return np.swapaxes(np.array(dxs), 0, 1), dprev_h


class word_embedding(object):
    def __init__(self, voc_dim, vec_dim, name="we"):
        self.name = name
        self.w_name = name + "_w"
        self.voc_dim = voc_dim
        self.vec_dim = vec_dim
        self.params = {}
        self.grads = {}
        self.params[self.w_name] = np.random.randn(voc_dim, vec_dim)
        self.grads[self.w_name] = None
        self.meta = None

    def forward(self, x):
        self.meta = x.copy()
        return self.params[self.w_name][x]

    def backward(self, dout):
        dW = np.zeros(self.params[self.w_name].shape)
        np.add.at(dW, self.meta.reshape(-1), dout.reshape(-1, dout.shape[-1]))
        self.grads[self.w_name] = dW


class temporal_fc(object):
    def __init__(self, input_dim, output_dim, init_scale=0.02, name='t_fc'):
        self.name = name
        self.w_name = name + "_w"
        self.b_name = name + "_b"
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.params = {}
        self.grads = {}
        self.params[self.w_name] = init_scale * np.random.randn(input_dim, output_dim)
        self.params[self.b_name] = np.zeros(output_dim)
        self.grads[self.w_name] = None
        self.grads[self.b_name] = None
        self.meta = None

    def forward(self, x):
        self.meta = x
        return affine_time(x, self.params[self.w_name], self.params[self.b_name])

    def backward(self, dout):
        x = self.meta
        dx = np.tensordot(dout, self.params[self.w_name], axes=([2], [1]))
        self.grads[self.w_name] = np.tensordot(x, dout, axes=([0, 1], [0, 1]))
        self.grads[self.b_name] = np.sum(dout, axis=(0, 1))
        return dx


class temporal_softmax_CE_loss(object):
    def __init__(self, dim_average=True):
        """
        - dim_average: divide the summed loss by the batch size N
        - dLoss: the probabilities of the last forward; backward turns them into dx
        """
        self.dim_average = dim_average
        self.dLoss = None
        self.label = None
        self.mask = None

    def forward(self, feat, label, mask):
        """feat (N, T, V), label (N, T), mask (N, T) -> the loss."""
        N, T, V = feat.shape
        scores = feat.reshape(N * T, V)
        probs = np.exp(scores - np.max(scores, axis=1, keepdims=True))
        probs /= np.sum(probs, axis=1, keepdims=True)
        picked = probs[np.arange(N * T), label.reshape(N * T)]
        loss = -np.sum(mask.reshape(N * T) * np.log(picked))
        if self.dim_average:
            loss /= N
        self.dLoss = probs
        self.label = label
        self.mask = mask
        return loss

    def backward(self):
        """-> dfeat (N, T, V) of the last forward."""
        if self.dLoss is None:
            raise ValueError("backward called before forward")
        N, T = self.label.shape
        grad = self.dLoss
        grad[np.arange(N * T), self.label.reshape(N * T)] -= 1.0
        if self.dim_average:
            grad /= N
        grad *= self.mask.reshape(N * T)[:, None]
        return grad.reshape(N, T, -1)
