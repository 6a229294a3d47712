"""Frames between the grader and the child, and how values cross.

A frame is ``<Q total><I header length>`` + a JSON header + the blobs the header
lists by length. Values are JSON trees whose leaves name blobs:

======================  ===========================================================
``{"a": i, "d": "<f8",  an array: blob ``i`` holds its raw bytes, ``d`` its dtype (byte
``"s": [..], "k": t}``  order, kind ``biufc``, size: nothing else is read), ``s`` its
                        shape; ``k`` the sender's token for it (in-place tracking)
``{"g": {array}}``      a NumPy scalar (a 0-d array)
``{"n": 0}``            None;  ``{"f": x}`` float, ``{"i": n}`` int, ``{"b": v}`` bool,
                        ``{"s": text}`` str
``{"T": [...]}``        tuple;  ``{"L": [...]}`` list;  ``{"D": [[k, v], ...]}`` dict
``{"M": 0}``            MISSING (an output of a function the module lacks)
``{"h": id, "t": n}``   anything else: a handle to an object that stays in the child,
                        ``n`` its type name
======================  ===========================================================

Only plain numeric and boolean dtypes cross as arrays (the bytes go through
``np.frombuffer`` with a dtype checked against a pattern; no pickle, no ``.npy``
header to evaluate); anything else stays behind as a handle. Nothing here
unpickles or evaluates what it reads.
"""
from __future__ import annotations

import json
import re
import struct

import numpy as np

MAX_FRAME = 256 << 20
_MAX_DEPTH = 16
_MAX_ITEMS = 4096
_MAX_TEXT = 20000
_PREFIX = struct.Struct("<QI")


class ProtocolError(Exception):
    """A frame or value that does not follow the format."""


def pack(header: dict, blobs=()) -> bytes:
    """One frame: ``header`` (JSON-able) and ``blobs`` (bytes)."""
    header = dict(header, blobs=[len(b) for b in blobs])
    head = json.dumps(header, separators=(",", ":")).encode()
    total = 4 + len(head) + sum(len(b) for b in blobs)
    return b"".join([_PREFIX.pack(total, len(head)), head, *blobs])


def unpack(buffer: bytearray):
    """``(header, blobs)`` of the first complete frame in ``buffer`` (removed from it),
    or None while the frame is incomplete. Raises :class:`ProtocolError`."""
    if len(buffer) < _PREFIX.size:
        return None
    total, head_len = _PREFIX.unpack_from(buffer)
    if total > MAX_FRAME or head_len > total - 4:
        raise ProtocolError(f"a frame of {total} bytes (limit {MAX_FRAME})")
    end = 8 + total
    if len(buffer) < end:
        return None
    try:
        header = json.loads(bytes(buffer[12:12 + head_len]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"a header that is not JSON ({exc})") from None
    if not isinstance(header, dict) or not isinstance(header.get("blobs"), list):
        raise ProtocolError("a header without its list of blobs")
    blobs, at = [], 12 + head_len
    for length in header["blobs"]:
        if not isinstance(length, int) or length < 0 or at + length > end:
            raise ProtocolError("blob lengths that do not add up")
        blobs.append(bytes(buffer[at:at + length]))
        at += length
    if at != end:
        raise ProtocolError("blob lengths that do not add up")
    del buffer[:end]
    return header, blobs


# byte order, kind, item size: the only array dtypes that cross ("<f8", "|b1", ...)
_DTYPE = re.compile(r"[<>|=][biufc][0-9]{1,2}")


def array_bytes(array: np.ndarray) -> bytes:
    """The raw C-order bytes of a plain array (its dtype and shape go in the tree)."""
    return np.ascontiguousarray(array).tobytes()


def array_tree(array: np.ndarray, index: int) -> dict:
    return {"a": index, "d": array.dtype.str, "s": list(array.shape)}


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

    containers: how deep tuples, lists and dicts cross by value (1: a returned tuple
    does, a cache nested inside it stays behind as a handle).
    handle: ``handle(obj) -> (id, type name)`` for what does not cross by value.
    token:  ``token(array) -> int | None``: the sender's token for an array argument.
    """

    def __init__(self, handle, token=None, containers: int = _MAX_DEPTH):
        self.handle, self.token = handle, token
        self.containers = containers
        self.blobs: list = []
        self._items = 0

    def encode(self, value, depth: int = 0):
        self._items += 1
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
            return {"s": value[:_MAX_TEXT]}
        if type(value).__name__ == "_Missing":
            return {"M": 0}
        if isinstance(value, np.generic):
            array = plain_array(np.asarray(value)) if type(value).__module__ == "numpy" \
                else None
            if array is not None and array.ndim == 0:
                self.blobs.append(array_bytes(array))
                return {"g": array_tree(array, len(self.blobs) - 1)}
        elif isinstance(value, np.ndarray):
            array = plain_array(value)
            if array is not None:
                self.blobs.append(array_bytes(array))
                tree = array_tree(array, len(self.blobs) - 1)
                token = self.token(value) if self.token is not None else None
                if token is not None:
                    tree["k"] = token
                return tree
        elif kind in (tuple, list) or (isinstance(value, tuple) and hasattr(value, "_fields")):
            if depth < self.containers and len(value) <= _MAX_ITEMS \
                    and self._items < _MAX_ITEMS:
                items = [self.encode(v, depth + 1) for v in tuple.__iter__(value)
                         ] if isinstance(value, tuple) else [
                    self.encode(v, depth + 1) for v in list.__iter__(value)]
                return {"T" if isinstance(value, tuple) else "L": items}
        elif kind is dict:
            if depth < self.containers and len(value) <= _MAX_ITEMS \
                    and self._items < _MAX_ITEMS \
                    and all(type(k) in (str, int) for k in dict.keys(value)):
                return {"D": [[self.encode(k, depth + 1), self.encode(v, depth + 1)]
                              for k, v in dict.items(value)]}
        ident, name = self.handle(value)
        return {"h": ident, "t": name}


def decode(tree, blobs, handle, on_array=None, depth: int = 0):
    """The value of ``tree``; raises :class:`ProtocolError` on anything unexpected.

    handle:   ``handle(id, type name) -> object`` standing for an object of the other side.
    on_array: ``on_array(token, array)`` for arrays that carry a token.
    """
    if depth > _MAX_DEPTH + 2 or not isinstance(tree, dict) or not 1 <= len(tree) <= 4:
        raise ProtocolError("a value tree of the wrong form")
    key = next(iter(tree))
    value = tree[key]
    if key == "n":
        return None
    if key == "b" and type(value) is bool:
        return value
    if key == "i" and type(value) is int:
        return value
    if key == "f" and type(value) in (int, float):
        return float(value)
    if key == "s" and type(value) is str:
        return value
    if key == "M":
        from torch_ref.verify.adapters.base import MISSING
        return MISSING
    if key == "g" and isinstance(value, dict) and "a" in value:
        array = decode(value, blobs, handle, None, depth + 1)
        if array.ndim != 0:
            raise ProtocolError("a scalar that is not 0-d")
        return array[()]
    if key == "a" and type(value) is int and 0 <= value < len(blobs):
        array = read_array(blobs[value], tree.get("d"), tree.get("s"))
        token = tree.get("k")
        if token is not None and on_array is not None:
            if type(token) is not int:
                raise ProtocolError("an array token that is not an int")
            on_array(token, array)
        return array
    if key in ("T", "L") and type(value) is list:
        items = [decode(v, blobs, handle, on_array, depth + 1) for v in value]
        return tuple(items) if key == "T" else items
    if key == "D" and type(value) is list:
        out = {}
        for pair in value:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("a dict item that is not a pair")
            k = decode(pair[0], blobs, handle, on_array, depth + 1)
            if type(k) not in (str, int):
                raise ProtocolError("a dict key that is not str or int")
            out[k] = decode(pair[1], blobs, handle, on_array, depth + 1)
        return out
    if key == "h" and type(value) is int and type(tree.get("t")) is str:
        return handle(value, tree["t"])
    raise ProtocolError(f"a value tree of the wrong form ({key!r})")
