# Adapted from CS231n
import numpy as np


class LayerWithWeights(object):
    """Abstract class for a layer with weights"""

    def __init__(self, input_size, output_size, seed=None):
        if seed is not None:
            np.random.seed(seed)
        self.W = np.random.rand(input_size, output_size)
        self.b = np.zeros(output_size)
        self.x = None
        self.db = np.zeros_like(self.b)
        self.dW = np.zeros_like(self.W)

    def forward(self, x):
        raise NotImplementedError('Abstract class!')

    def backward(self, x):
        raise NotImplementedError('Abstract class!')
