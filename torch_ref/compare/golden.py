"""Golden checks: the values and thresholds the specification documents print.

The records live in ``fixtures/golden/<document>.json`` (format:
``fixtures/golden/README.md``). :func:`run_golden` runs them against any object
exposing the functional API (``numpy_rnn.functional``, or an adapter for another
module): each record kind has one runner in :data:`KINDS`, each component one
entry in :data:`OPS`. Gradient checks use :mod:`numpy_rnn.core.gradcheck` (central
differences in float64), every call getting its own copies of the cell's arrays so
that the numerical gradient is taken on the document's inputs whatever the code
under test does to them.

A central difference carries rounding noise; on some CPUs (AVX-512 kernels) it can
cross a document's bound on a correct gradient. A numerical-gradient threshold never
overrides agreement with torch: when a gradient misses the bound but matches torch
autograd on the same inputs, the check passes with a note saying so. Torch is
imported only for that second opinion, and only when it is installed.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from numpy_rnn.core import gradcheck
from torch_ref.catalog import CATALOG
from torch_ref.compare.engine import ERROR, FAIL, PASS

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "golden"


class GoldenFixtureError(ValueError):
    """A golden fixture file is missing, is not valid JSON, or holds a malformed record."""


@dataclass
class GoldenResult:
    """The verdict on one check of one record.

    ``check`` names what was compared (``"h[0]"``, ``"dWx"``, ``"loss"``, or ``"*"``
    when the record raised before any check); ``error`` is the measured value of the
    record's metric (``rel_error`` or an absolute difference), ``threshold`` the bound
    it must stay strictly below.
    """

    record: str
    document: str
    cell: str
    check: str
    status: str
    error: float = float("nan")
    threshold: float = float("nan")
    message: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def describe(self) -> str:
        where = f"{self.record} {self.check} ({self.document}, {self.cell})"
        if self.status == ERROR:
            return f"{where}: ERROR {self.message}"
        text = f"{where}: {self.status} error {self.error:.3e} (threshold {self.threshold:.0e})"
        return text + "".join(f": {m}" for m in (self.message, self.note) if m)


# ---- components: how each one is called through the functional API -------------

@dataclass(frozen=True)
class Op:
    """One component as the runners see it.

    forward:  ``forward(api, inputs) -> (outputs, cache)``, ``outputs`` a dict by name.
    backward: ``backward(api, upstream, cache) -> grads``, a dict keyed by input name.
    outputs:  names of the forward outputs (a single scalar output for losses).
    """

    forward: Callable
    backward: Callable
    outputs: tuple


def _named(function: str, names: tuple, result) -> dict:
    """``result`` (a tuple, or one array) keyed by ``names``; a wrong count is an error."""
    result = result if isinstance(result, tuple) else (result,)
    if len(result) != len(names):
        raise ValueError(f"{function} returned {len(result)} value(s), expected "
                         f"{len(names)}: {', '.join(names)}")
    return dict(zip(names, result, strict=True))


def _layer(forward: str, args: tuple, outputs: tuple, backward: str, grads: tuple) -> Op:
    """A ``forward(*args) -> (*outputs, cache)`` / ``backward(*douts, cache) -> grads`` pair."""
    def run_forward(api, inputs):
        result = _named(forward, (*outputs, "cache"),
                        getattr(api, forward)(*(inputs[name] for name in args)))
        return result, result.pop("cache")

    def run_backward(api, upstream, cache):
        return _named(backward, grads,
                      getattr(api, backward)(*(upstream[name] for name in outputs), cache))

    return Op(run_forward, run_backward, outputs)


def _softmax_loss_forward(api, inputs):
    result = _named("temporal_softmax_loss", ("loss", "dx"),
                    api.temporal_softmax_loss(inputs["x"], inputs["y"], inputs["mask"]))
    return {"loss": result["loss"]}, result["dx"]


def _sequence_loss(cell: str) -> Op:
    """TestRNN of the language-modeling document: the hidden states of ``cell`` are the
    scores of ``temporal_softmax_loss`` (a loss over the H outputs)."""
    # the sequence's arguments, its input named as the document names it
    args = ("features", *CATALOG[cell].signature[f"{cell}_forward"][0][1:])

    def run_forward(api, inputs):
        hidden = _named(f"{cell}_forward", ("h", "cache"), getattr(api, f"{cell}_forward")(
            *(inputs[name] for name in args)))
        scores = {**inputs, "x": hidden["h"]}
        outputs, dh = _softmax_loss_forward(api, scores)
        return outputs, (dh, hidden["cache"])

    def run_backward(api, upstream, caches):
        return _named(f"{cell}_backward", args, getattr(api, f"{cell}_backward")(*caches))

    return Op(run_forward, run_backward, ("loss",))


def _catalog_ops() -> dict:
    """An op per functional catalog entry that is a forward/backward pair without options,
    called as its signature says; gradients keyed by the input they are of."""
    ops = {}
    for c in CATALOG.values():
        if c.scope == "functional" and not c.options and len(c.signature) == 2:
            (forward, (args, returned)), (backward, (_, grads)) = c.signature.items()
            ops[c.name] = _layer(forward, args, returned[:-1], backward,
                                 tuple(g.removeprefix("d") for g in grads))
    return ops


OPS = {
    **_catalog_ops(),
    # the loss returns its gradient with the loss: the "cache" is dx
    "temporal_softmax_loss": Op(_softmax_loss_forward, lambda api, up, dx: {"x": dx},
                                ("loss",)),
    "rnn_sequence_loss": _sequence_loss("rnn"),
    "lstm_sequence_loss": _sequence_loss("lstm"),
}


# ---- inputs: each record lists them in the order the document builds them -------

def _linspace(spec, rng):
    s = spec["linspace"]
    return np.linspace(s["start"], s["stop"], num=s["num"]).reshape(s["shape"])


def _randn(spec, rng):
    values = rng.randn(*spec["randn"])
    return values * spec["scale"] if "scale" in spec else values


def _rand(spec, rng):
    compare = {"<=": np.less_equal, ">": np.greater}[spec["compare"]]
    return compare(rng.rand(*spec["rand"]), spec["than"])


def _arange_mod(spec, rng):
    s = spec["arange_mod"]
    return (np.arange(s["num"]) % s["mod"]).reshape(s["shape"])


# builder key -> (builds from the seeded stream, builder)
INPUT_BUILDERS = {
    "linspace": (False, _linspace),
    "array": (False, lambda spec, rng: np.asarray(spec["array"], dtype=spec["dtype"])),
    "ones": (False, lambda spec, rng: np.ones(spec["ones"])),
    "arange_mod": (False, _arange_mod),
    "randn": (True, _randn),
    "randint": (True, lambda spec, rng: rng.randint(spec["randint"]["high"],
                                                    size=spec["randint"]["shape"])),
    "rand": (True, _rand),
}


def _builder(spec) -> str:
    found = [key for key in INPUT_BUILDERS if key in spec]
    return found[0] if len(found) == 1 else ""


def build_inputs(record: dict, api=None) -> dict:
    """The record's inputs by name, built in order; random draws come from
    ``np.random.RandomState(record["seed"])``, the stream ``np.random.seed`` sets.

    A record with a ``constructor`` (the layer the cell builds after seeding, before
    its first draw) is replayed as the document does when ``api`` can build that
    layer (``api.document_constructor(class_name, args, seed)``: the layer built from
    the global stream seeded with ``seed`` where the module runs, returning that
    stream's state afterwards): the inputs are then drawn after the constructor's own
    draws.
    """
    rng = np.random.RandomState(record["seed"]) if "seed" in record else None
    constructor = record.get("constructor")
    build = getattr(api, "document_constructor", None)
    if rng is not None and constructor and build is not None:
        state = build(constructor["class"], tuple(constructor["args"]), record["seed"])
        if state is not None:
            rng.set_state(state)
    return {spec["name"]: INPUT_BUILDERS[_builder(spec)][1](spec, rng)
            for spec in record["inputs"]}


# ---- runners: one per record kind; each returns [(check, error, threshold, message)]

METRICS = {
    "rel_error": gradcheck.rel_error,  # the documents' max(|a - b| / max(1e-8, |a| + |b|))
    "abs_difference": lambda expected, actual: float(np.max(np.abs(actual - expected))),
}


def _measure(metric: str, expected, actual, threshold) -> tuple:
    """``(error, threshold, message)``; a shape mismatch is an infinite error."""
    expected, actual = np.asarray(expected, dtype=np.float64), np.asarray(actual)
    if expected.shape != actual.shape:
        return math.inf, threshold, f"shape {actual.shape}, expected {expected.shape}"
    return METRICS[metric](expected, actual.astype(np.float64)), threshold, ""


def _compare_outputs(api, record, inputs, expected):
    outputs, _ = OPS[record["op"]].forward(api, inputs)
    rows = []
    for check in record["checks"]:
        name, index = check["output"], tuple(check.get("index", ()))
        label = name + "".join(f"[{i}]" for i in index)
        actual, wanted = np.asarray(outputs[name]), np.asarray(expected[name])
        rows.append((label, *_measure(check["metric"], wanted[index], actual[index],
                                      check["threshold"])))
    return rows


def run_forward_values(api, record, inputs):
    """Forward outputs (or a loss) against the values the document prints."""
    return _compare_outputs(api, record, inputs, record["expected"])


def run_loss_sanity(api, record, inputs):
    """A loss on near-zero scores against its analytic value ``T * p * ln(V)``."""
    sizes = record["sizes"]
    analytic = sizes["T"] * sizes["p"] * math.log(sizes["V"])
    return _compare_outputs(api, record, inputs, {"loss": analytic})


def _copies(inputs: dict) -> dict:
    return {name: np.array(value, copy=True) for name, value in inputs.items()}


def run_gradient_check(api, record, inputs):
    """Analytic gradients of a forward/backward pair against central differences.

    With ``upstream`` (output -> input name of its upstream gradient) the numerical
    gradient of a tensor is the sum over outputs of ``eval_numerical_gradient_array``
    against that upstream; with none the op's single scalar output is differentiated
    by ``eval_numerical_gradient``. Every call gets fresh copies of the inputs.
    A gradient over the bound that agrees with torch passes with a note.
    """
    op, upstream = OPS[record["op"]], record["upstream"]
    step = record.get("numerical", {}).get("h", 1e-5)
    outputs, cache = op.forward(api, _copies(inputs))
    douts = {out: inputs[name] for out, name in upstream.items()}

    def numerical(target: str, h: float = step) -> np.ndarray:
        def output(name):
            return lambda value: op.forward(api, {**_copies(inputs),
                                                  target: np.array(value)})[0][name]
        point = np.array(inputs[target], copy=True)
        if not upstream:
            return gradcheck.eval_numerical_gradient(output(op.outputs[0]), point, h=h)
        return sum(gradcheck.eval_numerical_gradient_array(output(out), point, dout, h=h)
                   for out, dout in douts.items())

    # the order of the cell: some take the numerical gradients before calling backward
    if record.get("numerical_first"):
        estimates = {check["grad"]: numerical(check["grad"]) for check in record["checks"]}
    analytic = {k: np.array(v) for k, v in op.backward(api, _copies(douts), cache).items()}
    if not record.get("numerical_first"):
        estimates = {check["grad"]: numerical(check["grad"]) for check in record["checks"]}
    rows, agreement = [], None
    for check in record["checks"]:
        grad = check["grad"]
        error, threshold, message = _measure("rel_error", estimates[grad], analytic[grad],
                                             check["threshold"])
        note = ""
        if not error < threshold and not message:
            if agreement is None:
                agreement = torch_agreement(record, inputs, outputs, analytic)
            verdict = agreement.get(grad)
            if verdict is not None and verdict[0]:
                note = agreement_note(error, threshold, verdict)
            elif verdict is None:  # no torch here: a finer difference is the second opinion
                verdict = refined_agreement(numerical, grad, analytic[grad])
                if verdict[0]:
                    note = agreement_note(error, threshold, verdict, by=_REFINED)
        rows.append(("d" + grad, error, threshold, message, note))
    return rows


_REFINED = "a fourth-order finite difference"
# Richardson step and bound: truncation ~h^4 and rounding ~eps/h both stay far below it,
# while a wrong term moves the gradient by far more
_REFINED_STEP, _REFINED_BOUND = 1e-3, 1e-7


def refined_agreement(numerical, grad: str, analytic: np.ndarray) -> tuple:
    """``(agrees, error)``: ``analytic`` against Richardson-extrapolated central
    differences ``(4 g(h) - g(2h)) / 3``, the error relative to the gradient's scale.

    numerical: ``numerical(grad, h)`` -> the central difference with step ``h``.
    """
    fine = (4 * numerical(grad, _REFINED_STEP) - numerical(grad, 2 * _REFINED_STEP)) / 3
    analytic = np.asarray(analytic, dtype=np.float64)
    if fine.shape != analytic.shape or not np.all(np.isfinite(analytic)):
        return False, math.inf
    error = float(np.max(np.abs(analytic - fine), initial=0.0)
                  / max(float(np.max(np.abs(fine), initial=0.0)), 1e-12))
    return error < _REFINED_BOUND, error


def agreement_note(error: float, threshold: float, verdict: tuple,
                   by: str = "torch autograd") -> str:
    """Why a gradient over the document's bound passes: ``by`` agrees with it."""
    return (f"the document's central difference measures {error:.3e} here, over its bound "
            f"{threshold:g}, but the gradient agrees with {by} (max rel err "
            f"{verdict[1]:.1e}): rounding noise of the finite difference, not a wrong gradient")


# golden ops that are catalog components with the same inputs
_CATALOG_OP = tuple(op for op in OPS if op in CATALOG)
# TestRNN: the loss of a recurrent component's hidden states, chained through two entries
_SEQUENCE_LOSS_OP = {"rnn_sequence_loss": "rnn", "lstm_sequence_loss": "lstm"}


def _torch_sequence_loss(record, inputs):
    """``Run`` of TestRNN with torch: the cell's torch run, the loss of its hidden states,
    and the cell's torch run again under that loss's gradient (outputs: ``loss``)."""
    from torch_ref.catalog import Case, Run

    cell, loss = CATALOG[_SEQUENCE_LOSS_OP[record["op"]]], CATALOG["temporal_softmax_loss"]
    seed, sizes = int(record.get("seed", 0)), dict(record.get("sizes", {}))
    cell_inputs = {"x": inputs["features"], **{k: inputs[k] for k in ("h0", "Wx", "Wh", "b")}}
    N, T = inputs["features"].shape[:2]
    H = inputs["h0"].shape[1]

    def cell_run(dh):
        return cell.run_torch(Case(cell.name, "document cell", "float64", seed, cell_inputs,
                                   {"h": dh}, sizes))

    h = cell_run(np.zeros((N, T, H))).outputs["h"]
    scores = loss.run_torch(Case(loss.name, "document cell", "float64", seed,
                                 {"x": h, "y": inputs["y"], "mask": inputs["mask"]}, {}, sizes))
    grads = cell_run(scores.grads["dx"]).grads
    return Run({"loss": scores.outputs["loss"]},
               {"dfeatures": grads["dx"], **{k: grads[k] for k in ("dh0", "dWx", "dWh", "db")}})


def torch_agreement(record, inputs, outputs, analytic) -> dict:
    """``{grad: (agrees, max rel err)}``: the analytic gradients of a gradient-check
    record against torch autograd on the record's own inputs, at the catalog's float64
    tolerance. Empty when torch or a matching catalog component is not available, and
    when the forward ``outputs`` disagree with torch: then the numerical gradient
    differentiates a wrong function and its verdict stands."""
    if record["op"] not in _CATALOG_OP and record["op"] not in _SEQUENCE_LOSS_OP:
        return {}
    try:
        import torch  # noqa: F401 - only to know whether the second opinion is possible
    except ImportError:
        return {}
    from torch_ref.catalog import Case
    from torch_ref.compare.engine import array_errors, tolerance

    try:
        if record["op"] in _SEQUENCE_LOSS_OP:
            component = CATALOG[_SEQUENCE_LOSS_OP[record["op"]]]
            reference = _torch_sequence_loss(record, inputs)
        else:
            component = CATALOG[record["op"]]
            upstream_names = set(record["upstream"].values())
            discarded = {spec["name"] for spec in record["inputs"] if spec.get("discard")}
            case_inputs = {name: value for name, value in inputs.items()
                           if name not in upstream_names and name not in discarded}
            upstream = {out: np.asarray(inputs[name], dtype=np.float64)
                        for out, name in record["upstream"].items()}
            reference = component.run_torch(Case(
                component.name, "document cell", "float64", int(record.get("seed", 0)),
                case_inputs, upstream, dict(record.get("sizes", {}))))
    except Exception:  # noqa: BLE001 - no second opinion is not a verdict either way
        return {}
    rtol, atol = tolerance(component, "float64")
    for name, value in outputs.items():
        expected = reference.outputs.get(name)
        if expected is None or np.shape(value) != np.shape(expected) or not array_errors(
                value, expected, rtol, atol)[0]:
            return {}
    grads = reference.grads
    verdicts = {}
    for grad, value in analytic.items():
        reference = grads.get("d" + grad)
        if reference is None or np.shape(reference) != np.shape(value):
            continue
        ok, _, max_rel, _ = array_errors(value, reference, rtol, atol)
        verdicts[grad] = (ok, max_rel)
    return verdicts


@dataclass(frozen=True)
class Kind:
    """A record kind: its runner (None: not run here), required keys, keys of each check."""

    run: Callable | None
    keys: tuple
    check_keys: tuple = ()


KINDS = {
    "forward_values": Kind(run_forward_values, ("op", "inputs", "expected", "checks"),
                           ("output", "metric", "threshold")),
    "loss_value": Kind(run_forward_values, ("op", "inputs", "expected", "checks"),
                       ("output", "metric", "threshold")),
    "loss_sanity": Kind(run_loss_sanity, ("op", "inputs", "seed", "sizes", "checks"),
                        ("output", "metric", "threshold")),
    "gradient_check": Kind(run_gradient_check, ("op", "inputs", "upstream", "checks"),
                           ("grad", "threshold")),
    # facts for a training reproduction; the golden run does not execute them
    "training_reference": Kind(None, ("facts",)),
    # a model's own gradient check (sequence-to-one RNN), run by that model's tests
    "model_gradient_check": Kind(None, ("facts",)),
}

RECORD_KEYS = ("id", "document", "cell", "kind")


def run_record(api, record: dict) -> list:
    """Run one record against ``api``; a list of :class:`GoldenResult` (one per check).

    An exception inside the run gives one ERROR result naming it.
    """
    head = dict(record=record["id"], document=record["document"], cell=record["cell"])
    try:
        rows = KINDS[record["kind"]].run(api, record, build_inputs(record, api))
    except Exception as exc:  # noqa: BLE001 - the api under test may raise anything
        return [GoldenResult(**head, check="*", status=ERROR,
                             message=f"{type(exc).__name__}: {exc}")]
    finally:
        done = getattr(api, "document_done", None)
        if done is not None:
            done()
    results = []
    for row in rows:
        check, error, threshold, message = row[:4]
        note = row[4] if len(row) > 4 else ""
        results.append(GoldenResult(**head, check=check, error=error, threshold=threshold,
                                    status=PASS if error < threshold or note else FAIL,
                                    message=message, note=note))
    return results


def run_golden(api, documents=None) -> list:
    """Run every runnable record of ``documents`` (default: all) against ``api``.

    api:       object exposing the functional API functions by name.
    documents: iterable of document names (``"hw3_rnn_lstm_checks"``, with or without
               ``.txt``/``.json``) or paths to fixture files; None for every file in
               :data:`GOLDEN_DIR`.

    Returns a list of :class:`GoldenResult`; records of kinds without a runner are skipped.
    """
    return [result for record in load_records(documents)
            if KINDS[record["kind"]].run is not None
            for result in run_record(api, record)]


# ---- loading and validation -----------------------------------------------------

def fixture_paths(documents=None) -> list:
    """Fixture files for ``documents`` (see :func:`run_golden`)."""
    if documents is None:
        paths = sorted(GOLDEN_DIR.glob("*.json"))
        if not paths:
            raise GoldenFixtureError(f"{GOLDEN_DIR}: no golden fixture files (*.json)")
        return paths
    paths = []
    for name in documents:
        path = Path(name)
        if path.suffix == ".json" and (path.exists() or path.parent != Path(".")):
            paths.append(path)
        else:
            paths.append(GOLDEN_DIR / f"{Path(path.name).stem}.json")
    return paths


def _require(where: str, mapping, keys, what: str) -> None:
    if not isinstance(mapping, dict):
        raise GoldenFixtureError(f"{where}: {what} must be a JSON object, got "
                                 f"{type(mapping).__name__}")
    missing = [key for key in keys if key not in mapping]
    if missing:
        raise GoldenFixtureError(f"{where}: {what} is missing key(s) {', '.join(missing)} "
                                 f"(has {', '.join(sorted(mapping)) or 'none'})")


def validate_record(record, where: str) -> None:
    """Raise :class:`GoldenFixtureError` (message starting with ``where``) if malformed."""
    _require(where, record, RECORD_KEYS, "record")
    where = f"{where} ({record['id']})"
    kind = KINDS.get(record["kind"])
    if kind is None:
        raise GoldenFixtureError(f"{where}: unknown kind {record['kind']!r}; expected one "
                                 f"of {', '.join(KINDS)}")
    _require(where, record, kind.keys, "record")
    if kind.run is None:
        return
    if record["op"] not in OPS:
        raise GoldenFixtureError(f"{where}: unknown op {record['op']!r}; expected one of "
                                 f"{', '.join(OPS)}")
    for i, spec in enumerate(record["inputs"]):
        _require(f"{where} input {i}", spec, ("name",), "input")
        builder = _builder(spec)
        if not builder:
            raise GoldenFixtureError(f"{where} input {spec['name']!r}: needs exactly one of "
                                     f"{', '.join(INPUT_BUILDERS)}")
        if INPUT_BUILDERS[builder][0] and "seed" not in record:
            raise GoldenFixtureError(f"{where} input {spec['name']!r}: a {builder} draw "
                                     "needs the record's seed")
    if not record["checks"]:
        raise GoldenFixtureError(f"{where}: checks is empty")
    names = [spec["name"] for spec in record["inputs"]]
    outputs = OPS[record["op"]].outputs
    for i, check in enumerate(record["checks"]):
        _require(f"{where} check {i}", check, kind.check_keys, "check")
        if check.get("metric", "rel_error") not in METRICS:
            raise GoldenFixtureError(f"{where} check {i}: unknown metric {check['metric']!r}; "
                                     f"expected one of {', '.join(METRICS)}")
        if check.get("output", outputs[0]) not in outputs:
            raise GoldenFixtureError(f"{where} check {i}: op {record['op']} has no output "
                                     f"{check['output']!r}; it has {', '.join(outputs)}")
        if "expected" in record and check["output"] not in record["expected"]:
            raise GoldenFixtureError(f"{where} check {i}: no expected value for "
                                     f"{check['output']!r}")
    refs = [*record.get("upstream", {}).values(),
            *(check["grad"] for check in record["checks"] if "grad" in check)]
    unknown = [name for name in refs if name not in names]
    if unknown:
        raise GoldenFixtureError(f"{where}: refers to {', '.join(map(repr, unknown))}, not "
                                 f"among its inputs ({', '.join(names)})")


def load_document(path) -> list:
    """The validated records of one fixture file; :class:`GoldenFixtureError` names it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GoldenFixtureError(f"{path}: golden fixture file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldenFixtureError(f"{path}: cannot read golden fixture: {exc}") from None
    except json.JSONDecodeError as exc:
        raise GoldenFixtureError(f"{path}: not valid JSON: {exc}") from None
    _require(str(path), data, ("document", "records"), "top level")
    if not isinstance(data["records"], list) or not data["records"]:
        raise GoldenFixtureError(f"{path}: 'records' must be a non-empty list")
    for i, record in enumerate(data["records"]):
        validate_record(record, f"{path}: record {i}")
    return data["records"]


def load_records(documents=None) -> list:
    """Records of every file for ``documents`` (see :func:`run_golden`), ids unique."""
    records, seen = [], {}
    for path in fixture_paths(documents):
        for record in load_document(path):
            if record["id"] in seen:
                raise GoldenFixtureError(f"{path}: record id {record['id']!r} already "
                                         f"used in {seen[record['id']]}")
            seen[record["id"]] = path
            records.append(record)
    return records


def format_results(results) -> str:
    """One line per result, failures first."""
    ordered = sorted(results, key=lambda r: r.passed)
    return "\n".join(r.describe() for r in ordered)
