"""One-line hints for a failing tensor, where the pattern of the error is recognisable.

:func:`hint` looks at the first failing check of a tensor (its actual and expected
arrays and its case) and tries, in order:

1. patterns of the two arrays alone: all zeros, a constant factor (exactly 2x,
   1/N, 1/T, sign flipped ...), the transpose, LSTM gate blocks permuted or wrong
   in some blocks only, slices that are zero where the reference is not, a shift
   by one timestep;
2. known wrong answers for the same case: the entry's own (``Component.mistakes``:
   a recurrent gradient that matches one timestep only or no backpropagation
   through time, a cell read with its gate blocks in another order, an embedding
   gradient that drops repeated indices, a loss that ignores its mask), computed by
   the :data:`PATTERNS` here (or by the entry's own callable), then a gradient that
   ignores one of its upstream gradients, for any component.

Hints are heuristics that explain a failure, never a reason for one; an empty
string means nothing was recognised.
"""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from torch_ref.catalog import CATALOG
from torch_ref.layout import CELLS

# catalog functions likely to call another one: a failure there may be inherited
LIKELY_CALLS = {outer: inner for component in CATALOG.values()
                for outer, inner in component.calls.items()}


def _close(a, b, scale=None) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-12) if scale is None else scale
    return bool(np.max(np.abs(a - b), initial=0.0) <= 1e-4 * scale)


def _factor_names(case) -> list:
    """``(factor, words)`` pairs a wrong gradient is commonly off by."""
    s = case.sizes
    names = [(2.0, "exactly 2x the reference: a term counted twice?"),
             (0.5, "exactly half the reference: a factor 2 missing (or divided twice)?"),
             (-1.0, "the reference with its sign flipped")]
    N, T = s.get("N"), s.get("T")
    if N and N > 1:
        names += [(1.0 / N, f"1/N of the reference (N={N}): averaged over the batch "
                            f"instead of summed"),
                  (float(N), f"N times the reference (N={N}): a division by N too many "
                             f"in the reference? here, a missing one")]
    if T and T > 1:
        names += [(1.0 / T, f"1/T of the reference (T={T}): averaged over time instead "
                            f"of summed"),
                  (float(T), f"T times the reference (T={T}): summed over time once too often")]
    if N and T and N * T > 1 and N > 1 and T > 1:
        names += [(1.0 / (N * T), f"1/(N*T) of the reference (N*T={N * T}): averaged over "
                                  f"batch and time instead of summed")]
    mask = case.inputs.get("mask")
    if mask is not None and N:
        count = float(np.sum(np.asarray(mask, dtype=np.float64)))
        if count > 0 and abs(count - N) > 0.5:
            names += [(N / count, f"the reference times N/(unmasked steps) = {N}/{count:g}: "
                                  f"divided by the number of unmasked steps instead of N")]
    return names


def _constant_factor(actual, expected, case) -> str:
    e = expected.astype(np.float64).ravel()
    a = actual.astype(np.float64).ravel()
    norm = float(e @ e)
    if norm == 0.0 or not np.all(np.isfinite(a)):
        return ""
    k = float(a @ e) / norm
    if not _close(a, k * e, max(float(np.max(np.abs(a))), float(np.max(np.abs(k * e))))):
        return ""
    if abs(k - 1.0) < 1e-6:
        return ""
    for factor, words in _factor_names(case):
        if abs(k - factor) <= 1e-6 * max(1.0, abs(factor)):
            return words
    if e.size == 1:
        return ""  # any wrong scalar is a multiple of the right one
    return f"a constant multiple ({k:.6g}x) of the reference"


def _transpose(actual, expected) -> str:
    if (actual.ndim == 2 and actual.shape[0] == actual.shape[1] and actual.shape[0] > 1
            and _close(actual, expected.T)):
        return "equals the transpose of the reference: operands of a product swapped?"
    return ""


def _gate_blocks(array, axis: int, H: int, count: int):
    return [np.take(array, np.arange(k * H, (k + 1) * H), axis=axis) for k in range(count)]


def _gates(actual, expected, axis, H, cell) -> str:
    """Blocks permuted, or a mismatch confined to some gate blocks of ``cell``."""
    if cell is None or axis is None or cell.width < 2 or actual.shape[axis] != cell.width * H:
        return ""
    gates, G = cell.gates, cell.width
    got, want = _gate_blocks(actual, axis, H, G), _gate_blocks(expected, axis, H, G)
    for perm in itertools.permutations(range(G)):
        if perm != tuple(range(G)) and all(_close(got[k], want[perm[k]]) for k in range(G)):
            order = ", ".join(gates[p] for p in perm)
            return (f"the gate blocks are in the order [{order}]; they must be "
                    f"[{', '.join(gates)}], as in the forward pass")
    wrong = [gates[k] for k in range(G) if not _close(got[k], want[k])]
    if 0 < len(wrong) < G:
        which = ", ".join(wrong)
        tanh = [g for g, act in zip(gates, cell.activations, strict=True) if act == "tanh"]
        return (f"only gate block(s) {which} differ: look at the derivative through "
                f"gate {wrong[0]}" + (" (tanh)" if wrong == tanh else ""))
    return ""


def _axis_name(axis: int, array, case) -> str:
    s = case.sizes
    if array.ndim == 3 and axis == 1 and array.shape[1] == s.get("T"):
        return "timestep"
    if array.ndim >= 2 and axis == 0 and array.shape[0] == s.get("V"):
        return "row (word)"
    return f"index on axis {axis} ="


def _zero_slices(actual, expected, case) -> str:
    if not np.any(expected):
        return ""
    if not np.any(actual):
        return "all zeros where the reference is not: never computed, or overwritten"
    for axis in range(actual.ndim):
        if actual.shape[axis] < 2:
            continue
        other = tuple(i for i in range(actual.ndim) if i != axis)
        zero_here = ~np.any(actual, axis=other) & np.any(expected, axis=other)
        if zero_here.any() and not zero_here.all():
            idx = [int(i) for i in np.flatnonzero(zero_here)]
            shown = ", ".join(map(str, idx[:4])) + (" ..." if len(idx) > 4 else "")
            what = _axis_name(axis, actual, case)
            extra = ""
            if what == "timestep" and idx in ([0], [actual.shape[1] - 1]):
                extra = ": the time loop misses a timestep (off by one)?"
            return f"zero at {what} {shown} where the reference is not{extra}"
    return ""


def _time_shift(actual, expected, case) -> str:
    T = case.sizes.get("T")
    if actual.ndim != 3 or not T or T < 2 or actual.shape[1] != T:
        return ""
    if _close(actual[:, 1:], expected[:, :-1]):
        return "shifted one timestep later than the reference (off by one in the time loop)"
    if _close(actual[:, :-1], expected[:, 1:]):
        return "shifted one timestep earlier than the reference (off by one in the time loop)"
    return ""


# ---- known wrong answers, computed with torch ---------------------------------------

_MEMO: dict = {}


def _memo(case, tag, compute):
    """``compute()`` once per (case, tag): several tensors of one case share the runs."""
    entry = _MEMO.get(id(case))
    if entry is None or entry[0] is not case:
        if len(_MEMO) > 16:
            _MEMO.clear()
        entry = _MEMO[id(case)] = (case, {})
    if tag not in entry[1]:
        entry[1][tag] = compute()
    return entry[1][tag]


def _torch_run(component, case, tag, variant):
    """Tensors of the torch run of ``variant`` (a changed copy of ``case``), memoised."""
    return _memo(case, ("run", component.name, tag),
                 lambda: component.run_torch(variant).tensors())


def _unrolled(case, cell: str, detach_h=False, detach_c=False):
    """Per-timestep torch run of a sequence case, one torch cell per timestep (memoised).

    Returns ``(grads, per_step)``: total gradients by name and the list of
    ``(dWx, dWh, *dbiases)`` each timestep's cell contributes.
    """
    return _memo(case, ("unrolled", cell, detach_h, detach_c),
                 lambda: _unroll(case, cell, detach_h, detach_c))


def _param_grad_names(cell: str) -> tuple:
    return ("dWx", "dWh", *("d" + b for b in CELLS[cell].biases))


def _unroll(case, cell_name: str, detach_h: bool, detach_c: bool):
    from torch_ref import layout as L

    i = case.inputs
    T = i["x"].shape[1]
    weights = [i[k] for k in ("Wx", "Wh", *CELLS[cell_name].biases)]
    cells = [L.make_recurrent(cell_name, *weights, step=True) for _ in range(T)]
    x, h0 = L.tensor(i["x"], True), L.tensor(i["h0"], True)
    state = L.start_state(cells[0], h0)
    total = 0
    upstream = L.tensor(case.upstream["h"])
    for t, cell in enumerate(cells):
        state = cell(x[:, t], state)
        h = state[0] if isinstance(state, tuple) else state
        total = total + (h * upstream[:, t]).sum()
        if isinstance(state, tuple):
            state = (h.detach() if detach_h else h, state[1].detach() if detach_c else state[1])
        elif detach_h:
            state = h.detach()
    total.backward()
    per_step = [L.recurrent_grads(cell) for cell in cells]
    zeros = np.zeros_like(i["h0"])
    grads = {"dx": L.to_numpy(x.grad),
             "dh0": L.to_numpy(h0.grad) if h0.grad is not None else zeros}
    for k, name in enumerate(_param_grad_names(cell_name)):
        grads[name] = sum(step[k] for step in per_step)
    return grads, per_step


# ---- patterns: how a Mistake's wrong answer is computed ------------------------------
# pattern(component, case, tensor, **args) yields (value, fields for the hint's words)

def _detached(component, case, tensor, state="h"):
    grads, _ = _unrolled(case, component.cell, detach_h=state == "h", detach_c=state == "c")
    yield grads.get(tensor), {}


def _one_timestep(component, case, tensor, step):
    names = _param_grad_names(component.cell)
    if tensor in names and case.inputs["x"].shape[1] > 1:
        _, per_step = _unrolled(case, component.cell)
        yield per_step[step][names.index(tensor)], {}


def _timestep_dropped(component, case, tensor, step):
    names = _param_grad_names(component.cell)
    if tensor in names and case.inputs["x"].shape[1] > 1:
        _, per_step = _unrolled(case, component.cell)
        kept = per_step[1:] if step == 0 else per_step[:-1]
        yield sum(s[names.index(tensor)] for s in kept), {}


def _permuted_weights(case, perm, cell):
    from torch_ref import layout as L

    H = case.inputs["Wh"].shape[0]
    inputs = dict(case.inputs)
    for name in ("Wx", "Wh", *cell.biases):
        inputs[name] = L.reorder_gates(cell, case.inputs[name], H, perm)
    return dataclasses.replace(case, inputs=inputs)


def _gate_order(component, case, tensor):
    cell = CELLS[component.cell]
    G, gates = cell.width, cell.gates
    for perm in itertools.permutations(range(G)):
        if perm == tuple(range(G)):
            continue
        run = _torch_run(component, case, ("gates", perm), _permuted_weights(case, perm, cell))
        believed = [""] * G
        for gate, block in enumerate(perm):
            believed[block] = gates[gate]
        yield run.get(tensor), {"believed": ", ".join(believed)}


def _indices_assigned(component, case, tensor, indices, table, upstream):
    """``table``'s gradient when each repeated index is counted once (``dW[x] += dout``)."""
    assigned = np.zeros_like(case.inputs[table])
    assigned[case.inputs[indices]] += case.upstream[upstream]
    yield assigned, {}


def _input_ignored(component, case, tensor, input):
    """The torch run with ``input`` all ones (a mask that keeps everything)."""
    if input in case.inputs:
        ones = np.ones_like(np.asarray(case.inputs[input]))
        run = _torch_run(component, case, ("ones", input),
                         dataclasses.replace(case, inputs={**case.inputs, input: ones}))
        yield run.get(tensor), {"where": "loss" if tensor == "loss" else "gradient"}


PATTERNS = {
    "hidden state detached": _detached,
    "cell state detached": lambda component, case, tensor: _detached(component, case, tensor,
                                                                     "c"),
    "one timestep": _one_timestep,
    "timestep dropped": _timestep_dropped,
    "gate order": _gate_order,
    "indices assigned": _indices_assigned,
    "input ignored": _input_ignored,
}


def _upstream_alternatives(component, case, tensor):
    """Gradients when one upstream gradient is ignored, or only one timestep's is used."""
    upstream = case.upstream
    if len(upstream) > 1:
        for name in upstream:
            zeroed = {**upstream, name: np.zeros_like(upstream[name])}
            run = _torch_run(component, case, ("no upstream", name),
                             dataclasses.replace(case, upstream=zeroed))
            yield run.get(tensor), f"{tensor} ignores the upstream gradient d{name}"
    T = case.sizes.get("T")
    if len(upstream) == 1 and T and T > 1:
        name, value = next(iter(upstream.items()))
        if value.ndim == 3 and value.shape[1] == T:
            for t, words in ((0, "the first timestep"), (T - 1, "the last timestep")):
                only = np.zeros_like(value)
                only[:, t] = value[:, t]
                run = _torch_run(component, case, ("upstream at", t),
                                 dataclasses.replace(case, upstream={name: only}))
                yield run.get(tensor), (
                    f"{tensor} matches the gradient of {words} alone: sum over all "
                    f"timesteps")


def _alternatives(component, case, tensor, is_output: bool):
    """``(wrong value, hint)``: the entry's mistakes, then ignored upstream gradients."""
    kind = "outputs" if is_output else "grads"
    for mistake in component.mistakes:
        if mistake.on in (kind, "any") and (not mistake.tensors or tensor in mistake.tensors):
            pattern = mistake.pattern if callable(mistake.pattern) else PATTERNS[
                mistake.pattern]
            for value, fields in pattern(component, case, tensor, **mistake.args):
                yield value, mistake.hint.format(tensor=tensor, **fields)
    if not is_output:
        yield from _upstream_alternatives(component, case, tensor)


def _from_alternatives(check, component, case, is_output) -> str:
    actual = np.asarray(check.actual)
    try:
        for value, words in _alternatives(component, case, check.tensor, is_output):
            if value is not None and np.shape(value) == actual.shape and _close(actual, value):
                return words
    except Exception:  # noqa: BLE001 - a hint must never break a report
        return ""
    return ""


def hint(check, component, case, is_output: bool = False) -> str:
    """A one-line hint for a failing ``check`` of ``component`` on ``case`` ('' if none).

    is_output: the tensor is a forward output (else a gradient).
    """
    if check.status != "FAIL" or check.actual is None or check.expected is None:
        return ""
    actual, expected = np.asarray(check.actual), np.asarray(check.expected)
    if actual.shape != expected.shape:
        if actual.ndim == 2 and actual.shape == expected.shape[::-1]:
            return (f"shape {actual.shape} is the transpose of {expected.shape}: operands "
                    f"of a product swapped?")
        return ""
    if "dtype" in check.message:
        return ("computed in another dtype: allocate with the input's dtype "
                "(np.zeros(shape, dtype=x.dtype)) and keep scalars from upcasting")
    if not np.all(np.isfinite(actual)):
        return ""
    if case.label.startswith("reuse"):
        return _reuse_hint(actual, expected, case)
    axis = component.gate_axes.get(check.tensor)
    H = case.sizes.get("H")
    if not np.any(actual) and np.any(expected):
        return "all zeros where the reference is not: never computed, or overwritten"
    for words in (_constant_factor(actual, expected, case), _transpose(actual, expected),
                  _gates(actual, expected, axis, H, CELLS.get(component.cell)) if H else ""):
        if words:
            return words
    found = _from_alternatives(check, component, case, is_output)
    if found:
        return found
    for words in (_zero_slices(actual, expected, case), _time_shift(actual, expected, case)):
        if words:
            return words
    return ""


def _reuse_hint(actual, expected, case) -> str:
    """Right in the ordinary cases, wrong in a reuse sequence: say what reuse did."""
    if not np.any(actual) and np.any(expected):
        return ("all zeros once forward is called again before the result is used (as a "
                "numerical gradient check does): the arrays handed out are zeroed or "
                "overwritten in place by a later call; hand out new arrays")
    if case.label == "reuse-1":
        return ("right when used at once, wrong when forward is called again in between "
                "(as a numerical gradient check does): a backward must use its own cache, "
                "and arrays handed out must not change on later calls")
    return ("right on a new instance, wrong when the same one is used again: state kept from "
            "the previous call (gradients accumulated with += across calls, a list of caches "
            "never reset, an input or the weights kept or copied at the first call)")
