"""``--api dlfs2``: ``common/time_layers.py`` of "Deep Learning from Scratch 2".

Batch first, weights multiplying on the right; each layer takes its weights in the
constructor, keeps them in ``self.params`` and writes its gradients into
``self.grads[i][...]`` (the order of ``params``); the cache lives in the layer::

    layer = RNN(Wx, Wh, b);   h_next = layer.forward(x, h_prev)
    dx, dh_prev = layer.backward(dh_next)
    layer = TimeRNN(Wx, Wh, b, stateful=True);  layer.h = h0   # set_state(h0)
    hs = layer.forward(xs);  dxs = layer.backward(dhs);  layer.dh  # the h0 gradient
    LSTM(Wx, Wh, b).forward(x, h_prev, c_prev) -> (h_next, c_next)   # gates f, g, i, o
    LSTM.backward(dh_next, dc_next) -> (dx, dh_prev, dc_prev);  TimeLSTM like TimeRNN
    GRU(Wx, Wh, b), TimeGRU: like RNN, gates z, r, h~ (optional: an appendix of the book)
    GRU(Wx, Wh), TimeGRU(Wx, Wh, stateful): the printings before June 2020, no bias,
        weights in self.Wx / self.Wh, gradients in self.dWx / self.dWh
    TimeEmbedding(W).forward(xs); .backward(dout) -> None;  TimeAffine(W, b)
    TimeSoftmaxWithLoss().forward(xs, ts) -> mean loss over labels != -1; .backward()

Editions: the book's code changed once in a way a check must know (June 2020, "Add
bias for GRU"): the earlier printings' GRU has no bias. The edition is read from the
GRU's constructor (two weights or three); a GRU without bias is checked on cases whose
biases are zero (the saturated case saturates through the biases, so it has none). A
GRU or TimeGRU whose constructor is neither the book's (a reader's own design) is not
checked (n/a, it is an appendix), with a note. The initial state is given the way the
book's models give it, ``set_state(h0)`` (``layer.h = h0`` when the layer has no
``set_state``), the stateful flag by its name or, renamed, by its position, and the
gradient of the initial state is read from ``layer.dh`` or the one ``dh...`` attribute
the layer's backward sets (readers rename it ``dhidden``).

The book computes in float32 (``np.empty(..., dtype='f')``), so only float32 is
checked. The mean loss of ``TimeSoftmaxWithLoss`` is turned into the catalog's sum
over time / N. Logits spread beyond exp's range and batches whose every label is
ignored are not given to it: the book's ``log(softmax)`` does not survive the first, its
mean is undefined for the second. Reuse: the same layer again, its weights overwritten
in place the way the book's optimisers update ``params``.
"""
from __future__ import annotations

import ast
import dataclasses

import numpy as np

from torch_ref import layout as L
from torch_ref.verify.adapters.base import MISSING, ClassAdapter, describe_value
from torch_ref.verify.adapters.editions import Edition, Sign
from torch_ref.verify.errors import ApiMismatch

_CELLS = {"rnn": ("RNN", "TimeRNN"), "lstm": ("LSTM", "TimeLSTM"), "gru": ("GRU", "TimeGRU")}
_GRU = ("gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward")
_WEIGHTS = ("Wx", "Wh", "b")


def _constructor(class_name: str, weights: int) -> str:
    """A pattern for ``class_name``'s ``__init__(self, <weights> names)``, nothing more
    (type hints allowed; readers rename the arguments: ``weight_in`` ...)."""
    name = r"[A-Za-z_]\w*(?:\s*:\s*[^,=()]+)?"
    names = r"\s*,\s*".join([name] * weights)
    return (rf"^class {class_name}\b[^\n]*\n(?:[^\n]*\n){{0,16}}?[ \t]+def __init__\(\s*self"
            rf"\s*,\s*{names}\s*,?\s*\)")


# What the earlier printings share: a GRU of two weights, and no GRU means no sign.
_NO_BIAS = (Sign("source", _constructor("GRU", 2), weight=3,
                 says="GRU's constructor takes two weights (Wx, Wh)"),
            Sign("lacks", "GRU", weight=-5))


class Dlfs2Adapter(ClassAdapter):
    name = "dlfs2"
    description = "Deep Learning from Scratch 2 time layers: RNN, TimeRNN, LSTM, TimeLSTM, " \
                  "TimeEmbedding, TimeAffine, TimeSoftmaxWithLoss (params/grads lists)"
    conventional_files = ("time_layers.py", "common/time_layers.py")
    BINDINGS = {
        "rnn_step_forward": "RNN.forward", "rnn_step_backward": "RNN.backward",
        "rnn_forward": "TimeRNN.forward", "rnn_backward": "TimeRNN.backward",
        "lstm_step_forward": "LSTM.forward", "lstm_step_backward": "LSTM.backward",
        "lstm_forward": "TimeLSTM.forward", "lstm_backward": "TimeLSTM.backward",
        "gru_step_forward": "GRU.forward", "gru_step_backward": "GRU.backward",
        "gru_forward": "TimeGRU.forward", "gru_backward": "TimeGRU.backward",
        "word_embedding_forward": "TimeEmbedding.forward",
        "word_embedding_backward": "TimeEmbedding.backward",
        "temporal_affine_forward": "TimeAffine.forward",
        "temporal_affine_backward": "TimeAffine.backward",
        "temporal_softmax_loss": {"loss": "TimeSoftmaxWithLoss.forward",
                                  "dx": "TimeSoftmaxWithLoss.backward"},
    }
    OPTIONAL = _GRU  # the book's GRU is an appendix
    # newest first: a module without a GRU is read as the current code
    EDITIONS = (
        Edition("2020-06 onwards", "the current code: GRU(Wx, Wh, b) and TimeGRU(Wx, Wh, b, "
                "stateful) keep params and grads lists like every layer",
                signs=(Sign("source", _constructor("GRU", 3), weight=3,
                            says="GRU's constructor takes three weights (Wx, Wh, b)"),),
                conventions={"gru_weights": 3}),
        Edition("2020 printings", "GRU(Wx, Wh) and TimeGRU(Wx, Wh, stateful) without bias, "
                "weights in self.Wx/self.Wh, gradients in self.dWx/self.dWh (April-May "
                "2020)",
                signs=_NO_BIAS + (
                    Sign("source", r"^from common\.functions import softmax, sigmoid\s*$",
                         says="it imports softmax and sigmoid from common.functions"),),
                conventions={"gru_weights": 2}),
        Edition("first printing", "GRU(Wx, Wh) and TimeGRU(Wx, Wh, stateful) without bias, "
                "weights in self.Wx/self.Wh, gradients in self.dWx/self.dWh (2018; the "
                "Korean translation)",
                signs=_NO_BIAS + (
                    Sign("source", r"^from common\.functions import sigmoid\s*$",
                         says="it imports only sigmoid from common.functions"),
                    Sign("source", r"\bselfdWx\b", says="TimeGRU's constructor says selfdWx")),
                conventions={"gru_weights": 2}),
    )
    ARGUMENTS = {"temporal_softmax_loss": ("xs", "ts", "mask")}
    # the book's GRU applies the reset gate before the hidden product
    COMPONENTS = ("rnn_step", "rnn", "lstm_step", "lstm", "gru_step_reset_before",
                  "gru_reset_before", "word_embedding", "temporal_affine",
                  "temporal_softmax_loss")
    dtypes = ("float32",)
    _STEP = {"next_h": "h_next", "next_c": "c_next", "dprev_h": "dh_prev", "dprev_c": "dc_prev"}
    _TIME = {"h": "hs", "dx": "dxs", "dh0": "dh"}
    # the book packs the gate blocks in its own order (f, g, i, o; z, r, h~ with z = 1 - z)
    _LSTM = {w: (w, lambda a, g=None: L.to_dlfs2_lstm(a, a.shape[-1] // 4))
             for w in ("dWx", "dWh", "db")}
    _GRU = {**{w: (w, lambda a, g=None: L.to_dlfs2_gru_blocks(a)) for w in ("dWx", "dWh")},
            "dbx": ("db", lambda a, g=None: L.to_dlfs2_gru_blocks(a)),
            "dbh": ("db", lambda a, g=None: L.to_dlfs2_gru_blocks(a))}
    TENSORS = {"rnn_step": _STEP, "lstm_step": {**_STEP, **_LSTM},
               "gru_step_reset_before": {**_STEP, **_GRU},
               "rnn": _TIME, "lstm": {**_TIME, **_LSTM}, "gru_reset_before": {**_TIME, **_GRU},
               "temporal_softmax_loss": {"dx": "dxs"}}
    GATES = {"n": "h~"}
    expects = "classes RNN, TimeRNN, LSTM, TimeLSTM, TimeEmbedding, TimeAffine, " \
              "TimeSoftmaxWithLoss with params and grads lists"
    reuse_notes = ("a new layer",
                   "the same layer again, its weights overwritten in place (an optimiser "
                   "step)",
                   "the same layer again, its weights overwritten in place (an optimiser "
                   "step)")

    def course_hint(self, hint: str) -> str:
        """Gate-order hints in the book's packing (f, g, i, o) rather than NumPy's."""
        import re

        match = re.search(r"the LSTM with its 4H blocks read as \[([a-z, ]+)\]; the layout is "
                          r"\[i, f, o, g\]( \(torch's own order is i, f, g, o\))?", hint)
        if not match:
            return super().course_hint(hint)
        believed = dict(zip(L.NUMPY_GATES, match.group(1).split(", "), strict=True))
        read = ", ".join(believed[g] for g in L.DLFS2_LSTM_GATES)
        return hint[:match.start()] + (f"the LSTM with its 4H blocks read as [{read}]; the "
                                       f"book packs them as [{', '.join(L.DLFS2_LSTM_GATES)}]")

    def __init__(self, executor=None, sources=None):
        super().__init__(executor, sources)
        self._held: dict = {}  # layer handle -> handles of its grads arrays at construction
        self._dh: dict = {}  # class name -> the attribute its backward leaves dh0 in

    # ---- the edition --------------------------------------------------------------------

    @property
    def _gru_weights(self) -> int:
        """How many weights the edition's GRU takes: 3 (Wx, Wh, b), or 2 (no bias)."""
        return self.convention("gru_weights", 3)

    def _foreign(self, class_name: str) -> str:
        """For the appendix classes GRU and TimeGRU: why the module's class is not the
        book's (its constructor takes other weights), '' when it is."""
        if class_name not in _CELLS["gru"]:
            return ""
        entry = self.user_class(class_name)
        params = entry.get("params") if entry else None
        if params is None:
            return ""
        required = [p[0] for p in params if p[1] == "positional" and not p[2]]
        count = self._gru_weights
        if len(required) == count:
            return ""
        book = ", ".join(_WEIGHTS[:count]) + (", stateful=False" if class_name == "TimeGRU"
                                               else "")
        shown = ", ".join(p[0] + ("=..." if p[2] else "") for p in params)
        return (f"{class_name}({shown}) is not the book's {class_name}({book}) "
                f"({self.edition.name}): a design of its own, left out")

    def present(self, user_function: str) -> bool:
        return super().present(user_function) and not self._foreign(
            user_function.split(".")[0])

    def absence_note(self, user_function: str) -> str:
        found = self._foreign(user_function.split(".")[0])
        return found or super().absence_note(user_function)

    def keeps(self, component, case) -> bool:
        if component.cell == "gru" and self._gru_weights == 2:
            # its pre-activations are saturated through the biases, which this GRU lacks
            return case.label != "saturated"
        if component.name != "temporal_softmax_loss":
            return True
        # the book's log(softmax) does not survive logits spread beyond exp's range, and
        # its loss is a mean over the labels kept: undefined when none is
        return case.label != "spread beyond exp" and bool(np.any(case.inputs["mask"]))

    def course_case(self, component, case):
        """A GRU without bias is given the case with its biases at zero."""
        if component.cell != "gru" or self._gru_weights != 2:
            return case
        inputs = dict(case.inputs)
        for name in ("bx", "bh"):
            inputs[name] = np.zeros_like(inputs[name])
        special = tuple(s.replace("non-zero h0 and biases", "non-zero h0, zero biases")
                        for s in case.special)
        if special == case.special:
            special += ("zero biases",)
        return dataclasses.replace(case, inputs=inputs, special=special)

    def implement(self, functional: str):
        user = self.user_functions_of(functional)[0]
        if functional.startswith(("rnn_", "lstm_", "gru_")):
            cell, kind = functional.split("_", 1)
            step, time = _CELLS[cell]
            # options: reset_after=False, the only GRU the book has (see COMPONENTS)
            return {"step_forward": lambda *a, **o: self._step_forward(user, step, cell, *a),
                    "step_backward": lambda *a: self._step_backward(user, cell, *a),
                    "forward": lambda *a, **o: self._time_forward(user, time, cell, *a),
                    "backward": lambda *a: self._time_backward(user, cell, *a)}[kind]
        return {"word_embedding_forward": self._embedding_forward,
                "word_embedding_backward": self._embedding_backward,
                "temporal_affine_forward": self._affine_forward,
                "temporal_affine_backward": self._affine_backward,
                "temporal_softmax_loss": self._softmax_loss}[functional]

    # ---- layers ---------------------------------------------------------------------

    def _lists(self, class_name: str) -> bool:
        """Whether ``class_name`` keeps its weights in ``params`` and gradients in
        ``grads`` (every layer but the GRU of the printings without bias)."""
        return class_name not in _CELLS["gru"] or self._gru_weights == 3

    def _state_flag(self, user, class_name, weights):
        """``(args, kwargs)`` after the weights that make a time layer stateful: the
        book's ``stateful=True``, or True at the flag's place when a reader renamed it
        (``statefull``)."""
        params = self.params(class_name) or []
        if "stateful" in params:
            return (), {"stateful": True}
        entry = self.user_class(class_name)
        kinds = (entry.get("params") or []) if entry else []
        if len(kinds) > len(weights) and kinds[len(weights)][1] == "positional":
            return (True,), {}
        return (), {}

    def _layer(self, user, class_name, weights, stateful=False):
        """The layer holding ``weights``: new, or (reusing) given them in place."""
        key = (class_name, tuple(np.shape(w) for w in weights))

        def make():
            args, kwargs = self._state_flag(user, class_name, weights) if stateful else \
                ((), {})
            return self.construct(user, class_name, *weights, *args, **kwargs)
        layer, use = self.instance(key, make)
        lists = self._lists(class_name)
        if not use:
            if lists:
                # a model gathers layer.grads once, at construction: those arrays must be
                # the ones backward writes into
                held = self._arrays(user, class_name, layer, "grads", len(weights))
                self.keep(*held)
                self._held[layer.ident] = [r.ident for r in held]
        elif lists:
            params = self.get(layer, "params", user, fetch="ref")
            self._list(user, class_name, layer, "params", len(weights))
            for i, value in enumerate(weights):
                if not self.write(params, value, user, key=i):
                    current = self.item(params, i, user)
                    raise ApiMismatch(user, f"{class_name}.params holds "
                                            f"{describe_value(current)} where a weight of "
                                            f"shape {value.shape} was given; an optimiser "
                                            f"updates these arrays in place")
        else:
            for name, value in zip(_WEIGHTS[:len(weights)], weights, strict=True):
                if not self.write(layer, value, user, name=name):
                    current = self.get(layer, name, user, default=None)
                    raise ApiMismatch(user, f"{class_name}.{name} is "
                                            f"{describe_value(current)} where a weight of "
                                            f"shape {value.shape} was given; the book's "
                                            f"{class_name} keeps its weight there")
        return layer

    def _list(self, user, class_name, layer, attr, count):
        value = self.get(layer, attr, user, default=None)
        if not isinstance(value, (list, tuple)) or len(value) != count:
            raise ApiMismatch(user, f"after {user}, {class_name}.{attr} is "
                                    f"{describe_value(value)}; expected a list of {count} "
                                    f"arrays (in the order of the constructor's weights)")
        return value

    def _arrays(self, user, class_name, layer, attr, count) -> list:
        """Handles to the objects in the layer's list ``attr`` (identity is theirs)."""
        self._list(user, class_name, layer, attr, count)
        holder = self.get(layer, attr, user, fetch="ref")
        return [self.item(holder, i, user, fetch="ref") for i in range(count)]

    def _grads(self, user, class_name, layer, count):
        if not self._lists(class_name):
            return self._grad_attributes(user, class_name, layer)
        grads = self._list(user, class_name, layer, "grads", count)
        held = self._held.get(layer.ident)
        if held is not None:
            now = [r.ident for r in self._arrays(user, class_name, layer, "grads", count)]
            if now != held:
                raise ApiMismatch(user, f"{user} replaced the arrays of {class_name}.grads; "
                                        f"a model reads the ones made in the constructor: "
                                        f"write into them (grads[i][...] = ...)")
        return tuple(grads)

    def _grad_attributes(self, user, class_name, layer):
        """``(dWx, dWh)`` of a GRU without bias: its ``dWx`` and ``dWh`` attributes."""
        found = []
        for name in ("dWx", "dWh"):
            value = self.get(layer, name, user, default=None)
            if not isinstance(value, np.ndarray):
                raise ApiMismatch(user, f"after {user}, {class_name}.{name} is "
                                        f"{describe_value(value)}; the book's {class_name} "
                                        f"without bias leaves its gradient there")
            found.append(value)
        return tuple(found)

    def _weights(self, cell, Wx, Wh, *biases):
        if cell == "gru":
            weights = L.to_dlfs2_gru(Wx, Wh, *biases)
            return weights[:self._gru_weights]
        if cell == "rnn":
            return (Wx, Wh, *biases)
        H = Wh.shape[0]
        return tuple(L.to_dlfs2_lstm(w, H) for w in (Wx, Wh, *biases))

    def _weight_grads(self, user, cell, grads, H):
        if cell == "gru":
            if len(grads) == 3:
                return L.from_dlfs2_gru(*grads)
            dWx, dWh = grads
            for name, value, width in (("dWx", dWx, 3 * H), ("dWh", dWh, 3 * H)):
                if np.ndim(value) != 2 or np.shape(value)[-1] != width:
                    raise ApiMismatch(user, f"after {user}, GRU's {name} has shape "
                                            f"{np.shape(value)}; expected (.., {width}): "
                                            f"the gates z, r, h~ side by side")
            dWx, dWh, _, _ = L.from_dlfs2_gru(dWx, dWh, np.zeros(3 * H, np.asarray(dWx).dtype))
            return dWx, dWh, MISSING, MISSING  # no bias: nothing to compare
        return tuple(L.from_dlfs2_lstm(g, H) for g in grads) if cell == "lstm" else grads

    # ---- the state of a time layer ----------------------------------------------------

    def _give_state(self, user, class_name, layer, h0, lstm: bool) -> None:
        """The initial state as the book's models give it: ``set_state(h0)``, the cell state
        left None so that the layer starts it at zero; ``layer.h = h0`` (and ``layer.c =
        None``) when the layer has no ``set_state``."""
        method = f"{class_name}.set_state"
        if super().present(method):
            params = self.user_class(class_name)["methods"]["set_state"].get("params") or []
            required = [p for p in params if p[1] == "positional" and not p[2]]
            extra = (None,) * max(0, len(required) - 1)
            self.method(layer, "set_state", user, names=("h", "c"))(h0, *extra)
            return
        self.set(layer, "h", h0, user)
        if lstm:
            self.set(layer, "c", None, user)

    def _dh_attribute(self, class_name: str) -> str:
        """Where ``class_name.backward`` leaves the gradient of the initial state: ``dh``,
        or the one attribute named ``dh...`` it sets (``self.dhidden = dhidden``)."""
        if class_name not in self._dh:
            found = self.sources.at(self.where(f"{class_name}.backward"))
            names = set()
            for node in ast.walk(found[0]) if found else ():
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
                for target in targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Attribute) and isinstance(
                                leaf.value, ast.Name) and leaf.value.id == "self":
                            names.add(leaf.attr)
            named = sorted(n for n in names if n.startswith("dh"))
            self._dh[class_name] = named[0] if "dh" not in names and len(named) == 1 \
                else "dh"
        return self._dh[class_name]

    # ---- recurrent --------------------------------------------------------------------

    def _step_forward(self, user, class_name, cell, x, prev_h, *rest):
        lstm = cell == "lstm"
        state, (Wx, Wh, *biases) = rest[:1] if lstm else (), rest[1 if lstm else 0:]
        layer = self._layer(user, class_name, self._weights(cell, Wx, Wh, *biases))
        forward = self.method(layer, "forward", user, returns=["a", "a"] if lstm else "a",
                              names=("x", "h_prev", "c_prev") if lstm else ("x", "h_prev"))
        names = ("h_next", "c_next") if lstm else ("h_next",)
        result = self.values(user, forward(x, prev_h, *state), names)
        outputs = result if lstm else (result,)
        return (*outputs, (layer, class_name, Wh.shape[0]))

    def _step_backward(self, user, cell, *args):
        *upstream, (layer, class_name, H) = args
        names = ("dx", "dh_prev", "dc_prev") if cell == "lstm" else ("dx", "dh_prev")
        backward = self.method(layer, "backward", user, names=("dh_next", "dc_next"),
                               returns=["a"] * len(names))
        result = self.values(user, backward(*upstream), names)
        grads = self._weight_grads(user, cell, self._grads(user, class_name, layer, 3), H)
        return (*result, *grads)

    def _time_forward(self, user, class_name, cell, x, h0, Wx, Wh, *biases):
        lstm = cell == "lstm"
        layer = self._layer(user, class_name, self._weights(cell, Wx, Wh, *biases),
                            stateful=True)
        self._give_state(user, class_name, layer, h0, lstm)
        self.ex.poison(h0.shape, dtypes=(h0.dtype.name,))
        hs = self.values(user, self.method(layer, "forward", user, names=("xs",),
                                           returns="a")(x), ("hs",))
        return hs, (layer, class_name, Wh.shape[0])

    def _time_backward(self, user, cell, dh, handle):
        layer, class_name, H = handle
        self.ex.poison(dh.shape[::2], dtypes=(dh.dtype.name,))
        dxs = self.values(user, self.method(layer, "backward", user, names=("dhs",),
                                            returns="a")(dh), ("dxs",))
        attr = self._dh_attribute(class_name)
        dh0 = self.get(layer, attr, user, default=None)
        if not isinstance(dh0, np.ndarray):
            raise ApiMismatch(user, f"after {user}, {class_name}.{attr} is "
                                    f"{describe_value(dh0)}; expected the gradient of the "
                                    f"initial hidden state (N, H)")
        grads = self._weight_grads(user, cell, self._grads(user, class_name, layer, 3), H)
        return (dxs, dh0, *grads)


    # ---- embedding, affine, loss ------------------------------------------------------

    def _embedding_forward(self, x, W):
        user = "TimeEmbedding.forward"
        layer = self._layer(user, "TimeEmbedding", (W,))
        out = self.values(user, self.method(layer, "forward", user, names=("xs",))(x),
                          ("out",))
        return out, layer

    def _embedding_backward(self, dout, layer):
        user = "TimeEmbedding.backward"
        self.method(layer, "backward", user, names=("dout",))(dout)
        return self._grads(user, "TimeEmbedding", layer, 1)[0]

    def _affine_forward(self, x, W, b):
        user = "TimeAffine.forward"
        layer = self._layer(user, "TimeAffine", (W, b))
        out = self.values(user, self.method(layer, "forward", user, names=("xs",))(x),
                          ("out",))
        return out, layer

    def _affine_backward(self, dout, layer):
        user = "TimeAffine.backward"
        dx = self.values(user, self.method(layer, "backward", user, names=("dout",))(dout),
                         ("dx",))
        return (dx, *self._grads(user, "TimeAffine", layer, 2))

    def _softmax_loss(self, x, y, mask):
        user = "TimeSoftmaxWithLoss.forward"
        loss_fn, _ = self.instance(("TimeSoftmaxWithLoss",), lambda: self.construct(
            user, "TimeSoftmaxWithLoss"))
        keep = np.asarray(mask).astype(bool)
        ts = np.where(keep, y, -1)
        loss = self.values(user, self.method(loss_fn, "forward", user, names=("xs", "ts"))(
            x, ts), ("loss",))
        # the book averages over the labels kept; the catalog sums over time / N
        scale = keep.sum() / x.shape[0]
        back = "TimeSoftmaxWithLoss.backward"
        if not self.present(back):
            return np.asarray(loss) * scale, MISSING
        dx = self.values(back, self.method(loss_fn, "backward", back)(), ("dxs",))
        return np.asarray(loss) * scale, np.asarray(dx) * scale
