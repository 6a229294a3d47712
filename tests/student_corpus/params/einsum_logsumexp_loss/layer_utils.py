import numpy as np


def sigmoid(x):
    # scipy.special.expit without scipy
    return np.exp(-np.logaddexp(0.0, -x))


class VanillaRNN:
    def __init__(self, input_dim, h_dim, init_scale=0.02, name='vanilla_rnn'):
        self.name = name
        self.wx_name, self.wh_name, self.b_name = name + "_wx", name + "_wh", name + "_b"
        self.input_dim, self.h_dim = input_dim, h_dim
        self.params = {self.wx_name: init_scale * np.random.randn(input_dim, h_dim),
                       self.wh_name: init_scale * np.random.randn(h_dim, h_dim),
                       self.b_name: np.zeros(h_dim)}
        self.grads = dict.fromkeys(self.params)
        self.meta = None

    def step_forward(self, x, prev_h):
        Wx, Wh, b = self.params[self.wx_name], self.params[self.wh_name], self.params[self.b_name]
        next_h = np.tanh(np.einsum('nd,dh->nh', x, Wx) + np.einsum('nk,kh->nh', prev_h, Wh) + b)
        return next_h, (x, prev_h, next_h, Wx, Wh)

    def step_backward(self, dnext_h, meta):
        x, prev_h, next_h, Wx, Wh = meta
        dz = dnext_h * (1 - next_h ** 2)
        dx = np.einsum('nh,dh->nd', dz, Wx)
        dprev_h = np.einsum('nh,kh->nk', dz, Wh)
        dWx = np.einsum('nd,nh->dh', x, dz)
        dWh = np.einsum('nk,nh->kh', prev_h, dz)
        db = np.einsum('nh->h', dz)
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        self.meta = []
        out = []
        h = h0
        for t in range(x.shape[1]):
            h, m = self.step_forward(x[:, t], h)
            out.append(h)
            self.meta.append(m)
        return np.stack(out, 1)

    def backward(self, dh):
        T = dh.shape[1]
        self.grads = {k: np.zeros(v.shape) for k, v in self.params.items()}
        dx = [None] * T
        dnext = np.zeros_like(dh[:, 0])
        for t in range(T - 1, -1, -1):
            dx[t], dnext, dWx, dWh, db = self.step_backward(dh[:, t] + dnext, self.meta[t])
            for key, g in zip((self.wx_name, self.wh_name, self.b_name), (dWx, dWh, db)):
                self.grads[key] += g
        return np.stack(dx, 1), dnext


class LSTM:
    def __init__(self, input_dim, h_dim, init_scale=0.02, name='lstm'):
        self.name = name
        self.wx_name, self.wh_name, self.b_name = name + "_wx", name + "_wh", name + "_b"
        self.input_dim, self.h_dim = input_dim, h_dim
        self.params = {self.wx_name: init_scale * np.random.randn(input_dim, 4 * h_dim),
                       self.wh_name: init_scale * np.random.randn(h_dim, 4 * h_dim),
                       self.b_name: np.zeros(4 * h_dim)}
        self.grads = dict.fromkeys(self.params)
        self.meta = None

    def step_forward(self, x, prev_h, prev_c):
        Wx, Wh, b = self.params[self.wx_name], self.params[self.wh_name], self.params[self.b_name]
        a = np.einsum('nd,dk->nk', x, Wx) + np.einsum('nh,hk->nk', prev_h, Wh) + b
        a = a.reshape(a.shape[0], 4, -1)  # (N, gate, H), gates i, f, o, g
        i, f, o = sigmoid(a[:, 0]), sigmoid(a[:, 1]), sigmoid(a[:, 2])
        g = np.tanh(a[:, 3])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        return next_h, next_c, (x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh)

    def step_backward(self, dnext_h, dnext_c, meta):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = meta
        tc = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tc ** 2)
        da = np.stack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                       dnext_h * tc * o * (1 - o), dc * i * (1 - g ** 2)], axis=1)
        da = da.reshape(da.shape[0], -1)
        dx = np.einsum('nk,dk->nd', da, Wx)
        dprev_h = np.einsum('nk,hk->nh', da, Wh)
        dWx = np.einsum('nd,nk->dk', x, da)
        dWh = np.einsum('nh,nk->hk', prev_h, da)
        return dx, dprev_h, dc * f, dWx, dWh, da.sum(0)

    def forward(self, x, h0):
        self.meta = []
        out = []
        h, c = h0, np.zeros(h0.shape)
        for t in range(x.shape[1]):
            h, c, m = self.step_forward(x[:, t], h, c)
            out.append(h)
            self.meta.append(m)
        return np.stack(out, 1)

    def backward(self, dh):
        T = dh.shape[1]
        self.grads = {k: np.zeros(v.shape) for k, v in self.params.items()}
        dx = [None] * T
        dnext_h = np.zeros_like(dh[:, 0])
        dnext_c = np.zeros_like(dh[:, 0])
        for t in range(T - 1, -1, -1):
            dx[t], dnext_h, dnext_c, dWx, dWh, db = self.step_backward(dh[:, t] + dnext_h,
                                                                       dnext_c, self.meta[t])
            for key, g in zip((self.wx_name, self.wh_name, self.b_name), (dWx, dWh, db)):
                self.grads[key] += g
        return np.stack(dx, 1), dnext_h


class word_embedding:
    def __init__(self, voc_dim, vec_dim, name="we"):
        self.name = name
        self.w_name = name + "_w"
        self.voc_dim, self.vec_dim = voc_dim, vec_dim
        self.params = {self.w_name: np.random.randn(voc_dim, vec_dim)}
        self.grads = {self.w_name: None}
        self.meta = None

    def forward(self, x):
        self.meta = x
        return self.params[self.w_name][x]

    def backward(self, dout):
        onehot = np.eye(self.voc_dim)[self.meta]  # (N, T, V)
        self.grads[self.w_name] = np.einsum('ntv,ntd->vd', onehot, dout)


class temporal_fc:
    def __init__(self, input_dim, output_dim, init_scale=0.02, name='t_fc'):
        self.name = name
        self.w_name, self.b_name = name + "_w", name + "_b"
        self.input_dim, self.output_dim = input_dim, output_dim
        self.params = {self.w_name: init_scale * np.random.randn(input_dim, output_dim),
                       self.b_name: np.zeros(output_dim)}
        self.grads = {self.w_name: None, self.b_name: None}
        self.meta = None

    def forward(self, x):
        self.meta = x
        return np.einsum('ntd,dm->ntm', x, self.params[self.w_name]) + self.params[self.b_name]

    def backward(self, dout):
        self.grads[self.w_name] = np.einsum('ntd,ntm->dm', self.meta, dout)
        self.grads[self.b_name] = np.einsum('ntm->m', dout)
        return np.einsum('ntm,dm->ntd', dout, self.params[self.w_name])


class temporal_softmax_CE_loss:
    def __init__(self, dim_average=True):
        self.dim_average = dim_average
        self.dLoss = None
        self.label = None

    def forward(self, feat, label, mask):
        N, T, V = feat.shape
        z = feat - feat.max(axis=2, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
        picked = np.take_along_axis(log_p, label[:, :, None], axis=2)[:, :, 0]
        m = mask.astype(feat.dtype)
        scale = 1.0 / N if self.dim_average else 1.0
        loss = -(picked * m).sum() * scale
        grad = np.exp(log_p)
        np.put_along_axis(grad, label[:, :, None],
                          np.take_along_axis(grad, label[:, :, None], axis=2) - 1, axis=2)
        self.dLoss = grad * m[:, :, None] * scale
        self.label = label
        return loss

    def backward(self):
        return self.dLoss
