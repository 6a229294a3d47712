"""``--api hw3``: the ``RNNLayer`` / ``LSTMLayer`` / ``GRULayer`` classes of ITU BLG 561E.

Used exactly as the course's notebook and unittests use them (the 2020 and 2024
editions)::

    layer = RNNLayer(D, H)            # draws its weights from np.random
    layer.Wx, layer.Wh, layer.b = Wx, Wh, b          # new arrays after construction
    next_h, cache = layer.forward_step(x, prev_h)    # LSTM: (next_h, next_c, cache)
    dx, dprev_h, dWx, dWh, db = layer.backward_step(dnext_h, cache)
    h = layer.forward(x, h0)                          # the array h only
    layer.backward(dh)                                # returns nothing ...
    layer.grad['dx'], layer.grad['dh0'], layer.grad['dWx'], ...  # ... fills layer.grad

``LSTMLayer`` has ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)`` (gates ``i, f, o, g``)
and its ``forward_step`` takes and returns the cell state too. ``GRULayer`` (2020) packs
the update and reset gates ``[z, r]`` in ``Wx (D, 2H)``, ``Wh (H, 2H)``, ``b (2H,)`` and
keeps the candidate apart in ``Wxi (D, H)``, ``Whi (H, H)``, ``bi (H,)``; the reset gate
multiplies ``h`` before the candidate's product and ``next_h = z h + (1 - z) h~``
(torch's sense of ``z``): checked against the catalog's reset-before GRU, whose two
biases add up to the course's one. Its ``backward_step`` returns ``dx, dprev_h, dWx,
dWh, db, dWxi, dWhi, dbi`` and ``layer.grad`` holds those keys too. The notebook's
numerical gradient checks perturb ``layer.Wx`` in place and call ``forward`` again
after reading ``layer.grad``; the reuse checks do the same.

Editions (read from the module's signs, see :data:`Hw3Adapter.EDITIONS`): 2024
(``DL/layer/recurrent_layers.py``, stubs raising ``NotImplementedError`` under
``FILL`` banners, no GRU), 2020 (``blg561/layer/recurrent_layers.py`` with a
``GRULayer``, checked by the course's unittests) and 2018, the stateful layer of
"Assignment 4.1" in ``blg561/layer/layers_with_weights.py``::

    rnn = RNNLayer(D, H);  rnn.W_ih, rnn.W_hh, rnn.b = Wx, Wh, b
    rnn.x = [x];  next_h = rnn.forward_step(x, prev_h)     # kept in rnn.prev_H
    dx = rnn.backward_step(prev_h, dnext_h)                 # the last forward_step's
    rnn.dprev_H, rnn.dW_ih, rnn.dW_hh, rnn.db               # gradients left on the layer
    h = rnn.forward(x, h0);  dx, dh0, dW_ih, dW_hh, db = rnn.backward(dh)

There a backward works on what the last forward left in the layer (that is the
course's design), so no other forward is slipped in between; 2018 has no LSTM layer.
The course computes in float64 only (``np.random.rand``, ``np.zeros``): float32 is not
checked.
"""
from __future__ import annotations

import ast

import numpy as np

from torch_ref import layout as L
from torch_ref.verify.adapters.base import MISSING, ClassAdapter, describe_value
from torch_ref.verify.adapters.editions import Edition, Sign
from torch_ref.verify.errors import ApiMismatch

_METHODS = ("forward_step", "backward_step", "forward", "backward")
_KINDS = ("step_forward", "step_backward", "forward", "backward")
_CLASSES = {"rnn": "RNNLayer", "lstm": "LSTMLayer", "gru": "GRULayer"}
_GRAD_KEYS = {"rnn": ("dx", "dh0", "dWx", "dWh", "db"),
              "lstm": ("dx", "dh0", "dWx", "dWh", "db"),
              "gru": ("dx", "dh0", "dWx", "dWh", "db", "dWxi", "dWhi", "dbi")}
_STEP_GRADS = {"rnn": ("dx", "dprev_h", "dWx", "dWh", "db"),
               "lstm": ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
               "gru": ("dx", "dprev_h", "dWx", "dWh", "db", "dWxi", "dWhi", "dbi")}
_GRU_WEIGHTS = ("Wx", "Wh", "b", "Wxi", "Whi", "bi")
_LSTM = tuple(f"lstm_{k}" for k in _KINDS)
_GRU = tuple(f"gru_{k}" for k in _KINDS)
# the GRU layer's tensors in its own layout: [z, r] in dWx ..., the candidate in dWxi ...
_GRU_TENSORS = {name: (f"{name}/{name}i {{gate}}", L.hw3_gru_view)
                for name in ("dWx", "dWh")}
_GRU_TENSORS.update({"dbx": ("db/dbi {gate}", L.hw3_gru_view),
                     "dbh": ("db/dbi {gate}", L.hw3_gru_view)})
# 2018: the stateful RNNLayer
_STATEFUL_WEIGHTS = ("W_ih", "W_hh", "b")
_STATEFUL_GRADS = ("dW_ih", "dW_hh", "db")


class Hw3Adapter(ClassAdapter):
    name = "hw3"
    description = "BLG561E classes RNNLayer / LSTMLayer / GRULayer (forward_step, " \
                  "backward_step, forward, backward; gradients in layer.grad)"
    golden_documents = ("hw3_rnn_lstm_checks",)
    conventional_files = ("recurrent_layers.py", "DL/layer/recurrent_layers.py",
                          "layer/recurrent_layers.py", "blg561/layer/recurrent_layers.py",
                          "blg561/blg561/layer/recurrent_layers.py",
                          "blg561/layer/layers_with_weights.py")
    BINDINGS = {f"{cell}_{kind}": f"{cls}.{method}"
                for cell, cls in _CLASSES.items()
                for kind, method in zip(_KINDS, _METHODS, strict=True)}
    ARGUMENTS = {"rnn_step_forward": ("x", "prev_h"), "lstm_step_forward": ("x", "prev_h",
                                                                            "prev_c"),
                 "gru_step_forward": ("x", "prev_h"),
                 "rnn_forward": ("x", "h0"), "lstm_forward": ("x", "h0"),
                 "gru_forward": ("x", "h0")}
    # the course's GRU applies the reset gate before the candidate's hidden product
    COMPONENTS = ("rnn_step", "rnn", "lstm_step", "lstm", "gru_step_reset_before",
                  "gru_reset_before")
    dtypes = ("float64",)
    TENSORS = {"gru_step_reset_before": _GRU_TENSORS, "gru_reset_before": _GRU_TENSORS}
    GATES = {"n": "candidate"}
    EDITIONS = (
        Edition("2024", "RNNLayer and LSTMLayer in DL/layer/recurrent_layers.py, the stubs "
                "raising NotImplementedError under FILL banners; a GRULayer is an extra",
                signs=(Sign("file", "DL/layer/recurrent_layers.py", weight=2),
                       Sign("source", r"^\s*#.*\bFILL\b", says="FILL banners in its source"),
                       Sign("source", r"Cell state should be initialized to 0",
                            says="LSTMLayer.forward's docstring of 2024"),
                       Sign("file", "Deep_Learning_HW3_2024.pdf")),
                optional=_GRU),
        Edition("2020", "RNNLayer, LSTMLayer and GRULayer in blg561/layer/recurrent_layers.py"
                " (the GRU's candidate in Wxi, Whi, bi), checked by the course's unittests",
                signs=(Sign("file", "blg561/layer/recurrent_layers.py", weight=2),
                       Sign("defines", "GRULayer", weight=2),
                       Sign("file", "tests/test_gru.py"))),
        Edition("2018", "a stateful RNNLayer in blg561/layer/layers_with_weights.py: W_ih, "
                "W_hh, b; forward_step -> next_h; backward_step(prev_h, dprev) -> dx, the "
                "gradients left in dW_ih, dW_hh, db, dprev_H; backward -> (dx, dh0, dW_ih, "
                "dW_hh, db); no LSTM layer",
                signs=(Sign("param", "RNNLayer.backward_step", "dprev", weight=3),
                       Sign("source", r"self\.W_ih\b", weight=2,
                            says="its weights are self.W_ih, self.W_hh"),
                       Sign("file", "blg561/expected/dh0.npy"),
                       Sign("defines", "AffineLayer")),
                optional=_LSTM + _GRU, conventions={"stateful": True}),
    )

    def absence_note(self, user_function: str) -> str:
        class_name = user_function.split(".")[0]
        cell = next((c for c, cls in _CLASSES.items() if cls == class_name), None)
        if (self.user_class(class_name) is None and self.edition is not None and cell
                and f"{cell}_forward" in self.edition.optional):
            return f"no class {class_name}: not part of the {self.edition.name} edition"
        return super().absence_note(user_function)

    @property
    def _stateful(self) -> bool:
        return bool(self.convention("stateful", False))

    def implement(self, functional: str):
        cell, kind = functional.split("_", 1)
        class_name = _CLASSES[cell]
        user = self.BINDINGS[functional]
        if self._stateful and cell == "rnn":
            return {"step_forward": lambda *a, **_: self._stateful_step_forward(user, *a),
                    "step_backward": lambda *a: self._stateful_step_backward(user, *a),
                    "forward": lambda *a, **_: self._forward(user, class_name, cell, *a),
                    "backward": lambda dh, layer: self._stateful_backward(user, dh,
                                                                           layer)}[kind]
        if kind == "step_forward":
            return lambda *args, **_: self._step_forward(user, class_name, cell, *args)
        if kind == "step_backward":
            return lambda *args: self._step_backward(user, cell, *args)
        if kind == "forward":
            return lambda *args, **_: self._forward(user, class_name, cell, *args)
        return lambda dh, layer: self._backward(user, cell, dh, layer)

    # ---- weights ----------------------------------------------------------------------

    def _course_weights(self, cell, Wx, Wh, *biases) -> dict:
        """The layer's attributes for the functional weights."""
        if cell == "gru":
            return dict(zip(_GRU_WEIGHTS, L.to_hw3_gru(Wx, Wh, *biases), strict=True))
        names = _STATEFUL_WEIGHTS if self._stateful else ("Wx", "Wh", "b")
        return dict(zip(names, (Wx, Wh, *biases), strict=True))

    def _layer(self, user: str, class_name: str, cell: str, weights: tuple):
        """The layer for these weights, given them the way the notebook does."""
        Wx, Wh = weights[0], weights[1]
        layer, use = self.new(user, class_name, Wx.shape[0], Wh.shape[0])
        self.assign_all(use, user, layer, self._course_weights(cell, *weights))
        return layer

    def _course_grads(self, user, cell, grads: tuple) -> tuple:
        """The functional weight gradients of the course's (``dWx, dWh, db`` ...)."""
        if cell != "gru":
            return grads
        H = None
        for name, value in zip(_GRU_WEIGHTS, grads, strict=True):
            if not isinstance(value, np.ndarray):
                raise ApiMismatch(user, f"{user} gave d{name} as {describe_value(value)}; "
                                        f"expected an array")
            if name == "Whi" and value.ndim == 2:
                H = value.shape[-1]
        shapes = {"Wx": (None, 2 * H), "Wh": (H, 2 * H), "b": (2 * H,), "Wxi": (None, H),
                  "Whi": (H, H), "bi": (H,)} if H else {}
        for name, value in zip(_GRU_WEIGHTS, grads, strict=True):
            want = shapes.get(name)
            if want is None or len(want) != value.ndim or any(
                    w is not None and w != s for w, s in zip(want, value.shape, strict=True)):
                shown = "(" + ", ".join("D" if w is None else str(w) for w in want) + \
                    ("," if len(want) == 1 else "") + ")" if want else "(H, H)"
                raise ApiMismatch(user, f"{user} gave d{name} of shape {value.shape}; "
                                        f"expected {shown}")
        return L.from_hw3_gru(*grads)

    # ---- 2020 and 2024 ----------------------------------------------------------------

    def _step_forward(self, user, class_name, cell, x, prev_h, *rest):
        lstm = cell == "lstm"
        state = rest[:1] if lstm else ()
        weights = rest[1:] if lstm else rest
        layer = self._layer(user, class_name, cell, weights)
        names = ("next_h", "next_c", "cache") if lstm else ("next_h", "cache")
        step = self.method(layer, "forward_step", user, returns=["a"] * (len(names) - 1)
                           + ["ref"], names=self.ARGUMENTS[f"{cell}_step_forward"])
        result = self.values(user, step(x, prev_h, *state), names)
        self.remember_forward(layer, step, x, prev_h, *state)
        self.replay(layer)  # a backward_step must use its cache, not the layer's last state
        return (*result[:-1], (layer, result[-1]))

    def _step_backward(self, user, cell, *args):
        *upstream, (layer, cache) = args
        names = _STEP_GRADS[cell]
        step = self.method(layer, "backward_step", user, returns=["a"] * len(names),
                           names=("dnext_h", "dnext_c", "cache") if cell == "lstm" else
                           ("dnext_h", "cache"))
        result = self.values(user, step(*upstream, cache), names)
        self.replay(layer)
        if cell != "gru":
            return result
        result = self.read(user, result)  # the course's layout, turned into the catalog's
        return (*result[:2], *self._course_grads(user, cell, tuple(result[2:])))

    def _forward(self, user, class_name, cell, x, h0, *weights):
        layer = self._layer(user, class_name, cell, weights)
        forward = self.method(layer, "forward", user, names=("x", "h0"), returns="a")
        h = self.values(user, forward(x, h0), ("h",))
        if isinstance(h, (tuple, list)):
            raise ApiMismatch(user, f"{user} returned {describe_value(h)}; the hw3 API "
                                    f"returns the hidden states h (N, T, H) only")
        self.remember_forward(layer, forward, x, h0)
        return h, layer

    def _backward(self, user, cell, dh, layer):
        self.method(layer, "backward", user, names=("dh",))(dh)
        keys = _GRAD_KEYS[cell]
        grad = self.get(layer, "grad", user, default=None, fetch="A")
        if not isinstance(grad, dict):
            raise ApiMismatch(user, f"after {user}, layer.grad is {describe_value(grad)}; "
                                    f"expected a dict with keys {', '.join(keys)}")
        grads = tuple(self.lookup(grad, key, user, "layer.grad") for key in keys)
        self.replay(layer)  # the notebook reads layer.grad, then calls forward again
        if cell != "gru":
            return grads
        grads = self.read(user, grads)
        return (*grads[:2], *self._course_grads(user, cell, tuple(grads[2:])))

    # ---- 2018: the stateful RNNLayer --------------------------------------------------

    def _stateful_step_forward(self, user, x, prev_h, *weights):
        layer = self._layer(user, "RNNLayer", "rnn", weights)
        # the notebook hands the step its input this way; backward_step reads self.x[-1]
        self.set(layer, "x", [x], user)
        step = self.method(layer, "forward_step", user, returns="a", names=("x", "prev_h"))
        next_h = self.values(user, step(x, prev_h), ("next_h",))
        if isinstance(next_h, (tuple, list)):
            raise ApiMismatch(user, f"{user} returned {describe_value(next_h)}; in this "
                                    f"edition forward_step returns next_h only")
        # backward_step works on what this forward_step left in the layer: nothing between
        return next_h, (layer, prev_h)

    def _stateful_step_backward(self, user, dnext_h, handle):
        layer, prev_h = handle
        step = self.method(layer, "backward_step", user, returns="a",
                           names=("prev_h", "dprev"))
        dx = self.values(user, step(prev_h, dnext_h), ("dx",))
        if isinstance(dx, (tuple, list)):
            raise ApiMismatch(user, f"{user} returned {describe_value(dx)}; in this edition "
                                    f"backward_step returns dx only and leaves the other "
                                    f"gradients in dprev_H, dW_ih, dW_hh, db")
        found = []
        for attr in ("dprev_H",) + _STATEFUL_GRADS:
            value = self.get(layer, attr, user, default=None)
            if not isinstance(value, np.ndarray):
                raise ApiMismatch(user, f"after {user}, RNNLayer.{attr} is "
                                        f"{describe_value(value)}; backward_step leaves that "
                                        f"gradient there")
            found.append(value)
        self.replay(layer)
        return (dx, *found)

    def _stateful_backward(self, user, dh, layer):
        backward = self.method(layer, "backward", user, names=("dprev",), returns=["a"] * 5)
        result = self.values(user, backward(dh), ("dx", "dh0", "dW_ih", "dW_hh", "db"))
        self.replay(layer)  # the notebook reads the gradients, then may call forward again
        return result

    # ---- the course's template --------------------------------------------------------

    def left_as_template(self, user_function: str) -> bool:
        """The 2020 stubs (``pass``, names set to None) as every course's; the 2024 ones
        too: a FILL banner, ``raise NotImplementedError``, then the template's own lines
        that never run (``return next_h, cache``, ``self.grad = {'dx': dx, ...}``)."""
        if super().left_as_template(user_function):
            return True
        found = self.sources.at(self.where(user_function))
        if found is None:
            return False
        body = [s for s in found[0].body if not (isinstance(s, ast.Expr) and isinstance(
            s.value, ast.Constant))]  # the docstring
        return bool(body) and _raises_not_implemented(body[0])


def _raises_not_implemented(stmt) -> bool:
    if not isinstance(stmt, ast.Raise) or stmt.exc is None:
        return False
    target = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
    return isinstance(target, ast.Name) and target.id == "NotImplementedError"


__all__ = ["Hw3Adapter", "MISSING"]
