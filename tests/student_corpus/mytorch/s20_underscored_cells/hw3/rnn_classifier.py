import numpy as np
import sys

sys.path.append('mytorch')
from rnn_cell import *
from linear import *


class RNN_Phoneme_Classifier(object):
    """RNN Phoneme Classifier class."""

    def __init__(self, input_size, hidden_size, output_size, num_layers=2):
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.rnn = [RNN_Cell(input_size, hidden_size) if i == 0 else RNN_Cell(hidden_size, hidden_size)
                    for i in range(num_layers)]
        self.output_layer = Linear(hidden_size, output_size)
        self.hiddens = []

    def init_weights(self, rnn_weights, linear_weights):
        for i, rnn_cell in enumerate(self.rnn):
            rnn_cell.init_weights(*rnn_weights[i])
        self.output_layer.init_weights(*linear_weights)

    def __call__(self, x, h_0=None):
        return self.forward(x, h_0)

    def forward(self, x, h_0=None):
        batch_size, seq_len = x.shape[0], x.shape[1]
        if h_0 is None:
            hidden = np.zeros((self.num_layers, batch_size, self.hidden_size), dtype=float)
        else:
            hidden = h_0.copy()
        self.x = x
        self.hiddens = [hidden.copy()]
        for t in range(seq_len):
            inp = x[:, t, :]
            for l in range(self.num_layers):
                hidden[l] = self.rnn[l](inp, hidden[l])
                inp = hidden[l]
            self.hiddens.append(hidden.copy())
        logits = self.output_layer(hidden[self.num_layers - 1])
        return logits

    def backward(self, delta):
        batch_size, seq_len = self.x.shape[0], self.x.shape[1]
        dh = np.zeros((self.num_layers, batch_size, self.hidden_size), dtype=float)
        dh[-1] = self.output_layer.backward(delta)
        for t in reversed(range(seq_len)):
            for l in reversed(range(self.num_layers)):
                if l == 0:
                    h_prev_l = self.x[:, t, :]
                else:
                    h_prev_l = self.hiddens[t + 1][l - 1]
                dx, dh[l] = self.rnn[l].backward(dh[l], self.hiddens[t + 1][l], h_prev_l,
                                                 self.hiddens[t][l])
                if l != 0:
                    dh[l - 1] += dx
        dh_0 = dh / batch_size
        return dh_0
