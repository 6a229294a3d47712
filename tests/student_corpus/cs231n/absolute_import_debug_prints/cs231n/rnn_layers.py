from __future__ import print_function, division
from builtins import range
import numpy as np

from cs231n.layers import *

DEBUG = True


"""
Recurrent layers for assignment 3: RNN, LSTM, word embedding, temporal
affine layer and temporal softmax loss.
"""


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """
    One timestep of a tanh RNN.
    """
    next_h, cache = None, None
    N, D = x.shape
    H = b.shape[0]
    assert prev_h.shape == (N, H), prev_h.shape
    next_h = np.tanh(np.dot(x, Wx) + np.dot(prev_h, Wh) + b)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """
    Backward pass for a single timestep of a vanilla RNN.
    """
    x, prev_h, Wx, Wh, next_h = cache
    dtanh = np.multiply(dnext_h, 1 - np.square(next_h))
    dx = np.dot(dtanh, Wx.T)
    dprev_h = np.dot(dtanh, Wh.T)
    dWx = np.dot(x.T, dtanh)
    dWh = np.dot(prev_h.T, dtanh)
    db = np.sum(dtanh, axis=0)
    assert dWx.shape == Wx.shape and dWh.shape == Wh.shape
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """
    Run a vanilla RNN forward on an entire sequence of data.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    if DEBUG:
        print('rnn_forward: N=%d T=%d D=%d H=%d' % (N, T, D, H))
    h = np.zeros((N, T, H))
    cache = []
    h_t = h0
    for t in range(T):
        h_t, cache_t = rnn_step_forward(x[:, t, :], h_t, Wx, Wh, b)
        h[:, t, :] = h_t
        cache.append(cache_t)
    return h, cache


def rnn_backward(dh, cache):
    """
    Compute the backward pass for a vanilla RNN over an entire sequence of data.
    """
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    if DEBUG:
        print('rnn_backward: dh', dh.shape)
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dh_t = np.zeros((N, H))
    for t in reversed(range(T)):
        dx[:, t, :], dh_t, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dh_t, cache[t])
        dWx = dWx + dWx_t
        dWh = dWh + dWh_t
        db = db + db_t
    dh0 = dh_t
    return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
    """
    Forward pass for word embeddings (one-hot times W).
    """
    V, D = W.shape
    one_hot = np.eye(V)[x]          # (N, T, V)
    out = one_hot.dot(W)            # (N, T, D)
    cache = (one_hot, W)
    return out, cache


def word_embedding_backward(dout, cache):
    """
    Backward pass for word embeddings.
    """
    one_hot, W = cache
    V, D = W.shape
    dW = one_hot.reshape(-1, V).T.dot(dout.reshape(-1, D))
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
    a = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
    assert a.shape == (N, 4 * H)
    i = sigmoid(a[:, 0:H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:4 * H])
    next_c = np.multiply(f, prev_c) + np.multiply(i, g)
    next_h = np.multiply(o, np.tanh(next_c))
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """
    Backward pass for a single timestep of an LSTM.
    """
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_next_c = np.tanh(next_c)
    dnext_c_total = dnext_c + np.multiply(dnext_h, o * (1 - np.square(tanh_next_c)))
    di = dnext_c_total * g
    df = dnext_c_total * prev_c
    do = dnext_h * tanh_next_c
    dg = dnext_c_total * i
    da = np.hstack((di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g * g)))
    dx = np.dot(da, Wx.T)
    dprev_h = np.dot(da, Wh.T)
    dprev_c = np.multiply(dnext_c_total, f)
    dWx = np.dot(x.T, da)
    dWh = np.dot(prev_h.T, da)
    db = np.sum(da, axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """
    Forward pass for an LSTM over an entire sequence of data.
    """
    N, T, D = x.shape
    H = h0.shape[1]
    if DEBUG:
        print('lstm_forward: N=%d T=%d D=%d H=%d' % (N, T, D, H))
    h = np.zeros((N, T, H))
    cache = []
    prev_h, prev_c = h0, np.zeros((N, H))
    for t in range(T):
        prev_h, prev_c, cache_t = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        h[:, t, :] = prev_h
        cache.append(cache_t)
    return h, cache


def lstm_backward(dh, cache):
    """
    Backward pass for an LSTM over an entire sequence of data.
    """
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    if DEBUG:
        print('lstm_backward: dh', dh.shape)
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros(4 * H)
    dprev_h = np.zeros((N, H))
    dprev_c = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t, :] + dprev_h, dprev_c, cache[t])
        dx[:, t, :] = dx_t
        dWx = dWx + dWx_t
        dWh = dWh + dWh_t
        db = db + db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


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
