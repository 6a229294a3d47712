import sys

import numpy as np

sys.path.append("mytorch")
from nn.linear import *  # noqa: E402, F403
from rnn_cell import *  # noqa: E402, F403


class RNNPhonemeClassifier(object):
    """RNN Phoneme Classifier class."""

    def __init__(self, input_size, hidden_size, output_size, num_layers=2):
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn = [RNNCell(input_size, hidden_size) if i == 0  # noqa: F405
                    else RNNCell(hidden_size, hidden_size)  # noqa: F405
                    for i in range(num_layers)]
        self.output_layer = Linear(hidden_size, output_size)  # noqa: F405
        # hidden states at each time step, [(seq_len+1) * (num_layers, batch_size, hidden_size)]
        self.hiddens = []

    def init_weights(self, rnn_weights, linear_weights):
        for i, rnn_cell in enumerate(self.rnn):
            rnn_cell.init_weights(*rnn_weights[i])
        self.output_layer.W = linear_weights[0]
        self.output_layer.b = linear_weights[1].reshape(-1, 1)

    def __call__(self, x, h_0=None):
        return self.forward(x, h_0)

    def forward(self, x, h_0=None):
        """x: (batch_size, seq_len, input_size); h_0: (num_layers, batch_size, hidden_size).
        Returns logits: (batch_size, output_size)."""
        batch_size, seq_len = x.shape[0], x.shape[1]
        if h_0 is None:
            hidden = np.zeros((self.num_layers, batch_size, self.hidden_size), dtype=float)
        else:
            hidden = h_0
        self.x = x
        self.hiddens = [hidden.copy()]
        for t in range(seq_len):
            layer_input = x[:, t, :]
            new_hidden = np.zeros_like(hidden)
            for layer, cell in enumerate(self.rnn):
                new_hidden[layer] = cell.forward(layer_input, hidden[layer])
                layer_input = new_hidden[layer]
            hidden = new_hidden
            self.hiddens.append(hidden.copy())
        logits = self.output_layer.forward(hidden[-1])
        return logits

    def backward(self, delta):
        """delta: (batch_size, output_size). Returns dh_0 / batch_size."""
        batch_size, seq_len = self.x.shape[0], self.x.shape[1]
        dh = np.zeros((self.num_layers, batch_size, self.hidden_size), dtype=float)
        dh[-1] = self.output_layer.backward(delta)
        for t in range(seq_len - 1, -1, -1):
            for layer in range(self.num_layers - 1, -1, -1):
                h_prev_l = self.x[:, t, :] if layer == 0 else self.hiddens[t + 1][layer - 1]
                h_prev_t = self.hiddens[t][layer]
                h_t = self.hiddens[t + 1][layer]
                dx, dh[layer] = self.rnn[layer].backward(dh[layer], h_t, h_prev_l, h_prev_t)
                if layer > 0:
                    dh[layer - 1] += dx
        return dh / batch_size
