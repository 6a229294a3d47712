"""Argument checks for the functional core.

Every public function of :mod:`numpy_rnn.functional` makes one :class:`ArgChecker`
named after itself and passes each argument through it. The checker binds the
named sizes (``N``, ``T``, ``D``, ``H``, ``V`` ...) from the first argument that
has them and checks every later argument against them, so that a message can say
where an expected size came from::

    rnn_forward: h0 must have shape (N, H) = (2, 5), got (3, 5) (N=2 from x)

Failures raise ``ValueError`` (rank, shape, dtype, non-finite values, bad mask)
or ``IndexError`` (an integer index outside its valid range); the message names
the function, the argument, the expected and the actual shape, dtype or value.
Each check is at most one or two passes over the array, so the checks stay
cheap next to the computation they guard.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ArgChecker", "as_array", "check_cache", "check_finite", "FLOAT_DTYPES",
           "positive_int", "float_dtype", "generator"]

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_PARSED: dict = {}


def _parse_dim(spec: str) -> tuple:
    """``"4H"`` -> ``(4, "H")``; ``"N"`` -> ``(1, "N")``."""
    parsed = _PARSED.get(spec)
    if parsed is None:
        digits = len(spec) - len(spec.lstrip("0123456789"))
        parsed = (int(spec[:digits]) if digits else 1, spec[digits:])
        _PARSED[spec] = parsed
    return parsed


def _tuple_text(items) -> str:
    """``("N", "T")`` -> ``"(N, T)"``; one item keeps its comma: ``"(H,)"``."""
    items = [str(i) for i in items]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _position(flat_index: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape))


def check_finite(fn: str, name: str, arr: np.ndarray) -> None:
    """Raise ``ValueError`` naming ``name`` and the first NaN/Inf of ``arr`` (C order)."""
    finite = np.isfinite(arr)
    if finite.all():
        return
    pos = _position(int(np.argmin(finite)), arr.shape)
    raise ValueError(f"{fn}: {name} must be finite, found {arr[pos]} at index {pos}")


def _prefix(owner: str) -> str:
    return f"{owner}: " if owner else ""


def positive_int(name: str, value, owner: str = "") -> int:
    """``value`` as an int >= 1; ``ValueError`` naming ``name`` (after ``owner``) otherwise.

    Booleans are refused although Python counts them as integers.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < 1:
        raise ValueError(f"{_prefix(owner)}{name} must be a positive integer, got {value!r}")
    return int(value)


def float_dtype(dtype, owner: str = "") -> np.dtype:
    """``dtype`` as float32 or float64; ``ValueError`` for anything else."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"{_prefix(owner)}dtype must be float32 or float64, "
                         f"got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"{_prefix(owner)}dtype must be float32 or float64, got {dt}")
    return dt


def generator(rng, owner: str = "") -> np.random.Generator:
    """``rng`` as a Generator: None (fresh entropy), an int seed, a SeedSequence or
    a Generator; ``ValueError`` for anything else."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence) or (
            isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_))):
        return np.random.default_rng(rng)
    raise ValueError(f"{_prefix(owner)}rng must be None, an int seed or a "
                     f"numpy.random.Generator, got {type(rng).__name__}")


def as_array(fn: str, name: str, value) -> np.ndarray:
    """``np.asarray(value)``; a ragged nested list is a ValueError naming ``fn`` and ``name``."""
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except ValueError as exc:  # "inhomogeneous shape": rows of different lengths
        raise ValueError(f"{fn}: {name} must be a rectangular array, got a nested sequence "
                         f"whose rows differ in length ({exc})") from None


def check_cache(fn: str, cache, cache_type: type, producer: str) -> None:
    """Raise ``ValueError`` unless ``cache`` is what ``producer`` returned."""
    if not isinstance(cache, cache_type):
        raise ValueError(f"{fn}: cache must be the cache returned by {producer}, "
                         f"got {type(cache).__name__}")


class ArgChecker:
    """Checks the arguments of one call of the function ``fn``.

    fn:     function name, the first word of every message.
    sizes:  named sizes known in advance (a backward pass passes those of its
            forward pass), with ``source`` saying where they come from.
    dtype:  float dtype known in advance (a backward pass passes its forward's).

    After the checks, ``sizes`` maps each dimension name to its size.
    """

    __slots__ = ("fn", "sizes", "_origin", "dtype", "_dtype_origin", "_given_dtype")

    def __init__(self, fn: str, sizes: dict | None = None, source: str = "",
                 dtype=None):
        self.fn = fn
        self.sizes = dict(sizes) if sizes else {}
        self._origin = {k: source for k in self.sizes}
        self.dtype = None if dtype is None else np.dtype(dtype)
        self._dtype_origin = source
        self._given_dtype = dtype is not None

    # ---- shapes -------------------------------------------------------------------

    def shape(self, name: str, arr: np.ndarray, dims: tuple) -> None:
        """Check rank and sizes of ``arr`` against ``dims`` (e.g. ``("N", "T", "D")``).

        Sizes not bound yet are bound from ``arr``; ``"4H"`` means four times ``H``.
        """
        fn = self.fn
        layout = _tuple_text(dims)
        if arr.ndim != len(dims):
            raise ValueError(f"{fn}: {name} must be {len(dims)}-D with shape {layout}, "
                             f"got a {arr.ndim}-D array of shape {arr.shape}")
        sizes = self.sizes
        new: dict = {}
        expected = []
        borrowed = []
        ok = True
        for spec, actual in zip(dims, arr.shape, strict=True):
            mult, sym = _parse_dim(spec)
            if sym in sizes:
                want = mult * sizes[sym]
                if want != actual:
                    borrowed.append(f"{sym}={sizes[sym]} from {self._origin[sym]}")
            elif sym in new:
                want = mult * new[sym]
            elif actual % mult:
                want = spec  # cannot be bound: not a multiple
            else:
                new[sym] = actual // mult
                want = actual
            expected.append(want)
            ok = ok and want == actual
        if not ok:
            shown = _tuple_text(expected)
            note = f" ({'; '.join(dict.fromkeys(borrowed))})" if borrowed else ""
            raise ValueError(f"{fn}: {name} must have shape {layout} = {shown}, "
                             f"got {arr.shape}{note}")
        if 0 in arr.shape:
            raise ValueError(f"{fn}: {name} must have non-zero sizes {layout}, got {arr.shape}")
        for sym, size in new.items():
            sizes[sym] = size
            self._origin[sym] = name

    # ---- array kinds --------------------------------------------------------------

    def float_array(self, name: str, value, dims: tuple | None = None,
                    finite: bool = True) -> np.ndarray:
        """``value`` as a float32/float64 array of shape ``dims`` sharing the call's dtype.

        The first float argument fixes the dtype; a later one with another dtype is
        a ``ValueError`` naming both. ``finite`` also rejects NaN and Inf.
        """
        arr = as_array(self.fn, name, value)
        if dims is not None:
            self.shape(name, arr, dims)
        dt = arr.dtype
        if dt not in FLOAT_DTYPES:
            raise ValueError(f"{self.fn}: {name} must be a float32 or float64 array, "
                             f"got dtype {dt}")
        if self.dtype is None:
            self.dtype, self._dtype_origin = dt, name
        elif dt != self.dtype:
            if self._given_dtype:
                raise ValueError(f"{self.fn}: {name} has dtype {dt} but {self._dtype_origin} "
                                 f"ran in {self.dtype}; gradients must have the forward "
                                 "pass's dtype")
            raise ValueError(f"{self.fn}: {name} has dtype {dt} but {self._dtype_origin} has "
                             f"dtype {self.dtype}; all float arguments must share one dtype")
        if finite:
            check_finite(self.fn, name, arr)
        return arr

    def same_shape(self, name: str, value, like_name: str, like: np.ndarray) -> np.ndarray:
        """A float array of exactly the shape of ``like`` (checked by :meth:`float_array`)."""
        arr = as_array(self.fn, name, value)
        if arr.shape != like.shape:
            raise ValueError(f"{self.fn}: {name} must have the shape of {like_name} "
                             f"{like.shape}, got {arr.shape}")
        return self.float_array(name, arr)

    def index_array(self, name: str, value, dims: tuple, high: int, what: str) -> np.ndarray:
        """An integer array of shape ``dims`` with every entry in ``[0, high)``.

        what: what ``high`` counts, for the message (``"V=5 rows of W"``).
        Non-integer dtype -> ``ValueError``; an entry out of range -> ``IndexError``
        naming the first offending value and its position.
        """
        arr = as_array(self.fn, name, value)
        self.shape(name, arr, dims)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{self.fn}: {name} must be an integer array, got dtype {arr.dtype}")
        if arr.min() < 0 or arr.max() >= high:
            bad = (arr < 0) | (arr >= high)
            pos = _position(int(np.argmax(bad)), arr.shape)
            raise IndexError(f"{self.fn}: {name} has value {arr[pos]} at position {pos}, "
                             f"outside the valid range [0, {high}) ({what})")
        return arr

    def mask_array(self, name: str, value, dims: tuple) -> np.ndarray:
        """A boolean array, or a numeric one holding only 0 and 1, of shape ``dims``."""
        arr = as_array(self.fn, name, value)
        self.shape(name, arr, dims)
        kind = arr.dtype.kind
        if kind not in "biuf":
            raise ValueError(f"{self.fn}: {name} must be a boolean or 0/1 numeric array, "
                             f"got dtype {arr.dtype}")
        if kind != "b":
            good = (arr == 0) | (arr == 1)
            if not good.all():
                pos = _position(int(np.argmin(good)), arr.shape)
                raise ValueError(f"{self.fn}: {name} must hold only 0 and 1 (or booleans), "
                                 f"found {arr[pos]} at position {pos}")
        return arr
