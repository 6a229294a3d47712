import numpy as np

class Activation(object):
    def __init__(self):
        self.state = None
    def __call__(self, x):
        return self.forward(x)

class Sigmoid(Activation):
    def forward(self, x):
        self.state = 1.0 / (1.0 + np.exp(-x))
        return self.state
    def derivative(self, state=None):
        s = self.state if state is None else state
        return s * (1.0 - s)

class Tanh(Activation):
    def forward(self, x):
        self.state = np.tanh(x)
        return self.state
    def derivative(self, state=None):
        s = self.state if state is None else state
        return 1.0 - s ** 2
