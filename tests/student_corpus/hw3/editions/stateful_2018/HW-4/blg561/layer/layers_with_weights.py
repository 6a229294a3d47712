#Adapted from CS231n
from .layer import Layer
import numpy as np


class LayerWithWeights(Layer):
    '''
        Abstract class for layer with weights(CNN, Affine etc...)
    '''

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


class AffineLayer(LayerWithWeights):
    def __init__(self, input_size, output_size, seed=None):
        super(AffineLayer, self).__init__(input_size, output_size, seed)

    def forward(self, x):
        self.x = x.copy()
        return x.reshape(x.shape[0], -1).dot(self.W) + self.b

    def backward(self, dprev):
        flat = self.x.reshape(self.x.shape[0], -1)
        self.dW = flat.T.dot(dprev)
        self.db = dprev.sum(axis=0)
        return dprev.dot(self.W.T).reshape(self.x.shape)


class RNNLayer(LayerWithWeights):
    def __init__(self, in_size, out_size):
        self.in_size = in_size
        self.out_size = out_size
        self.b = np.zeros(out_size)
        self.prev_H = []
        self.x = []
        self.db = None
        self.dW_ih = None
        self.dW_hh = None
        self.dprev_H = []

    def forward_step(self, x, prev_h=None):
        '''
            x: input from the sequence; prev_h: previous hidden state
        '''
        if prev_h is None:
            prev_h = self.prev_H[-1]
        next_h = np.tanh(np.dot(x, self.W_ih) + np.dot(prev_h, self.W_hh) + self.b)
        self.prev_H.append(next_h)
        return next_h

    def forward(self, x, h0):
        N, T, D = x.shape
        out = np.zeros((N, T, self.out_size))
        self.prev_H = [h0]
        self.x = []
        for t in range(T):
            self.x.append(x[:, t, :])
            out[:, t, :] = self.forward_step(x[:, t, :], self.prev_H[-1])
        return out

    def backward_step(self, prev_h, dprev):
        '''
            prev_h: the hidden state before the step; dprev: upstream gradient
            uses the most recent activation self.prev_H[-1] and input self.x[-1]
        '''
        dz = dprev * (1 - self.prev_H[-1] ** 2)
        self.dW_ih = np.dot(self.x[-1].T, dz)
        self.dW_hh = np.dot(prev_h.T, dz)
        self.db = np.sum(dz, axis=0)
        self.dprev_H = np.dot(dz, self.W_hh.T)
        return np.dot(dz, self.W_ih.T)

    def backward(self, dprev):
        N, T, H = dprev.shape
        dx = np.zeros((N, T, self.W_ih.shape[0]))
        dW_ih = np.zeros_like(self.W_ih)
        dW_hh = np.zeros_like(self.W_hh)
        db = np.zeros_like(self.b)
        carry = np.zeros((N, H))
        for t in reversed(range(T)):
            dx[:, t, :] = self.backward_step(self.prev_H[t], dprev[:, t, :] + carry)
            carry = self.dprev_H
            dW_ih += self.dW_ih
            dW_hh += self.dW_hh
            db += self.db
            self.x.pop()
            self.prev_H.pop()
        return dx, carry, dW_ih, dW_hh, db
