"""``--api hw3``: the ``RNNLayer`` / ``LSTMLayer`` classes of the HW3 notebook.

Used exactly as the notebook's test cells use them::

    layer = RNNLayer(D, H)            # draws its weights from np.random
    layer.Wx, layer.Wh, layer.b = Wx, Wh, b          # new arrays after construction
    next_h, cache = layer.forward_step(x, prev_h)    # LSTM: (next_h, next_c, cache)
    dx, dprev_h, dWx, dWh, db = layer.backward_step(dnext_h, cache)
    h = layer.forward(x, h0)                          # the array h only
    layer.backward(dh)                                # returns nothing ...
    layer.grad['dx'], layer.grad['dh0'], layer.grad['dWx'], ...  # ... fills layer.grad

``LSTMLayer`` has ``Wx (D, 4H)``, ``Wh (H, 4H)``, ``b (4H,)`` (gates ``i, f, o, g``)
and its ``forward_step`` takes and returns the cell state too. The notebook's
numerical gradient checks perturb ``layer.Wx`` in place and call ``forward``
again after reading ``layer.grad``; the reuse checks do the same.
"""
from __future__ import annotations

from torch_ref.verify.adapters.base import ClassAdapter, describe_value
from torch_ref.verify.errors import ApiMismatch

_GRAD_KEYS = ("dx", "dh0", "dWx", "dWh", "db")
_STEP_METHODS = ("forward_step", "backward_step", "forward", "backward")


class Hw3Adapter(ClassAdapter):
    name = "hw3"
    description = "HW3 classes RNNLayer / LSTMLayer (forward_step, backward_step, forward, " \
                  "backward; gradients in layer.grad)"
    golden_documents = ("hw3_rnn_lstm_checks",)
    conventional_files = ("recurrent_layers.py", "DL/layer/recurrent_layers.py",
                          "layer/recurrent_layers.py")
    BINDINGS = {f"{cell}_{kind}": f"{cls}.{method}"
                for cell, cls in (("rnn", "RNNLayer"), ("lstm", "LSTMLayer"))
                for kind, method in zip(("step_forward", "step_backward", "forward",
                                         "backward"), _STEP_METHODS, strict=True)}
    ARGUMENTS = {"rnn_step_forward": ("x", "prev_h"), "lstm_step_forward": ("x", "prev_h",
                                                                            "prev_c"),
                 "rnn_forward": ("x", "h0"), "lstm_forward": ("x", "h0")}

    def implement(self, functional: str):
        cell, kind = functional.split("_", 1)
        class_name = "RNNLayer" if cell == "rnn" else "LSTMLayer"
        user = self.BINDINGS[functional]
        lstm = cell == "lstm"
        if kind == "step_forward":
            return lambda *args: self._step_forward(user, class_name, lstm, *args)
        if kind == "step_backward":
            return lambda *args: self._step_backward(user, lstm, *args)
        if kind == "forward":
            return lambda *args: self._forward(user, class_name, *args)
        return lambda dh, layer: self._backward(user, dh, layer)

    def _layer(self, user: str, class_name: str, Wx, Wh, b):
        """The layer for these weights, given them the way the notebook does."""
        layer, use = self.new(user, class_name, Wx.shape[0], Wh.shape[0])
        self.assign_all(use, user, layer, {"Wx": Wx, "Wh": Wh, "b": b})
        return layer

    def _step_forward(self, user, class_name, lstm, x, prev_h, *rest):
        state = rest[:1] if lstm else ()
        Wx, Wh, b = rest[-3:]
        layer = self._layer(user, class_name, Wx, Wh, b)
        names = ("next_h", "next_c", "cache") if lstm else ("next_h", "cache")
        step = self.method(layer, "forward_step", user, returns=["a"] * (len(names) - 1)
                           + ["ref"], names=self.ARGUMENTS[f"{'lstm' if lstm else 'rnn'}"
                                                           f"_step_forward"])
        result = self.values(user, step(x, prev_h, *state), names)
        self.remember_forward(layer, step, x, prev_h, *state)
        self.replay(layer)  # a backward_step must use its cache, not the layer's last state
        return (*result[:-1], (layer, result[-1]))

    def _step_backward(self, user, lstm, *args):
        *upstream, (layer, cache) = args
        names = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db") if lstm else \
            ("dx", "dprev_h", "dWx", "dWh", "db")
        step = self.method(layer, "backward_step", user, returns=["a"] * len(names),
                           names=("dnext_h", "dnext_c", "cache") if lstm else
                           ("dnext_h", "cache"))
        result = self.values(user, step(*upstream, cache), names)
        self.replay(layer)
        return result

    def _forward(self, user, class_name, x, h0, Wx, Wh, b):
        layer = self._layer(user, class_name, Wx, Wh, b)
        forward = self.method(layer, "forward", user, names=("x", "h0"), returns="a")
        h = self.values(user, forward(x, h0), ("h",))
        if isinstance(h, (tuple, list)):
            raise ApiMismatch(user, f"{user} returned {describe_value(h)}; the hw3 API "
                                    f"returns the hidden states h (N, T, H) only")
        self.remember_forward(layer, forward, x, h0)
        return h, layer

    def _backward(self, user, dh, layer):
        self.method(layer, "backward", user, names=("dh",))(dh)
        grad = self.get(layer, "grad", user, default=None, fetch="A")
        if not isinstance(grad, dict):
            raise ApiMismatch(user, f"after {user}, layer.grad is {describe_value(grad)}; "
                                    f"expected a dict with keys {', '.join(_GRAD_KEYS)}")
        grads = tuple(self.lookup(grad, key, user, "layer.grad") for key in _GRAD_KEYS)
        self.replay(layer)  # the notebook reads layer.grad, then calls forward again
        return grads
