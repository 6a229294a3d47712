"""``--api params``: the params-dict layer classes of the language-modeling notebook.

Plain classes (no common base), used exactly as the notebook's test cells use them::

    rnn = VanillaRNN(D, H, init_scale=0.02, name="rnn_test")
    rnn.params[rnn.wx_name] = Wx                 # keys come from the *_name attributes
    next_h, meta = rnn.step_forward(x, prev_h)
    dx, dprev_h, dWx, dWh, db = rnn.step_backward(dnext_h, meta)
    h = rnn.forward(x, h0)
    dx, dh0 = rnn.backward(dh)                   # weight gradients in rnn.grads[...]
    we = word_embedding(V, D, name="we");  out = we.forward(x);  we.backward(dout)
    fc = temporal_fc(D, M, init_scale=0.02, name="test_t_fc")
    out = fc.forward(x);  dx = fc.backward(dout)
    loss_fn = temporal_softmax_CE_loss();  loss = loss_fn.forward(x, y, mask)
    dx = loss_fn.backward()                      # no argument, once per forward

Every option the API exposes is exercised: a loss whose constructor takes
``dim_average`` is also built with ``dim_average=False`` (a sum, not divided by N),
and its loss and gradient are compared as ``loss (dim_average=False)`` ...

``LSTM`` is ``VanillaRNN`` with a cell state (gates ``i, f, o, g``); ``params`` and
``grads`` must hold the same keys. The reuse checks build the layers with their
default names (``vanilla_rnn_wx`` ...), which the notebook's model uses.

Editions (USC CSCI 599 2017 and spring 2019, CSCI 566 fall 2019 and fall 2020): the
same classes, but CSCI 599 calls the loss class ``temporal_softmax_loss``; the edition
is read from the loss class the module defines (2017's file is tab-indented, 2020's
lives in ``lib/rnn/``). Every edition computes in float64 (float32 is not checked) and
hands the loss out written (``np.log`` of the probabilities, ``dim_average`` dividing
by N): it is given logits within exp's range only, as the course's own code needs
(what only a log-sum-exp formulation survives is not the student's to answer for).
The stubs of the templates (``next_h, meta = None, None``, the template's ``assert``
on the input size, ``self.meta = []``, ``pass``) are not implemented.
"""
from __future__ import annotations

import ast
from types import SimpleNamespace

from torch_ref.verify.adapters.base import MISSING, ClassAdapter, describe_value
from torch_ref.verify.adapters.editions import Edition, Sign
from torch_ref.verify.errors import ApiMismatch

# attributes naming the keys of Wx, Wh, b in a recurrent layer's params and grads
_RECURRENT_KEYS = ("wx_name", "wh_name", "b_name")
# notebook names of the test cells
_NAMES = {"VanillaRNN": "rnn_test", "LSTM": "test_lstm", "word_embedding": "we",
          "temporal_fc": "test_t_fc"}
_CE_LOSS, _599_LOSS = "temporal_softmax_CE_loss", "temporal_softmax_loss"


def _loss(class_name: str) -> dict:
    return {"temporal_softmax_loss": {"loss": f"{class_name}.forward",
                                      "dx": f"{class_name}.backward"}}


_CSCI566 = (Sign("defines", _CE_LOSS, weight=3),)
_CSCI599 = (Sign("defines", _599_LOSS, weight=3),)


class ParamsAdapter(ClassAdapter):
    name = "params"
    description = "params-dict classes VanillaRNN, LSTM, word_embedding, temporal_fc, " \
                  "temporal_softmax_CE_loss (language-modeling notebook)"
    golden_documents = ("language_modeling_assignment",)
    conventional_files = ("layer_utils.py", "lib/rnn/layer_utils.py", "rnn/layer_utils.py",
                          "lib/layer_utils.py")
    BINDINGS = {
        **{f"{cell}_{kind}": f"{cls}.{method}"
           for cell, cls in (("rnn", "VanillaRNN"), ("lstm", "LSTM"))
           for kind, method in (("step_forward", "step_forward"),
                                ("step_backward", "step_backward"),
                                ("forward", "forward"), ("backward", "backward"))},
        "word_embedding_forward": "word_embedding.forward",
        "word_embedding_backward": "word_embedding.backward",
        "temporal_affine_forward": "temporal_fc.forward",
        "temporal_affine_backward": "temporal_fc.backward",
        **_loss(_CE_LOSS),
        "sigmoid": "sigmoid",
    }
    OPTIONAL = ("sigmoid",)
    ARGUMENTS = {"temporal_softmax_loss": ("feat", "label", "mask")}
    dtypes = ("float64",)
    # newest first; 2020 and fall 2019 differ only in where the file lives
    EDITIONS = (
        Edition("CSCI 566 fall 2020", "lib/rnn/layer_utils.py beside lib/mlp/, the loss class "
                "temporal_softmax_CE_loss",
                signs=_CSCI566 + (Sign("file", "rnn/layer_utils.py"),
                                  Sign("source", r"^import copy\s*$",
                                       says="it imports copy, as the 2020 template")),
                conventions={"loss": _CE_LOSS}),
        Edition("CSCI 566 fall 2019", "lib/layer_utils.py, the loss class "
                "temporal_softmax_CE_loss",
                signs=_CSCI566 + (Sign("file", "lib/layer_utils.py"),
                                  Sign("file", "grad_check.py")),
                conventions={"loss": _CE_LOSS}),
        Edition("CSCI 599 spring 2019", "lib/layer_utils.py, the loss class "
                "temporal_softmax_loss", signs=_CSCI599,
                bindings=_loss(_599_LOSS), conventions={"loss": _599_LOSS}),
        Edition("CSCI 599 fall 2017", "lib/layer_utils.py indented with tabs, VanillaRNN "
                "given, the loss class temporal_softmax_loss",
                signs=_CSCI599 + (Sign("source", r"^\t+def ", says="it is indented with tabs"),),
                bindings=_loss(_599_LOSS), conventions={"loss": _599_LOSS}),
    )

    @property
    def _loss_class(self) -> str:
        return self.convention("loss", _CE_LOSS)

    def keeps(self, component, case) -> bool:
        # the course hands its loss out written, with log(probabilities): logits spread
        # beyond exp's range are not a case its code (or its students') must take
        return component.name != "temporal_softmax_loss" or case.label != "spread beyond exp"

    def left_as_template(self, user_function: str) -> bool:
        """The templates' stubs: names set to None, ``pass``, the returns, and the lines
        the template keeps around them (``assert np.prod(x.shape[1:]) == ...``,
        ``self.meta = []``)."""
        from torch_ref.verify.sources import is_stub_body

        found = self.sources.at(self.where(user_function))
        if found is None:
            return False
        kept = [s for s in found[0].body if not _template_line(s)]
        return is_stub_body(SimpleNamespace(body=kept or [ast.Pass()]))

    def implement(self, functional: str):
        user = self.user_functions_of(functional)[0]
        if functional == "sigmoid":
            return lambda x: self.values(user, self.call(user, "sigmoid", x, names=("x",)),
                                         ("out",))
        if functional.startswith(("rnn_", "lstm_")):
            cell, kind = functional.split("_", 1)
            return self._recurrent(user, "VanillaRNN" if cell == "rnn" else "LSTM",
                                   cell == "lstm", kind)
        return {"word_embedding_forward": self._embedding_forward,
                "word_embedding_backward": self._embedding_backward,
                "temporal_affine_forward": self._fc_forward,
                "temporal_affine_backward": self._fc_backward,
                "temporal_softmax_loss": self._softmax_loss}[functional]

    # ---- construction ---------------------------------------------------------------

    def _layer(self, user, class_name, sizes: tuple, weights: dict, /, **kwargs):
        """The layer with ``weights`` (``*_name`` attribute -> array) in its params."""
        if not self.reuse_active:  # the notebook's names; reuse uses the defaults
            kwargs["name"] = _NAMES[class_name]
        layer, use = self.new(user, class_name, *sizes, **kwargs)
        # the keys a layer of this class and name files its weights under, read from
        # the first one made: the next ones cost a request per weight, not three
        known = self.__dict__.setdefault("_keys_of_kind", {})
        kind = (class_name, kwargs.get("name"), tuple(weights))
        keys = known.get(kind)
        if keys is None:
            params = self._dicts(user, class_name, layer)
            keys = known[kind] = {attr: self._key(user, class_name, layer, attr)
                                  for attr in weights}
        else:
            params = self.get(layer, "params", user, fetch="ref")
            self.keep(params)
        for attr, value in weights.items():
            self.assign(use, user, layer, value, key=keys[attr], holder=params)
        self.__dict__.setdefault("_keys_of_layer", {})[_identity(layer)] = keys
        return layer

    def _dicts(self, user, class_name, layer):
        """A handle to the layer's ``params`` dict, once both dicts are checked."""
        params = self.get(layer, "params", user, default=None)
        grads = self.get(layer, "grads", user, default=None)
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise ApiMismatch(user, f"a {class_name} needs dicts 'params' and 'grads'; got "
                                    f"params: {describe_value(params)}, grads: "
                                    f"{describe_value(grads)}")
        if set(params) != set(grads):
            raise ApiMismatch(user, f"{class_name}: params and grads must have the same keys; "
                                    f"params: {sorted(map(str, params))}, grads: "
                                    f"{sorted(map(str, grads))}")
        handle = self.get(layer, "params", user, fetch="ref")
        self.keep(handle)
        return handle

    def _key(self, user, class_name, layer, attr):
        key = self.get(layer, attr, user, default=None)
        if key is None:
            raise ApiMismatch(user, f"{class_name} has no attribute {attr!r} (the key of "
                                    f"that weight in params and grads)")
        if not isinstance(key, (str, int)):
            raise ApiMismatch(user, f"{class_name}.{attr} is {describe_value(key)}; "
                                    f"expected the key (a string) of that weight")
        return key

    def _grads(self, user, class_name, layer, attrs):
        known = self.__dict__.get("_keys_of_layer", {}).get(_identity(layer), {})
        keys = [known[a] if a in known else self._key(user, class_name, layer, a)
                for a in attrs]
        grads = self.get(layer, "grads", user, default=None, fetch="A")
        if not isinstance(grads, dict):
            raise ApiMismatch(user, f"after {user}, {class_name}.grads is "
                                    f"{describe_value(grads)}; expected a dict")
        return tuple(self.lookup(grads, key, user, "grads", f"the {a} of the layer")
                     for key, a in zip(keys, attrs, strict=True))

    # ---- recurrent layers -----------------------------------------------------------

    def _recurrent(self, user, class_name, lstm, kind):
        def layer_for(Wx, Wh, b):
            return self._layer(user, class_name, (Wx.shape[0], Wh.shape[0]),
                               dict(zip(_RECURRENT_KEYS, (Wx, Wh, b), strict=True)),
                               init_scale=0.02)

        if kind == "step_forward":
            def step_forward(x, prev_h, *rest):
                state, (Wx, Wh, b) = rest[:-3], rest[-3:]
                layer = layer_for(Wx, Wh, b)
                names = ("next_h", "next_c", "meta") if lstm else ("next_h", "meta")
                step = self.method(layer, "step_forward", user,
                                   returns=["a"] * (len(names) - 1) + ["ref"],
                                   names=("x", "prev_h", "prev_c"))
                result = self.values(user, step(x, prev_h, *state), names)
                self.remember_forward(layer, step, x, prev_h, *state)
                self.replay(layer)  # step_backward must use its meta, not the last state
                return (*result[:-1], (layer, result[-1]))
            return step_forward
        if kind == "step_backward":
            def step_backward(*args):
                *upstream, (layer, meta) = args
                names = ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db") if lstm else \
                    ("dx", "dprev_h", "dWx", "dWh", "db")
                step = self.method(layer, "step_backward", user, returns=["a"] * len(names),
                                   names=("dnext_h", "dnext_c", "meta") if lstm else
                                   ("dnext_h", "meta"))
                result = self.values(user, step(*upstream, meta), names)
                self.replay(layer)
                return result
            return step_backward
        if kind == "forward":
            def forward(x, h0, Wx, Wh, b):
                layer = layer_for(Wx, Wh, b)
                run = self.method(layer, "forward", user, names=("x", "h0"), returns="a")
                h = self._single(user, run(x, h0), "h (N, T, H)")
                self.remember_forward(layer, run, x, h0)
                return h, layer
            return forward

        def backward(dh, layer):
            result = self.method(layer, "backward", user, names=("dh",), returns=["a", "a"])(dh)
            dx, dh0 = self.values(user, result, ("dx", "dh0"))
            grads = self._grads(user, class_name, layer, _RECURRENT_KEYS)
            self.replay(layer)  # the notebook reads grads, then calls forward again
            return (dx, dh0, *grads)
        return backward

    # ---- word embedding, temporal fc, loss ------------------------------------------

    def _single(self, user, result, what: str):
        result = self.values(user, result, ("out",))
        if isinstance(result, (tuple, list)):
            raise ApiMismatch(user, f"{user} returned {describe_value(result)}; expected "
                                    f"the array {what} only")
        return result

    def _embedding_forward(self, x, W):
        user = "word_embedding.forward"
        layer = self._layer(user, "word_embedding", W.shape, {"w_name": W})
        run = self.method(layer, "forward", user, names=("x",), returns="a")
        out = self._single(user, run(x), "out (N, T, D)")
        self.remember_forward(layer, run, x)
        return out, layer

    def _embedding_backward(self, dout, layer):
        user = "word_embedding.backward"
        self.method(layer, "backward", user, names=("dout",))(dout)  # returns None
        (dW,) = self._grads(user, "word_embedding", layer, ("w_name",))
        self.replay(layer)
        return dW

    def _fc_forward(self, x, w, b):
        user = "temporal_fc.forward"
        layer = self._layer(user, "temporal_fc", w.shape, {"w_name": w, "b_name": b},
                            init_scale=0.02)
        run = self.method(layer, "forward", user, names=("x",), returns="a")
        out = self._single(user, run(x), "out (N, T, M)")
        self.remember_forward(layer, run, x)
        return out, layer

    def _fc_backward(self, dout, layer):
        user = "temporal_fc.backward"
        dx = self._single(user, self.method(layer, "backward", user, names=("dout",),
                                            returns="a")(dout), "dx (N, T, D)")
        dw, db = self._grads(user, "temporal_fc", layer, ("w_name", "b_name"))
        self.replay(layer)
        return dx, dw, db

    def _softmax_loss(self, x, y, mask):
        cls = self._loss_class
        forward, backward = f"{cls}.forward", f"{cls}.backward"
        loss_fn, _ = self.new(forward, cls)
        run = self.method(loss_fn, "forward", forward, names=self.ARGUMENTS[
            "temporal_softmax_loss"], returns="a")
        loss = self._single(forward, run(x, y, mask), "loss (a scalar)")
        self.remember_forward(loss_fn, run, x, y, mask)
        if not self.present(backward):
            return loss, MISSING
        dx = self._single(backward, self.method(loss_fn, "backward", backward,
                                                returns="a")(), "dx (N, T, V)")
        self.replay(loss_fn)
        if self.takes(cls, "dim_average"):
            self._summed_loss(x, y, mask)
        return loss, dx

    def _summed_loss(self, x, y, mask) -> None:
        """The loss built with ``dim_average=False``: N times the reference."""
        option = "dim_average=False"
        cls = self._loss_class
        forward, backward = f"{cls}.forward", f"{cls}.backward"
        loss_fn, _ = self.new(forward, cls, dim_average=False)
        loss = self._single(forward, self.method(loss_fn, "forward", forward,
                                                 names=self.ARGUMENTS[
                                                     "temporal_softmax_loss"])(x, y, mask),
                            "loss (a scalar)")
        dx = self._single(backward, self.method(loss_fn, "backward", backward)(),
                          "dx (N, T, V)")
        factor = x.shape[0]
        self.variants += [(option, "loss", forward, loss, factor),
                          (option, "dx", backward, dx, factor)]


def _template_line(stmt) -> bool:
    """A line the templates keep in a stub: ``assert np.prod(x.shape[1:]) == ...``,
    ``self.meta = []``."""
    if isinstance(stmt, ast.Assert):
        return True
    return (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Attribute) and stmt.targets[0].attr == "meta"
            and isinstance(stmt.value, ast.List) and not stmt.value.elts)


def _identity(obj):
    """A key for a layer while it lives: its handle's number in that child process (a
    fresh one numbers from the start again), or the object's id."""
    ident = getattr(obj, "ident", None)
    return (getattr(obj, "generation", None), ident) if ident is not None else id(obj)
