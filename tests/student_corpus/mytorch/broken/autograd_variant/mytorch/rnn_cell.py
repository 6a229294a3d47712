import numpy as np
from .autograd_engine import Autograd


class RNNCell(object):
    def __init__(self, input_size, hidden_size, autograd_engine, act_fn=None):
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.autograd_engine = autograd_engine

    def forward(self, x, h_prev_t, scale_hidden=None):
        return np.tanh(x @ np.zeros((self.input_size, self.hidden_size)))
