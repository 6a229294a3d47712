import torch
import math
import torch.nn as nn
from a4_helper import *
from torch.nn.parameter import Parameter


def hello():
  """
  This is a sample function that we will try to import and run to ensure that
  our environment is correctly set up on Google Colab.
  """
  print('Hello from rnn_lstm_attention_captioning.py!')


class FeatureExtractor(object):
  """
  Image feature extraction with MobileNet.
  """
  def __init__(self, pooling=False, verbose=False,
               device='cpu', dtype=torch.float32):

    from torchvision import transforms, models
    self.preprocess = transforms.Compose([
      transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    self.device, self.dtype = device, dtype
    self.mobilenet = models.mobilenet_v2(pretrained=True).to(device)
    self.mobilenet = nn.Sequential(*list(self.mobilenet.children())[:-1])

  def extract_mobilenet_feature(self, img, verbose=False):
    num_img = img.shape[0]
    img_prepro = []
    for i in range(num_img):
      img_prepro.append(self.preprocess(img[i].type(self.dtype).div(255.)))
    img_prepro = torch.stack(img_prepro).to(self.device)
    with torch.no_grad():
      feat = self.mobilenet(img_prepro)
    return feat


##############################################################################
# Recurrent Neural Networks                                                  #
##############################################################################

def rnn_step_forward(x, prev_h, Wx, Wh, b):
  """
  Run the forward pass for a single timestep of a vanilla RNN that uses a tanh
  activation function. Returns next_h and cache.
  """
  next_h, cache = None, None
  ##############################################################################
  # TODO: Implement a single forward step for the vanilla RNN. Store the next  #
  # hidden state and any values you need for the backward pass in the next_h   #
  # and cache variables respectively.                                          #
  ##############################################################################
  # Replace "pass" statement with your code
  pre = torch.mm(x, Wx) + torch.mm(prev_h, Wh) + b
  next_h = torch.tanh(pre)
  cache = (x, prev_h, Wx, Wh, pre)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return next_h, cache


def rnn_step_backward(dnext_h, cache):
  """
  Backward pass for a single timestep of a vanilla RNN.
  Returns dx, dprev_h, dWx, dWh, db.
  """
  dx, dprev_h, dWx, dWh, db = None, None, None, None, None
  ##############################################################################
  # TODO: Implement the backward pass for a single step of a vanilla RNN.      #
  ##############################################################################
  # Replace "pass" statement with your code
  x, prev_h, Wx, Wh, pre = cache
  dpre = dnext_h * (1 - torch.tanh(pre) ** 2)
  dx = torch.mm(dpre, Wx.t())
  dprev_h = torch.mm(dpre, Wh.t())
  dWx = torch.mm(x.t(), dpre)
  dWh = torch.mm(prev_h.t(), dpre)
  db = torch.sum(dpre, dim=0)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return dx, dprev_h, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b):
  """
  Run a vanilla RNN forward on an entire sequence of data.
  Returns h (N, T, H) and cache.
  """
  h, cache = None, None
  ##############################################################################
  # TODO: Implement forward pass for a vanilla RNN running on a sequence of    #
  # input data. You should use the rnn_step_forward function that you defined  #
  # above. You can use a for loop to help compute the forward pass.            #
  ##############################################################################
  # Replace "pass" statement with your code
  N, T, D = x.shape
  H = h0.shape[1]
  h = torch.zeros(N, T, H, dtype=x.dtype, device=x.device)
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
  Compute the backward pass for a vanilla RNN over an entire sequence of data.
  Returns dx, dh0, dWx, dWh, db.
  """
  dx, dh0, dWx, dWh, db = None, None, None, None, None
  ##############################################################################
  # TODO: Implement the backward pass for a vanilla RNN running an entire      #
  # sequence of data. You should use the rnn_step_backward function that you  #
  # defined above. You can use a for loop to help compute the backward pass.  #
  ##############################################################################
  # Replace "pass" statement with your code
  N, T, H = dh.shape
  D = cache[0][0].shape[1]
  dx = torch.zeros(N, T, D, dtype=dh.dtype, device=dh.device)
  dWx = torch.zeros(D, H, dtype=dh.dtype, device=dh.device)
  dWh = torch.zeros(H, H, dtype=dh.dtype, device=dh.device)
  db = torch.zeros(H, dtype=dh.dtype, device=dh.device)
  dh0 = torch.zeros(N, H, dtype=dh.dtype, device=dh.device)
  for t in reversed(range(T)):
    dxt, dh0, dWxt, dWht, dbt = rnn_step_backward(dh[:, t, :] + dh0, cache[t])
    dx[:, t, :] = dxt
    dWx += dWxt
    dWh += dWht
    db += dbt
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return dx, dh0, dWx, dWh, db


class RNN(nn.Module):
  """
  A single-layer vanilla RNN module.
  """
  def __init__(self, input_size, hidden_size, device='cpu',
                dtype=torch.float32):
    super().__init__()
    self.Wx = Parameter(torch.randn(input_size, hidden_size,
                       device=device, dtype=dtype).div(math.sqrt(input_size)))
    self.Wh = Parameter(torch.randn(hidden_size, hidden_size,
                       device=device, dtype=dtype).div(math.sqrt(hidden_size)))
    self.b = Parameter(torch.zeros(hidden_size,
                       device=device, dtype=dtype))

  def forward(self, x, h0):
    hn, _ = rnn_forward(x, h0, self.Wx, self.Wh, self.b)
    return hn

  def step_forward(self, x, prev_h):
    next_h, _ = rnn_step_forward(x, prev_h, self.Wx, self.Wh, self.b)
    return next_h


class WordEmbedding(nn.Module):
  """
  Simplified version of torch.nn.Embedding.
  """
  def __init__(self, vocab_size, embed_size,
               device='cpu', dtype=torch.float32):
    super().__init__()
    self.W_embed = Parameter(torch.randn(vocab_size, embed_size,
                       device=device, dtype=dtype).div(math.sqrt(vocab_size)))

  def forward(self, x):
    out = None
    ##############################################################################
    # TODO: Implement the forward pass for word embeddings.                      #
    ##############################################################################
    # Replace "pass" statement with your code
    out = self.W_embed[x, :]
    ##############################################################################
    #                               END OF YOUR CODE                             #
    ##############################################################################
    return out


def temporal_softmax_loss(x, y, ignore_index=None):
  """
  A temporal version of softmax loss for use in RNNs: summed over timesteps,
  averaged across the minibatch; labels equal to ignore_index are ignored.
  """
  loss = None
  ##############################################################################
  # TODO: Implement the temporal softmax loss function.                        #
  # REQUIREMENT: This part MUST be done in one single line of code!            #
  ##############################################################################
  # Replace "pass" statement with your code
  loss = F.cross_entropy(x.reshape(-1, x.shape[2]), y.reshape(-1), ignore_index=ignore_index, reduction='sum') / x.shape[0]
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################
  return loss


##############################################################################
# LSTM                                                                       #
##############################################################################

def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, attn=None, Wattn=None):
  """
  Forward pass for a single timestep of an LSTM (with attention when attn is
  given). Returns next_h and next_c.
  """
  next_h, next_c = None, None
  #############################################################################
  # TODO: Implement the forward pass for a single timestep of an LSTM.        #
  #############################################################################
  # Replace "pass" statement with your code
  H = prev_h.shape[1]
  a = torch.mm(x, Wx) + torch.mm(prev_h, Wh) + b
  if attn is not None:
    a = a + torch.mm(attn, Wattn)
  i = torch.sigmoid(a[:, 0:H])
  f = torch.sigmoid(a[:, H:2 * H])
  o = torch.sigmoid(a[:, 2 * H:3 * H])
  g = torch.tanh(a[:, 3 * H:4 * H])
  next_c = f * prev_c + i * g
  next_h = o * torch.tanh(next_c)
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################

  return next_h, next_c


def lstm_forward(x, h0, Wx, Wh, b):
  """
  Forward pass for an LSTM over an entire sequence of data; c0 is zero.
  Returns h (N, T, H).
  """
  h = None
  c0 = torch.zeros_like(h0) # we provide the intial cell state c0 here for you!
  #############################################################################
  # TODO: Implement the forward pass for an LSTM over an entire timeseries.   #
  # You should use the lstm_step_forward function that you just defined.      #
  #############################################################################
  # Replace "pass" statement with your code
  N, T, D = x.shape
  h = torch.zeros(N, T, h0.shape[1], dtype=x.dtype, device=x.device)
  prev_h, prev_c = h0, c0
  for t in range(T):
    prev_h, prev_c = lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
    h[:, t, :] = prev_h
  ##############################################################################
  #                               END OF YOUR CODE                             #
  ##############################################################################

  return h


class LSTM(nn.Module):
  """
  A single-layer LSTM module.
  """
  def __init__(self, input_size, hidden_size, device='cpu',
                dtype=torch.float32):
    super().__init__()
    self.Wx = Parameter(torch.randn(input_size, hidden_size*4,
                       device=device, dtype=dtype).div(math.sqrt(input_size)))
    self.Wh = Parameter(torch.randn(hidden_size, hidden_size*4,
                       device=device, dtype=dtype).div(math.sqrt(hidden_size)))
    self.b = Parameter(torch.zeros(hidden_size*4,
                       device=device, dtype=dtype))

  def forward(self, x, h0):
    hn = lstm_forward(x, h0, self.Wx, self.Wh, self.b)
    return hn

  def step_forward(self, x, prev_h, prev_c):
    next_h, next_c = lstm_step_forward(x, prev_h, prev_c, self.Wx, self.Wh, self.b)
    return next_h, next_c
