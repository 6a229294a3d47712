import numpy as np


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


class VanillaRNN(object):
	def __init__(self, input_dim, h_dim, init_scale=0.02, name='vanilla_rnn'):
		self.name = name
		self.wx_name = name + "_wx"
		self.wh_name = name + "_wh"
		self.b_name = name + "_b"
		self.input_dim = input_dim
		self.h_dim = h_dim
		self.params = {}
		self.grads = {}
		self.params[self.wx_name] = init_scale * np.random.randn(input_dim, h_dim)
		self.params[self.wh_name] = init_scale * np.random.randn(h_dim, h_dim)
		self.params[self.b_name] = np.zeros(h_dim)
		self.grads[self.wx_name] = None
		self.grads[self.wh_name] = None
		self.grads[self.b_name] = None
		self.meta = None

	def step_forward(self, x, prev_h):
		# given: the one step forward pass
		next_h = np.tanh(x.dot(self.params[self.wx_name]) + prev_h.dot(self.params[self.wh_name])
						 + self.params[self.b_name])
		meta = [x, prev_h, next_h]
		return next_h, meta

	def step_backward(self, dnext_h, meta):
		# given: the one step backward pass
		x, prev_h, next_h = meta
		dpre = dnext_h * (1 - next_h ** 2)
		dx = dpre.dot(self.params[self.wx_name].T)
		dprev_h = dpre.dot(self.params[self.wh_name].T)
		dWx = x.T.dot(dpre)
		dWh = prev_h.T.dot(dpre)
		db = np.sum(dpre, axis=0)
		return dx, dprev_h, dWx, dWh, db

	def forward(self, x, h0):
		N, T, D = x.shape
		H = h0.shape[1]
		h = np.zeros((N, T, H))
		self.meta = []
		prev_h = h0
		for t in range(T):
			prev_h, meta = self.step_forward(x[:, t, :], prev_h)
			h[:, t, :] = prev_h
			self.meta.append(meta)
		return h

	def backward(self, dh):
		N, T, H = dh.shape
		D = self.meta[0][0].shape[1]
		dx = np.zeros((N, T, D))
		dprev_h = np.zeros((N, H))
		self.grads[self.wx_name] = np.zeros((D, H))
		self.grads[self.wh_name] = np.zeros((H, H))
		self.grads[self.b_name] = np.zeros(H)
		for t in reversed(range(T)):
			dx[:, t, :], dprev_h, dWx, dWh, db = self.step_backward(dh[:, t, :] + dprev_h,
																	self.meta[t])
			self.grads[self.wx_name] += dWx
			self.grads[self.wh_name] += dWh
			self.grads[self.b_name] += db
		self.meta = []
		return dx, dprev_h


class LSTM(object):
	def __init__(self, input_dim, h_dim, init_scale=0.02, name='lstm'):
		self.name = name
		self.wx_name = name + "_wx"
		self.wh_name = name + "_wh"
		self.b_name = name + "_b"
		self.input_dim = input_dim
		self.h_dim = h_dim
		self.params = {}
		self.grads = {}
		self.params[self.wx_name] = init_scale * np.random.randn(input_dim, 4 * h_dim)
		self.params[self.wh_name] = init_scale * np.random.randn(h_dim, 4 * h_dim)
		self.params[self.b_name] = np.zeros(4 * h_dim)
		self.grads[self.wx_name] = None
		self.grads[self.wh_name] = None
		self.grads[self.b_name] = None
		self.meta = None

	def step_forward(self, x, prev_h, prev_c):
		H = prev_h.shape[1]
		a = x.dot(self.params[self.wx_name]) + prev_h.dot(self.params[self.wh_name]) \
			+ self.params[self.b_name]
		i = sigmoid(a[:, 0:H])
		f = sigmoid(a[:, H:2 * H])
		o = sigmoid(a[:, 2 * H:3 * H])
		g = np.tanh(a[:, 3 * H:4 * H])
		next_c = f * prev_c + i * g
		next_h = o * np.tanh(next_c)
		meta = [x, prev_h, prev_c, i, f, o, g, next_c]
		return next_h, next_c, meta

	def step_backward(self, dnext_h, dnext_c, meta):
		x, prev_h, prev_c, i, f, o, g, next_c = meta
		tc = np.tanh(next_c)
		dc = dnext_c + dnext_h * o * (1 - tc * tc)
		di = dc * g * i * (1 - i)
		df = dc * prev_c * f * (1 - f)
		do = dnext_h * tc * o * (1 - o)
		dg = dc * i * (1 - g * g)
		da = np.concatenate((di, df, do, dg), axis=1)
		dx = da.dot(self.params[self.wx_name].T)
		dprev_h = da.dot(self.params[self.wh_name].T)
		dprev_c = dc * f
		return dx, dprev_h, dprev_c, x.T.dot(da), prev_h.T.dot(da), np.sum(da, axis=0)

	def forward(self, x, h0):
		N, T, D = x.shape
		H = h0.shape[1]
		h = np.zeros((N, T, H))
		self.meta = []
		prev_h, prev_c = h0, np.zeros((N, H))
		for t in range(T):
			prev_h, prev_c, meta = self.step_forward(x[:, t, :], prev_h, prev_c)
			h[:, t, :] = prev_h
			self.meta.append(meta)
		return h

	def backward(self, dh):
		N, T, H = dh.shape
		D = self.meta[0][0].shape[1]
		dx = np.zeros((N, T, D))
		dprev_h = np.zeros((N, H))
		dprev_c = np.zeros((N, H))
		dWx, dWh, db = np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H)
		for t in reversed(range(T)):
			step = self.step_backward(dh[:, t, :] + dprev_h, dprev_c, self.meta[t])
			dx[:, t, :], dprev_h, dprev_c = step[0], step[1], step[2]
			dWx += step[3]
			dWh += step[4]
			db += step[5]
		self.grads[self.wx_name] = dWx
		self.grads[self.wh_name] = dWh
		self.grads[self.b_name] = db
		self.meta = []
		return dx, dprev_h


class word_embedding(object):
	def __init__(self, voc_dim, vec_dim, name="we"):
		self.name = name
		self.w_name = name + "_w"
		self.voc_dim = voc_dim
		self.vec_dim = vec_dim
		self.params = {}
		self.grads = {}
		self.params[self.w_name] = np.random.randn(voc_dim, vec_dim)
		self.grads[self.w_name] = None
		self.meta = None

	def forward(self, x):
		out = self.params[self.w_name][x, :]
		self.meta = [out, x]
		return out

	def backward(self, dout):
		out, x = self.meta
		dW = np.zeros_like(self.params[self.w_name])
		np.add.at(dW, x, dout)
		self.grads[self.w_name] = dW


class temporal_fc(object):
	def __init__(self, input_dim, output_dim, init_scale=0.02, name='t_fc'):
		self.name = name
		self.w_name = name + "_w"
		self.b_name = name + "_b"
		self.input_dim = input_dim
		self.output_dim = output_dim
		self.params = {}
		self.grads = {}
		self.params[self.w_name] = init_scale * np.random.randn(input_dim, output_dim)
		self.params[self.b_name] = np.zeros(output_dim)
		self.grads[self.w_name] = None
		self.grads[self.b_name] = None
		self.meta = None

	def forward(self, x):
		N, T, D = x.shape
		M = self.params[self.b_name].shape[0]
		out = x.reshape(N * T, D).dot(self.params[self.w_name]).reshape(N, T, M) \
			+ self.params[self.b_name]
		self.meta = [x, out]
		return out

	def backward(self, dout):
		x, out = self.meta
		N, T, D = x.shape
		M = self.params[self.b_name].shape[0]
		dx = dout.reshape(N * T, M).dot(self.params[self.w_name].T).reshape(N, T, D)
		self.grads[self.w_name] = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
		self.grads[self.b_name] = dout.sum(axis=(0, 1))
		return dx


class temporal_softmax_loss(object):
	def __init__(self, dim_average=True):
		"""
		dim_average: if dividing by the input dimension or not
		"""
		self.dim_average = dim_average
		self.dLoss = None
		self.label = None

	def forward(self, feat, label, mask):
		N, T, V = feat.shape
		feat_flat = feat.reshape(N * T, V)
		label_flat = label.reshape(N * T)
		mask_flat = mask.reshape(N * T)
		probs = np.exp(feat_flat - np.max(feat_flat, axis=1, keepdims=True))
		probs /= np.sum(probs, axis=1, keepdims=True)
		loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), label_flat]))
		if self.dim_average:
			loss /= N
		self.dLoss = probs.copy()
		self.label = label
		self.mask = mask
		return loss

	def backward(self):
		N, T = self.label.shape
		dLoss = self.dLoss
		if dLoss is None:
			raise ValueError("No forward function called before for this module!")
		dLoss[np.arange(dLoss.shape[0]), self.label.reshape(N * T)] -= 1.0
		if self.dim_average:
			dLoss /= N
		dLoss *= self.mask.reshape(N * T)[:, None]
		self.dLoss = dLoss
		return dLoss.reshape(N, T, -1)
