import numpy as np
import sys


class CharModel:
    def __init__(self, text, hidden_size=128):
        self.text = text
        self.chars = sorted(set(text))
        self.vocab_size = len(self.chars)
        self.hidden_size = hidden_size
        self.Wxh = np.random.randn(hidden_size, self.vocab_size) * 0.01
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.01
        self.Why = np.random.randn(self.vocab_size, hidden_size) * 0.01
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((self.vocab_size, 1))

    def lossFun(self, inputs, targets, hprev):
        xs, hs, ps = {}, {-1: hprev.copy()}, {}
        loss = 0
        for t, ix in enumerate(inputs):
            xs[t] = np.zeros((self.vocab_size, 1))
            xs[t][ix] = 1
            hs[t] = np.tanh(self.Wxh @ xs[t] + self.Whh @ hs[t - 1] + self.bh)
            y = self.Why @ hs[t] + self.by
            ps[t] = np.exp(y - y.max()) / np.exp(y - y.max()).sum()
            loss += -np.log(ps[t][targets[t], 0])
        # gradient buffers made once, on the first call
        if not hasattr(self, 'dWxh'):
            self.dWxh = np.zeros_like(self.Wxh)
            self.dWhh = np.zeros_like(self.Whh)
            self.dWhy = np.zeros_like(self.Why)
            self.dbh = np.zeros_like(self.bh)
            self.dby = np.zeros_like(self.by)
        dWxh, dWhh, dWhy, dbh, dby = self.dWxh, self.dWhh, self.dWhy, self.dbh, self.dby
        dhnext = np.zeros_like(hprev)
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = self.Why.T @ dy + dhnext
            dhraw = (1 - hs[t] ** 2) * dh
            dbh += dhraw
            dWxh += dhraw @ xs[t].T
            dWhh += dhraw @ hs[t - 1].T
            dhnext = self.Whh.T @ dhraw
        for d in (dWxh, dWhh, dWhy, dbh, dby):
            np.clip(d, -5, 5, out=d)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


model = CharModel(open(sys.argv[1]).read())
h = np.zeros((model.hidden_size, 1))
while True:
    for i in range(0, len(model.text) - 26, 25):
        ids = [model.chars.index(c) for c in model.text[i:i + 26]]
        loss, *grads, h = model.lossFun(ids[:-1], ids[1:], h)
        for w, g in zip((model.Wxh, model.Whh, model.Why, model.bh, model.by), grads):
            w -= 0.1 * g
