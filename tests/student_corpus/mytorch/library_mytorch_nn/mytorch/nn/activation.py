import numpy as np

class Sigmoid:
    def forward(self, Z):
        self.A = Z
        self.npVal = np.exp(-self.A)
        return 1 / (1 + self.npVal)
    def backward(self, dLdA):
        dAdZ = self.npVal / (1 + self.npVal) ** 2
        return dAdZ * dLdA

class Tanh:
    def forward(self, Z):
        self.A = Z
        self.tanhVal = np.tanh(self.A)
        return self.tanhVal
    def backward(self, dLdA, state=None):
        if state is not None:
            return (1 - state * state) * dLdA
        return (1 - self.tanhVal * self.tanhVal) * dLdA
