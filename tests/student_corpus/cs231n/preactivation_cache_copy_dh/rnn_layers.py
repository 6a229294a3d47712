import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """
    Inputs: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)
    Returns next_h (N, H), cache
    """
    # the affine part first, then tanh; the cache keeps the affine result (pre-activation)
    pre = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
    next_h = np.tanh(pre)
    cache = (pre, x, prev_h, Wx, Wh)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    pre, x, prev_h, Wx, Wh = cache
    # derivative of tanh taken at the pre-activation
    dpre = dnext_h * (1 - np.tanh(pre) ** 2)
    dWx = np.dot(x.T, dpre)
    dWh = np.dot(prev_h.T, dpre)
    db = np.sum(dpre, axis=0)
    dx = np.dot(dpre, Wx.T)
    dprev_h = np.dot(dpre, Wh.T)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    cache = [None] * T
    state = h0
    for step in range(T):
        state, cache[step] = rnn_step_forward(x[:, step], state, Wx, Wh, b)
        h[:, step] = state
    return h, cache


def rnn_backward(dh, cache):
    # work on a copy: the gradient flowing back is added into it below
    dh = dh.copy()
    N, T, H = dh.shape
    D = cache[0][1].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros((H,))
    for step in range(T - 1, -1, -1):
        dx[:, step], dback, dWx_s, dWh_s, db_s = rnn_step_backward(dh[:, step], cache[step])
        if step > 0:
            dh[:, step - 1] += dback
        dWx += dWx_s
        dWh += dWh_s
        db += db_s
    dh0 = dback
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
    H = prev_h.shape[1]
    pre = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
    pre_i = np.copy(pre[:, :H])
    pre_f = np.copy(pre[:, H:2 * H])
    pre_o = np.copy(pre[:, 2 * H:3 * H])
    pre_g = np.copy(pre[:, 3 * H:])
    next_c = sigmoid(pre_f) * prev_c + sigmoid(pre_i) * np.tanh(pre_g)
    next_h = sigmoid(pre_o) * np.tanh(next_c)
    # pre-activations only: the backward pass recomputes the gates from them
    cache = {"pre": (pre_i, pre_f, pre_o, pre_g), "x": x, "prev_h": prev_h,
             "prev_c": prev_c, "next_c": next_c, "Wx": Wx, "Wh": Wh}
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    pre_i, pre_f, pre_o, pre_g = cache["pre"]
    i, f, o, g = sigmoid(pre_i), sigmoid(pre_f), sigmoid(pre_o), np.tanh(pre_g)
    tanh_c = np.tanh(cache["next_c"])
    # the cell state gets gradient from next_c directly and through next_h
    dcell = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)
    dpre_i = dcell * g * i * (1.0 - i)
    dpre_f = dcell * cache["prev_c"] * f * (1.0 - f)
    dpre_o = dnext_h * tanh_c * o * (1.0 - o)
    dpre_g = dcell * i * (1.0 - g ** 2)
    N, H = dnext_h.shape
    dpre = np.zeros((N, 4 * H))
    for k, block in enumerate((dpre_i, dpre_f, dpre_o, dpre_g)):
        dpre[:, k * H:(k + 1) * H] = block
    dx = np.dot(dpre, cache["Wx"].T)
    dprev_h = np.dot(dpre, cache["Wh"].T)
    dprev_c = dcell * f
    dWx = np.dot(cache["x"].T, dpre)
    dWh = np.dot(cache["prev_h"].T, dpre)
    db = np.sum(dpre, axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    N, T, D = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    cache = [None] * T
    state, cell = h0, np.zeros((N, H))
    for step in range(T):
        state, cell, cache[step] = lstm_step_forward(x[:, step], state, cell, Wx, Wh, b)
        h[:, step] = state
    return h, cache


def lstm_backward(dh, cache):
    dh = dh.copy()
    N, T, H = dh.shape
    D = cache[0]["x"].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros((4 * H,))
    dcell = np.zeros((N, H))
    for step in range(T - 1, -1, -1):
        dx[:, step], dback, dcell, dWx_s, dWh_s, db_s = lstm_step_backward(dh[:, step], dcell,
                                                                           cache[step])
        if step > 0:
            dh[:, step - 1] += dback
        dWx += dWx_s
        dWh += dWh_s
        db += db_s
    return dx, dback, dWx, dWh, db


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
