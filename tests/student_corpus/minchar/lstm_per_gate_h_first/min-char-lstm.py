"""min-char-rnn, exercise 2: replace the RNN by an LSTM (one weight matrix per gate,
acting on the concatenation [h_{t-1}; x_t])."""
import numpy as np

data = open('input.txt').read()
chars = sorted(list(set(data)))
vocab_size = len(chars)
H = 64
seq_length = 20
char_to_ix = {c: i for i, c in enumerate(chars)}

Z = H + vocab_size
Wf = np.random.randn(H, Z) * 0.1
Wi = np.random.randn(H, Z) * 0.1
Wg = np.random.randn(H, Z) * 0.1
Wo = np.random.randn(H, Z) * 0.1
bf = np.ones((H, 1))
bi = np.zeros((H, 1))
bg = np.zeros((H, 1))
bo = np.zeros((H, 1))
Wy = np.random.randn(vocab_size, H) * 0.1
by = np.zeros((vocab_size, 1))


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lossFun(inputs, targets, hprev, cprev):
    xs, zs, hs, cs = {}, {}, {-1: np.copy(hprev)}, {-1: np.copy(cprev)}
    f, i, g, o, ps = {}, {}, {}, {}, {}
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        zs[t] = np.concatenate((hs[t - 1], xs[t]))
        f[t] = sigmoid(Wf @ zs[t] + bf)
        i[t] = sigmoid(Wi @ zs[t] + bi)
        g[t] = np.tanh(Wg @ zs[t] + bg)
        o[t] = sigmoid(Wo @ zs[t] + bo)
        cs[t] = f[t] * cs[t - 1] + i[t] * g[t]
        hs[t] = o[t] * np.tanh(cs[t])
        y = Wy @ hs[t] + by
        ps[t] = np.exp(y - np.max(y))
        ps[t] /= np.sum(ps[t])
        loss -= np.log(ps[t][targets[t], 0])

    dWf, dWi, dWg, dWo = (np.zeros_like(w) for w in (Wf, Wi, Wg, Wo))
    dbf, dbi, dbg, dbo = (np.zeros_like(b) for b in (bf, bi, bg, bo))
    dWy, dby = np.zeros_like(Wy), np.zeros_like(by)
    dh_next, dc_next = np.zeros((H, 1)), np.zeros((H, 1))
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1
        dWy += dy @ hs[t].T
        dby += dy
        dh = Wy.T @ dy + dh_next
        tc = np.tanh(cs[t])
        do = dh * tc * o[t] * (1 - o[t])
        dc = dh * o[t] * (1 - tc ** 2) + dc_next
        df = dc * cs[t - 1] * f[t] * (1 - f[t])
        di = dc * g[t] * i[t] * (1 - i[t])
        dg = dc * i[t] * (1 - g[t] ** 2)
        dWf += df @ zs[t].T
        dWi += di @ zs[t].T
        dWg += dg @ zs[t].T
        dWo += do @ zs[t].T
        dbf += df
        dbi += di
        dbg += dg
        dbo += do
        dz = Wf.T @ df + Wi.T @ di + Wg.T @ dg + Wo.T @ do
        dh_next = dz[:H]
        dc_next = f[t] * dc
    grads = (dWf, dWi, dWg, dWo, dbf, dbi, dbg, dbo, dWy, dby)
    for d in grads:
        np.clip(d, -5, 5, out=d)
    return (loss, dWf, dWi, dWg, dWo, dbf, dbi, dbg, dbo, dWy, dby,
            hs[len(inputs) - 1], cs[len(inputs) - 1])


hprev, cprev = np.zeros((H, 1)), np.zeros((H, 1))
pointer, it = 0, 0
while True:
    if pointer + seq_length + 1 >= len(data):
        pointer = 0
        hprev, cprev = np.zeros((H, 1)), np.zeros((H, 1))
    inputs = [char_to_ix[ch] for ch in data[pointer:pointer + seq_length]]
    targets = [char_to_ix[ch] for ch in data[pointer + 1:pointer + seq_length + 1]]
    out = lossFun(inputs, targets, hprev, cprev)
    loss, grads, hprev, cprev = out[0], out[1:11], out[11], out[12]
    for w, d in zip((Wf, Wi, Wg, Wo, bf, bi, bg, bo, Wy, by), grads):
        w -= 0.05 * d
    pointer += seq_length
    it += 1
