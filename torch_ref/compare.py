"""Compare a NumPy run of a catalog case with its torch reference, tensor by tensor.

Each comparison yields a :class:`TensorCheck` naming the component, the case,
the tensor, the function that produced it, max abs/rel error, the worst index,
and for LSTM tensors the gate block (``i``/``f``/``o``/``g``) of that index.
"""
from __future__ import annotations

import dataclasses
import os
import traceback
from dataclasses import dataclass, field

import numpy as np

from .layout import NUMPY_GATES

# (rtol, atol) by dtype: an element passes when |actual - expected| <= atol + rtol*|expected|
TOLERANCE = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-5)}

PASS, FAIL, ERROR = "PASS", "FAIL", "ERROR"


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass
class TensorCheck:
    """The verdict on one tensor of one case."""

    component: str
    case: str
    tensor: str
    function: str
    status: str
    max_abs: float = float("nan")
    max_rel: float = float("nan")
    worst_index: tuple | None = None
    gate: str | None = None
    message: str = ""
    case_description: str = ""
    special: tuple = ()
    hint: str = ""
    actual: np.ndarray | None = field(default=None, repr=False)
    expected: np.ndarray | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def as_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("actual")
        d.pop("expected")
        d["worst_index"] = list(self.worst_index) if self.worst_index is not None else None
        d["special"] = list(self.special)
        for key in ("max_abs", "max_rel"):
            if not np.isfinite(d[key]):
                d[key] = None if np.isnan(d[key]) else str(d[key])
        return d


def tolerance(component, dtype: str):
    return component.tolerance.get(dtype, TOLERANCE[dtype])


def array_errors(actual, expected, rtol: float, atol: float):
    """``(ok, max_abs, max_rel, worst_index)`` for two arrays of the same shape.

    The worst index is where the tolerance is exceeded most (or the largest
    absolute error when everything passes). NaN anywhere fails.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e)
        diff = np.where(np.isnan(diff) & ~(np.isnan(a) & np.isnan(e)), np.inf, diff)
        diff = np.nan_to_num(diff, nan=0.0)
        excess = diff - (atol + rtol * np.abs(e))
        rel = diff / np.maximum(np.abs(e), np.finfo(np.float64).tiny)
    if a.size == 0:
        return True, 0.0, 0.0, None
    ok = bool(np.all(excess <= 0))
    flat = int(np.argmax(diff if ok else excess))
    worst = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    return ok, float(diff.max()), float(rel.max()), worst


def user_frame(exc: BaseException) -> str:
    """``file:line`` of the innermost traceback frame outside torch_ref (the culprit)."""
    frames = traceback.extract_tb(exc.__traceback__)
    outside = [f for f in frames if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)]
    frame = (outside or frames or [None])[-1]
    return f"{frame.filename}:{frame.lineno}" if frame else "?"


def _guarded_case(case):
    """Copies of the case's arrays, so that a run cannot change the originals."""
    def copy(arrays):
        return {k: np.array(v, copy=True) for k, v in arrays.items()}
    return dataclasses.replace(case, inputs=copy(case.inputs), upstream=copy(case.upstream))


def _modified(original: dict, given: dict):
    return [name for name, value in original.items()
            if not np.array_equal(value, given[name], equal_nan=True)]


def _compare_tensor(component, case, name, actual, expected, rtol, atol) -> TensorCheck:
    check = TensorCheck(component.name, case.key, name, component.produced_by.get(name, "?"),
                        PASS, case_description=case.describe(), special=case.special)
    if actual is None:
        check.status, check.message = FAIL, "returned None"
        return check
    if not isinstance(actual, (np.ndarray, np.generic, float, int)):
        check.status = FAIL
        check.message = f"expected a NumPy array, got {type(actual).__name__}"
        return check
    actual = np.asarray(actual)
    check.actual, check.expected = actual, expected
    if actual.shape != expected.shape:
        check.status = FAIL
        check.message = f"shape {actual.shape}, expected {expected.shape}"
        return check
    ok, check.max_abs, check.max_rel, check.worst_index = array_errors(actual, expected,
                                                                        rtol, atol)
    axis = component.gate_axes.get(name)
    if axis is not None and check.worst_index is not None and "H" in case.sizes:
        check.gate = NUMPY_GATES[check.worst_index[axis] // case.sizes["H"]]
    if not ok:
        check.status = FAIL
        check.message = f"exceeds rtol={rtol:g}, atol={atol:g}"
    elif actual.ndim > 0 and actual.dtype != np.dtype(case.dtype):
        check.status = FAIL
        check.message = f"dtype {actual.dtype}, expected {case.dtype} (the input dtype)"
    return check


def check_case(component, api, case, reference=None) -> list:
    """Run ``component`` on ``case`` with ``api`` and compare with torch.

    ``reference`` is the torch :class:`Run` when already computed. Floating-point
    overflow, invalid operations and division by zero raise inside the NumPy run,
    and an input or upstream array changed in place fails the case.
    """
    reference = reference if reference is not None else component.run_torch(case)
    expected = reference.tensors()
    rtol, atol = tolerance(component, case.dtype)
    guarded = _guarded_case(case)
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            run = component.run_numpy(api, guarded)
    except Exception as exc:  # report, never crash: the module under test may do anything
        return [TensorCheck(component.name, case.key, "-", "/".join(component.functions),
                            ERROR, message=f"{type(exc).__name__}: {exc} ({user_frame(exc)})",
                            case_description=case.describe(), special=case.special)]
    actual = run.tensors()
    checks = [_compare_tensor(component, case, name, actual.get(name), value, rtol, atol)
              for name, value in expected.items()]
    for name in _modified(case.inputs, guarded.inputs) + _modified(case.upstream,
                                                                    guarded.upstream):
        checks.append(TensorCheck(
            component.name, case.key, f"input {name}", "/".join(component.functions), FAIL,
            message=f"modified the caller's array '{name}' in place",
            case_description=case.describe(), special=case.special))
    return checks
