"""``--api mytorch``: CMU 11-785 HW3P1 (``mytorch/rnn_cell.py``, ``mytorch/gru_cell.py``,
``models/rnn_classifier.py``).

The argument is the handout root or a file in it; ``root`` and ``root/mytorch`` go on
the path the way the handout's runner puts them (:mod:`torch_ref.verify.load.handout`)::

    cell = RNNCell(input_size, hidden_size)      # W_ih (H, D), W_hh (H, H), b_ih, b_hh (H,)
    cell.init_weights(W_ih, W_hh, b_ih, b_hh)
    h_t = cell.forward(x, h_prev_t)             # x (N, D), h (N, H)
    dx, dh_prev_t = cell.backward(delta, h_t, h_prev_l, h_prev_t)
    cell.dW_ih, cell.dW_hh, cell.db_ih, cell.db_hh   # += gradients averaged over N

    cell = GRUCell(input_size, hidden_size)     # unbatched: x (D,), h (H,)
    cell.init_weights(Wrx, Wzx, Wnx, Wrh, Wzh, Wnh, brx, bzx, bnx, brh, bzh, bnh)
    h_t = cell.forward(x, h_prev_t);  dx, dh_prev_t = cell.backward(delta)
    cell.dWrx ... cell.dbrx ...                  # 2021: bir ... bhn

    model = RNNPhonemeClassifier(input_size, hidden_size, output_size, num_layers)
    model.init_weights([[W_ih, W_hh, b_ih, b_hh], ...], [W, b])
    logits = model.forward(x, h_0)              # x (N, T, D), h_0 (L, N, H): (N, out)
    dh_0 = model.backward(delta)                # delta (N, out): dh_0 / N
    model.rnn[l].dW_ih ...; model.output_layer.dLdW, dLdb (dW, db before 2022)

The editions (:data:`MytorchAdapter.EDITIONS`) differ in class names (``RNN_Cell``,
``GRU_Cell`` in 2019-2020), the GRU (no biases and the reset gate before the product
in 2019-2020, checked against ``gru_step_reset_before_nobias``; torch's GRU after), the
GRU's delta (``(1, H)`` with ``dx (1, D)``, ``dh (1, H)`` in 2020-2023, ``(H,)`` from
2024: read from the template's asserts in the submission's own ``gru_cell.py``, else
from its bias names and imports) and the output layer's gradients (``dW``, ``db``
averaged over the batch before 2022, ``dLdW`` averaged in 2022 and summed after: read
from the course's own classifier test beside the handout when it is there). An
activation file of another homework beside the cells (HW1's, whose ``Tanh`` takes no
hidden state, or the autograd variant's) is named as the cause of the exceptions about
it; an exception only in a case with a size of 1 says so.

RNNCell.``backward`` is stateless (it gets ``h_t`` and the inputs; the cell's forward is
called again on other inputs before it, as in BPTT) and adds to the gradients it holds:
the checks read what one call added, so a cell that assigns instead fails on its second
call. The averaged weight gradients are multiplied by N to compare with the catalog's
sums; the functional ``b`` is split into a random ``b_ih`` and ``b_hh = b - b_ih``, and
both bias gradients must be right. GRUCell runs one sample at a time, each on a fresh
cell, the way the course's tests use it, and the gradients of the samples are summed.
The classifier is checked against ``nn.RNN(num_layers)`` + ``nn.Linear`` on the last step
(the catalog's ``rnn_classifier``, 1-3 layers); its cells' gradients are read as what
its backward added; it has no ``dx``. Reuse: the same cell or model again, new weights
through ``init_weights``, its gradients never zeroed; a classifier whose ``self.hiddens``
grows across forward calls (the handout's own template appends to a list made in
``__init__``) is a ``reuse`` warning, not a failure. The course computes in float64;
only float64 is checked.
"""
from __future__ import annotations

import ast
import os
import re

import numpy as np

from torch_ref.verify.adapters.base import MISSING, ClassAdapter, describe_value
from torch_ref.verify.adapters.course import gate_rows, transposed
from torch_ref.verify.adapters.editions import Edition, Evidence, Sign, recognise
from torch_ref.verify.errors import ApiMismatch
from torch_ref.verify.isolation.client import UserError

_RNN_GRADS = ("dW_ih", "dW_hh", "db_ih", "db_hh")
_GATES = ("r", "z", "n")
_GRU_WEIGHTS = tuple(f"W{g}{s}" for s in "xh" for g in _GATES)
# bias names by year: 2022+ brx ... bnh, 2021 bir ... bhn (x biases first, then h)
_GRU_BIASES = {"new": tuple(f"b{g}{s}" for s in "xh" for g in _GATES),
               "old": tuple(f"b{s}{g}" for s in "ih" for g in _GATES)}
# the 2019-2020 GRU: no biases; init_weights' order
_NOBIAS_WEIGHTS = ("Wzh", "Wrh", "Wh", "Wzx", "Wrx", "Wx")
_RNN_FUNCTIONS = ("rnn_step_forward", "rnn_step_backward")
_GRU_FUNCTIONS = ("gru_step_forward", "gru_step_backward")
_CLASSIFIER_FUNCTIONS = ("rnn_classifier_forward", "rnn_classifier_backward")
# the output layer's gradients: (weight, bias, averaged over the batch)
_AVERAGED, _SUMMED = ("dW", "db", True), ("dLdW", "dLdb", False)
_HANDOUT = "the handout's template"
_REUSE_HAZARD = ("RNNPhonemeClassifier: the hidden states of every forward call are kept "
                 "(self.hiddens grows across calls, as in " + _HANDOUT + ", which appends "
                 "to a list made in __init__), so a backward after a second forward on "
                 "the same model reads the first call's states; make the list anew in "
                 "forward to reuse a model")


def _bindings(rnn: str, gru: str, classifier: str) -> dict:
    return {"rnn_step_forward": f"{rnn}.forward", "rnn_step_backward": f"{rnn}.backward",
            "gru_step_forward": f"{gru}.forward", "gru_step_backward": f"{gru}.backward",
            "rnn_classifier_forward": f"{classifier}.forward",
            "rnn_classifier_backward": f"{classifier}.backward"}


_OLD_NAMES = _bindings("RNN_Cell", "GRU_Cell", "RNN_Phoneme_Classifier")
_GRU_ASSERTS_ROW = r"dx\.shape == \(1, ?self\.d\)"
_GRU_ASSERTS_FLAT = r"dx\.shape == \(self\.d, ?\)"


class _HandoutEvidence(Evidence):
    """A handout's source is every file its classes come from (the handout module has
    no file of its own): ``source`` signs read them all."""

    def source(self, pattern: str, _value="") -> bool:
        if self.sources is None:
            return False
        files = set()
        for entry in self.inventory.get("names", {}).values():
            if entry.get("own"):
                files.add(entry.get("where", "").rpartition(":")[0])
                for method in entry.get("methods", {}).values():
                    files.add(method.get("where", "").rpartition(":")[0])
        files.add(self.inventory.get("file") or "")
        for file in sorted(f for f in files if f):
            text = self.sources.text(file)
            if text and re.search(pattern, text, re.M):
                return True
        return False


class MytorchAdapter(ClassAdapter):
    name = "mytorch"
    description = "CMU 11-785 HW3P1 mytorch: RNNCell, GRUCell (init_weights, forward, " \
                  "backward adding averaged gradients), RNNPhonemeClassifier"
    conventional_files = ("mytorch/rnn_cell.py", "rnn_cell.py", "mytorch/rnn/rnn_cell.py",
                          "gru.py")
    BINDINGS = _bindings("RNNCell", "GRUCell", "RNNPhonemeClassifier")
    COMPONENTS = ("rnn_step", "gru_step", "rnn_classifier")  # the course's GRU is torch's
    ARGUMENTS = {"rnn_step_forward": ("x", "h_prev_t", "W_ih", "W_hh", "b_ih + b_hh"),
                 "rnn_step_backward": ("delta", "cache"),
                 "gru_step_forward": ("x", "h_prev_t", "W*x", "W*h", "b*x", "b*h"),
                 "gru_step_backward": ("delta", "cache"),
                 "rnn_classifier_forward": ("x", "h_0", "output_layer.W", "output_layer.b",
                                            "rnn weights"),
                 "rnn_classifier_backward": ("delta", "cache")}
    dtypes = ("float64",)  # the course and its autograder compute in float64
    _RNN = {"next_h": "h_t", "dprev_h": "dh_prev_t",
            "dWx": ("dW_ih", transposed), "dWh": ("dW_hh", transposed), "db": "db_ih/db_hh"}
    TENSORS = {"rnn_step": _RNN,
               # one matrix per gate: the gate of the worst element names it (dWzx)
               "gru_step": {"next_h": "h_t", "dprev_h": "dh_prev_t",
                            "dWx": ("dW{gate}x", gate_rows), "dWh": ("dW{gate}h", gate_rows),
                            "dbx": ("db{gate}x", gate_rows), "dbh": ("db{gate}h", gate_rows)},
               "gru_step_reset_before_nobias": {"next_h": "h_t", "dprev_h": "dh",
                                                "dWx": "dW*x", "dWh": "dW*h"},
               "rnn_classifier": {"logits": "logits", "dh0": "dh_0",
                                  "dw": "output_layer gradient (W)",
                                  "db": "output_layer gradient (b)",
                                  **{f"d{w}_l{k}": f"rnn[{k}].{name}"
                                     for k in range(3) for w, name in
                                     (("Wx", "dW_ih"), ("Wh", "dW_hh"),
                                      ("b", "db_ih/db_hh"))}}}
    EDITIONS = (
        Edition("S24-S26", "mytorch/nn/ helpers; GRUCell.backward takes delta (H,) and "
                "returns dx (D,), dh (H,); output layer dLdW, dLdb summed",
                signs=(Sign("source", _GRU_ASSERTS_FLAT, weight=3),
                       Sign("source", r"^\s*from\s+(mytorch\.)?nn\.activation\s+import",
                            weight=2),
                       Sign("file", "mytorch/nn/activation.py"),
                       Sign("file", "models/rnn_classifier.py"),
                       Sign("param", "GRUCell.init_weights", "brx")),
                conventions={"gru_delta": "(H,)", "biases": "new", "linear": _SUMMED}),
        Edition("F22-F23", "biases brx ... bnh; GRUCell.backward takes delta (1, H) and "
                "returns dx (1, D), dh (1, H); output layer dLdW, dLdb summed",
                signs=(Sign("source", _GRU_ASSERTS_ROW, weight=3),
                       Sign("param", "GRUCell.init_weights", "brx"),
                       Sign("source", r"^\s*from\s+activation\s+import"),
                       Sign("param", "RNNCell.forward", "h_prev_t")),
                conventions={"gru_delta": "(1, H)", "biases": "new", "linear": _SUMMED}),
        Edition("S21-F21", "GRUCell biases bir ... bhn; GRUCell.backward takes delta (1, H) "
                "and returns dx (1, D), dh (1, H); output layer dW, db averaged",
                signs=(Sign("param", "GRUCell.init_weights", "bir", weight=5),
                       Sign("source", _GRU_ASSERTS_ROW, weight=3),
                       Sign("source", r"^\s*from\s+activation\s+import"),
                       Sign("param", "RNNCell.forward", "h")),
                conventions={"gru_delta": "(1, H)", "biases": "old", "linear": _AVERAGED}),
        Edition("S20-F20", "RNN_Cell, GRU_Cell, RNN_Phoneme_Classifier; GRU_Cell without "
                "biases, reset gate before the product, h_t = (1 - z) h + z h~, delta (1, H), "
                "dx (1, D), dh (1, H); output layer dW, db averaged",
                signs=(Sign("defines", "RNN_Cell", weight=4),
                       Sign("defines", "GRU_Cell.init_weights", weight=4),
                       Sign("defines", "RNN_Phoneme_Classifier", weight=4)),
                bindings=_OLD_NAMES,
                conventions={"gru_delta": "(1, H)", "gru": "nobias", "linear": _AVERAGED}),
        Edition("S19", "one file gru.py: GRU_Cell without biases nor init_weights (the "
                "weights are set as attributes), reset gate before the product, h_t = "
                "(1 - z) h + z h~, delta (H,)",
                signs=(Sign("defines", "GRU_Cell", weight=3),
                       Sign("file", "gru.py", weight=2),
                       Sign("defines", "GRU_Cell.init_weights", weight=-3)),
                bindings=_OLD_NAMES, optional=_RNN_FUNCTIONS + _CLASSIFIER_FUNCTIONS,
                conventions={"gru_delta": "(H,)", "gru": "nobias"}),
        Edition("F25 autograd", "cells built on mytorch/autograd_engine.py (RNNCell(input_size, "
                "hidden_size, autograd_engine)): no hand-written backward",
                signs=(Sign("param", "RNNCell", "autograd_engine", weight=8),
                       Sign("param", "GRUCell", "autograd_engine", weight=8),
                       Sign("file", "mytorch/autograd_engine.py")),
                conventions={"autograd": True}),
    )
    expects = "class RNNCell(input_size, hidden_size) with init_weights, forward(x, " \
              "h_prev_t), backward(delta, h_t, h_prev_l, h_prev_t); class GRUCell " \
              "(unbatched) with forward(x, h_prev_t), backward(delta); " \
              "RNNPhonemeClassifier (2019-2020: RNN_Cell, GRU_Cell)"
    reuse_notes = ("a new cell or model",
                   "the same cell or model again, new weights through init_weights; its "
                   "gradients are not zeroed, so backward must add to them",
                   "the same cell or model again, new weights through init_weights; its "
                   "gradients are not zeroed, so backward must add to them")

    def __init__(self, executor=None, sources=None):
        super().__init__(executor, sources)
        if executor is not None:  # every file of a handout is its source
            self.evidence = _HandoutEvidence(executor.inventory, self.sources)
            self.edition, self.edition_signs = recognise(self.EDITIONS, self.evidence)
            self.BINDINGS = {**type(self).BINDINGS, **self.edition.bindings}
        self._sizes: dict = {}
        self._helper = None

    # ---- what the edition checks ------------------------------------------------------

    def _nobias(self) -> bool:
        return self.convention("gru") == "nobias"

    def supports(self, component) -> bool:
        gru = "gru_step_reset_before_nobias" if self._nobias() else "gru_step"
        if component.name not in ("rnn_step", gru, "rnn_classifier"):
            return False
        return all(f in self.BINDINGS for f in component.functions)

    def keeps(self, component, case) -> bool:
        # the course's own activations (given code in every edition: Sigmoid.backward as
        # exp(-a) / (1 + exp(-a))**2 in 2024+, tanh from exponentials in HW1's) give NaN at
        # pre-activations of 1e3, where its tests never go
        return case.label != "saturated"

    def optional(self) -> tuple:
        """A file holds one of the cells: the other is n/a, unless neither is there; the
        classifier is n/a when the submission has none."""
        cells = {self.BINDINGS[f].split(".")[0] for f in _RNN_FUNCTIONS + _GRU_FUNCTIONS}
        present = [c for c in cells if self.user_class(c) is not None]
        found = tuple(f for f in _RNN_FUNCTIONS + _GRU_FUNCTIONS
                      if present and self.BINDINGS[f].split(".")[0] not in present)
        classifier = self.BINDINGS["rnn_classifier_forward"].split(".")[0]
        if self.user_class(classifier) is None:
            found += _CLASSIFIER_FUNCTIONS
        return tuple(dict.fromkeys(super().optional() + found))

    def api(self):
        if self.convention("autograd"):
            from torch_ref.verify.run import UsageError

            raise UsageError(
                "this is the autograd variant of the CMU 11-785 HW3P1 handout (mytorch/"
                "autograd_engine.py; RNNCell(input_size, hidden_size, autograd_engine)): its "
                "cells have no hand-written backward, and verify checks hand-written "
                "backward passes (the handout's standard variant)")
        namespace = super().api()
        namespace.reuse_hazard = self.reuse_hazard
        return namespace

    def reuse_hazard(self, component) -> str:
        """What a reuse failure of ``component`` means when the handout's own template
        shares it (empty: a reuse failure is a failure)."""
        return _REUSE_HAZARD.replace("RNNPhonemeClassifier", self.BINDINGS[
            "rnn_classifier_forward"].split(".")[0]) if component.name == "rnn_classifier" \
            else ""

    def implement(self, functional: str):
        return {"rnn_step_forward": self._rnn_forward, "rnn_step_backward": self._rnn_backward,
                "gru_step_forward": self._gru_forward,
                "gru_step_backward": self._gru_backward,
                "rnn_classifier_forward": self._classifier_forward,
                "rnn_classifier_backward": self._classifier_backward}[functional]

    def left_as_template(self, user_function: str) -> bool:
        """The generic stub, or the handout's: a body that ends in ``raise
        NotImplementedError`` and returns nothing (the GRU template's asserts and the
        classifier's given lines run before that raise)."""
        if super().left_as_template(user_function):
            return True
        found = self.sources.at(self.where(user_function))
        if found is None:
            return False
        body = found[0].body
        last = body[-1] if body else None
        raises = isinstance(last, ast.Raise) and last.exc is not None and isinstance(
            last.exc.func if isinstance(last.exc, ast.Call) else last.exc, ast.Name) and (
            last.exc.func if isinstance(last.exc, ast.Call) else last.exc
        ).id == "NotImplementedError"
        returns = any(isinstance(node, ast.Return) and node.value is not None
                      and not (isinstance(node.value, ast.Constant)
                               and node.value.value is None)
                      for node in ast.walk(found[0]))
        return raises and not returns

    # ---- calls: a size-1 case and a helper of another homework say so ---------------

    def _through(self, user: str, operation, *args, **kwargs):
        try:
            return super()._through(user, operation, *args, **kwargs)
        except UserError as exc:
            if exc.type_name == "NotImplementedError" or exc.kind not in ("builtin",
                                                                          "other"):
                raise
            helper = self._hw1_helper(exc)
            if self.left_as_template(user):
                # the template's asserts or given lines ran before its raise
                mismatch = ApiMismatch(user, f"its body is still the template's "
                                             f"({_describe(exc)})", returned_none=True)
            elif helper:
                mismatch = ApiMismatch(user, f"{_describe(exc)}: {helper}")
            else:
                ones = [k for k, v in self._sizes.items() if v == 1]
                if not ones:
                    raise
                mismatch = ApiMismatch(user, (
                    f"{_describe(exc)}; raised in a case with {', '.join(ones)}=1, a size "
                    f"the course's own tests never use (an axis of size 1 dropped by "
                    f"np.squeeze or reshape(-1) is the usual cause): still a bug"))
            self.last_error = mismatch
            raise mismatch from None

    def _hw1_helper(self, exc) -> str:
        """Why the activation file the failing code imports is not the HW3 one (its Tanh
        takes no state: HW1's), when the exception is about an activation; '' otherwise.
        Read from the source, never run."""
        if not re.search(r"\b(Tanh|Sigmoid)\b", f"{exc.type_name} {exc.message}"):
            return ""
        where = self.sources.text(exc.where.rpartition(":")[0]) if exc.where else None
        files = ("mytorch/activation.py", "mytorch/nn/activation.py")
        if where and re.search(r"^\s*from\s+(\.|mytorch\.)?nn\.activation\s", where, re.M):
            files = files[1:]
        elif where and re.search(r"^\s*from\s+\.?activation\s", where, re.M):
            files = files[:1]
        if self._helper is None:
            self._helper = {}
        if files not in self._helper:
            self._helper[files] = ""
            root = self.sources.root
            for rel in files:
                path = os.path.join(root or "", *rel.split("/"))
                text = self.sources.text(path) if root else None
                reason = _hw1_activation(text) if text else ""
                if reason:
                    self._helper[files] = (
                        f"{rel} is not the HW3 activation: {reason}; the "
                        f"HW3 cells pass the hidden state to Tanh (backward(dLdA, state) "
                        f"from 2024, backward(state) in 2022-2023, derivative(state) "
                        f"before) and call it; the course's autograder runs the mytorch/ "
                        f"folder handed in, so put back the handout's {rel}")
                    break
        return self._helper[files]

    def _linear(self) -> tuple:
        """``(weight, bias, averaged)``: the output layer's gradients as the course's own
        classifier test beside the handout compares them (with torch's mean-loss gradient
        times batch_size: summed), else as the edition's; the 2022 handout (``hw3/``)
        averaged ``dLdW`` in ``Linear``."""
        weight, bias, averaged = self.convention("linear", _SUMMED)
        root = self.sources.root
        for rel in _COURSE_TESTS if root else ():
            text = self.sources.text(os.path.join(root, *rel.split("/")))
            found = _LINEAR_CHECK.search(text) if text else None
            if found:
                weight = found[1]
                return weight, "dLdb" if weight == "dLdW" else "db", not found[4]
        if weight == "dLdW" and self.evidence.file("hw3/rnn_classifier.py"):
            averaged = True
        return weight, bias, averaged

    # ---- RNNCell ----------------------------------------------------------------------

    def _rnn_class(self) -> str:
        return self.BINDINGS["rnn_step_forward"].split(".")[0]

    def _split_bias(self, b, seed):
        b_hh = np.random.default_rng(seed).standard_normal(b.shape[0]).astype(b.dtype) * 0.5
        return b - b_hh, b_hh

    def _rnn_cell(self, user, Wx, Wh, b):
        D, H = Wx.shape
        name = self._rnn_class()
        cell, _ = self.new(user, name, D, H)
        b_ih, b_hh = self._split_bias(b, [D, H])
        weights = (Wx.T, Wh.T, b_ih, b_hh)
        if "init_weights" in self.user_class(name)["methods"]:
            self.method(cell, "init_weights", user, names=("W_ih", "W_hh", "b_ih", "b_hh"))(
                *weights)
        else:
            for attr, value in zip(("W_ih", "W_hh", "b_ih", "b_hh"), weights, strict=True):
                self.set(cell, attr, value, user)
        return cell

    def _rnn_forward(self, x, prev_h, Wx, Wh, b):
        user = self.BINDINGS["rnn_step_forward"]
        self._sizes = {"N": x.shape[0], "D": x.shape[1], "H": Wh.shape[0]}
        cell = self._rnn_cell(user, Wx, Wh, b)
        forward = self.method(cell, "forward", user, names=("x", "h_prev_t"), returns="a")
        h_t = self.values(user, forward(x, prev_h), ("h_t",))
        # backward gets all it needs as arguments: in BPTT every forward runs first
        self.decoy(forward, x, prev_h)
        # backward is given the true h_t: a wrong forward is blamed once, on the forward
        true_h = np.tanh(x @ Wx + prev_h @ Wh + b)
        return h_t, (cell, x, prev_h, true_h)

    def _rnn_backward(self, dnext_h, handle):
        user = self.BINDINGS["rnn_step_backward"]
        cell, x, prev_h, h_t = handle
        N, D, H = x.shape[0], x.shape[1], prev_h.shape[1]
        shapes = {"dW_ih": (H, D), "dW_hh": (H, H), "db_ih": (H,), "db_hh": (H,)}
        before = [self._grad(user, cell, g, allow_missing=True) for g in _RNN_GRADS]
        result = self.method(cell, "backward", user, returns=["a", "a"],
                             names=("delta", "h_t", "h_prev_l", "h_prev_t"))(
            dnext_h, h_t, x, prev_h)
        dx, dh_prev = self.values(user, result, ("dx", "dh_prev_t"))
        added = [self._added(user, g, self._shaped(user, "cell." + g, self._grad(user, cell, g),
                                                   shapes[g]), old)
                 for g, old in zip(_RNN_GRADS, before, strict=True)]
        dW_ih, dW_hh, db_ih, db_hh = added
        # averaged over N in the course; both biases get the same gradient
        return dx, dh_prev, dW_ih.T * N, dW_hh.T * N, (db_ih + db_hh) * (N / 2)

    def _grad(self, user, cell, name, allow_missing=False, what="cell"):
        value = self.get(cell, name, user, default=None)
        if value is None and allow_missing:
            return 0.0
        if not isinstance(value, (np.ndarray, np.generic, float, int)):
            raise ApiMismatch(user, f"after {user}, {what}.{name} is {describe_value(value)}; "
                                    f"expected the gradient array")
        return np.asarray(value)

    def _added(self, user, name, after, before):
        if np.shape(before) not in ((), np.shape(after)):
            raise ApiMismatch(user, f"{user} changed the shape of cell.{name} from "
                                    f"{np.shape(before)} to {np.shape(after)}")
        return after - before

    def _shaped(self, user, name, value, shape):
        """``value`` in ``shape``: the same shape, or (for a bias) a row or column of it;
        anything else names the attribute (a size-1 case, where np.squeeze drops an
        axis, says so)."""
        array = np.asarray(value)
        if array.shape == shape:
            return array
        if len(shape) == 1 and array.shape in ((1, shape[0]), (shape[0], 1)):
            return array.reshape(shape)
        ones = [k for k, v in self._sizes.items() if v == 1]
        note = (f"; in a case with {', '.join(ones)}=1, a size the course's own tests never "
                f"use (np.squeeze drops an axis of size 1): still a bug") if ones else ""
        raise ApiMismatch(user, f"after {user}, {name} has shape {array.shape}; expected "
                                f"{shape}{note}")

    # ---- GRUCell ----------------------------------------------------------------------

    def _gru_class(self) -> str:
        return self.BINDINGS["gru_step_forward"].split(".")[0]

    def _gru_weights(self, user, Wx, Wh, bx, bh):
        """The course's ``(names, values)`` of the functional GRU weights."""
        H = Wh.shape[0]
        blocks = {g: slice(k * H, (k + 1) * H) for k, g in enumerate(_GATES)}
        if self._nobias():
            if np.any(bx) or np.any(bh):  # the catalog's bias-free cases only
                raise ValueError("the 2019-2020 GRU_Cell has no biases: a case with biases")
            # its z is the catalog's 1 - z: that block's weights change sign
            values = {"Wzh": -Wh[:, blocks["z"]].T, "Wrh": Wh[:, blocks["r"]].T,
                      "Wh": Wh[:, blocks["n"]].T, "Wzx": -Wx[:, blocks["z"]].T,
                      "Wrx": Wx[:, blocks["r"]].T, "Wx": Wx[:, blocks["n"]].T}
            return _NOBIAS_WEIGHTS, tuple(values[n] for n in _NOBIAS_WEIGHTS)
        names = _GRU_WEIGHTS + _GRU_BIASES[self.convention("biases", "new")]
        return names, tuple([Wx[:, blocks[g]].T for g in _GATES]
                            + [Wh[:, blocks[g]].T for g in _GATES]
                            + [bx[blocks[g]] for g in _GATES] + [bh[blocks[g]] for g in _GATES])

    def _gru_forward(self, x, prev_h, Wx, Wh, bx, bh, **options):
        user = self.BINDINGS["gru_step_forward"]
        D, H = Wx.shape[0], Wh.shape[0]
        self._sizes = {"D": D, "H": H}
        names, weights = self._gru_weights(user, Wx, Wh, bx, bh)
        name = self._gru_class()
        cells, outputs = [], []
        for n in range(x.shape[0]):  # unbatched: one fresh cell per sample
            cell = self.construct(user, name, D, H)
            if "init_weights" in self.user_class(name)["methods"]:
                self.method(cell, "init_weights", user, names=())(*weights)
            else:
                for attr, value in zip(names, weights, strict=True):
                    self.set(cell, attr, value, user)
            forward = self.method(cell, "forward", user, names=("x", "h_prev_t"))
            h_t = self.values(user, forward(x[n], prev_h[n]), ("h_t",))
            outputs.append(self._vector(user, "h_t", h_t, H))
            cells.append(cell)
        return np.stack(outputs), (cells, D, H)

    def _gru_backward(self, dnext_h, handle):
        user = self.BINDINGS["gru_step_backward"]
        cells, D, H = handle
        self._sizes = {"D": D, "H": H}
        row = self.convention("gru_delta") == "(1, H)"
        names = _NOBIAS_WEIGHTS if self._nobias() else (
            _GRU_WEIGHTS + _GRU_BIASES[self.convention("biases", "new")])
        dxs, dhs, total = [], [], {}
        for n, cell in enumerate(cells):
            delta = dnext_h[n].reshape(1, H) if row else dnext_h[n]
            result = self.method(cell, "backward", user, names=("delta",))(delta)
            dx, dh = self.values(user, result, ("dx", "dh_prev_t"))
            dxs.append(self._vector(user, "dx", dx, D))
            dhs.append(self._vector(user, "dh_prev_t", dh, H))
            for name in names:
                shape = (H,) if name.startswith("b") else (H, D if name.endswith("x") else H)
                value = self._shaped(user, "cell.d" + name, self._grad(user, cell, "d" + name),
                                     shape)
                total[name] = total.get(name, 0) + value
        if self._nobias():
            dWx = np.concatenate([total["Wrx"].T, -total["Wzx"].T, total["Wx"].T], axis=1)
            dWh = np.concatenate([total["Wrh"].T, -total["Wzh"].T, total["Wh"].T], axis=1)
            return np.stack(dxs), np.stack(dhs), dWx, dWh, MISSING, MISSING
        biases = _GRU_BIASES[self.convention("biases", "new")]
        dWx = np.concatenate([total[f"W{g}x"].T for g in _GATES], axis=1)
        dWh = np.concatenate([total[f"W{g}h"].T for g in _GATES], axis=1)
        dbx = np.concatenate([total[b] for b in biases[:3]])
        dbh = np.concatenate([total[b] for b in biases[3:]])
        return np.stack(dxs), np.stack(dhs), dWx, dWh, dbx, dbh

    def _vector(self, user, name, value, size):
        """``(size,)`` from ``(size,)`` or the older years' ``(1, size)``."""
        array = np.asarray(value) if isinstance(value, (np.ndarray, np.generic)) else None
        if array is None or array.shape not in ((size,), (1, size)):
            ones = [k for k, v in self._sizes.items() if v == 1]
            note = (f"; in a case with {', '.join(ones)}=1, a size the course's own tests "
                    f"never use (np.squeeze drops an axis of size 1): still a bug"
                    if ones and array is not None and array.size == size else "")
            raise ApiMismatch(user, f"{user}: {name} is {describe_value(value)}; expected "
                                    f"shape ({size},) (or (1, {size})){note}")
        return array.reshape(size)

    # ---- the classifier ---------------------------------------------------------------

    def _classifier_forward(self, x, h0, w, b, **weights):
        user = self.BINDINGS["rnn_classifier_forward"]
        name = user.split(".")[0]
        N, T, D = x.shape
        L, H, M = h0.shape[0], h0.shape[2], w.shape[1]
        self._sizes = {"N": N, "T": T, "D": D, "H": H, "M": M}
        rnn_weights = []
        for k in range(L):
            Wx, Wh, bk = (weights[f"{p}_l{k}"] for p in ("Wx", "Wh", "b"))
            rnn_weights.append([Wx.T, Wh.T, *self._split_bias(bk, [k, D, H])])
        model, _ = self.new(user, name, D, H, M, L)
        self.method(model, "init_weights", user, names=("rnn_weights", "linear_weights"))(
            rnn_weights, [np.ascontiguousarray(w.T), b])
        cells = self._model_cells(user, model, L)
        before = [[self._grad(user, c, g, allow_missing=True, what=f"rnn[{k}]")
                   for g in _RNN_GRADS] for k, c in enumerate(cells)]
        forward = self.method(model, "forward", user, names=("x", "h_0"), returns="a")
        logits = self.values(user, forward(x, h0), ("logits",))
        return logits, (model, cells, before, (N, D, H, M, L))

    def _model_cells(self, user, model, L):
        rnn = self.get(model, "rnn", user, fetch="ref", default=None)
        if rnn is None:
            raise ApiMismatch(user, f"{user.split('.')[0]} has no attribute rnn after "
                                    f"init_weights; expected the list of its {L} cells")
        cells = [self.item(rnn, k, user, fetch="ref", default=None) for k in range(L)]
        if any(c is None for c in cells):
            raise ApiMismatch(user, f"{user.split('.')[0]}.rnn holds fewer than {L} cells for "
                                    f"num_layers={L}")
        return cells

    def _classifier_backward(self, dlogits, handle):
        user = self.BINDINGS["rnn_classifier_backward"]
        model, cells, before, (N, D, H, M, L) = handle
        self._sizes = {"N": N, "D": D, "H": H, "M": M}
        backward = self.method(model, "backward", user, names=("delta",), returns="a")
        dh0 = self.values(user, backward(dlogits), ("dh_0",))
        dh0 = self.read(user, dh0)
        if not isinstance(dh0, (np.ndarray, np.generic)):
            raise ApiMismatch(user, f"{user} returned {describe_value(dh0)}; expected dh_0 "
                                    f"(num_layers, batch_size, hidden_size) = ({L}, {N}, {H})")
        dweights = []
        for k, cell in enumerate(cells):
            D_in = D if k == 0 else H
            shapes = {"dW_ih": (H, D_in), "dW_hh": (H, H), "db_ih": (H,), "db_hh": (H,)}
            added = [self._added(user, g, self._shaped(
                user, f"rnn[{k}].{g}", self._grad(user, cell, g, what=f"rnn[{k}]"),
                shapes[g]), old) for g, old in zip(_RNN_GRADS, before[k], strict=True)]
            dW_ih, dW_hh, db_ih, db_hh = added
            dweights += [dW_ih.T * N, dW_hh.T * N, (db_ih + db_hh) * (N / 2)]
        weight, bias, averaged = self._linear()
        layer = self.get(model, "output_layer", user, fetch="ref")
        dW = self._shaped(user, f"output_layer.{weight}",
                          self._grad(user, layer, weight, what="output_layer"), (M, H))
        db = self._shaped(user, f"output_layer.{bias}",
                          self._grad(user, layer, bias, what="output_layer"), (M,))
        scale = N if averaged else 1
        # dh_0 is averaged over the batch (the course divides it by batch_size)
        return MISSING, np.asarray(dh0) * N, dW.T * scale, db * scale, *dweights


_COURSE_TESTS = ("autograder/hw3_autograder/test_rnn.py", "autograder/test_rnn.py")
_LINEAR_CHECK = re.compile(r"output_layer\.(dLdW|dW)\s*,\s*grad_dict\[[\"']output\.weight"
                           r"[\"']\](\.detach\(\))?(\.numpy\(\))?\s*(\*\s*batch_size)?")


def _describe(exc: UserError) -> str:
    from torch_ref.verify.load.loader import describe_exception

    return describe_exception(exc)


def _hw1_activation(text: str) -> str:
    """Why an activation file is HW1's (its ``Tanh`` derivative takes no state), or ''."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return ""
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Tanh":
            methods = {f.name: [a.arg for a in f.args.args[1:]] + [a.arg for a in
                                                                    f.args.kwonlyargs]
                       for f in node.body if isinstance(f, ast.FunctionDef)}
            init = next((f for f in node.body if isinstance(f, ast.FunctionDef)
                         and f.name == "__init__"), None)
            if init is not None and len(init.args.args) - len(init.args.defaults) > 1:
                needs = ", ".join(a.arg for a in init.args.args[1:])
                return (f"its Tanh is built as Tanh({needs}) (the autograd variant's "
                        f"activation?)")
            derivative = {m: args for m, args in methods.items()
                          if m in ("backward", "derivative")}
            if derivative and not any(args for args in derivative.values()):
                calls = ", ".join(f"{m}(self)" for m in derivative)
                return (f"its Tanh has {calls} with no argument for the hidden state (the HW1 "
                        f"file?)")
    return ""
