"""The child: confines itself, loads the submission, serves functional-API calls.

Started by :class:`~torch_ref.verify.isolation.sandbox.Sandbox`, whose launcher
(:mod:`~torch_ref.verify.isolation.confine`) confines the process, calls
:func:`setup` (NumPy, the adapters and the loader; never the catalog, the torch
references or ``numpy_rnn``, which the sandbox does not even contain) and then
:func:`main`, which answers requests:

``load`` (import the module, build the adapter), ``call`` (one functional function),
``findings``, ``forget``, ``returned``, ``reuse``, ``ban``. The grader times every
request itself. Objects that cannot cross by value stay here behind handles.
"""
from __future__ import annotations

import builtins
import json
import os
import sys

import numpy as np

from torch_ref.verify.isolation import confine, protocol
from torch_ref.verify.loader import (
    CallGuard,
    FunctionTimeout,
    ModuleLoadError,
    load_module,
    user_location,
)

_MAX_HANDLES = 20000
_MAX_TRACKED = 64
_ADAPTERS: dict = {}  # found before confinement hides the package directory
_GOLDEN: dict = {}
_MEMORY: dict = {}


_MODULES: dict = {}
_SIGNATURES: dict = {}


class _NoTorch:
    """Refuses ``torch`` while the grader's modules load here (they work without it)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError("torch is not loaded in the sandbox", name=name)
        return None


def _load_grader_modules() -> None:
    """Import the adapters, the loaders and the document-cell runners without the
    reference: what they take from ``numpy_rnn`` (argument checks, numerical gradient
    helpers) is loaded from its files under stand-in packages, ``torch`` is refused
    (``torch_ref.layout`` works without it) and the comparison engine is a stand-in
    holding the status names. The stand-ins are removed before the submission runs."""
    import importlib.util
    import types

    spec = importlib.util.find_spec("numpy_rnn")
    core = os.path.join(list(spec.submodule_search_locations)[0], "core")
    stand_ins = {"numpy_rnn": types.ModuleType("numpy_rnn"),
                 "numpy_rnn.core": types.ModuleType("numpy_rnn.core")}
    for module in stand_ins.values():
        module.__path__ = []
    engine = types.ModuleType("torch_ref.compare.engine")
    engine.PASS, engine.FAIL, engine.ERROR, engine.WARN = "PASS", "FAIL", "ERROR", "WARN"
    stand_ins["torch_ref.compare.engine"] = engine
    # the adapters' table of functional signatures, computed by the grader from its
    # catalog (the catalog itself needs numpy_rnn); it stays: adapters read it
    catalog = types.ModuleType("torch_ref.catalog")
    table = {name: (tuple(sig[0]), tuple(sig[1])) for name, sig in _SIGNATURES.items()}
    catalog.functional_signatures = lambda: dict(table)
    sys.modules["torch_ref.catalog"] = catalog
    sys.modules.update(stand_ins)
    refuse = _NoTorch()
    sys.meta_path.insert(0, refuse)
    try:
        for name in ("validation", "gradcheck"):
            file_spec = importlib.util.spec_from_file_location(
                f"numpy_rnn.core.{name}", os.path.join(core, f"{name}.py"))
            module = importlib.util.module_from_spec(file_spec)
            sys.modules[file_spec.name] = module
            file_spec.loader.exec_module(module)
            setattr(stand_ins["numpy_rnn.core"], name, module)
        try:  # notebooks are read with it; its imports read files confinement hides
            import nbformat  # noqa: F401
        except ImportError:
            pass
        from torch_ref.verify import adapters, detect, handout, notebook
        from torch_ref.verify.adapters.base import FUNCTIONAL

        _MODULES["FUNCTIONAL"] = FUNCTIONAL
        from torch_ref.verify.shims import course_helpers

        _MODULES.update(detect=detect, handout=handout, notebook=notebook,
                        course_helpers=course_helpers)
        _ADAPTERS.update(adapters.available())
        # document cells run from the grader, call by call: their runners need the
        # catalog, which needs numpy_rnn
        _GOLDEN["module"] = None
    finally:
        sys.meta_path.remove(refuse)
        for name in (*stand_ins, "numpy_rnn.core.validation", "numpy_rnn.core.gradcheck"):
            sys.modules.pop(name, None)


class _Output:
    """Where the user's printing goes: straight to fd 1 (a pipe the parent caps)."""

    def write(self, text):
        data = str(text).encode("utf-8", "replace")
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(1, view):]
            except InterruptedError:
                continue
            except OSError:
                break
        return len(text)

    def flush(self):
        pass

    def getvalue(self):
        return ""


class _Channel:
    def __init__(self, fd_in: int, fd_out: int):
        self.fd_in, self.fd_out = fd_in, fd_out
        self.buffer = bytearray()

    def send(self, header: dict, blobs=()) -> None:
        view = memoryview(protocol.pack(header, blobs))
        while view:
            try:
                view = view[os.write(self.fd_out, view):]
            except InterruptedError:
                continue

    def receive(self):
        while True:
            frame = protocol.unpack(self.buffer)
            if frame is not None:
                return frame
            try:
                chunk = os.read(self.fd_in, 1 << 20)
            except InterruptedError:
                continue
            if not chunk:
                os._exit(0)  # the grader is gone
            self.buffer += chunk


class _Guard(CallGuard):
    """The loader's guard, announcing each call and refusing banned functions."""

    def __init__(self, timeout, channel: _Channel, banned: dict):
        super().__init__(timeout)
        self.channel, self.banned = channel, dict(banned)
        self.output = _Output()

    def run(self, name, fn, /, *args, **kwargs):
        if name in self.banned and name not in self.hung:
            refused = FunctionTimeout(f"{name} {self.banned[name]} in an earlier call; "
                                      f"not called again")
            refused.verify_function, refused.verify_location = name, ""
            self.last_error = refused
            raise refused
        return super().run(name, fn, *args, **kwargs)


def _exception_facts(exc: BaseException, guard) -> dict:
    """What the parent needs to rebuild ``exc`` for its report (all plain data)."""
    def text(value, limit=4000):
        try:
            return str(value)[:limit]
        except BaseException:  # noqa: BLE001 - a hostile __str__
            return "?"

    facts = {"type": text(type(exc).__name__, 100), "message": text(exc),
             "function": getattr(exc, "verify_function", None),
             "guarded": exc is getattr(guard, "last_error", None), "kind": "other"}
    if not isinstance(facts["function"], str):
        facts["function"] = None
    name = getattr(exc, "name", None) if isinstance(exc, (NameError, AttributeError)) else None
    if isinstance(name, str):
        facts["name"] = name[:200]
    if getattr(exc, "returned_none", False) is True:
        facts["returned_none"] = True
    try:
        facts["location"] = text(user_location(exc), 1000)
    except BaseException:  # noqa: BLE001
        facts["location"] = "?"
    if isinstance(exc, FunctionTimeout):
        facts["kind"] = "timeout"
    elif isinstance(exc, FloatingPointError):
        facts["kind"] = "fpe"
    elif type(exc).__name__ == "ApiMismatch":
        facts["kind"] = "api"
    elif isinstance(exc, SystemExit):
        facts["kind"] = "exit"
        facts["code"] = exc.code if type(exc.code) in (int, str, type(None)) else text(exc.code)
    elif isinstance(exc, MemoryError):
        limit = _MEMORY.get("limit")
        facts["message"] = (f"exceeded {limit / (1 << 30):g} GiB of memory, the limit"
                            if limit else "ran out of memory") + (
            f" ({facts['message']})" if facts["message"] else "")
        facts["kind"] = "builtin"
    elif type(exc) is getattr(builtins, facts["type"], None):
        facts["kind"] = "builtin"
    return facts


class _Flags:
    """Floating-point flags raised in a run whose caller records them (``call`` mode):
    the first of each kind, with the user function and the user's ``file:line``."""

    def __init__(self, guard):
        self.guard, self.seen = guard, {}

    def __call__(self, kind, flag):
        if kind not in self.seen:
            import traceback

            from torch_ref.verify.loader import user_location_of_stack

            self.seen[kind] = (getattr(self.guard, "current", None) or "",
                               user_location_of_stack(traceback.extract_stack()[:-1]))

    def as_list(self) -> list:
        return [[str(k), str(f), str(w)] for k, (f, w) in self.seen.items()]


def _errstate(header, flags) -> dict:
    """The caller's floating-point error handling (``np.errstate`` arguments); its
    ``call`` mode records into ``flags``."""
    given = header.get("errstate", {})
    if not isinstance(given, dict):
        return {}
    modes = {k: v for k, v in given.items() if k in ("over", "invalid", "divide", "under")
             and v in ("ignore", "warn", "raise", "call", "print", "log")}
    if "call" in modes.values():
        modes["call"] = flags
    return modes


class Server:
    """The state of one child: the adapter, its API object, handles, tracked arrays."""

    def __init__(self, channel: _Channel, confinement: str, blocker):
        self.channel, self.confinement, self.blocker = channel, confinement, blocker
        self.adapter = self.api = self.guard = None
        self.handles: dict = {}
        self.tracked: dict = {}
        self._next = 0
        self._reuse = None
        self._helpers = None

    # ---- values ------------------------------------------------------------------

    def _handle(self, obj):
        if len(self.handles) >= _MAX_HANDLES:
            self.handles.clear()
        self._next += 1
        self.handles[self._next] = obj
        try:
            name = type(obj).__name__
            name = name if isinstance(name, str) else "object"
        except BaseException:  # noqa: BLE001
            name = "object"
        return self._next, name[:100]

    def _resolve(self, ident, _name):
        if ident not in self.handles:
            raise protocol.ProtocolError(f"no object {ident} here (forgotten)")
        return self.handles[ident]

    def _track(self, token, array):
        # arguments of the last calls only: a run of many calls (a numerical gradient)
        # must not compare thousands of old arguments after each call
        while len(self.tracked) >= _MAX_TRACKED:
            del self.tracked[next(iter(self.tracked))]
        self.tracked[token] = (array, array.tobytes())

    def _encode(self, value):
        encoder = protocol.Encoder(self._handle, containers=1)
        return encoder.encode(value), encoder.blobs

    def _changed(self, encoder) -> list:
        """``[token, tree]`` of every tracked argument changed since it was last seen."""
        changed = []
        for token, (array, before) in self.tracked.items():
            now = array.tobytes()
            if now != before:
                self.tracked[token] = (array, now)
                changed.append([token, encoder.encode(array)])
        return changed

    # ---- requests ------------------------------------------------------------------

    def serve(self) -> None:
        while True:
            header, blobs = self.channel.receive()
            op = header.get("op")
            handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
            if handler is None:
                self.channel.send({"ok": False, "protocol": f"unknown request {op!r}"})
                continue
            try:
                reply, out = handler(header, blobs)
            except protocol.ProtocolError as exc:
                reply, out = {"ok": False, "protocol": str(exc)}, []
            except BaseException as exc:  # noqa: BLE001 - the user's code may raise anything
                reply = {"ok": False, "error": _exception_facts(exc, self.guard)}
                encoder = protocol.Encoder(self._handle)
                reply["changed"], out = self._changed(encoder), encoder.blobs
                if self.api is not None and header.get("op") == "call":
                    try:
                        reply.update(self._taken(encoder))
                    except BaseException:  # noqa: BLE001 - the user's objects may raise
                        pass
            reply["hung"] = dict(self.guard.hung) if self.guard is not None else {}
            reply["blocked"] = list(self.blocker.attempts) if self.blocker else []
            self.channel.send(reply, out)

    def op_load(self, header, _blobs):
        """Import the module as ``verify --module`` does (a notebook, a handout root, a
        file or a dotted name, with the course helpers), and choose its API."""
        api = header.get("api")
        if api != "auto" and api not in _ADAPTERS:
            raise protocol.ProtocolError(f"unknown API {api!r}")
        chosen = None if api == "auto" else _ADAPTERS[api]
        candidates = [chosen] if chosen else list(_ADAPTERS.values())
        conventional = tuple(dict.fromkeys(f for c in candidates for f in c.conventional_files))
        if self._helpers is None:  # for the life of this process
            self._helpers = _MODULES["course_helpers"]([c.name for c in candidates])
            self._helpers.__enter__()
        self.guard = _Guard(header.get("timeout"), self.channel, header.get("banned", {}))
        self.guard.hung.update(header.get("hung", {}))
        target, path = header["target"], header.get("path")
        try:
            notebook, handout = _MODULES["notebook"], _MODULES["handout"]
            if handout.is_handout(target) and path is None:
                loaded = handout.load_handout(target, self.guard)
            else:
                from torch_ref.verify import loader

                chosen_file = target
                if os.path.isdir(target) and path is None and hasattr(loader,
                                                                      "file_in_directory"):
                    chosen_file = loader.file_in_directory(target, conventional)
                if notebook.is_notebook(chosen_file):
                    loaded = notebook.load_notebook(chosen_file, self.guard)
                else:
                    loaded = load_module(chosen_file, path, self.guard, conventional)
        except ModuleLoadError as exc:
            return {"ok": False, "load_error": str(exc)}, []
        detect = _MODULES["detect"]
        try:
            adapter_class = chosen or detect.choose(loaded.module, _ADAPTERS)
        except detect.Undecided as exc:
            return {"ok": False, "undecided": str(exc)}, []
        self.adapter = adapter_class(loaded.module, self.guard)
        present = {}
        for user, _optional in self.adapter.user_functions():
            found = bool(self.adapter.present(user))
            present[user] = [found, "" if found else str(self.adapter.absence_note(user))]
        runnable = {f: bool(self.adapter.runnable(f)) for f in self.adapter.BINDINGS}
        self.api = self.adapter.api()
        return {"ok": True, "api": adapter_class.name, "present": present,
                "golden": _GOLDEN.get("module") is not None,
                "runnable": runnable, "file": loaded.file,
                "confinement": self.confinement}, []

    def op_call(self, header, blobs):
        name = header["name"]
        if name not in _MODULES["FUNCTIONAL"] or self.api is None:
            raise protocol.ProtocolError(f"no functional function {name!r}")
        if header.get("forget"):
            self.api.forget()
            self.handles.clear()
            self.tracked.clear()
        args = protocol.decode(header["args"], blobs, self._resolve, self._track)
        kwargs = protocol.decode(header.get("kwargs", {"D": []}), blobs, self._resolve,
                                 self._track)
        if not isinstance(args, tuple) or not isinstance(kwargs, dict) or not all(
                isinstance(k, str) for k in kwargs):
            raise protocol.ProtocolError("call arguments of the wrong form")
        flags = _Flags(self.guard)
        with np.errstate(**_errstate(header, flags)):
            result = getattr(self.api, name)(*args, **kwargs)
        encoder = protocol.Encoder(self._handle, containers=1)
        tree = encoder.encode(result)
        return {"ok": True, "value": tree, "changed": self._changed(encoder),
                "flags": flags.as_list(), **self._taken(encoder)}, encoder.blobs

    def _taken(self, encoder) -> dict:
        """The findings and API variants of the calls so far (sent with every reply)."""
        found = [[str(f), str(a)] for f, a in self.api.take_findings()]
        take_variants = getattr(self.api, "take_variants", None)
        variants = [
            [str(option), str(name), str(function), encoder.encode(value), float(factor)]
            for option, name, function, value, factor in (
                take_variants() if take_variants is not None else [])]
        return {"findings": found, "variants": variants}

    def op_golden(self, header, _blobs):
        """One document cell (the record comes from the grader: the child cannot read
        the fixtures); the measured errors go back, the grader decides."""
        if _GOLDEN.get("module") is None or self.api is None:
            raise protocol.ProtocolError("document cells cannot run here")
        record = header.get("record")
        if not isinstance(record, dict):
            raise protocol.ProtocolError("a record that is not a dict")
        self.guard.last_error = None
        _GOLDEN["asked"] = []
        try:
            results = _GOLDEN["module"].run_record(self.api, record)
        finally:  # the cell's in-place findings and variants are not the next case's
            self.api.take_findings()
            if hasattr(self.api, "take_variants"):
                self.api.take_variants()
        last = self.guard.last_error
        rows = [[str(r.check), float(r.error), float(r.threshold), str(r.status),
                 str(r.message)] for r in results]
        encoder = protocol.Encoder(self._handle, containers=2)
        # what torch's second opinion needs; the grader asks torch itself
        asked = [encoder.encode(list(args)) for args in _GOLDEN["asked"][:1]]
        return {"ok": True, "rows": rows, "agreement": asked,
                "last_error": _exception_facts(last, self.guard) if last else None}, \
            encoder.blobs

    def op_findings(self, _header, _blobs):
        found = self.api.take_findings() if self.api is not None else []
        return {"ok": True, "findings": [[str(f), str(a)] for f, a in found]}, []

    def op_forget(self, _header, _blobs):
        if self.api is not None:
            self.api.forget()
        self.handles.clear()
        self.tracked.clear()
        return {"ok": True}, []

    def op_returned(self, header, _blobs):
        value = self.api.returned(header["functional"], header["output"])
        tree, out = self._encode(value)
        return {"ok": True, "value": tree}, out

    def op_returned_none(self, header, _blobs):
        returned_none = getattr(self.api, "returned_none", None)
        value = bool(returned_none and returned_none(header["functional"], header["output"]))
        return {"ok": True, "value": value}, []

    def op_reuse(self, header, _blobs):
        if header.get("on"):
            if self._reuse is None:
                self._reuse = self.adapter.reusing()
                self._reuse.__enter__()
        elif self._reuse is not None:
            reuse, self._reuse = self._reuse, None
            reuse.__exit__(None, None, None)
        return {"ok": True}, []

    def op_ban(self, header, _blobs):
        self.guard.banned.update({str(k): str(v) for k, v in header["banned"].items()})
        return {"ok": True}, []


def setup(config_text: str) -> None:
    """Start-up, run before the child says it is ready: NumPy and the grader's modules
    (adapters, loaders) are loaded while they are readable."""
    config = json.loads(config_text)
    sys.dont_write_bytecode = True
    _SIGNATURES.update(config.get("functional", {}))
    import numpy.random  # noqa: F401 - loaded lazily by NumPy; its files are read now
    _load_grader_modules()


def main(config_text: str) -> None:
    """Serve requests (the launcher, :mod:`~torch_ref.verify.isolation.confine`, has
    confined this process and run :func:`setup`)."""
    config = json.loads(config_text)
    channel = _Channel(config["fd_in"], config["fd_out"])
    _MEMORY["limit"] = config.get("memory")
    blocked = confine.BLOCKED_PACKAGES
    if config.get("allow_torch"):  # a course whose students compute in torch
        blocked = tuple(b for b in blocked if b != "torch")
    blocker = confine.block_imports(blocked)
    Server(channel, "", blocker).serve()
