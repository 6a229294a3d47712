import numpy as np
from .nn.activation import Sigmoid, Tanh

class GRUCell(object):
    """GRU Cell class."""
    def __init__(self, in_dim, hidden_dim):
        self.d = in_dim
        self.h = hidden_dim
        h, d = self.h, self.d
        self.Wrx = np.random.randn(h, d)
        self.Wzx = np.random.randn(h, d)
        self.Wnx = np.random.randn(h, d)
        self.Wrh = np.random.randn(h, h)
        self.Wzh = np.random.randn(h, h)
        self.Wnh = np.random.randn(h, h)
        for name in ('brx', 'bzx', 'bnx', 'brh', 'bzh', 'bnh'):
            setattr(self, name, np.random.randn(h))
            setattr(self, "d" + name, np.zeros(h))
        for name in ("Wrx", "Wzx", "Wnx"):
            setattr(self, "d" + name, np.zeros((h, d)))
        for name in ("Wrh", "Wzh", "Wnh"):
            setattr(self, "d" + name, np.zeros((h, h)))
        self.r_act = Sigmoid()
        self.z_act = Sigmoid()
        self.h_act = Tanh()

    def init_weights(self, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh):
        self.Wrx, self.Wzx, self.Wnx = Wrx, Wzx, Wnx
        self.Wrh, self.Wzh, self.Wnh = Wrh, Wzh, Wnh
        self.brx, self.bzx, self.bnx = brx, bzx, bnx
        self.brh, self.bzh, self.bnh = brh, bzh, bnh

    def __call__(self, x, h_prev_t):
        return self.forward(x, h_prev_t)

    def forward(self, x, h_prev_t):
        self.x = x
        self.hidden = h_prev_t
        self.r = self.r_act.forward(self.Wrx @ x + self.brx + self.Wrh @ h_prev_t + self.brh)
        self.z = self.z_act.forward(self.Wzx @ x + self.bzx + self.Wzh @ h_prev_t + self.bzh)
        self.hn = self.Wnh @ h_prev_t + self.bnh
        self.n = self.h_act.forward(self.Wnx @ x + self.bnx + self.r * self.hn)
        h_t = (1 - self.z) * self.n + self.z * h_prev_t
        assert self.x.shape == (self.d,)
        assert self.hidden.shape == (self.h,)
        assert self.r.shape == (self.h,)
        assert self.z.shape == (self.h,)
        assert self.n.shape == (self.h,)
        assert h_t.shape == (self.h,)
        return h_t

    def backward(self, delta):
        d = delta.reshape(1, -1)
        x = self.x.reshape(1, -1)
        hp = self.hidden.reshape(1, -1)
        r, z, n = (v.reshape(1, -1) for v in (self.r, self.z, self.n))
        dn = d * (1 - z)
        dz = d * (hp - n)
        da_n = dn * (1 - n * n)
        da_z = dz * z * (1 - z)
        da_r = da_n * self.hn.reshape(1, -1) * r * (1 - r)
        self.dWnx += da_n.T @ x
        self.dWzx += da_z.T @ x
        self.dWrx += da_r.T @ x
        self.dWnh += (da_n * r).T @ hp
        self.dWzh += da_z.T @ hp
        self.dWrh += da_r.T @ hp
        self.dbnx += da_n[0]
        self.dbzx += da_z[0]
        self.dbrx += da_r[0]
        self.dbnh += (da_n * r)[0]
        self.dbzh += da_z[0]
        self.dbrh += da_r[0]
        dx = da_n @ self.Wnx + da_z @ self.Wzx + da_r @ self.Wrx
        dh_prev_t = d * z + (da_n * r) @ self.Wnh + da_z @ self.Wzh + da_r @ self.Wrh
        dx = dx.reshape(-1)
        dh_prev_t = dh_prev_t.reshape(-1)
        assert dx.shape == (self.d,)
        assert dh_prev_t.shape == (self.h,)
        return dx, dh_prev_t
