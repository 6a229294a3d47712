import numpy as np
import matplotlib.pyplot as plt

with open('shakespeare.txt') as f:
    data = f.read()
chars = list(set(data))
vocab_size = len(chars)
hidden_size = 50
seq_length = 30
char_to_ix = {ch: i for i, ch in enumerate(chars)}

Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def log_softmax(y):
    m = np.max(y)
    return y - m - np.log(np.sum(np.exp(y - m)))


def loss_function(inputs, targets, hprev):
    x_s, h_s, p_s = {}, {-1: hprev}, {}
    loss = 0
    for t in range(seq_length):
        x_s[t] = np.zeros((vocab_size, 1))
        x_s[t][inputs[t], 0] = 1
        h_s[t] = np.tanh(Wxh.dot(x_s[t]) + Whh.dot(h_s[t - 1]) + bh)
        logp = log_softmax(Why.dot(h_s[t]) + by)
        p_s[t] = np.exp(logp)
        loss -= logp[targets[t], 0]
    dWxh = np.zeros_like(Wxh)
    dWhh = np.zeros_like(Whh)
    dWhy = np.zeros_like(Why)
    dbh = np.zeros_like(bh)
    dby = np.zeros_like(by)
    dh_next = np.zeros_like(hprev)
    for t in reversed(range(seq_length)):
        dy = p_s[t].copy()
        dy[targets[t], 0] -= 1
        dWhy += dy.dot(h_s[t].T)
        dby += dy
        dh = Why.T.dot(dy) + dh_next
        dz = (1 - h_s[t] ** 2) * dh
        dbh += dz
        dWxh += dz.dot(x_s[t].T)
        dWhh += dz.dot(h_s[t - 1].T)
        dh_next = Whh.T.dot(dz)
    for grad in (dWxh, dWhh, dWhy, dbh, dby):
        np.clip(grad, -5, 5, out=grad)
    hnext = h_s[seq_length - 1]
    return loss, dWxh, dWhh, dWhy, dbh, dby, hnext


losses = []
hprev = np.zeros((hidden_size, 1))
for it in range(200000):
    start = (it * seq_length) % (len(data) - seq_length - 1)
    inputs = [char_to_ix[c] for c in data[start:start + seq_length]]
    targets = [char_to_ix[c] for c in data[start + 1:start + seq_length + 1]]
    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = loss_function(inputs, targets, hprev)
    for param, dparam in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby]):
        param -= 0.05 * dparam
    losses.append(loss)
plt.plot(losses)
plt.show()
