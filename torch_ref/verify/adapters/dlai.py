"""``--api dlai``: "Building your Recurrent Neural Network - Step by Step" (deeplearning.ai).

Module-level functions, features first: ``x (n_x, m, T_x)``, ``a (n_a, m)``, weights
multiplying from the left, biases ``(n_a, 1)``::

    a_next, yt_pred, cache = rnn_cell_forward(xt, a_prev, parameters)   # Wax Waa Wya ba by
    gradients = rnn_cell_backward(da_next, cache)          # dxt da_prev dWax dWaa dba
    a, y_pred, caches = rnn_forward(x, a0, parameters)
    gradients = rnn_backward(da, caches)                   # dx da0 dWax dWaa dba
    a_next, c_next, yt_pred, cache = lstm_cell_forward(xt, a_prev, c_prev, parameters)
    gradients = lstm_cell_backward(da_next, dc_next, cache)   # dxt da_prev dc_prev dWf dbf ...
    a, y, c, caches = lstm_forward(x, a0, parameters)      # c0 = 0
    gradients = lstm_backward(da, caches)                  # dx da0 dWf dbf dWi ...

The LSTM has one matrix per gate, ``Wf, Wi, Wc, Wo (n_a, n_a + n_x)``, acting on
``[a_prev; xt]`` (layout: :mod:`torch_ref.layout`). ``yt_pred`` must be the softmax over
axis 0 of ``Wya a_next + by`` (``Wy``, ``by`` for the LSTM); the output weights given are
random. The backward functions are optional in the course: absent, or still the
template (None for every gradient), they are n/a. The
course computes in float64 (its arrays come from ``np.zeros``), so only float64 is
checked. Reuse: another forward call with other inputs is made between a forward and
the backward that takes its cache.
"""
from __future__ import annotations

import re

import numpy as np

from torch_ref import layout as L
from torch_ref.verify.adapters.base import MISSING, Adapter, describe_value
from torch_ref.verify.adapters.course import as_column, features_first, gate_rows, transposed
from torch_ref.verify.adapters.editions import Edition, Sign
from torch_ref.verify.errors import ApiMismatch

_FORWARD = {"rnn_step_forward": "rnn_cell_forward", "rnn_forward": "rnn_forward",
            "lstm_step_forward": "lstm_cell_forward", "lstm_forward": "lstm_forward"}
_BACKWARD = {"rnn_step_backward": "rnn_cell_backward", "rnn_backward": "rnn_backward",
             "lstm_step_backward": "lstm_cell_backward", "lstm_backward": "lstm_backward"}
_N_Y = 3  # rows of the random output layer
# the week's other assignment (Dinosaurus Island) ships utils.py with rnn_forward,
# rnn_backward ... of another API: rnn_step_forward(parameters, a_prev, x) tells it
_NOT_DINOSAURUS = Sign("param", "rnn_step_forward", "parameters", -20)


# lines the templates give inside their START/END blocks (whitespace and quotes aside):
# reading the step's gradients (every version), and in W1A1 rnn_backward's first lines
_GIVEN_LINES = frozenset(
    re.sub(r"\s+", "", line).replace("'", '"') for line in (
        'dxt, da_prevt, dWaxt, dWaat, dbat = gradients["dxt"], gradients["da_prev"], '
        'gradients["dWax"], gradients["dWaa"], gradients["dba"]',
        "(caches, x) = caches", "(a1, a0, x1, parameters) = caches[0]",
        "n_a, m, T_x = da.shape", "n_x, m = x1.shape"))
# what the templates leave for the student to write: a target set to None (``dx[:, :, t]
# = None``, ``dWax += None``, ``(caches, x) = None``), a bare ``None`` (a call to write),
# ``caches.append(None)``, the time loop ``for t in reversed(range(None)):``
_STUB_LINE = re.compile(r"[^=]+[-+*/]?=\s*None|None|[\w.]+\(None\)|"
                        r"for\s+\w+\s+in\s+[\w.()\s]*\(\s*(None|T_x)\s*\)+\s*:")


def _untouched_template(source: str) -> bool:
    """Whether a function's ``source`` is still the notebook's template: between ``###
    START CODE HERE`` and ``### END CODE HERE`` nothing but what the template puts there
    (see ``_STUB_LINE`` and ``_GIVEN_LINES``) and comments."""
    blocks = re.findall(r"START CODE HERE[^\n]*\n(.*?)#+ *END CODE HERE", source, re.S)
    if not blocks:
        return False
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    code = [line for line in lines if line]
    return bool(code) and all(
        _STUB_LINE.fullmatch(line) or re.sub(r"\s+", "", line).replace("'", '"')
        in _GIVEN_LINES for line in code)


def _softmax0(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


class DlaiAdapter(Adapter):
    name = "dlai"
    description = "deeplearning.ai RNN step by step: rnn_cell_forward ... lstm_backward " \
                  "(features first, parameters dicts, gradients dicts)"
    conventional_files = ("rnn_utils_solution.py", "Building_a_Recurrent_Neural_Network_"
                          "Step_by_Step.ipynb")
    BINDINGS = {"rnn_step_forward": "rnn_cell_forward", "rnn_step_backward": "rnn_cell_backward",
                "rnn_forward": "rnn_forward", "rnn_backward": "rnn_backward",
                "lstm_step_forward": "lstm_cell_forward",
                "lstm_step_backward": "lstm_cell_backward",
                "lstm_forward": "lstm_forward", "lstm_backward": "lstm_backward"}
    OPTIONAL = tuple(_BACKWARD)
    ARGUMENTS = {"rnn_step_forward": ("xt", "a_prev", "Wax", "Waa", "ba"),
                 "rnn_step_backward": ("da_next", "cache"),
                 "rnn_forward": ("x", "a0", "Wax", "Waa", "ba"),
                 "rnn_backward": ("da", "caches"),
                 "lstm_step_forward": ("xt", "a_prev", "c_prev", "Wx", "Wh", "b"),
                 "lstm_step_backward": ("da_next", "dc_next", "cache"),
                 "lstm_forward": ("x", "a0", "Wx", "Wh", "b"),
                 "lstm_backward": ("da", "caches")}
    dtypes = ("float64",)
    # the functional dWx, dWh, db of an LSTM pack the four gates' matrices: a report
    # names the gate of the worst element (c: the candidate, dWc)
    _T, _F = transposed, features_first
    _LSTM = {"dWx": ("dW{gate}[:, n_a:]", gate_rows), "dWh": ("dW{gate}[:, :n_a]", gate_rows),
             "db": ("db{gate}", gate_rows)}
    TENSORS = {
        "rnn_step": {"next_h": ("a_next", _T), "dx": ("dxt", _T), "dprev_h": ("da_prev", _T),
                     "dWx": ("dWax", _T), "dWh": ("dWaa", _T), "db": ("dba", as_column)},
        "rnn": {"h": ("a", _F), "dx": ("dx", _F), "dh0": ("da0", _T), "dWx": ("dWax", _T),
                "dWh": ("dWaa", _T), "db": ("dba", as_column)},
        "lstm_step": {"next_h": ("a_next", _T), "next_c": ("c_next", _T), "dx": ("dxt", _T),
                      "dprev_h": ("da_prev", _T), "dprev_c": ("dc_prev", _T), **_LSTM},
        "lstm": {"h": ("a", _F), "dx": ("dx", _F), "dh0": ("da0", _T), **_LSTM},
    }
    GATES = {"g": "c"}
    EDITIONS = (
        Edition("v1-v3", "Building a Recurrent Neural Network - Step by Step - v1/v2/v3 "
                "(2018-2020): expected outputs in markdown, no public tests; the v3 "
                "expected output of lstm_backward omits the gradient carried between time "
                "steps (it is not the gradient)",
                # the notebook's text (its JSON): section 3's title, in lower case then
                signs=(Sign("source", r"Backpropagation in recurrent neural networks",
                            weight=2),
                       Sign("source", r"from public_tests import", weight=-2),
                       _NOT_DINOSAURUS)),
        Edition("W1A1", "W1A1 (2021 on): public_tests, exercises 1-8, the backward pass "
                "optional and ungraded with corrected expected outputs; rnn_backward's "
                "first lines given",
                signs=(Sign("source", r"from public_tests import", weight=3),
                       Sign("file", "public_tests.py", weight=2),
                       Sign("source", r"name='ex-[1-8]'", weight=1),
                       Sign("source", r"# saving parameters\['Wy'\] in a local variable",
                            weight=1),
                       _NOT_DINOSAURUS)),
    )
    expects = "functions rnn_cell_forward(xt, a_prev, parameters), rnn_forward, " \
              "lstm_cell_forward, lstm_forward (+ the *_backward functions)"
    reuse_notes = ("first call",
                   "second call; the forward is called again with other inputs before "
                   "the backward gets its cache",
                   "third call; the forward is called again with other inputs before "
                   "the backward gets its cache")

    def __init__(self, executor=None, sources=None):
        super().__init__(executor, sources)
        self._unimplemented: set = set()  # backward templates still returning None

    def present(self, user_function: str) -> bool:
        if not super().present(user_function):
            return False
        if user_function in _BACKWARD.values():
            found = self.sources.at(self.where(user_function))
            if found is not None and _untouched_template(found[1]):
                self._unimplemented.add(user_function)
        return user_function not in self._unimplemented

    def left_as_template(self, user_function: str) -> bool:
        found = self.sources.at(self.where(user_function))
        return found is not None and _untouched_template(found[1])

    def course_hint(self, hint: str) -> str:
        hint = super().course_hint(hint)
        if hint.startswith("dh0 matches the gradient of the first timestep alone"):
            # da0 of step 0 alone: nothing came back through time (an LSTM carrying
            # neither da_prev nor dc_prev; an RNN gets its own hint for that)
            hint = ("da0 is the gradient of the first time step alone: nothing is carried "
                    "back through time; the da_next of step t must be da[:, :, t] + the "
                    "da_prev of step t+1 (and for the LSTM dc_next the dc_prev of step t+1)")
            if self.edition is not None and self.edition.name == "v1-v3":
                hint += ("; the v3 notebook's expected output for lstm_backward omits both "
                         "(its numbers are not the gradient; W1A1 corrected them)")
        return hint

    def absence_note(self, user_function: str) -> str:
        if user_function in self._unimplemented:
            return ("not implemented yet (the template's None for every gradient); the "
                    "backward pass is optional in the course")
        if user_function in _BACKWARD.values():
            return "not defined (the backward pass is optional in the course)"
        return super().absence_note(user_function)

    def implement(self, functional: str):
        user = self.BINDINGS[functional]
        lstm = functional.startswith("lstm")
        if functional in _FORWARD:
            step = "step" in functional
            return lambda *args: self._forward(user, lstm, step, *args)
        return lambda *args: self._backward(user, lstm, "step" in functional, *args)

    # ---- forward ----------------------------------------------------------------------

    def _parameters(self, lstm, Wx, Wh, b):
        H = Wh.shape[0]
        rng = np.random.default_rng([H, Wx.shape[0], 7])
        Wy = (rng.standard_normal((_N_Y, H)) / np.sqrt(H)).astype(Wx.dtype)
        by = rng.standard_normal((_N_Y, 1)).astype(Wx.dtype)
        if lstm:
            return {**L.dlai_lstm_parameters(Wx, Wh, b), "Wy": Wy, "by": by}
        # views, so that a function writing into its weights is caught
        return {"Wax": Wx.T, "Waa": Wh.T, "Wya": Wy, "ba": b.reshape(H, 1), "by": by}

    def _forward(self, user, lstm, step, x, h0, *rest):
        c0, (Wx, Wh, b) = rest[:-3], rest[-3:]
        parameters = self._parameters(lstm, Wx, Wh, b)
        xs = x.T if step else x.transpose(2, 0, 1)
        args = (xs, h0.T, *(c.T for c in c0), parameters)
        if lstm and step:
            names = ("a_next", "c_next", "yt_pred", "cache")
        elif lstm:
            names = ("a", "y", "c", "caches")
        else:
            names = ("a_next", "yt_pred", "cache") if step else ("a", "y_pred", "caches")
        self.ex.poison(h0.T.shape)
        spec = ["a"] * (len(names) - 1) + ["ref"]
        result = self.values(user, self.call(user, user, *args, returns=spec), names)
        self.decoy(lambda *a: self.call(user, user, *a, returns=spec), *args)
        result = self.read(user, result, keep=(-1,))
        N, H = h0.shape
        shape = (H, N) if step else (H, N, x.shape[1])
        a = self._shaped(user, names[0], result[0], shape)
        k = 2 if lstm and step else 1  # where the prediction is among the results
        y_name = names[k]
        y = self._shaped(user, y_name, result[k], (_N_Y,) + shape[1:])
        self._check_prediction(user, y_name, a, y, parameters, lstm)
        if step:
            outputs = (a.T, self._shaped(user, "c_next", result[1], shape).T) if lstm else (a.T,)
        else:
            outputs = (a.transpose(1, 2, 0),)
        return (*outputs, result[-1])

    def _shaped(self, user, name, value, shape):
        value = np.asarray(value) if isinstance(value, (np.ndarray, np.generic, list)) else value
        if not isinstance(value, np.ndarray) or value.shape != shape:
            raise ApiMismatch(user, f"{user} returned {name} as {describe_value(value)}; "
                                    f"expected an array of shape {shape}")
        return value

    def _check_prediction(self, user, name, a, y, parameters, lstm):
        """``y`` must be softmax over axis 0 of ``Wy a + by`` at every step."""
        if not np.all(np.isfinite(a)):
            return  # a itself is judged; the prediction of a broken state says nothing
        Wy, by = (parameters["Wy"], parameters["by"]) if lstm else (parameters["Wya"],
                                                                   parameters["by"])
        z = np.einsum("yh,h...->y...", Wy.astype(np.float64), a.astype(np.float64))
        expected = _softmax0(z + by.reshape((_N_Y,) + (1,) * (a.ndim - 1)))
        with np.errstate(invalid="ignore"):
            error = np.max(np.abs(np.asarray(y, dtype=np.float64) - expected))
        if not error <= 1e-6:
            target = "Wy a_next + by" if lstm else "Wya a_next + by"
            raise ApiMismatch(user, f"{user}: {name} is not the softmax over axis 0 of "
                                    f"{target} (max abs error {error:.2e}); softmax over "
                                    f"the wrong axis, or the wrong weights?")

    # ---- backward ---------------------------------------------------------------------

    def _backward(self, user, lstm, step, *args):
        *upstream, cache = args
        ups = [u.T if step else u.transpose(2, 0, 1) for u in upstream]
        result = self.call(user, user, *ups, cache)
        if not isinstance(result, dict):
            raise ApiMismatch(user, f"{user} returned {describe_value(result)}; expected the "
                                    f"dict gradients")
        N, H = (upstream[0].shape[0], upstream[0].shape[-1])
        first = ("dxt", "da_prev") if step else ("dx", "da0")
        if lstm and step:
            first += ("dc_prev",)
        weights = (("dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo") if lstm else
                   ("dWax", "dWaa", "dba"))
        if all(result.get(key) is None for key in first + weights):
            # the course's template, untouched: an optional part not done, not a bug
            self._unimplemented.add(user)
            return (MISSING,) * (len(first) + 3)
        got = {key: self.lookup(result, key, user, "gradients") for key in first + weights}
        D = np.asarray(got[first[0]]).shape[0]
        T = () if step else (upstream[0].shape[1],)
        dx = self._shaped(user, first[0], got[first[0]], (D, N) + T)
        states = [self._shaped(user, k, got[k], (H, N)).T for k in first[1:]]
        dx = dx.T if step else dx.transpose(1, 2, 0)
        if lstm:
            for key in weights:
                self._shaped(user, key, got[key], (H, H + D) if key.startswith("dW") else (H, 1))
            dWx, dWh, db = L.dlai_lstm_grads(got, D, H)
        else:
            dWx = self._shaped(user, "dWax", got["dWax"], (H, D)).T
            dWh = self._shaped(user, "dWaa", got["dWaa"], (H, H)).T
            db = self._shaped(user, "dba", got["dba"], (H, 1)).reshape(H)
        return (dx, *states, dWx, dWh, db)
