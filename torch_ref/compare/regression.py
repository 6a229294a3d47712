"""Regression fixtures: today's NumPy outputs and gradients of every catalog case, frozen.

One pair of files per component in ``fixtures/regression/``:

``<component>.npz``   compressed arrays, loaded with ``allow_pickle=False``. For each case
                      (key ``label/dtype/seedN``) its array inputs and upstream gradients
                      (``<case>::input:x``, ``<case>::upstream:h``) and every output and
                      gradient (``<case>::dWx``).
``<component>.json``  the manifest: numpy and Python version that wrote the arrays, the
                      SHA-256 of the ``.npz``, and per case its dtype, seed, sizes and
                      description.

A check reruns the NumPy side on the *stored* inputs, so the fixtures pin the
numerical code, not the random generator's stream (which numpy does not promise
to keep). Only a deliberate regeneration (``python -m torch_ref fixtures --regen``
or ``pytest --force-regen``) writes them; it prints what changed.

Tolerance, by dtype: an element passes when
``|today - frozen| <= rtol * |frozen| + atol * max|frozen of that array|``, with
float64 ``rtol=1e-10, atol=1e-12`` and float32 ``rtol=1e-5, atol=1e-5``
(:data:`REGRESSION_TOLERANCE`). The ``atol`` term is relative to the array's
largest magnitude because that is how reordered sums err: an element that
cancels to near zero still carries rounding of the size of its terms.
Another BLAS kernel or numpy build moves results by a few ulp of that scale:
measured over numpy 1.26.4, 2.0.2, 2.2.6 and 2.4.6 (bit-identical to each other
on one CPU) and OpenBLAS core types Zen, Haswell, Sandybridge, Nehalem and
Prescott, at most 53 ulp (float64) and 21 ulp (float32), i.e. 0.0007x and
0.13x of the tolerance. A change in the mathematics moves results by far more:
a 1e-6 relative change fails in float64 (10^4 x rtol) and a 1e-4 relative change
in float32 (10 x rtol); float32 cannot resolve 1e-6 (8 ulp), which is noise there.
tests/test_regression.py proves both sides.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from torch_ref.compare.engine import array_errors
from torch_ref.tolerances import REGRESSION as REGRESSION_TOLERANCE

FORMAT = 1
_INPUT, _UPSTREAM = "input:", "upstream:"

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "regression"


class FixtureError(ValueError):
    """A fixture file is missing, unreadable, corrupt or truncated; the message names it."""


@dataclass
class Drift:
    """How one stored array compares with today's value.

    status: ``"identical"``, ``"within"`` (changed, inside tolerance), ``"beyond"``
    (changed beyond tolerance), ``"shape"``/``"dtype"`` (no longer comparable),
    ``"new"`` (no frozen value), ``"removed"`` (frozen value no longer produced),
    ``"error"`` (the NumPy run raised).
    """

    key: str
    status: str
    dtype: str = ""
    max_abs: float = 0.0
    max_rel: float = 0.0
    ulps: float = 0.0
    used: float = 0.0
    worst_index: tuple | None = None
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status not in ("identical", "within")

    def describe(self) -> str:
        if self.status in ("identical", "new", "removed", "error", "shape", "dtype"):
            return f"{self.key}: {self.status}" + (f" ({self.detail})" if self.detail else "")
        rtol, atol = REGRESSION_TOLERANCE.get(self.dtype, (float("nan"),) * 2)
        verdict = "BEYOND tolerance" if self.failed else "within tolerance"
        where = f", worst index {self.worst_index}" if self.worst_index else ""
        return (f"{self.key}: max abs {self.max_abs:.3g}, max rel {self.max_rel:.3g} "
                f"({self.ulps:.3g} ulp of the array's scale){where}; {verdict} "
                f"(used {self.used:.2g}x of {self.dtype} rtol {rtol:g}, "
                f"atol {atol:g} x max|frozen|)"
                + (f"; case {self.detail}" if self.detail else ""))


def catalog() -> dict:
    """The whole catalog (importing ``torch_ref.catalog`` registers every entry module)."""
    from torch_ref.catalog import CATALOG

    return CATALOG


def api_for(component):
    """The module whose functions ``component.run_numpy`` calls."""
    if component.scope == "functional":
        from numpy_rnn import functional

        return functional
    import numpy_rnn

    return numpy_rnn


def paths(directory, name: str) -> tuple:
    """``(npz path, manifest path)`` of component ``name`` under ``directory``."""
    directory = Path(directory)
    return directory / f"{name}.npz", directory / f"{name}.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _case_arrays(case) -> dict:
    arrays = {f"{case.key}::{_INPUT}{k}": v for k, v in case.inputs.items()
              if isinstance(v, np.ndarray)}
    arrays.update({f"{case.key}::{_UPSTREAM}{k}": v for k, v in case.upstream.items()
                   if isinstance(v, np.ndarray)})
    return arrays


def _case_entry(case) -> dict:
    return {"description": case.describe(), "dtype": case.dtype, "seed": case.seed,
            "sizes": {k: list(v) if isinstance(v, tuple) else v
                      for k, v in case.sizes.items()},
            "special": list(case.special)}


def compute(component, api=None) -> tuple:
    """Today's fixture content of ``component``: ``(arrays, manifest)``.

    Runs ``component.run_numpy`` on every case of the catalog (default seeds,
    both dtypes); ``api`` defaults to :func:`api_for`.
    """
    api = api if api is not None else api_for(component)
    arrays, cases = {}, {}
    for case in component.all_cases():
        run = component.run_numpy(api, case)
        arrays.update(_case_arrays(case))
        arrays.update({f"{case.key}::{k}": np.asarray(v) for k, v in run.tensors().items()})
        cases[case.key] = _case_entry(case)
    manifest = {"format": FORMAT, "component": component.name,
                "description": component.description, "numpy": np.__version__,
                "python": platform.python_version(), "cases": cases}
    return arrays, manifest


def load(directory, name: str) -> tuple:
    """The frozen ``(arrays, manifest)`` of component ``name``.

    Raises :class:`FixtureError` naming the file when either file is missing,
    truncated, corrupt, edited after it was written, or holds pickled objects.
    """
    npz_path, manifest_path = paths(directory, name)
    regen = "regenerate on purpose with: python -m torch_ref fixtures --regen"
    for path in (npz_path, manifest_path):
        if not path.is_file():
            raise FixtureError(f"regression fixture {path} is missing; {regen} --only {name}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        expected_sha = manifest["sha256"]
        if not isinstance(expected_sha, str):
            raise TypeError(f"'sha256' must be a hex string, got {expected_sha!r}")
        manifest["cases"].items()
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise FixtureError(f"regression manifest {manifest_path} is corrupt "
                           f"({type(exc).__name__}: {exc}); {regen}") from exc
    actual_sha = _sha256(npz_path)
    if actual_sha != expected_sha:
        raise FixtureError(f"regression fixture {npz_path} is corrupt or truncated: its SHA-256 "
                           f"{actual_sha[:12]}... is not the {expected_sha[:12]}... recorded in "
                           f"{manifest_path.name} ({npz_path.stat().st_size} bytes)")
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise FixtureError(f"regression fixture {npz_path} cannot be read "
                           f"({type(exc).__name__}: {exc}); {regen}") from exc
    return arrays, manifest


def write(directory, name: str, arrays: dict, manifest: dict) -> None:
    """Write the ``.npz`` and its manifest (with the ``.npz``'s checksum)."""
    npz_path, manifest_path = paths(directory, name)
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    with open(npz_path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    # header first, the per-case table last
    header = {k: v for k, v in manifest.items() if k not in ("sha256", "cases")}
    manifest = {**header, "sha256": _sha256(npz_path), "cases": manifest["cases"]}
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def array_drift(key: str, today, frozen, detail: str = "") -> Drift:
    """Compare one array with its frozen value under :data:`REGRESSION_TOLERANCE`."""
    today, frozen = np.asarray(today), np.asarray(frozen)
    dtype = str(frozen.dtype)
    if today.shape != frozen.shape:
        return Drift(key, "shape", dtype, detail=f"shape {today.shape}, frozen {frozen.shape}")
    if today.dtype != frozen.dtype:
        return Drift(key, "dtype", dtype, detail=f"dtype {today.dtype}, frozen {frozen.dtype}")
    if np.array_equal(today, frozen, equal_nan=frozen.dtype.kind in "fc"):
        return Drift(key, "identical", dtype)
    if frozen.dtype.kind not in "fc":  # indices, masks: any change is a real change
        return Drift(key, "beyond", dtype, max_abs=float("inf"), max_rel=float("inf"),
                     ulps=float("inf"), used=float("inf"), detail=detail)
    rtol, atol = REGRESSION_TOLERANCE[dtype]
    magnitude = np.abs(frozen.astype(np.float64))
    scale = float(magnitude.max())
    # subnormal differences count as zero (an all-zero array has no other scale)
    atol = max(atol * scale, float(np.finfo(frozen.dtype).tiny))
    ok, max_abs, max_rel, worst = array_errors(today, frozen, rtol, atol)
    used = float(np.max(np.abs(today.astype(np.float64) - frozen) / (atol + rtol * magnitude)))
    ulps = max_abs / float(np.spacing(frozen.dtype.type(scale)))
    return Drift(key, "within" if ok else "beyond", dtype, max_abs, max_rel, ulps, used,
                 worst if frozen.ndim else None, detail)


def _case_from_fixture(case, arrays: dict):
    """``case`` with its array inputs and upstream gradients replaced by the frozen ones."""
    def frozen(prefix, current):
        return {k: arrays.get(f"{case.key}::{prefix}{k}", v) for k, v in current.items()}
    return dataclasses.replace(case, inputs=frozen(_INPUT, case.inputs),
                               upstream=frozen(_UPSTREAM, case.upstream))


def check(component, directory=DEFAULT_DIR, api=None) -> list:
    """Every :class:`Drift` of ``component`` against its fixture (one per stored array).

    Today's results come from running ``component.run_numpy`` on the stored
    inputs. Raises :class:`FixtureError` when the fixture cannot be read.
    """
    arrays, manifest = load(directory, component.name)
    return compare_with(component, arrays, manifest, api)


def compare_with(component, arrays: dict, manifest: dict, api=None) -> list:
    """:func:`check` against fixture content already in memory (``load``'s result)."""
    api = api if api is not None else api_for(component)
    drifts = []
    catalog_keys = set()
    for case in component.all_cases():
        catalog_keys.add(case.key)
        if case.key not in manifest["cases"]:
            drifts.append(Drift(f"{case.key}", "new", case.dtype,
                                detail="case not in the fixture"))
            continue
        frozen_case = _case_from_fixture(case, arrays)
        try:
            run = component.run_numpy(api, frozen_case)
        except Exception as exc:  # report it per case; other cases still run
            drifts.append(Drift(case.key, "error", case.dtype,
                                detail=f"{type(exc).__name__}: {exc}"))
            continue
        today = run.tensors()
        prefix = f"{case.key}::"
        stored = {k[len(prefix):] for k in arrays if k.startswith(prefix)
                  and not k[len(prefix):].startswith((_INPUT, _UPSTREAM))}
        for name in sorted(set(today) | stored):
            key = f"{prefix}{name}"
            if name not in stored:
                drifts.append(Drift(key, "new", case.dtype, detail="not in the fixture"))
            elif name not in today:
                drifts.append(Drift(key, "removed", case.dtype, detail="no longer produced"))
            else:
                drifts.append(array_drift(key, today[name], arrays[key], case.describe()))
    for key in sorted(set(manifest["cases"]) - catalog_keys):
        drifts.append(Drift(key, "removed", detail="case no longer in the catalog"))
    return drifts


def summarize(name: str, drifts: list, path=None) -> str:
    """One line per component plus one per drifted array, worst first."""
    changed = [d for d in drifts if d.status != "identical"]
    failed = [d for d in drifts if d.failed]
    head = (f"{name}: {len(drifts)} arrays, {len(drifts) - len(changed)} identical, "
            f"{len(changed) - len(failed)} within tolerance, {len(failed)} beyond it"
            + (f" ({path})" if path else ""))
    order = sorted(changed, key=lambda d: (not d.failed, -d.used))
    return "\n".join([head] + [f"  {d.describe()}" for d in order])


def worst_by_dtype(drifts: list) -> dict:
    """``{dtype: (max ulp, max fraction of the tolerance used)}`` over the drifted arrays."""
    worst = {}
    for d in drifts:
        if d.status in ("within", "beyond"):
            ulp, used = worst.get(d.dtype, (0.0, 0.0))
            worst[d.dtype] = (max(ulp, d.ulps), max(used, d.used))
    return worst


def regenerate(component, directory=DEFAULT_DIR, api=None) -> tuple:
    """Rewrite ``component``'s fixture from today's catalog run; ``(rewritten, report)``.

    Files whose arrays are bit-for-bit the same are left alone (their manifest
    keeps the numpy version that first wrote them). The report lists every
    array that changed, how much, and whether that was beyond tolerance.
    """
    arrays, manifest = compute(component, api)
    npz_path, _ = paths(directory, component.name)
    try:
        old_arrays, old_manifest = load(directory, component.name)
    except FixtureError as exc:
        before = "new" if not npz_path.exists() else f"replaces an unreadable one: {exc}"
        write(directory, component.name, arrays, manifest)
        return True, f"{component.name}: written {npz_path} ({len(arrays)} arrays; {before})"
    drifts = [array_drift(key, arrays[key], old_arrays[key]) if key in old_arrays
              else Drift(key, "new") for key in sorted(arrays)]
    drifts += [Drift(key, "removed") for key in sorted(set(old_arrays) - set(arrays))]
    same_cases = {k: v for k, v in old_manifest["cases"].items()} == manifest["cases"]
    if all(d.status == "identical" for d in drifts) and same_cases \
            and old_manifest.get("description") == manifest["description"]:
        return False, f"{component.name}: unchanged ({npz_path})"
    write(directory, component.name, arrays, manifest)
    return True, summarize(component.name, drifts, f"rewritten {npz_path}")
