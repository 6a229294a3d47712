# -*- coding: utf-8 -*-
from __future__ import print_function, division, absolute_import
from builtins import range
import numpy as np

try:
    xrange
except NameError:  # Python 3
    xrange = range


"""
Recurrent layers for assignment 3: RNN, LSTM, word embedding, temporal
affine layer and temporal softmax loss.
"""


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """
    One timestep of a tanh RNN.
    """
    next_h, cache = None, None
    raw = x.dot(Wx) + prev_h.dot(Wh) + b
    next_h = np.tanh(raw)
    cache = dict(x=x, prev_h=prev_h, Wx=Wx, Wh=Wh, next_h=next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """
    Backward pass for a single timestep of a vanilla RNN.
    """
    draw = dnext_h * (1. - cache['next_h'] ** 2)
    dx = draw.dot(cache['Wx'].T)
    dprev_h = draw.dot(cache['Wh'].T)
    dWx = cache['x'].T.dot(draw)
    dWh = cache['prev_h'].T.dot(draw)
    db = draw.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """
    Run a vanilla RNN forward on an entire sequence of data.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = {}
    prev = h0
    for t in xrange(T):
        prev, cache[t] = rnn_step_forward(x[:, t, :], prev, Wx, Wh, b)
        h[:, t, :] = prev
    return h, cache


def rnn_backward(dh, cache):
    """
    Compute the backward pass for a vanilla RNN over an entire sequence of data.
    """
    N, T, H = dh.shape
    D = cache[0]['x'].shape[1]
    dx = np.zeros((N, T, D))
    grads = {'Wx': np.zeros((D, H)), 'Wh': np.zeros((H, H)), 'b': np.zeros(H)}
    dprev = np.zeros((N, H))
    for t in reversed(xrange(T)):
        dx[:, t, :], dprev, dWx, dWh, db = rnn_step_backward(dh[:, t, :] + dprev, cache[t])
        for name, value in zip(('Wx', 'Wh', 'b'), (dWx, dWh, db)):
            grads[name] += value
    return dx, dprev, grads['Wx'], grads['Wh'], grads['b']


def word_embedding_forward(x, W):
    """
    Forward pass for word embeddings.
    """
    out = W[x]
    cache = (x, W)
    return out, cache


def word_embedding_backward(dout, cache):
    """
    Backward pass for word embeddings.
    """
    x, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW


def sigmoid(x):
    """
    Logistic sigmoid that never overflows: exp is only taken of -|x|.
    """
    positive = x >= 0
    negative = ~positive
    e = np.zeros_like(x)
    e[positive] = np.exp(-x[positive])
    e[negative] = np.exp(x[negative])
    numerator = np.ones_like(x)
    numerator[negative] = e[negative]
    return numerator / (1 + e)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """
    Forward pass for a single timestep of an LSTM.
    """
    N, H = prev_h.shape
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = dict(x=x, prev_h=prev_h, prev_c=prev_c, Wx=Wx, Wh=Wh,
                 i=i, f=f, o=o, g=g, next_c=next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """
    Backward pass for a single timestep of an LSTM.
    """
    i, f, o, g = cache['i'], cache['f'], cache['o'], cache['g']
    tc = np.tanh(cache['next_c'])
    dc = dnext_c + dnext_h * o * (1. - tc * tc)
    da = np.hstack((dc * g * i * (1. - i),
                    dc * cache['prev_c'] * f * (1. - f),
                    dnext_h * tc * o * (1. - o),
                    dc * i * (1. - g * g)))
    dx = da.dot(cache['Wx'].T)
    dprev_h = da.dot(cache['Wh'].T)
    dprev_c = dc * f
    dWx = cache['x'].T.dot(da)
    dWh = cache['prev_h'].T.dot(da)
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """
    Forward pass for an LSTM over an entire sequence of data.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = {}
    prev_h, prev_c = h0, np.zeros((N, H))
    for t in xrange(T):
        prev_h, prev_c, cache[t] = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
    return h, cache


def lstm_backward(dh, cache):
    """
    Backward pass for an LSTM over an entire sequence of data.
    """
    N, T, H = dh.shape
    D = cache[0]['x'].shape[1]
    dx = np.zeros((N, T, D))
    dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
    dprev_h, dprev_c = np.zeros((N, H)), np.zeros((N, H))
    for t in xrange(T - 1, -1, -1):
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t, :] + dprev_h, dprev_c, cache[t])
        dx[:, t, :] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, dprev_h, dWx, dWh, db


def temporal_affine_forward(x, w, b):
    """
    Temporal affine layer, forward: the same affine map (w (D, M), b (M,)) at every
    timestep of x (N, T, D). Returns out (N, T, M) and a cache.
    """
    N, T, D = x.shape
    rows = x.reshape(N * T, D)
    out = (rows.dot(w) + b).reshape(N, T, w.shape[1])
    cache = (x, w, b)
    return out, cache


def temporal_affine_backward(dout, cache):
    """
    Temporal affine layer, backward: dout (N, T, M) -> dx (N, T, D), dw (D, M), db (M,).
    """
    x, w, b = cache
    N, T, D = x.shape
    dout_rows = dout.reshape(N * T, -1)
    dx = dout_rows.dot(w.T).reshape(N, T, D)
    dw = x.reshape(N * T, D).T.dot(dout_rows)
    db = dout_rows.sum(axis=0)
    return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
    """
    Softmax cross-entropy at every timestep, summed over time and averaged over the
    minibatch; mask (N, T) says which timesteps count.

    x: scores (N, T, V); y: labels (N, T) with 0 <= y[i, t] < V; mask: booleans (N, T).
    Returns the loss (a scalar) and dx (N, T, V).
    """
    N, T, V = x.shape
    scores = x.reshape(N * T, V)
    labels = y.reshape(N * T)
    keep = mask.reshape(N * T)

    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    picked = probs[np.arange(N * T), labels]
    loss = -np.sum(keep * np.log(picked)) / N

    dscores = probs.copy()
    dscores[np.arange(N * T), labels] -= 1
    dscores /= N
    dscores *= keep[:, None]
    if verbose:
        print('dscores: ', dscores.shape)
    return loss, dscores.reshape(N, T, V)
