"""Running the checks of a module: the catalog cases, the reuse sequences and the cells
of the course's own documents, each call chosen here and made through the adapter.

:func:`check_adapter` is the whole run for one module: it selects the components
the adapter's API answers, runs every case of each (both seeds and dtypes the course
computes in), a reuse sequence on the same instances, and the document cells, then
turns the checks into verdicts (:mod:`torch_ref.verify.verdict`) and a
:class:`~torch_ref.verify.report.Report`.
"""
from __future__ import annotations

import contextlib
import time

import numpy as np

from torch_ref.catalog import select_components
from torch_ref.status import ERROR, FAIL, MISSING, PASS, UNTESTED
from torch_ref.verify.report import Report
from torch_ref.verify.verdict import function_results

# seeds of the reuse sequence are offset from --seed so they differ from the catalog's
_REUSE_SEED_OFFSET = 100
_REUSE_CALLS = 3
# golden op -> the catalog component whose functions it exercises
_GOLDEN_COMPONENT = {"rnn_sequence_loss": "rnn", "lstm_sequence_loss": "lstm"}
_GOLDEN_NEEDS = {"rnn_sequence_loss": ("temporal_softmax_loss",),
                 "lstm_sequence_loss": ("temporal_softmax_loss",)}


class UsageError(Exception):
    """Bad arguments or an unimportable module: exit status 2."""


# ---- selection ------------------------------------------------------------------------

@contextlib.contextmanager
def single_threaded_torch():
    """Torch on one thread inside the block: the reference runs are tiny, and on a busy
    machine a thread pool makes each of them 100x slower."""
    try:
        import torch
    except ImportError:  # pragma: no cover - the reference runs need torch anyway
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def _caller_random_state():
    """The global NumPy random state as it was before the block (user constructors draw
    from it; the caller's random stream must not depend on having run ``verify``)."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)


_CASES: dict = {}


def catalog_cases(component, seeds, dtypes) -> list:
    """``component.all_cases(seeds, dtypes)`` as a list, drawn once per process.

    The cases are deterministic, and every run copies their arrays before using them.
    """
    key = (component.name, tuple(seeds), tuple(dtypes))
    if key not in _CASES:
        if len(_CASES) > 256:
            _CASES.clear()
        _CASES[key] = list(component.all_cases(seeds=seeds, dtypes=dtypes))
    return _CASES[key]


def run_checks(components, api_for, seeds, dtypes, on_case=None, name_of=None,
               strict_dtype=True, keep=None, explain=None, adapt=None) -> list:
    """Every tensor check of every case of ``components``.

    ``api_for(component)`` returns the object whose functions the NumPy run calls;
    ``keep(component, case)``, when given, says which cases to run, and
    ``adapt(component, case)`` what each becomes for the API (its reference too).
    """
    from torch_ref.compare.engine import check_case

    checks = []
    for component in components:
        api = api_for(component)
        for case in catalog_cases(component, seeds, dtypes):
            if keep is not None and not keep(component, case):
                continue
            if adapt is not None:
                case = adapt(component, case)
            result = check_case(component, api, case, name_of=name_of,
                                strict_dtype=strict_dtype,
                                **({"explain": explain} if explain else {}))
            checks.extend(result)
            if on_case is not None:
                on_case(component, case, result)
    return checks


def reuse_cases(component, seed: int, dtype: str = "float64") -> list:
    """Cases of one shape and dtype for a reuse sequence: the first case of each seed."""
    seeds = range(seed + _REUSE_SEED_OFFSET, seed + _REUSE_SEED_OFFSET + _REUSE_CALLS)
    return [next(iter(component.cases(dtype, s))) for s in seeds]


class _Hinter:
    """Adds a hint to the first failing check of each (function, tensor)."""

    def __init__(self):
        self.seen = set()

    def __call__(self, component, case, checks) -> None:
        from torch_ref.compare.engine import reference_run
        from torch_ref.compare.hints import hint

        for check in checks:
            key = (check.function, check.tensor)
            if check.passed or check.warned or key in self.seen:
                continue  # a warning (right values) keeps the hint for the first failure
            self.seen.add(key)
            if check.status == FAIL and check.actual is not None:
                outputs = reference_run(component, case).outputs
                check.hint = hint(check, component, case, is_output=check.tensor in outputs)


def _golden_checks(adapter, api, components, broken=frozenset()) -> list:
    """The document cells of the adapter's API, as checks of the user functions.

    broken: functional names that are missing, not implemented or raise in the
    catalog cases; a cell using one of them is not run (it would only repeat that).
    """
    from torch_ref.compare import golden
    from torch_ref.compare.engine import TensorCheck
    from torch_ref.verify.errors import describe

    if not adapter.golden_documents:
        return []
    by_name = {c.name: c for c in components}
    try:
        records = golden.load_records(adapter.golden_documents)
    except golden.GoldenFixtureError as exc:
        return [TensorCheck("golden", "-", "-", "golden fixtures", ERROR, message=str(exc))]
    checks = []
    for record in records:
        if golden.KINDS[record["kind"]].run is None:
            continue
        op = record["op"]
        component = by_name.get(_GOLDEN_COMPONENT.get(op, op))
        needs = _GOLDEN_NEEDS.get(op, ())
        if component is None or not adapter.runnable(component.functions[0]) or not all(
                f in adapter.BINDINGS and adapter.runnable(f) for f in needs):
            continue
        if broken & set(component.functions + needs):
            continue
        api.forget()
        try:
            # flags were judged on the catalog cases; here they would only print warnings
            with np.errstate(all="ignore"):
                results = golden.run_record(api, record)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - golden lets timeouts and exits out
            results = [golden.GoldenResult(record["id"], record["document"], record["cell"],
                                           "*", ERROR, message=describe(exc))]
        adapter.take_findings()
        adapter.take_flags()
        for result in results:
            checks.append(_golden_check(adapter, component, record, result))
    return checks


def _golden_check(adapter, component, record, result):
    from torch_ref.compare.engine import TensorCheck

    tensor = result.check.split("[")[0]
    functional = component.produced_by.get(tensor)
    if functional is None:
        forward_kinds = ("forward_values", "loss_value", "loss_sanity")
        functional = component.functions[0 if record["kind"] in forward_kinds else -1]
    function = adapter.user_name(functional, tensor)
    message, status = result.message, result.status
    if status == PASS and result.note:
        message = result.note
    if status == ERROR:
        raised = adapter.last_error
        if raised is not None:
            found = explain_for(adapter)(raised, function)
            function, status, message = found.function, found.status, found.message
        else:  # the cell's own code choked on what the module returned
            message = f"the document's check could not run on what the module returned: " \
                      f"{message}"
    elif status == FAIL:
        message = (f"error {result.error:.3e}, the document requires < {result.threshold:g}"
                   + (f" ({message})" if message else ""))
    return TensorCheck("golden", record["id"], result.check, function, status,
                       message=message,
                       case_description=f"{record['cell']} of {record['document']}",
                       special=("a check cell of the document",))



def explain_for(adapter):
    """``explain(exception, function)`` for the engine: the report's words for what
    stopped a call into ``adapter``'s module (a template stub's NameError told from a
    bug by the submission's source)."""
    from torch_ref.verify.errors import explain

    def explained(exc, function):
        return explain(exc, function, adapter.sources)
    return explained


def check_adapter(adapter, only=None, seed: int = 0, dtypes=("float64", "float32"),
                  reuse: bool = True, golden: bool = True, strict_dtype: bool = False,
                  target: str = "", strict: bool = False) -> Report:
    """Check the module behind ``adapter``; a :class:`Report`.

    Raises :class:`UsageError` for an unknown ``--only`` name.
    """
    from torch_ref.catalog import CATALOG
    from torch_ref.verify.adapters.course import course_names

    start = time.perf_counter()
    candidates = {n: c for n, c in CATALOG.items()
                  if c.scope == "functional" and adapter.supports(c)}
    aliases = {}
    for functional in adapter.BINDINGS:
        for user in adapter.user_functions_of(functional):
            aliases.setdefault(user, set()).add(functional)
            if "." in user:
                aliases.setdefault(user.split(".")[0], set()).add(functional)
    try:
        components = select_components(candidates, only, aliases=aliases)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    api = adapter.api()
    seeds = (seed, seed + 1, seed + 2)
    dtypes = tuple(d for d in dtypes if d in adapter.dtypes) or tuple(adapter.dtypes)
    with single_threaded_torch(), _caller_random_state():
        checks = _run_components(adapter, api, components, seeds, dtypes, reuse, golden,
                                 strict_dtype)
    course_names(adapter, checks)
    results = function_results(adapter, components, checks)
    ex = adapter.ex
    return Report(target, adapter.name, results, checks, seeds, tuple(dtypes),
                  ex.timeout, time.perf_counter() - start, ex.output, tuple(components),
                  strict, assumed=adapter.assumed(), confinement=ex.confinement,
                  blocked_imports=tuple(ex.blocked), adapter=adapter)


def _run_components(adapter, api, components, seeds, dtypes, reuse, golden,
                    strict_dtype) -> list:
    from torch_ref.compare.engine import check_reuse

    hinter = _Hinter()
    explain = explain_for(adapter)
    checks = []
    for component in components:
        if not adapter.runnable(component.functions[0]):
            continue
        checks += run_checks([component], lambda c: api, seeds, dtypes, on_case=hinter,
                             name_of=adapter.user_name, strict_dtype=strict_dtype,
                             keep=adapter.keeps, explain=explain, adapt=adapter.course_case)
        if reuse:
            dtype = "float64" if "float64" in dtypes else dtypes[0]
            cases = [adapter.course_case(component, c)
                     for c in reuse_cases(component, seeds[0], dtype)]
            checks += check_reuse(component, api, cases,
                                  name_of=adapter.user_name, strict_dtype=strict_dtype,
                                  on_case=hinter, explain=explain)
    if golden:
        checks += _golden_checks(adapter, api, components, _broken(adapter, components,
                                                                   checks))
    return checks


def _broken(adapter, components, checks) -> frozenset:
    """Functional names whose user function is missing, not implemented or raises."""
    statuses = {r.name: r.status for r in function_results(adapter, components, checks)}
    return frozenset(f for c in components for f in c.functions
                     if any(statuses.get(u) in (MISSING, ERROR, UNTESTED)
                            for u in adapter.user_functions_of(f)))


