"""``--api eecs498``: UMich EECS 498/598 captioning layers (cs231n's API in torch).

cs231n's names, signatures and return tuples, on torch tensors::

    next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)      # written by hand
    dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
    h, cache = rnn_forward(x, h0, Wx, Wh, b);  rnn_backward(dh, cache)
    next_h, next_c = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)   # autograd
    h = lstm_forward(x, h0, Wx, Wh, b)                              # c0 = 0; autograd
    LSTM(D, H).step_forward(x, prev_h, prev_c); .forward(x, h0)     # Winter 2022
    out = WordEmbedding(V, D).forward(x)                            # W_embed; autograd
    loss = temporal_softmax_loss(x, y, ignore_index=None)           # autograd

Editions (:data:`Eecs498Adapter.EDITIONS`): Fall 2019 (a notebook,
``rnn_lstm_attention_captioning.ipynb``, helpers from ``coutils``), Fall 2020
(``rnn_lstm_attention_captioning.py`` star-importing ``a4_helper``; module-level LSTM
functions with attention arguments) and Winter 2022 (``rnn_lstm_captioning.py``; the LSTM
is ``class LSTM(nn.Module)`` with ``step_forward``/``forward``, parameters ``Wx``, ``Wh``,
``b``). Arrays become tensors of the same dtype at the boundary (:mod:`.torch_calls`).
Where the course leaves the backward pass to autograd, the gradients are torch's
through the student's forward, and a wrong one is the forward's fault. The loss's mask
becomes an ``ignore_index`` label the way the course's data has one: a class no kept
label uses (``<NULL>``); where every class is used and the mask keeps every step (or
there is one class, whose loss is 0 whatever the mask) nothing is ignored. Reuse:
another forward call with other inputs is made between a forward and the backward
that takes its cache.
"""
from __future__ import annotations

import numpy as np

from torch_ref.verify.adapters.base import FUNCTIONAL, Adapter
from torch_ref.verify.adapters.editions import Edition, Sign
from torch_ref.verify.adapters.stubs import is_template
from torch_ref.verify.adapters.torch_calls import TorchCalls

_BY_HAND = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward")
# ignore_index when nothing is to be ignored (PyTorch's own default)
_NOTHING_IGNORED = -100
# what the templates give inside the functions a student fills in
_GIVEN = ("c0 = torch.zeros_like(h0)", "N, H, D_a, _ = A.shape")
_CLASS_LSTM = {"lstm_step_forward": "LSTM.step_forward",
               "lstm_step_backward": "LSTM.step_forward",
               "lstm_forward": "LSTM.forward", "lstm_backward": "LSTM.forward"}
# signs every edition shares: the loss takes ignore_index (cs231n's takes a mask);
# deeplearning.ai's Dinosaurus utils have the same names with a parameters dict
_TORCH_LOSS = (Sign("imports", "torch", weight=2),
               Sign("param", "temporal_softmax_loss", "ignore_index", 2),
               Sign("param", "temporal_softmax_loss", "mask", -3),
               Sign("param", "rnn_step_forward", "parameters", -20))


def ignored_label(y, mask, V):
    """``(labels, ignore_index)`` expressing ``mask`` the way the course does: kept steps
    keep their label, the others get a class no kept label uses; None when no such
    class exists and the mask matters (a step is dropped and there is more than one
    class)."""
    keep = np.asarray(mask).astype(bool)
    used = set(np.asarray(y)[keep].ravel().tolist())
    free = next((c for c in range(V) if c not in used), None)
    if free is not None:
        return np.where(keep, y, free), free
    if keep.all() or V == 1:  # nothing to ignore, or a loss that is 0 at every step
        return np.asarray(y), _NOTHING_IGNORED
    return None


class Eecs498Adapter(TorchCalls, Adapter):
    name = "eecs498"
    description = "UMich EECS 498/598 captioning layers: cs231n's functions on torch " \
                  "tensors (LSTM, embedding and loss differentiated by autograd)"
    conventional_files = ("rnn_lstm_captioning.py", "rnn_lstm_attention_captioning.py",
                          "rnn_lstm_attention_captioning.ipynb")
    BINDINGS = {**{name: name for name in _BY_HAND},
                "lstm_step_forward": "lstm_step_forward",
                "lstm_step_backward": "lstm_step_forward",
                "lstm_forward": "lstm_forward", "lstm_backward": "lstm_forward",
                "word_embedding_forward": "WordEmbedding.forward",
                "word_embedding_backward": "WordEmbedding.forward",
                "temporal_softmax_loss": "temporal_softmax_loss"}
    expects = "cs231n's rnn_step_forward ... rnn_backward on torch tensors (the module " \
              "imports torch), lstm_step_forward/lstm_forward or class LSTM, WordEmbedding, " \
              "temporal_softmax_loss(x, y, ignore_index)"
    torch = True
    EDITIONS = (
        Edition("Winter 2022", "rnn_lstm_captioning.py; the LSTM is class LSTM(nn.Module) "
                "with step_forward and forward (parameters Wx, Wh, b)",
                signs=_TORCH_LOSS + (
                    # the form of the LSTM decides (the bindings follow it)
                    Sign("defines", "LSTM.step_forward", weight=3),
                    Sign("defines", "lstm_step_forward", weight=-3),
                    Sign("source", r"^def hello_rnn_lstm_captioning\(", weight=2),
                    Sign("file", "rnn_lstm_captioning.py", weight=1)),
                bindings=_CLASS_LSTM),
        Edition("Fall 2020", "rnn_lstm_attention_captioning.py with `from a4_helper import "
                "*`; module-level lstm_step_forward(..., attn=None, Wattn=None) and "
                "lstm_forward",
                signs=_TORCH_LOSS + (
                    Sign("defines", "lstm_step_forward", weight=4),
                    Sign("param", "lstm_step_forward", "attn", 1),
                    Sign("imports", "a4_helper", weight=2),
                    Sign("source", r"^from a4_helper import", weight=1),
                    Sign("file", "rnn_lstm_attention_captioning.py", weight=1))),
        Edition("Fall 2019", "a notebook, rnn_lstm_attention_captioning.ipynb, with coutils; "
                "NULL_index and the dtype/device dicts (to_double ...) are the notebook's",
                signs=_TORCH_LOSS + (
                    Sign("defines", "lstm_step_forward", weight=4),
                    # a notebook's source is its JSON text: no line anchors
                    Sign("source", r"\bimport coutils\b", weight=3),
                    Sign("source", r"ignore_index=NULL_index", weight=2))),
    )
    reuse_notes = ("first call",
                   "second call; the forward is called again with other inputs before "
                   "the backward gets its cache",
                   "third call; the forward is called again with other inputs before "
                   "the backward gets its cache")

    def present(self, user_function: str) -> bool:
        if "." in user_function:
            entry = self.entry(user_function.split(".")[0])
            return entry is not None and entry["kind"] == "class"
        return super().present(user_function)

    def absence_note(self, user_function: str) -> str:
        return f"{user_function.split('.')[0]} is not defined in the module"

    def left_as_template(self, user_function: str) -> bool:
        found = self.sources.at(self.where(user_function))
        return found is not None and is_template(found[0], _GIVEN)

    def keeps(self, component, case) -> bool:
        if component.name != "temporal_softmax_loss":
            return True
        i = case.inputs
        return ignored_label(i["y"], i["mask"], i["x"].shape[-1]) is not None

    def implement(self, functional: str):
        user = self.BINDINGS[functional]
        if functional in _BY_HAND:
            return self._by_hand(functional, user)
        return {"lstm_step_forward": self._lstm_step, "lstm_forward": self._lstm,
                "lstm_step_backward": self.autograd_backward,
                "lstm_backward": self.autograd_backward,
                "word_embedding_forward": self._embedding,
                "word_embedding_backward": self.autograd_backward,
                "temporal_softmax_loss": self._loss}[functional]

    # ---- written by hand --------------------------------------------------------------

    def _by_hand(self, functional, user):
        names = FUNCTIONAL[functional][1]
        arguments = FUNCTIONAL[functional][0]
        forward = names[-1] == "cache"
        spec = ["ref" if n == "cache" else "a" for n in names]

        def one(*args):
            tensors = [self.tensor(user, a, name=n) for a, n in zip(args, arguments,
                                                                    strict=True)]
            return self.call(user, user, *tensors, names=arguments, returns=spec)

        def run(*args):
            result = self.values(user, one(*args), names)
            if forward:
                self.decoy(one, *args)
            return result
        return run

    # ---- autograd -----------------------------------------------------------------------

    def _lstm_step(self, x, prev_h, prev_c, Wx, Wh, b):
        user = self.BINDINGS["lstm_step_forward"]
        if user == "LSTM.step_forward":
            return self._lstm_module(user, "step_forward", (x, prev_h, prev_c), (Wx, Wh, b),
                                     ("next_h", "next_c"))
        outputs, handle = self.through_autograd(user, self.function(user),
                                                (x, prev_h, prev_c, Wx, Wh, b),
                                                (True,) * 6, ("next_h", "next_c"))
        return (*outputs, handle)

    def _lstm(self, x, h0, Wx, Wh, b):
        user = self.BINDINGS["lstm_forward"]
        if user == "LSTM.forward":
            return self._lstm_module(user, "forward", (x, h0), (Wx, Wh, b), ("h",))
        outputs, handle = self.through_autograd(user, self.function(user),
                                                (x, h0, Wx, Wh, b), (True,) * 5, ("h",))
        return outputs[0], handle

    def _lstm_module(self, user, method, arrays, weights, names):
        """``LSTM(D, H)`` given ``weights`` as its parameters ``Wx``, ``Wh``, ``b``."""
        layer = self.call(user, self.function("LSTM", user), weights[0].shape[0],
                          weights[1].shape[0], names=(), returns="ref")
        params = [self.parameter(user, w) for w in weights]
        for name, param in zip(("Wx", "Wh", "b"), params, strict=True):
            self.set(layer, name, param, user)
        bound = self.get(layer, method, user, fetch="ref")
        outputs, (_, tensors, leaves) = self.through_autograd(
            user, bound, arrays, (True,) * len(arrays), names)
        self.keep(layer, *params)
        return (*outputs, (user, tensors, leaves + params))

    def _embedding(self, x, W):
        user = "WordEmbedding.forward"
        layer = self.call(user, self.function("WordEmbedding", user), *W.shape, names=(),
                          returns="ref")
        weight = self.parameter(user, W)
        self.set(layer, "W_embed", weight, user)
        out = self.values(user, self.method(layer, "forward", user, returns="ref",
                                            names=("x",))(self.tensor(user, x)), ("out",))
        value = self.tensor_result(user, out, "out", "a tensor")
        self.keep(layer, weight, out)
        return value, (user, (out,), [weight])

    def _loss(self, x, y, mask):
        user = "temporal_softmax_loss"
        labels, ignore = ignored_label(y, mask, x.shape[-1])
        scores = self.tensor(user, x, grad=True)
        loss = self.values(user, self.call(user, user, scores, self.tensor(user, labels),
                                           names=("x", "y"), returns="ref",
                                           ignore_index=ignore), ("loss",))
        return self.scalar_loss(user, loss, scores)
