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
        next_h, meta = None, None
        assert np.prod(x.shape[1:]) == self.input_dim, "But got {} and {}".format(
            np.prod(x.shape[1:]), self.input_dim)
        #############################################
        # TODO: the forward pass of one timestep      #
        #############################################
        pass
        return next_h, meta

    def step_backward(self, dnext_h, meta):
        dx, dprev_h, dWx, dWh, db = None, None, None, None, None
        # TODO: the backward pass of one timestep
        pass
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        h = None
        self.meta = []
        # TODO: the forward pass over the sequence
        pass
        return h

    def backward(self, dh):
        dx, dh0 = None, None
        self.grads[self.wx_name] = None
        self.grads[self.wh_name] = None
        self.grads[self.b_name] = None
        # TODO: the backward pass over the sequence
        pass
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
        pass
        return next_h, next_c, meta

    def step_backward(self, dnext_h, dnext_c, meta):
        dx, dh, dc, dWx, dWh, db = None, None, None, None, None, None
        pass
        return dx, dprev_h, dprev_c, dWx, dWh, db

    def forward(self, x, h0):
        h = None
        self.meta = []
        pass
        return h

    def backward(self, dh):
        dx, dh0 = None, None
        pass
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
        out = None
        pass
        return out

    def backward(self, dout):
        self.grads[self.w_name] = None
        pass
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


class temporal_softmax_loss(object):

    def __init__(self, dim_average=True):
        """
        dim_average: if dividing by the input dimension or not
        """
        self.dim_average = dim_average
        self.dLoss = None
        self.label = None

    def forward(self, feat, label, mask):
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
