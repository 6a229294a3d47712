import numpy as np

from .activations import sigmoid, dsigmoid_from_output, dtanh_from_output


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
        Wx, Wh, b = (self.params[k] for k in (self.wx_name, self.wh_name, self.b_name))
        next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
        meta = (x, prev_h, next_h, Wx, Wh)
        return next_h, meta

    def step_backward(self, dnext_h, meta):
        x, prev_h, next_h, Wx, Wh = meta
        dz = dnext_h * dtanh_from_output(next_h)
        return dz.dot(Wx.T), dz.dot(Wh.T), x.T.dot(dz), prev_h.T.dot(dz), dz.sum(axis=0)

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.h_dim))
        self.meta = []
        for t in range(T):
            h_prev = h0 if t == 0 else h[:, t - 1, :]
            h[:, t, :], m = self.step_forward(x[:, t, :], h_prev)
            self.meta.append(m)
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        dx = np.zeros((N, T, self.input_dim))
        dWx = np.zeros((self.input_dim, H))
        dWh = np.zeros((H, H))
        db = np.zeros(H)
        dh_prev = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dh_prev, dWx_t, dWh_t, db_t = self.step_backward(dh[:, t, :] + dh_prev,
                                                                          self.meta[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return dx, dh_prev


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
        Wx, Wh, b = (self.params[k] for k in (self.wx_name, self.wh_name, self.b_name))
        H = prev_h.shape[1]
        a = x.dot(Wx) + prev_h.dot(Wh) + b
        ifo = sigmoid(a[:, :3 * H])
        g = np.tanh(a[:, 3 * H:])
        i, f, o = ifo[:, :H], ifo[:, H:2 * H], ifo[:, 2 * H:]
        next_c = f * prev_c + i * g
        tanh_c = np.tanh(next_c)
        next_h = o * tanh_c
        meta = (x, prev_h, prev_c, ifo, g, tanh_c, Wx, Wh)
        return next_h, next_c, meta

    def step_backward(self, dnext_h, dnext_c, meta):
        x, prev_h, prev_c, ifo, g, tanh_c, Wx, Wh = meta
        H = prev_h.shape[1]
        i, f, o = ifo[:, :H], ifo[:, H:2 * H], ifo[:, 2 * H:]
        dc = dnext_c + dnext_h * o * dtanh_from_output(tanh_c)
        dgates = np.hstack([dc * g, dc * prev_c, dnext_h * tanh_c])
        da = np.hstack([dgates * dsigmoid_from_output(ifo), dc * i * dtanh_from_output(g)])
        return (da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da),
                da.sum(axis=0))

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.h_dim))
        self.meta = []
        c = np.zeros((N, self.h_dim))
        for t in range(T):
            h_prev = h0 if t == 0 else h[:, t - 1, :]
            h[:, t, :], c, m = self.step_forward(x[:, t, :], h_prev, c)
            self.meta.append(m)
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        dx = np.zeros((N, T, self.input_dim))
        dWx = np.zeros((self.input_dim, 4 * H))
        dWh = np.zeros((H, 4 * H))
        db = np.zeros(4 * H)
        dh_prev = np.zeros((N, H))
        dc_prev = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dh_prev, dc_prev, dWx_t, dWh_t, db_t = self.step_backward(
                dh[:, t, :] + dh_prev, dc_prev, self.meta[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return dx, dh_prev


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
        return np.take(self.params[self.w_name], x, axis=0)

    def backward(self, dout):
        dW = np.zeros((self.voc_dim, self.vec_dim))
        for word, grad in zip(self.meta.ravel(), dout.reshape(-1, self.vec_dim)):
            dW[word] += grad
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
        scores = feat.reshape(N * T, V)
        rows = np.arange(N * T)
        cols = label.reshape(N * T)
        keep = mask.reshape(N * T)
        # log-softmax with the max subtracted, never the log of a probability
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -(keep * log_probs[rows, cols]).sum()
        dLoss = np.exp(log_probs)
        dLoss[rows, cols] -= 1
        dLoss *= keep[:, None]
        if self.dim_average:
            loss /= N
            dLoss /= N
        self.dLoss = dLoss.reshape(N, T, V)
        self.label = label
        return loss

    def backward(self):
        if self.dLoss is None:
            raise ValueError("No forward function called before for this module!")
        return self.dLoss
