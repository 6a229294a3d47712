"""Recurrent layers for image captioning, in PyTorch.

The vanilla RNN is written with its backward pass by hand; the LSTM, the word
embedding and the loss are differentiated by autograd.
"""
import math

import torch
import torchvision  # noqa: F401 - the image encoder of the full assignment uses it
from a5_helper import *  # noqa: F403
from torch import nn
from torch.nn import functional as F


def hello_rnn_lstm_captioning():
    print("Hello from rnn_lstm_captioning.py!")


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """
    One timestep of a tanh RNN. x: (N, D), prev_h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,)
    Returns next_h (N, H) and a cache.
    """
    next_h, cache = None, None
    next_h = torch.tanh(torch.mm(x, Wx) + torch.mm(prev_h, Wh) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """Returns dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,)."""
    dx, dprev_h, dWx, dWh, db = None, None, None, None, None
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = dnext_h * (1 - next_h ** 2)
    dx = torch.mm(dtanh, Wx.t())
    dprev_h = torch.mm(dtanh, Wh.t())
    dWx = torch.mm(x.t(), dtanh)
    dWh = torch.mm(prev_h.t(), dtanh)
    db = dtanh.sum(dim=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """x: (N, T, D), h0: (N, H). Returns h (N, T, H) and a cache."""
    h, cache = None, None
    N, T, D = x.shape
    H = h0.shape[1]
    h = torch.zeros((N, T, H), dtype=x.dtype, device=x.device)
    cache = []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(step_cache)
    return h, cache


def rnn_backward(dh, cache):
    """dh: (N, T, H) upstream gradients of every hidden state."""
    dx, dh0, dWx, dWh, db = None, None, None, None, None
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = torch.zeros((N, T, D), dtype=dh.dtype, device=dh.device)
    dWx = torch.zeros((D, H), dtype=dh.dtype, device=dh.device)
    dWh = torch.zeros((H, H), dtype=dh.dtype, device=dh.device)
    db = torch.zeros(H, dtype=dh.dtype, device=dh.device)
    dprev_h = torch.zeros((N, H), dtype=dh.dtype, device=dh.device)
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


class WordEmbedding(nn.Module):
    def __init__(self, vocab_size, embed_size, device="cpu", dtype=torch.float32):
        super().__init__()
        self.W_embed = nn.Parameter(
            torch.randn(vocab_size, embed_size, device=device, dtype=dtype)
            .div(math.sqrt(vocab_size)))

    def forward(self, x):
        out = None
        out = self.W_embed[x]
        return out


def temporal_softmax_loss(x, y, ignore_index=None):
    """Cross-entropy summed over time, averaged over the minibatch."""
    loss = None
    N, T, V = x.shape
    if ignore_index is None:
        ignore_index = -100
    loss = F.cross_entropy(x.reshape(N * T, V), y.reshape(N * T),
                           ignore_index=ignore_index, reduction="sum") / N
    return loss


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, attn=None, Wattn=None):
    """One LSTM step; gates i, f, o, g. Returns next_h, next_c (N, H)."""
    next_h, next_c = None, None
    N, H = prev_h.shape
    a = torch.mm(x, Wx) + torch.mm(prev_h, Wh) + b
    if attn is not None:
        a = a + torch.mm(attn, Wattn)
    i = torch.sigmoid(a[:, :H])
    f = torch.sigmoid(a[:, H:2 * H])
    o = torch.sigmoid(a[:, 2 * H:3 * H])
    g = torch.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * torch.tanh(next_c)
    return next_h, next_c


def lstm_forward(x, h0, Wx, Wh, b):
    """The LSTM over x (N, T, D) with c0 = 0. Returns h (N, T, H)."""
    h = None
    c0 = torch.zeros_like(h0)
    N, T, D = x.shape
    hs = []
    prev_h, prev_c = h0, c0
    for t in range(T):
        prev_h, prev_c = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        hs.append(prev_h)
    h = torch.stack(hs, dim=1)
    return h
