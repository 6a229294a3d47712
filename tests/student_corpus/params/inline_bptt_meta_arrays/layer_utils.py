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
        next_h = np.tanh(x.dot(self.params[self.wx_name]) + prev_h.dot(self.params[self.wh_name])
                         + self.params[self.b_name])
        meta = (x, prev_h, next_h, self.params[self.wx_name], self.params[self.wh_name])
        return next_h, meta

    def step_backward(self, dnext_h, meta):
        x, prev_h, next_h, Wx, Wh = meta
        dz = dnext_h * (1 - next_h ** 2)
        return dz.dot(Wx.T), dz.dot(Wh.T), x.T.dot(dz), prev_h.T.dot(dz), dz.sum(0)

    def forward(self, x, h0):
        N, T, D = x.shape
        Wx, Wh, b = self.params[self.wx_name], self.params[self.wh_name], self.params[self.b_name]
        h = np.zeros((N, T + 1, self.h_dim))
        h[:, 0] = h0
        for t in range(T):
            h[:, t + 1] = np.tanh(x[:, t].dot(Wx) + h[:, t].dot(Wh) + b)
        self.meta = {'x': x, 'h': h, 'Wx': Wx, 'Wh': Wh}
        return h[:, 1:]

    def backward(self, dh):
        x, h, Wx, Wh = self.meta['x'], self.meta['h'], self.meta['Wx'], self.meta['Wh']
        N, T, H = dh.shape
        dx = np.zeros(x.shape)
        dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(H)
        dnext = np.zeros((N, H))
        for t in range(T, 0, -1):
            dz = (dh[:, t - 1] + dnext) * (1 - h[:, t] ** 2)
            dx[:, t - 1] = dz.dot(Wx.T)
            dWx += x[:, t - 1].T.dot(dz)
            dWh += h[:, t - 1].T.dot(dz)
            db += dz.sum(0)
            dnext = dz.dot(Wh.T)
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return dx, dnext


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

    def _gates(self, a):
        H = self.h_dim
        return (sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H]),
                np.tanh(a[:, 3 * H:]))

    def step_forward(self, x, prev_h, prev_c):
        Wx, Wh = self.params[self.wx_name], self.params[self.wh_name]
        i, f, o, g = self._gates(x.dot(Wx) + prev_h.dot(Wh) + self.params[self.b_name])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, (x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh)

    def step_backward(self, dnext_h, dnext_c, meta):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = meta
        tc = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tc ** 2)
        da = np.concatenate((dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                             dnext_h * tc * o * (1 - o), dc * i * (1 - g ** 2)), axis=1)
        return da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da), da.sum(0)

    def forward(self, x, h0):
        N, T, D = x.shape
        H = self.h_dim
        Wx, Wh, b = self.params[self.wx_name], self.params[self.wh_name], self.params[self.b_name]
        h = np.zeros((N, T + 1, H))
        c = np.zeros((N, T + 1, H))
        ifog = np.zeros((N, T, 4 * H))
        h[:, 0] = h0
        for t in range(T):
            i, f, o, g = self._gates(x[:, t].dot(Wx) + h[:, t].dot(Wh) + b)
            ifog[:, t] = np.hstack((i, f, o, g))
            c[:, t + 1] = f * c[:, t] + i * g
            h[:, t + 1] = o * np.tanh(c[:, t + 1])
        self.meta = {'x': x, 'h': h, 'c': c, 'ifog': ifog, 'Wx': Wx, 'Wh': Wh}
        return h[:, 1:]

    def backward(self, dh):
        m = self.meta
        x, h, c, ifog, Wx, Wh = m['x'], m['h'], m['c'], m['ifog'], m['Wx'], m['Wh']
        N, T, H = dh.shape
        dx = np.zeros(x.shape)
        dWx, dWh, db = np.zeros(Wx.shape), np.zeros(Wh.shape), np.zeros(4 * H)
        dnext_h = np.zeros((N, H))
        dnext_c = np.zeros((N, H))
        for t in range(T, 0, -1):
            i, f, o, g = np.hsplit(ifog[:, t - 1], 4)
            tc = np.tanh(c[:, t])
            dh_t = dh[:, t - 1] + dnext_h
            dc = dnext_c + dh_t * o * (1 - tc ** 2)
            da = np.concatenate((dc * g * i * (1 - i), dc * c[:, t - 1] * f * (1 - f),
                                 dh_t * tc * o * (1 - o), dc * i * (1 - g ** 2)), axis=1)
            dx[:, t - 1] = da.dot(Wx.T)
            dWx += x[:, t - 1].T.dot(da)
            dWh += h[:, t - 1].T.dot(da)
            db += da.sum(0)
            dnext_h = da.dot(Wh.T)
            dnext_c = dc * f
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return dx, dnext_h


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
        # bincount-style accumulation: one weighted sum per embedding column
        words = self.meta.ravel()
        flat = dout.reshape(-1, dout.shape[-1])
        dW = np.zeros((self.voc_dim, self.vec_dim))
        for d in range(self.vec_dim):
            dW[:, d] = np.bincount(words, weights=flat[:, d], minlength=self.voc_dim)
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
