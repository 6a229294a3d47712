"""The grader's side of the executor: one declared way to reach a submission's objects.

An :class:`Executor` performs the operations the grader names on objects that live
with the submission (:mod:`~torch_ref.verify.isolation.child`) and validates every
answer: a value arrives as plain data or as a :class:`Ref` (an opaque handle the
grader can only send back); an exception arrives as facts and is rebuilt as a
:class:`UserError` naming the user function the grader was calling; anything else
(a dead, hung or babbling process, a malformed reply) is an :class:`ExecutorGone`,
after which that user function is not called again and the next operation starts a
fresh process. Advisory facts (arrays changed in place, floating-point flags) are
kept apart (:meth:`Executor.take_advisories`): the grader may warn about them but
cannot trust them.

:class:`LocalExecutor` runs the same server in this process (``--in-process``:
trusted code, same steps, same verdicts); :class:`SandboxExecutor` runs it in a
confined child (:mod:`~torch_ref.verify.isolation.sandbox`).
"""
from __future__ import annotations

import builtins
import contextlib
import time

import numpy as np

from torch_ref.verify.isolation import protocol
from torch_ref.verify.load import inventory as inventory_module
from torch_ref.verify.load.loader import CallGuard, ModuleLoadError

_ABSENT = object()


class Ref:
    """An object that stays with the submission: the grader can only send it back.

    ``type_name`` is what the executor says its type is called: for messages only.
    """

    __slots__ = ("ident", "type_name", "generation")

    def __init__(self, ident: int, type_name: str, generation: int):
        self.ident, self.type_name, self.generation = ident, type_name, generation

    def __repr__(self):
        return f"<{self.type_name} in the submission's process>"


class UserError(Exception):
    """An exception the submission's code raised, rebuilt from the executor's facts.

    function: the user function the grader was calling; type_name, message, where
    (``file:line`` in the user's code), kind (``builtin``, ``timeout``, ``exit``,
    ``memory``, ``floating-point``, ``refused``, ``other``), name (of a NameError),
    frame (``(file, first line, function name)`` of the innermost user frame),
    definition (``file:line`` of a callee given the wrong arguments).
    """

    def __init__(self, function: str, type_name: str, message: str, *, where: str = "",
                 kind: str = "other", name: str | None = None, frame=None,
                 definition: str = "", code=None):
        super().__init__(message)
        self.function, self.type_name, self.message = function, type_name, message
        self.where, self.kind, self.name, self.frame = where, kind, name, frame
        self.definition, self.code = definition, code

    # the names the report code reads of any exception out of user code
    @property
    def verify_function(self):
        return self.function

    @property
    def verify_location(self):
        return self.definition or self.where

    def is_builtin(self, cls: type) -> bool:
        """Whether it was an instance of the built-in exception ``cls`` (by its name, as
        the executor reported it: advisory, for messages and hints)."""
        return self.kind in ("builtin", "floating-point") and issubclass(
            getattr(builtins, self.type_name, Exception), cls)

    def __str__(self):
        return self.message


class ExecutorGone(Exception):
    """The executor died, hung, misbehaved or is out of budget during an operation.

    reason: in words (``killed after 5 s``); function: the user function being called
    (None outside one); fatal: whether that function is not to be called again.
    """

    def __init__(self, reason: str, function: str | None = None, fatal: bool = True):
        super().__init__(reason)
        self.reason, self.function, self.fatal = reason, function, fatal


class Advisory:
    """What the executor said about a call that the grader cannot check: an argument
    changed in place, or a floating-point flag raised. kind: ``argument`` or ``flag``;
    function: the user function running when it happened; what: the argument's name
    (of the call it was given to) or the flag; where: the user's ``file:line``."""

    __slots__ = ("kind", "function", "what", "where", "owner")

    def __init__(self, kind, function, what, where="", owner=""):
        self.kind, self.function, self.what, self.where = kind, function, what, where
        self.owner = owner

    def __repr__(self):
        return f"Advisory({self.kind}, {self.function}, {self.what})"


def _facts_error(facts: dict, function: str, memory=None) -> UserError:
    def text(key, limit=4000):
        value = facts.get(key)
        return value[:limit] if isinstance(value, str) else ""

    kind = facts.get("kind") if facts.get("kind") in (
        "builtin", "timeout", "exit", "memory", "floating-point", "other") else "other"
    type_name = text("type", 100)
    type_name = type_name if type_name.isidentifier() else "Exception"
    message = text("message")
    if kind == "memory":
        limit = facts.get("limit") if type(facts.get("limit")) is int else memory
        message = (f"exceeded {limit / (1 << 30):g} GiB of memory, the limit" if limit
                   else "ran out of memory") + (f" ({message})" if message else "")
    frame = facts.get("function")
    if not (isinstance(frame, list) and len(frame) == 3 and isinstance(frame[0], str)
            and type(frame[1]) is int and isinstance(frame[2], str)):
        frame = None
    name = facts.get("name") if isinstance(facts.get("name"), str) else None
    code = facts.get("code") if type(facts.get("code")) in (int, str, type(None)) else None
    return UserError(function, type_name, message, where=text("where", 1000) or "?",
                     kind=kind, name=name, frame=tuple(frame) if frame else None,
                     definition=text("definition", 1000), code=code)


class Executor:
    """The grader's side of one submission's executor (see the module docstring).

    Every operation names the user function it is made for (``user``): its time limit
    is that function's, its failure that function's, and a function that hung or
    crashed the process is refused from then on (``banned``).
    """

    confinement = ""

    def __init__(self, timeout: float | None = None, memory: int | None = None):
        self.timeout, self.memory = timeout, memory
        self.generation = 0
        self.module: Ref | None = None
        self.inventory: dict = {}
        self.banned: dict = {}
        self.blocked: list = []
        self._calls: dict = {}
        self._advisories: list = []
        self._load = None

    # ---- the transport (subclasses) ------------------------------------------------------

    def _exchange(self, header: dict, blobs: list, user: str | None):
        """One request; ``(reply, blobs)``; raises :class:`ExecutorGone`."""
        raise NotImplementedError

    def _ensure(self) -> None:
        """Make sure a process is there to serve (a fresh one loads the module again)."""

    def close(self) -> None:
        pass

    @property
    def output(self) -> str:
        return ""

    # ---- requests -------------------------------------------------------------------------

    def _ask(self, header: dict, blobs=(), user: str | None = None, names=None):
        if user is not None and user in self.banned:
            raise UserError(user, "FunctionTimeout", self.banned[user], kind="refused")
        self._ensure()
        header = dict(header, user=user or header["op"],
                      errstate={"over": "call", "invalid": "call", "divide": "call",
                                "under": "ignore"})
        try:
            reply, out = self._exchange(header, list(blobs), user)
        except ExecutorGone as gone:
            if gone.fatal and user is not None:
                self.banned.setdefault(user, f"{user}: {gone.reason}; not called again")
            raise ExecutorGone(gone.reason, user, gone.fatal) from None
        if not isinstance(reply, dict) or "protocol" in reply:
            self._broken(f"sent a malformed reply ({str(reply.get('protocol'))[:200]})"
                         if isinstance(reply, dict) else "sent a malformed reply", user)
        if names is not None and type(reply.get("call")) is int:
            self._calls[reply["call"]] = (user or header["op"], tuple(names))
            if len(self._calls) > 4096:
                self._calls.pop(next(iter(self._calls)))
        self._note(reply, user)
        if reply.get("ok") is not True:
            facts = reply.get("error")
            if not isinstance(facts, dict):
                self._broken("answered a failure without its exception", user)
            facts = _mapped(facts, self._unmap)
            error = _facts_error(facts, user or header["op"], self.memory)
            if error.kind == "timeout" and user is not None:
                self.banned.setdefault(user, f"{user} was stopped after {self.timeout:g} s "
                                             f"in an earlier call; not called again")
            raise error
        return reply, out

    def _broken(self, reason: str, user):
        self.close()
        if user is not None:
            self.banned.setdefault(user, f"{user}: {reason}; not called again")
        raise ExecutorGone(reason, user)

    def _note(self, reply: dict, user) -> None:
        """Keep the advisory facts of a reply (checked for form; never for truth)."""
        blocked = reply.get("blocked", [])
        if isinstance(blocked, list):
            for name in blocked[:100]:
                if isinstance(name, str) and name not in self.blocked:
                    self.blocked.append(name[:200])
        function = user or ""
        for item in reply.get("flags", []) if isinstance(reply.get("flags"), list) else []:
            if isinstance(item, list) and len(item) == 2 and all(isinstance(v, str)
                                                                  for v in item):
                self._advisories.append(Advisory("flag", function, item[0][:100],
                                                 self._unmap(item[1][:1000])))
        changed = reply.get("changed", [])
        for item in changed[:1000] if isinstance(changed, list) else []:
            if not (isinstance(item, list) and len(item) == 3 and type(item[0]) is int
                    and isinstance(item[1], str) and type(item[2]) is int):
                continue
            owner = self._calls.get(item[0])
            running = self._calls.get(item[2])
            if owner is None:
                continue
            name = _argument_name(owner[1], item[1])
            self._advisories.append(Advisory("argument", running[0] if running else owner[0],
                                             name, owner=owner[0]))

    def _decode(self, tree, blobs):
        generation = self.generation

        def handle(ident, type_name):
            return Ref(ident, type_name if type_name.isidentifier() else "object",
                       generation)
        try:
            return protocol.decode(tree, blobs, handle=handle)
        except protocol.ProtocolError as exc:
            self._broken(f"sent a malformed value ({exc})", None)

    def _encode(self, value):
        def ref(obj):
            if isinstance(obj, Ref):
                if obj.generation != self.generation:
                    raise ExecutorGone("an object of the module's earlier process "
                                       "(restarted since)", None, fatal=False)
                return obj.ident
            return None
        encoder = protocol.Encoder(None, ref=ref)
        return encoder.encode(value), encoder.blobs

    def _value(self, reply, blobs, user):
        if reply.get("missing") is True:
            return _ABSENT
        return self._decode(reply.get("value"), blobs)

    # ---- operations -------------------------------------------------------------------

    def load(self, target, helpers=(), torch: str = "stub") -> dict:
        """Load the resolved ``target`` (:class:`~torch_ref.verify.target.Target`) with the
        course helpers of ``helpers`` (API names); its checked inventory. ``torch``:
        ``allow`` (the course computes in torch) or ``stub`` (importing works, calling
        is refused). Raises :class:`ModuleLoadError`."""
        self._load = (target, tuple(helpers), torch)
        return self._do_load()

    def _do_load(self) -> dict:
        target, helpers, _ = self._load
        self._ensure()
        header = {"op": "load", "target": self._target_here(target).as_dict(),
                  "helpers": list(helpers)}
        try:
            reply, _ = self._ask(header, user=f"import {target.name}")
        except ExecutorGone as gone:
            reason = gone.reason
            if reason.startswith("killed after"):
                reason += " (code at module level that never ends?)"
            raise ModuleLoadError(f"importing {target.name}: {reason}") from None
        except UserError as exc:
            raise ModuleLoadError(f"loading it failed: {exc.type_name}: {exc.message} "
                                  f"({exc.where})") from None
        if reply.get("load_error") is not None or "module" not in reply:
            raise ModuleLoadError(self._unmap(str(reply.get("load_error")
                                                  or "the module could not be loaded")))
        if type(reply["module"]) is not int:
            self._broken("answered the load in the wrong form", None)
        try:
            self.inventory = _mapped(inventory_module.checked(reply.get("inventory")),
                                     self._unmap)
        except inventory_module.InventoryError as exc:
            self._broken(f"answered the load in the wrong form ({exc})", None)
        self.module = Ref(reply["module"], "module", self.generation)
        return self.inventory

    def _target_here(self, target):
        return target

    def _unmap(self, text: str) -> str:
        return text

    def get(self, obj: Ref, name: str, *, user: str, fetch=1, missing_ok: bool = False,
            tensors: bool = False):
        """``obj.name`` (``fetch``: a depth of containers crossing by value, or ``"ref"``);
        with ``missing_ok``, :data:`ABSENT` when it has no such attribute."""
        tree, blobs = self._encode(obj)
        reply, out = self._ask({"op": "get", "obj": tree["r"], "name": name, "fetch": fetch,
                                "missing_ok": missing_ok, "tensors": tensors}, blobs, user)
        return self._value(reply, out, user)

    def set(self, obj: Ref, name: str, value, *, user: str) -> None:
        tree, blobs = self._encode((obj, value))
        self._ask({"op": "set", "obj": tree["T"][0]["r"], "name": name,
                   "value": tree["T"][1]}, blobs, user, names=(name,))

    def assign(self, obj: Ref, values: dict, *, user: str, write: bool = False) -> list:
        """``obj.name = value`` for every item of ``values``, in one request; with
        ``write``, into the array an attribute already holds where it has the value's
        shape (the names written in place are returned)."""
        tree, blobs = self._encode((obj, list(values.values())))
        reply, _ = self._ask({"op": "assign", "obj": tree["T"][0]["r"],
                              "names": list(values), "values": tree["T"][1],
                              "write": write}, blobs, user, names=tuple(values))
        return reply.get("written") if isinstance(reply.get("written"), list) else []

    def item(self, obj: Ref, key, *, user: str, fetch=1, missing_ok: bool = False):
        tree, blobs = self._encode((obj, key))
        reply, out = self._ask({"op": "getitem", "obj": tree["T"][0]["r"],
                                "key": tree["T"][1], "fetch": fetch,
                                "missing_ok": missing_ok}, blobs, user)
        return self._value(reply, out, user)

    def set_item(self, obj: Ref, key, value, *, user: str) -> None:
        tree, blobs = self._encode((obj, key, value))
        self._ask({"op": "setitem", "obj": tree["T"][0]["r"], "key": tree["T"][1],
                   "value": tree["T"][2]}, blobs, user, names=(f"[{key!r}]",))

    def write(self, obj: Ref, value, *, user: str, name: str | None = None,
              key=None) -> bool:
        """Copy ``value`` into the array at ``obj.name`` (or ``obj[key]``) in place; False
        (nothing written) when that is not an array of its shape."""
        tree, blobs = self._encode((obj, value, key))
        header = {"op": "write", "obj": tree["T"][0]["r"], "value": tree["T"][1]}
        if name is not None:
            header["name"] = name
        else:
            header["key"] = tree["T"][2]
        reply, _ = self._ask(header, blobs, user)
        return reply.get("wrote") is True

    def call(self, fn: Ref, *args, user: str, returns=1, tensors: bool = False,
             names=(), **kwargs):
        """``fn(*args, **kwargs)``. returns: a depth of containers crossing by value,
        ``"ref"``, or one such spec per element of a returned tuple; tensors: torch
        tensors cross as arrays (:class:`protocol.Tensor`); names: the arguments' names
        (for in-place reports)."""
        tree, blobs = self._encode((fn, args, kwargs))
        fn_tree, args_tree, kwargs_tree = tree["T"]
        reply, out = self._ask({"op": "call", "fn": fn_tree, "args": args_tree,
                                "kwargs": kwargs_tree, "returns": returns,
                                "tensors": tensors}, blobs, user, names)
        return self._value(reply, out, user)

    def method(self, obj: Ref, name: str, *args, user: str, returns=1,
               tensors: bool = False, names=(), **kwargs):
        """``obj.name(*args, **kwargs)`` (see :meth:`call`)."""
        tree, blobs = self._encode((obj, args, kwargs))
        obj_tree, args_tree, kwargs_tree = tree["T"]
        reply, out = self._ask({"op": "method", "obj": obj_tree["r"], "name": name,
                                "args": args_tree, "kwargs": kwargs_tree,
                                "returns": returns, "tensors": tensors}, blobs, user, names)
        return self._value(reply, out, user)

    def array(self, obj: Ref, *, user: str):
        """The values of an array-like object (a tensor) as a plain array (None when it
        has none)."""
        tree, blobs = self._encode(obj)
        reply, out = self._ask({"op": "array", "obj": tree["r"]}, blobs, user)
        return self._value(reply, out, user)

    def read(self, refs, *, user: str, tensors: bool = False) -> list:
        """The current values of the objects behind ``refs`` (each as :meth:`get` fetches
        it: arrays by value, containers one level deep), in one request."""
        tree, blobs = self._encode(list(refs))
        reply, out = self._ask({"op": "read", "objs": [t["r"] for t in tree["L"]],
                                "tensors": tensors}, blobs, user)
        values = self._value(reply, out, user)
        if not isinstance(values, list) or len(values) != len(refs):
            self._broken("answered a read in the wrong form", user)
        return values

    def import_module(self, name: str) -> Ref:
        reply, out = self._ask({"op": "import", "name": name}, user=f"import {name}")
        value = self._value(reply, out, None)
        if not isinstance(value, Ref):
            self._broken("answered an import with a value", None)
        return value

    def poison(self, *shapes, dtypes=("float64", "float32")) -> None:
        """Leave NaN-filled buffers of ``shapes`` for the submission's next ``np.empty``."""
        self._ask({"op": "poison", "shapes": [list(map(int, s)) for s in shapes],
                   "dtypes": [str(d) for d in dtypes]})

    def forget(self, keep=()) -> None:
        """Drop every object but the module, imports and those in ``keep``."""
        if self.module is None or not self._alive():
            return
        ids = [r.ident for r in keep if isinstance(r, Ref) and r.generation == self.generation]
        with contextlib.suppress(ExecutorGone, UserError):
            self._ask({"op": "forget", "keep": ids})
        self._advisories.clear()

    def _alive(self) -> bool:
        return True

    def take_advisories(self) -> list:
        found, self._advisories = self._advisories, []
        return found

    # ---- the module's names -----------------------------------------------------------

    def defined(self, name: str):
        """The inventory entry of ``name`` (None: the module does not define it)."""
        return self.inventory.get("names", {}).get(name)

    def attr(self, name: str, *, user: str) -> Ref:
        """A handle to the module's ``name``, looked up once per process."""
        cache = self.__dict__.setdefault("_attrs", {})
        key = (name, self.generation)
        if key not in cache:
            cache[key] = self.get(self.module, name, user=user, fetch="ref")
        return cache[key]


ABSENT = _ABSENT


def _mapped(value, unmap):
    """``value`` (plain data) with ``unmap`` applied to every string in it."""
    if isinstance(value, str):
        return unmap(value)
    if isinstance(value, dict):
        return {k: _mapped(v, unmap) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mapped(v, unmap) for v in value)
    return value


def _argument_name(names: tuple, label: str) -> str:
    """The name of argument ``label`` (``"0"``, ``"1.2"``, ``"key="``) of a call whose
    arguments are called ``names``."""
    head, _, rest = label.partition(".")
    if head == "value" and names:
        base = names[0]
    elif head in names:  # an attribute given by its name
        base = head
    elif head.endswith("="):
        base = head[:-1]
    elif head.isdigit() and int(head) < len(names):
        base = names[int(head)]
    else:
        base = f"argument {head}"
    return f"{base}[{rest}]" if rest else base


class LocalExecutor(Executor):
    """The executor in this process: the same server and the same wire format, calls
    timed by ``SIGALRM`` (main thread only) and output captured. For trusted code."""

    confinement = "none (in-process)"

    def __init__(self, timeout: float | None = None, memory: int | None = None):
        super().__init__(timeout, memory)
        from torch_ref.verify.isolation.child import Server

        self.guard = CallGuard(timeout)
        self.server = Server(self.guard, memory)
        self._closed = False

    def _exchange(self, header, blobs, user):
        # through the wire format, exactly as a child's requests and replies go
        sent = protocol.unpack(bytearray(protocol.pack(header, blobs)))
        reply, out = self.server.serve_one(*sent)
        return protocol.unpack(bytearray(protocol.pack(reply, out or [])))

    def adopt(self, module) -> dict:
        """Check an already imported module object (a notebook's own module); its
        inventory."""
        reply = self.server.adopt(module)
        self.inventory = inventory_module.checked(reply["inventory"])
        self.module = Ref(reply["module"], "module", self.generation)
        return self.inventory

    @property
    def output(self) -> str:
        return self.guard.output.getvalue()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.server.close()
            self.guard.close()


# the grader's files the executor imports (relative to the project root): nothing else of
# the project exists in its sandbox
CHILD_FILES = ("torch_ref/verify/isolation/child.py", "torch_ref/verify/isolation/protocol.py",
               "torch_ref/verify/load")


class SandboxExecutor(Executor):
    """The executor in a confined child process (one at a time; a fresh one after a
    crash, up to ``limits.restarts``, within ``limits.budget`` seconds)."""

    def __init__(self, limits, root: str, hidden=(), allow_torch: bool = False,
                 torch_rule: str = ""):
        super().__init__(limits.timeout, limits.memory)
        from torch_ref.verify.isolation.sandbox import Sandbox

        self.limits, self.root = limits, root
        self.sandbox = Sandbox(limits, root, entry="torch_ref.verify.isolation.child:main",
                               setup="torch_ref.verify.isolation.child:setup",
                               child_files=CHILD_FILES, child_config={"torch_rule": torch_rule},
                               allow_torch=allow_torch, hidden=hidden)
        self.deadline = None if limits.budget is None else time.monotonic() + limits.budget
        self.dead: str | None = None
        self._started = False

    @property
    def confinement(self) -> str:
        confinement = self.sandbox.confinement
        return f"{confinement.name} ({confinement.does_not_cover})" if confinement else ""

    def _alive(self) -> bool:
        return self.sandbox.alive()

    def _ensure(self) -> None:
        if self.dead is not None:
            raise ExecutorGone(self.dead, None, False)
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.sandbox.close()
            self.dead = f"not run: the module used up its time budget of " \
                        f"{self.limits.budget:g} s"
            raise ExecutorGone(self.dead, None, False)
        if self.sandbox.alive():
            return
        if self.sandbox.started > self.limits.restarts:
            self.dead = (f"not run: the module's process had to be restarted "
                         f"{self.limits.restarts} times")
            raise ExecutorGone(self.dead, None, False)
        from torch_ref.verify.isolation.confinement import SandboxUnavailable
        from torch_ref.verify.isolation.sandbox import ChildFailure

        try:
            self.sandbox.start()
        except ChildFailure as failure:
            raise ExecutorGone(f"its sandbox did not start: {failure.reason}", None,
                               False) from None
        except SandboxUnavailable as exc:
            self.dead = str(exc)
            raise ExecutorGone(self.dead, None, False) from None
        self.generation += 1
        if self._started and self._load is not None:
            try:
                super()._do_load()
            except ModuleLoadError as exc:
                self.dead = f"not run: the module could not be loaded again ({exc})"
                raise ExecutorGone(self.dead, None, False) from None
        self._started = True

    def _exchange(self, header, blobs, user):
        from torch_ref.verify.isolation.sandbox import ChildFailure

        try:
            return self.sandbox.request(header, blobs, limit=self.limits.timeout,
                                        cpu=self.limits.cpu_limit, deadline=self.deadline)
        except ChildFailure as failure:
            raise ExecutorGone(failure.reason, user, failure.fatal_to_function) from None
        except protocol.ProtocolError as exc:
            self.sandbox.close()
            raise ExecutorGone(f"sent a malformed reply ({exc})", user) from None

    def _target_here(self, target):
        return target.relocated(self.sandbox.copy) if self.sandbox.copy else target

    def _unmap(self, text: str) -> str:
        copy = self.sandbox.copy
        return text.replace(copy, self.root) if copy and isinstance(text, str) else text

    @property
    def output(self) -> str:
        return self.sandbox.output.text()

    def close(self) -> None:
        self.sandbox.close()


def describe_value(value) -> str:
    """A short description of a value for messages (``an array of shape (2, 3)`` ...)."""
    if value is None:
        return "None"
    if isinstance(value, Ref):
        return f"a {value.type_name}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"

