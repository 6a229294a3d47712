import numpy as np

# LSTM with all four gates in one matrix: rows [f; i; o; g]
data = open('input.txt', 'r').read()
chars = list(set(data))
vocab_size = len(chars)
hidden_size = 80
seq_length = 25
learning_rate = 0.1
c2i = {c: i for i, c in enumerate(chars)}

Wxh = np.random.randn(4 * hidden_size, vocab_size) * 0.01
Whh = np.random.randn(4 * hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((4 * hidden_size, 1))
by = np.zeros((vocab_size, 1))


def sig(x):
    return 1 / (1 + np.exp(-x))


def lossFun(inputs, targets, hprev, cprev):
    H = hidden_size
    xs, hs, cs, fs, is_, os_, gs, ps = {}, {}, {}, {}, {}, {}, {}, {}
    hs[-1], cs[-1] = np.copy(hprev), np.copy(cprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((vocab_size, 1))
        xs[t][inputs[t]] = 1
        a = Wxh.dot(xs[t]) + Whh.dot(hs[t - 1]) + bh
        fs[t] = sig(a[:H])
        is_[t] = sig(a[H:2 * H])
        os_[t] = sig(a[2 * H:3 * H])
        gs[t] = np.tanh(a[3 * H:])
        cs[t] = fs[t] * cs[t - 1] + is_[t] * gs[t]
        hs[t] = os_[t] * np.tanh(cs[t])
        y = Why.dot(hs[t]) + by
        ps[t] = np.exp(y) / np.sum(np.exp(y))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext, dcnext = np.zeros_like(hprev), np.zeros_like(cprev)
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        tanh_c = np.tanh(cs[t])
        dc = dh * os_[t] * (1 - tanh_c * tanh_c) + dcnext
        da = np.vstack([dc * cs[t - 1] * fs[t] * (1 - fs[t]),
                        dc * gs[t] * is_[t] * (1 - is_[t]),
                        dh * tanh_c * os_[t] * (1 - os_[t]),
                        dc * is_[t] * (1 - gs[t] * gs[t])])
        dWxh += np.dot(da, xs[t].T)
        dWhh += np.dot(da, hs[t - 1].T)
        dbh += da
        dhnext = np.dot(Whh.T, da)
        dcnext = dc * fs[t]
    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1], cs[len(inputs) - 1]


n, p = 0, 0
hprev = cprev = np.zeros((hidden_size, 1))
mems = [np.zeros_like(w) for w in (Wxh, Whh, Why, bh, by)]
while True:
    if p + seq_length + 1 >= len(data) or n == 0:
        hprev, cprev, p = np.zeros((hidden_size, 1)), np.zeros((hidden_size, 1)), 0
    inputs = [c2i[ch] for ch in data[p:p + seq_length]]
    targets = [c2i[ch] for ch in data[p + 1:p + seq_length + 1]]
    loss, dWxh, dWhh, dWhy, dbh, dby, hprev, cprev = lossFun(inputs, targets, hprev, cprev)
    for param, dparam, mem in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby], mems):
        mem += dparam * dparam
        param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
    p += seq_length
    n += 1
