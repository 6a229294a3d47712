"""Frames between the grader and the executor, and how values cross.

A frame is ``<Q total><I header length>`` + a JSON header + the blobs the header
lists by length. Values are JSON trees whose leaves name blobs:

======================  ===========================================================
``{"a": i, "d": "<f8",  an array: blob ``i`` holds its raw bytes, ``d`` its dtype (byte
``"s": [..]}``          order, kind ``biufc``, size: nothing else is read), ``s`` its
                        shape; ``"x": "tensor"`` when it was a torch tensor
``{"g": {array}}``      a NumPy scalar (a 0-d array)
``{"n": 0}``            None;  ``{"f": x}`` float, ``{"i": n}`` int, ``{"b": v}`` bool,
                        ``{"s": text}`` str
``{"T": [...]}``        tuple;  ``{"L": [...]}`` list;  ``{"D": [[k, v], ...]}`` dict
``{"h": id, "t": n}``   (executor to grader) an object that stays in the executor: its
                        handle, and its type's name (for messages only: the grader
                        never decides anything by it)
``{"r": id}``           (grader to executor) the object behind handle ``id``
======================  ===========================================================

Only plain numeric and boolean dtypes cross as arrays (the bytes go through
``np.frombuffer`` with a dtype checked against a pattern; no pickle, no ``.npy``
header to evaluate); anything else stays behind as a handle. Nothing here
unpickles or evaluates what it reads. Everything is capped: a frame's size, its
header's size, the number of blobs, the nodes, depth and text of a tree, so that
reading a reply costs a bounded time whatever the other side sends.
"""
from __future__ import annotations

import json
import re
import struct

import numpy as np

MAX_FRAME = 256 << 20
MAX_HEADER = 4 << 20
MAX_BLOBS = 4096
MAX_NODES = 200_000
MAX_DEPTH = 16
MAX_ITEMS = 4096
MAX_TEXT = 20_000
_PREFIX = struct.Struct("<QI")


class ProtocolError(Exception):
    """A frame or value that does not follow the format."""


def pack(header: dict, blobs=()) -> bytes:
    """One frame: ``header`` (JSON-able) and ``blobs`` (bytes)."""
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header, separators=(",", ":")).encode()
    total = 4 + len(head) + sum(len(b) for b in blobs)
    return b"".join([_PREFIX.pack(total, len(head)), head, *blobs])


def frame_size(buffer) -> int | None:
    """The size of the frame starting ``buffer`` (None until its prefix is there).
    Raises :class:`ProtocolError` for a frame over the limits."""
    if len(buffer) < _PREFIX.size:
        return None
    total, head_len = _PREFIX.unpack_from(buffer)
    if total > MAX_FRAME or head_len > total - 4 or head_len > MAX_HEADER:
        raise ProtocolError(f"a frame of {total} bytes with a header of {head_len} "
                            f"(limits {MAX_FRAME} and {MAX_HEADER})")
    return 8 + total


def unpack(buffer: bytearray):
    """``(header, blobs)`` of the first complete frame in ``buffer`` (removed from it),
    or None while the frame is incomplete. Raises :class:`ProtocolError`."""
    end = frame_size(buffer)
    if end is None or len(buffer) < end:
        return None
    head_len = _PREFIX.unpack_from(buffer)[1]
    try:
        header = json.loads(bytes(buffer[12:12 + head_len]))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ProtocolError(f"a header that is not JSON ({str(exc)[:100]})") from None
    lengths = header.get("blobs") if isinstance(header, dict) else None
    if not isinstance(lengths, list) or len(lengths) > MAX_BLOBS:
        raise ProtocolError(f"a header without its list of blobs (at most {MAX_BLOBS})")
    blobs, at = [], 12 + head_len
    for length in lengths:
        if type(length) is not int or length < 0 or at + length > end:
            raise ProtocolError("blob lengths that do not add up")
        blobs.append(bytes(buffer[at:at + length]))
        at += length
    if at != end:
        raise ProtocolError("blob lengths that do not add up")
    del buffer[:end]
    return header, blobs


# byte order, kind, item size: the only array dtypes that cross ("<f8", "|b1", ...)
_DTYPE = re.compile(r"[<>|=][biufc][0-9]{1,2}")


def read_array(blob: bytes, dtype, shape) -> np.ndarray:
    """A plain, writable ndarray of ``dtype`` (a string such as ``"<f8"``) and ``shape``
    from raw bytes; never an object array. Raises :class:`ProtocolError`."""
    if type(dtype) is not str or not _DTYPE.fullmatch(dtype):
        raise ProtocolError(f"an array of dtype {str(dtype)[:20]!r}")
    if type(shape) is not list or len(shape) > 32 or not all(
            type(n) is int and 0 <= n for n in shape):
        raise ProtocolError("an array shape that is not a list of sizes")
    try:
        kind = np.dtype(dtype)
    except TypeError:
        raise ProtocolError(f"an array of dtype {dtype!r}") from None
    if kind.kind not in "biufc" or kind.names or kind.subdtype:
        raise ProtocolError(f"an array of dtype {dtype!r}")
    count = 1
    for n in shape:
        count *= n
    if count * kind.itemsize != len(blob):
        raise ProtocolError("an array whose bytes do not match its shape")
    return np.frombuffer(blob, dtype=kind).reshape(shape).copy()


def plain_array(value):
    """``value`` as a base-class ndarray copy when it can cross by value, else None."""
    try:
        if not isinstance(value, np.ndarray):
            return None
        # np.array(subok=False) drops a subclass without calling its methods on the copy
        array = np.array(value, copy=True, subok=False)
        if type(array) is not np.ndarray or array.dtype.kind not in "biufc" \
                or array.dtype.names:
            return None
        return array
    except Exception:  # noqa: BLE001 - a hostile subclass may raise anything
        return None


class Encoder:
    """Turns values into trees and blobs.

    handle: ``handle(obj) -> (id, type name)`` for what does not cross by value (None:
            nothing may stay behind: a :class:`ProtocolError` instead).
    ref:    ``ref(obj) -> id | None``: the handle of a grader-side stand-in for an
            executor object (``{"r": id}``).
    depth:  how deep tuples, lists and dicts cross by value (1: a returned tuple does,
            a tuple nested in it stays behind as a handle).
    tensor: ``tensor(obj) -> ndarray | None``: a torch tensor's values, when tensors
            are to cross as arrays.
    arrays: ``"value"`` (arrays cross by value) or ``"handle"`` (they stay behind, for
            the grader to read later, the containers around them crossing).
    """

    def __init__(self, handle=None, ref=None, depth: int = MAX_DEPTH, tensor=None,
                 arrays: str = "value"):
        self.handle, self.ref, self.depth, self.tensor = handle, ref, depth, tensor
        self.arrays = arrays
        self.blobs: list = []
        self._nodes = 0

    def _array(self, array, tag=None) -> dict:
        if len(self.blobs) >= MAX_BLOBS:
            raise ProtocolError(f"more than {MAX_BLOBS} arrays in one message")
        self.blobs.append(np.ascontiguousarray(array).tobytes())
        tree = {"a": len(self.blobs) - 1, "d": array.dtype.str, "s": list(array.shape)}
        if tag:
            tree["x"] = tag
        return tree

    def encode(self, value, depth: int = 0):
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ProtocolError(f"more than {MAX_NODES} values in one message")
        if value is None:
            return {"n": 0}
        kind = type(value)
        if kind is bool:
            return {"b": value}
        if kind is int:
            return {"i": value} if abs(value) < 1 << 62 else {"f": float(value)}
        if kind is float:
            return {"f": value}
        if kind is str:
            return {"s": value[:MAX_TEXT]}
        if self.ref is not None:
            ident = self.ref(value)
            if ident is not None:
                return {"r": ident}
        if isinstance(value, np.generic):
            array = plain_array(np.asarray(value)) if kind.__module__ == "numpy" else None
            if array is not None and array.ndim == 0:
                return {"g": self._array(array)}
        elif isinstance(value, np.ndarray):
            if self.arrays == "handle" and self.handle is not None:
                ident, name = self.handle(value)
                return {"h": ident, "t": name}
            array = plain_array(value)
            if array is not None:
                return self._array(array)
        elif kind in (tuple, list):
            if depth < self.depth and len(value) <= MAX_ITEMS:
                items = [self.encode(v, depth + 1) for v in (
                    tuple.__iter__(value) if kind is tuple else list.__iter__(value))]
                return {"T" if kind is tuple else "L": items}
        elif kind is dict:
            if depth < self.depth and len(value) <= MAX_ITEMS and all(
                    type(k) in (str, int) for k in dict.keys(value)):
                return {"D": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                              for k, v in dict.items(value)]}
        elif self.tensor is not None:
            array = self.tensor(value)
            if array is not None:
                return self._array(array, "tensor")
        if self.handle is None:
            raise ProtocolError(f"a {kind.__name__} cannot cross by value")
        ident, name = self.handle(value)
        return {"h": ident, "t": name}


class Tensor(np.ndarray):
    """The values of a torch tensor an executor returned (an ndarray that remembers it
    was a tensor, for the courses whose functions must return tensors)."""


def decode(tree, blobs, handle=None, ref=None, on_array=None):
    """The value of ``tree``; raises :class:`ProtocolError` on anything unexpected.

    handle:   ``handle(id, type name) -> object`` for ``{"h": ...}`` (None: refused).
    ref:      ``ref(id) -> object`` for ``{"r": ...}`` (None: refused).
    on_array: ``on_array(array)`` for every array decoded (in-place tracking).
    """
    count = [0]

    def walk(node, depth):
        count[0] += 1
        if count[0] > MAX_NODES or depth > MAX_DEPTH + 2:
            raise ProtocolError("a value tree too large or too deep")
        if not isinstance(node, dict) or not 1 <= len(node) <= 4:
            raise ProtocolError("a value tree of the wrong form")
        key = next(iter(node))
        value = node[key]
        if key == "n":
            return None
        if key == "b" and type(value) is bool:
            return value
        if key == "i" and type(value) is int:
            return value
        if key == "f" and type(value) in (int, float):
            return float(value)
        if key == "s" and type(value) is str:
            return value[:MAX_TEXT]
        if key == "g" and isinstance(value, dict) and "a" in value:
            array = walk(value, depth + 1)
            if array.ndim != 0:
                raise ProtocolError("a scalar that is not 0-d")
            return array[()]
        if key == "a" and type(value) is int and 0 <= value < len(blobs):
            array = read_array(blobs[value], node.get("d"), node.get("s"))
            if node.get("x") == "tensor":
                array = array.view(Tensor)
            elif "x" in node:
                raise ProtocolError("an array with an unknown tag")
            if on_array is not None:
                on_array(array)
            return array
        if key in ("T", "L") and type(value) is list:
            items = [walk(v, depth + 1) for v in value]
            return tuple(items) if key == "T" else items
        if key == "D" and type(value) is list:
            out = {}
            for pair in value:
                if type(pair) is not list or len(pair) != 2:
                    raise ProtocolError("a dict item that is not a pair")
                k = walk(pair[0], depth + 1)
                if type(k) not in (str, int):
                    raise ProtocolError("a dict key that is not str or int")
                out[k] = walk(pair[1], depth + 1)
            return out
        if key == "h" and handle is not None and type(value) is int \
                and type(node.get("t")) is str:
            return handle(value, node["t"][:200])
        if key == "r" and ref is not None and type(value) is int:
            return ref(value)
        raise ProtocolError(f"a value tree of the wrong form ({str(key)[:20]!r})")

    return walk(tree, 0)


def plain(value, depth: int = 0):
    """Whether ``value`` is JSON-able plain data (dicts with str keys, lists, str, int,
    float, bool, None) of bounded size: what a header's own fields may hold."""
    if depth > MAX_DEPTH:
        return False
    if value is None or type(value) in (str, int, float, bool):
        return True
    if type(value) is list:
        return len(value) <= MAX_ITEMS and all(plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return len(value) <= MAX_ITEMS and all(
            type(k) is str and plain(v, depth + 1) for k, v in value.items())
    return False
