"""Time layers of chapters 5-6, rewritten with descriptive names.

Every layer keeps `params` and `grads` lists; hidden states are called `hidden`.
"""
import numpy as np

from common.embedding import Embedding


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


class RNN:
    def __init__(self, weight_input, weight_hidden, bias):
        self.params = [weight_input, weight_hidden, bias]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.cache = None

    def forward(self, inputs, hidden_prev):
        weight_input, weight_hidden, bias = self.params
        hidden_next = np.tanh(inputs @ weight_input + hidden_prev @ weight_hidden + bias)
        self.cache = (inputs, hidden_prev, hidden_next)
        return hidden_next

    def backward(self, dhidden_next):
        weight_input, weight_hidden, _ = self.params
        inputs, hidden_prev, hidden_next = self.cache
        dpre = dhidden_next * (1.0 - hidden_next * hidden_next)
        self.grads[0][...] = inputs.T @ dpre
        self.grads[1][...] = hidden_prev.T @ dpre
        self.grads[2][...] = dpre.sum(axis=0)
        return dpre @ weight_input.T, dpre @ weight_hidden.T


class TimeRNN:
    """hidden: the last hidden state; dhidden: the gradient of the first one."""

    def __init__(self, weight_input, weight_hidden, bias, stateful=False):
        self.params = [weight_input, weight_hidden, bias]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.layers = []
        self.hidden = None
        self.dhidden = None
        self.stateful = stateful

    def set_state(self, hidden):
        self.hidden = hidden

    def reset_state(self):
        self.hidden = None

    def forward(self, inputs):
        batch, times, _ = inputs.shape
        hidden_size = self.params[1].shape[0]
        hiddens = np.empty((batch, times, hidden_size), dtype="f")
        if not self.stateful or self.hidden is None:
            self.hidden = np.zeros((batch, hidden_size), dtype="f")
        self.layers = []
        for time in range(times):
            layer = RNN(*self.params)
            self.hidden = layer.forward(inputs[:, time, :], self.hidden)
            hiddens[:, time, :] = self.hidden
            self.layers.append(layer)
        return hiddens

    def backward(self, dhiddens):
        batch, times, _ = dhiddens.shape
        input_size = self.params[0].shape[0]
        dinputs = np.empty((batch, times, input_size), dtype="f")
        dhidden = 0
        totals = [np.zeros_like(p) for p in self.params]
        for time in reversed(range(times)):
            layer = self.layers[time]
            dinputs[:, time, :], dhidden = layer.backward(dhiddens[:, time, :] + dhidden)
            for total, grad in zip(totals, layer.grads):
                total += grad
        for grad, total in zip(self.grads, totals):
            grad[...] = total
        self.dhidden = dhidden
        return dinputs


class LSTM:
    def __init__(self, weight_input, weight_hidden, bias):
        self.params = [weight_input, weight_hidden, bias]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.cache = None

    def forward(self, inputs, hidden_prev, cell_prev):
        weight_input, weight_hidden, bias = self.params
        size = hidden_prev.shape[1]
        affine = inputs @ weight_input + hidden_prev @ weight_hidden + bias
        forget = _sigmoid(affine[:, :size])
        candidate = np.tanh(affine[:, size:2 * size])
        gate_in = _sigmoid(affine[:, 2 * size:3 * size])
        gate_out = _sigmoid(affine[:, 3 * size:])
        cell_next = forget * cell_prev + candidate * gate_in
        hidden_next = gate_out * np.tanh(cell_next)
        self.cache = (inputs, hidden_prev, cell_prev, forget, candidate, gate_in, gate_out,
                      cell_next)
        return hidden_next, cell_next

    def backward(self, dhidden_next, dcell_next):
        weight_input, weight_hidden, _ = self.params
        (inputs, hidden_prev, cell_prev, forget, candidate, gate_in, gate_out,
         cell_next) = self.cache
        tanh_cell = np.tanh(cell_next)
        dcell = dcell_next + dhidden_next * gate_out * (1 - tanh_cell ** 2)
        daffine = np.concatenate([
            dcell * cell_prev * forget * (1 - forget),
            dcell * gate_in * (1 - candidate ** 2),
            dcell * candidate * gate_in * (1 - gate_in),
            dhidden_next * tanh_cell * gate_out * (1 - gate_out)], axis=1)
        self.grads[0][...] = inputs.T @ daffine
        self.grads[1][...] = hidden_prev.T @ daffine
        self.grads[2][...] = daffine.sum(axis=0)
        return daffine @ weight_input.T, daffine @ weight_hidden.T, dcell * forget


class TimeLSTM:
    def __init__(self, weight_input, weight_hidden, bias, stateful=False):
        self.params = [weight_input, weight_hidden, bias]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.layers = []
        self.hidden, self.cell = None, None
        self.dhidden = None
        self.stateful = stateful

    def set_state(self, hidden, cell=None):
        self.hidden, self.cell = hidden, cell

    def reset_state(self):
        self.hidden, self.cell = None, None

    def forward(self, inputs):
        batch, times, _ = inputs.shape
        hidden_size = self.params[1].shape[0]
        hiddens = np.empty((batch, times, hidden_size), dtype="f")
        if not self.stateful or self.hidden is None:
            self.hidden = np.zeros((batch, hidden_size), dtype="f")
        if not self.stateful or self.cell is None:
            self.cell = np.zeros((batch, hidden_size), dtype="f")
        self.layers = []
        for time in range(times):
            layer = LSTM(*self.params)
            self.hidden, self.cell = layer.forward(inputs[:, time, :], self.hidden, self.cell)
            hiddens[:, time, :] = self.hidden
            self.layers.append(layer)
        return hiddens

    def backward(self, dhiddens):
        batch, times, _ = dhiddens.shape
        input_size = self.params[0].shape[0]
        dinputs = np.empty((batch, times, input_size), dtype="f")
        dhidden, dcell = 0, 0
        totals = [np.zeros_like(p) for p in self.params]
        for time in reversed(range(times)):
            layer = self.layers[time]
            dinputs[:, time, :], dhidden, dcell = layer.backward(
                dhiddens[:, time, :] + dhidden, dcell)
            for total, grad in zip(totals, layer.grads):
                total += grad
        for grad, total in zip(self.grads, totals):
            grad[...] = total
        self.dhidden = dhidden
        return dinputs


class TimeEmbedding:
    def __init__(self, weight):
        self.params = [weight]
        self.grads = [np.zeros_like(weight)]
        self.layers = []

    def forward(self, words):
        batch, times = words.shape
        out = np.empty((batch, times, self.params[0].shape[1]), dtype="f")
        self.layers = []
        for time in range(times):
            layer = Embedding(self.params[0])
            out[:, time, :] = layer.forward(words[:, time])
            self.layers.append(layer)
        return out

    def backward(self, dout):
        total = np.zeros_like(self.params[0])
        for time, layer in enumerate(self.layers):
            layer.backward(dout[:, time, :])
            total += layer.grads[0]
        self.grads[0][...] = total


class TimeAffine:
    def __init__(self, weight, bias):
        self.params = [weight, bias]
        self.grads = [np.zeros_like(weight), np.zeros_like(bias)]
        self.inputs = None

    def forward(self, inputs):
        self.inputs = inputs
        weight, bias = self.params
        return inputs @ weight + bias

    def backward(self, dout):
        weight, _ = self.params
        flat = self.inputs.reshape(-1, self.inputs.shape[-1])
        dflat = dout.reshape(-1, dout.shape[-1])
        self.grads[0][...] = flat.T @ dflat
        self.grads[1][...] = dflat.sum(axis=0)
        return dout @ weight.T


class TimeSoftmaxWithLoss:
    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None
        self.ignore_label = -1

    def forward(self, inputs, labels):
        batch, times, vocab = inputs.shape
        if labels.ndim == 3:
            labels = labels.argmax(axis=2)
        keep = (labels != self.ignore_label).reshape(-1)
        inputs -= inputs.max(axis=2, keepdims=True)  # shifted where it lies
        probs = np.exp(inputs.reshape(-1, vocab))
        probs /= probs.sum(axis=1, keepdims=True)
        flat = labels.reshape(-1)
        picked = np.log(probs[np.arange(flat.size), flat])
        loss = -(picked * keep).sum() / keep.sum()
        self.cache = (flat, probs, keep, (batch, times, vocab))
        return loss

    def backward(self, dout=1):
        flat, probs, keep, shape = self.cache
        dinputs = probs.copy()
        dinputs[np.arange(flat.size), flat] -= 1
        dinputs *= dout * keep[:, None] / keep.sum()
        return dinputs.reshape(shape)


class GRU:
    """My own packing: the gates z, r in one matrix, the candidate n in another."""

    def __init__(self, Wx_zr, Wx_n, Wh_zr, Wh_n, b_zr, b_n):
        self.params = [Wx_zr, Wx_n, Wh_zr, Wh_n, b_zr, b_n]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.cache = None

    def forward(self, inputs, hidden_prev):
        Wx_zr, Wx_n, Wh_zr, Wh_n, b_zr, b_n = self.params
        size = hidden_prev.shape[1]
        gates = _sigmoid(inputs @ Wx_zr + hidden_prev @ Wh_zr + b_zr)
        z, r = gates[:, :size], gates[:, size:]
        n = np.tanh(inputs @ Wx_n + (r * hidden_prev) @ Wh_n + b_n)
        hidden_next = (1 - z) * hidden_prev + z * n
        self.cache = (inputs, hidden_prev, z, r, n)
        return hidden_next

    def backward(self, dhidden_next):
        Wx_zr, Wx_n, Wh_zr, Wh_n, _, _ = self.params
        inputs, hidden_prev, z, r, n = self.cache
        dn = dhidden_next * z * (1 - n ** 2)
        dz = dhidden_next * (n - hidden_prev) * z * (1 - z)
        drh = dn @ Wh_n.T
        dr = drh * hidden_prev * r * (1 - r)
        dgates = np.concatenate([dz, dr], axis=1)
        grads = [inputs.T @ dgates, inputs.T @ dn, hidden_prev.T @ dgates,
                 (r * hidden_prev).T @ dn, dgates.sum(axis=0), dn.sum(axis=0)]
        for grad, value in zip(self.grads, grads):
            grad[...] = value
        dinputs = dgates @ Wx_zr.T + dn @ Wx_n.T
        dhidden = dhidden_next * (1 - z) + drh * r + dgates @ Wh_zr.T
        return dinputs, dhidden


class TimeGRU:
    def __init__(self, Wx_zr, Wx_n, Wh_zr, Wh_n, b_zr, b_n, stateful=False):
        self.params = [Wx_zr, Wx_n, Wh_zr, Wh_n, b_zr, b_n]
        self.grads = [np.zeros_like(p) for p in self.params]
        self.layers = []
        self.hidden, self.dhidden = None, None
        self.stateful = stateful

    def forward(self, inputs):
        batch, times, _ = inputs.shape
        hidden_size = self.params[3].shape[0]
        hiddens = np.empty((batch, times, hidden_size), dtype="f")
        if not self.stateful or self.hidden is None:
            self.hidden = np.zeros((batch, hidden_size), dtype="f")
        self.layers = []
        for time in range(times):
            layer = GRU(*self.params)
            self.hidden = layer.forward(inputs[:, time, :], self.hidden)
            hiddens[:, time, :] = self.hidden
            self.layers.append(layer)
        return hiddens

    def backward(self, dhiddens):
        batch, times, _ = dhiddens.shape
        dinputs = np.empty((batch, times, self.params[0].shape[0]), dtype="f")
        dhidden = 0
        totals = [np.zeros_like(p) for p in self.params]
        for time in reversed(range(times)):
            layer = self.layers[time]
            dinputs[:, time, :], dhidden = layer.backward(dhiddens[:, time, :] + dhidden)
            for total, grad in zip(totals, layer.grads):
                total += grad
        for grad, total in zip(self.grads, totals):
            grad[...] = total
        self.dhidden = dhidden
        return dinputs

    def set_state(self, hidden):
        self.hidden = hidden
