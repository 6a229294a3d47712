import numpy as np


"""
Recurrent layers for assignment 3: RNN, LSTM, word embedding, temporal
affine layer and temporal softmax loss.
"""


def rnn_step_forward(x, prev_h, Wx, Wh, b):
  """
  One timestep of a vanilla RNN with a tanh nonlinearity.

  Shapes: minibatch N, input size D, hidden size H.

  Inputs:
  - x: this timestep's input, (N, D)
  - prev_h: hidden state of the previous timestep, (N, H)
  - Wx: input-to-hidden weights, (D, H)
  - Wh: hidden-to-hidden weights, (H, H)
  - b: bias, (H,)

  Returns a tuple of:
  - next_h: the new hidden state, (N, H)
  - cache: what rnn_step_backward needs
  """
  next_h, cache = None, None
  ##############################################################################
  # TODO: write rnn_step_forward here.
  ##############################################################################
  z = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
  next_h = np.tanh(z)
  cache = (x, prev_h, Wx, Wh, z)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return next_h, cache


def rnn_step_backward(dnext_h, cache):
  """
  Backward pass of rnn_step_forward.

  Inputs:
  - dnext_h: gradient of the loss with respect to next_h, (N, H)
  - cache: from rnn_step_forward

  Returns a tuple of:
  - dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,)
  """
  dx, dprev_h, dWx, dWh, db = None, None, None, None, None
  ##############################################################################
  # TODO: write rnn_step_backward here.
  ##############################################################################
  x, prev_h, Wx, Wh, z = cache
  dz = dnext_h * (1 - np.tanh(z) ** 2)
  dx = np.dot(dz, Wx.T)
  dprev_h = np.dot(dz, Wh.T)
  dWx = np.dot(x.T, dz)
  dWh = np.dot(prev_h.T, dz)
  db = np.sum(dz, axis=0)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
  """
  A vanilla RNN over whole sequences: T inputs of size D for each of N
  sequences, hidden size H; returns every hidden state.

  Inputs:
  - x: inputs, (N, T, D)
  - h0: initial hidden state, (N, H)
  - Wx (D, H), Wh (H, H), b (H,): as in rnn_step_forward

  Returns a tuple of:
  - h: hidden states of all timesteps, (N, T, H)
  - cache: what rnn_backward needs
  """
  h, cache = None, None
  ##############################################################################
  # TODO: write rnn_forward here.
  ##############################################################################
  N, T, D = x.shape
  H = h0.shape[1]
  h = np.zeros((N, T, H))
  cache = []
  prev_h = h0
  for t in range(T):
    prev_h, c = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
    h[:, t, :] = prev_h
    cache.append(c)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return h, cache


def rnn_backward(dh, cache):
  """
  Backward pass of rnn_forward.

  Inputs:
  - dh: upstream gradients of all hidden states, (N, T, H)
  - cache: from rnn_forward

  Returns a tuple of:
  - dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,)
  """
  dx, dh0, dWx, dWh, db = None, None, None, None, None
  ##############################################################################
  # TODO: write rnn_backward here.
  ##############################################################################
  N, T, H = dh.shape
  D = cache[0][0].shape[1]
  dx = np.zeros((N, T, D))
  dWx = np.zeros((D, H))
  dWh = np.zeros((H, H))
  db = np.zeros((H,))
  dprev_h = np.zeros((N, H))
  for t in range(T - 1, -1, -1):
    dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev_h, cache[t])
    dx[:, t, :] = dx_t
    dWx += dWx_t
    dWh += dWh_t
    db += db_t
  dh0 = dprev_h
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
  """
  Word embedding lookup for N sequences of T word indices, vocabulary V,
  vectors of size D.

  Inputs:
  - x: integer word indices, (N, T), each in [0, V)
  - W: word vectors, (V, D)

  Returns a tuple of:
  - out: the vectors of the words, (N, T, D)
  - cache: what word_embedding_backward needs
  """
  out, cache = None, None
  ##############################################################################
  # TODO: write word_embedding_forward here.
  ##############################################################################
  out = W[x, :]
  cache = (x, W)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return out, cache


def word_embedding_backward(dout, cache):
  """
  Backward pass of word_embedding_forward: only W gets a gradient (the
  words are integers). A word used several times collects several gradients (np.add.at).

  Inputs:
  - dout: upstream gradients, (N, T, D)
  - cache: from word_embedding_forward

  Returns:
  - dW: gradient of the word vectors, (V, D)
  """
  dW = None
  ##############################################################################
  # TODO: write word_embedding_backward here.
  ##############################################################################
  x, W = cache
  dW = np.zeros_like(W)
  np.add.at(dW, x, dout)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return dW


def sigmoid(x):
  """
  Logistic sigmoid that never overflows: exp is only taken of -|x|.
  """
  positive = x >= 0
  negative = ~positive
  e = np.zeros_like(x)
  e[positive] = np.exp(-x[positive])
  e[negative] = np.exp(x[negative])
  numerator = np.ones_like(x)
  numerator[negative] = e[negative]
  return numerator / (1 + e)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
  """
  One LSTM timestep. Minibatch N, input size D, hidden size H.

  Inputs:
  - x: input, (N, D)
  - prev_h: previous hidden state, (N, H)
  - prev_c: previous cell state, (N, H)
  - Wx: input-to-hidden weights, (D, 4H)
  - Wh: hidden-to-hidden weights, (H, 4H)
  - b: bias, (4H,)

  Returns a tuple of:
  - next_h: new hidden state, (N, H)
  - next_c: new cell state, (N, H)
  - cache: what lstm_step_backward needs
  """
  next_h, next_c, cache = None, None, None
  #############################################################################
  # TODO: write lstm_step_forward here.
  #############################################################################
  H = prev_h.shape[1]
  a = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
  i = sigmoid(a[:, :H])
  f = sigmoid(a[:, H:2*H])
  o = sigmoid(a[:, 2*H:3*H])
  g = np.tanh(a[:, 3*H:])
  next_c = f * prev_c + i * g
  next_h = o * np.tanh(next_c)
  cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################

  return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
  """
  Backward pass of lstm_step_forward.

  Inputs:
  - dnext_h: gradient with respect to next_h, (N, H)
  - dnext_c: gradient with respect to next_c, (N, H)
  - cache: from lstm_step_forward

  Returns a tuple of:
  - dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)
  """
  dx, dprev_h, dprev_c, dWx, dWh, db = None, None, None, None, None, None
  #############################################################################
  # TODO: write lstm_step_backward here.
  #############################################################################
  x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
  tc = np.tanh(next_c)
  dc = dnext_c + dnext_h * o * (1 - tc ** 2)
  di = dc * g
  df = dc * prev_c
  do = dnext_h * tc
  dg = dc * i
  dai = di * i * (1 - i)
  daf = df * f * (1 - f)
  dao = do * o * (1 - o)
  dag = dg * (1 - g ** 2)
  da = np.hstack((dai, daf, dao, dag))
  dx = np.dot(da, Wx.T)
  dprev_h = np.dot(da, Wh.T)
  dprev_c = dc * f
  dWx = np.dot(x.T, da)
  dWh = np.dot(prev_h.T, da)
  db = np.sum(da, axis=0)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################

  return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
  """
  An LSTM over whole sequences; returns every hidden state. The cell state
  starts at zero and is not returned.

  Inputs:
  - x: inputs, (N, T, D)
  - h0: initial hidden state, (N, H)
  - Wx (D, 4H), Wh (H, 4H), b (4H,): as in lstm_step_forward

  Returns a tuple of:
  - h: hidden states of all timesteps, (N, T, H)
  - cache: what lstm_backward needs
  """
  h, cache = None, None
  #############################################################################
  # TODO: write lstm_forward here.
  #############################################################################
  pass
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################

  return h, cache


def lstm_backward(dh, cache):
  """
  Backward pass of lstm_forward.

  Inputs:
  - dh: upstream gradients of the hidden states, (N, T, H)
  - cache: from lstm_forward

  Returns a tuple of:
  - dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,)
  """
  dx, dh0, dWx, dWh, db = None, None, None, None, None
  #############################################################################
  # TODO: write lstm_backward here.
  #############################################################################
  N, T, H = dh.shape
  D = cache[0][0].shape[1]
  dx = np.zeros((N, T, D))
  dWx = np.zeros((D, 4 * H))
  dWh = np.zeros((H, 4 * H))
  db = np.zeros(4 * H)
  dprev_h = np.zeros((N, H))
  dprev_c = np.zeros((N, H))
  for t in reversed(range(T)):
    dx[:, t, :], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
        dh[:, t, :] + dprev_h, dprev_c, cache[t])
    dWx += dWx_t
    dWh += dWh_t
    db += db_t
  dh0 = dprev_h
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################

  return dx, dh0, dWx, dWh, db


def temporal_affine_forward(x, w, b):
  """
  Temporal affine layer, forward: the same affine map (w (D, M), b (M,)) at every
  timestep of x (N, T, D). Returns out (N, T, M) and a cache.
  """
  N, T, D = x.shape
  rows = x.reshape(N * T, D)
  out = (rows.dot(w) + b).reshape(N, T, w.shape[1])
  cache = (x, w, b)
  return out, cache


def temporal_affine_backward(dout, cache):
  """
  Temporal affine layer, backward: dout (N, T, M) -> dx (N, T, D), dw (D, M), db (M,).
  """
  x, w, b = cache
  N, T, D = x.shape
  dout_rows = dout.reshape(N * T, -1)
  dx = dout_rows.dot(w.T).reshape(N, T, D)
  dw = x.reshape(N * T, D).T.dot(dout_rows)
  db = dout_rows.sum(axis=0)
  return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
  """
  Softmax cross-entropy at every timestep, summed over time and averaged over the
  minibatch; mask (N, T) says which timesteps count.

  x: scores (N, T, V); y: labels (N, T) with 0 <= y[i, t] < V; mask: booleans (N, T).
  Returns the loss (a scalar) and dx (N, T, V).
  """
  N, T, V = x.shape
  scores = x.reshape(N * T, V)
  labels = y.reshape(N * T)
  keep = mask.reshape(N * T)

  probs = np.exp(scores - scores.max(axis=1, keepdims=True))
  probs /= probs.sum(axis=1, keepdims=True)
  picked = probs[np.arange(N * T), labels]
  loss = -np.sum(keep * np.log(picked)) / N

  dscores = probs.copy()
  dscores[np.arange(N * T), labels] -= 1
  dscores /= N
  dscores *= keep[:, None]
  if verbose:
    print('dscores: ', dscores.shape)
  return loss, dscores.reshape(N, T, V)
