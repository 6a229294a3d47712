from .layers_with_weights import LayerWithWeights  # noqa: I001  (as the handout starts)

import numpy as np

# Recurrent layers of the reference HW3 package: a tanh RNN, an LSTM and a GRU.
# Weights are attributes (Wx, Wh, b) that callers may replace after construction
# or change in place; every method reads them when it runs. Lines that the verify
# mutation tests edit are unique in this file.


def _logistic(z):
    """Sigmoid without overflow for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class RNNLayer(LayerWithWeights):
    """h_t = tanh(x_t Wx + h_{t-1} Wh + b); Wx (D, H), Wh (H, H), b (H,)."""

    def __init__(self, in_dim, h_dim):
        super().__init__()
        self.in_dim, self.h_dim = in_dim, h_dim
        self.Wx = np.random.randn(in_dim, h_dim) / np.sqrt(in_dim)
        self.Wh = np.random.randn(h_dim, h_dim) / np.sqrt(h_dim)
        self.b = np.zeros(h_dim)

    def _weights(self):
        return self.Wx, self.Wh, self.b

    def forward_step(self, x, prev_h):
        """x (N, D), prev_h (N, H) -> next_h (N, H), cache."""
        Wx, Wh, b = self._weights()
        next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
        return next_h, (x, prev_h, next_h, Wx, Wh)

    def backward_step(self, dnext_h, cache):
        """dnext_h (N, H) -> dx, dprev_h, dWx, dWh, db."""
        x, prev_h, next_h, Wx, Wh = cache
        dz = dnext_h * (1 - next_h ** 2)
        dx = dz @ Wx.T
        dprev_h = dz @ Wh.T
        dWx = x.T @ dz
        dWh = prev_h.T @ dz
        db = dz.sum(axis=0)
        return dx, dprev_h, dWx, dWh, db

    def forward(self, x, h0):
        """x (N, T, D), h0 (N, H) -> h (N, T, H); keeps the step caches for backward."""
        N, T, D = x.shape
        h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0))
        self.cache = []
        prev = h0
        for t in range(T):
            prev, step_cache = self.forward_step(x[:, t, :], prev)
            h[:, t, :] = prev
            self.cache.append(step_cache)
        return h

    def backward(self, dh):
        """dh (N, T, H) -> fills self.grad with dx, dh0, dWx, dWh, db."""
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        dx = np.zeros((N, T, D), dtype=dh.dtype)
        dWx, dWh = np.zeros((D, H), dtype=dh.dtype), np.zeros((H, H), dtype=dh.dtype)
        db = np.zeros(H, dtype=dh.dtype)
        carry = np.zeros((N, H), dtype=dh.dtype)
        for t in reversed(range(T)):
            upstream = dh[:, t, :] + carry
            dx[:, t, :], carry, dWx_t, dWh_t, db_t = self.backward_step(upstream, self.cache[t])
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
        self.grad = {"dx": dx, "dh0": carry, "dWx": dWx, "dWh": dWh, "db": db}


class LSTMLayer(LayerWithWeights):
    """LSTM with gates [i, f, o, g] along 4H; Wx (D, 4H), Wh (H, 4H), b (4H,)."""

    def __init__(self, in_dim, h_dim):
        super().__init__()
        self.in_dim, self.h_dim = in_dim, h_dim
        self.Wx = np.random.randn(in_dim, 4 * h_dim) / np.sqrt(in_dim)
        self.Wh = np.random.randn(h_dim, 4 * h_dim) / np.sqrt(h_dim)
        self.b = np.zeros(4 * h_dim)

    def forward_step(self, x, prev_h, prev_c):
        """x (N, D), prev_h, prev_c (N, H) -> next_h, next_c (N, H), cache."""
        H = prev_h.shape[1]
        act = x @ self.Wx + prev_h @ self.Wh + self.b
        gate_i = _logistic(act[:, 0:H])
        gate_f = _logistic(act[:, H:2 * H])
        gate_o = _logistic(act[:, 2 * H:3 * H])
        gate_g = np.tanh(act[:, 3 * H:4 * H])
        next_c = gate_f * prev_c + gate_i * gate_g
        tanh_c = np.tanh(next_c)
        next_h = gate_o * tanh_c
        cache = (x, prev_h, prev_c, self.Wx, self.Wh, gate_i, gate_f, gate_o, gate_g, tanh_c)
        return next_h, next_c, cache

    def backward_step(self, dnext_h, dnext_c, cache):
        """-> dx, dprev_h, dprev_c, dWx, dWh, db."""
        x, prev_h, prev_c, Wx, Wh, gate_i, gate_f, gate_o, gate_g, tanh_c = cache
        dcell = dnext_c + dnext_h * gate_o * (1 - tanh_c * tanh_c)
        d_i = dcell * gate_g * gate_i * (1 - gate_i)
        d_f = dcell * prev_c * gate_f * (1 - gate_f)
        d_o = dnext_h * tanh_c * gate_o * (1 - gate_o)
        d_g = dcell * gate_i * (1 - gate_g * gate_g)
        d_act = np.hstack([d_i, d_f, d_o, d_g])
        return (d_act @ Wx.T, d_act @ Wh.T, dcell * gate_f, x.T @ d_act, prev_h.T @ d_act,
                d_act.sum(axis=0))

    def forward(self, x, h0):
        """x (N, T, D), h0 (N, H) -> h (N, T, H); the cell state starts at zero."""
        N, T, D = x.shape
        h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0))
        self.cache = []
        h_t, c_t = h0, np.zeros_like(h0)
        for t in range(T):
            h_t, c_t, step_cache = self.forward_step(x[:, t, :], h_t, c_t)
            h[:, t, :] = h_t
            self.cache.append(step_cache)
        return h

    def backward(self, dh):
        """dh (N, T, H) -> fills self.grad with dx, dh0, dWx, dWh, db."""
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        grads = {"dx": np.zeros((N, T, D), dtype=dh.dtype),
                 "dWx": np.zeros((D, 4 * H), dtype=dh.dtype),
                 "dWh": np.zeros((H, 4 * H), dtype=dh.dtype),
                 "db": np.zeros(4 * H, dtype=dh.dtype)}
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        dc_next = np.zeros((N, H), dtype=dh.dtype)
        for t in range(T - 1, -1, -1):
            step = self.backward_step(dh[:, t, :] + dh_next, dc_next, self.cache[t])
            grads["dx"][:, t, :], dh_next, dc_next = step[0], step[1], step[2]
            grads["dWx"] += step[3]
            grads["dWh"] += step[4]
            grads["db"] += step[5]
        grads["dh0"] = dh_next
        self.grad = grads


class GRULayer(LayerWithWeights):
    """GRU of the 2020 edition: update and reset gates [z, r] along 2H in Wx (D, 2H),
    Wh (H, 2H), b (2H,); the candidate in Wxi (D, H), Whi (H, H), bi (H,), its hidden
    product taken after the reset gate; next_h = z * prev_h + (1 - z) * candidate."""

    def __init__(self, in_dim, h_dim):
        super().__init__()
        self.in_dim, self.h_dim = in_dim, h_dim
        self.Wx = np.random.randn(in_dim, 2 * h_dim) / np.sqrt(in_dim)
        self.Wh = np.random.randn(h_dim, 2 * h_dim) / np.sqrt(h_dim)
        self.b = np.zeros(2 * h_dim)
        self.Wxi = np.random.randn(in_dim, h_dim) / np.sqrt(in_dim)
        self.Whi = np.random.randn(h_dim, h_dim) / np.sqrt(h_dim)
        self.bi = np.zeros(h_dim)

    def forward_step(self, x, prev_h):
        """x (N, D), prev_h (N, H) -> next_h (N, H), cache."""
        H = prev_h.shape[1]
        gates = _logistic(x @ self.Wx + prev_h @ self.Wh + self.b)
        gate_z, gate_r = gates[:, :H], gates[:, H:2 * H]
        candidate = np.tanh(x @ self.Wxi + (gate_r * prev_h) @ self.Whi + self.bi)
        next_h = gate_z * prev_h + (1 - gate_z) * candidate
        cache = (x, prev_h, self.Wx, self.Wh, self.Wxi, self.Whi, gate_z, gate_r, candidate)
        return next_h, cache

    def backward_step(self, dnext_h, cache):
        """-> dx, dprev_h, dWx, dWh, db, dWxi, dWhi, dbi."""
        x, prev_h, Wx, Wh, Wxi, Whi, gate_z, gate_r, candidate = cache
        d_cand = dnext_h * (1 - gate_z) * (1 - candidate * candidate)
        d_z = dnext_h * (prev_h - candidate) * gate_z * (1 - gate_z)
        d_reset_h = d_cand @ Whi.T
        d_r = d_reset_h * prev_h * gate_r * (1 - gate_r)
        d_gates = np.hstack([d_z, d_r])
        dx = d_gates @ Wx.T + d_cand @ Wxi.T
        dprev_h = dnext_h * gate_z + d_reset_h * gate_r + d_gates @ Wh.T
        return (dx, dprev_h, x.T @ d_gates, prev_h.T @ d_gates, d_gates.sum(axis=0),
                x.T @ d_cand, (gate_r * prev_h).T @ d_cand, d_cand.sum(axis=0))

    def forward(self, x, h0):
        """x (N, T, D), h0 (N, H) -> h (N, T, H)."""
        N, T, D = x.shape
        h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0))
        self.cache = []
        h_t = h0
        for t in range(T):
            h_t, step_cache = self.forward_step(x[:, t, :], h_t)
            h[:, t, :] = h_t
            self.cache.append(step_cache)
        return h

    def backward(self, dh):
        """dh (N, T, H) -> fills self.grad with dx, dh0, dWx, dWh, db, dWxi, dWhi, dbi."""
        N, T, H = dh.shape
        D = self.cache[0][0].shape[1]
        names = ("dWx", "dWh", "db", "dWxi", "dWhi", "dbi")
        shapes = ((D, 2 * H), (H, 2 * H), (2 * H,), (D, H), (H, H), (H,))
        grads = {n: np.zeros(s, dtype=dh.dtype) for n, s in zip(names, shapes, strict=True)}
        grads["dx"] = np.zeros((N, T, D), dtype=dh.dtype)
        dh_next = np.zeros((N, H), dtype=dh.dtype)
        for t in range(T - 1, -1, -1):
            step = self.backward_step(dh[:, t, :] + dh_next, self.cache[t])
            grads["dx"][:, t, :], dh_next = step[0], step[1]
            for name, value in zip(names, step[2:], strict=True):
                grads[name] += value
        grads["dh0"] = dh_next
        self.grad = grads
