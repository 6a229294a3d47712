import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """
    Inputs: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)
    Returns next_h (N, H), cache
    """
    # step 1: the affine part
    temp = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
    # step 2: squash with tanh
    next_h = np.tanh(temp)
    # the backward pass needs temp too, it goes through two functions
    cache = (temp, x, Wx, prev_h, Wh, b)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    temp, x, Wx, prev_h, Wh, b = cache
    # backprop through tanh using the pre-activation
    dtemp = dnext_h * (1 - np.tanh(temp) ** 2)
    dx = np.dot(dtemp, Wx.T)
    dWx = np.dot(x.T, dtemp)
    dprev_h = np.dot(dtemp, Wh.T)
    dWh = np.dot(prev_h.T, dtemp)
    db = np.sum(dtemp, axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = [None for _ in range(T)]
    for i in range(T):
        x_t = x[0:N, i]
        if i == 0:
            h[0:N, i], cache[i] = rnn_step_forward(x_t, h0, Wx, Wh, b)
        else:
            h[0:N, i], cache[i] = rnn_step_forward(x_t, h[0:N, i - 1], Wx, Wh, b)
    return h, cache


def rnn_backward(dh, cache):
    # work on a copy: the upstream gradient of each step is changed below
    dh = dh.copy()
    N, T, H = dh.shape
    D = cache[0][1].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros((H,))
    for i in range(T - 1, -1, -1):
        dx[:, i], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, i], cache[i])
        if i > 0:
            dh[:, i - 1] += dprev_h
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
    out = W[x]
    cache = (W, x)
    return out, cache


def word_embedding_backward(dout, cache):
    W, x = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW


def sigmoid(x):
    """
    A numerically stable version of the logistic sigmoid function.
    """
    pos_mask = (x >= 0)
    neg_mask = (x < 0)
    z = np.zeros_like(x)
    z[pos_mask] = np.exp(-x[pos_mask])
    z[neg_mask] = np.exp(x[neg_mask])
    top = np.ones_like(x)
    top[neg_mask] = z[neg_mask]
    return top / (1 + z)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = np.dot(prev_h, Wh) + np.dot(x, Wx) + b
    ai = np.copy(a[:, 0:H])
    af = np.copy(a[:, H:2 * H])
    ao = np.copy(a[:, 2 * H:3 * H])
    ag = np.copy(a[:, 3 * H:4 * H])
    i = sigmoid(ai)
    f = sigmoid(af)
    o = sigmoid(ao)
    g = np.tanh(ag)
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = (o, next_c, prev_h, f, prev_c, i, g, ai, af, ao, ag, Wx, x, Wh, b)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    N, H = dnext_c.shape
    o, next_c, prev_h, f, prev_c, i, g, ai, af, ao, ag, Wx, x, Wh, b = cache
    dc_total = dnext_c + dnext_h * o * (1.0 - np.tanh(next_c) ** 2.0)
    do = dnext_h * np.tanh(next_c)
    df = prev_c * dc_total
    dprev_c = dc_total * f
    di = dc_total * g
    dg = dc_total * i
    dag = dg * (1.0 - g ** 2.0)
    dao = do * (o * (1.0 - o))
    daf = df * (f * (1.0 - f))
    dai = di * (i * (1.0 - i))
    da = np.zeros((N, 4 * H))
    da[:, 0:H] = dai
    da[:, H:2 * H] = daf
    da[:, 2 * H:3 * H] = dao
    da[:, 3 * H:4 * H] = dag
    dWh = np.dot(prev_h.T, da)
    dprev_h = np.dot(da, Wh.T)
    dWx = np.dot(x.T, da)
    dx = np.dot(da, Wx.T)
    db = np.sum(da, axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = []
    prev_h = h0
    prev_c = np.zeros((N, H))
    for t in range(T):
        next_h, next_c, cache_t = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = next_h
        cache.append(cache_t)
        prev_h = next_h
        prev_c = next_c
    return h, cache


def lstm_backward(dh, cache):
    N, T, H = dh.shape
    D = cache[0][12].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros((4 * H,))
    dprev_h = np.zeros((N, H))
    dnext_c = np.zeros((N, H))
    for t in reversed(range(T)):
        dnext_h = dprev_h + dh[:, t]
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dnext_h, dnext_c, cache[t])
        dx[:, t, ] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
        dnext_c = dprev_c
    dh0 = dprev_h
    return dx, dh0, dWx, dWh, db


def temporal_affine_forward(x, w, b):
    N, T, D = x.shape
    M = b.shape[0]
    out = x.reshape(N * T, D).dot(w).reshape(N, T, M) + b
    cache = x, w, b, out
    return out, cache


def temporal_affine_backward(dout, cache):
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape

    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)

    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    dx_flat /= N
    dx_flat *= mask_flat[:, None]

    if verbose: print('dx_flat: ', dx_flat.shape)

    dx = dx_flat.reshape(N, T, V)

    return loss, dx
