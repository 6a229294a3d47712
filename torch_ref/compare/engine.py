"""Compare a NumPy run of a catalog case with its torch reference, tensor by tensor.

Each comparison yields a :class:`TensorCheck` naming the component, the case,
the tensor, the function that produced it, max abs/rel error, the worst index,
and for LSTM tensors the gate block (``i``/``f``/``o``/``g``) of that index.

A wrong value or gradient is a FAIL. Hazards with right values are a WARN with a
``kind`` (:data:`WARNING_KINDS`): an input or upstream array changed in place,
a forward output in another dtype than its inputs, floating-point flags raised
(overflow, invalid operation, division by zero) inside the NumPy run, a wrong
value on a case only a log-sum-exp formulation computes (``case.extra``
``"only_log_sum_exp"``), and what an api reports of the run itself (``take_hazards``:
``(kind, function, message)``, a gradient its API clips returned unclipped). A run
that raises, hangs (past the caller's time limit) or returns the wrong structure is an
ERROR naming the function; a function left as
its template (it returns None where it should return arrays, raises
``NotImplementedError`` ...) is marked ``not-implemented``. How an exception is
described is the caller's (``explain``): the engine itself knows nothing of where the
functions it calls live.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from dataclasses import dataclass, field

import numpy as np

from torch_ref.layout import CELLS
from torch_ref.status import ERROR, FAIL, MISSING, PASS, UNTESTED, WARN  # noqa: F401
from torch_ref.status import NA as SKIPPED  # noqa: F401
from torch_ref.tolerances import TORCH as TOLERANCE  # noqa: F401 (re-exported)
from torch_ref.tolerances import against_torch

# what a WARN is about, in report order
WARNING_KINDS = {
    "argument-modified": "changes an array its caller passed",
    "dtype": "returns another dtype than its inputs (float32 in, float64 out)",
    "floating-point": "raises floating-point flags (overflow, invalid operation, division by zero)",
    "log-sum-exp": "wrong only where just a log-sum-exp formulation survives",
    "reuse": "wrong only when the same instance is used again, as the course's own template "
             "would be",
    "clipping": "returns gradients beyond the bound its API clips them to",
}
NOT_IMPLEMENTED = "not-implemented"
# a run stopped by the checker's own fault (never the checked code's)
INTERNAL = "internal"


class _Absent:
    """Stands for an output of a function the module under test does not define."""

    __slots__ = ()

    def __repr__(self):
        return "MISSING"


# an output nobody computed: skipped by the comparison (its function is reported
# MISSING); compared by identity, so no value a module returns can be taken for it
ABSENT = _Absent()


@dataclass
class TensorCheck:
    """The verdict on one tensor of one case.

    ``function`` is the function that produced the tensor, as the user knows it
    (``rnn_backward``, ``RNNLayer.backward``); ``tensor`` the output or gradient
    (``dWh``), an argument changed in place (``dh (argument)``), floating-point
    flags (``(floating point)``), or ``-`` when the run stopped before any output.
    ``kind``: for a WARN, its key in :data:`WARNING_KINDS`; ``not-implemented`` for a
    function that returned None.
    """

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
    kind: str = ""
    actual: np.ndarray | None = field(default=None, repr=False)
    expected: np.ndarray | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def warned(self) -> bool:
        return self.status == WARN

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
    return against_torch(component, dtype)


def array_errors(actual, expected, rtol: float, atol: float):
    """``(ok, max_abs, max_rel, worst_index)`` for two arrays of the same shape.

    The worst index is where the tolerance is exceeded most (or the largest
    absolute error when everything passes). NaN anywhere fails.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return True, 0.0, 0.0, None
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e)
        if not np.isfinite(diff).all():  # NaN against a number fails; NaN against NaN not
            diff = np.where(np.isnan(diff) & ~(np.isnan(a) & np.isnan(e)), np.inf, diff)
            diff = np.nan_to_num(diff, nan=0.0)
        magnitude = np.abs(e)
        excess = diff - (atol + rtol * magnitude)
        rel = diff / np.maximum(magnitude, np.finfo(np.float64).tiny)
    ok = bool(np.all(excess <= 0))
    flat = int(np.argmax(diff if ok else excess))
    worst = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    return ok, float(diff.max()), float(rel.max()), worst


# ---- the torch reference, computed once per distinct case ---------------------------

_REFERENCES: dict = {}
_REFERENCE_LIMIT = 4096


def _digest(case) -> str:
    h = hashlib.blake2b(digest_size=16)
    for group in (case.inputs, case.upstream):
        for name in sorted(group):
            value = np.asarray(group[name])
            h.update(f"{name}{value.dtype}{value.shape}".encode())
            h.update(np.ascontiguousarray(value).tobytes())
    return h.hexdigest()


def reference_run(component, case):
    """``component.run_torch(case)``, remembered by the case's contents.

    The same case is drawn again for every module checked in one process (tests
    check dozens); its torch run does not change, so it is computed once.
    """
    key = (component.name, case.key, _digest(case))
    run = _REFERENCES.get(key)
    if run is None:
        run = component.run_torch(case)
        if len(_REFERENCES) >= _REFERENCE_LIMIT:
            _REFERENCES.clear()
        _REFERENCES[key] = run
    return run


# ---- one case -----------------------------------------------------------------------

def _guarded_case(case):
    """Copies of the case's arrays, so that a run cannot change the originals."""
    def copy(arrays):
        return {k: np.array(v, copy=True) for k, v in arrays.items()}
    return dataclasses.replace(case, inputs=copy(case.inputs), upstream=copy(case.upstream))


def _modified(original: dict, given: dict):
    return [name for name, value in original.items()
            if not np.array_equal(value, given[name],
                                  equal_nan=np.asarray(value).dtype.kind in "fc")]


def _default_name(functional: str, tensor: str | None = None) -> str:
    return functional


def _is_missing(value) -> bool:
    return value is ABSENT


def _compare_tensor(component, case, name, actual, expected, rtol, atol, function,
                    check_dtype: bool) -> TensorCheck:
    check = TensorCheck(component.name, case.key, name, function, PASS,
                        case_description=case.describe(), special=case.special)
    if actual is None:
        check.status, check.kind = ERROR, NOT_IMPLEMENTED
        check.message = f"{function} returned None for {name}"
        return check
    if not isinstance(actual, (np.ndarray, np.generic, float, int)):
        check.status = FAIL
        kind = getattr(actual, "type_name", None) or type(actual).__name__
        check.message = f"{name}: expected a NumPy array, got a {kind}"
        return check
    actual = np.asarray(actual)
    check.actual, check.expected = actual, expected
    if actual.shape != expected.shape:
        check.status = FAIL
        check.message = f"{name} has shape {actual.shape}, expected {expected.shape}"
        return check
    if actual.dtype.kind not in "biuf":
        check.status = FAIL
        check.message = f"{name} has dtype {actual.dtype}, expected {case.dtype}"
        return check
    ok, check.max_abs, check.max_rel, check.worst_index = array_errors(actual, expected,
                                                                        rtol, atol)
    axis = component.gate_axes.get(name)
    if (axis is not None and component.cell and check.worst_index is not None
            and "H" in case.sizes):
        check.gate = CELLS[component.cell].gate_of(check.worst_index[axis], case.sizes["H"])
    if not ok:
        check.status = FAIL
        bad = ~np.isfinite(actual) & np.isfinite(expected) if actual.dtype.kind == "f" else None
        check.message = f"exceeds rtol={rtol:g}, atol={atol:g}"
        if bad is not None and bad.any():
            check.message += f"; {int(bad.sum())} value(s) are NaN or infinite"
    elif check_dtype and actual.ndim > 0 and actual.dtype != np.dtype(case.dtype):
        check.status, check.kind = WARN, "dtype"
        check.message = (f"{name} has dtype {actual.dtype} for {case.dtype} inputs (the values "
                         f"are right)")
    return check


@dataclasses.dataclass(frozen=True)
class Explanation:
    """What an exception out of a run means: the function to blame, ERROR or FAIL, the
    message, and whether the function is still its template (not implemented)."""

    function: str
    status: str
    message: str
    stub: bool = False


def plain_explanation(exc: BaseException, function: str) -> Explanation:
    """The explanation of an exception out of trusted code (numpy_rnn itself)."""
    if isinstance(exc, FloatingPointError):
        return Explanation(function, FAIL, f"floating-point error inside {function}: {exc}")
    text = str(exc).strip().splitlines()
    return Explanation(function, ERROR, type(exc).__name__ + (f": {text[0]}" if text else ""),
                       stub=type(exc) is NotImplementedError)


def _error_check(component, case, exc: BaseException, name_of, explain) -> TensorCheck:
    found = explain(exc, name_of(component.functions[0]))
    kind = (NOT_IMPLEMENTED if found.stub else
            INTERNAL if getattr(found, "internal", False) else "")
    return TensorCheck(component.name, case.key, "-", found.function, found.status,
                       message=found.message, case_description=case.describe(),
                       special=case.special, kind=kind)


class _FlagRecorder:
    """Floating-point flags raised during a run: the first of each kind, with the
    function running and its ``file:line``. Recorded here (``np.errstate(call=...)``)
    for code that runs in this process, or taken from the api (``take_flags``) whose
    functions run elsewhere."""

    def __init__(self, fallback: str):
        self.fallback = fallback
        self.flags: dict = {}

    def __call__(self, kind: str, flag: int) -> None:
        if kind not in self.flags:
            import traceback

            frame = traceback.extract_stack()[-2]
            self.flags[kind] = (self.fallback, f"{frame.filename}:{frame.lineno}")

    def add(self, kind: str, function: str, where: str) -> None:
        self.flags.setdefault(kind, (function or self.fallback, where))

    def describe(self) -> str:
        return "; ".join(f"{kind} in {function} ({where})"
                         for kind, (function, where) in self.flags.items())


def check_case(component, api, case, reference=None, *, name_of=None,
               strict_dtype: bool = True, explain=plain_explanation) -> list:
    """Run ``component`` on ``case`` with ``api`` and compare with torch.

    reference:    the torch :class:`~torch_ref.catalog.Run` when already computed.
    name_of:      ``name_of(functional, tensor) -> function name`` used in the checks
                  (an adapter's user names); default: the functional names.
    strict_dtype: every array must keep the input dtype; when False only the forward
                  outputs must (gradients may be computed in float64).
    explain:      ``explain(exception, function) -> Explanation`` of an exception out
                  of the run (default: :func:`plain_explanation`).

    Floating-point flags inside the NumPy run are recorded, not raised: with right
    values they are a WARN; an input or upstream array changed in place is a WARN.
    """
    name_of = name_of or _default_name
    reference = reference if reference is not None else reference_run(component, case)
    expected = reference.tensors()
    rtol, atol = tolerance(component, case.dtype)
    guarded = _guarded_case(case)
    take_findings = getattr(api, "take_findings", None)
    take_variants = getattr(api, "take_variants", None)
    take_flags = getattr(api, "take_flags", None)
    take_hazards = getattr(api, "take_hazards", None)
    forget = getattr(api, "forget", None)
    if forget is not None:
        forget()
    if take_variants is not None:
        take_variants()
    if take_hazards is not None:
        take_hazards()
    flags = _FlagRecorder(name_of(component.functions[0]))
    # an api whose results live elsewhere hands back handles, read once the run is over
    deferring = getattr(api, "deferring", contextlib.nullcontext)
    resolve = getattr(api, "resolve", None)
    try:
        with np.errstate(all="call", under="ignore", call=flags), deferring():
            run = component.run_numpy(api, guarded)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # report, never crash: the module under test may do anything
        # a backward that raised may be fed by a wrong forward: still judge the forward
        actual = {name: _returned(api, component, name) for name in reference.outputs}
        try:
            actual = _resolved(resolve, actual)
        except Exception:  # noqa: BLE001 - gone with what raised: nothing to read back
            actual = {k: v if isinstance(v, (np.ndarray, np.generic, float, int)) else None
                      for k, v in actual.items()}
        unimplemented = [name for name in reference.outputs
                         if _returned_none(api, component, name)]
        # a forward that returned None is the cause; what choked on it is not blamed
        checks = [] if unimplemented else [_error_check(component, case, exc, name_of,
                                                        explain)]
        expected = {k: v for k, v in expected.items()
                    if actual.get(k) is not None or k in unimplemented}
    else:
        try:
            actual = _resolved(resolve, run.tensors())
            checks = []
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the results could not be read back
            actual = {}
            checks = [_error_check(component, case, exc, name_of, explain)]
    for kind, function, where in (take_flags() if take_flags is not None else []):
        flags.add(kind, function, where)
    for name, value in expected.items():
        got = actual.get(name)
        if _is_missing(got):
            continue  # produced by a function the module lacks: reported as MISSING
        function = name_of(component.produced_by.get(name, component.functions[-1]), name)
        checks.append(_compare_tensor(component, case, name, got, value, rtol, atol,
                                      function, strict_dtype or name in reference.outputs))
    for option, name, function, value, factor in (take_variants() if take_variants else []):
        if name in expected and not _is_missing(value):
            checks.append(_compare_tensor(component, case, f"{name} ({option})", value,
                                          np.asarray(expected[name]) * factor, rtol, atol,
                                          function, name in reference.outputs))
    for kind, function, message in (take_hazards() if take_hazards is not None else []):
        checks.append(TensorCheck(component.name, case.key, f"({kind})", function, WARN,
                                  kind=kind, message=message,
                                  case_description=case.describe(), special=case.special))
    _judge_hazards(component, case, checks, flags)
    checks += _in_place_checks(component, case, guarded, name_of,
                               take_findings() if take_findings is not None else [])
    return checks


def _judge_hazards(component, case, checks, flags) -> None:
    """Wrong values on a case only log-sum-exp survives become WARNs; floating-point
    flags are named with wrong values, or are a WARN of their own with right ones."""
    if case.extra.get("only_log_sum_exp"):
        for check in checks:
            if check.status == FAIL:
                check.status, check.kind = WARN, "log-sum-exp"
                check.message = ("wrong only where the logits of a row spread beyond exp's "
                                 "range, which only a log-sum-exp formulation survives: "
                                 + check.message)
    if not flags.flags:
        return
    failing = [c for c in checks if c.status in (FAIL, ERROR) or c.kind == "log-sum-exp"]
    for check in failing:
        if check.status == FAIL:
            check.message += f"; floating-point flags: {flags.describe()}"
    # a case built to overflow (saturated pre-activations): flags there are no hazard
    if not failing and not case.extra.get("flags_expected"):
        function = next(iter(flags.flags.values()))[0]
        checks.append(TensorCheck(
            component.name, case.key, "(floating point)", function, WARN, kind="floating-point",
            message=f"floating-point flags raised, values right: {flags.describe()}",
            case_description=case.describe(), special=case.special))


def _resolved(resolve, values: dict) -> dict:
    return resolve(values) if resolve is not None else values


def _returned_none(api, component, output) -> bool:
    returned_none = getattr(api, "returned_none", None)
    functional = component.produced_by.get(output)
    return bool(returned_none and functional and returned_none(functional, output))


def _returned(api, component, output):
    returned = getattr(api, "returned", None)
    functional = component.produced_by.get(output)
    return returned(functional, output) if returned and functional else None


def _in_place_checks(component, case, guarded, name_of, findings) -> list:
    """Arguments changed in place: those an adapter saw change during one call, then
    any other (changed later, e.g. through a cache) blamed on the last function."""
    checks, named = [], set()
    for function, argument in findings:
        if (function, argument) in named:
            continue
        named.add((function, argument))
        checks.append(_in_place(component, case, function, argument))
    seen = {argument for _, argument in findings}
    last = name_of(component.functions[-1])
    # upstream gradients are arguments named after their output: h -> dh
    for argument in (_modified(case.inputs, guarded.inputs)
                     + ["d" + name for name in _modified(case.upstream, guarded.upstream)]):
        if argument not in seen:
            checks.append(_in_place(component, case, last, argument))
    return checks


def _in_place(component, case, function, argument) -> TensorCheck:
    return TensorCheck(component.name, case.key, f"{argument} (argument)", function, WARN,
                       message=f"{function} modified the caller's array '{argument}' in place",
                       case_description=case.describe(), special=case.special,
                       kind="argument-modified")


def check_reuse(component, api, cases, *, name_of=None, strict_dtype: bool = True,
                on_case=None, explain=plain_explanation) -> list:
    """Run ``cases`` one after the other on the same instances (``api.reusing()``).

    The cases should share shapes and dtype; each is labelled ``reuse-k`` and says
    what its call exercises (``api.reuse_notes``). Catches stale caches, gradients
    accumulated across calls and weights captured at construction or first use.
    ``on_case(component, labelled_case, checks)`` is called after each case.
    """
    notes = tuple(getattr(api, "reuse_notes", ()))
    # what a failure on an instance used again means where the course's own template
    # fails the same way (``api.reuse_hazard(component)``; empty: a failure)
    hazard = getattr(api, "reuse_hazard", None)
    shared = hazard(component) if hazard is not None else ""
    checks = []
    with api.reusing():
        for k, case in enumerate(cases):
            note = notes[k] if k < len(notes) else "same instance called again"
            labelled = dataclasses.replace(case, label=f"reuse-{k + 1}",
                                           special=(note,))
            result = check_case(component, api, labelled, reference_run(component, case),
                                name_of=name_of, strict_dtype=strict_dtype, explain=explain)
            if shared and k:
                for check in result:
                    if check.status == FAIL:
                        check.status, check.kind = WARN, "reuse"
                        check.message = f"{shared}: {check.message}"
            if on_case is not None:
                on_case(component, labelled, result)
            checks += result
    return checks
