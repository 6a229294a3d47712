from __future__ import absolute_import, division, print_function

import numpy as np

try:
    xrange
except NameError:
    xrange = range


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


class RNN(object):
    """Serializes the layers (the course's container; Python 2 dict methods)."""

    def __init__(self, *args):
        self.params = {}
        self.grads = {}
        self.layers = list(args)
        for layer in self.layers:
            for n, v in layer.params.items():
                self.params[n] = v
            for n, v in layer.grads.items():
                self.grads[n] = v

    def gather_params(self):
        for layer in self.layers:
            for n, v in layer.params.iteritems():
                self.params[n] = v

    def gather_grads(self):
        for layer in self.layers:
            for n, v in layer.grads.iteritems():
                self.grads[n] = v

    def load(self, pretrained):
        for layer in self.layers:
            for n, v in layer.params.iteritems():
                if n in pretrained.keys():
                    layer.params[n] = pretrained[n].copy()
                    print("loaded {} {}".format(n, layer.params[n].shape))


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
        for k in self.params.keys():
            self.grads[k] = None
        self.meta = None

    def step_forward(self, x, prev_h):
        p = self.params
        next_h = np.tanh(x.dot(p[self.wx_name]) + prev_h.dot(p[self.wh_name]) + p[self.b_name])
        meta = (x, prev_h, next_h, p[self.wx_name], p[self.wh_name])
        return next_h, meta

    def step_backward(self, dnext_h, meta):
        x, prev_h, next_h, Wx, Wh = meta
        dtanh = dnext_h * (1. - next_h ** 2)
        dx = dtanh.dot(Wx.T)
        dprev_h = dtanh.dot(Wh.T)
        dWx = x.T.dot(dtanh)
        dWh = prev_h.T.dot(dtanh)
        db = dtanh.sum(axis=0)
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.h_dim))
        self.meta = {}
        prev_h = h0
        for t in xrange(T):
            prev_h, self.meta[t] = self.step_forward(x[:, t, :], prev_h)
            h[:, t, :] = prev_h
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        dx = np.zeros((N, T, self.input_dim))
        grads = dict((k, np.zeros_like(v)) for k, v in self.params.items())
        dprev_h = np.zeros((N, H))
        for t in reversed(xrange(T)):
            dx[:, t, :], dprev_h, dWx, dWh, db = self.step_backward(dh[:, t, :] + dprev_h,
                                                                    self.meta[t])
            grads[self.wx_name] += dWx
            grads[self.wh_name] += dWh
            grads[self.b_name] += db
        self.grads.update(grads)
        return dx, dprev_h


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
        for k in self.params.keys():
            self.grads[k] = None
        self.meta = None

    def step_forward(self, x, prev_h, prev_c):
        p = self.params
        H = self.h_dim
        a = x.dot(p[self.wx_name]) + prev_h.dot(p[self.wh_name]) + p[self.b_name]
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        meta = (x, prev_h, prev_c, next_c, i, f, o, g, p[self.wx_name], p[self.wh_name])
        return next_h, next_c, meta

    def step_backward(self, dnext_h, dnext_c, meta):
        x, prev_h, prev_c, next_c, i, f, o, g, Wx, Wh = meta
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1. - tanh_c ** 2)
        dai = dc * g * i * (1. - i)
        daf = dc * prev_c * f * (1. - f)
        dao = dnext_h * tanh_c * o * (1. - o)
        dag = dc * i * (1. - g ** 2)
        da = np.hstack((dai, daf, dao, dag))
        return (da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da),
                da.sum(axis=0))

    def forward(self, x, h0):
        N, T, D = x.shape
        h = np.zeros((N, T, self.h_dim))
        self.meta = {}
        prev_h, prev_c = h0, np.zeros((N, self.h_dim))
        for t in xrange(T):
            prev_h, prev_c, self.meta[t] = self.step_forward(x[:, t, :], prev_h, prev_c)
            h[:, t, :] = prev_h
        return h

    def backward(self, dh):
        N, T, H = dh.shape
        dx = np.zeros((N, T, self.input_dim))
        grads = dict((k, np.zeros_like(v)) for k, v in self.params.items())
        dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
        for t in reversed(xrange(T)):
            dx[:, t, :], dprev_h, dprev_c, dWx, dWh, db = self.step_backward(
                dh[:, t, :] + dprev_h, dprev_c, self.meta[t])
            grads[self.wx_name] += dWx
            grads[self.wh_name] += dWh
            grads[self.b_name] += db
        self.grads.update(grads)
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
        for n in xrange(N):
            for t in xrange(T):
                out[n, t] = self.params[self.w_name][x[n, t]]
        self.meta = x
        return out

    def backward(self, dout):
        dW = np.zeros((self.voc_dim, self.vec_dim))
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
