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
        self.params = {self.wx_name: init_scale * np.random.randn(input_dim, h_dim),
                       self.wh_name: init_scale * np.random.randn(h_dim, h_dim),
                       self.b_name: np.zeros(h_dim)}
        self.grads = {self.wx_name: None, self.wh_name: None, self.b_name: None}
        self.meta = None

    def step_forward(self, x, prev_h):
        Wx = self.params[self.wx_name]
        Wh = self.params[self.wh_name]
        b = self.params[self.b_name]
        next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
        meta = {'x': x, 'prev_h': prev_h, 'next_h': next_h, 'Wx': Wx, 'Wh': Wh}
        return next_h, meta

    def step_backward(self, dnext_h, meta):
        dz = dnext_h * (1 - meta['next_h'] ** 2)
        dx = dz @ meta['Wx'].T
        dprev_h = dz @ meta['Wh'].T
        dWx = meta['x'].T @ dz
        dWh = meta['prev_h'].T @ dz
        db = dz.sum(axis=0)
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.h_dim))
        self.meta = []
        prev_h = h0
        for t in range(T):
            prev_h, m = self.step_forward(x[:, t, :], prev_h)
            h[:, t, :] = prev_h
            self.meta.append(m)
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dx = np.zeros((N, T, self.input_dim))
        dprev_h = np.zeros((N, H))
        for t in reversed(range(T)):
            dx[:, t, :], dprev_h, dWx, dWh, db = self.step_backward(dh[:, t, :] + dprev_h,
                                                                    self.meta[t])
            self.grads[self.wx_name] += dWx
            self.grads[self.wh_name] += dWh
            self.grads[self.b_name] += db
        dh0 = dprev_h
        return dx, dh0


class LSTM(object):
    def __init__(self, input_dim, h_dim, init_scale=0.02, name='lstm'):
        self.name = name
        self.wx_name = name + "_wx"
        self.wh_name = name + "_wh"
        self.b_name = name + "_b"
        self.input_dim = input_dim
        self.h_dim = h_dim
        self.params = {self.wx_name: init_scale * np.random.randn(input_dim, 4 * h_dim),
                       self.wh_name: init_scale * np.random.randn(h_dim, 4 * h_dim),
                       self.b_name: np.zeros(4 * h_dim)}
        self.grads = {self.wx_name: None, self.wh_name: None, self.b_name: None}
        self.meta = None

    def step_forward(self, x, prev_h, prev_c):
        Wx, Wh = self.params[self.wx_name], self.params[self.wh_name]
        H = self.h_dim
        a = x @ Wx + prev_h @ Wh + self.params[self.b_name]
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        meta = {'x': x, 'prev_h': prev_h, 'prev_c': prev_c, 'next_c': next_c,
                'i': i, 'f': f, 'o': o, 'g': g, 'Wx': Wx, 'Wh': Wh}
        return next_h, next_c, meta

    def step_backward(self, dnext_h, dnext_c, meta):
        i, f, o, g = meta['i'], meta['f'], meta['o'], meta['g']
        tanh_c = np.tanh(meta['next_c'])
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        da = np.concatenate([dc * g * i * (1 - i),
                             dc * meta['prev_c'] * f * (1 - f),
                             dnext_h * tanh_c * o * (1 - o),
                             dc * i * (1 - g ** 2)], axis=1)
        dx = da @ meta['Wx'].T
        dprev_h = da @ meta['Wh'].T
        dprev_c = dc * f
        dWx = meta['x'].T @ da
        dWh = meta['prev_h'].T @ da
        db = da.sum(axis=0)
        return dx, dprev_h, dprev_c, dWx, dWh, db

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.h_dim))
        self.meta = []
        prev_h, prev_c = h0, np.zeros((N, self.h_dim))
        for t in range(T):
            prev_h, prev_c, m = self.step_forward(x[:, t, :], prev_h, prev_c)
            h[:, t, :] = prev_h
            self.meta.append(m)
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        dx = np.zeros((N, T, self.input_dim))
        dprev_h = np.zeros((N, H))
        dprev_c = np.zeros((N, H))
        for t in reversed(range(T)):
            dx[:, t, :], dprev_h, dprev_c, dWx, dWh, db = self.step_backward(
                dh[:, t, :] + dprev_h, dprev_c, self.meta[t])
            self.grads[self.wx_name] += dWx
            self.grads[self.wh_name] += dWh
            self.grads[self.b_name] += db
        return dx, dprev_h


class word_embedding(object):
    def __init__(self, voc_dim, vec_dim, name="we"):
        self.name = name
        self.w_name = name + "_w"
        self.voc_dim = voc_dim
        self.vec_dim = vec_dim
        self.params = {self.w_name: np.random.randn(voc_dim, vec_dim)}
        self.grads = {self.w_name: None}
        self.meta = None

    def forward(self, x):
        self.meta = x
        return self.params[self.w_name][x, :]

    def backward(self, dout):
        self.grads[self.w_name] = np.zeros_like(self.params[self.w_name])
        np.add.at(self.grads[self.w_name], self.meta, dout)


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
