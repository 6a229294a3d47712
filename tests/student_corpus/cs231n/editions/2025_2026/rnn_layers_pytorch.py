"""This file defines layer types that are commonly used for recurrent neural networks.
"""
import torch


def affine_forward(x, w, b):
    """Computes the forward pass for an affine (fully connected) layer.

    x: (N, d_1, ..., d_k), w: (D, M), b: (M,). Returns out (N, M).
    """
    out = x.reshape(x.shape[0], -1) @ w + b
    return out


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """Run the forward pass for a single timestep of a vanilla RNN using a tanh activation function.

    x: (N, D), prev_h: (N, H), Wx: (D, H), Wh: (H, H), b: (H,). Returns next_h (N, H).
    """
    next_h = None
    ##############################################################################
    # TODO: Implement a single forward step for the vanilla RNN.                 #
    ##############################################################################
    next_h = torch.tanh(torch.addmm(b, x, Wx) + prev_h @ Wh)
    ##############################################################################
    #                               END OF YOUR CODE                             #
    ##############################################################################
    return next_h


def rnn_forward(x, h0, Wx, Wh, b):
    """Run a vanilla RNN forward on an entire sequence of data.

    x: (N, T, D), h0: (N, H). Returns h (N, T, H).
    """
    h = None
    ##############################################################################
    # TODO: Implement forward pass for a vanilla RNN running on a sequence of    #
    # input data. You should use the rnn_step_forward function that you defined  #
    # above. You can use a for loop to help compute the forward pass.            #
    ##############################################################################
    states = []
    prev_h = h0
    for t in range(x.shape[1]):
        prev_h = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        states.append(prev_h)
    h = torch.stack(states, dim=1)
    ##############################################################################
    #                               END OF YOUR CODE                             #
    ##############################################################################
    return h


def word_embedding_forward(x, W):
    """Forward pass for word embeddings.

    x: integer array (N, T), W: (V, D). Returns out (N, T, D).
    """
    out = None
    ##############################################################################
    # TODO: Implement the forward pass for word embeddings.                      #
    #                                                                            #
    # HINT: This can be done in one line using Pytorch's array indexing.         #
    ##############################################################################
    out = W[x]
    ##############################################################################
    #                               END OF YOUR CODE                             #
    ##############################################################################
    return out


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """Forward pass for a single timestep of an LSTM.

    Returns next_h, next_c (N, H).
    """
    next_h, next_c = None, None
    #############################################################################
    # TODO: Implement the forward pass for a single timestep of an LSTM.        #
    #############################################################################
    # 
    ##############################################################################
    #                               END OF YOUR CODE                             #
    ##############################################################################

    return next_h, next_c


def lstm_forward(x, h0, Wx, Wh, b):
    """Forward pass for an LSTM over an entire sequence of data.

    Returns h (N, T, H).
    """
    h = None
    #############################################################################
    # TODO: Implement the forward pass for an LSTM over an entire timeseries.   #
    # You should use the lstm_step_forward function that you just defined.      #
    #############################################################################
    # 
    ##############################################################################
    #                               END OF YOUR CODE                             #
    ##############################################################################

    return h


def temporal_affine_forward(x, w, b):
    """Forward pass for a temporal affine layer.

    x: (N, T, D), w: (D, M), b: (M,). Returns out (N, T, M).
    """
    N, T, D = x.shape
    M = b.shape[0]
    out = (x.reshape(N * T, D) @ w).reshape(N, T, M) + b
    return out


def temporal_softmax_loss(x, y, mask, verbose=False):
    """A temporal version of softmax loss for use in RNNs.

    x: (N, T, V) scores, y: (N, T) labels, mask: boolean (N, T). Returns the loss.
    """

    N, T, V = x.shape

    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)

    loss = torch.nn.functional.cross_entropy(x_flat, y_flat, reduction='none')
    loss = loss * mask_flat.float()
    loss = loss.sum() / N

    return loss
