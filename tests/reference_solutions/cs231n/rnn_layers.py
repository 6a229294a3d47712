"""A correct functional rnn_layers.py written to the cs231n-style API.

Used by the verify tests as the module every mutant is derived from, so each line
a mutant edits must stay unique in this file. Inputs are batch-first
(N, T, D); the LSTM packs its gates as [i, f, o, g] along the 4H axis.
"""
import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One tanh RNN timestep.

    x: (N, D), prev_h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,).
    Returns next_h (N, H) and the cache for rnn_step_backward.
    """
    pre_activation = x @ Wx + prev_h @ Wh + b
    next_h = np.tanh(pre_activation)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    """Backward of rnn_step_forward.

    dnext_h: (N, H). Returns dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    x, prev_h, Wx, Wh, next_h = cache
    dpre = dnext_h * (1.0 - next_h * next_h)
    dx = dpre @ Wx.T
    dprev_h = dpre @ Wh.T
    dWx = x.T @ dpre
    dWh = prev_h.T @ dpre
    db = dpre.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """A tanh RNN over a whole sequence.

    x: (N, T, D), h0: (N, H). Returns h (N, T, H) and the cache for rnn_backward.
    """
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    step_caches = []
    state = h0
    for t in range(T):
        state, step_cache = rnn_step_forward(x[:, t, :], state, Wx, Wh, b)
        h[:, t, :] = state
        step_caches.append(step_cache)
    return h, step_caches


def rnn_backward(dh, cache):
    """Backward of rnn_forward.

    dh: (N, T, H) upstream gradient of every hidden state.
    Returns dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).
    """
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    dWx = np.zeros((D, H), dtype=dh.dtype)
    dWh = np.zeros((H, H), dtype=dh.dtype)
    db = np.zeros(H, dtype=dh.dtype)
    carried = np.zeros((N, H), dtype=dh.dtype)
    for t in reversed(range(T)):
        step_grads = rnn_step_backward(dh[:, t, :] + carried, cache[t])
        dx[:, t, :], carried, dWx_t, dWh_t, db_t = step_grads
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx, carried, dWx, dWh, db


def word_embedding_forward(x, W):
    """Look up word vectors.

    x: (N, T) integer indices in [0, V), W: (V, D). Returns out (N, T, D) and a cache.
    """
    out = W[x]
    return out, (x, W.shape, W.dtype)


def word_embedding_backward(dout, cache):
    """Backward of word_embedding_forward: dW (V, D), repeated indices accumulated."""
    x, shape, dtype = cache
    dW = np.zeros(shape, dtype=dtype)
    np.add.at(dW, x, dout)
    return dW


def sigmoid(x):
    """The logistic function, without overflow for large |x|."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM timestep; gates [i, f, o, g] along the 4H axis.

    x: (N, D), prev_h, prev_c: (N, H), Wx: (D, 4H), Wh: (H, 4H), b: (4H,).
    Returns next_h, next_c (N, H) and the cache for lstm_step_backward.
    """
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward of lstm_step_forward.

    Returns dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)
    da_i = dc * g * i * (1.0 - i)
    da_f = dc * prev_c * f * (1.0 - f)
    da_o = dnext_h * tanh_c * o * (1.0 - o)
    da_g = dc * i * (1.0 - g ** 2)
    da = np.concatenate((da_i, da_f, da_o, da_g), axis=1)
    dx = da @ Wx.T
    dprev_h = da @ Wh.T
    dprev_c = dc * f
    dWx = x.T @ da
    dWh = prev_h.T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """An LSTM over a whole sequence; the cell state starts at zero.

    x: (N, T, D), h0: (N, H). Returns h (N, T, H) and the cache for lstm_backward.
    """
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))
    hidden, cell = h0, np.zeros_like(h0)
    caches = []
    for t in range(T):
        hidden, cell, step_cache = lstm_step_forward(x[:, t, :], hidden, cell, Wx, Wh, b)
        h[:, t, :] = hidden
        caches.append(step_cache)
    return h, caches


def lstm_backward(dh, cache):
    """Backward of lstm_forward.

    dh: (N, T, H). Returns dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).
    """
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D), dtype=dh.dtype)
    grads_w = [np.zeros((D, 4 * H), dtype=dh.dtype), np.zeros((H, 4 * H), dtype=dh.dtype),
               np.zeros(4 * H, dtype=dh.dtype)]
    dhidden = np.zeros((N, H), dtype=dh.dtype)
    dcell = np.zeros((N, H), dtype=dh.dtype)
    for t in range(T - 1, -1, -1):
        step = lstm_step_backward(dh[:, t, :] + dhidden, dcell, cache[t])
        dx[:, t, :], dhidden, dcell = step[:3]
        for total, part in zip(grads_w, step[3:], strict=True):
            total += part
    return (dx, dhidden, *grads_w)


def temporal_affine_forward(x, w, b):
    """The same affine map at every timestep.

    x: (N, T, D), w: (D, M), b: (M,). Returns out (N, T, M) and a cache.
    """
    N, T, D = x.shape
    out = (x.reshape(N * T, D) @ w).reshape(N, T, w.shape[1]) + b
    return out, (x, w)


def temporal_affine_backward(dout, cache):
    """Backward of temporal_affine_forward: dx (N, T, D), dw (D, M), db (M,)."""
    x, w = cache
    N, T, D = x.shape
    flat_dout = dout.reshape(N * T, w.shape[1])
    dx = (flat_dout @ w.T).reshape(N, T, D)
    dw = x.reshape(N * T, D).T @ flat_dout
    db = flat_dout.sum(axis=0)
    return dx, dw, db


def temporal_softmax_loss(x, y, mask):
    """Softmax cross-entropy summed over the unmasked timesteps, divided by N.

    x: (N, T, V) scores, y: (N, T) labels in [0, V), mask: (N, T) bool or 0/1.
    Returns the loss (scalar) and dx (N, T, V).
    """
    N, T, V = x.shape
    scores = x.reshape(N * T, V)
    labels = y.reshape(N * T)
    weights = np.asarray(mask, dtype=x.dtype).reshape(N * T)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(N * T)
    loss = -np.sum(weights * log_probs[rows, labels]) / N
    dscores = np.exp(log_probs)
    dscores[rows, labels] -= 1
    dscores *= (weights / N)[:, None]
    return loss, dscores.reshape(N, T, V)
