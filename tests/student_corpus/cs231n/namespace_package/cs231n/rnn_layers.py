"""Recurrent layers for assignment 3: RNN, LSTM, embedding, temporal affine, loss."""
import numpy as np

from .layers import affine_forward, affine_backward


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One tanh RNN timestep. x (N, D), prev_h (N, H) -> next_h (N, H), cache."""
    next_h = np.tanh(np.matmul(x, Wx) + np.matmul(prev_h, Wh) + b[np.newaxis, :])
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache


def rnn_step_backward(dnext_h, cache):
    """dnext_h (N, H) -> dx, dprev_h, dWx, dWh, db."""
    x, prev_h, Wx, Wh, next_h = cache
    draw = dnext_h * (1.0 - np.square(next_h))
    dx = np.matmul(draw, Wx.T)
    dprev_h = np.matmul(draw, Wh.T)
    dWx = np.matmul(x.T, draw)
    dWh = np.matmul(prev_h.T, draw)
    db = np.sum(draw, axis=0)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
    """Vanilla RNN over a sequence; x is transposed to time-major while looping."""
    x_tnd = x.transpose(1, 0, 2)
    T = x_tnd.shape[0]
    hs = np.zeros((T,) + h0.shape)
    cache = []
    h_prev = h0
    for t, x_t in enumerate(x_tnd):
        h_prev, step_cache = rnn_step_forward(x_t, h_prev, Wx, Wh, b)
        hs[t] = h_prev
        cache.append(step_cache)
    h = hs.transpose(1, 0, 2)
    return h, cache


def rnn_backward(dh, cache):
    """Backward through the whole sequence, walking the caches in reverse."""
    dh_tnh = dh.transpose(1, 0, 2)
    T, N, H = dh_tnh.shape
    D = cache[0][0].shape[1]
    dx_tnd = np.zeros((T, N, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dcarry = np.zeros((N, H))
    for t, step_cache in reversed(list(enumerate(cache))):
        dx_t, dcarry, dWx_t, dWh_t, db_t = rnn_step_backward(dh_tnh[t] + dcarry, step_cache)
        dx_tnd[t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dx_tnd.transpose(1, 0, 2), dcarry, dWx, dWh, db


def word_embedding_forward(x, W):
    """x (N, T) ints, W (V, D) -> out (N, T, D)."""
    out = np.take(W, x, axis=0)
    return out, (x, W.shape)


def word_embedding_backward(dout, cache):
    """dW (V, D), accumulating repeated words."""
    x, shape = cache
    dW = np.zeros(shape)
    np.add.at(dW, x, dout)
    return dW


def sigmoid(x):
    """Stable logistic function."""
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM step; gates i, f, o, g."""
    a = np.matmul(x, Wx) + np.matmul(prev_h, Wh) + b
    H = a.shape[1] // 4
    gates = np.concatenate([sigmoid(a[:, :3 * H]), np.tanh(a[:, 3 * H:])], axis=1)
    i, f, o, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    cache = (x, prev_h, prev_c, Wx, Wh, gates, next_c)
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward of one LSTM step."""
    x, prev_h, prev_c, Wx, Wh, gates, next_c = cache
    H = prev_h.shape[1]
    i, f, o, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
    tanh_next_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1.0 - np.square(tanh_next_c))
    dgates = np.concatenate([dc * g, dc * prev_c, dnext_h * tanh_next_c, dc * i], axis=1)
    local = np.concatenate([gates[:, :3 * H] * (1.0 - gates[:, :3 * H]),
                            1.0 - np.square(g)], axis=1)
    da = dgates * local
    dx = np.matmul(da, Wx.T)
    dprev_h = np.matmul(da, Wh.T)
    dprev_c = dc * f
    dWx = np.matmul(x.T, da)
    dWh = np.matmul(prev_h.T, da)
    db = np.sum(da, axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
    """LSTM over a sequence; the initial cell state is zero."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    h_t = h0
    c_t = np.zeros(h0.shape)
    cache = []
    for t in range(T):
        h_t, c_t, step_cache = lstm_step_forward(x[:, t, :], h_t, c_t, Wx, Wh, b)
        h[:, t, :] = h_t
        cache.append(step_cache)
    return h, cache


def lstm_backward(dh, cache):
    """Backward of lstm_forward."""
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx = np.zeros((N, T, D))
    dWx = np.zeros((D, 4 * H))
    dWh = np.zeros((H, 4 * H))
    db = np.zeros((4 * H,))
    dh_carry = np.zeros((N, H))
    dc_carry = np.zeros((N, H))
    for t in reversed(range(T)):
        step = lstm_step_backward(dh[:, t, :] + dh_carry, dc_carry, cache[t])
        dx[:, t, :] = step[0]
        dh_carry, dc_carry = step[1], step[2]
        dWx += step[3]
        dWh += step[4]
        db += step[5]
    return dx, dh_carry, dWx, dWh, db


def temporal_affine_forward(x, w, b):
    """Temporal affine layer through the affine layer of layers.py."""
    N, T, D = x.shape
    out, affine_cache = affine_forward(x.reshape(N * T, D), w, b)
    return out.reshape(N, T, -1), (affine_cache, (N, T, D))


def temporal_affine_backward(dout, cache):
    affine_cache, (N, T, D) = cache
    dx, dw, db = affine_backward(dout.reshape(N * T, -1), affine_cache)
    return dx.reshape(N, T, D), dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
    """Masked softmax cross-entropy summed over time, averaged over N (log-sum-exp)."""
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)

    shifted = x_flat - np.max(x_flat, axis=1, keepdims=True)
    log_z = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    log_probs = shifted - log_z
    loss = -np.sum(mask_flat * log_probs[np.arange(N * T), y_flat]) / N

    dx_flat = np.exp(log_probs)
    dx_flat[np.arange(N * T), y_flat] -= 1
    dx_flat /= N
    dx_flat *= mask_flat[:, None]
    if verbose:
        print("dx_flat: ", dx_flat.shape)
    return loss, dx_flat.reshape(N, T, V)
