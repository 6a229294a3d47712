"""Reference layer_utils.py written to the params-dict API of the language-modeling notebook.

Each layer keeps its weights in ``self.params`` and their gradients in
``self.grads``, both keyed by the layer's ``*_name`` attributes. Lines that the
verify mutation tests edit are unique in this file. ``RNN`` at the end is a small
model built from these layers: not a layer of the API.
"""
import numpy as np


def sigmoid(x):
    """The logistic function, stable for large |x|."""
    positive = x >= 0
    z = np.exp(np.where(positive, -x, x))
    return np.where(positive, 1 / (1 + z), z / (1 + z))


class VanillaRNN:
    """tanh RNN; params: wx (D, H), wh (H, H), b (H,)."""

    def __init__(self, input_dim, output_dim, init_scale=0.02, name="vanilla_rnn"):
        self.name = name
        self.wx_name = name + "_wx"
        self.wh_name = name + "_wh"
        self.b_name = name + "_b"
        self.params = {self.wx_name: init_scale * np.random.randn(input_dim, output_dim),
                       self.wh_name: init_scale * np.random.randn(output_dim, output_dim),
                       self.b_name: np.zeros(output_dim)}
        self.grads = {key: None for key in self.params}
        self.meta = None

    def step_forward(self, x, prev_h):
        """x (N, D), prev_h (N, H) -> next_h (N, H), meta."""
        Wx, Wh = self.params[self.wx_name], self.params[self.wh_name]
        next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + self.params[self.b_name])
        return next_h, [x, prev_h, next_h, Wx, Wh]

    def step_backward(self, dnext_h, meta):
        """dnext_h (N, H) -> dx, dprev_h, dWx, dWh, db."""
        x, prev_h, next_h, Wx, Wh = meta
        dtanh = (1 - np.square(next_h)) * dnext_h
        return (dtanh.dot(Wx.T), dtanh.dot(Wh.T), x.T.dot(dtanh), prev_h.T.dot(dtanh),
                np.sum(dtanh, axis=0))

    def forward(self, x, h0):
        """x (N, T, D), h0 (N, H) -> h (N, T, H)."""
        N, T, _ = x.shape
        h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0))
        self.meta = []
        state = h0
        for t in range(T):
            state, step_meta = self.step_forward(x[:, t], state)
            h[:, t] = state
            self.meta.append(step_meta)
        return h

    def backward(self, dh):
        """dh (N, T, H) -> (dx, dh0); weight gradients go to self.grads."""
        N, T, H = dh.shape
        dx = np.zeros((N, T, self.meta[0][0].shape[1]), dtype=dh.dtype)
        totals = [np.zeros_like(self.params[k], dtype=dh.dtype)
                  for k in (self.wx_name, self.wh_name, self.b_name)]
        dstate = np.zeros((N, H), dtype=dh.dtype)
        for t in range(T - 1, -1, -1):
            dx[:, t], dstate, *step_grads = self.step_backward(dh[:, t] + dstate, self.meta[t])
            for total, grad in zip(totals, step_grads, strict=True):
                total += grad
        self.grads[self.wx_name], self.grads[self.wh_name], self.grads[self.b_name] = totals
        return dx, dstate


class LSTM:
    """LSTM with gates [i, f, o, g]; params: wx (D, 4H), wh (H, 4H), b (4H,)."""

    def __init__(self, input_dim, output_dim, init_scale=0.02, name="lstm"):
        self.name = name
        self.wx_name = name + "_wx"
        self.wh_name = name + "_wh"
        self.b_name = name + "_b"
        self.params = {self.wx_name: init_scale * np.random.randn(input_dim, 4 * output_dim),
                       self.wh_name: init_scale * np.random.randn(output_dim, 4 * output_dim),
                       self.b_name: np.zeros(4 * output_dim)}
        self.grads = {key: None for key in self.params}
        self.meta = None

    def step_forward(self, x, prev_h, prev_c):
        """x (N, D), prev_h, prev_c (N, H) -> next_h, next_c (N, H), meta."""
        H = prev_h.shape[1]
        Wx, Wh = self.params[self.wx_name], self.params[self.wh_name]
        activation = x.dot(Wx) + prev_h.dot(Wh) + self.params[self.b_name]
        input_gate = sigmoid(activation[:, :H])
        forget_gate = sigmoid(activation[:, H:2 * H])
        output_gate = sigmoid(activation[:, 2 * H:3 * H])
        candidate = np.tanh(activation[:, 3 * H:])
        next_c = forget_gate * prev_c + input_gate * candidate
        next_h = output_gate * np.tanh(next_c)
        meta = (x, prev_h, prev_c, next_c, Wx, Wh, input_gate, forget_gate, output_gate,
                candidate)
        return next_h, next_c, meta

    def step_backward(self, dnext_h, dnext_c, meta):
        """-> dx, dprev_h, dprev_c, dWx, dWh, db."""
        x, prev_h, prev_c, next_c, Wx, Wh, i, f, o, g = meta
        tanh_next_c = np.tanh(next_c)
        dc_total = dnext_c + dnext_h * o * (1 - np.square(tanh_next_c))
        grad_i = dc_total * g * i * (1 - i)
        grad_f = dc_total * prev_c * f * (1 - f)
        grad_o = dnext_h * tanh_next_c * o * (1 - o)
        grad_g = dc_total * i * (1 - np.square(g))
        dact = np.concatenate([grad_i, grad_f, grad_o, grad_g], axis=1)
        dprev_c = dc_total * f
        return (dact.dot(Wx.T), dact.dot(Wh.T), dprev_c, x.T.dot(dact), prev_h.T.dot(dact),
                dact.sum(axis=0))

    def forward(self, x, h0):
        """x (N, T, D), h0 (N, H) -> h (N, T, H); the cell state starts at zero."""
        N, T, _ = x.shape
        hidden = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0))
        self.meta = []
        prev_h, prev_c = h0, np.zeros(h0.shape, dtype=h0.dtype)
        for t in range(T):
            prev_h, prev_c, step_meta = self.step_forward(x[:, t], prev_h, prev_c)
            hidden[:, t] = prev_h
            self.meta.append(step_meta)
        return hidden

    def backward(self, dh):
        """dh (N, T, H) -> (dx, dh0); weight gradients go to self.grads."""
        N, T, H = dh.shape
        dx = np.zeros((N, T, self.meta[0][0].shape[1]), dtype=dh.dtype)
        dWx = np.zeros_like(self.params[self.wx_name], dtype=dh.dtype)
        dWh = np.zeros_like(self.params[self.wh_name], dtype=dh.dtype)
        db = np.zeros_like(self.params[self.b_name], dtype=dh.dtype)
        grad_h = np.zeros((N, H), dtype=dh.dtype)
        grad_c = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            out = self.step_backward(dh[:, t] + grad_h, grad_c, self.meta[t])
            dx[:, t], grad_h, grad_c, dWx_t, dWh_t, db_t = out
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grads[self.wx_name] = dWx
        self.grads[self.wh_name] = dWh
        self.grads[self.b_name] = db
        return dx, grad_h


class word_embedding:
    """Word vectors; params: w (V, D)."""

    def __init__(self, vocab_dim, wordvec_dim, name="we"):
        self.name = name
        self.w_name = name + "_w"
        self.params = {self.w_name: np.random.randn(vocab_dim, wordvec_dim)}
        self.grads = {self.w_name: None}
        self.words = None

    def forward(self, x):
        """x (N, T) ints in [0, V) -> out (N, T, D)."""
        self.words = x
        return self.params[self.w_name][x]

    def backward(self, dout):
        """dout (N, T, D) -> None; stores grads[w_name] (V, D)."""
        dW = np.zeros_like(self.params[self.w_name], dtype=dout.dtype)
        np.add.at(dW, self.words, dout)
        self.grads[self.w_name] = dW


class temporal_fc:
    """The same affine map at every timestep; params: w (D, M), b (M,)."""

    def __init__(self, input_dim, output_dim, init_scale=0.02, name="t_fc"):
        self.name = name
        self.w_name = name + "_w"
        self.b_name = name + "_b"
        self.params = {self.w_name: init_scale * np.random.randn(input_dim, output_dim),
                       self.b_name: np.zeros(output_dim)}
        self.grads = {self.w_name: None, self.b_name: None}
        self.x = None

    def forward(self, x):
        """x (N, T, D) -> out (N, T, M)."""
        self.x = x
        return np.einsum("ntd,dm->ntm", x, self.params[self.w_name]) + self.params[self.b_name]

    def backward(self, dout):
        """dout (N, T, M) -> dx (N, T, D); stores grads of w and b."""
        w = self.params[self.w_name]
        self.grads[self.w_name] = np.einsum("ntd,ntm->dm", self.x, dout)
        self.grads[self.b_name] = dout.sum(axis=(0, 1))
        return np.einsum("ntm,dm->ntd", dout, w)


class temporal_softmax_CE_loss:
    """Softmax cross-entropy summed over unmasked timesteps, divided by N."""

    def __init__(self, dim_average=True):
        self.dim_average = dim_average
        self.dLoss = None

    def forward(self, feat, label, mask):
        """feat (N, T, V), label (N, T), mask (N, T) -> loss (scalar)."""
        N, T, V = feat.shape
        logits = feat.reshape(N * T, V)
        target = label.reshape(N * T)
        keep = np.asarray(mask, dtype=feat.dtype).reshape(N * T)
        z = logits - np.max(logits, axis=1, keepdims=True)
        log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        picked = log_p[np.arange(N * T), target]
        divisor = N if self.dim_average else 1
        loss = -np.sum(picked * keep) / divisor
        grad = np.exp(log_p)
        grad[np.arange(N * T), target] -= 1
        grad *= keep[:, None] / divisor
        self.dLoss = grad.reshape(N, T, V)
        return loss

    def backward(self):
        """-> dfeat (N, T, V) of the last forward."""
        return self.dLoss


class RNN:
    """A tiny language model from the layers above; not one of the API's layers.

    Shares a name with nothing the checker looks for: it must be left alone.
    """

    def __init__(self, vocab, wordvec_dim=4, hidden_dim=5):
        self.embedding = word_embedding(vocab, wordvec_dim, name="model_we")
        self.cell = VanillaRNN(wordvec_dim, hidden_dim, name="model_rnn")
        self.scores = temporal_fc(hidden_dim, vocab, name="model_fc")

    def forward(self, words, h0):
        return self.scores.forward(self.cell.forward(self.embedding.forward(words), h0))
