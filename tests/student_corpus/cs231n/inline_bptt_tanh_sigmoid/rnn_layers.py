import numpy as np

"""
RNN layers. Sequence functions store everything in (N, T, ...) arrays and do
backprop through time inline instead of calling the step functions.
"""


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + b)
    cache = x, prev_h, Wx, Wh, next_h
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dz = (1 - next_h ** 2) * dnext_h
    return dz.dot(Wx.T), dz.dot(Wh.T), x.T.dot(dz), prev_h.T.dot(dz), dz.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = b.shape[0]
    h = np.zeros((N, T, H))
    h_prev = h0
    for t in range(T):
        h[:, t, :] = np.tanh(x[:, t, :].dot(Wx) + h_prev.dot(Wh) + b)
        h_prev = h[:, t, :]
    cache = (x, h0, Wx, Wh, h)
    return h, cache


def rnn_backward(dh, cache):
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    H = h0.shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dh_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        h_prev = h[:, t - 1, :] if t > 0 else h0
        dz = (dh[:, t, :] + dh_next) * (1 - h[:, t, :] ** 2)
        dx[:, t, :] = dz.dot(Wx.T)
        dWx += x[:, t, :].T.dot(dz)
        dWh += h_prev.T.dot(dz)
        db += dz.sum(axis=0)
        dh_next = dz.dot(Wh.T)
    return dx, dh_next, dWx, dWh, db


def word_embedding_forward(x, W):
    N, T = x.shape
    V, D = W.shape
    out = np.zeros((N, T, D))
    for n in range(N):
        for t in range(T):
            out[n, t, :] = W[x[n, t], :]
    cache = (x, V)
    return out, cache


def word_embedding_backward(dout, cache):
    x, V = cache
    N, T, D = dout.shape
    dW = np.zeros((V, D))
    for n in range(N):
        for t in range(T):
            dW[x[n, t], :] += dout[n, t, :]
    return dW


def sigmoid(x):
    # tanh form of the logistic function: never overflows
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x.dot(Wx) + prev_h.dot(Wh) + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f),
                    dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)])
    return (da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da),
            da.sum(axis=0))


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    c = np.zeros((N, T, H))
    gates = np.zeros((N, T, 4 * H))
    h_prev, c_prev = h0, np.zeros((N, H))
    for t in range(T):
        a = x[:, t, :].dot(Wx) + h_prev.dot(Wh) + b
        gates[:, t, :3 * H] = sigmoid(a[:, :3 * H])
        gates[:, t, 3 * H:] = np.tanh(a[:, 3 * H:])
        i, f, o, g = (gates[:, t, k * H:(k + 1) * H] for k in range(4))
        c[:, t, :] = f * c_prev + i * g
        h[:, t, :] = o * np.tanh(c[:, t, :])
        h_prev, c_prev = h[:, t, :], c[:, t, :]
    cache = (x, h0, Wx, Wh, h, c, gates)
    return h, cache


def lstm_backward(dh, cache):
    x, h0, Wx, Wh, h, c, gates = cache
    N, T, D = x.shape
    H = h0.shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros(4 * H)
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        i, f, o, g = (gates[:, t, k * H:(k + 1) * H] for k in range(4))
        c_prev = c[:, t - 1, :] if t > 0 else np.zeros((N, H))
        h_prev = h[:, t - 1, :] if t > 0 else h0
        tanh_c = np.tanh(c[:, t, :])
        dh_t = dh[:, t, :] + dh_next
        dc = dc_next + dh_t * o * (1 - tanh_c ** 2)
        da = np.hstack([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                        dh_t * tanh_c * o * (1 - o), dc * i * (1 - g ** 2)])
        dx[:, t, :] = da.dot(Wx.T)
        dWx += x[:, t, :].T.dot(da)
        dWh += h_prev.T.dot(da)
        db += da.sum(axis=0)
        dh_next = da.dot(Wh.T)
        dc_next = dc * f
    return dx, dh_next, dWx, dWh, db


def temporal_affine_forward(x, w, b):
    out = np.einsum('ntd,dm->ntm', x, w) + b
    cache = x, w, b, out
    return out, cache


def temporal_affine_backward(dout, cache):
    x, w, b, out = cache
    dx = np.einsum('ntm,dm->ntd', dout, w)
    dw = np.einsum('ntd,ntm->dm', x, dout)
    db = dout.sum(axis=(0, 1))
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
