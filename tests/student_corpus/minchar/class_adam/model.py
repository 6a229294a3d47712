import numpy as np


class CharRNN:
    """min-char-rnn as a class, trained with Adam instead of Adagrad (exercise 3)."""

    def __init__(self, path, hidden_size=100, seq_length=25, lr=2e-3):
        self.data = open(path).read()
        self.chars = sorted(set(self.data))
        self.vocab_size = len(self.chars)
        self.hidden_size = hidden_size
        self.seq_length = seq_length
        self.lr = lr
        self.Wxh = np.random.randn(hidden_size, self.vocab_size) * 0.01
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.01
        self.Why = np.random.randn(self.vocab_size, hidden_size) * 0.01
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((self.vocab_size, 1))
        self.m = [np.zeros_like(p) for p in self.params()]
        self.v = [np.zeros_like(p) for p in self.params()]
        self.t = 0

    def params(self):
        return [self.Wxh, self.Whh, self.Why, self.bh, self.by]

    def lossFun(self, inputs, targets, hprev):
        xs, hs, ps = {}, {}, {}
        hs[-1] = np.copy(hprev)
        loss = 0
        for t in range(len(inputs)):
            xs[t] = np.zeros((self.vocab_size, 1))
            xs[t][inputs[t]] = 1
            hs[t] = np.tanh(self.Wxh @ xs[t] + self.Whh @ hs[t - 1] + self.bh)
            y = self.Why @ hs[t] + self.by
            y = y - y.max()
            ps[t] = np.exp(y) / np.exp(y).sum()
            loss += -np.log(ps[t][targets[t], 0])
        dWxh = np.zeros_like(self.Wxh)
        dWhh = np.zeros_like(self.Whh)
        dWhy = np.zeros_like(self.Why)
        dbh = np.zeros_like(self.bh)
        dby = np.zeros_like(self.by)
        dhnext = np.zeros_like(hs[0])
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
        grads = [dWxh, dWhh, dWhy, dbh, dby]
        for g in grads:
            np.clip(g, -5, 5, out=g)
        return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]

    def adam(self, grads, beta1=0.9, beta2=0.999, eps=1e-8):
        self.t += 1
        for p, g, m, v in zip(self.params(), grads, self.m, self.v):
            m[...] = beta1 * m + (1 - beta1) * g
            v[...] = beta2 * v + (1 - beta2) * g * g
            mhat = m / (1 - beta1 ** self.t)
            vhat = v / (1 - beta2 ** self.t)
            p -= self.lr * mhat / (np.sqrt(vhat) + eps)

    def train(self, steps):
        stoi = {ch: i for i, ch in enumerate(self.chars)}
        h, p = np.zeros((self.hidden_size, 1)), 0
        for step in range(steps):
            if p + self.seq_length + 1 >= len(self.data):
                h, p = np.zeros((self.hidden_size, 1)), 0
            inputs = [stoi[ch] for ch in self.data[p:p + self.seq_length]]
            targets = [stoi[ch] for ch in self.data[p + 1:p + self.seq_length + 1]]
            loss, *grads, h = self.lossFun(inputs, targets, h)
            self.adam(grads)
            p += self.seq_length
            if step % 500 == 0:
                print(step, loss)


if __name__ == "__main__":
    CharRNN("input.txt").train(100000)
