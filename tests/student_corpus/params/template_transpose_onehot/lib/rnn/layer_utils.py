from __future__ import print_function
import numpy as np


def sigmoid(x):
    """
    A numerically stable version of the logistic sigmoid function.
    """
    pos_mask = (x >= 0)
    neg_mask = (x < 0)
    z = np.zeros_like(x)
    z[pos_mask] = np.exp(-x[pos_mask])
    z[neg_mask] = np.exp(x[neg_mask])
    top = np.ones_like(x)
    top[neg_mask] = z[neg_mask]
    return top / (1 + z)


class RNN(object):
    def __init__(self, *args):
        """
        RNN Object to serialize the NN layers
        Please read this code block and understand how it works
        """
        self.params = {}
        self.grads = {}
        self.layers = []
        self.paramName2Indices = {}
        self.layer_names = {}

        layer_cnt = 0
        for layer in args:
            for n, v in layer.params.items():
                if v is None:
                    continue
                self.params[n] = v
                self.paramName2Indices[n] = layer_cnt
            for n, v in layer.grads.items():
                self.grads[n] = v
            if layer.name in self.layer_names:
                raise ValueError("Existing name {}!".format(layer.name))
            self.layer_names[layer.name] = True
            self.layers.append(layer)
            layer_cnt += 1

    def assign(self, name, val):
        layer_cnt = self.paramName2Indices[name]
        self.layers[layer_cnt].params[name] = val

    def gather_params(self):
        for layer in self.layers:
            for n, v in layer.params.iteritems():
                self.params[n] = v

    def gather_grads(self):
        for layer in self.layers:
            for n, v in layer.grads.iteritems():
                self.grads[n] = v


class VanillaRNN(object):
    def __init__(self, input_dim, h_dim, init_scale=0.02, name='vanilla_rnn'):
        """
        In forward pass, please use self.params for the weights and biases for this layer
        In backward pass, store the computed gradients to self.grads
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
        next_h, meta = None, None
        assert np.prod(x.shape[1:]) == self.input_dim, "But got {} and {}".format(
            np.prod(x.shape[1:]), self.input_dim)
        #############################################################################
        # TODO: implement forward pass of a single timestep of a vanilla RNN.      #
        #############################################################################
        next_h = np.tanh(np.matmul(prev_h, self.params[self.wh_name])
                         + np.matmul(x, self.params[self.wx_name]) + self.params[self.b_name])
        meta = (x, prev_h, next_h)
        #############################################################################
        #                             END OF YOUR CODE                              #
        #############################################################################
        return next_h, meta

    def step_backward(self, dnext_h, meta):
        dx, dprev_h, dWx, dWh, db = None, None, None, None, None
        #############################################################################
        # TODO: Implement the backward pass of a single timestep of a vanilla RNN.  #
        #############################################################################
        x, prev_h, next_h = meta
        dtanh = dnext_h * (1 - next_h ** 2)
        dx = np.matmul(dtanh, self.params[self.wx_name].T)
        dprev_h = np.matmul(dtanh, self.params[self.wh_name].T)
        dWx = np.matmul(x.T, dtanh)
        dWh = np.matmul(prev_h.T, dtanh)
        db = np.sum(dtanh, axis=0)
        #############################################################################
        #                             END OF YOUR CODE                              #
        #############################################################################
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        h = None
        self.meta = []
        ##############################################################################
        # TODO: Implement forward pass for a vanilla RNN running on a sequence of    #
        # input data. You should use the step_forward function that you defined      #
        ##############################################################################
        T = x.shape[1]
        h = []
        prev = h0
        for i in range(T):
            prev, m = self.step_forward(x[:, i, :], prev)
            h.append(prev)
            self.meta.append(m)
        h = np.transpose(np.array(h), axes=(1, 0, 2))
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################
        return h

    def backward(self, dh):
        dx, dh0 = None, None
        self.grads[self.wx_name] = None
        self.grads[self.wh_name] = None
        self.grads[self.b_name] = None
        ##############################################################################
        # TODO: Implement the backward pass for a vanilla RNN running an entire      #
        # sequence of data.                                                          #
        # HINT: Gradients of hidden states come from two sources                     #
        ##############################################################################
        dh = dh.copy()
        N, T, H = dh.shape
        dx = []
        self.grads[self.wx_name] = np.zeros_like(self.params[self.wx_name])
        self.grads[self.wh_name] = np.zeros_like(self.params[self.wh_name])
        self.grads[self.b_name] = np.zeros_like(self.params[self.b_name])
        dh0 = np.zeros((N, H))
        for i in reversed(range(T)):
            dh[:, i, :] += dh0
            dx_t, dh0, dWx_t, dWh_t, db_t = self.step_backward(dh[:, i, :], self.meta[i])
            dx.insert(0, dx_t)
            self.grads[self.wx_name] += dWx_t
            self.grads[self.wh_name] += dWh_t
            self.grads[self.b_name] += db_t
        dx = np.transpose(np.array(dx), axes=(1, 0, 2))
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################
        self.meta = []
        return dx, dh0


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
        next_h, next_c, meta = None, None, None
        #############################################################################
        # TODO: Implement the forward pass for a single timestep of an LSTM.        #
        #############################################################################
        a = (np.matmul(x, self.params[self.wx_name])
             + np.matmul(prev_h, self.params[self.wh_name]) + self.params[self.b_name])
        H = a.shape[-1] // 4
        a_i, a_f, a_o, a_g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:4 * H]
        i, f, o, g = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o), np.tanh(a_g)
        next_c = f * prev_c + i * g
        next_h = o * np.tanh(next_c)
        meta = (x, prev_h, prev_c, i, f, o, g, next_c)
        #############################################################################
        #                               END OF YOUR CODE                            #
        #############################################################################
        return next_h, next_c, meta

    def step_backward(self, dnext_h, dnext_c, meta):
        dx, dprev_h, dprev_c, dWx, dWh, db = None, None, None, None, None, None
        #############################################################################
        # TODO: Implement the backward pass for a single timestep of an LSTM.       #
        #############################################################################
        x, prev_h, prev_c, i, f, o, g, next_c = meta
        dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c) ** 2)
        di, df, do, dg = dc * g, dc * prev_c, dnext_h * np.tanh(next_c), dc * i
        da_i, da_f, da_o, da_g = di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), \
            dg * (1 - g ** 2)
        da = np.concatenate((da_i, da_f, da_o, da_g), axis=1)
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
        h = None
        self.meta = []
        #############################################################################
        # TODO: Implement the forward pass for an LSTM over an entire timeseries.   #
        # HINT: The initial cell state c0 should be set to zero.                    #
        #############################################################################
        N, T, D = x.shape
        H = h0.shape[1]
        c = np.zeros((H))
        h = []
        for i in range(T):
            h0, c, meta = self.step_forward(x[:, i, :], h0, c)
            h.append(h0)
            self.meta.append(meta)
        h = np.transpose(h, (1, 0, 2))
        #############################################################################
        #                               END OF YOUR CODE                            #
        #############################################################################
        return h

    def backward(self, dh):
        dx, dh0 = None, None
        #############################################################################
        # TODO: Implement the backward pass for an LSTM over an entire timeseries.  #
        # HINT: The initial gradient of the cell state is zero.                     #
        #############################################################################
        T = len(self.meta)
        dc = np.zeros(dh.shape[-1])
        self.grads[self.wx_name] = np.zeros_like(self.params[self.wx_name])
        self.grads[self.wh_name] = np.zeros_like(self.params[self.wh_name])
        self.grads[self.b_name] = np.zeros_like(self.params[self.b_name])
        dh0 = np.zeros((dh.shape[0], dh.shape[-1]))
        dx = np.zeros((dh.shape[0], dh.shape[1], self.grads[self.wx_name].shape[0]))
        for i in reversed(range(T)):
            dh_t = dh[:, i, :] + dh0
            dx[:, i, :], dh0, dc, dWx, dWh, db = self.step_backward(dh_t, dc, self.meta[i])
            self.grads[self.wx_name] += dWx
            self.grads[self.wh_name] += dWh
            self.grads[self.b_name] += db
        #############################################################################
        #                               END OF YOUR CODE                            #
        #############################################################################
        self.meta = []
        return dx, dh0


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
        out, self.meta = None, None
        ##############################################################################
        # TODO: Implement the forward pass for word embeddings.                      #
        ##############################################################################
        # one-hot rows times W: (N, V) x (V, D) per timestep
        T = x.shape[1]
        onehots = []
        out = np.zeros((x.shape[0], T, self.vec_dim))
        for i in range(T):
            x_v = np.identity(self.voc_dim)[x[:, i]]
            out[:, i, :] = np.matmul(x_v, self.params[self.w_name])
            onehots.append(x_v)
        self.meta = np.transpose(np.array(onehots), axes=(1, 0, 2))
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################
        return out

    def backward(self, dout):
        self.grads[self.w_name] = None
        ##############################################################################
        # TODO: Implement the backward pass for word embeddings.                     #
        # Note that Words can appear more than once in a sequence.                   #
        ##############################################################################
        self.grads[self.w_name] = np.zeros((self.meta.shape[-1], dout.shape[-1]))
        for i in range(dout.shape[1]):
            self.grads[self.w_name] += np.matmul(self.meta[:, i, :].T, dout[:, i, :])
        ##############################################################################
        #                               END OF YOUR CODE                             #
        ##############################################################################


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
        M = self.params[self.b_name].shape[0]
        out = x.reshape(N * T, D).dot(self.params[self.w_name]).reshape(N, T, M) \
            + self.params[self.b_name]
        self.meta = [x, out]
        return out

    def backward(self, dout):
        x, out = self.meta
        N, T, D = x.shape
        M = self.params[self.b_name].shape[0]

        dx = dout.reshape(N * T, M).dot(self.params[self.w_name].T).reshape(N, T, D)
        self.grads[self.w_name] = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
        self.grads[self.b_name] = dout.sum(axis=(0, 1))

        return dx


class temporal_softmax_CE_loss(object):
    def __init__(self, dim_average=True):
        """
        - dim_average: if dividing by the input dimension or not
        - dLoss: intermediate variables to store the scores
        - label: Ground truth label for classification task
        """
        self.dim_average = dim_average  # if average w.r.t. the total number of features
        self.dLoss = None
        self.label = None

    def forward(self, feat, label, mask):
        """ Some comments """
        loss = None
        N, T, V = feat.shape

        feat_flat = feat.reshape(N * T, V)
        label_flat = label.reshape(N * T)
        mask_flat = mask.reshape(N * T)

        probs = np.exp(feat_flat - np.max(feat_flat, axis=1, keepdims=True))
        probs /= np.sum(probs, axis=1, keepdims=True)
        loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), label_flat]))
        if self.dim_average:
            loss /= N

        self.dLoss = probs.copy()
        self.label = label
        self.mask = mask

        return loss

    def backward(self):
        N, T = self.label.shape
        dLoss = self.dLoss
        if dLoss is None:
            raise ValueError("No forward function called before for this module!")
        dLoss[np.arange(dLoss.shape[0]), self.label.reshape(N * T)] -= 1.0
        if self.dim_average:
            dLoss /= N
        dLoss *= self.mask.reshape(N * T)[:, None]
        self.dLoss = dLoss

        return dLoss.reshape(N, T, -1)
