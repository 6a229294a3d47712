"""``--api minchar``: Karpathy's min-char-rnn script, its forks and its LSTM ports.

The module is a training script: it reads ``input.txt`` and trains forever at module
level. It is read as a script (:mod:`torch_ref.verify.load.script`): only its imports,
constants and definitions run. Its entry point and weights are read from its source
(:mod:`.minchar_source`), whatever the fork calls them::

    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)

``inputs``, ``targets`` lists of character indices; the weights ``Wxh (H, V)``, ``Whh (H,
H)``, ``Why (V, H)``, ``bh (H, 1)``, ``by (V, 1)`` are the module's globals (a method's
attributes), set by their own names before each call, with the sizes it reads
(``vocab_size``, ``hidden_size``, ``seq_length`` ...). Each call is compared with the
catalog's ``char_rnn`` (``nn.RNN`` + ``nn.Linear`` + summed cross-entropy) or
``char_lstm``: loss, every gradient and the last state.

Editions: the vanilla RNN; the LSTM with one matrix per gate on ``[x; h]`` or ``[h; x]``
(eliben's min-char-lstm and its copies: ``lossFun(inputs, targets, hprev, cprev)``,
``Wf, Wi, Wcc, Wo``, 13 values); the LSTM with its gates packed in ``Wxh (4H, V)`` (the
gate order read from its slices). Clipping is read from the code too: the original clips
every gradient to [-5, 5] in place after the sequence; a fork that clips at another bound
is checked at that bound, one whose ``np.clip`` has no effect against what it means, one
without clipping against the gradients themselves (a warning where they go beyond the
original's bound).
"""
from __future__ import annotations

import dataclasses
import os
import re

import numpy as np

from torch_ref import layout as L
from torch_ref.verify.adapters import minchar_source as S
from torch_ref.verify.adapters.base import Adapter
from torch_ref.verify.adapters.editions import Edition, Sign
from torch_ref.verify.errors import ApiMismatch
from torch_ref.verify.isolation.client import UserError, describe_value

_MAX_SOURCE = 4 << 20
_FUNCTIONAL = {"rnn": "char_rnn_loss", "lstm": "char_lstm_loss", "lstm-packed": "char_lstm_loss"}
# the bounds the catalog's cases clip at, the original's first
_CASE_BOUNDS = (5.0, 1.0)


class MincharAdapter(Adapter):
    name = "minchar"
    description = ("min-char-rnn's lossFun(inputs, targets, hprev) and its forks and LSTM "
                   "ports (a training script: only its definitions run)")
    BINDINGS = {"char_rnn_loss": "lossFun"}
    dtypes = ("float64",)
    expects = ("a training script defining lossFun(inputs, targets, hprev) (or a fork's "
               "rename: loss_fun, compute_loss_and_gradients, a method) that returns the loss, "
               "the gradients and the last hidden state")
    EDITIONS = (
        Edition("RNN", "Karpathy's min-char-rnn: lossFun(inputs, targets, hprev) -> loss, "
                       "dWxh, dWhh, dWhy, dbh, dby, h; the weights module globals of any name"),
        Edition("LSTM, a matrix per gate", "lossFun(inputs, targets, hprev, cprev): Wf, Wi, "
                "Wo and the candidate's (H, V + H) on [x; h] or [h; x] (eliben's "
                "min-char-lstm and its copies)"),
        Edition("LSTM, packed gates", "lossFun(inputs, targets, hprev, cprev): the gates "
                "packed in Wxh (4H, V), Whh (4H, H), bh (4H, 1) in the order of its slices"),
    )
    reuse_notes = ("first call",
                   "second call on the same module (or instance); it is called again with "
                   "other inputs before its results are read",
                   "third call; the weights changed in place, as training changes them")

    def __init__(self, executor=None, sources=None):
        super().__init__(executor, sources)
        self.reading = None
        self.script = None
        self.tree = None
        self._hazards = []
        self._analyse()

    # ---- reading the module ------------------------------------------------------------

    @classmethod
    def reads_as_script(cls, file: str, chosen: bool) -> bool:
        if chosen:
            return True
        text = _read_text(file)
        tree = S.parse(text) if text is not None else None
        return tree is not None and bool(S.find_entries(tree)) and _runs_code(tree)

    def _analyse(self) -> None:
        if self.ex is None:
            self.edition = self.EDITIONS[0]
            return
        file, text, self.tree = self._source()
        if self.tree is None:
            self.edition = self.EDITIONS[0]
            return
        from torch_ref.verify.load import script

        try:
            self.script = script.read(text, file)[0] if file.endswith(".py") else None
        except SyntaxError:
            self.script = None
        source = S.python3_source(text)[0]
        entries = S.find_entries(self.tree)
        present = [e for e in entries if Adapter.present(self, e.name)]
        entry = (present or entries or [None])[0]
        if entry is None:
            self.edition = self.EDITIONS[0]
            return
        self.reading = S.read_entry(entry, self.tree, source, set(self.names))
        if "[cell " in file:  # a notebook's lines count from its cell
            cell = os.path.basename(file)
            self.reading.evidence = [e.replace(" at line ", f" at {cell} line ", 1)
                                     for e in self.reading.evidence]
            self.reading.clip.text += f" in {cell}" if self.reading.clip.text else ""
        # the evidence --api auto weighs: an entry point of the script's shape
        self.edition_signs = (Sign("defines", entry.name, weight=2),)
        kind = self.reading.kind
        self.edition = {"lstm": self.EDITIONS[1], "lstm-packed": self.EDITIONS[2]}.get(
            kind, self.EDITIONS[0])
        self.BINDINGS = {_FUNCTIONAL.get(kind, "char_rnn_loss"): entry.name}
        self._names_for_reports()

    def _source(self):
        """``(file, text, tree)`` of the module's source: a script's, or the notebook cell
        that defines the entry point (``tree`` None when there is none)."""
        file = self.ex.inventory.get("file") or ""
        if not file.endswith(".ipynb"):
            text = self.sources.text(file) if file else None
            return file, text or "", S.parse(text) if text is not None else None
        cells = dict.fromkeys(e.get("where", "").rsplit(":", 1)[0] for e in
                              self.names.values() if e.get("own") and "[cell " in
                              e.get("where", ""))
        for label in cells:
            text = self.sources.text(label)
            tree = S.parse(text) if text is not None else None
            if tree is not None and S.find_entries(tree):
                return label, text, tree
        return file, "", None

    @property
    def bound(self) -> float:
        """The bound the module's code means to clip at (``inf``: none)."""
        clip = self.reading.clip if self.reading else None
        return clip.bound if clip is not None and clip.bound is not None else np.inf

    def assumed(self) -> str:
        r = self.reading
        if r is None:
            return ""
        lines = [f"{self.name} {self.edition.name} ({self.edition.summary}), recognised by: "
                 + "; ".join(r.evidence)]
        if r.kind != "unsupported":
            lines.append(r.clip.describe())
        if self.script is not None:
            lines += self.script.notes(self.ex.inventory.get("file", ""))
        skipped = self.ex.inventory.get("skipped_imports", [])
        if skipped:
            lines.append("not run: " + "; ".join(skipped[:6])
                         + (" ..." if len(skipped) > 6 else ""))
        given = [n for names in (*r.sizes.values(), *r.attributes.values()) for n in names]
        if given:
            lines.append("set before each call, as the sizes of the case: "
                         + ", ".join(dict.fromkeys(given)))
        return "\n  ".join(lines)

    def _names_for_reports(self) -> None:
        """The tensors and gates as the module names them."""
        r = self.reading
        if r.kind == "unsupported":
            return
        grads = {f"d{role}": r.grads.get(role, f"d{role}") for role in S.VANILLA}
        if r.kind == "rnn":
            self.TENSORS = {"char_rnn": {**grads, "h_last": "h"}}
            return
        names = {"dWhy": grads["dWhy"], "dby": grads["dby"], "h_last": "h", "c_last": "c"}
        if r.kind == "lstm-packed":
            H_order = r.gates

            def reordered(array, gate=None):
                H = np.shape(array)[0] // 4
                return L.char_lstm_reordered(np.asarray(array), H_order, H)
            names.update({k: (grads[k], reordered) for k in ("dWxh", "dWhh", "dbh")})
            self.TENSORS = {"char_lstm": names}
            return
        suffixes = {g: re.sub(r"^(self\.)?d?[Ww]_?", "", r.grads.get(f"W{g}", "")) for g in
                    "ifog"}
        self.GATES = {g: suffixes[g] or g for g in "ifog"}
        prefix_w = "dW" if all(r.grads.get(f"W{g}", "").startswith("dW") for g in "ifog") \
            else "d"
        prefix_b = "db" if all(r.grads.get(f"b{g}", "").startswith("db") for g in "ifog") \
            else "d"
        x, h = ("[:, :V]", "[:, V:]") if r.x_first else ("[:, H:]", "[:, :H]")

        def block(array, gate):
            array = np.asarray(array)
            H = array.shape[0] // 4
            k = L.CHAR_GATES.index(gate)
            return array[k * H:(k + 1) * H]
        names.update({"dWxh": (prefix_w + "{gate}" + x, block),
                      "dWhh": (prefix_w + "{gate}" + h, block),
                      "dbh": (prefix_b + "{gate}", block)})
        self.TENSORS = {"char_lstm": names}

    def course_hint(self, hint: str) -> str:
        """A hint in the fork's own names (``dWhh`` -> ``dW`` where it says so)."""
        hint = super().course_hint(hint)
        r = self.reading
        hint = re.sub(r"\bh_last\b", "the returned h", re.sub(r"\bc_last\b",
                                                               "the returned c", hint))
        if r is None or r.kind != "rnn":
            return hint
        for role in S.VANILLA:
            grad = r.grads.get(role)
            if grad and grad != f"d{role}":
                hint = re.sub(rf"\bd{role}\b", grad, hint)
            weight = r.weights.get(role, role).split(".")[-1]
            if weight != role:
                hint = re.sub(rf"(?<![\w.]){role}(?=\.T\b|\b)", weight, hint)
        return hint

    def absence_note(self, user_function: str) -> str:
        skipped = [s for s in self.ex.inventory.get("skipped_imports", [])
                   if s.startswith(user_function.split(".")[0] + " ")] if self.ex else []
        if skipped:
            return f"its definition did not run: {skipped[0]}"
        if self.reading is None:
            own = [n for n, e in self.names.items() if e.get("own") and e["kind"] in (
                "function", "class")]
            return ("no function lossFun (nor a fork's rename: loss_fun, lossFunc, "
                    "compute_loss..., or a method so named, or one returning a loss and "
                    "np.zeros_like gradients) in the module"
                    + (f"; it defines {', '.join(own[:8])}" if own else ""))
        return super().absence_note(user_function)

    # ---- which cases -------------------------------------------------------------------

    def keeps(self, component, case) -> bool:
        """The cases whose clipped reference the module's clipping can answer: its own
        bound, a smaller one (clipped further here), and any case whose gradients stay
        within both bounds."""
        k, c = float(np.asarray(case.inputs["clip"])), self.bound
        preferred = next((b for b in _CASE_BOUNDS if c >= b), None)
        if k == c or (k == preferred and c > k):
            return True
        return _largest_gradient(component, case) <= min(c, k)

    # ---- the functional API ------------------------------------------------------------

    def api(self):
        from torch_ref.verify.run import UsageError

        r = self.reading
        if r is not None and r.kind == "unsupported":
            file = os.path.basename(self.ex.inventory.get("file", "")) or "the module"
            raise UsageError(f"verify cannot check {file} with --api minchar: {r.problem}")
        namespace = super().api()
        namespace.take_hazards = self.take_hazards
        return namespace

    def take_hazards(self) -> list:
        found, self._hazards = self._hazards, []
        return found

    def implement(self, functional: str):
        if self.reading is None:
            return None
        lstm = functional == "char_lstm_loss"

        def run(inputs, targets, *rest):
            states, weights, clip = rest[:2 if lstm else 1], rest[-6:-1], rest[-1]
            return self._call(inputs, targets, states, weights, float(np.asarray(clip)))
        return run

    def _holder(self):
        """The object holding the weights: the module, or a new instance of the entry's
        class (built without ``__init__``, which reads the data)."""
        r = self.reading
        if r.entry.cls is None:
            return self.ex.module
        cls = self.function(r.entry.cls, r.entry.name)
        return self._through(r.entry.name, self.ex.method, cls, "__new__", cls,
                             returns="ref")

    def _call(self, inputs, targets, states, weights, clip):
        r = self.reading
        user = r.entry.name
        Wxh, Whh, Why, bh, by = weights
        V, H, T = Wxh.shape[1], Whh.shape[1], len(inputs)
        holder, use = self.instance("holder", self._holder)
        module = self.ex.module
        for name, value in self._fork_weights(Wxh, Whh, Why, bh, by).items():
            target = holder if name.startswith("self.") else module
            self.assign(use, user, target, value, name=name.split(".")[-1])
        sizes = {"V": V, "H": H, "T": T}
        for size, names in r.sizes.items():
            for name in names:
                self.set(module, name, sizes[size], user)
        for size, names in r.attributes.items():
            for name in names:
                self.set(holder, name, sizes[size], user)
        args, names = [list(map(int, inputs)), list(map(int, targets))], ["inputs", "targets"]
        given = dict(zip(("h", "c"), states, strict=False))
        for kind, param in zip(r.states, r.entry.params[2:], strict=False):
            args.append(given[kind] if kind in given else sizes[kind])
            names.append(param)
        result = self._invoke(user, holder, args, names)
        if self.reuse_active:  # called again before the results are read
            other = [list(reversed(args[0])), list(reversed(args[1])),
                     *(a[::-1].copy() if isinstance(a, np.ndarray) else a for a in args[2:])]
            self._invoke(user, holder, other, names)
        result = self.read(user, result)
        return self._outputs(user, result, V, H, clip)

    def _invoke(self, user, holder, args, names):
        r = self.reading
        expected = tuple(r.grads.get(role, role) for role in r.returns)
        try:
            if r.entry.cls is None:
                result = self.call(user, user, *args, names=names, returns="a")
            else:
                method = r.entry.name.split(".", 1)[1]
                result = self.method(holder, method, user, returns="a", names=names)(*args)
        except UserError as exc:
            raise self._explained(exc) from None
        return self.values(user, result, expected)

    def _explained(self, exc: UserError):
        """A NameError of a variable only the script's top-level code sets, said so."""
        r = self.reading
        line = _assigned_at(self.tree, exc.name) if exc.type_name == "NameError" else 0
        if line and exc.name in r.unknown:
            return ApiMismatch(r.entry.name, f"{r.entry.name} reads {exc.name}, which only "
                               f"the script's top-level code sets (line {line}), code verify "
                               f"never runs: a function of the model must get it from its "
                               f"arguments or from a constant ({exc.where})")
        return exc

    def _fork_weights(self, Wxh, Whh, Why, bh, by) -> dict:
        """The module's name of each weight -> its value in the fork's layout."""
        r = self.reading
        w = r.weights
        if r.kind == "rnn":
            return {w[k]: v for k, v in zip(S.VANILLA, (Wxh, Whh, Why, bh, by), strict=True)}
        if r.kind == "lstm-packed":
            H = Whh.shape[1]
            return {w["Wxh"]: L.char_lstm_reordered(Wxh, r.gates, H),
                    w["Whh"]: L.char_lstm_reordered(Whh, r.gates, H),
                    w["bh"]: L.char_lstm_reordered(bh, r.gates, H),
                    w["Why"]: Why, w["by"]: by}
        gates = L.char_lstm_to_gates(Wxh, Whh, bh, r.x_first)
        out = {w["Why"]: Why, w["by"]: by}
        for gate, (W, b) in gates.items():
            out[w[f"W{gate}"]], out[w[f"b{gate}"]] = W, b
        return out

    def _outputs(self, user, result, V, H, clip):
        r = self.reading
        got = dict(zip(r.returns, result, strict=True))
        loss = got["loss"]
        if isinstance(loss, np.ndarray) and loss.size == 1:
            loss = loss.reshape(())  # ps[t][targets[t]] without its ", 0": a 1-element array
        if r.kind == "rnn":
            grads = [got[k] for k in S.VANILLA]
        elif r.kind == "lstm-packed":
            grads = [L.char_lstm_reordered(self._array(user, k, got[k], (4 * H, n)), r.gates,
                                           H, back=True) if k != "Why" and k != "by" else got[k]
                     for k, n in zip(S.VANILLA, (V, H, H, 1, 1), strict=True)]
        else:
            gates = {g: (self._array(user, f"W{g}", got[f"W{g}"], (H, V + H)),
                         self._array(user, f"b{g}", got[f"b{g}"], (H, 1))) for g in "ifog"}
            Wxh, Whh, bh = L.char_lstm_from_gates(gates, V, r.x_first)
            grads = [Wxh, Whh, got["Why"], bh, got["by"]]
        grads = [self._clipped(user, role, g, clip) for role, g in zip(S.VANILLA, grads,
                                                                       strict=True)]
        states = [got["h"]] + ([got["c"]] if "c" in got else [])
        return (loss, *grads, *states)

    def _array(self, user, role, value, shape):
        name = self.reading.grads.get(role, f"d{role}")
        if not isinstance(value, np.ndarray) or value.shape != shape:
            raise ApiMismatch(user, f"{user} returned {name} as {describe_value(value)}; "
                                    f"expected an array of shape {shape}")
        return value

    def _clipped(self, user, role, grad, clip):
        """The module's gradient clipped to the case's bound where its own is larger (or
        it has none): a warning where that changes it."""
        if not isinstance(grad, np.ndarray) or grad.dtype.kind != "f" or self.bound <= clip:
            return grad
        with np.errstate(invalid="ignore"):
            beyond = float(np.nanmax(np.abs(grad), initial=0.0))
        if beyond <= clip:
            return grad
        name = self.reading.grads.get(role, f"d{role}")
        own = ("it does not clip" if self.bound == np.inf
               else f"it clips at {self.bound:g}")
        self._hazards.append((
            "clipping", user,
            f"{name} reaches {beyond:.3g} and {own}; the original clips every gradient to "
            f"[-{clip:g}, {clip:g}] in place after the sequence (np.clip(dparam, "
            f"-{clip:g}, {clip:g}, out=dparam)), so that one exploding step cannot wreck "
            f"training (the values are right once clipped)"))
        return np.clip(grad, -clip, clip)


def _read_text(file: str):
    try:
        if os.path.getsize(file) > _MAX_SOURCE:
            return None
        with open(file, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _runs_code(tree) -> bool:
    """Whether a module has top-level code beyond definitions and constants (a script)."""
    from torch_ref.verify.load.script import _kept

    return any(not _kept(node) and not (isinstance(node, S.ast.Expr)
                                        and isinstance(node.value, S.ast.Constant))
               for node in tree.body)


def _assigned_at(tree, name: str) -> int:
    """The first line of the module's top-level code assigning ``name`` (0: none)."""
    if tree is None or name not in S.assigned_names(tree):
        return 0
    for node in tree.body:
        if isinstance(node, (S.ast.FunctionDef, S.ast.AsyncFunctionDef, S.ast.ClassDef)):
            continue
        for sub in S.ast.walk(node):
            if isinstance(sub, S.ast.Name) and sub.id == name and isinstance(
                    sub.ctx, S.ast.Store):
                return sub.lineno
    return 0


def _largest_gradient(component, case) -> float:
    """The largest gradient of ``case`` unclipped (the torch reference, remembered)."""
    from torch_ref.compare.engine import reference_run

    raw = dataclasses.replace(case, inputs={**case.inputs, "clip": np.float64(np.inf)})
    run = reference_run(component, raw)
    return max(float(np.max(np.abs(g), initial=0.0)) for g in run.grads.values())
