"""``--api eecs498``: UMich EECS 498/598 ``rnn_lstm_captioning.py`` (cs231n's API in torch).

cs231n's names, signatures and return tuples, on torch tensors::

    next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)      # written by hand
    dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
    h, cache = rnn_forward(x, h0, Wx, Wh, b);  rnn_backward(dh, cache)
    next_h, next_c = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)   # autograd
    h = lstm_forward(x, h0, Wx, Wh, b)                              # c0 = 0; autograd
    LSTM(D, H).step_forward(x, prev_h, prev_c); .forward(x, h0)     # newer years
    out = WordEmbedding(V, D).forward(x)                            # W_embed; autograd
    loss = temporal_softmax_loss(x, y, ignore_index=None)           # autograd

Arrays become tensors of the same dtype at the boundary (sharing memory where nothing
needs a gradient, so that a function changing its input is caught) and results come
back as arrays. Where the course leaves the backward pass to autograd, the gradients
are torch's through the student's forward, and a wrong one is the forward's fault.
The loss's mask becomes an ``ignore_index`` label: a class no kept label uses (cases
without one are not given). Reuse: another forward call with other inputs is made
between a forward and the backward that takes its cache.
"""
from __future__ import annotations

import numpy as np

from torch_ref.verify.adapters.base import FUNCTIONAL, Adapter, describe_value
from torch_ref.verify.adapters.editions import Edition, Sign
from torch_ref.verify.errors import ApiMismatch
from torch_ref.verify.isolation.client import Ref
from torch_ref.verify.isolation.protocol import Tensor

_BY_HAND = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward")


def _unused_label(y, mask, V):
    """A class no kept label uses (None when every class is used)."""
    used = set(np.asarray(y)[np.asarray(mask).astype(bool)].ravel().tolist())
    return next((c for c in range(V) if c not in used), None)


class Eecs498Adapter(Adapter):
    name = "eecs498"
    description = "UMich EECS 498/598 rnn_lstm_captioning.py: cs231n's functions on torch " \
                  "tensors (LSTM, embedding and loss differentiated by autograd)"
    conventional_files = ("rnn_lstm_captioning.py", "rnn_lstm_attention_captioning.py")
    BINDINGS = {**{name: name for name in _BY_HAND},
                "lstm_step_forward": "lstm_step_forward",
                "lstm_step_backward": "lstm_step_forward",
                "lstm_forward": "lstm_forward", "lstm_backward": "lstm_forward",
                "word_embedding_forward": "WordEmbedding.forward",
                "word_embedding_backward": "WordEmbedding.forward",
                "temporal_softmax_loss": "temporal_softmax_loss"}
    OPTIONAL = ("lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
                "word_embedding_forward", "word_embedding_backward", "temporal_softmax_loss")
    expects = "cs231n's rnn_step_forward ... rnn_backward on torch tensors (the module " \
              "imports torch), lstm_step_forward, lstm_forward, WordEmbedding, " \
              "temporal_softmax_loss"
    torch = True
    EDITIONS = (
        Edition("Fall 2020 / Winter 2022", "cs231n's functions on torch tensors",
                signs=(Sign("imports", "torch", weight=2),
                       Sign("param", "temporal_softmax_loss", "ignore_index", 2),
                       Sign("file", "rnn_lstm_captioning.py", weight=1),
                       Sign("file", "rnn_lstm_attention_captioning.py", weight=1))),
    )
    reuse_notes = ("first call",
                   "second call; the forward is called again with other inputs before "
                   "the backward gets its cache",
                   "third call; the forward is called again with other inputs before "
                   "the backward gets its cache")

    def __init__(self, executor=None, sources=None):
        super().__init__(executor, sources)
        if not self.present("lstm_step_forward") and self.present("LSTM.step_forward"):
            # newer years: class LSTM(nn.Module) with parameters Wx, Wh, b
            self.BINDINGS = {**self.BINDINGS, "lstm_step_forward": "LSTM.step_forward",
                             "lstm_step_backward": "LSTM.step_forward",
                             "lstm_forward": "LSTM.forward", "lstm_backward": "LSTM.forward"}
        self._torch = None

    def present(self, user_function: str) -> bool:
        if "." in user_function:
            entry = self.entry(user_function.split(".")[0])
            return entry is not None and entry["kind"] == "class"
        return super().present(user_function)

    def absence_note(self, user_function: str) -> str:
        return f"{user_function.split('.')[0]} is not defined in the module"

    def keeps(self, component, case) -> bool:
        if component.name != "temporal_softmax_loss":
            return True
        i = case.inputs
        return _unused_label(i["y"], i["mask"], i["x"].shape[-1]) is not None

    def implement(self, functional: str):
        user = self.BINDINGS[functional]
        if functional in _BY_HAND:
            return self._by_hand(functional, user)
        return {"lstm_step_forward": self._lstm_step, "lstm_forward": self._lstm,
                "lstm_step_backward": self._autograd_backward,
                "lstm_backward": self._autograd_backward,
                "word_embedding_forward": self._embedding,
                "word_embedding_backward": self._autograd_backward,
                "temporal_softmax_loss": self._loss}[functional]

    # ---- torch where the module runs ----------------------------------------------------

    def _module(self, user, *path) -> Ref:
        """A handle to ``torch.<path>`` in the module's process."""
        if self._torch is None or self._torch.generation != self.ex.generation:
            self._torch = self._through(user, lambda user: self.ex.import_module("torch"))
        obj = self._torch
        for name in path:
            obj = self.get(obj, name, user, fetch="ref")
        return obj

    def _tensor(self, user, array, grad=False, name="") -> Ref:
        """A tensor of ``array``'s dtype; sharing its memory where nothing needs a gradient,
        so that a function changing its input (``name``) is caught."""
        if not isinstance(array, np.ndarray):
            return array
        if grad:
            return self.call(user, self._module(user, "tensor"), np.array(array, copy=True),
                             names=(name,), returns="ref", requires_grad=True)
        return self.method(self._module(user), "from_numpy", user, returns="ref",
                           names=(name,))(array)

    def _array(self, user, value):
        if isinstance(value, Ref):
            return self._through(user, self.ex.array, value)
        return value

    # ---- written by hand --------------------------------------------------------------

    def _by_hand(self, functional, user):
        names = FUNCTIONAL[functional][1]
        arguments = FUNCTIONAL[functional][0]
        forward = names[-1] == "cache"
        spec = ["ref" if n == "cache" else "a" for n in names]

        def one(*args):
            tensors = [self._tensor(user, a, name=n) for a, n in zip(args, arguments,
                                                                     strict=True)]
            return self.call(user, user, *tensors, names=arguments, returns=spec)

        def run(*args):
            result = self.values(user, one(*args), names)
            if forward:
                self.decoy(one, *args)
            return result
        return run

    # ---- autograd -----------------------------------------------------------------------

    def _through_autograd(self, user, fn, arrays, inputs_grad, names, **kwargs):
        """Call ``fn`` (a handle) on tensors; ``(outputs as arrays, handle for the
        backward)``."""
        tensors = [self._tensor(user, a, grad=g) for a, g in zip(arrays, inputs_grad,
                                                                  strict=True)]
        spec = "ref" if len(names) == 1 else ["ref"] * len(names)
        result = self.values(user, self.call(user, fn, *tensors, returns=spec,
                                             names=(), **kwargs), names)
        outputs = (result,) if len(names) == 1 else tuple(result)
        values = []
        for name, out in zip(names, outputs, strict=True):
            value = self._array(user, out) if isinstance(out, Ref) else None
            if not isinstance(value, Tensor):
                raise ApiMismatch(user, f"{user} returned {name} as {describe_value(out)}; "
                                        f"expected a torch tensor")
            values.append(np.asarray(value))
        self.decoy(lambda *a: self.call(user, fn, *(self._tensor(user, x) for x in a),
                                        returns=spec, names=(), **kwargs), *arrays)
        leaves = [t for t, g in zip(tensors, inputs_grad, strict=True) if g]
        self.keep(*outputs, *leaves)
        return tuple(values), (user, outputs, leaves)

    def _autograd_backward(self, *args):
        *upstream, (user, outputs, leaves) = args
        used = [(o, u) for o, u in zip(outputs, upstream, strict=True)
                if self.get(o, "requires_grad", user) is True]
        if not used:
            raise ApiMismatch(user, f"{user}'s outputs do not depend on its inputs "
                                    f"(detached from autograd?)")
        grads = self.call(user, self._module(user, "autograd", "grad"),
                          [o for o, _ in used], leaves,
                          [self._tensor(user, np.ascontiguousarray(u)) for _, u in used],
                          names=(), returns=2, tensors=True, allow_unused=True)
        if not isinstance(grads, (tuple, list)) or len(grads) != len(leaves):
            raise ApiMismatch(user, f"autograd through {user} gave {describe_value(grads)}")
        result = []
        for leaf, g in zip(leaves, grads, strict=True):
            if g is None:
                g = np.zeros_like(np.asarray(self._array(user, leaf)))
            result.append(np.asarray(g))
        return result[0] if len(result) == 1 else tuple(result)

    def _lstm_step(self, x, prev_h, prev_c, Wx, Wh, b):
        user = self.BINDINGS["lstm_step_forward"]
        if user == "LSTM.step_forward":
            return self._lstm_module(user, "step_forward", (x, prev_h, prev_c), (Wx, Wh, b),
                                     ("next_h", "next_c"))
        outputs, handle = self._through_autograd(user, self.function(user),
                                                 (x, prev_h, prev_c, Wx, Wh, b),
                                                 (True,) * 6, ("next_h", "next_c"))
        return (*outputs, handle)

    def _lstm(self, x, h0, Wx, Wh, b):
        user = self.BINDINGS["lstm_forward"]
        if user == "LSTM.forward":
            return self._lstm_module(user, "forward", (x, h0), (Wx, Wh, b), ("h",))
        outputs, handle = self._through_autograd(user, self.function(user),
                                                 (x, h0, Wx, Wh, b), (True,) * 5, ("h",))
        return outputs[0], handle

    def _parameter(self, user, array) -> Ref:
        return self.call(user, self._module(user, "nn", "Parameter"),
                         self._tensor(user, array, grad=True), names=(), returns="ref")

    def _lstm_module(self, user, method, arrays, weights, names):
        """``LSTM(D, H)`` given ``weights`` as its parameters ``Wx``, ``Wh``, ``b``."""
        layer = self.call(user, self.function("LSTM", user), weights[0].shape[0],
                          weights[1].shape[0], names=(), returns="ref")
        params = [self._parameter(user, w) for w in weights]
        for name, param in zip(("Wx", "Wh", "b"), params, strict=True):
            self.set(layer, name, param, user)
        bound = self.get(layer, method, user, fetch="ref")
        outputs, (_, tensors, leaves) = self._through_autograd(
            user, bound, arrays, (True,) * len(arrays), names)
        self.keep(layer, *params)
        return (*outputs, (user, tensors, leaves + params))

    def _embedding(self, x, W):
        user = "WordEmbedding.forward"
        layer = self.call(user, self.function("WordEmbedding", user), *W.shape, names=(),
                          returns="ref")
        weight = self._parameter(user, W)
        self.set(layer, "W_embed", weight, user)
        out = self.values(user, self.method(layer, "forward", user, returns="ref",
                                            names=("x",))(self._tensor(user, x)), ("out",))
        value = self._array(user, out) if isinstance(out, Ref) else None
        if not isinstance(value, Tensor):
            raise ApiMismatch(user, f"{user} returned {describe_value(out)}; expected a tensor")
        self.keep(layer, weight, out)
        return np.asarray(value), (user, (out,), [weight])

    def _loss(self, x, y, mask):
        user = "temporal_softmax_loss"
        V = x.shape[-1]
        ignore = _unused_label(y, mask, V)
        labels = np.where(np.asarray(mask).astype(bool), y, ignore)
        scores = self._tensor(user, x, grad=True)
        loss = self.values(user, self.call(user, user, scores, self._tensor(user, labels),
                                           names=("x", "y"), returns="ref",
                                           ignore_index=ignore), ("loss",))
        value = self._array(user, loss) if isinstance(loss, Ref) else None
        if not isinstance(value, Tensor) or value.size != 1:
            raise ApiMismatch(user, f"{user} returned {describe_value(loss)}; expected a "
                                    f"scalar tensor")
        if self.get(loss, "requires_grad", user) is not True:
            raise ApiMismatch(user, f"{user}'s loss does not depend on x (detached from "
                                    f"autograd?)")
        scalar = self.method(loss, "reshape", user, returns="ref")(())
        grads = self.call(user, self._module(user, "autograd", "grad"), scalar, [scores],
                          names=(), returns=2, tensors=True)
        if not isinstance(grads, (tuple, list)) or len(grads) != 1:
            raise ApiMismatch(user, f"autograd through {user} gave {describe_value(grads)}")
        return np.asarray(value).reshape(()), np.asarray(grads[0])
