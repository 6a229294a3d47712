import numpy as np
from nn.activation import *


class GRUCell(object):
    """GRU Cell class."""

    def __init__(self, in_dim, hidden_dim):
        self.d = in_dim
        self.h = hidden_dim

    def init_weights(self, Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh):
        self.Wrx, self.Wzx, self.Wnx = Wrx, Wzx, Wnx
        self.Wrh, self.Wzh, self.Wnh = Wrh, Wzh, Wnh
        self.brx, self.bzx, self.bnx = brx, bzx, bnx
        self.brh, self.bzh, self.bnh = brh, bzh, bnh

    def __call__(self, x, h_prev_t):
        return self.forward(x, h_prev_t)

    def forward(self, x, h_prev_t):
        """GRU cell forward."""
        self.x = x
        self.hidden = h_prev_t

        # Add your code here.
        # Define your variables based on the writeup using the corresponding
        # names below.

        assert self.x.shape == (self.d,)
        assert self.hidden.shape == (self.h,)

        assert self.r.shape == (self.h,)
        assert self.z.shape == (self.h,)
        assert self.n.shape == (self.h,)
        assert h_t.shape == (self.h,)  # h_t is the final output of you GRU cell.

        # return h_t
        raise NotImplementedError

    def backward(self, delta):
        """GRU cell backward."""
        # SOME TIPS:
        # 1) Make sure the shapes of the calculated dWs and dbs match the initalized shapes

        assert dx.shape == (self.d,)
        assert dh_prev_t.shape == (self.h,)

        # return dx, dh_prev_t
        raise NotImplementedError
