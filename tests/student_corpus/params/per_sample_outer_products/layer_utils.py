import numpy as np

DEBUG = True


def sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


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
        Wx, Wh, b = self.params[self.wx_name], self.params[self.wh_name], self.params[self.b_name]
        N = x.shape[0]
        next_h = np.zeros((N, self.h_dim))
        for n in range(N):  # one example at a time
            next_h[n] = np.tanh(x[n].dot(Wx) + prev_h[n].dot(Wh) + b)
        meta = (x, prev_h, next_h, Wx, Wh)
        return next_h, meta

    def step_backward(self, dnext_h, meta):
        x, prev_h, next_h, Wx, Wh = meta
        N = x.shape[0]
        dx = np.zeros(x.shape)
        dprev_h = np.zeros(prev_h.shape)
        dWx = np.zeros(Wx.shape)
        dWh = np.zeros(Wh.shape)
        db = np.zeros(Wh.shape[0])
        for n in range(N):
            dz = dnext_h[n] * (1 - next_h[n] ** 2)
            dx[n] = Wx.dot(dz)
            dprev_h[n] = Wh.dot(dz)
            dWx += np.outer(x[n], dz)
            dWh += np.outer(prev_h[n], dz)
            db += dz
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        N, T, D = x.shape
        if DEBUG:
            print("VanillaRNN.forward x", x.shape, "h0", h0.shape)
        h = np.zeros((N, T, self.h_dim))
        self.meta = []
        prev = h0
        for t in range(T):
            prev, m = self.step_forward(x[:, t, :], prev)
            h[:, t, :] = prev
            self.meta.append(m)
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        if DEBUG:
            print("VanillaRNN.backward dh", dh.shape)
        dx = np.zeros((N, T, self.input_dim))
        dWx = np.zeros((self.input_dim, H))
        dWh = np.zeros((H, H))
        db = np.zeros(H)
        dprev = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dprev, gWx, gWh, gb = self.step_backward(dh[:, t, :] + dprev, self.meta[t])
            dWx += gWx
            dWh += gWh
            db += gb
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return dx, dprev


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
        Wx, Wh, b = self.params[self.wx_name], self.params[self.wh_name], self.params[self.b_name]
        H = self.h_dim
        N = x.shape[0]
        next_h = np.zeros((N, H))
        next_c = np.zeros((N, H))
        gates = np.zeros((N, 4 * H))
        for n in range(N):
            a = x[n].dot(Wx) + prev_h[n].dot(Wh) + b
            gates[n, :3 * H] = sigmoid(a[:3 * H])
            gates[n, 3 * H:] = np.tanh(a[3 * H:])
            i, f, o, g = gates[n, :H], gates[n, H:2 * H], gates[n, 2 * H:3 * H], gates[n, 3 * H:]
            next_c[n] = f * prev_c[n] + i * g
            next_h[n] = o * np.tanh(next_c[n])
        meta = (x, prev_h, prev_c, next_c, gates, Wx, Wh)
        return next_h, next_c, meta

    def step_backward(self, dnext_h, dnext_c, meta):
        x, prev_h, prev_c, next_c, gates, Wx, Wh = meta
        H = self.h_dim
        N = x.shape[0]
        dx = np.zeros(x.shape)
        dprev_h = np.zeros(prev_h.shape)
        dprev_c = np.zeros(prev_c.shape)
        dWx = np.zeros(Wx.shape)
        dWh = np.zeros(Wh.shape)
        db = np.zeros(4 * H)
        for n in range(N):
            i, f, o, g = gates[n, :H], gates[n, H:2 * H], gates[n, 2 * H:3 * H], gates[n, 3 * H:]
            tc = np.tanh(next_c[n])
            dc = dnext_c[n] + dnext_h[n] * o * (1 - tc ** 2)
            da = np.concatenate([dc * g * i * (1 - i), dc * prev_c[n] * f * (1 - f),
                                 dnext_h[n] * tc * o * (1 - o), dc * i * (1 - g ** 2)])
            dx[n] = Wx.dot(da)
            dprev_h[n] = Wh.dot(da)
            dprev_c[n] = dc * f
            dWx += np.outer(x[n], da)
            dWh += np.outer(prev_h[n], da)
            db += da
        return dx, dprev_h, dprev_c, dWx, dWh, db

    def forward(self, x, h0):
        N, T, D = x.shape
        if DEBUG:
            print("LSTM.forward x", x.shape, "h0", h0.shape)
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
        if DEBUG:
            print("LSTM.backward dh", dh.shape)
        dx = np.zeros((N, T, self.input_dim))
        dWx = np.zeros((self.input_dim, 4 * H))
        dWh = np.zeros((H, 4 * H))
        db = np.zeros(4 * H)
        dprev_h = np.zeros((N, H))
        dprev_c = np.zeros((N, H))
        for t in range(T - 1, -1, -1):
            dx[:, t, :], dprev_h, dprev_c, gWx, gWh, gb = self.step_backward(
                dh[:, t, :] + dprev_h, dprev_c, self.meta[t])
            dWx += gWx
            dWh += gWh
            db += gb
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return dx, dprev_h


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
        N, T = x.shape
        out = np.zeros((N, T, self.vec_dim))
        for n in range(N):
            for t in range(T):
                out[n, t] = self.params[self.w_name][x[n, t]]
        self.meta = x
        return out

    def backward(self, dout):
        N, T = self.meta.shape
        dW = np.zeros((self.voc_dim, self.vec_dim))
        for n in range(N):
            for t in range(T):
                dW[self.meta[n, t]] += dout[n, t]
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
        N, T, D = x.shape
        out = np.zeros((N, T, self.output_dim))
        for t in range(T):
            out[:, t, :] = x[:, t, :].dot(self.params[self.w_name]) + self.params[self.b_name]
        self.meta = x
        return out

    def backward(self, dout):
        x = self.meta
        N, T, D = x.shape
        dx = np.zeros(x.shape)
        dw = np.zeros((D, self.output_dim))
        db = np.zeros(self.output_dim)
        for t in range(T):
            dx[:, t, :] = dout[:, t, :].dot(self.params[self.w_name].T)
            dw += x[:, t, :].T.dot(dout[:, t, :])
            db += dout[:, t, :].sum(axis=0)
        self.grads[self.w_name] = dw
        self.grads[self.b_name] = db
        return dx


class temporal_softmax_CE_loss(object):
    def __init__(self, dim_average=True):
        self.dim_average = dim_average
        self.dLoss = None
        self.label = None

    def forward(self, feat, label, mask):
        N, T, V = feat.shape
        loss = 0.0
        self.dLoss = np.zeros(feat.shape)
        for n in range(N):
            for t in range(T):
                if not mask[n, t]:
                    continue
                scores = feat[n, t] - np.max(feat[n, t])
                log_z = np.log(np.sum(np.exp(scores)))
                loss -= mask[n, t] * (scores[label[n, t]] - log_z)
                grad = np.exp(scores - log_z)
                grad[label[n, t]] -= 1
                self.dLoss[n, t] = mask[n, t] * grad
        if self.dim_average:
            loss /= N
            self.dLoss /= N
        self.label = label
        return loss

    def backward(self):
        return self.dLoss
