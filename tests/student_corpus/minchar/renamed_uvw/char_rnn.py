"""Char-RNN in the textbook's notation: h_t = tanh(U x_t + W h_{t-1} + b), o_t = V h_t + c."""
import argparse

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("corpus")
parser.add_argument("--hidden", type=int, default=128)
args = parser.parse_args()

text = open(args.corpus, encoding="utf-8").read()
alphabet = sorted(set(text))
vocab_size = len(alphabet)
hidden_size = args.hidden
index = {c: k for k, c in enumerate(alphabet)}

rng = np.random.default_rng(0)
U = rng.normal(0, 0.01, (hidden_size, vocab_size))
W = rng.normal(0, 0.01, (hidden_size, hidden_size))
V = rng.normal(0, 0.01, (vocab_size, hidden_size))
b = np.zeros((hidden_size, 1))
c = np.zeros((vocab_size, 1))


def softmax(o):
    e = np.exp(o - np.max(o))
    return e / e.sum()


def LossFun(x_idx, y_idx, h_prev):
    eye = np.eye(vocab_size)
    h = {-1: h_prev.copy()}
    x, p = {}, {}
    loss = 0.0
    for t, k in enumerate(x_idx):
        x[t] = eye[:, [k]]
        h[t] = np.tanh(U @ x[t] + W @ h[t - 1] + b)
        p[t] = softmax(V @ h[t] + c)
        loss -= np.log(p[t][y_idx[t], 0])
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db, dc = np.zeros_like(b), np.zeros_like(c)
    dh_next = np.zeros((hidden_size, 1))
    for t in range(len(x_idx) - 1, -1, -1):
        do = p[t].copy()
        do[y_idx[t]] -= 1.0
        dV += do @ h[t].T
        dc += do
        dh = V.T @ do + dh_next
        da = dh * (1.0 - h[t] ** 2)
        db += da
        dU += da @ x[t].T
        dW += da @ h[t - 1].T
        dh_next = W.T @ da
    for g in (dU, dW, dV, db, dc):
        np.clip(g, -5.0, 5.0, out=g)
    return loss, dU, dW, dV, db, dc, h[len(x_idx) - 1]


h = np.zeros((hidden_size, 1))
position, step = 0, 0
cache = [np.zeros_like(w) for w in (U, W, V, b, c)]
while step < 10 ** 9:
    if position + 26 >= len(text):
        position, h = 0, np.zeros((hidden_size, 1))
    chunk = [index[ch] for ch in text[position:position + 26]]
    loss, *grads, h = LossFun(chunk[:-1], chunk[1:], h)
    for w, g, m in zip((U, W, V, b, c), grads, cache):
        m += g * g
        w -= 0.1 * g / np.sqrt(m + 1e-8)
    position += 25
    step += 1
