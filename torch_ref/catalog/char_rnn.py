"""Catalog entries: min-char-rnn's ``lossFun`` and its LSTM port, in that script's layout.

``char_rnn`` is Karpathy's character-level RNN (``numpy_rnn.functional.char_rnn_loss``):
one sequence of character indices, columns features first, the loss summed over time
and the gradients clipped after the sequence; ``char_lstm`` its LSTM port with the gates
packed ``i, f, o, g`` (``char_lstm_loss``). The reference is ``nn.RNN`` (tanh) or
``nn.LSTM``, ``nn.Linear`` and ``F.cross_entropy(reduction="sum")`` on a batch of one
(layout: :mod:`torch_ref.layout`), its gradients clipped as the case says.

Every case has non-zero biases and a non-zero ``hprev`` (``cprev``), unless it is about
that. The clip bound is an input of the case: 5 (the original) everywhere, and the case
built for gradients beyond 5 also with 1 and without clipping (editions of the gist).
The first case of every seed has every gradient below 1 in size, so that it is the same
whatever the bound (a reuse sequence runs it for every edition).

The known mistakes are computed by :func:`variant`, the original algorithm in NumPy with
one thing done wrong.
"""
from __future__ import annotations

import numpy as np

from torch_ref.catalog.base import (
    ERROR_SIZES,
    INDEX_PATTERNS,
    Case,
    Component,
    Fuzz,
    Mistake,
    Run,
    Sampler,
    draw_indices,
    drawn_sizes,
    error_input,
    full,
    register,
)

NO_CLIP = float("inf")
ORIGINAL_CLIP = 5.0
GRADS = ("dWxh", "dWhh", "dWhy", "dbh", "dby")

# (label, sizes, what is special, how it is built)
_CASES = (
    ("ordinary", dict(T=5, V=8, H=4), ("T > 1", "non-zero hprev and biases",
                                        "every gradient below 1 in size"), {"small": True}),
    ("T=25 V=65", dict(T=25, V=65, H=16), ("the original's sizes: 25 steps, a 65-character "
                                            "vocabulary",), {}),
    ("T=1", dict(T=1, V=5, H=4), ("T=1 (one character)",), {}),
    ("V=1", dict(T=4, V=1, H=3), ("V=1 (one character in the vocabulary: zero loss)",), {}),
    ("H=1", dict(T=5, V=4, H=1), ("H=1",), {}),
    ("V==H", dict(T=4, V=4, H=4), ("V == H (square weights)",), {}),
    ("repeated characters", dict(T=8, V=5, H=4),
     ("one character repeated: every input and target the same index",), {"repeat": True}),
    ("zero hprev", dict(T=5, V=5, H=4), ("hprev = 0 (the first call of training)",),
     {"zero_state": True}),
    ("gradients beyond 5", dict(T=15, V=5, H=4),
     ("gradients beyond 5, clipped to [-5, 5] after the sequence as the original does",),
     {"large": True}),
    ("gradients beyond 5, clip 1", dict(T=15, V=5, H=4),
     ("gradients beyond 5, clipped to [-1, 1] (a revision of the gist)",),
     {"large": True, "clip": 1.0}),
    ("gradients beyond 5, unclipped", dict(T=15, V=5, H=4),
     ("gradients beyond 5, not clipped (the gist's first revisions)",),
     {"large": True, "clip": NO_CLIP}),
    ("logits far apart", dict(T=6, V=5, H=4),
     ("output scores spread over +-1e3, beyond exp's range: only a max-shifted or "
      "log-sum-exp softmax survives",), {"far": True}),
)
_DRAWN = {"T": (1, 30), "V": (1, 70), "H": (1, 12)}


def _weights(draw: Sampler, V: int, H: int, gates: int, scale: float) -> dict:
    # the recurrence scaled by 1/sqrt(H): long sequences in float32 stay well conditioned
    return {"Wxh": draw.normal(gates * H, V, scale=scale),
            "Whh": draw.normal(gates * H, H, scale=min(scale, 1 / np.sqrt(H))),
            "Why": draw.normal(V, H, scale=scale),
            "bh": draw.normal(gates * H, 1, scale=0.1),
            "by": draw.normal(V, 1, scale=0.1)}


def _inputs(draw: Sampler, s: dict, gates: int, how: dict) -> dict:
    T, V, H = s["T"], s["V"], s["H"]
    scale = 0.3 if how.get("small") else 0.5
    weights = _weights(draw, V, H, gates, scale)
    inputs, targets = draw.integers(V, T), draw.integers(V, T)
    if how.get("small"):  # each character the target once at most, small scores: |g| < 1
        targets = draw.rng.permutation(max(V, T))[:T] % V
        weights["Why"] = (weights["Why"] / 3).astype(draw.dtype)
    if how.get("repeat"):
        inputs = np.full(T, draw.integers(V), dtype=np.int64)
        targets = inputs.copy()
    if how.get("large"):  # the survey's probe: reference gradients far beyond 5
        targets = np.zeros(T, dtype=np.int64)
        weights["Why"] = (weights["Why"] * 6).astype(draw.dtype)
        if np.dtype(draw.dtype) == np.float64:
            # a recurrence x3 expands: float32's rounding would grow with every step
            # (the fuzz strategies keep such weights to float64 for the same reason)
            weights["Whh"] = (weights["Whh"] * 3).astype(draw.dtype)
        weights["by"][0] = -6
    if how.get("far"):
        weights["by"] = draw.normal(V, 1, scale=1e3)
    states = {"hprev": draw.normal(H, 1, scale=0.3)}
    if gates > 1:
        states["cprev"] = draw.normal(H, 1, scale=0.3)
    if how.get("zero_state"):
        states = {k: np.zeros_like(v) for k, v in states.items()}
    return {"inputs": np.asarray(inputs, dtype=np.int64),
            "targets": np.asarray(targets, dtype=np.int64), **states, **weights,
            "clip": np.float64(how.get("clip", ORIGINAL_CLIP))}


def _cases(name: str, gates: int):
    def cases(dtype, seed):
        drawn = drawn_sizes(name, seed, _DRAWN)
        for label, s, special, how in _CASES + (("drawn", drawn, ("sizes drawn from the "
                                                                  "seed",), {}),):
            draw = Sampler(name, dtype, seed, label)
            extra = {"only_log_sum_exp": True} if how.get("far") else {}
            yield Case(name, label, dtype, seed, _inputs(draw, s, gates, how), {}, dict(s),
                       special, extra)
    return cases


def _build(gates: int):
    def build(draw: Sampler, s: dict):
        return _inputs(draw, {k: s[k] for k in "TVH"}, gates, {}), {}
    return build


def _fuzz(gates: int):
    def build(draw: Sampler, s: dict, o: dict):
        inputs = _inputs(draw, s, gates, {"clip": o["clip"]})
        inputs["targets"] = draw_indices(draw, o["targets"], s["V"], (s["T"],))
        inputs["by"] = (inputs["by"] * o["scale"]).astype(draw.dtype)
        return inputs, {}, (f"targets: {o['targets']}", f"clip {o['clip']:g}",
                            f"output bias x{o['scale']:g}")
    return build


def _run_numpy(functional: str):
    def run(api, case) -> Run:
        result = getattr(api, functional)(*case.inputs.values())
        loss, grads, states = result[0], result[1:6], result[6:]
        names = ("h_last", "c_last")[:len(states)]
        return Run({"loss": np.asarray(loss), **dict(zip(names, states, strict=True))},
                   dict(zip(GRADS, grads, strict=True)))
    return run


def _torch_prepare(cell: str):
    def prepare(case):
        import torch
        import torch.nn.functional as F

        from torch_ref import layout as L

        i = case.inputs
        module, linear = L.make_char_model(i["Wxh"], i["Whh"], i["Why"], i["bh"], i["by"],
                                           cell)
        V = i["Wxh"].shape[1]
        x = L.one_hot_sequence(i["inputs"], V, case.dtype)
        targets = torch.from_numpy(np.asarray(i["targets"]))
        states = [L.column_state(i[k]) for k in ("hprev", "cprev") if k in i]
        clip = float(i["clip"])
        last = {}

        def run():
            for p in (*module.parameters(), *linear.parameters(), *states):
                p.grad = None
            h, final = module(x, tuple(states) if len(states) > 1 else states[0])
            loss = F.cross_entropy(linear(h[:, 0]), targets, reduction="sum")
            loss.backward()
            last.update(loss=loss, final=final if isinstance(final, tuple) else (final,))

        def result():
            grads = [np.clip(g, -clip, clip) for g in L.char_model_grads(module, linear)]
            names = ("h_last", "c_last")[:len(last["final"])]
            outputs = {"loss": L.to_numpy(last["loss"]),
                       **{n: L.state_column(s) for n, s in zip(names, last["final"],
                                                               strict=True)}}
            return Run(outputs, dict(zip(GRADS, grads, strict=True)))
        return run, result
    return prepare


# ---- the original algorithm, one thing done wrong (the known mistakes) -------------------

def _sigmoid(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


def variant(case, wrong: str = "", order: tuple = ()) -> dict:
    """The tensors of ``case`` as min-char-rnn computes them, with the mistake ``wrong``:

    ``tanh at pre-activation`` (the tanh derivative from what goes into the tanh),
    ``tanh twice`` (from tanh of the tanh's output: the candidate, an LSTM's),
    ``no dhnext`` / ``no dcnext`` (nothing carried back from the next step),
    ``no target`` (``dy[targets[t]] -= 1`` missing), ``all targets`` (``dy[targets] -= 1``),
    ``bias axis`` (``dbh += np.sum(dhraw, axis=0)``), ``clip running`` (the sums clipped
    inside the loop over time), ``clip each`` (each step's term clipped), ``unclipped``,
    ``hs list`` (``hs[-1]`` read as the last step in the t=0 term, a list of states),
    ``Whh not transposed`` (``dhnext = Whh dhraw``), ``backward gates`` (an LSTM whose
    backward stacks the gate blocks of ``da`` in another order than its forward slices
    them: the block of gate ``CHAR_GATES[k]`` holds gate ``order[k]``'s).
    Float64; the values the mistake gives, clipped as the case says (but ``unclipped``).
    """
    i = {k: np.asarray(v, dtype=np.float64) if k not in ("inputs", "targets") else v
         for k, v in case.inputs.items()}
    lstm = "cprev" in i
    Wxh, Whh, Why, bh, by = (i[k] for k in ("Wxh", "Whh", "Why", "bh", "by"))
    H, V = Whh.shape[1], Wxh.shape[1]
    inputs, targets = list(i["inputs"]), list(i["targets"])
    T = len(inputs)
    xs, hs, cs, gates, ps = {}, {-1: i["hprev"]}, {-1: i.get("cprev")}, {}, {}
    loss = 0.0
    for t in range(T):
        xs[t] = np.zeros((V, 1))
        xs[t][inputs[t]] = 1
        a = Wxh @ xs[t] + Whh @ hs[t - 1] + bh
        if lstm:
            ig, fg, og, g = (_sigmoid(a[:H]), _sigmoid(a[H:2 * H]), _sigmoid(a[2 * H:3 * H]),
                             np.tanh(a[3 * H:]))
            cs[t] = fg * cs[t - 1] + ig * g
            hs[t] = og * np.tanh(cs[t])
            gates[t] = (ig, fg, og, g)
        else:
            hs[t] = np.tanh(a)
            gates[t] = a
        y = Why @ hs[t] + by
        logp = y - y.max() - np.log(np.sum(np.exp(y - y.max())))
        ps[t] = np.exp(logp)
        loss += -logp[targets[t], 0]
    grads = {k: np.zeros_like(w) for k, w in zip(GRADS, (Wxh, Whh, Why, bh, by),
                                                 strict=True)}
    clip = float(i["clip"])
    dhnext, dcnext = np.zeros((H, 1)), np.zeros((H, 1))
    for t in reversed(range(T)):
        dy = ps[t].copy()
        if wrong == "all targets":
            for target in targets:
                dy[target] -= 1
        elif wrong != "no target":
            dy[targets[t]] -= 1
        terms = {"dWhy": dy @ hs[t].T, "dby": dy}
        dh = Why.T @ dy + dhnext
        if lstm:
            ig, fg, og, g = gates[t]
            tanh_c = cs[t] if wrong == "tanh at pre-activation" else np.tanh(cs[t])
            dc = og * dh * (1 - tanh_c ** 2) + dcnext
            g_out = np.tanh(g) if wrong == "tanh twice" else g
            da = np.concatenate([dc * g * ig * (1 - ig), dc * cs[t - 1] * fg * (1 - fg),
                                 dh * np.tanh(cs[t]) * og * (1 - og),
                                 dc * ig * (1 - g_out * g_out)])
            if wrong == "backward gates":
                blocks = np.split(da, 4)
                da = np.concatenate([blocks["ifog".index(g)] for g in order])
            if wrong != "no dcnext":
                dcnext = fg * dc
        else:
            before = {"tanh at pre-activation": gates[t],
                      "tanh twice": np.tanh(hs[t])}.get(wrong, hs[t])
            da = (1 - before * before) * dh
        previous = hs[T - 1] if wrong == "hs list" and t == 0 else hs[t - 1]
        terms.update(dWxh=da @ xs[t].T, dWhh=da @ previous.T, dbh=da)
        if wrong == "bias axis":
            terms["dbh"] = np.full_like(da, da.sum())
            terms["dby"] = np.full_like(dy, dy.sum())
        for name, term in terms.items():
            if wrong == "clip each":
                term = np.clip(term, -clip, clip)
            grads[name] += term
            if wrong == "clip running":
                np.clip(grads[name], -clip, clip, out=grads[name])
        if wrong != "no dhnext":
            dhnext = (Whh if wrong == "Whh not transposed" else Whh.T) @ da
    if wrong != "unclipped":
        for grad in grads.values():
            np.clip(grad, -clip, clip, out=grad)
    states = {"h_last": hs[T - 1]}
    if lstm:
        states["c_last"] = cs[T - 1]
    return {"loss": np.asarray(loss), **states, **grads}


def _mistaken(wrong: str):
    """A :class:`Mistake` pattern: the tensor as :func:`variant` computes it."""
    def pattern(component, case, tensor):
        from torch_ref.compare.hints import _memo

        if case.inputs["targets"].size > 1 or wrong not in ("hs list", "no dhnext",
                                                            "no dcnext", "clip running"):
            yield _memo(case, ("char variant", wrong), lambda: variant(case, wrong)).get(
                tensor), {}
    pattern.__name__ = f"char_rnn {wrong}"
    return pattern


def _backward_gates(component, case, tensor):
    """An LSTM whose backward stacks ``da`` in another gate order than its forward."""
    import itertools

    from torch_ref.compare.hints import _memo

    for order in itertools.permutations("ifog"):
        if order == tuple("ifog"):
            continue
        value = _memo(case, ("char variant gates", order),
                      lambda order=order: variant(case, "backward gates", order))
        swapped = ", ".join(f"gate {g}'s gradient where gate {w} belongs"
                            for g, w in zip(order, "ifog", strict=True) if g != w)
        yield value.get(tensor), {"swapped": swapped}


def _hprev_returned(component, case, tensor):
    yield np.asarray(case.inputs["hprev"]), {}


_CLIPPED_LATE = ("clipped inside the loop over time: the gradients must be summed over the "
                 "whole sequence first, then clipped once, after the loop")


def _mistakes(lstm: bool) -> tuple:
    hidden = ("dWxh", "dWhh", "dbh")
    tanh = ("the tanh derivative is taken at what goes into the tanh: 1 - tanh(c)**2 needs "
            "tanh(cs[t]), not cs[t]" if lstm else
            "the tanh derivative is taken at the pre-activation: dhraw = (1 - h*h) * dh needs "
            "h = hs[t], the state after the tanh")
    twice = ("the derivative of the candidate's tanh is taken of tanh applied twice: with "
             "g = tanh(a) already, it is 1 - g**2, not 1 - np.tanh(g)**2" if lstm else
             "the tanh derivative is taken of tanh applied twice: with hs[t] = tanh(a) "
             "already, it is 1 - hs[t]**2, not 1 - np.tanh(hs[t])**2")
    found = [
        Mistake(_mistaken("tanh at pre-activation"), tanh, tensors=hidden),
        Mistake(_mistaken("tanh twice"), twice, tensors=hidden),
        Mistake(_mistaken("no dhnext"), "dhnext is never carried back: dh must add the "
                "gradient from the next step (dh = Why.T dy + dhnext, dhnext = Whh.T dhraw)",
                tensors=hidden),
    ]
    if lstm:
        found.append(Mistake(_mistaken("no dcnext"), "dcnext is never carried back: dc must "
                             "add the next step's f * dc", tensors=hidden))
        found.append(Mistake(_backward_gates, "the backward stacks the gate blocks of da in "
                             "another order than the forward slices them ({swapped}): stack "
                             "them as the forward slices the pre-activation", tensors=hidden))
    found += [
        Mistake(_mistaken("no target"), "the softmax gradient misses dy[targets[t]] -= 1: "
                "dy must be the probabilities minus the one-hot target"),
        Mistake(_mistaken("all targets"), "dy[targets] -= 1 subtracts at every target of the "
                "sequence: only this step's target, dy[targets[t]] -= 1"),
        Mistake(_mistaken("bias axis"), "every element of {tensor} is the sum over all units: "
                "the bias gradient is summed over axis 0 (np.sum(..., axis=0)) instead of "
                "added per unit, as a column (H, 1)", tensors=("dbh", "dby")),
        Mistake(_mistaken("Whh not transposed"), "dhnext is carried back through Whh "
                "instead of its transpose: dhnext = Whh.T dhraw", tensors=hidden),
        Mistake(_hprev_returned, "{tensor} is hprev, the state before the first step: with "
                "the states in a dict keyed by step, hs[-1] is hprev; return "
                "hs[len(inputs) - 1]", on="outputs", tensors=("h_last",)),
        Mistake(_mistaken("hs list"), "dWhh is wrong only in the t=0 term: hs[-1] must be "
                "hprev there; with the states in a list, hs[-1] is the last step's (the "
                "original keeps them in a dict)", tensors=("dWhh",)),
        Mistake(_mistaken("clip running"), _CLIPPED_LATE),
        Mistake(_mistaken("clip each"), _CLIPPED_LATE),
        Mistake(_mistaken("unclipped"), "the gradients are returned unclipped: np.clip(d, -5, "
                "5) returns a new array, and rebinding the loop variable (dparam = "
                "np.clip(dparam, ...)) changes nothing; clip in place with out=dparam"),
    ]
    return tuple(found)


def _errors(functional: str, lstm: bool) -> tuple:
    T, V, H = (ERROR_SIZES[k] for k in "TVH")
    G = 4 * H if lstm else H
    fn = functional
    return (
        error_input(fn, "Wxh transposed", {"Wxh": full(V, G)}, "Whh", f"({G}, {H})"),
        error_input(fn, "hprev a row", {"hprev": full(1, H)}, "hprev", "column",
                    "(H, 1)", "(1, 5)"),
        error_input(fn, "bh flat", {"bh": full(G)}, "bh", "column", f"({G},)"),
        error_input(fn, "by of H", {"by": full(H, 1)}, "by", f"({V}, 1)", f"({H}, 1)"),
        error_input(fn, "input out of range", {"inputs": np.array([0, V, 1])}, "inputs",
                    f"value {V}", f"[0, {V})", exception=IndexError),
        error_input(fn, "target negative", {"targets": np.array([0, -1, 1])}, "targets",
                    "value -1", exception=IndexError),
        error_input(fn, "targets of another length", {"targets": np.zeros(T + 1, int)},
                    "targets", f"({T},)", f"({T + 1},)"),
        error_input(fn, "no characters", {"inputs": np.zeros(0, int)}, "inputs",
                    "non-empty"),
        error_input(fn, "clip zero", {"clip": 0.0}, "clip", "positive"),
        error_input(fn, "Why float32", {"Why": full(V, H, dtype=np.float32)}, "Why",
                    "float32", "float64"),
    )


def _register(name: str, functional: str, cell: str, states: tuple) -> Component:
    lstm = cell == "lstm"
    gates = 4 if lstm else 1
    arguments = ("inputs", "targets", *states, "Wxh", "Whh", "Why", "bh", "by", "clip")
    outputs = ("loss", *GRADS, *(s.replace("prev", "_last") for s in states))
    return register(Component(
        name=name,
        signature={functional: (arguments, outputs)},
        cases=_cases(name, gates),
        run_numpy=_run_numpy(functional),
        torch_prepare=_torch_prepare(cell),
        # the LSTM's gates make it a cell component; the functional contract tests (which
        # take every entry with a build as a sequence of the cell) test it on their own
        build=None if lstm else _build(gates),
        fuzz=Fuzz("TVH", _fuzz(gates), {"targets": INDEX_PATTERNS,
                                        "clip": (ORIGINAL_CLIP, 1.0, NO_CLIP),
                                        "scale": (1.0, 10.0)}),
        errors=() if lstm else _errors(functional, lstm),
        mistakes=_mistakes(lstm),
        # the packed gates of the LSTM: row blocks i, f, o, g
        gate_axes={"dWxh": 0, "dWhh": 0, "dbh": 0} if lstm else {},
        cell=cell if lstm else "",
        description=f"min-char-rnn's lossFun{' (LSTM port)' if lstm else ''}: columns, "
                    f"summed cross-entropy, clipped gradients vs nn.{cell.upper()} + "
                    f"nn.Linear",
    ))


register_rnn = _register("char_rnn", "char_rnn_loss", "rnn", ("hprev",))
register_lstm = _register("char_lstm", "char_lstm_loss", "lstm", ("hprev", "cprev"))
