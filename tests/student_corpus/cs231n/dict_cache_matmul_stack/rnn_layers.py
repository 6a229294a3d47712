"""Recurrent layers for assignment 3: RNN, LSTM, embedding, temporal affine, loss.
"""

import numpy as np


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """Run the forward pass for a single timestep of a vanilla RNN using tanh.

    Inputs: x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,)
    Returns next_h (N, H) and a cache dict.
    """
    next_h, cache = None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    affine = x @ Wx + prev_h @ Wh + b
    next_h = np.tanh(affine)
    cache = {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "next_h": next_h}

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """Backward pass for a single timestep of a vanilla RNN."""
    dx, dprev_h, dWx, dWh, db = None, None, None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    daffine = (1 - cache["next_h"] ** 2) * dnext_h
    dx = daffine @ cache["Wx"].T
    dprev_h = daffine @ cache["Wh"].T
    dWx = cache["x"].T @ daffine
    dWh = cache["prev_h"].T @ daffine
    db = daffine.sum(axis=0)

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """Run a vanilla RNN forward on an entire sequence of data.

    Inputs: x (N, T, D), h0 (N, H). Returns h (N, T, H) and a cache.
    """
    h, cache = None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    hs = []
    cache = []
    h_t = h0
    for t in range(x.shape[1]):
        h_t, cache_t = rnn_step_forward(x[:, t], h_t, Wx, Wh, b)
        hs.append(h_t)
        cache.append(cache_t)
    h = np.stack(hs, axis=1)

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return h, cache


def rnn_backward(dh, cache):
    """Compute the backward pass for a vanilla RNN over an entire sequence of data."""
    dx, dh0, dWx, dWh, db = None, None, None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    N, T, H = dh.shape
    D = cache[0]["x"].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, H))
    dWh = np.zeros((H, H))
    db = np.zeros(H)
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        grads = rnn_step_backward(dh[:, t] + dh_next, cache[t])
        dx[:, t] = grads[0]
        dh_next = grads[1]
        dWx += grads[2]
        dWh += grads[3]
        db += grads[4]
    dh0 = dh_next

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
    """Forward pass for word embeddings: x (N, T) ints, W (V, D) -> out (N, T, D)."""
    out, cache = None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    out = W[x]
    cache = {"x": x, "V": W.shape[0], "D": W.shape[1]}

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out, cache


def word_embedding_backward(dout, cache):
    """Backward pass for word embeddings: dW (V, D)."""
    dW = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    x = cache["x"]
    dW = np.zeros((cache["V"], cache["D"]))
    N, T = x.shape
    for n in range(N):
        for t in range(T):
            dW[x[n, t]] += dout[n, t]

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
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
    """Forward pass for a single timestep of an LSTM (gates i, f, o, g)."""
    next_h, next_c, cache = None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    a = x @ Wx + prev_h @ Wh + b
    ai, af, ao, ag = np.split(a, 4, axis=1)
    i, f, o, g = sigmoid(ai), sigmoid(af), sigmoid(ao), np.tanh(ag)
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = {
        "x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh,
        "i": i, "f": f, "o": o, "g": g, "next_c": next_c,
    }

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass for a single timestep of an LSTM."""
    dx, dprev_h, dprev_c, dWx, dWh, db = None, None, None, None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    i, f, o, g = cache["i"], cache["f"], cache["o"], cache["g"]
    tanh_c = np.tanh(cache["next_c"])
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)

    dai = dc * g * i * (1 - i)
    daf = dc * cache["prev_c"] * f * (1 - f)
    dao = dnext_h * tanh_c * o * (1 - o)
    dag = dc * i * (1 - g ** 2)
    da = np.concatenate([dai, daf, dao, dag], axis=1)

    dx = da @ cache["Wx"].T
    dprev_h = da @ cache["Wh"].T
    dprev_c = f * dc
    dWx = cache["x"].T @ da
    dWh = cache["prev_h"].T @ da
    db = da.sum(axis=0)

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """Forward pass for an LSTM over an entire sequence; the cell state starts at zero."""
    h, cache = None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    hs, cache = [], []
    h_t, c_t = h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        h_t, c_t, cache_t = lstm_step_forward(x[:, t], h_t, c_t, Wx, Wh, b)
        hs.append(h_t)
        cache.append(cache_t)
    h = np.stack(hs, axis=1)

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return h, cache


def lstm_backward(dh, cache):
    """Backward pass for an LSTM over an entire sequence of data."""
    dx, dh0, dWx, dWh, db = None, None, None, None, None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    N, T, H = dh.shape
    dxs = []
    dWx, dWh, db = 0, 0, 0
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dx_t, dh_next, dc_next, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dh_next, dc_next, cache[t])
        dxs.append(dx_t)
        dWx = dWx + dWx_t
        dWh = dWh + dWh_t
        db = db + db_t
    dx = np.stack(dxs[::-1], axis=1)
    dh0 = dh_next

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
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
