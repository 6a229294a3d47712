"""``--api mytorch``: CMU 11-785 HW3P1 (``mytorch/rnn_cell.py``, ``mytorch/gru_cell.py``).

The argument is the handout root or a file in it; ``root`` and ``root/mytorch`` go on
the path the way the handout's runner puts them (see ``conventional_files``)::

    cell = RNNCell(input_size, hidden_size)      # W_ih (H, D), W_hh (H, H), b_ih, b_hh (H,)
    cell.init_weights(W_ih, W_hh, b_ih, b_hh)
    h_t = cell.forward(x, h_prev_t)             # x (N, D), h (N, H)
    dx, dh_prev_t = cell.backward(delta, h_t, h_prev_l, h_prev_t)
    cell.dW_ih, cell.dW_hh, cell.db_ih, cell.db_hh   # += gradients averaged over N

``backward`` is stateless (it gets ``h_t`` and the inputs; the cell's forward is called
again on other inputs before it, as in BPTT) and adds to the gradients it holds: the
checks read what one call added, so a cell that assigns instead fails on its second
call. The averaged weight gradients are multiplied by N to compare with the
catalog's sums; the functional ``b`` is split into a random ``b_ih`` and ``b_hh = b -
b_ih``, and both bias gradients must be right. Reuse: the same cell again, given new
weights through ``init_weights``, its gradients never zeroed.
"""
from __future__ import annotations

import numpy as np

from torch_ref.verify.adapters.base import ApiMismatch, ClassAdapter, describe_value
from torch_ref.verify.adapters.course import snapshot

_RNN_GRADS = ("dW_ih", "dW_hh", "db_ih", "db_hh")


class MytorchAdapter(ClassAdapter):
    name = "mytorch"
    description = "CMU 11-785 HW3P1 mytorch: RNNCell (init_weights, forward, stateless " \
                  "backward adding averaged gradients)"
    conventional_files = ("mytorch/rnn_cell.py", "rnn_cell.py", "mytorch/rnn/rnn_cell.py")
    BINDINGS = {"rnn_step_forward": "RNNCell.forward", "rnn_step_backward": "RNNCell.backward"}
    expects = "class RNNCell(input_size, hidden_size) with init_weights, forward(x, " \
              "h_prev_t), backward(delta, h_t, h_prev_l, h_prev_t)"
    reuse_notes = ("a new cell",
                   "the same cell again, new weights through init_weights; its gradients "
                   "are not zeroed, so backward must add to them",
                   "the same cell again, new weights through init_weights; its gradients "
                   "are not zeroed, so backward must add to them")

    def implement(self, functional: str):
        if functional == "rnn_step_forward":
            return self._rnn_forward
        return self._rnn_backward

    # ---- RNNCell ----------------------------------------------------------------------

    def _rnn_cell(self, user, Wx, Wh, b):
        D, H = Wx.shape
        cell, _ = self.new(user, "RNNCell", D, H)
        b_hh = np.random.default_rng([D, H]).standard_normal(H).astype(b.dtype) * 0.5
        weights = (Wx.T, Wh.T, b - b_hh, b_hh)
        if callable(getattr(cell, "init_weights", None)):
            self.call(user, cell.init_weights, *weights)
        else:
            for attr, value in zip(("W_ih", "W_hh", "b_ih", "b_hh"), weights, strict=True):
                self.call(user, setattr, cell, attr, value)
        return cell

    def _rnn_forward(self, x, prev_h, Wx, Wh, b):
        user = "RNNCell.forward"
        cell = self._rnn_cell(user, Wx, Wh, b)
        forward = self.method(cell, "forward", user)
        h_t = self.values(user, cell.forward, forward(x, prev_h), ("h_t",))
        # backward gets all it needs as arguments: in BPTT every forward runs first
        self.decoy(forward, x, prev_h)
        # backward is given the true h_t: a wrong forward is blamed once, on the forward
        true_h = np.tanh(x @ Wx + prev_h @ Wh + b)
        return h_t, (cell, x, prev_h, true_h)

    def _rnn_backward(self, dnext_h, handle):
        user = "RNNCell.backward"
        cell, x, prev_h, h_t = handle
        before = [self._grad(user, cell, g, allow_missing=True) for g in _RNN_GRADS]
        result = self.method(cell, "backward", user)(dnext_h, h_t, x, prev_h)
        dx, dh_prev = self.values(user, cell.backward, result, ("dx", "dh_prev_t"))
        added = [self._added(user, g, self._grad(user, cell, g), old)
                 for g, old in zip(_RNN_GRADS, before, strict=True)]
        N = x.shape[0]
        dW_ih, dW_hh, db_ih, db_hh = added
        # averaged over N in the course; both biases get the same gradient
        return dx, dh_prev, dW_ih.T * N, dW_hh.T * N, (db_ih + db_hh) * (N / 2)

    def _grad(self, user, cell, name, allow_missing=False):
        value = getattr(cell, name, None)
        if value is None and allow_missing:
            return 0.0
        if not isinstance(value, (np.ndarray, np.generic, float, int)):
            raise ApiMismatch(user, f"after {user}, cell.{name} is {describe_value(value)}; "
                                    f"expected the gradient array")
        return snapshot(np.asarray(value))

    def _added(self, user, name, after, before):
        if np.shape(before) not in ((), np.shape(after)):
            raise ApiMismatch(user, f"{user} changed the shape of cell.{name} from "
                                    f"{np.shape(before)} to {np.shape(after)}")
        return after - before
