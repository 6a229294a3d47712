"""The adapter and functional API of a module that lives in a child process.

:func:`verify_isolated` is :func:`torch_ref.verify.runner.verify_module` with the
module in a :class:`~torch_ref.verify.isolation.sandbox.Sandbox`: the catalog, the
torch references, the comparisons, the verdicts and the report stay in this
process; every call of the functional API (``rnn_forward(x, h0, Wx, Wh, b)``) is
sent to the child, which runs it through the real adapter on the real module.
Arrays and plain values come back by value, anything else (caches, layers) as a
:class:`RemoteHandle` that goes back to the child when passed to the next call.
Arrays the child changes in place are written back into the caller's arrays, so
in-place changes are reported as they are in one process.

A call that kills or hangs the child is an ERROR of the user function it was in;
that function is not called again (what needs it is then UNTESTED), and the run
goes on in a fresh child.
"""
from __future__ import annotations

import builtins
import contextlib
import io
import os
import threading
import time

import numpy as np

from torch_ref.verify.adapters.base import FUNCTIONAL, ApiMismatch
from torch_ref.verify.isolation import protocol
from torch_ref.verify.isolation.sandbox import (
    ChildFailure,
    Limits,
    Sandbox,
    SandboxUnavailable,
)
from torch_ref.verify.loader import FunctionTimeout, ModuleLoadError, dotted_name_of

_HANDLE_TYPES: dict = {}
# the grader's files the child imports (relative to the project root); nothing else of
# the project exists in its sandbox
CHILD_FILES = ("torch_ref/layout.py", "torch_ref/verify/loader.py",
               "torch_ref/verify/notebook.py", "torch_ref/verify/handout.py",
               "torch_ref/verify/detect.py", "torch_ref/verify/adapters",
               "torch_ref/verify/shims", "torch_ref/verify/isolation/child.py",
               "torch_ref/verify/isolation/protocol.py", "numpy_rnn/core/validation.py",
               "numpy_rnn/core/gradcheck.py")


def _signatures() -> dict:
    """The functional API's signatures (the child cannot load the catalog)."""
    from torch_ref.catalog import functional_signatures

    return {name: [list(sig[0]), list(sig[1])] for name, sig in functional_signatures().items()}


class RemoteHandle:
    """An object that stays in the child; its class is named after the object's type."""

    __slots__ = ("ident", "sandbox_run")

    def __init__(self, ident: int, sandbox_run: int):
        self.ident, self.sandbox_run = ident, sandbox_run

    def __repr__(self):
        return f"<{type(self).__name__} in the sandbox>"


def _handle_type(name: str) -> type:
    name = name if name.isidentifier() else "object"
    if name not in _HANDLE_TYPES:
        if len(_HANDLE_TYPES) > 1000:
            _HANDLE_TYPES.clear()
        _HANDLE_TYPES[name] = type(name, (RemoteHandle,), {"__slots__": ()})
    return _HANDLE_TYPES[name]


class RemoteException(Exception):
    """An exception raised in the child, rebuilt for the report (never re-run)."""


def rebuild_exception(facts: dict) -> BaseException:
    """An exception that the report describes as the child's original: same type
    name, message, user function and ``file:line``."""
    message = facts.get("message") if isinstance(facts.get("message"), str) else ""
    function = facts.get("function") if isinstance(facts.get("function"), str) else None
    kind, name = facts.get("kind"), facts.get("type")
    name = name if isinstance(name, str) and name.isidentifier() else "Exception"
    if kind == "timeout":
        exc = FunctionTimeout(message)
    elif kind == "fpe":
        exc = FloatingPointError(message)
    elif kind == "api":
        exc = ApiMismatch(function or "?", message)
    elif kind == "exit":
        code = facts.get("code")
        exc = SystemExit(code if type(code) in (int, str, type(None)) else None)
    else:
        builtin = getattr(builtins, name, None)
        if kind == "builtin" and isinstance(builtin, type) and issubclass(
                builtin, Exception) and builtin is not KeyError:
            exc = builtin(message)
        else:
            if name not in _HANDLE_TYPES:
                _HANDLE_TYPES[name] = type(name, (RemoteException,), {})
            cls = _HANDLE_TYPES[name]
            exc = cls(message) if isinstance(cls, type) and issubclass(
                cls, RemoteException) else RemoteException(message)
    if function is not None:
        exc.verify_function = function
    if isinstance(facts.get("name"), str) and isinstance(exc, (NameError, AttributeError)):
        exc.name = facts["name"]
    if facts.get("returned_none") is True:
        exc.returned_none = True
    location = facts.get("location")
    exc.verify_location = location if isinstance(location, str) and location != "?" else ""
    return exc


class _RemoteGuard:
    """What the runner reads of an adapter's guard: the time limit, the output, the
    last exception out of a user call."""

    def __init__(self, timeout, sandbox: Sandbox):
        self.timeout = timeout
        self.sandbox = sandbox
        self.last_error = None
        self.hung: dict = {}

    @property
    def output(self):
        return io.StringIO(self.sandbox.output.text())

    def close(self):
        pass


class Remote:
    """The module in its child: load, call, restart after a crash, bans."""

    def __init__(self, target, api_name, path, limits: Limits, hidden, root,
                 allow_torch: bool = False):
        self.target, self.api_name, self.path = target, api_name, path
        self.limits = limits
        self.root = root
        self.sandbox = Sandbox(limits, root, entry="torch_ref.verify.isolation.child:main",
                               setup="torch_ref.verify.isolation.child:setup",
                               child_files=CHILD_FILES,
                               child_config={"functional": _signatures()},
                               allow_torch=allow_torch, hidden=hidden)
        self.guard = _RemoteGuard(limits.timeout, self.sandbox)
        self.banned: dict = {}   # user function -> why it is not called again
        self.strikes: dict = {}  # user function -> crashes it caused
        self.tracked: dict = {}
        self.findings: list = []
        self.reusing = False
        self.dead_reason: str | None = None
        self.blocked: list = []
        self.info: dict = {}
        self.last_case: dict = {"returned": {}, "findings": [], "variants": [],
                                "returned_none": set()}
        self.forget_pending = False
        self.deadline = None if limits.budget is None else time.monotonic() + limits.budget
        self._next_token = 0

    # ---- life cycle ---------------------------------------------------------------

    def load(self) -> dict:
        """Start a child and import the module; the child's description of it.
        Raises :class:`ModuleLoadError`."""
        try:
            self.sandbox.start()
        except ChildFailure as exc:
            raise ModuleLoadError(f"its sandbox: {exc.reason}") from None
        except SandboxUnavailable as exc:
            raise ModuleLoadError(str(exc)) from None
        target, path = self.target, self.path
        if path is not None:
            path = self.sandbox.copy
        elif os.path.isabs(target):
            target = os.path.join(self.sandbox.copy, os.path.relpath(target, self.root))
        header = {"op": "load", "target": target, "path": path,
                  "api": self.api_name, "timeout": self.limits.timeout,
                  "banned": self.banned, "hung": self.guard.hung}
        try:
            reply, _ = self.sandbox.request(header, **self._limits(1))
            reply = self.unmap_all(reply)
        except ChildFailure as exc:
            name = os.path.basename(self.target)
            if exc.reason.startswith("killed after"):
                raise ModuleLoadError(f"importing {name} did not finish: {exc.reason}"
                                      f" (code at module level that never ends?)") from None
            raise ModuleLoadError(f"importing {name}: {exc.reason}") from None
        self._note(reply)
        if not reply.get("ok"):
            self.sandbox.close()
            if isinstance(reply.get("undecided"), str):
                raise Undecided(reply["undecided"])
            facts = reply.get("error")
            if isinstance(facts, dict):
                from torch_ref.verify.loader import describe_exception

                raise ModuleLoadError(f"loading it failed: "
                                      f"{describe_exception(self.rebuild(facts))}")
            raise ModuleLoadError(self.unmap(str(reply.get("load_error")
                                                 or reply.get("protocol")
                                                 or "the module could not be loaded")))
        if self.api_name == "auto" and isinstance(reply.get("api"), str):
            self.api_name = reply["api"]  # a restarted child loads it as that API
        self.info = reply
        if self.reusing:
            self._ask({"op": "reuse", "on": True})
        return reply

    def close(self):
        self.sandbox.close()

    def unmap(self, text: str) -> str:
        """``text`` with the child's copy of the submission named as the original."""
        copy = self.sandbox.copy
        return text.replace(copy, self.root) if copy and isinstance(text, str) else text

    def unmap_all(self, value):
        """:meth:`unmap` on every string of a reply header (messages name files)."""
        if isinstance(value, str):
            return self.unmap(value)
        if isinstance(value, dict):
            return {k: self.unmap_all(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.unmap_all(v) for v in value]
        return value

    def rebuild(self, facts: dict) -> BaseException:
        """:func:`rebuild_exception`, with the submission's own paths."""
        facts = {k: self.unmap(v) if isinstance(v, str) else v for k, v in facts.items()}
        return rebuild_exception(facts)

    def _note(self, reply: dict) -> None:
        hung = reply.get("hung")
        if isinstance(hung, dict):
            for name, seconds in hung.items():
                if isinstance(name, str) and type(seconds) in (int, float):
                    self.guard.hung[name] = seconds
        blocked = reply.get("blocked")
        if isinstance(blocked, list):
            for name in blocked:
                if isinstance(name, str) and name not in self.blocked:
                    self.blocked.append(name)

    def _ensure(self) -> None:
        if self.dead_reason is None and self.deadline is not None \
                and time.monotonic() > self.deadline:
            self.sandbox.close()
            self.dead_reason = f"not run: the module used up its time budget of " \
                               f"{self.limits.budget:g} s"
        if self.dead_reason is not None:
            raise ChildFailure(self.dead_reason, None, False)
        if self.sandbox.alive():
            return
        if self.sandbox.started > self.limits.restarts:
            self.dead_reason = (f"not run: the module's process had to be restarted "
                                f"{self.limits.restarts} times")
            raise ChildFailure(self.dead_reason, None, False)
        try:
            self.load()
        except ModuleLoadError as exc:
            self.dead_reason = f"not run: the module could not be loaded again ({exc})"
            raise ChildFailure(self.dead_reason, None, False) from None
        self.tracked.clear()

    def _limits(self, calls: int, exact: bool = True) -> dict:
        """The time limits of a request holding ``calls`` calls into user code: the
        per-call limits times ``calls`` (one second more per call when ``exact`` is
        False: a request whose number of calls is only bounded)."""
        timeout, cpu = self.limits.timeout, self.limits.cpu_limit
        slack = 0 if exact else 1
        return {"limit": None if timeout is None else (timeout + slack) * calls,
                "cpu": None if cpu is None else (cpu + slack) * calls,
                "deadline": self.deadline}

    def _ask(self, header: dict, blobs=(), calls_allowed: int = 2, exact: bool = False):
        reply, out = self.sandbox.request(header, blobs, **self._limits(calls_allowed, exact))
        reply = self.unmap_all(reply)
        self._note(reply)
        if "protocol" in reply:
            self.sandbox.close()
            raise ChildFailure(f"sent a malformed reply ({reply['protocol']})", None)
        return reply, out

    # ---- values -------------------------------------------------------------------

    def _token(self, array) -> int:
        while len(self.tracked) >= 64:  # the child tracks as many (the latest)
            del self.tracked[next(iter(self.tracked))]
        self._next_token += 1
        self.tracked[self._next_token] = array
        return self._next_token

    def _handle_of(self, value):
        if isinstance(value, RemoteHandle):
            if value.sandbox_run != self.sandbox.started:
                raise ChildFailure("an object of the module's earlier process (restarted "
                                   "since)", None, False)
            return value.ident, type(value).__name__
        raise TypeError(f"cannot send a {type(value).__name__} to the module's process")

    def _decode(self, tree, blobs):
        run = self.sandbox.started
        return protocol.decode(tree, blobs, lambda i, n: _handle_type(n)(i, run))

    def _write_back(self, changed, blobs) -> None:
        if not isinstance(changed, list):
            raise protocol.ProtocolError("a list of changed arrays that is not a list")
        for item in changed:
            if type(item) is not list or len(item) != 2 or type(item[0]) is not int:
                raise protocol.ProtocolError("a changed array of the wrong form")
            _copy_into(self.tracked.get(item[0]), self._decode(item[1], blobs))

    # ---- the functional API -------------------------------------------------------

    def call(self, functional: str, args: tuple, kwargs=None):
        """``functional(*args, **kwargs)`` in the child; its value, or the child's
        exception."""
        users = self._users_of(functional)
        refused = [u for u in users if self.strikes.get(u, 0) >= 2]
        if refused:  # the child did not honour the ban: do not even ask
            raise self._refusal(refused[0])
        try:
            self._ensure()
            encoder = protocol.Encoder(self._handle_of, self._token)
            tree = encoder.encode(tuple(args))
            options = encoder.encode(dict(kwargs or {}))
            header = {"op": "call", "name": functional, "args": tree, "kwargs": options,
                      "forget": self.forget_pending,
                      "errstate": {k: v for k, v in np.geterr().items()}}
            self.forget_pending = False
            reply, blobs = self._ask(header, encoder.blobs, calls_allowed=len(users),
                                     exact=True)
            self._write_back(reply.get("changed", []), blobs)
            _replay_flags(reply.get("flags", []), self.unmap)
            self._gather(reply, blobs)
            if reply.get("ok"):
                return self._decode(reply.get("value"), blobs)
            facts = reply.get("error")
            if not isinstance(facts, dict):
                raise protocol.ProtocolError("a failure without its exception")
        except protocol.ProtocolError as exc:
            self.sandbox.close()
            raise self._crashed(ChildFailure(f"sent a malformed reply ({exc})", None),
                                users) from None
        except ChildFailure as exc:
            raise self._crashed(exc, users) from None
        error = self.rebuild(facts)
        self.guard.last_error = error if facts.get("guarded") else None
        raise error

    def _gather(self, reply: dict, blobs) -> None:
        """Keep the findings and API variants the child sent with a reply."""
        found = reply.get("findings", [])
        if not isinstance(found, list):
            raise protocol.ProtocolError("findings that are not a list")
        self.last_case["findings"] += [tuple(x) for x in found if type(x) is list
                                       and len(x) == 2 and all(isinstance(v, str) for v in x)]
        for item in reply.get("variants", []):
            if (type(item) is not list or len(item) != 5
                    or not all(isinstance(v, str) for v in item[:3])
                    or type(item[4]) not in (int, float)):
                raise protocol.ProtocolError("a variant of the wrong form")
            self.last_case["variants"].append(
                (item[0], item[1], item[2], self._decode(item[3], blobs), float(item[4])))

    def _users_of(self, functional: str) -> tuple:
        return self.adapter_users.get(functional, (functional,))

    def _refusal(self, user: str):
        error = FunctionTimeout(f"{user} {self.banned.get(user, 'crashed')} in an earlier "
                                f"call; not called again")
        error.verify_function, error.verify_location = user, ""
        self.guard.last_error = error
        return error

    def _crashed(self, failure: ChildFailure, users) -> BaseException:
        function = failure.function or (users[0] if users else None)
        if failure.fatal_to_function and function is not None:
            self.banned.setdefault(function, failure.reason)
            self.strikes[function] = self.strikes.get(function, 0) + 1
        error = FunctionTimeout(failure.reason if not failure.fatal_to_function
                                else f"{function}: {failure.reason}; not called again")
        error.verify_function = function
        error.verify_location = ""
        self.guard.last_error = error
        return error

    def golden(self, record: dict) -> list:
        """One document cell run in the child: :class:`GoldenResult` rows whose verdicts
        are decided here, from the measured errors and the record's own thresholds."""
        from torch_ref.compare import golden
        from torch_ref.compare.golden import GoldenResult

        users = tuple(dict.fromkeys(u for us in self.adapter_users.values() for u in us))
        head = dict(record=record["id"], document=record["document"], cell=record["cell"])
        self.guard.last_error = None
        try:
            self._ensure()
            reply, blobs = self._ask({"op": "golden", "record": record}, calls_allowed=64)
            if not reply.get("ok"):
                facts = reply.get("error")
                if not isinstance(facts, dict):
                    raise protocol.ProtocolError("a failure without its exception")
                error = self.rebuild(facts)
                self.guard.last_error = error if facts.get("guarded") else None
                raise error
            rows, last = reply.get("rows"), reply.get("last_error")
            if not isinstance(rows, list):
                raise protocol.ProtocolError("document results that are not a list")
            if isinstance(last, dict):
                self.guard.last_error = self.rebuild(last)
            thresholds = set(_numbers_named(record, "threshold"))
            asked = reply.get("agreement", [])
            if not isinstance(asked, list):
                raise protocol.ProtocolError("a second-opinion request of the wrong form")
            agreement = None
            results = []
            for row in rows:
                if (type(row) is not list or len(row) != 5 or not isinstance(row[0], str)
                        or type(row[1]) not in (int, float) or type(row[2]) not in (int, float)
                        or not isinstance(row[4], str)):
                    raise protocol.ProtocolError("a document result of the wrong form")
                check, error, threshold, status, message = row
                message = self.unmap(message)
                if row[0] == "*" or status == "ERROR":
                    results.append(GoldenResult(**head, check=check, status="ERROR",
                                                message=message))
                    continue
                if threshold not in thresholds:
                    raise protocol.ProtocolError("a threshold the record does not hold")
                note = ""
                if not error < threshold and not message and asked:
                    if agreement is None:
                        agreement = self._agreement(record, asked[0], blobs)
                    verdict = agreement.get(check[1:]) if check.startswith("d") else None
                    if verdict is not None and verdict[0]:
                        note = golden.agreement_note(error, threshold, verdict)
                results.append(GoldenResult(**head, check=check, error=float(error),
                                            threshold=float(threshold),
                                            status="PASS" if error < threshold or note
                                            else "FAIL", message=message, note=note))
            return results
        except protocol.ProtocolError as exc:
            self.sandbox.close()
            raise self._crashed(ChildFailure(f"sent a malformed reply ({exc})", None),
                                users[:1]) from None
        except ChildFailure as exc:
            raise self._crashed(exc, users[:1]) from None

    def _agreement(self, record, tree, blobs) -> dict:
        """Torch's second opinion (:func:`torch_ref.compare.golden.torch_agreement`) on
        the inputs, outputs and gradients of the child's run of a document cell."""
        from torch_ref.compare import golden

        args = self._decode(tree, blobs)
        if (not isinstance(args, list) or len(args) != 3
                or not all(isinstance(a, dict) for a in args)):
            raise protocol.ProtocolError("a second-opinion request of the wrong form")
        return golden.torch_agreement(record, *args)

    def simple(self, header: dict):
        """A request outside user calls (findings, forget, ...); None when the child is
        gone (nothing to learn from a dead child)."""
        try:
            self._ensure()
            return self._ask(header)
        except (ChildFailure, protocol.ProtocolError):
            self.sandbox.close()
            return None


def _numbers_named(tree, key: str):
    """Every number stored under ``key`` anywhere in a JSON tree."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            if k == key and type(v) in (int, float):
                yield v
            else:
                yield from _numbers_named(v, key)
    elif isinstance(tree, list):
        for v in tree:
            yield from _numbers_named(v, key)


def _replay_flags(flags, unmap) -> None:
    """Tell the caller's floating-point recorder (``np.errstate(call=...)``) about the
    flags the child's run raised."""
    recorder = np.geterrcall()
    if recorder is None or not isinstance(flags, list):
        return
    for item in flags:
        if type(item) is not list or len(item) != 3 or not all(isinstance(v, str)
                                                                 for v in item):
            raise protocol.ProtocolError("a floating-point flag of the wrong form")
        kind, function, where = item
        if kind not in ("divide by zero", "overflow", "underflow", "invalid value"):
            continue
        seen = getattr(recorder, "flags", None)
        if isinstance(seen, dict):
            if kind not in seen:
                current = getattr(recorder, "current", None)
                seen[kind] = (function or (current() if callable(current) else ""),
                              unmap(where))
        elif callable(recorder):
            recorder(kind, 0)


def _copy_into(target, new) -> None:
    """Write what the child's copy of an argument became into the caller's array."""
    if not isinstance(new, np.ndarray):
        raise protocol.ProtocolError("a changed array that is not an array")
    if isinstance(target, np.ndarray) and target.shape == new.shape \
            and target.flags.writeable:
        with np.errstate(all="ignore"):
            np.copyto(target, new, casting="unsafe")


class RemoteApi:
    """The functional-API object of a module in a child (see :meth:`Adapter.api`)."""

    def __init__(self, remote: Remote, adapter):
        self._remote, self.adapter = remote, adapter

    def __getattr__(self, name):
        if name not in FUNCTIONAL:
            raise AttributeError(name)
        remote = self._remote

        def call(*args, **kwargs):
            return remote.call(name, args, kwargs)
        call.__name__ = name
        return call

    @contextlib.contextmanager
    def reusing(self):
        self._remote.reusing = True
        self._remote.simple({"op": "reuse", "on": True})
        try:
            yield
        finally:
            self._remote.reusing = False
            if self._remote.sandbox.alive():
                self._remote.simple({"op": "reuse", "on": False})

    def take_findings(self) -> list:
        """Arguments the calls so far changed in place (sent back with each reply)."""
        found, self._remote.last_case["findings"] = self._remote.last_case["findings"], []
        return found

    def forget(self) -> None:
        """Start a new case (told to the child with the next request)."""
        self._remote.tracked.clear()
        self._remote.last_case = {"returned": {}, "findings": [], "variants": [],
                                  "returned_none": set()}
        self._remote.forget_pending = True

    def take_variants(self) -> list:
        """What the last case's calls with another option of the API returned."""
        found, self._remote.last_case["variants"] = self._remote.last_case["variants"], []
        return found

    def returned_none(self, functional: str, output: str) -> bool:
        if not self._remote.sandbox.alive():
            return False
        answer = self._remote.simple({"op": "returned_none", "functional": functional,
                                      "output": output})
        return bool(answer is not None and answer[0].get("value") is True)

    def returned(self, functional: str, output: str):
        if not self._remote.sandbox.alive():
            return None
        answer = self._remote.simple({"op": "returned", "functional": functional,
                                      "output": output})
        if answer is None or not answer[0].get("ok"):
            return None
        try:
            return self._remote._decode(answer[0].get("value"), answer[1])
        except protocol.ProtocolError:
            return None

    @property
    def reuse_notes(self):
        return self.adapter.reuse_notes


class RemoteAdapterMixin:
    """Overrides the parts of an adapter that look at the module: answered from what
    the child reported when it loaded the module."""

    def present(self, user_function: str) -> bool:
        return bool(self.remote.info["present"].get(user_function, (False,))[0])

    def absence_note(self, user_function: str) -> str:
        note = self.remote.info["present"].get(user_function, (False, ""))[1]
        return str(note) or super().absence_note(user_function)

    def runnable(self, functional: str) -> bool:
        return bool(self.remote.info["runnable"].get(functional, False))

    def user_class(self, class_name: str):
        """A stand-in for a class the child found (any of its methods present), so that
        what an adapter derives from which classes exist (optional functions) is
        derived here, by the adapter's own rule, from what the child reported."""
        present = self.remote.info["present"]
        if any(name.split(".")[0] == class_name and found
               for name, (found, _) in present.items()):
            return type(class_name, (), {})
        return None

    def api(self):
        return RemoteApi(self.remote, self)

    def take_findings(self) -> list:
        return []


def _check_info(info: dict, remote: Remote) -> dict:
    """The child's load reply, checked: only the shapes the grader expects."""
    present, runnable = info.get("present"), info.get("runnable")
    if not isinstance(present, dict) or not isinstance(runnable, dict):
        raise ModuleLoadError("the module's process answered the load in the wrong form")
    info["present"] = {k: (bool(v[0]), remote.unmap(str(v[1])[:500]))
                       for k, v in present.items()
                       if isinstance(k, str) and isinstance(v, list) and len(v) == 2}
    info["runnable"] = {k: bool(v) for k, v in runnable.items() if isinstance(k, str)}
    return info


def remote_adapter(adapter_class, remote: Remote):
    """An instance of ``adapter_class`` (subclassed) whose module lives in ``remote``."""
    cls = type(f"Remote{adapter_class.__name__}", (RemoteAdapterMixin, adapter_class), {})
    adapter = cls(None, remote.guard)
    adapter.remote = remote
    remote.adapter_users = {f: adapter.user_functions_of(f) for f in adapter.BINDINGS}
    return adapter


class Undecided(Exception):
    """The child could not tell which API the module is written to (``--api auto``)."""


def resolve_target(target: str, path: str | None) -> tuple:
    """``(target, root)``: the module (an absolute path, or a dotted name) and the
    directory the child gets a copy of. The loaders in the child decide the rest
    (conventional files, notebooks, handouts) with their own messages.
    Raises :class:`ModuleLoadError` for what cannot be a module at all."""
    if path is not None:
        if (target.endswith(".py") or os.sep in target) and os.path.isfile(target):
            raise ModuleLoadError("--path goes with a dotted module name, not with a file")
        if not os.path.isdir(path):
            raise ModuleLoadError(f"--path {path}: no such directory")
        return target, os.path.abspath(path)
    if os.path.isdir(target):
        target = os.path.abspath(target)
        if os.path.isfile(os.path.join(target, "__init__.py")):
            try:
                return target, dotted_name_of(os.path.join(target, "__init__.py"))[0]
            except ModuleLoadError:
                pass
        return target, target
    if os.path.isfile(target):
        target = os.path.abspath(target)
        if target.endswith(".py"):
            try:
                return target, dotted_name_of(target)[0]
            except ModuleLoadError:
                pass
        return target, os.path.dirname(target)
    if target.endswith((".py", ".ipynb")) or os.sep in target:
        raise ModuleLoadError(f"{target}: no such file")
    return target, os.path.abspath(os.getcwd())  # a dotted name, from the current directory


def _torch_apis() -> dict:
    from torch_ref.verify import detect

    return {name: True for name, twin in getattr(detect, "_TORCH_TWINS", {}).items() if twin}


_TORCH_APIS = _torch_apis()


def _import_references() -> None:
    try:
        import torch_ref.catalog  # noqa: F401
        import torch_ref.compare.engine  # noqa: F401
        import torch_ref.layout  # noqa: F401
    except Exception:  # noqa: BLE001 - imported (and reported) again where needed
        pass


def verify_isolated(target: str, api: str = "auto", path: str | None = None, only=None,
                    seed: int = 0, dtypes=("float64", "float32"), limits: Limits | None = None,
                    reuse: bool = True, golden: bool = True, hidden=(), strict: bool = False):
    """:func:`~torch_ref.verify.runner.verify_module` with the module in a child process.

    limits: see :class:`Limits`; hidden: more trees the child may not read (the grader's
    output folder); strict: warnings fail (``--strict``). Returns ``(report, adapter)``;
    raises ``UsageError`` for an unknown API or ``--only`` name and for a module that
    cannot be imported.
    """
    from torch_ref.verify import adapters
    from torch_ref.verify.runner import UsageError, verify_adapter

    limits = limits or Limits()
    original = target
    if api != "auto":
        try:
            adapters.get(api)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    try:
        target, root = resolve_target(target, path)
    except ModuleLoadError as exc:
        raise UsageError(f"cannot import the module: {exc}") from None
    dotted = not os.path.isabs(target)
    # the courses whose students compute in torch may import it; for the others torch is
    # the reference (an --api auto module that imports it is given it on a second try)
    allow_torch = _TORCH_APIS.get(api, False)
    threading.Thread(target=_import_references, daemon=True).start()
    for attempt in range(2):
        remote = Remote(target, api, root if dotted else path, limits, hidden, root,
                        allow_torch)
        try:
            try:
                remote.info = _check_info(remote.load(), remote)
            except ModuleLoadError as exc:
                if (attempt == 0 and not allow_torch and api in ("auto", *_TORCH_APIS)
                        and any(b.split(".")[0] == "torch" for b in remote.blocked)):
                    allow_torch = True
                    remote.close()
                    continue
                raise UsageError(f"cannot import the module: {exc}") from None
            except Undecided as exc:
                raise UsageError(str(exc)) from None
            adapter_class = adapters.get(remote.api_name)
            if _TORCH_APIS.get(adapter_class.name) and not allow_torch and attempt == 0:
                allow_torch = True  # detected as a torch course: load it again with torch
                remote.close()
                continue
            adapter = remote_adapter(adapter_class, remote)
            report = verify_adapter(adapter, only, seed, dtypes, reuse, golden,
                                    target=original, strict=strict)
            break
        finally:
            remote.close()
    report.blocked_imports = tuple(remote.blocked)
    confinement = remote.sandbox.confinement
    report.confinement = (f"{confinement.name} ({confinement.does_not_cover})"
                          if confinement is not None else "")
    return report, adapter
