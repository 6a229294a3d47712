import numpy as np
from nn.activation import *  # noqa: F403


class GRUCell(object):
    """GRU Cell class."""

    def __init__(self, input_size, hidden_size):
        self.d = input_size
        self.h = hidden_size
        h = self.h
        d = self.d
        self.x_t = 0

        self.Wrx = np.random.randn(h, d)
        self.Wzx = np.random.randn(h, d)
        self.Wnx = np.random.randn(h, d)

        self.Wrh = np.random.randn(h, h)
        self.Wzh = np.random.randn(h, h)
        self.Wnh = np.random.randn(h, h)

        self.brx = np.random.randn(h)
        self.bzx = np.random.randn(h)
        self.bnx = np.random.randn(h)

        self.brh = np.random.randn(h)
        self.bzh = np.random.randn(h)
        self.bnh = np.random.randn(h)

        self.dWrx = np.zeros((h, d))
        self.dWzx = np.zeros((h, d))
        self.dWnx = np.zeros((h, d))

        self.dWrh = np.zeros((h, h))
        self.dWzh = np.zeros((h, h))
        self.dWnh = np.zeros((h, h))

        self.dbrx = np.zeros((h))
        self.dbzx = np.zeros((h))
        self.dbnx = np.zeros((h))

        self.dbrh = np.zeros((h))
        self.dbzh = np.zeros((h))
        self.dbnh = np.zeros((h))

        self.r_act = Sigmoid()  # noqa: F405
        self.z_act = Sigmoid()  # noqa: F405
        self.h_act = Tanh()  # noqa: F405

    def init_weights(self, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh):
        self.Wrx = Wrx
        self.Wzx = Wzx
        self.Wnx = Wnx
        self.Wrh = Wrh
        self.Wzh = Wzh
        self.Wnh = Wnh
        self.brx = brx
        self.bzx = bzx
        self.bnx = bnx
        self.brh = brh
        self.bzh = bzh
        self.bnh = bnh

    def __call__(self, x, h_prev_t):
        return self.forward(x, h_prev_t)

    def forward(self, x, h_prev_t):
        """GRU cell forward. x: (input_dim,), h_prev_t: (hidden_dim,); returns h_t (hidden_dim,)."""
        self.x = x
        self.hidden = h_prev_t

        self.r = self.r_act.forward(self.Wrx @ x + self.brx + self.Wrh @ h_prev_t + self.brh)
        self.z = self.z_act.forward(self.Wzx @ x + self.bzx + self.Wzh @ h_prev_t + self.bzh)
        self.n_pre_h = self.Wnh @ h_prev_t + self.bnh
        self.n = self.h_act.forward(self.Wnx @ x + self.bnx + self.r * self.n_pre_h)
        h_t = (1 - self.z) * self.n + self.z * h_prev_t

        assert self.x.shape == (self.d,)
        assert self.hidden.shape == (self.h,)
        assert h_t.shape == (self.h,)
        return h_t

    def backward(self, delta):
        """GRU cell backward. delta: (hidden_dim,); returns dx (input_dim,), dh_prev_t."""
        x = self.x.reshape(1, -1)
        h = self.hidden.reshape(1, -1)
        r = self.r.reshape(1, -1)
        z = self.z.reshape(1, -1)
        n = self.n.reshape(1, -1)
        delta = delta.reshape(1, -1)

        dz = delta * (h - n)
        dn = delta * (1 - z)
        dh_prev_t = delta * z

        dn_pre = dn * (1 - n ** 2)
        self.dWnx += dn_pre.T @ x
        self.dbnx += dn_pre.reshape(-1)
        dr = dn_pre * self.n_pre_h.reshape(1, -1)
        dn_h = dn_pre * r
        self.dWnh += dn_h.T @ h
        self.dbnh += dn_h.reshape(-1)

        dz_pre = dz * z * (1 - z)
        self.dWzx += dz_pre.T @ x
        self.dWzh += dz_pre.T @ h
        self.dbzx += dz_pre.reshape(-1)
        self.dbzh += dz_pre.reshape(-1)

        dr_pre = dr * r * (1 - r)
        self.dWrx += dr_pre.T @ x
        self.dWrh += dr_pre.T @ h
        self.dbrx += dr_pre.reshape(-1)
        self.dbrh += dr_pre.reshape(-1)

        dx = dn_pre @ self.Wnx + dz_pre @ self.Wzx + dr_pre @ self.Wrx
        dh_prev_t = dh_prev_t + dn_h @ self.Wnh + dz_pre @ self.Wzh + dr_pre @ self.Wrh

        dx = dx.reshape(-1)
        dh_prev_t = dh_prev_t.reshape(-1)
        assert dx.shape == (self.d,)
        assert dh_prev_t.shape == (self.h,)
        return dx, dh_prev_t
