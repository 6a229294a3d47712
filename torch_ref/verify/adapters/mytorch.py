"""``--api mytorch``: CMU 11-785 HW3P1 (``mytorch/rnn_cell.py``, ``mytorch/gru_cell.py``).

The argument is the handout root or a file in it; ``root`` and ``root/mytorch`` go on
the path the way the handout's runner puts them (see ``conventional_files``)::

    cell = RNNCell(input_size, hidden_size)      # W_ih (H, D), W_hh (H, H), b_ih, b_hh (H,)
    cell.init_weights(W_ih, W_hh, b_ih, b_hh)
    h_t = cell.forward(x, h_prev_t)             # x (N, D), h (N, H)
    dx, dh_prev_t = cell.backward(delta, h_t, h_prev_l, h_prev_t)
    cell.dW_ih, cell.dW_hh, cell.db_ih, cell.db_hh   # += gradients averaged over N

    cell = GRUCell(input_size, hidden_size)     # unbatched: x (D,), h (H,)
    cell.init_weights(Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh)
    h_t = cell.forward(x, h_prev_t);  dx, dh_prev_t = cell.backward(delta)
    cell.dWrx ... cell.dbrx ...                  # older years: bir ... bhn, (1, H) shapes

The argument may also be the handout root: every cell file under ``mytorch/`` is read
(:mod:`torch_ref.verify.handout`); a class its file does not define is n/a as long as
the other one is there.

RNNCell.``backward`` is stateless (it gets ``h_t`` and the inputs; the cell's forward is called
again on other inputs before it, as in BPTT) and adds to the gradients it holds: the
checks read what one call added, so a cell that assigns instead fails on its second
call. The averaged weight gradients are multiplied by N to compare with the
catalog's sums; the functional ``b`` is split into a random ``b_ih`` and ``b_hh = b -
b_ih``, and both bias gradients must be right. Reuse: the same cell again, given new
weights through ``init_weights``, its gradients never zeroed. GRUCell (torch's
formulation) runs one sample at a time, each on a fresh cell, the way the course's
tests use it (some students assign its gradients, some accumulate them), and the
gradients of the samples are summed. The course computes in float64; only float64 is
checked.
"""
from __future__ import annotations

import numpy as np

from torch_ref.verify.adapters.base import ClassAdapter, describe_value
from torch_ref.verify.adapters.course import gate_rows, transposed
from torch_ref.verify.errors import ApiMismatch

_RNN_GRADS = ("dW_ih", "dW_hh", "db_ih", "db_hh")
_GATES = ("r", "z", "n")
_GRU_WEIGHTS = tuple(f"W{g}{s}" for s in "xh" for g in _GATES)
# bias names by year: newer brx ... bnh, older bir ... bhn (x biases first, then h)
_GRU_BIASES = {"new": tuple(f"b{g}{s}" for s in "xh" for g in _GATES),
               "old": tuple(f"b{s}{g}" for s in "ih" for g in _GATES)}
_CLASSES = {"RNNCell": ("RNNCell.forward", "RNNCell.backward"),
            "GRUCell": ("GRUCell.forward", "GRUCell.backward")}


class MytorchAdapter(ClassAdapter):
    name = "mytorch"
    description = "CMU 11-785 HW3P1 mytorch: RNNCell (init_weights, forward, stateless " \
                  "backward adding averaged gradients)"
    conventional_files = ("mytorch/rnn_cell.py", "rnn_cell.py", "mytorch/rnn/rnn_cell.py")
    BINDINGS = {"rnn_step_forward": "RNNCell.forward", "rnn_step_backward": "RNNCell.backward",
                "gru_step_forward": "GRUCell.forward", "gru_step_backward": "GRUCell.backward"}
    COMPONENTS = ("rnn_step", "gru_step")  # the course's GRU is torch's (reset after)
    ARGUMENTS = {"rnn_step_forward": ("x", "h_prev_t", "W_ih", "W_hh", "b_ih + b_hh"),
                 "rnn_step_backward": ("delta", "cache"),
                 "gru_step_forward": ("x", "h_prev_t", "W*x", "W*h", "b*x", "b*h"),
                 "gru_step_backward": ("delta", "cache")}
    dtypes = ("float64",)  # the course and its autograder compute in float64
    TENSORS = {"rnn_step": {"next_h": "h_t", "dprev_h": "dh_prev_t",
                            "dWx": ("dW_ih", transposed), "dWh": ("dW_hh", transposed),
                            "db": "db_ih/db_hh"},
               # one matrix per gate: the gate of the worst element names it (dWzx)
               "gru_step": {"next_h": "h_t", "dprev_h": "dh_prev_t",
                            "dWx": ("dW{gate}x", gate_rows), "dWh": ("dW{gate}h", gate_rows),
                            "dbx": ("db{gate}x", gate_rows), "dbh": ("db{gate}h", gate_rows)}}
    expects = "class RNNCell(input_size, hidden_size) with init_weights, forward(x, " \
              "h_prev_t), backward(delta, h_t, h_prev_l, h_prev_t); class GRUCell " \
              "(unbatched) with forward(x, h_prev_t), backward(delta)"
    reuse_notes = ("a new cell",
                   "the same cell again, new weights through init_weights; its gradients "
                   "are not zeroed, so backward must add to them",
                   "the same cell again, new weights through init_weights; its gradients "
                   "are not zeroed, so backward must add to them")

    def optional(self) -> tuple:
        """A file holds one of the cells: the other is n/a, unless neither is there."""
        present = [c for c in _CLASSES if self.user_class(c) is not None]
        return tuple(f for f, user in self.BINDINGS.items()
                     if present and user.split(".")[0] not in present)

    def implement(self, functional: str):
        return {"rnn_step_forward": self._rnn_forward, "rnn_step_backward": self._rnn_backward,
                "gru_step_forward": self._gru_forward,
                "gru_step_backward": self._gru_backward}[functional]

    # ---- RNNCell ----------------------------------------------------------------------

    def _rnn_cell(self, user, Wx, Wh, b):
        D, H = Wx.shape
        cell, _ = self.new(user, "RNNCell", D, H)
        b_hh = np.random.default_rng([D, H]).standard_normal(H).astype(b.dtype) * 0.5
        weights = (Wx.T, Wh.T, b - b_hh, b_hh)
        if "init_weights" in self.user_class("RNNCell")["methods"]:
            self.method(cell, "init_weights", user, names=("W_ih", "W_hh", "b_ih", "b_hh"))(
                *weights)
        else:
            for attr, value in zip(("W_ih", "W_hh", "b_ih", "b_hh"), weights, strict=True):
                self.set(cell, attr, value, user)
        return cell

    def _rnn_forward(self, x, prev_h, Wx, Wh, b):
        user = "RNNCell.forward"
        cell = self._rnn_cell(user, Wx, Wh, b)
        forward = self.method(cell, "forward", user, names=("x", "h_prev_t"), returns="a")
        h_t = self.values(user, forward(x, prev_h), ("h_t",))
        # backward gets all it needs as arguments: in BPTT every forward runs first
        self.decoy(forward, x, prev_h)
        # backward is given the true h_t: a wrong forward is blamed once, on the forward
        true_h = np.tanh(x @ Wx + prev_h @ Wh + b)
        return h_t, (cell, x, prev_h, true_h)

    def _rnn_backward(self, dnext_h, handle):
        user = "RNNCell.backward"
        cell, x, prev_h, h_t = handle
        before = [self._grad(user, cell, g, allow_missing=True) for g in _RNN_GRADS]
        result = self.method(cell, "backward", user, returns=["a", "a"],
                             names=("delta", "h_t", "h_prev_l", "h_prev_t"))(
            dnext_h, h_t, x, prev_h)
        dx, dh_prev = self.values(user, result, ("dx", "dh_prev_t"))
        added = [self._added(user, g, self._grad(user, cell, g), old)
                 for g, old in zip(_RNN_GRADS, before, strict=True)]
        N = x.shape[0]
        dW_ih, dW_hh, db_ih, db_hh = added
        # averaged over N in the course; both biases get the same gradient
        return dx, dh_prev, dW_ih.T * N, dW_hh.T * N, (db_ih + db_hh) * (N / 2)

    def _grad(self, user, cell, name, allow_missing=False):
        value = self.get(cell, name, user, default=None)
        if value is None and allow_missing:
            return 0.0
        if not isinstance(value, (np.ndarray, np.generic, float, int)):
            raise ApiMismatch(user, f"after {user}, cell.{name} is {describe_value(value)}; "
                                    f"expected the gradient array")
        return np.asarray(value)

    def _added(self, user, name, after, before):
        if np.shape(before) not in ((), np.shape(after)):
            raise ApiMismatch(user, f"{user} changed the shape of cell.{name} from "
                                    f"{np.shape(before)} to {np.shape(after)}")
        return after - before

    # ---- GRUCell ----------------------------------------------------------------------

    def _gru_forward(self, x, prev_h, Wx, Wh, bx, bh, **options):
        user = "GRUCell.forward"
        D, H = Wx.shape[0], Wh.shape[0]
        blocks = [slice(k * H, (k + 1) * H) for k in range(3)]
        weights = ([Wx[:, b].T for b in blocks] + [Wh[:, b].T for b in blocks]
                   + [bx[b] for b in blocks] + [bh[b] for b in blocks])
        cells, outputs = [], []
        for n in range(x.shape[0]):  # unbatched: one fresh cell per sample
            cell = self.construct(user, "GRUCell", D, H)
            if "init_weights" in self.user_class("GRUCell")["methods"]:
                self.method(cell, "init_weights", user, names=())(*weights)
            else:
                names = _GRU_WEIGHTS + _GRU_BIASES[self._year(user, cell)]
                for name, value in zip(names, weights, strict=True):
                    self.set(cell, name, value, user)
            forward = self.method(cell, "forward", user, names=("x", "h_prev_t"))
            h_t = self.values(user, forward(x[n], prev_h[n]), ("h_t",))
            outputs.append(self._vector(user, "h_t", h_t, H))
            cells.append(cell)
        return np.stack(outputs), (cells, D, H)

    def _gru_backward(self, dnext_h, handle):
        user = "GRUCell.backward"
        cells, D, H = handle
        dxs, dhs = [], []
        total = {}
        year = self._year(user, cells[0])
        names = _GRU_WEIGHTS + _GRU_BIASES[year]
        for n, cell in enumerate(cells):
            result = self.method(cell, "backward", user, names=("delta",))(dnext_h[n])
            dx, dh = self.values(user, result, ("dx", "dh_prev_t"))
            dxs.append(self._vector(user, "dx", dx, D))
            dhs.append(self._vector(user, "dh_prev_t", dh, H))
            for name in names:
                value = self._grad(user, cell, "d" + name)
                total[name] = total.get(name, 0) + value
        biases = _GRU_BIASES[year]
        dWx = np.concatenate([np.asarray(total[f"W{g}x"]).T for g in _GATES], axis=1)
        dWh = np.concatenate([np.asarray(total[f"W{g}h"]).T for g in _GATES], axis=1)
        dbx = np.concatenate([self._vector(user, "d" + b, total[b], H) for b in biases[:3]])
        dbh = np.concatenate([self._vector(user, "d" + b, total[b], H) for b in biases[3:]])
        return np.stack(dxs), np.stack(dhs), dWx, dWh, dbx, dbh

    def _year(self, user, cell) -> str:
        for name in ("bir", "dbir"):
            if self.get(cell, name, user, default=None) is not None:
                return "old"
        return "new"

    def _vector(self, user, name, value, size):
        """``(size,)`` from ``(size,)`` or the older years' ``(1, size)``."""
        array = np.asarray(value) if isinstance(value, (np.ndarray, np.generic)) else None
        if array is None or array.shape not in ((size,), (1, size)):
            raise ApiMismatch(user, f"{user}: {name} is {describe_value(value)}; expected "
                                    f"shape ({size},) (or (1, {size}))")
        return array.reshape(size)
