"""Helpers the course adapters share (no adapter lives here)."""
from __future__ import annotations

import re

import numpy as np


# Views of a functional tensor in the course's layout, for reports (``TENSORS`` entries
# ``(name, view)``): ``view(array, gate)`` -> the course's array; ``gate`` is the NumPy
# gate block of the worst element (None for tensors without gates).
def transposed(array, gate=None):
    """``(A, B)`` -> the course's ``(B, A)``."""
    return np.asarray(array).T


def features_first(array, gate=None):
    """``(N, T, K)`` -> the course's ``(K, N, T)``."""
    return np.moveaxis(np.asarray(array), -1, 0)


def as_column(array, gate=None):
    """A bias ``(H,)`` -> the course's ``(H, 1)``."""
    return np.asarray(array).reshape(-1, 1)


def gate_rows(array, gate):
    """The block of ``gate`` in a packed ``(K, G*H)`` weight or ``(G*H,)`` bias, one row
    per hidden unit: the course's matrix (or column) of that gate."""
    from torch_ref.layout import CELLS

    array = np.asarray(array)
    cell = next(c for c in CELLS.values() if gate in c.gates
                and array.shape[-1] % len(c.gates) == 0)
    H = array.shape[-1] // len(cell.gates)
    k = cell.gates.index(gate)
    block = array[..., k * H:(k + 1) * H]
    return block.T if block.ndim == 2 else block.reshape(-1, 1)


def locate(view, actual, expected, index, gate):
    """``(course actual, course expected, course index)`` of a worst element, or None
    when the view does not hold that element."""
    shape = np.shape(actual)
    grid = np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64).reshape(shape)
    try:
        wanted = grid[tuple(index)]
        where = np.argwhere(np.abs(view(grid, gate)) == wanted)
        if not where.size:
            return None
        return view(actual, gate), view(expected, gate), tuple(int(i) for i in where[0])
    except (ValueError, IndexError, StopIteration):  # a shape the view does not know
        return None


def course_names(adapter, checks) -> None:
    """Rename the tensors, gate blocks and hints of ``checks`` the way the course of
    ``adapter`` names them (its ``TENSORS``, ``GATES`` and ``course_hint``); a tensor with
    a view also gets its worst index and the values there in the course's layout."""
    for check in checks:
        names = adapter.TENSORS.get(check.component, {})
        tensor, space, rest = check.tensor.partition(" ")
        gate = adapter.GATES.get(check.gate, check.gate) if check.gate else None
        if tensor in names:
            name, view = (names[tensor], None) if isinstance(names[tensor], str) \
                else names[tensor]
            check.tensor = name.format(gate=gate or "*") + space + rest
            found = None
            if view is not None and all(v is not None for v in (
                    check.worst_index, check.actual, check.expected)):
                found = locate(view, check.actual, check.expected, check.worst_index,
                               check.gate)
            if found is not None:
                check.actual, check.expected, check.worst_index = found
        check.gate = gate
        if check.hint:
            check.hint = adapter.course_hint(check.hint)


def gate_names_in(hint: str, gates: dict) -> str:
    """``hint`` with the gate letters of "gate block(s) g" and "through gate g" renamed."""
    def rename(match):
        return match.group(1) + ", ".join(gates.get(g, g) for g in match.group(2).split(", "))
    return re.sub(r"(gate block\(s\) |through gate )([a-z](?:, [a-z])*)", rename, hint)
