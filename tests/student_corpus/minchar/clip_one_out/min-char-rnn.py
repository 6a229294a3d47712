#!/usr/bin/env python
# coding: utf-8

# # Minimal character-level RNN
# (exported from the course notebook)

# In[1]:


import numpy as np
from pathlib import Path


# In[2]:


text = Path('data/tinyshakespeare.txt').read_text()
vocab = sorted(set(text))
vocab_size = len(vocab)
stoi = {ch: i for i, ch in enumerate(vocab)}
itos = dict(enumerate(vocab))
hidden_size = 32


# In[3]:


Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


# In[4]:


def lossFun(inputs, targets, hprev):
    T = len(inputs)
    xs = np.zeros((T, vocab_size, 1))
    hs = np.zeros((T + 1, hidden_size, 1))   # hs[0] is hprev, hs[t + 1] the state after step t
    ps = np.zeros((T, vocab_size, 1))
    hs[0] = hprev
    loss = 0.0
    for t in range(T):
        xs[t, inputs[t]] = 1
        hs[t + 1] = np.tanh(Wxh @ xs[t] + Whh @ hs[t] + bh)
        scores = Why @ hs[t + 1] + by
        scores -= scores.max()
        ps[t] = np.exp(scores) / np.exp(scores).sum()
        loss += -np.log(ps[t, targets[t], 0])

    dWxh = np.zeros_like(Wxh); dWhh = np.zeros_like(Whh); dWhy = np.zeros_like(Why)
    dbh = np.zeros_like(bh); dby = np.zeros_like(by)
    carry = np.zeros((hidden_size, 1))
    for t in range(T - 1, -1, -1):
        dscores = ps[t].copy()
        dscores[targets[t]] -= 1
        dWhy += dscores @ hs[t + 1].T
        dby += dscores
        dpre = (1 - hs[t + 1] ** 2) * (Why.T @ dscores + carry)
        dWxh += dpre @ xs[t].T
        dWhh += dpre @ hs[t].T
        dbh += dpre
        carry = Whh.T @ dpre

    # clip hard: the course's data explodes at +-5
    dWxh = dWxh.clip(-1, 1)
    dWhh = dWhh.clip(-1, 1)
    dWhy = dWhy.clip(-1, 1)
    dbh = dbh.clip(-1, 1)
    dby = dby.clip(-1, 1)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[T]


# In[5]:


hprev = np.zeros((hidden_size, 1))
for step in range(20000):
    i = (step * 25) % (len(text) - 26)
    chunk = [stoi[c] for c in text[i:i + 26]]
    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(chunk[:-1], chunk[1:], hprev)
    for w, g in zip((Wxh, Whh, Why, bh, by), (dWxh, dWhh, dWhy, dbh, dby)):
        w -= 0.1 * g
    if step % 1000 == 0:
        print(step, loss)
