from __future__ import print_function
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


class RNN(object):
    def __init__(self, *args):
        """
        Holds the layers of a model and one dict of all their params and grads.
        """
        self.params = {}
        self.grads = {}
        self.layers = []
        self.owner = {}
        names = set()
        for index, layer in enumerate(args):
            if layer.name in names:
                raise ValueError("two layers are called {}".format(layer.name))
            names.add(layer.name)
            for key, value in layer.params.items():
                if value is not None:
                    self.params[key] = value
                    self.owner[key] = index
            for key, value in layer.grads.items():
                self.grads[key] = value
            self.layers.append(layer)

    def assign(self, name, val):
        self.layers[self.owner[name]].params[name] = val

    def gather_params(self):
        for layer in self.layers:
            for key, value in layer.params.iteritems():
                self.params[key] = value

    def gather_grads(self):
        for layer in self.layers:
            for key, value in layer.grads.iteritems():
                self.grads[key] = value


class VanillaRNN(object):
    def __init__(self, input_dim, h_dim, init_scale=0.02, name='vanilla_rnn'):
        """
        Weights live in self.params, their gradients in self.grads, under the keys
        wx_name, wh_name and b_name; meta keeps what backward needs.
        """
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
        """x (N, D), prev_h (N, H) -> next_h (N, H), meta"""
        assert x.shape[1] == self.input_dim, "input has {} features, expected {}".format(
            x.shape[1], self.input_dim)
        #############################################################################
        # TODO: one timestep of the vanilla RNN                                     #
        #############################################################################
        z = (np.matmul(x, self.params[self.wx_name])
             + np.matmul(prev_h, self.params[self.wh_name]) + self.params[self.b_name])
        next_h = np.tanh(z)
        meta = (x, prev_h, next_h)
        #############################################################################
        #                             END OF YOUR CODE                              #
        #############################################################################
        return next_h, meta

    def step_backward(self, dnext_h, meta):
        """dnext_h (N, H) -> dx, dprev_h, dWx, dWh, db"""
        #############################################################################
        # TODO: backward of one timestep                                            #
        #############################################################################
        x, prev_h, next_h = meta
        dz = (1 - next_h ** 2) * dnext_h
        dWx = np.matmul(x.T, dz)
        dWh = np.matmul(prev_h.T, dz)
        db = np.sum(dz, axis=0)
        dx = np.matmul(dz, self.params[self.wx_name].T)
        dprev_h = np.matmul(dz, self.params[self.wh_name].T)
        #############################################################################
        #                             END OF YOUR CODE                              #
        #############################################################################
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        """x (N, T, D), h0 (N, H) -> h (N, T, H)"""
        self.meta = []
        ##############################################################################
        # TODO: the whole sequence, with step_forward                                #
        ##############################################################################
        states = []
        h_t = h0
        for t in range(x.shape[1]):
            h_t, step_meta = self.step_forward(x[:, t, :], h_t)
            states.append(h_t)
            self.meta.append(step_meta)
        h = np.array(states).transpose(1, 0, 2)
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################
        return h

    def backward(self, dh):
        """dh (N, T, H) -> dx (N, T, D), dh0 (N, H); weight gradients in self.grads"""
        ##############################################################################
        # TODO: backprop through time, with step_backward                           #
        ##############################################################################
        dh = dh.copy()
        N, T, H = dh.shape
        dxs = [None] * T
        for key in (self.wx_name, self.wh_name, self.b_name):
            self.grads[key] = np.zeros_like(self.params[key])
        dh_prev = np.zeros((N, H))
        for t in reversed(range(T)):
            dh[:, t, :] += dh_prev
            dxs[t], dh_prev, dWx, dWh, db = self.step_backward(dh[:, t, :], self.meta[t])
            self.grads[self.wx_name] += dWx
            self.grads[self.wh_name] += dWh
            self.grads[self.b_name] += db
        dx = np.array(dxs).transpose(1, 0, 2)
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################
        self.meta = []
        return dx, dh_prev


class LSTM(object):
    def __init__(self, input_dim, h_dim, init_scale=0.02, name='lstm'):
        """
        Like VanillaRNN, with 4H columns in every weight (gates i, f, o, g).
        """
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
        """x (N, D), prev_h (N, H), prev_c (N, H) or (H,) -> next_h, next_c, meta"""
        #############################################################################
        # TODO: one LSTM timestep                                                   #
        #############################################################################
        a = (np.matmul(x, self.params[self.wx_name])
             + np.matmul(prev_h, self.params[self.wh_name]) + self.params[self.b_name])
        H = a.shape[1] // 4
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        meta = (x, prev_h, prev_c, next_c, i, f, o, g)
        #############################################################################
        #                               END OF YOUR CODE                            #
        #############################################################################
        return next_h, next_c, meta

    def step_backward(self, dnext_h, dnext_c, meta):
        """-> dx, dprev_h, dprev_c, dWx, dWh, db"""
        #############################################################################
        # TODO: backward of one LSTM timestep                                       #
        #############################################################################
        x, prev_h, prev_c, next_c, i, f, o, g = meta
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
        da = np.concatenate((dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                             dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)), axis=1)
        dx = np.matmul(da, self.params[self.wx_name].T)
        dprev_h = np.matmul(da, self.params[self.wh_name].T)
        dprev_c = dc * f
        dWx = np.matmul(x.T, da)
        dWh = np.matmul(prev_h.T, da)
        db = np.sum(da, axis=0)
        #############################################################################
        #                               END OF YOUR CODE                            #
        #############################################################################
        return dx, dprev_h, dprev_c, dWx, dWh, db

    def forward(self, x, h0):
        """x (N, T, D), h0 (N, H) -> h (N, T, H); the cell state starts at zero"""
        self.meta = []
        #############################################################################
        # TODO: the whole sequence, with step_forward                               #
        #############################################################################
        # one zero cell state of shape (H,): broadcasting gives it the batch dimension
        c_t = np.zeros(h0.shape[1])
        h_t = h0
        states = []
        for t in range(x.shape[1]):
            h_t, c_t, step_meta = self.step_forward(x[:, t, :], h_t, c_t)
            states.append(h_t)
            self.meta.append(step_meta)
        h = np.transpose(np.array(states), (1, 0, 2))
        #############################################################################
        #                               END OF YOUR CODE                            #
        #############################################################################
        return h

    def backward(self, dh):
        """dh (N, T, H) -> dx (N, T, D), dh0 (N, H); weight gradients in self.grads"""
        #############################################################################
        # TODO: backprop through time, with step_backward                           #
        #############################################################################
        N, T, H = dh.shape
        for key in (self.wx_name, self.wh_name, self.b_name):
            self.grads[key] = np.zeros_like(self.params[key])
        dx = np.zeros((N, T, self.input_dim))
        dh_prev = np.zeros((N, H))
        dc_prev = np.zeros(H)
        for t in reversed(range(len(self.meta))):
            dx[:, t, :], dh_prev, dc_prev, dWx, dWh, db = self.step_backward(
                dh[:, t, :] + dh_prev, dc_prev, self.meta[t])
            self.grads[self.wx_name] += dWx
            self.grads[self.wh_name] += dWh
            self.grads[self.b_name] += db
        #############################################################################
        #                               END OF YOUR CODE                            #
        #############################################################################
        self.meta = []
        return dx, dh_prev


class word_embedding(object):
    def __init__(self, voc_dim, vec_dim, name="we"):
        """
        voc_dim words, each a vector of vec_dim numbers, in self.params[w_name].
        """
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
        """x (N, T) word indices -> out (N, T, D)"""
        ##############################################################################
        # TODO: look the words up                                                    #
        ##############################################################################
        # as a product: one-hot rows (N, T, V) times the (V, D) table
        eye = np.identity(self.voc_dim)
        self.meta = np.stack([eye[x[:, t]] for t in range(x.shape[1])], axis=1)
        out = np.matmul(self.meta, self.params[self.w_name])
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################
        return out

    def backward(self, dout):
        """dout (N, T, D) -> stores grads[w_name] (V, D)"""
        ##############################################################################
        # TODO: gradient of the table; a word may appear several times              #
        ##############################################################################
        dW = np.zeros((self.voc_dim, dout.shape[2]))
        for t in range(dout.shape[1]):
            dW += np.matmul(self.meta[:, t, :].T, dout[:, t, :])
        self.grads[self.w_name] = dW
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################


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
