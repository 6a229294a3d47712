"""The executor: loads the submission and performs the calls the grader names.

It decides nothing. Each request is one operation on the submission's objects, which
stay here behind handles (:class:`Server`):

==========  ===================================================================
``load``    import the resolved target (:mod:`torch_ref.verify.target`) with the
            course helpers named; reply: the module's handle and its inventory
``get``     an attribute of an object (``missing_ok``: say so instead of raising)
``set``     set an attribute;  ``getitem`` / ``setitem``: the same for ``obj[key]``
``write``   copy a value into the array held at ``obj.name`` / ``obj[key]``, in
            place, when it is an array of that shape (else say so)
``call``    call an object (``method``: an object's method) with arguments
``array``   the values of an array-like object (a tensor) as an array
``import``  a handle to a module (NumPy; torch when the course computes in it)
``forget``  drop every handle but those the grader keeps
==========  ===================================================================

Results cross by value where they are plain (arrays, numbers, strings, and the
containers of them up to the depth asked for) and as handles otherwise. With every
reply go two advisory facts the grader may warn about but never trusts for a
verdict: argument arrays changed in place since they arrived, and the floating-point
flags raised. The same :class:`Server` runs in-process for ``--in-process`` (see
:mod:`torch_ref.verify.isolation.client`), so both paths share every step.

:func:`setup` and :func:`main` are the sandboxed process (after the sandbox's launcher
has confined it): the first imports what the requests need, the second hides the
grader's modules from the submission and serves requests on the pipes it was given.
It imports nothing of the reference or the checker's verdicts.
"""
from __future__ import annotations

import builtins
import contextlib
import json
import os
import sys
import traceback
import types

import numpy as np

from torch_ref.verify.isolation import protocol
from torch_ref.verify.load import inventory, load
from torch_ref.verify.load.loader import (
    USER_ROOTS,
    CallGuard,
    FunctionTimeout,
    ModuleLoadError,
    definition_of,
    unload,
    user_location,
    user_location_of_stack,
)
from torch_ref.verify.load.poison import poison as _poison  # noqa: F401 - loaded early
from torch_ref.verify.load.shims import course_helpers

MAX_HANDLES = 50_000
# the arguments of the last calls are watched for in-place changes (a forward's arrays
# changed during its backward, through a cache, are among them)
TRACKED_CALLS = 8
MAX_TRACKED = 64
# the operations that run the submission's code on arrays it was given
_WATCHING = ("call", "method", "set", "setitem", "assign")
_FLAG_MODES = ("ignore", "warn", "raise", "call", "print", "log")


# ---- what a failure was, as plain data -----------------------------------------------

def _text(value, limit: int = 4000) -> str:
    try:
        return str(value)[:limit]
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return "?"


def _innermost_user_function(exc: BaseException):
    """``[file, first line, name]`` of the function whose frame raised, among the user's
    frames (for telling a template stub from a bug); None when unknown."""
    roots = tuple(os.path.abspath(r) + os.sep for r in USER_ROOTS)
    tb, found = exc.__traceback__, None
    while tb is not None:
        code = tb.tb_frame.f_code
        if os.path.abspath(code.co_filename).startswith(roots) or "[cell " in \
                code.co_filename:
            found = code
        tb = tb.tb_next
    if found is None:
        return None
    return [_text(found.co_filename, 1000), int(found.co_firstlineno), _text(found.co_name, 200)]


def exception_facts(exc: BaseException, callee=None, memory=None) -> dict:
    """What the grader needs to describe ``exc`` (all plain data)."""
    facts = {"type": _text(type(exc).__name__, 100), "message": _text(exc), "kind": "other"}
    name = getattr(exc, "name", None) if isinstance(exc, (NameError, AttributeError)) else None
    if isinstance(name, str):
        facts["name"] = name[:200]
    try:
        facts["where"] = _text(user_location(exc), 1000)
        function = _innermost_user_function(exc)
    except BaseException:  # noqa: BLE001
        facts["where"], function = "?", None
    if function is not None:
        facts["function"] = function
    if callee is not None:  # raised by the call itself (wrong arguments): its definition
        facts["definition"] = _text(definition_of(callee), 1000)
    if isinstance(exc, FunctionTimeout):
        facts["kind"] = "timeout"
    elif isinstance(exc, SystemExit):
        facts["kind"] = "exit"
        facts["code"] = exc.code if type(exc.code) in (int, str, type(None)) \
            else _text(exc.code)
    elif isinstance(exc, MemoryError):
        facts["kind"] = "memory"
        facts["limit"] = memory
    elif isinstance(exc, FloatingPointError):
        facts["kind"] = "floating-point"
    elif type(exc) is getattr(builtins, facts["type"], None):
        facts["kind"] = "builtin"
    return facts


class _Flags:
    """The first of each floating-point flag raised, with the user's ``file:line``."""

    def __init__(self):
        self.seen = {}

    def __call__(self, kind, flag):
        if kind not in self.seen:
            self.seen[kind] = user_location_of_stack(traceback.extract_stack()[:-1])

    def as_list(self) -> list:
        return [[_text(k, 100), _text(w, 1000)] for k, w in self.seen.items()]


def _errstate(given) -> dict:
    if not isinstance(given, dict):
        return {}
    return {k: v for k, v in given.items()
            if k in ("over", "invalid", "divide", "under") and v in _FLAG_MODES}


# ---- torch, where a course does not compute in it -----------------------------------

class TorchRefused(RuntimeError):
    """A submission of a NumPy course called torch."""


class _Refused:
    """What ``torch.anything`` is in a NumPy course: any use but looking it up raises."""

    def __init__(self, path: str, rule: str):
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_rule", rule)

    def __getattr__(self, name):
        return _Refused(f"{self._path}.{name}", self._rule)

    def _refuse(self, *args, **kwargs):
        raise TorchRefused(f"{self._path} was called: {self._rule}")

    __call__ = __getitem__ = __iter__ = __bool__ = __len__ = _refuse
    __add__ = __radd__ = __mul__ = __rmul__ = __matmul__ = __rmatmul__ = _refuse

    def __mro_entries__(self, bases):
        # ``class Model(nn.Module)`` still defines a class: what it inherits is refused
        # only when used
        return (object,)

    def __repr__(self):
        return f"<{self._path}: not available>"


class _TorchStubs:
    """A finder giving a stand-in for ``torch`` and its submodules: importing works, using
    them raises :class:`TorchRefused` naming the course's rule."""

    def __init__(self, rule: str):
        self.rule = rule

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] != "torch":
            return None
        import importlib.machinery

        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        rule = self.rule

        def __getattr__(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return _Refused(f"{spec.name}.{attr}", rule)
        module.__getattr__ = __getattr__
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


class _Blocker:
    """Refuses the grader's own packages to the submission, remembering who asked."""

    def __init__(self, blocked):
        self.blocked = tuple(blocked)
        self.attempts: list = []

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.blocked:
            if name not in self.attempts and len(self.attempts) < 100:
                self.attempts.append(name)
            raise ImportError(f"{name} is part of the grader (its reference implementation "
                              f"or the checker); the module under test cannot import it",
                              name=name)
        return None


# ---- the server -------------------------------------------------------------------------

class Server:
    """One submission's objects and the operations on them.

    guard: the :class:`CallGuard` every operation that may run the submission's code
    goes through (its time limit and captured output: in-process only; in the sandbox
    the grader times and captures). memory: the address-space limit, for messages.
    """

    def __init__(self, guard: CallGuard, memory=None):
        self.guard, self.memory = guard, memory
        self.objects: dict = {}
        self.ids: dict = {}
        self.kept: set = set()
        self.next = 0
        self.tracked: list = []
        self.calls = 0
        self.loaded = None
        self.helpers = None
        self.finders: list = []
        self.blocker = None

    # ---- handles ----------------------------------------------------------------------

    def _handle(self, obj):
        key = id(obj)
        ident = self.ids.get(key)
        if ident is None or self.objects.get(ident) is not obj:
            if len(self.objects) >= MAX_HANDLES:
                raise protocol.ProtocolError(f"more than {MAX_HANDLES} objects held")
            self.next += 1
            ident = self.next
            self.objects[ident] = obj
            self.ids[key] = ident
        try:
            name = _text(type(obj).__name__, 100)
        except BaseException:  # noqa: BLE001
            name = "object"
        return ident, name

    def _object(self, ident):
        if ident not in self.objects:
            raise protocol.ProtocolError(f"no object {ident} here (forgotten)")
        return self.objects[ident]

    def _is_tensor(self, obj) -> bool:
        torch = sys.modules.get("torch")
        tensor = getattr(torch, "Tensor", None) if torch is not None else None
        return isinstance(tensor, type) and isinstance(obj, tensor)

    def _tensor(self, obj):
        torch = sys.modules.get("torch")
        tensor = getattr(torch, "Tensor", None) if torch is not None else None
        if isinstance(tensor, type) and isinstance(obj, tensor):
            return protocol.plain_array(tensor.detach(obj).cpu().numpy())
        return None

    def _encode(self, value, spec, tensors: bool):
        convert = self._tensor if tensors else None
        if value is None:  # never a handle: the grader must see a missing return
            return {"n": 0}, []
        if spec == "A":  # containers crossing one level, the arrays in them as handles
            encoder = protocol.Encoder(self._handle, depth=1, arrays="handle")
            return encoder.encode(value), encoder.blobs
        if spec in ("ref", "a"):
            spec = [spec]
            value = [value]
            single = True
        else:
            single = False
        if isinstance(spec, list):
            if isinstance(value, (tuple, list)) and len(value) == len(spec) and all(
                    s in ("ref", "a") or type(s) is int for s in spec):
                encoder = protocol.Encoder(self._handle, tensor=convert)
                items = []
                for item, one in zip(tuple(value) if isinstance(value, tuple)
                                     else list.__iter__(value), spec, strict=True):
                    if item is not None and (one == "ref" or (one == "a" and (
                            isinstance(item, np.ndarray) or self._is_tensor(item)))):
                        ident, name = self._handle(item)
                        items.append({"h": ident, "t": name})
                    else:
                        encoder.depth = one if type(one) is int else 1
                        items.append(encoder.encode(item))
                if single:
                    return items[0], encoder.blobs
                return {"T" if type(value) is tuple else "L": items}, encoder.blobs
            spec = 1
        depth = spec if type(spec) is int and 0 <= spec <= protocol.MAX_DEPTH else 1
        encoder = protocol.Encoder(self._handle, depth=depth, tensor=convert)
        return encoder.encode(value), encoder.blobs

    # ---- arguments and in-place tracking -----------------------------------------------

    def _arguments(self, header, blobs, call: int):
        args = protocol.decode(header.get("args", {"T": []}), blobs, ref=self._object)
        kwargs = protocol.decode(header.get("kwargs", {"D": []}), blobs, ref=self._object)
        if not isinstance(args, tuple) or not isinstance(kwargs, dict) or not all(
                isinstance(k, str) for k in kwargs):
            raise protocol.ProtocolError("call arguments of the wrong form")
        labelled = [(str(i), a) for i, a in enumerate(args)] + \
            [(f"{k}=", v) for k, v in kwargs.items()]
        for label, value in labelled:
            nested = (list(enumerate(value)) if isinstance(value, (tuple, list)) else
                      list(value.items()) if isinstance(value, dict) else [])
            for item, array in [(label, value)] + [(f"{label}.{k}", v) for k, v in nested]:
                if type(array) is np.ndarray:
                    self._track(array, call, item)
        return args, kwargs

    def _track(self, array, call, label) -> None:
        self.tracked = [t for t in self.tracked if t[2] > call - TRACKED_CALLS][-MAX_TRACKED + 1:]
        self.tracked.append([array, array.tobytes(), call, label])

    def _changed(self) -> list:
        """``[[call, argument, call running when it changed], ...]`` for tracked arrays
        whose bytes changed since last seen."""
        changed = []
        for entry in self.tracked:
            array, before, call, label = entry
            now = array.tobytes()
            if now != before:
                entry[1] = now
                changed.append([call, label, self.calls])
        return changed

    # ---- requests -----------------------------------------------------------------------

    def serve_one(self, header: dict, blobs: list):
        """One request; ``(reply, blobs)``. Never raises for what the submission does."""
        op = header.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            return {"ok": False, "protocol": f"unknown request {str(op)[:50]!r}"}, []
        flags = _Flags()
        user = header.get("user") if isinstance(header.get("user"), str) else op
        try:
            modes = _errstate(header.get("errstate"))
            if "call" in modes.values():
                modes["call"] = flags
            with np.errstate(**modes):
                reply, out = handler(header, blobs, user)
        except protocol.ProtocolError as exc:
            reply, out = {"ok": False, "protocol": _text(exc, 500)}, []
        except BaseException as exc:  # noqa: BLE001 - the submission may raise anything
            reply = {"ok": False, "error": exception_facts(exc, getattr(exc, "_callee", None),
                                                           self.memory)}
            out = []
        reply["call"] = self.calls
        reply["flags"] = flags.as_list()
        try:
            reply["changed"] = self._changed() if op in _WATCHING else []
        except BaseException:  # noqa: BLE001
            reply["changed"] = []
        reply["blocked"] = list(self.blocker.attempts) if self.blocker else []
        return reply, out

    def _run(self, user, fn, *args, **kwargs):
        """``fn(*args, **kwargs)`` through the guard; a TypeError raised by the call itself
        (wrong arguments) notes the callee, whose definition is then the place to look."""
        try:
            return self.guard.run(user, fn, *args, **kwargs)
        except TypeError as exc:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            if tb is not None and tb.tb_frame.f_code in _CALLING_FRAMES:
                with contextlib.suppress(BaseException):
                    exc._callee = fn
            raise

    def op_load(self, header, _blobs, user):
        target = header.get("target")
        if not isinstance(target, dict) or not protocol.plain(target):
            raise protocol.ProtocolError("a target of the wrong form")
        if self.helpers is None:
            helpers = header.get("helpers", [])
            self.helpers = course_helpers([h for h in helpers if isinstance(h, str)])
            self.helpers.__enter__()
        try:
            self.loaded = load(target, self.guard)
        except ModuleLoadError as exc:
            return {"ok": True, "load_error": _text(exc)}, []
        ident, _ = self._handle(self.loaded.module)
        self.kept.add(ident)
        described = self.guard.run(user, inventory.describe, self.loaded)
        return {"ok": True, "module": ident, "inventory": described}, []

    def _fetch(self, value, header):
        tree, out = self._encode(value, header.get("fetch", 1), header.get("tensors") is True)
        return {"ok": True, "value": tree}, out

    def op_get(self, header, _blobs, user):
        obj, name = self._object(header.get("obj")), header.get("name")
        if not isinstance(name, str):
            raise protocol.ProtocolError("an attribute name that is not a string")
        try:
            value = self._run(user, getattr, obj, name)
        except AttributeError:
            if header.get("missing_ok") is True:
                return {"ok": True, "missing": True}, []
            raise
        return self._fetch(value, header)

    def op_set(self, header, blobs, user):
        obj, name = self._object(header.get("obj")), header.get("name")
        if not isinstance(name, str):
            raise protocol.ProtocolError("an attribute name that is not a string")
        self.calls += 1
        value = protocol.decode(header.get("value"), blobs, ref=self._object)
        if type(value) is np.ndarray:
            self._track(value, self.calls, "value")
        self._run(user, setattr, obj, name, value)
        return {"ok": True}, []

    def _key(self, header, blobs):
        key = protocol.decode(header.get("key"), blobs, ref=self._object)
        if type(key) not in (str, int, tuple):
            raise protocol.ProtocolError("a key that is not a string, int or tuple")
        return key

    def op_getitem(self, header, blobs, user):
        obj, key = self._object(header.get("obj")), self._key(header, blobs)
        try:
            value = self._run(user, lambda: obj[key])
        except (KeyError, IndexError, TypeError):
            if header.get("missing_ok") is True:
                return {"ok": True, "missing": True}, []
            raise
        return self._fetch(value, header)

    def op_setitem(self, header, blobs, user):
        obj, key = self._object(header.get("obj")), self._key(header, blobs)
        self.calls += 1
        value = protocol.decode(header.get("value"), blobs, ref=self._object)
        if type(value) is np.ndarray:
            self._track(value, self.calls, "value")

        def store():
            obj[key] = value
        self._run(user, store)
        return {"ok": True}, []

    def op_assign(self, header, blobs, user):
        """Give an object several attributes at once: ``names`` and ``values`` (a list);
        with ``write``, an attribute that already holds an array of the value's shape
        gets the value copied into it in place (the way an optimiser updates weights)."""
        obj, names = self._object(header.get("obj")), header.get("names")
        values = protocol.decode(header.get("values"), blobs, ref=self._object)
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) \
                or not isinstance(values, list) or len(values) != len(names):
            raise protocol.ProtocolError("names and values of the wrong form")
        self.calls += 1
        written = []
        for name, value in zip(names, values, strict=True):
            if type(value) is np.ndarray:
                self._track(value, self.calls, name)
            current = self._run(user, getattr, obj, name, None) if header.get("write") else None
            if type(current) is np.ndarray and type(value) is np.ndarray \
                    and current.shape == value.shape and current.flags.writeable:
                current[...] = value
                written.append(name)
            else:
                self._run(user, setattr, obj, name, value)
        return {"ok": True, "written": written}, []

    def op_write(self, header, blobs, user):
        """``holder.name[...] = value`` (or ``holder[key][...]``) when that is an array of
        the value's shape that can be written; ``{"wrote": False}`` otherwise."""
        obj = self._object(header.get("obj"))
        value = protocol.decode(header.get("value"), blobs)
        if type(value) is not np.ndarray:
            raise protocol.ProtocolError("write takes an array")
        if "key" in header:
            key = self._key(header, blobs)
            current = self._run(user, lambda: obj[key])
        else:
            current = self._run(user, getattr, obj, str(header.get("name")))
        if type(current) is not np.ndarray or current.shape != value.shape \
                or not current.flags.writeable:
            return {"ok": True, "wrote": False}, []
        current[...] = value
        return {"ok": True, "wrote": True}, []

    def op_call(self, header, blobs, user):
        self.calls += 1
        fn = protocol.decode(header.get("fn"), blobs, ref=self._object)
        args, kwargs = self._arguments(header, blobs, self.calls)
        result = self._run(user, fn, *args, **kwargs)
        tree, out = self._encode(result, header.get("returns", 1),
                                 header.get("tensors") is True)
        return {"ok": True, "value": tree}, out

    def op_method(self, header, blobs, user):
        obj, name = self._object(header.get("obj")), header.get("name")
        if not isinstance(name, str):
            raise protocol.ProtocolError("a method name that is not a string")
        self.calls += 1
        args, kwargs = self._arguments(header, blobs, self.calls)
        bound = self._run(user, getattr, obj, name)
        result = self._run(user, bound, *args, **kwargs)
        tree, out = self._encode(result, header.get("returns", 1),
                                 header.get("tensors") is True)
        return {"ok": True, "value": tree}, out

    def op_array(self, header, _blobs, user):
        """The values of an array, a tensor (tagged as one) or an array-like object."""
        obj = self._object(header.get("obj"))
        encoder = protocol.Encoder(None, tensor=self._tensor)
        if self._tensor(obj) is None:
            obj = protocol.plain_array(self._run(user, np.asarray, obj))
            if obj is None:
                return {"ok": True, "value": {"n": 0}}, []
        return {"ok": True, "value": encoder.encode(obj)}, encoder.blobs

    def op_read(self, header, _blobs, _user):
        """The current values of objects held here (each as ``get`` would fetch it): what
        the module's arrays hold now, after the calls made since they were returned."""
        objs = header.get("objs")
        if not isinstance(objs, list) or len(objs) > protocol.MAX_ITEMS:
            raise protocol.ProtocolError("a list of objects to read of the wrong form")
        items = [self._object(ident) for ident in objs]
        tree, out = self._encode(items, 2, True)
        return {"ok": True, "value": tree}, out

    def op_import(self, header, _blobs, user):
        import importlib

        name = header.get("name")
        if not isinstance(name, str) or not all(p.isidentifier() for p in name.split(".")):
            raise protocol.ProtocolError("a module name of the wrong form")
        module = self._run(user, importlib.import_module, name)
        ident, _ = self._handle(module)
        self.kept.add(ident)
        return {"ok": True, "value": {"h": ident, "t": "module"}}, []

    def op_poison(self, header, _blobs, _user):
        """Leave NaN-filled buffers of these shapes for ``np.empty`` to hand out next (see
        :func:`torch_ref.verify.adapters.course.poison`)."""
        shapes, dtypes = header.get("shapes"), header.get("dtypes")
        if not isinstance(shapes, list) or not isinstance(dtypes, list) or len(shapes) > 8 \
                or not all(isinstance(s, list) and len(s) <= 4 and all(
                    type(n) is int and 0 <= n <= 4096 for n in s) for s in shapes) \
                or not all(d in ("float64", "float32") for d in dtypes):
            raise protocol.ProtocolError("shapes and dtypes to poison of the wrong form")
        _poison(*(tuple(s) for s in shapes), dtypes=tuple(dtypes))
        return {"ok": True}, []

    def op_forget(self, header, _blobs, _user):
        keep = header.get("keep", [])
        if not isinstance(keep, list) or not all(type(k) is int for k in keep):
            raise protocol.ProtocolError("a list of handles to keep of the wrong form")
        kept = self.kept | set(keep)
        self.objects = {k: v for k, v in self.objects.items() if k in kept}
        self.ids = {id(v): k for k, v in self.objects.items()}
        self.tracked.clear()
        return {"ok": True}, []

    # ---- in-process life cycle ------------------------------------------------------------

    def adopt(self, module) -> dict:
        """Serve an already imported module object (in-process use); its reply as
        ``load`` gives it."""
        from torch_ref.verify.load.loader import LoadedModule

        loaded = LoadedModule(module, getattr(module, "__name__", "module"), "",
                              getattr(module, "__file__", None))
        ident, _ = self._handle(module)
        self.kept.add(ident)
        return {"ok": True, "module": ident, "inventory": inventory.describe(loaded)}

    def close(self) -> None:
        """Undo what loading did to this process (in-process use)."""
        if self.loaded is not None:
            unload(self.loaded)
            self.loaded = None
        if self.helpers is not None:
            self.helpers.__exit__(None, None, None)
            self.helpers = None
        self.objects.clear()
        self.ids.clear()


# the frames that call into the submission: an exception raised there is the call's own
_CALLING_FRAMES = {CallGuard.run.__code__}


# ---- the sandboxed process -------------------------------------------------------------

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


class _Unguarded(CallGuard):
    """The guard in the sandbox: the grader times each request and captures output."""

    def __init__(self):
        super().__init__(None)

    def run(self, name, fn, /, *args, **kwargs):
        return fn(*args, **kwargs)


_CALLING_FRAMES.add(_Unguarded.run.__code__)


# the grader's packages the submission may never import
GRADER_PACKAGES = ("numpy_rnn", "torch_ref")


def setup(config_text: str) -> None:
    """Start-up, before the child says it is ready (its time is not a call's): what the
    requests use is imported while it is readable."""
    config = json.loads(config_text)
    sys.dont_write_bytecode = True
    import importlib  # noqa: F401 - what the requests use

    import numpy.random  # noqa: F401 - loaded lazily by NumPy; its files are read now

    from torch_ref.verify.load import handout, notebook  # noqa: F401

    try:  # notebooks are read with it
        import nbformat  # noqa: F401
    except ImportError:
        pass
    if config.get("allow_torch"):
        import torch  # noqa: F401 - the course computes in it


def main(config_text: str) -> None:
    """Serve one submission's requests on the pipes the sandbox gave this process (its
    launcher, :mod:`~torch_ref.verify.isolation.confine`, has confined it and run
    :func:`setup`); ``config_text``: JSON with the fds, the memory limit, whether torch
    is the course's (``allow_torch``) and the rule that refuses it otherwise."""
    config = json.loads(config_text)
    channel = _Channel(config["fd_in"], config["fd_out"])
    server = Server(_Unguarded(), config.get("memory"))
    if not config.get("allow_torch"):
        sys.meta_path.insert(0, _TorchStubs(str(config.get("torch_rule", ""))))
    # the submission finds the grader's own modules neither loaded nor importable
    for name in [n for n in sys.modules if n.split(".")[0] in GRADER_PACKAGES]:
        del sys.modules[name]
    server.blocker = _Blocker(GRADER_PACKAGES)
    sys.meta_path.insert(0, server.blocker)
    while True:
        header, blobs = channel.receive()
        reply, out = server.serve_one(header, blobs)
        for stream in (sys.stdout, sys.stderr):  # what it printed reaches the grader now
            with contextlib.suppress(BaseException):
                stream.flush()
        channel.send(reply, out)
