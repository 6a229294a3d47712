import torch
import numpy as np

class Sigmoid:
    def __init__(self):
        pass
    def forward(self, x):
        self.res = 1 / (1 + np.exp(-x))
        return self.res
    def backward(self):
        return self.res * (1 - self.res)

class Tanh:
    def __init__(self):
        pass
    def forward(self, x):
        self.res = np.tanh(x)
        return self.res
    def backward(self):
        return 1 - self.res ** 2


class GRU_Cell:
    def __init__(self, in_dim, hidden_dim):
        self.d = in_dim
        self.h = hidden_dim
        h, d = self.h, self.d
        self.Wzh = np.random.randn(h, h)
        self.Wrh = np.random.randn(h, h)
        self.Wh = np.random.randn(h, h)
        self.Wzx = np.random.randn(h, d)
        self.Wrx = np.random.randn(h, d)
        self.Wx = np.random.randn(h, d)
        self.dWzh = np.zeros((h, h))
        self.dWrh = np.zeros((h, h))
        self.dWh = np.zeros((h, h))
        self.dWzx = np.zeros((h, d))
        self.dWrx = np.zeros((h, d))
        self.dWx = np.zeros((h, d))
        self.z_act = Sigmoid()
        self.r_act = Sigmoid()
        self.h_act = Tanh()

    def __call__(self, x, h):
        return self.forward(x, h)

    def forward(self, x, h):
        self.x = x
        self.hidden = h
        self.z = self.z_act.forward(np.dot(self.Wzh, h) + np.dot(self.Wzx, x))
        self.r = self.r_act.forward(np.dot(self.Wrh, h) + np.dot(self.Wrx, x))
        self.h_tilda = self.h_act.forward(np.dot(self.Wh, self.r * h) + np.dot(self.Wx, x))
        h_t = (1 - self.z) * h + self.z * self.h_tilda
        assert h_t.shape == (self.h,)
        return h_t

    def backward(self, delta):
        delta = np.reshape(delta, (1, self.h))
        x = self.x.reshape(1, self.d)
        hp = self.hidden.reshape(1, self.h)
        z, r, ht = self.z.reshape(1, -1), self.r.reshape(1, -1), self.h_tilda.reshape(1, -1)
        d_ht = delta * z * (1 - ht ** 2)
        d_z = delta * (ht - hp) * z * (1 - z)
        d_rh = d_ht @ self.Wh
        d_r = d_rh * hp * r * (1 - r)
        self.dWx += d_ht.T @ x
        self.dWh += d_ht.T @ (r * hp)
        self.dWzx += d_z.T @ x
        self.dWzh += d_z.T @ hp
        self.dWrx += d_r.T @ x
        self.dWrh += d_r.T @ hp
        dx = d_ht @ self.Wx + d_z @ self.Wzx + d_r @ self.Wrx
        dh = delta * (1 - z) + d_rh * r + d_z @ self.Wzh + d_r @ self.Wrh
        assert dx.shape == (1, self.d)
        return dx, dh
