"""Layers for the language model; arrays follow the dtype of what comes in."""
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
        Wx, Wh = self.params[self.wx_name], self.params[self.wh_name]
        next_h = np.tanh(x @ Wx + prev_h @ Wh + self.params[self.b_name])
        return next_h, (x, prev_h, next_h, Wx, Wh)

    def step_backward(self, dnext_h, meta):
        x, prev_h, next_h, Wx, Wh = meta
        dz = dnext_h * (1 - next_h * next_h)
        return dz @ Wx.T, dz @ Wh.T, x.T @ dz, prev_h.T @ dz, dz.sum(axis=0)

    def forward(self, x, h0):
        hs, self.meta = [], []
        h = h0
        for t in range(x.shape[1]):
            h, m = self.step_forward(x[:, t, :], h)
            hs.append(h)
            self.meta.append(m)
        return np.stack(hs, axis=1)

    def backward(self, dh):
        dxs = []
        dWx = np.zeros_like(self.meta[0][3], dtype=dh.dtype)
        dWh = np.zeros_like(self.meta[0][4], dtype=dh.dtype)
        db = np.zeros(dh.shape[2], dtype=dh.dtype)
        dnext = np.zeros_like(dh[:, 0, :])
        for t in reversed(range(dh.shape[1])):
            dx_t, dnext, dWx_t, dWh_t, db_t = self.step_backward(dh[:, t, :] + dnext,
                                                                 self.meta[t])
            dxs.append(dx_t)
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return np.stack(dxs[::-1], axis=1), dnext


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
        Wx, Wh = self.params[self.wx_name], self.params[self.wh_name]
        a = x @ Wx + prev_h @ Wh + self.params[self.b_name]
        H = prev_h.shape[1]
        i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, (x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh)

    def step_backward(self, dnext_h, dnext_c, meta):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = meta
        tc = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tc * tc)
        da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                             dnext_h * tc * o * (1 - o), dc * i * (1 - g * g)], axis=1)
        return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    def forward(self, x, h0):
        hs, self.meta = [], []
        h, c = h0, np.zeros_like(h0)
        for t in range(x.shape[1]):
            h, c, m = self.step_forward(x[:, t, :], h, c)
            hs.append(h)
            self.meta.append(m)
        return np.stack(hs, axis=1)

    def backward(self, dh):
        dxs = []
        dWx = np.zeros_like(self.meta[0][8], dtype=dh.dtype)
        dWh = np.zeros_like(self.meta[0][9], dtype=dh.dtype)
        db = np.zeros(4 * dh.shape[2], dtype=dh.dtype)
        dnext_h = np.zeros_like(dh[:, 0, :])
        dnext_c = np.zeros_like(dh[:, 0, :])
        for t in reversed(range(dh.shape[1])):
            dx_t, dnext_h, dnext_c, dWx_t, dWh_t, db_t = self.step_backward(
                dh[:, t, :] + dnext_h, dnext_c, self.meta[t])
            dxs.append(dx_t)
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return np.stack(dxs[::-1], axis=1), dnext_h


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
        self.meta = x
        return self.params[self.w_name][x]

    def backward(self, dout):
        dW = np.zeros((self.voc_dim, self.vec_dim), dtype=dout.dtype)
        np.add.at(dW, self.meta, dout)
        self.grads[self.w_name] = dW


class temporal_fc(object):
    def __init__(self, input_dim, output_dim, init_scale=0.02, name='t_fc'):
        """
        Affine layer applied at every timestep; weights in self.params, gradients in
        self.grads, both keyed by w_name and b_name.
        """
        self.name = name
        self.w_name = name + "_w"
        self.b_name = name + "_b"
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.params = {self.w_name: init_scale * np.random.randn(input_dim, output_dim),
                       self.b_name: np.zeros(output_dim)}
        self.grads = {self.w_name: None, self.b_name: None}
        self.meta = None

    def forward(self, x):
        """x (N, T, D) -> out (N, T, M); keeps x for the backward pass."""
        N, T, D = x.shape
        w, b = self.params[self.w_name], self.params[self.b_name]
        out = x.reshape(N * T, D).dot(w).reshape(N, T, -1) + b
        self.meta = x
        return out

    def backward(self, dout):
        """dout (N, T, M) -> dx (N, T, D); stores the gradients of w and b."""
        x = self.meta
        N, T, D = x.shape
        dout_rows = dout.reshape(N * T, -1)
        dx = dout_rows.dot(self.params[self.w_name].T).reshape(N, T, D)
        self.grads[self.w_name] = x.reshape(N * T, D).T.dot(dout_rows)
        self.grads[self.b_name] = dout_rows.sum(axis=0)
        return dx


class temporal_softmax_CE_loss(object):
    def __init__(self, dim_average=True):
        self.dim_average = dim_average
        self.dLoss = None
        self.label = None

    def forward(self, feat, label, mask):
        N, T, V = feat.shape
        flat = feat.reshape(N * T, V)
        rows, cols = np.arange(N * T), label.reshape(N * T)
        keep = mask.reshape(N * T).astype(feat.dtype)
        shifted = flat - flat.max(axis=1, keepdims=True)
        log_sum = np.log(np.sum(np.exp(shifted), axis=1))
        loss = np.sum(keep * (log_sum - shifted[rows, cols]))
        probs = np.exp(shifted - log_sum[:, None])
        probs[rows, cols] -= 1
        probs *= keep[:, None]
        if self.dim_average:
            loss = loss / N
            probs = probs / N
        self.dLoss = probs.reshape(N, T, V)
        self.label = label
        return loss

    def backward(self):
        return self.dLoss
