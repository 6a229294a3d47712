"""The mutation table: single-bug variants of the reference solutions.

Each :class:`Mutant` is one small source edit (``old`` -> ``new``) of the reference
solution written to one API (tests/reference_solutions/), the user function the
``verify`` report must fail (FAIL or ERROR), and, for a value bug, the tensor it
must name. :func:`build` writes the mutated module into a directory at test time;
it insists that ``old`` occurs exactly once in the reference, so the table cannot
silently rot when a reference solution changes.

The bugs are the ones people make in hand-written backprop: wrong activation
derivatives, upstream gradients not carried across time (the cell-state gradient
dropped or zeroed at every step), gradients averaged instead of summed or assigned
instead of accumulated, repeated embedding indices dropped, masks ignored, off-by-one
time loops, transposed or square-only shape "fixes", sums over the wrong axis, gate
blocks out of order, the step input cached where the step output belongs, an
uninitialised (``np.empty``) cell state, a softmax shifted by the global maximum,
the label's 1 never subtracted, ``dim_average`` ignored in the backward, wrong return
structures, and for the class APIs stale caches, gradients accumulated across calls
and weights captured at construction or first use. Each makes ``verify`` exit 1
with FAIL or ERROR on the function it names (MISSING for one that returns None).

:data:`HAZARDS` are edits whose values stay right but whose code is hazardous: it
changes an array its caller passed, returns float64 for float32 input, raises
floating-point flags, or takes the log of probabilities (fails only where just a
log-sum-exp formulation survives). ``verify`` must warn, with the mutant's
``warning`` kind, and exit 0; ``--strict`` turns the warning into exit status 1.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import course_mutants

REFERENCE_DIR = Path(__file__).resolve().parent / "reference_solutions"

# api -> (directory under reference_solutions, module file inside it)
MODULES = {
    "cs231n": ("cs231n", "rnn_layers.py"),
    "hw3": ("hw3", "DL/layer/recurrent_layers.py"),
    "params": ("params", "layer_utils.py"),
}


# kinds of warning a hazard gets (the words the report uses for them)
ARGUMENT_MODIFIED = "argument-modified"
DTYPE = "dtype"
FLOATING_POINT = "floating-point"
LOG_SUM_EXP = "log-sum-exp"
WARNING_KINDS = (ARGUMENT_MODIFIED, DTYPE, FLOATING_POINT, LOG_SUM_EXP)


@dataclass(frozen=True)
class Mutant:
    """One bug. tensor: the failing tensor the report must name (None: the function
    fails as a whole, e.g. it raises or returns the wrong structure). warning: for a
    hazard, the kind of warning expected instead of a failure (one of
    :data:`WARNING_KINDS`); None for a value bug. module: the file to edit when it is
    not the API's module (a handout with one file per class)."""

    api: str
    name: str
    function: str
    tensor: str | None
    old: str
    new: str
    warning: str | None = None
    module: str | None = None

    @property
    def test_name(self) -> str:
        return f"{self.api}__{self.name}"


def reference_module(api: str, module: str | None = None) -> Path:
    directory, default = MODULES[api]
    return REFERENCE_DIR / directory / (module or default)


def build(mutant: Mutant, directory: Path) -> Path:
    """Copy the reference of ``mutant.api`` under ``directory`` with the edit applied;
    the path of the mutated module file."""
    source_dir, module = MODULES[mutant.api]
    target_dir = Path(directory) / source_dir
    shutil.copytree(REFERENCE_DIR / source_dir, target_dir,
                    ignore=shutil.ignore_patterns("__pycache__"))
    target = target_dir / (mutant.module or module)
    text = target.read_text(encoding="utf-8")
    count = text.count(mutant.old)
    if count != 1:
        raise AssertionError(f"{mutant.test_name}: the snippet to replace occurs {count} "
                             f"times in {reference_module(mutant.api, mutant.module)} "
                             f"(must be once):\n"
                             f"{mutant.old}")
    target.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
    return target


def _table(api, rows):
    return [Mutant(api, *row) for row in rows]


def _hazards(api, rows):
    """rows of (name, function, tensor, warning kind, old, new)."""
    return [Mutant(api, name, function, tensor, old, new, kind)
            for name, function, tensor, kind, old, new in rows]


CS231N = _table("cs231n", [
    # vanilla RNN, one step
    ("rnn_step_tanh_of_output", "rnn_step_backward", "dx",
     "dpre = dnext_h * (1.0 - next_h * next_h)",
     "dpre = dnext_h * (1.0 - np.tanh(next_h) ** 2)"),
    ("rnn_step_dWh_transposed", "rnn_step_backward", "dWh",
     "dWh = prev_h.T @ dpre", "dWh = dpre.T @ prev_h"),
    ("rnn_step_dprev_h_square_only", "rnn_step_backward", "dprev_h",
     "dprev_h = dpre @ Wh.T", "dprev_h = dpre @ Wh"),
    ("rnn_step_dWx_shape_fix", "rnn_step_backward", "dWx",
     "dWx = x.T @ dpre", "dWx = dpre.T @ x"),
    ("rnn_step_db_averaged", "rnn_step_backward", "db",
     "db = dpre.sum(axis=0)", "db = dpre.mean(axis=0)"),
    ("rnn_step_no_bias", "rnn_step_forward", "next_h",
     "pre_activation = x @ Wx + prev_h @ Wh + b", "pre_activation = x @ Wx + prev_h @ Wh"),
    ("rnn_step_forward_no_return", "rnn_step_forward", None,
     "    return next_h, (x, prev_h, Wx, Wh, next_h)",
     "    cache = (x, prev_h, Wx, Wh, next_h)"),
    ("rnn_step_backward_four_values", "rnn_step_backward", None,
     "return dx, dprev_h, dWx, dWh, db", "return dx, dprev_h, dWx, dWh"),
    # vanilla RNN, sequence
    # np.squeeze of a (N, H) slice: (N,) at H=1, broadcast against (N, 1) (a 2016 student)
    ("rnn_backward_squeezed_upstream", "rnn_backward", None,
     "step_grads = rnn_step_backward(dh[:, t, :] + carried, cache[t])",
     "step_grads = rnn_step_backward(np.squeeze(dh[:, t, :]) + carried, cache[t])"),
    # sized by the notebook's D = 3 (a 2017 student)
    ("rnn_backward_hard_coded_D", "rnn_backward", None,
     "    D = cache[0][0].shape[1]\n    dx = np.zeros((N, T, D), dtype=dh.dtype)\n"
     "    dWx = np.zeros((D, H)",
     "    D = 3\n    dx = np.zeros((N, T, D), dtype=dh.dtype)\n    dWx = np.zeros((D, H)"),
    ("rnn_upstream_not_carried", "rnn_backward", "dx",
     "step_grads = rnn_step_backward(dh[:, t, :] + carried, cache[t])",
     "step_grads = rnn_step_backward(dh[:, t, :], cache[t])"),
    ("rnn_dWx_assigned", "rnn_backward", "dWx", "dWx += dWx_t", "dWx = dWx_t"),
    ("rnn_backward_skips_t0", "rnn_backward", "dx",
     "for t in reversed(range(T)):", "for t in reversed(range(1, T)):"),
    ("rnn_forward_skips_last_step", "rnn_forward", "h",
     "    for t in range(T):\n        state, step_cache",
     "    for t in range(T - 1):\n        state, step_cache"),
    ("rnn_forward_h0_every_step", "rnn_forward", "h",
     "rnn_step_forward(x[:, t, :], state, Wx, Wh, b)",
     "rnn_step_forward(x[:, t, :], h0, Wx, Wh, b)"),
    # word embedding, sigmoid
    ("embedding_repeated_indices_dropped", "word_embedding_backward", "dW",
     "np.add.at(dW, x, dout)", "dW[x] += dout"),
    # LSTM, one step
    ("lstm_gates_o_g_swapped_forward", "lstm_step_forward", "next_h",
     "o = sigmoid(a[:, 2 * H:3 * H])\n    g = np.tanh(a[:, 3 * H:])",
     "o = sigmoid(a[:, 3 * H:])\n    g = np.tanh(a[:, 2 * H:3 * H])"),
    ("lstm_gates_o_g_swapped_backward", "lstm_step_backward", "dWx",
     "np.concatenate((da_i, da_f, da_o, da_g), axis=1)",
     "np.concatenate((da_i, da_f, da_g, da_o), axis=1)"),
    ("lstm_forget_gate_derivative", "lstm_step_backward", "dWx",
     "da_f = dc * prev_c * f * (1.0 - f)", "da_f = dc * prev_c * (1.0 - f)"),
    ("lstm_tanh_c_derivative", "lstm_step_backward", "dprev_c",
     "dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)",
     "dc = dnext_c + dnext_h * o * (1.0 - tanh_c)"),
    ("lstm_dnext_c_ignored", "lstm_step_backward", "dprev_c",
     "dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)",
     "dc = dnext_h * o * (1.0 - tanh_c ** 2)"),
    ("lstm_dprev_c_without_forget_gate", "lstm_step_backward", "dprev_c",
     "dprev_c = dc * f", "dprev_c = dc"),
    ("lstm_next_h_without_tanh", "lstm_step_forward", "next_h",
     "next_h = o * tanh_c", "next_h = o * next_c"),
    # LSTM, sequence
    ("lstm_cell_gradient_not_carried", "lstm_backward", "dx",
     "dx[:, t, :], dhidden, dcell = step[:3]", "dx[:, t, :], dhidden = step[:2]"),
    ("lstm_hidden_gradient_not_carried", "lstm_backward", "dh0",
     "lstm_step_backward(dh[:, t, :] + dhidden, dcell, cache[t])",
     "lstm_step_backward(dh[:, t, :], dcell, cache[t])"),
    ("lstm_weight_gradients_assigned", "lstm_backward", "dWx",
     "total += part", "total[...] = part"),
    ("lstm_cell_reset_every_step", "lstm_forward", "h",
     "lstm_step_forward(x[:, t, :], hidden, cell, Wx, Wh, b)",
     "lstm_step_forward(x[:, t, :], hidden, np.zeros_like(cell), Wx, Wh, b)"),
    ("lstm_initial_cell_is_h0", "lstm_forward", "h",
     "hidden, cell = h0, np.zeros_like(h0)", "hidden, cell = h0, h0"),
    # temporal affine
    ("affine_db_averaged", "temporal_affine_backward", "db",
     "db = flat_dout.sum(axis=0)", "db = flat_dout.mean(axis=0)"),
    ("affine_dw_transposed", "temporal_affine_backward", "dw",
     "dw = x.reshape(N * T, D).T @ flat_dout", "dw = flat_dout.T @ x.reshape(N * T, D)"),
    ("affine_dx_square_only", "temporal_affine_backward", "dx",
     "dx = (flat_dout @ w.T).reshape(N, T, D)", "dx = (flat_dout @ w).reshape(N, T, D)"),
    ("affine_forward_no_bias", "temporal_affine_forward", "out",
     "out = (x.reshape(N * T, D) @ w).reshape(N, T, w.shape[1]) + b",
     "out = (x.reshape(N * T, D) @ w).reshape(N, T, w.shape[1])"),
    # temporal softmax loss
    ("softmax_mask_ignored_in_loss", "temporal_softmax_loss", "loss",
     "loss = -np.sum(weights * log_probs[rows, labels]) / N",
     "loss = -np.sum(log_probs[rows, labels]) / N"),
    ("softmax_mask_ignored_in_gradient", "temporal_softmax_loss", "dx",
     "dscores *= (weights / N)[:, None]", "dscores /= N"),
    ("softmax_loss_averaged_over_time", "temporal_softmax_loss", "loss",
     "loss = -np.sum(weights * log_probs[rows, labels]) / N",
     "loss = -np.sum(weights * log_probs[rows, labels]) / (N * T)"),
    ("softmax_not_shifted", "temporal_softmax_loss", None,
     "shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores"),
    # more of the bugs found in real submissions
    ("rnn_step_cache_prev_h_as_output", "rnn_step_backward", "dx",
     "    return next_h, (x, prev_h, Wx, Wh, next_h)",
     "    return next_h, (x, prev_h, Wx, Wh, prev_h)"),
    ("rnn_step_db_wrong_axis", "rnn_step_backward", "db",
     "db = dpre.sum(axis=0)", "db = dpre.sum(axis=1)"),
    ("rnn_dWh_assigned", "rnn_backward", "dWh", "dWh += dWh_t", "dWh = dWh_t"),
    ("lstm_dnext_c_zeroed_each_step", "lstm_backward", "dx",
     "lstm_step_backward(dh[:, t, :] + dhidden, dcell, cache[t])",
     "lstm_step_backward(dh[:, t, :] + dhidden, np.zeros_like(dcell), cache[t])"),
    ("lstm_initial_cell_uninitialised", "lstm_forward", None,
     "hidden, cell = h0, np.zeros_like(h0)", "hidden, cell = h0, np.empty_like(h0)"),
    ("softmax_sum_over_wrong_axis", "temporal_softmax_loss", "loss",
     "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
     "log_probs = shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))"),
    ("softmax_global_max_shift", "temporal_softmax_loss", None,
     "shifted = scores - scores.max(axis=1, keepdims=True)", "shifted = scores - scores.max()"),
    ("softmax_gradient_averaged_over_time", "temporal_softmax_loss", "dx",
     "dscores *= (weights / N)[:, None]", "dscores *= (weights / (N * T))[:, None]"),
    ("softmax_label_not_subtracted", "temporal_softmax_loss", "dx",
     "    dscores[rows, labels] -= 1\n", ""),
])

HW3 = _table("hw3", [
    # RNNLayer, one step
    ("rnn_step_tanh_derivative", "RNNLayer.backward_step", "dx",
     "dz = dnext_h * (1 - next_h ** 2)", "dz = dnext_h * (1 - next_h)"),
    ("rnn_step_dWh_transposed", "RNNLayer.backward_step", "dWh",
     "dWh = prev_h.T @ dz", "dWh = dz.T @ prev_h"),
    ("rnn_step_dprev_h_square_only", "RNNLayer.backward_step", "dprev_h",
     "dprev_h = dz @ Wh.T", "dprev_h = dz @ Wh"),
    ("rnn_step_db_averaged", "RNNLayer.backward_step", "db",
     "db = dz.sum(axis=0)", "db = dz.mean(axis=0)"),
    ("rnn_step_no_bias", "RNNLayer.forward_step", "next_h",
     "next_h = np.tanh(x @ Wx + prev_h @ Wh + b)", "next_h = np.tanh(x @ Wx + prev_h @ Wh)"),
    ("rnn_step_backward_four_values", "RNNLayer.backward_step", None,
     "return dx, dprev_h, dWx, dWh, db", "return dx, dprev_h, dWx, dWh"),
    ("rnn_weights_captured_at_init", "RNNLayer.forward_step", "next_h",
     "        self.b = np.zeros(h_dim)\n\n    def _weights(self):\n"
     "        return self.Wx, self.Wh, self.b\n",
     "        self.b = np.zeros(h_dim)\n        self._initial = (self.Wx, self.Wh, self.b)\n\n"
     "    def _weights(self):\n        return self._initial\n"),
    ("rnn_weights_copied_per_array", "RNNLayer.forward_step", "next_h",
     "        return self.Wx, self.Wh, self.b\n",
     "        memo = self.__dict__.setdefault('_memo', {})\n"
     "        return memo.setdefault(id(self.Wx), self.Wx.copy()), self.Wh, self.b\n"),
    # RNNLayer, sequence
    ("rnn_upstream_not_carried", "RNNLayer.backward", "dx",
     "upstream = dh[:, t, :] + carry", "upstream = dh[:, t, :]"),
    ("rnn_dWx_assigned", "RNNLayer.backward", "dWx", "dWx += dWx_t", "dWx = dWx_t"),
    ("rnn_backward_skips_t0", "RNNLayer.backward", "dx",
     "for t in reversed(range(T)):", "for t in reversed(range(1, T)):"),
    ("rnn_forward_skips_last_step", "RNNLayer.forward", "h",
     "for t in range(T):\n            prev, step_cache",
     "for t in range(T - 1):\n            prev, step_cache"),
    ("rnn_forward_h0_every_step", "RNNLayer.forward", "h",
     "self.forward_step(x[:, t, :], prev)", "self.forward_step(x[:, t, :], h0)"),
    ("rnn_forward_returns_tuple", "RNNLayer.forward", None,
     "h[:, t, :] = prev\n            self.cache.append(step_cache)\n        return h",
     "h[:, t, :] = prev\n            self.cache.append(step_cache)\n        return h, self.cache"),
    ("rnn_stale_cache_list", "RNNLayer.backward", "dWx",
     "        self.cache = []\n        prev = h0", "        self.cache = self.cache or []\n"
                                                 "        prev = h0"),
    ("rnn_grads_accumulate_across_calls", "RNNLayer.backward", "dWx",
     "dWx, dWh = np.zeros((D, H), dtype=dh.dtype), np.zeros((H, H), dtype=dh.dtype)",
     "dWx, dWh = self.grad.get('dWx', np.zeros((D, H))), np.zeros((H, H), dtype=dh.dtype)"),
    ("rnn_grad_key_misspelt", "RNNLayer.backward", None,
     '"dh0": carry, "dWx": dWx', '"dh_0": carry, "dWx": dWx'),
    # LSTMLayer, one step
    ("lstm_gates_o_g_swapped_forward", "LSTMLayer.forward_step", "next_h",
     "gate_o = _logistic(act[:, 2 * H:3 * H])\n        gate_g = np.tanh(act[:, 3 * H:4 * H])",
     "gate_o = _logistic(act[:, 3 * H:4 * H])\n        gate_g = np.tanh(act[:, 2 * H:3 * H])"),
    ("lstm_gates_i_f_swapped_backward", "LSTMLayer.backward_step", "dWx",
     "np.hstack([d_i, d_f, d_o, d_g])", "np.hstack([d_f, d_i, d_o, d_g])"),
    ("lstm_forget_gate_derivative", "LSTMLayer.backward_step", "dWx",
     "d_f = dcell * prev_c * gate_f * (1 - gate_f)", "d_f = dcell * prev_c * (1 - gate_f)"),
    ("lstm_tanh_c_derivative", "LSTMLayer.backward_step", "dprev_c",
     "dcell = dnext_c + dnext_h * gate_o * (1 - tanh_c * tanh_c)",
     "dcell = dnext_c + dnext_h * gate_o * (1 - tanh_c)"),
    ("lstm_dprev_c_without_forget_gate", "LSTMLayer.backward_step", "dprev_c",
     "dcell * gate_f, x.T @ d_act", "dcell, x.T @ d_act"),
    ("lstm_g_gate_sigmoid_derivative", "LSTMLayer.backward_step", "db",
     "d_g = dcell * gate_i * (1 - gate_g * gate_g)",
     "d_g = dcell * gate_i * gate_g * (1 - gate_g)"),
    ("lstm_next_h_without_tanh", "LSTMLayer.forward_step", "next_h",
     "next_h = gate_o * tanh_c", "next_h = gate_o * next_c"),
    ("lstm_wx_captured_at_first_call", "LSTMLayer.forward_step", "next_h",
     "act = x @ self.Wx + prev_h @ self.Wh + self.b",
     "act = x @ self.__dict__.setdefault('_wx0', self.Wx) + prev_h @ self.Wh + self.b"),
    # LSTMLayer, sequence
    ("lstm_cell_gradient_not_carried", "LSTMLayer.backward", "dx",
     'grads["dx"][:, t, :], dh_next, dc_next = step[0], step[1], step[2]',
     'grads["dx"][:, t, :], dh_next = step[0], step[1]'),
    ("lstm_dWh_assigned", "LSTMLayer.backward", "dWh",
     'grads["dWh"] += step[4]', 'grads["dWh"] = step[4]'),
    ("lstm_initial_cell_is_h0", "LSTMLayer.forward", "h",
     "h_t, c_t = h0, np.zeros_like(h0)", "h_t, c_t = h0, h0"),
    ("lstm_cell_reset_every_step", "LSTMLayer.forward", "h",
     "self.forward_step(x[:, t, :], h_t, c_t)",
     "self.forward_step(x[:, t, :], h_t, np.zeros_like(c_t))"),
    ("lstm_stale_cache_list", "LSTMLayer.backward", "dWx",
     "        self.cache = []\n        h_t, c_t", "        self.cache = self.cache or []\n"
                                                  "        h_t, c_t"),
    ("lstm_forward_zeroes_gradients_in_place", "LSTMLayer.backward", "dWx",
     "        self.cache = []\n        h_t, c_t",
     "        self.cache = []\n        [g.fill(0) for g in self.grad.values()]\n"
     "        h_t, c_t"),
    # more of the bugs found in real submissions
    ("rnn_step_cache_prev_h_as_output", "RNNLayer.backward_step", "dx",
     "return next_h, (x, prev_h, next_h, Wx, Wh)", "return next_h, (x, prev_h, prev_h, Wx, Wh)"),
    ("rnn_dWh_assigned", "RNNLayer.backward", "dWh", "dWh += dWh_t", "dWh = dWh_t"),
    ("lstm_db_wrong_axis", "LSTMLayer.backward_step", "db",
     "d_act.sum(axis=0))", "d_act.sum(axis=1))"),
    ("lstm_dnext_c_zeroed_each_step", "LSTMLayer.backward", "dx",
     "self.backward_step(dh[:, t, :] + dh_next, dc_next, self.cache[t])",
     "self.backward_step(dh[:, t, :] + dh_next, np.zeros_like(dc_next), self.cache[t])"),
    ("lstm_initial_cell_uninitialised", "LSTMLayer.forward", None,
     "h_t, c_t = h0, np.zeros_like(h0)", "h_t, c_t = h0, np.empty_like(h0)"),
    # GRULayer (2020): the bugs of the edition's GRU
    ("gru_update_gate_sense_of_the_book", "GRULayer.forward_step", "next_h",
     "next_h = gate_z * prev_h + (1 - gate_z) * candidate",
     "next_h = (1 - gate_z) * prev_h + gate_z * candidate"),
    ("gru_reset_after_the_product", "GRULayer.forward_step", "next_h",
     "(gate_r * prev_h) @ self.Whi + self.bi)", "gate_r * (prev_h @ self.Whi) + self.bi)"),
    ("gru_update_gradient_plus_one", "GRULayer.backward_step", "dx",
     "d_z = dnext_h * (prev_h - candidate) * gate_z * (1 - gate_z)",
     "d_z = (dnext_h * (candidate - prev_h) + 1) * gate_z * (1 - gate_z)"),
    ("gru_dWhi_without_reset_gate", "GRULayer.backward_step", None,
     "(gate_r * prev_h).T @ d_cand", "prev_h.T @ d_cand"),
    ("gru_dprev_h_without_reset_path", "GRULayer.backward_step", "dprev_h",
     "dprev_h = dnext_h * gate_z + d_reset_h * gate_r + d_gates @ Wh.T",
     "dprev_h = dnext_h * gate_z + d_gates @ Wh.T"),
    ("gru_gradients_assigned", "GRULayer.backward", None,
     "                grads[name] += value", "                grads[name] = value"),
    ("gru_upstream_not_carried", "GRULayer.backward", "dx",
     "self.backward_step(dh[:, t, :] + dh_next, self.cache[t])",
     "self.backward_step(dh[:, t, :], self.cache[t])"),
])

PARAMS = _table("params", [
    # VanillaRNN, one step
    ("rnn_step_no_bias", "VanillaRNN.step_forward", "next_h",
     "next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh) + self.params[self.b_name])",
     "next_h = np.tanh(x.dot(Wx) + prev_h.dot(Wh))"),
    ("rnn_step_tanh_of_output", "VanillaRNN.step_backward", "dx",
     "dtanh = (1 - np.square(next_h)) * dnext_h",
     "dtanh = (1 - np.square(np.tanh(next_h))) * dnext_h"),
    ("rnn_step_dWx_shape_fix", "VanillaRNN.step_backward", "dWx",
     "x.T.dot(dtanh), prev_h.T.dot(dtanh)", "dtanh.T.dot(x), prev_h.T.dot(dtanh)"),
    ("rnn_step_db_averaged", "VanillaRNN.step_backward", "db",
     "np.sum(dtanh, axis=0))", "np.mean(dtanh, axis=0))"),
    # VanillaRNN, sequence
    ("rnn_upstream_not_carried", "VanillaRNN.backward", "dh0",
     "self.step_backward(dh[:, t] + dstate, self.meta[t])",
     "self.step_backward(dh[:, t], self.meta[t])"),
    ("rnn_weight_gradients_assigned", "VanillaRNN.backward", "dWx",
     "total += grad", "total[...] = grad"),
    ("rnn_grads_key_hardcoded", "VanillaRNN.backward", None,
     "self.grads[self.wx_name], self.grads[self.wh_name], self.grads[self.b_name] = totals",
     "self.grads['vanilla_rnn_wx'], self.grads[self.wh_name], self.grads[self.b_name] = totals"),
    ("rnn_grads_accumulate_across_calls", "VanillaRNN.backward", "dWx",
     "totals = [np.zeros_like(self.params[k], dtype=dh.dtype)",
     "totals = [self.grads[k] if self.grads[k] is not None else np.zeros_like(self.params[k])"),
    ("rnn_stale_meta_list", "VanillaRNN.backward", "dWx",
     "        self.meta = []\n        state = h0", "        self.meta = self.meta or []\n"
                                                  "        state = h0"),
    ("rnn_backward_returns_swapped", "VanillaRNN.backward", "dx",
     "        return dx, dstate\n", "        return dstate, dx\n"),
    ("rnn_forward_skips_first_step", "VanillaRNN.forward", "h",
     "        for t in range(T):\n            state, step_meta",
     "        for t in range(1, T):\n            state, step_meta"),
    # LSTM
    ("lstm_gates_o_g_swapped_forward", "LSTM.step_forward", "next_h",
     "output_gate = sigmoid(activation[:, 2 * H:3 * H])\n"
     "        candidate = np.tanh(activation[:, 3 * H:])",
     "output_gate = sigmoid(activation[:, 3 * H:])\n"
     "        candidate = np.tanh(activation[:, 2 * H:3 * H])"),
    ("lstm_gates_o_g_swapped_backward", "LSTM.step_backward", "dWx",
     "np.concatenate([grad_i, grad_f, grad_o, grad_g], axis=1)",
     "np.concatenate([grad_i, grad_f, grad_g, grad_o], axis=1)"),
    ("lstm_output_gate_derivative", "LSTM.step_backward", "dWx",
     "grad_o = dnext_h * tanh_next_c * o * (1 - o)", "grad_o = dnext_h * tanh_next_c * (1 - o)"),
    ("lstm_tanh_c_derivative", "LSTM.step_backward", "dprev_c",
     "dc_total = dnext_c + dnext_h * o * (1 - np.square(tanh_next_c))",
     "dc_total = dnext_c + dnext_h * o * (1 - tanh_next_c)"),
    ("lstm_dprev_c_without_forget_gate", "LSTM.step_backward", "dprev_c",
     "dprev_c = dc_total * f", "dprev_c = dc_total"),
    ("lstm_next_h_without_tanh", "LSTM.step_forward", "next_h",
     "next_h = output_gate * np.tanh(next_c)", "next_h = output_gate * next_c"),
    ("lstm_cell_gradient_not_carried", "LSTM.backward", "dx",
     "dx[:, t], grad_h, grad_c, dWx_t, dWh_t, db_t = out",
     "dx[:, t], grad_h, _, dWx_t, dWh_t, db_t = out"),
    ("lstm_dWh_assigned", "LSTM.backward", "dWh", "dWh += dWh_t", "dWh = dWh_t"),
    ("lstm_initial_cell_is_h0", "LSTM.forward", "h",
     "prev_h, prev_c = h0, np.zeros(h0.shape, dtype=h0.dtype)", "prev_h, prev_c = h0, h0"),
    ("lstm_backward_returns_dx_only", "LSTM.backward", None,
     "        return dx, grad_h\n", "        return dx\n"),
    # word_embedding
    ("embedding_repeated_indices_dropped", "word_embedding.backward", "dW",
     "np.add.at(dW, self.words, dout)", "dW[self.words] += dout"),
    ("embedding_gradient_returned_not_stored", "word_embedding.backward", None,
     "        self.grads[self.w_name] = dW\n", "        return dW\n"),
    ("embedding_grads_accumulate_across_calls", "word_embedding.backward", "dW",
     "dW = np.zeros_like(self.params[self.w_name], dtype=dout.dtype)",
     "dW = self.grads[self.w_name] if self.grads[self.w_name] is not None else "
     "np.zeros_like(self.params[self.w_name])"),
    # temporal_fc
    ("fc_db_averaged", "temporal_fc.backward", "db",
     "dout.sum(axis=(0, 1))", "dout.mean(axis=(0, 1))"),
    ("fc_dw_transposed", "temporal_fc.backward", "dw",
     'np.einsum("ntd,ntm->dm", self.x, dout)', 'np.einsum("ntd,ntm->md", self.x, dout)'),
    ("fc_forward_no_bias", "temporal_fc.forward", "out",
     'return np.einsum("ntd,dm->ntm", x, self.params[self.w_name]) + self.params[self.b_name]',
     'return np.einsum("ntd,dm->ntm", x, self.params[self.w_name])'),
    ("fc_keeps_first_input", "temporal_fc.backward", "dw",
     "        self.x = x\n", "        self.x = x if self.x is None else self.x\n"),
    # temporal_softmax_CE_loss
    ("loss_mask_ignored", "temporal_softmax_CE_loss.forward", "loss",
     "loss = -np.sum(picked * keep) / divisor", "loss = -np.sum(picked) / divisor"),
    ("loss_mask_ignored_in_gradient", "temporal_softmax_CE_loss.backward", "dx",
     "grad *= keep[:, None] / divisor", "grad /= divisor"),
    ("loss_not_shifted", "temporal_softmax_CE_loss.forward", None,
     "z = logits - np.max(logits, axis=1, keepdims=True)", "z = logits"),
    ("loss_averaged_over_time", "temporal_softmax_CE_loss.forward", "loss",
     "divisor = N if self.dim_average else 1", "divisor = N * T if self.dim_average else 1"),
    ("loss_stale_gradient", "temporal_softmax_CE_loss.backward", "dx",
     "        self.dLoss = grad.reshape(N, T, V)\n",
     "        self.dLoss = grad.reshape(N, T, V) if self.dLoss is None else self.dLoss\n"),
    # more of the bugs found in real submissions
    ("rnn_step_meta_prev_h_as_output", "VanillaRNN.step_backward", "dx",
     "return next_h, [x, prev_h, next_h, Wx, Wh]", "return next_h, [x, prev_h, prev_h, Wx, Wh]"),
    ("lstm_dnext_c_zeroed_each_step", "LSTM.backward", "dx",
     "out = self.step_backward(dh[:, t] + grad_h, grad_c, self.meta[t])",
     "out = self.step_backward(dh[:, t] + grad_h, np.zeros_like(grad_c), self.meta[t])"),
    ("lstm_initial_cell_uninitialised", "LSTM.forward", None,
     "prev_h, prev_c = h0, np.zeros(h0.shape, dtype=h0.dtype)",
     "prev_h, prev_c = h0, np.empty(h0.shape, dtype=h0.dtype)"),
    ("loss_sum_over_wrong_axis", "temporal_softmax_CE_loss.forward", "loss",
     "log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))",
     "log_p = z - np.log(np.sum(np.exp(z), axis=0, keepdims=True))"),
    ("loss_label_not_subtracted", "temporal_softmax_CE_loss.backward", "dx",
     "        grad[np.arange(N * T), target] -= 1\n", ""),
    ("loss_backward_ignores_dim_average", "temporal_softmax_CE_loss.backward",
     "dx (dim_average=False)",
     "grad *= keep[:, None] / divisor", "grad *= keep[:, None] / N"),
    ("loss_forward_ignores_dim_average", "temporal_softmax_CE_loss.forward",
     "loss (dim_average=False)",
     "divisor = N if self.dim_average else 1", "divisor = N"),
])

# value bugs: exit status 1, FAIL or ERROR on the named function
MUTANTS = CS231N + HW3 + PARAMS

HAZARDS = _hazards("cs231n", [
    ("rnn_forward_float64_output", "rnn_forward", "h", DTYPE,
     "h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))\n    step_caches",
     "h = np.zeros((N, T, h0.shape[1]))\n    step_caches"),
    ("lstm_forward_float64_output", "lstm_forward", "h", DTYPE,
     "h = np.zeros((N, T, h0.shape[1]), dtype=np.result_type(x, h0, Wx))\n    hidden, cell",
     "h = np.zeros((N, T, h0.shape[1]))\n    hidden, cell"),
    ("rnn_backward_modifies_dh", "rnn_backward", "dh (argument)", ARGUMENT_MODIFIED,
     "step_grads = rnn_step_backward(dh[:, t, :] + carried, cache[t])",
     "dh[:, t, :] += carried\n        step_grads = rnn_step_backward(dh[:, t, :], cache[t])"),
    ("lstm_step_backward_adds_into_dnext_c", "lstm_step_backward", "dnext_c (argument)",
     ARGUMENT_MODIFIED,
     "dc = dnext_c + dnext_h * o * (1.0 - tanh_c ** 2)",
     "dnext_c += dnext_h * o * (1.0 - tanh_c ** 2)\n    dc = dnext_c"),
    ("sigmoid_clips_in_place", "sigmoid", "x (argument)", ARGUMENT_MODIFIED,
     "    z = np.exp(-np.abs(x))\n",
     "    np.clip(x, -500, 500, out=x)\n    z = np.exp(-np.abs(x))\n"),
    ("softmax_shifts_x_in_place", "temporal_softmax_loss", "x (argument)", ARGUMENT_MODIFIED,
     "shifted = scores - scores.max(axis=1, keepdims=True)",
     "scores -= scores.max(axis=1, keepdims=True)\n    shifted = scores"),
    ("sigmoid_overflows", "sigmoid", None, FLOATING_POINT,
     "    z = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
     "    return 1.0 / (1.0 + np.exp(-x))"),
    # the course template's own loss
    ("softmax_log_of_probabilities", "temporal_softmax_loss", None, LOG_SUM_EXP,
     "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
     "log_probs = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))"),
]) + _hazards("hw3", [
    ("rnn_backward_modifies_dh", "RNNLayer.backward", "dh (argument)", ARGUMENT_MODIFIED,
     "upstream = dh[:, t, :] + carry", "upstream = dh[:, t, :]\n            upstream += carry"),
    ("lstm_step_backward_adds_into_dnext_c", "LSTMLayer.backward_step", "dnext_c (argument)",
     ARGUMENT_MODIFIED,
     "dcell = dnext_c + dnext_h * gate_o * (1 - tanh_c * tanh_c)",
     "dnext_c += dnext_h * gate_o * (1 - tanh_c * tanh_c)\n        dcell = dnext_c"),
]) + _hazards("params", [
    ("lstm_step_backward_adds_into_dnext_c", "LSTM.step_backward", "dnext_c (argument)",
     ARGUMENT_MODIFIED,
     "dc_total = dnext_c + dnext_h * o * (1 - np.square(tanh_next_c))",
     "dnext_c += dnext_h * o * (1 - np.square(tanh_next_c))\n        dc_total = dnext_c"),
    ("loss_shifts_feat_in_place", "temporal_softmax_CE_loss.forward", "feat (argument)",
     ARGUMENT_MODIFIED,
     "z = logits - np.max(logits, axis=1, keepdims=True)",
     "logits -= np.max(logits, axis=1, keepdims=True)\n        z = logits"),
    ("sigmoid_overflows", "sigmoid", None, FLOATING_POINT,
     "    positive = x >= 0\n    z = np.exp(np.where(positive, -x, x))\n"
     "    return np.where(positive, 1 / (1 + z), z / (1 + z))",
     "    return 1 / (1 + np.exp(-x))"),
])

# the courses' APIs: tables in tests/course_mutants.py
MODULES.update(course_mutants.MODULES)
COURSES = [Mutant(api, *row[:5], module=row[5] if len(row) > 5 else None)
           for api, rows in course_mutants.ROWS.items() for row in rows]
MUTANTS = MUTANTS + COURSES
HAZARDS = HAZARDS + [Mutant(api, name, function, tensor, old, new, kind)
                     for api, name, function, tensor, kind, old, new in course_mutants.HAZARDS]

# every edit of the table, for the checks on the table itself
ALL = MUTANTS + HAZARDS
