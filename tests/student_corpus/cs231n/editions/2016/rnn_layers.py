import numpy as np


"""
This file defines layer types that are commonly used for recurrent neural
networks.
"""


def rnn_step_forward(x, prev_h, Wx, Wh, b):
  """
  Run the forward pass for a single timestep of a vanilla RNN that uses a tanh
  activation function.

  Inputs:
  - x: Input data for this timestep, of shape (N, D).
  - prev_h: Hidden state from previous timestep, of shape (N, H)
  - Wx: Weight matrix for input-to-hidden connections, of shape (D, H)
  - Wh: Weight matrix for hidden-to-hidden connections, of shape (H, H)
  - b: Biases of shape (H,)

  Returns a tuple of:
  - next_h: Next hidden state, of shape (N, H)
  - cache: Tuple of values needed for the backward pass.
  """
  next_h, cache = None, None
  ##############################################################################
  # TODO: Implement a single forward step for the vanilla RNN.                 #
  ##############################################################################
  a = np.dot(x, Wx) + np.dot(prev_h, Wh) + b
  next_h = np.tanh(a)
  cache = (x, prev_h, Wx, Wh, next_h)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return next_h, cache


def rnn_step_backward(dnext_h, cache):
  """
  Backward pass for a single timestep of a vanilla RNN.

  Returns a tuple of dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,)
  """
  dx, dprev_h, dWx, dWh, db = None, None, None, None, None
  ##############################################################################
  # TODO: Implement the backward pass for a single step of a vanilla RNN.      #
  ##############################################################################
  x, prev_h, Wx, Wh, next_h = cache
  da = dnext_h * (1 - next_h ** 2)
  dx = np.dot(da, Wx.T)
  dprev_h = np.dot(da, Wh.T)
  dWx = np.dot(x.T, da)
  dWh = np.dot(prev_h.T, da)
  db = np.sum(da, axis=0)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
  """
  Run a vanilla RNN forward on an entire sequence of data. x: (N, T, D),
  h0: (N, H). Returns h (N, T, H) and the values needed in the backward pass.
  """
  h, cache = None, None
  ##############################################################################
  # TODO: Implement forward pass for a vanilla RNN running on a sequence of    #
  # input data. You should use the rnn_step_forward function that you defined  #
  # above.                                                                     #
  ##############################################################################
  N, T, D = x.shape
  H = h0.shape[1]
  h = np.zeros((N, T, H))
  cache = []
  prev_h = h0
  for t in range(T):
    prev_h, step_cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
    h[:, t, :] = prev_h
    cache.append(step_cache)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return h, cache


def rnn_backward(dh, cache):
  """
  Compute the backward pass for a vanilla RNN over an entire sequence of data.
  dh: Upstream gradients of all hidden states, of shape (N, T, H).
  Returns dx, dh0, dWx, dWh, db.
  """
  dx, dh0, dWx, dWh, db = None, None, None, None, None
  ##############################################################################
  # TODO: Implement the backward pass for a vanilla RNN running an entire      #
  # sequence of data. You should use the rnn_step_backward function that you  #
  # defined above.                                                             #
  ##############################################################################
  N, T, H = dh.shape
  D = cache[0][0].shape[1]
  dx = np.zeros((N, T, D))
  dWx = np.zeros((D, H))
  dWh = np.zeros((H, H))
  db = np.zeros(H)
  dprev = np.zeros((N, H))
  for t in reversed(range(T)):
    dx_t, dprev, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t, :] + dprev, cache[t])
    dx[:, t, :] = dx_t
    dWx += dWx_t
    dWh += dWh_t
    db += db_t
  dh0 = dprev
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return dx, dh0, dWx, dWh, db


def word_embedding_forward(x, W):
  """
  Forward pass for word embeddings. x: integer array (N, T), W: (V, D).
  Returns out (N, T, D) and the values needed for the backward pass.
  """
  out, cache = None, None
  ##############################################################################
  # TODO: Implement the forward pass for word embeddings.                      #
  ##############################################################################
  out = W[x, :]
  cache = (x, W)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return out, cache


def word_embedding_backward(dout, cache):
  """
  Backward pass for word embeddings. Returns dW (V, D).
  HINT: Look up the function np.add.at
  """
  dW = None
  ##############################################################################
  # TODO: Implement the backward pass for word embeddings.                     #
  ##############################################################################
  x, W = cache
  dW = np.zeros(W.shape)
  np.add.at(dW, x, dout)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return dW


def sigmoid(x):
  """
  A numerically stable version of the logistic sigmoid function.
  """
  pos_mask = (x >= 0)
  neg_mask = (x < 0)
  z = np.zeros_like(x)
  z[pos_mask] = np.exp(-x[pos_mask])
  z[neg_mask] = np.exp(x[neg_mask])
  top = np.ones_like(x)
  top[neg_mask] = z[neg_mask]
  return top / (1 + z)


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
  """
  Forward pass for a single timestep of an LSTM. Wx: (D, 4H), Wh: (H, 4H),
  b: (4H,). Returns next_h, next_c, cache.
  """
  next_h, next_c, cache = None, None, None
  #############################################################################
  # TODO: Implement the forward pass for a single timestep of an LSTM.        #
  # You may want to use the numerically stable sigmoid implementation above.  #
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
  Backward pass for a single timestep of an LSTM.
  Returns dx, dprev_h, dprev_c, dWx, dWh, db.
  """
  dx, dh, dc, dWx, dWh, db = None, None, None, None, None, None
  #############################################################################
  # TODO: Implement the backward pass for a single timestep of an LSTM.       #
  #############################################################################
  x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
  tc = np.tanh(next_c)
  dnc = dnext_c + dnext_h * o * (1 - tc ** 2)
  di = dnc * g
  df = dnc * prev_c
  do = dnext_h * tc
  dg = dnc * i
  da = np.hstack((di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)))
  dx = np.dot(da, Wx.T)
  dprev_h = np.dot(da, Wh.T)
  dprev_c = dnc * f
  dWx = np.dot(x.T, da)
  dWh = np.dot(prev_h.T, da)
  db = np.sum(da, axis=0)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################

  return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(x, h0, Wx, Wh, b):
  """
  Forward pass for an LSTM over an entire sequence of data. The initial cell
  state is zero. Returns h (N, T, H) and the values needed for the backward pass.
  """
  h, cache = None, None
  #############################################################################
  # TODO: Implement the forward pass for an LSTM over an entire timeseries.   #
  # You should use the lstm_step_forward function that you just defined.      #
  #############################################################################
  N, T, D = x.shape
  H = h0.shape[1]
  h = np.zeros((N, T, H))
  c = np.zeros((N, H))
  prev_h = h0
  cache = []
  for t in range(T):
    prev_h, c, step_cache = lstm_step_forward(x[:, t, :], prev_h, c, Wx, Wh, b)
    h[:, t, :] = prev_h
    cache.append(step_cache)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################

  return h, cache


def lstm_backward(dh, cache):
  """
  Backward pass for an LSTM over an entire sequence of data.
  Returns dx, dh0, dWx, dWh, db.
  """
  dx, dh0, dWx, dWh, db = None, None, None, None, None
  #############################################################################
  # TODO: Implement the backward pass for an LSTM over an entire timeseries.  #
  # You should use the lstm_step_backward function that you just defined.     #
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
    dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(dh[:, t, :] + dprev_h, dprev_c, cache[t])
    dx[:, t, :] = dx_t
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
  Forward pass for a temporal affine layer. x: (N, T, D), w: (D, M), b: (M,).
  Returns out (N, T, M) and cache.
  """
  N, T, D = x.shape
  M = b.shape[0]
  out = x.reshape(N * T, D).dot(w).reshape(N, T, M) + b
  cache = x, w, b, out
  return out, cache


def temporal_affine_backward(dout, cache):
  """
  Backward pass for temporal affine layer. Returns dx, dw, db.
  """
  x, w, b, out = cache
  N, T, D = x.shape
  M = b.shape[0]

  dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
  dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
  db = dout.sum(axis=(0, 1))

  return dx, dw, db


def temporal_softmax_loss(x, y, mask, verbose=False):
  """
  A temporal version of softmax loss for use in RNNs: cross-entropy summed over
  the timesteps mask keeps, averaged across the minibatch.
  Returns loss and dx (N, T, V).
  """

  N, T, V = x.shape
  
  x_flat = x.reshape(N * T, V)
  y_flat = y.reshape(N * T)
  mask_flat = mask.reshape(N * T)
  
  probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
  probs /= np.sum(probs, axis=1, keepdims=True)
  loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
  dx_flat = probs.copy()
  dx_flat[np.arange(N * T), y_flat] -= 1
  dx_flat /= N
  dx_flat *= mask_flat[:, None]
  
  if verbose: print 'dx_flat: ', dx_flat.shape
  
  dx = dx_flat.reshape(N, T, V)
  
  return loss, dx
