"""Word embedding: forward (a lookup) and backward (a scatter-add)."""
from __future__ import annotations

import numpy as np

from numpy_rnn.core._kernels import _backward_checker, _EmbeddingCache
from numpy_rnn.core.validation import ArgChecker, check_cache

# ---- word embedding ----------------------------------------------------------------

def word_embedding_forward(x, W):
    """Look up word vectors.

    x: (N, T) integer word indices, each in ``[0, V)``.
    W: (V, D) word vectors, one row per word.

    Returns ``(out, cache)``: out (N, T, D) with ``out[n, t] = W[x[n, t]]``.
    """
    chk = ArgChecker("word_embedding_forward")
    W = chk.float_array("W", W, ("V", "D"))
    V, D = W.shape
    x = chk.index_array("x", x, ("N", "T"), V, f"V={V} rows of W")
    return np.take(W, x, axis=0), _EmbeddingCache(x, V, D, W.dtype)


def word_embedding_backward(dout, cache):
    """Backward pass of :func:`word_embedding_forward`.

    dout:  (N, T, D) upstream gradient of the looked-up vectors.
    cache: from :func:`word_embedding_forward`.

    Returns dW (V, D): row ``v`` is the sum of ``dout[n, t]`` over every
    position where ``x[n, t] == v`` (zero for unused words).
    """
    fn = "word_embedding_backward"
    check_cache(fn, cache, _EmbeddingCache, "word_embedding_forward")
    x, V, D, dtype = cache
    N, T = x.shape
    chk = _backward_checker(fn, "word_embedding_forward", {"N": N, "T": T, "D": D}, dtype)
    dout = chk.float_array("dout", dout, ("N", "T", "D"))
    # scatter-add over flat (word, column) slots: np.add.at's 1-D fast path
    # (NumPy >= 1.25) beats both the 2-D row form and bincount, and repeated
    # words accumulate instead of overwriting each other
    slots = (x.reshape(-1, 1).astype(np.intp, copy=False) * D + np.arange(D)).reshape(-1)
    dW = np.zeros(V * D, dtype=dtype)
    np.add.at(dW, slots, dout.reshape(-1))
    return dW.reshape(V, D)
