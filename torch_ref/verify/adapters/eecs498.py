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

from torch_ref.verify.adapters.base import FUNCTIONAL, Adapter, ApiMismatch, describe_value

_BY_HAND = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward")


def _tensor(array, grad=False):
    import torch

    if grad:
        return torch.tensor(np.array(array, copy=True), requires_grad=True)
    return torch.from_numpy(array) if isinstance(array, np.ndarray) else array


def _array(value):
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    return value


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
    reuse_notes = ("first call",
                   "second call; the forward is called again with other inputs before "
                   "the backward gets its cache",
                   "third call; the forward is called again with other inputs before "
                   "the backward gets its cache")

    def __init__(self, module, guard=None):
        super().__init__(module, guard)
        if not callable(getattr(module, "lstm_step_forward", None)) and callable(
                getattr(getattr(module, "LSTM", None), "step_forward", None)):
            # newer years: class LSTM(nn.Module) with parameters Wx, Wh, b
            self.BINDINGS = {**self.BINDINGS, "lstm_step_forward": "LSTM.step_forward",
                             "lstm_step_backward": "LSTM.step_forward",
                             "lstm_forward": "LSTM.forward", "lstm_backward": "LSTM.forward"}

    def present(self, user_function: str) -> bool:
        if "." in user_function:
            cls = getattr(self.module, user_function.split(".")[0], None)
            return isinstance(cls, type)
        return callable(getattr(self.module, user_function, None))

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

    # ---- written by hand --------------------------------------------------------------

    def _by_hand(self, functional, user):
        fn = getattr(self.module, user)
        names = FUNCTIONAL[functional][1]
        forward = names[-1] == "cache"

        def run(*args):
            tensors = [_tensor(a) for a in args]
            result = self.values(user, fn, self.call(user, fn, *tensors), names)
            if forward:
                self.decoy(lambda *a: self.call(user, fn, *(_tensor(x) for x in a)), *args)
                return (*(_array(v) for v in result[:-1]), result[-1])
            return tuple(_array(v) for v in result)
        return run

    # ---- autograd -----------------------------------------------------------------------

    def _through_autograd(self, user, fn, arrays, inputs_grad, names, **kwargs):
        """Call ``fn`` on tensors; ``(outputs as arrays, handle for the backward)``."""
        import torch

        tensors = [_tensor(a, grad=g) for a, g in zip(arrays, inputs_grad, strict=True)]
        result = self.values(user, fn, self.call(user, fn, *tensors, **kwargs), names)
        outputs = (result,) if len(names) == 1 else tuple(result)
        for name, out in zip(names, outputs, strict=True):
            if not isinstance(out, torch.Tensor):
                raise ApiMismatch(user, f"{user} returned {name} as {describe_value(out)}; "
                                        f"expected a torch tensor")
        self.decoy(lambda *a: self.call(user, fn, *(_tensor(x) for x in a), **kwargs),
                   *arrays)
        leaves = [t for t, g in zip(tensors, inputs_grad, strict=True) if g]
        return tuple(_array(o) for o in outputs), (user, outputs, leaves)

    def _autograd_backward(self, *args):
        import torch

        *upstream, (user, outputs, leaves) = args
        pairs = [(o, torch.from_numpy(np.ascontiguousarray(u)))
                 for o, u in zip(outputs, upstream, strict=True)]
        used = [(o, u) for o, u in pairs if o.requires_grad]
        if not used:
            raise ApiMismatch(user, f"{user}'s outputs do not depend on its inputs "
                                    f"(detached from autograd?)")
        grads = self.call(user, torch.autograd.grad, [o for o, _ in used],
                          leaves, [u for _, u in used], allow_unused=True)
        result = tuple(np.zeros(leaf.shape, dtype=_array(leaf).dtype) if g is None
                       else _array(g) for leaf, g in zip(leaves, grads, strict=True))
        return result[0] if len(result) == 1 else result

    def _lstm_step(self, x, prev_h, prev_c, Wx, Wh, b):
        user = self.BINDINGS["lstm_step_forward"]
        if user == "LSTM.step_forward":
            return self._lstm_module(user, "step_forward", (x, prev_h, prev_c), (Wx, Wh, b),
                                     ("next_h", "next_c"))
        outputs, handle = self._through_autograd(user, self.module.lstm_step_forward,
                                                 (x, prev_h, prev_c, Wx, Wh, b),
                                                 (True,) * 6, ("next_h", "next_c"))
        return (*outputs, handle)

    def _lstm(self, x, h0, Wx, Wh, b):
        user = self.BINDINGS["lstm_forward"]
        if user == "LSTM.forward":
            return self._lstm_module(user, "forward", (x, h0), (Wx, Wh, b), ("h",))
        outputs, handle = self._through_autograd(user, self.module.lstm_forward,
                                                 (x, h0, Wx, Wh, b), (True,) * 5, ("h",))
        return outputs[0], handle

    def _lstm_module(self, user, method, arrays, weights, names):
        """``LSTM(D, H)`` given ``weights`` as its parameters ``Wx``, ``Wh``, ``b``."""
        import torch

        layer = self.construct(user, self.module.LSTM, weights[0].shape[0],
                               weights[1].shape[0])
        params = [torch.nn.Parameter(torch.tensor(np.array(w, copy=True))) for w in weights]
        for name, param in zip(("Wx", "Wh", "b"), params, strict=True):
            self.call(user, setattr, layer, name, param)
        bound = getattr(layer, method)
        outputs, (_, tensors, leaves) = self._through_autograd(
            user, bound, arrays, (True,) * len(arrays), names)
        return (*outputs, (user, tensors, leaves + params))

    def _embedding(self, x, W):
        import torch

        user = "WordEmbedding.forward"
        cls = self.module.WordEmbedding
        layer = self.construct(user, cls, *W.shape)
        weight = torch.nn.Parameter(torch.tensor(np.array(W, copy=True)))
        self.call(user, setattr, layer, "W_embed", weight)
        out = self.values(user, layer.forward,
                          self.call(user, layer.forward, torch.from_numpy(x)), ("out",))
        if not isinstance(out, torch.Tensor):
            raise ApiMismatch(user, f"{user} returned {describe_value(out)}; expected a tensor")
        return _array(out), (user, (out,), [weight])

    def _loss(self, x, y, mask):
        import torch

        user = "temporal_softmax_loss"
        fn = self.module.temporal_softmax_loss
        V = x.shape[-1]
        ignore = _unused_label(y, mask, V)
        labels = np.where(np.asarray(mask).astype(bool), y, ignore)
        scores = _tensor(x, grad=True)
        loss = self.values(user, fn, self.call(user, fn, scores, torch.from_numpy(labels),
                                               ignore_index=ignore), ("loss",))
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ApiMismatch(user, f"{user} returned {describe_value(loss)}; expected a "
                                    f"scalar tensor")
        if not loss.requires_grad:
            raise ApiMismatch(user, f"{user}'s loss does not depend on x (detached from "
                                    f"autograd?)")
        (dx,) = self.call(user, torch.autograd.grad, loss.reshape(()), [scores])
        return _array(loss.reshape(())), _array(dx)
