import numpy as np

class Sigmoid:
    def forward(self, Z):
        self.A = 1 / (1 + np.exp(-Z))
        return self.A
    def backward(self):
        return self.A - self.A * self.A

class Tanh:
    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A
    def backward(self):
        return 1 - self.A * self.A
