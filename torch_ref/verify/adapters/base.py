"""What every adapter shares: the functional API it maps onto, and the declared protocol.

The catalog runs components through the functional API (``rnn_forward(x, h0, Wx,
Wh, b) -> (h, cache)`` ...; table :data:`FUNCTIONAL`). An adapter, in the grader,
turns a user's module written to some other API into an object exposing those
functions (:meth:`Adapter.api`), and says which user function answers for which
tensor, so that a report names ``RNNLayer.backward`` rather than ``rnn_backward``.

The module itself lives with an executor
(:class:`~torch_ref.verify.isolation.client.Executor`); the adapter sees its names
only through the executor's inventory and reaches its objects only through the
executor's operations, each made for a named user function. So every decision (which
calls, which instances are reused, which options are tried, what is missing) is
taken here, and every answer is validated here: a wrong structure is an
:class:`~torch_ref.verify.errors.ApiMismatch`; outputs of a user function the module
does not define are :data:`MISSING`, a marker compared by identity, which nothing
the module sends can produce.

A subclass declares :attr:`Adapter.BINDINGS` (functional name -> user function, or
output name -> user function when one functional call spans several user calls)
and implements :meth:`Adapter.implement` (and :meth:`Adapter.present` where presence
is more than "the name is defined"). The base class supplies the calls
(:meth:`Adapter.call`, :meth:`Adapter.method`, :meth:`ClassAdapter.construct` ...),
return checks (:meth:`Adapter.values`), the advisory in-place and floating-point
facts, and reuse (:meth:`Adapter.reusing`): instances kept across calls, weights
given as new arrays and then changed in place, and extra forward calls slipped in
before a backward reads its cache or a caller reads gradients, the way notebooks and
numerical gradient checks use a layer.
"""
from __future__ import annotations

import contextlib

import numpy as np

from torch_ref.catalog import functional_signatures
from torch_ref.compare.engine import ABSENT as ABSENT_OUTPUT
from torch_ref.verify.adapters.editions import Evidence, describe_choice, recognise
from torch_ref.verify.errors import ApiMismatch
from torch_ref.verify.isolation.client import ABSENT, Ref, describe_value
from torch_ref.verify.sources import Sources

# functional name -> (argument names, returned names); one returned name: a bare value;
# the catalog entries' signatures
FUNCTIONAL = functional_signatures()


# stands for an output of a user function the module does not define
MISSING = ABSENT_OUTPUT


def flipped(value):
    """A different input of the same shape and dtype: ``value`` reversed on every axis."""
    if isinstance(value, np.ndarray) and value.ndim:
        return np.ascontiguousarray(np.flip(value))
    return value


class Adapter:
    """Maps a user's module onto the functional API. Subclasses set the class attributes.

    name:               ``--api`` value.
    description:        one line for ``--help`` and reports.
    golden_documents:   golden fixture documents whose cells this API can answer.
    conventional_files: files looked for when ``--module`` is a directory.
    BINDINGS:           functional name -> user function name, or a dict output name ->
                        user function name; the first user function is the primary one
                        (it must exist for the functional call to run at all).
    OPTIONAL:           functional names whose absence is not a failure (``n/a``).
    ARGUMENTS:          functional name -> the user's names of its arguments, where the
                        API names them differently (for in-place reports).
    reuse_notes:        what the k-th call of a reuse sequence exercises, for reports.
    dtypes:             the dtypes the course computes in (others are not checked).
    COMPONENTS:         the catalog components the API answers (None: every one whose
                        functions it binds).
    TENSORS:            component -> {catalog tensor name: the course's name, or (name,
                        view)} for reports: the view shows the tensor in the course's
                        layout (:mod:`.course`); ``{gate}`` in a name is the gate block
                        of the worst element.
    GATES:              gate block (``i``/``f``/``o``/``g``, ``r``/``z``/``n``) -> the
                        course's name, for reports.
    expects:            what a module of this API defines, for ``--api auto`` messages.
    torch:              whether the course computes in torch (the submission may use it).
    EDITIONS:           the editions of the course's template the adapter knows
                        (:mod:`.editions`); the one the module's signs point to is
                        assumed, and changes the bindings, optional parts, dtypes and
                        conventions above.
    """

    name = ""
    description = ""
    golden_documents: tuple = ()
    conventional_files: tuple = ()
    BINDINGS: dict = {}
    OPTIONAL: tuple = ()
    ARGUMENTS: dict = {}
    dtypes: tuple = ("float64", "float32")
    COMPONENTS: tuple | None = None
    TENSORS: dict = {}
    GATES: dict = {}
    expects = ""
    torch = False
    EDITIONS: tuple = ()
    reuse_notes = ("a new instance; forward called again on other inputs before the "
                   "results are used, as a numerical gradient check does",
                   "the same instance again, given new weight arrays",
                   "the same instance again, its weights changed in place")

    def __init__(self, executor=None, sources: Sources | None = None):
        self.ex = executor
        self.sources = sources or Sources(None)
        self.results: dict = {}
        # (option, tensor, user function, value, factor): outputs of a call with another
        # option of the API, to compare with ``factor`` times the reference
        self.variants: list = []
        # instances built where a document cell builds them (see ClassAdapter.pin)
        self.pinned: dict = {}
        self.last_error: BaseException | None = None
        self._reuse = None
        self._advisories: list = []
        self._deferred = False
        self.evidence = Evidence(executor.inventory if executor is not None else {},
                                 self.sources)
        self.edition, self.edition_signs = None, ()
        if self.EDITIONS:
            if executor is not None:
                self.edition, self.edition_signs = recognise(self.EDITIONS, self.evidence)
            else:
                self.edition = self.EDITIONS[0]
            self.BINDINGS = {**type(self).BINDINGS, **self.edition.bindings}
            if self.edition.dtypes:
                self.dtypes = tuple(self.edition.dtypes)

    @classmethod
    def reads_as_script(cls, file: str, chosen: bool) -> bool:
        """Whether the ``.py`` file is read as a script for this API: its imports, constants
        and definitions only, never its other top-level code
        (:mod:`torch_ref.verify.load.script`); ``chosen``: named with ``--api`` (else a
        candidate of ``--api auto``: decide from its source). Default: never."""
        return False

    @classmethod
    def describe(cls) -> "Adapter":
        """An instance that knows the API but no module (for tables and ``--help``)."""
        return cls(None)

    # ---- the module, as the inventory describes it -------------------------------------

    @property
    def names(self) -> dict:
        return self.ex.inventory.get("names", {}) if self.ex is not None else {}

    def entry(self, name: str):
        """The inventory entry of a top-level name (None when not defined)."""
        return self.names.get(name)

    def present(self, user_function: str) -> bool:
        """Whether the module defines ``user_function`` (a callable of that name)."""
        entry = self.entry(user_function.split(".")[0])
        if entry is None or entry["kind"] not in ("function", "class"):
            return False
        if "." in user_function:
            method = user_function.split(".", 1)[1]
            return entry["kind"] == "class" and method in entry.get("methods", {})
        return True

    def left_as_template(self, user_function: str) -> bool:
        """Whether ``user_function``'s source is still its template's stub (read from the
        submission's files, never run): its body only sets names to None, passes, returns
        them or raises NotImplementedError. Course adapters know their templates' own
        markers."""
        from torch_ref.verify.sources import is_stub_body

        found = self.sources.at(self.where(user_function))
        return found is not None and is_stub_body(found[0])

    def where(self, user_function: str) -> str:
        """``file:line`` where ``user_function`` is defined ('' when unknown)."""
        entry = self.entry(user_function.split(".")[0])
        if entry is None:
            return ""
        if "." in user_function and entry["kind"] == "class":
            method = entry.get("methods", {}).get(user_function.split(".", 1)[1])
            return method["where"] if method else entry.get("where", "")
        return entry.get("where", "")

    def params(self, user_function: str):
        """The parameter names of ``user_function`` (None when unknown)."""
        entry = self.entry(user_function.split(".")[0])
        if entry is None:
            return None
        if "." in user_function:
            method = entry.get("methods", {}).get(user_function.split(".", 1)[1])
            params = method["params"] if method else None
        else:
            params = entry.get("params")
        return None if params is None else [p[0] for p in params]

    def absence_note(self, user_function: str) -> str:
        """Why ``user_function`` counts as missing (``class LSTM not found`` ...)."""
        if "." in user_function:
            class_name, method = user_function.split(".", 1)
            entry = self.entry(class_name)
            if entry is None or entry["kind"] != "class":
                return f"no class {class_name} in the module" + self.closest(class_name,
                                                                              "class")
            return f"class {class_name} has no method {method}"
        return f"no function {user_function} in the module" + self.closest(user_function,
                                                                            "function")

    def closest(self, name: str, kind: str = "function") -> str:
        """``"; did you mean X (file:line)?"`` for the module's own name of the same kind
        (a function for a function, a class for a class) closest to ``name``: a
        misspelling or another case; nothing when none is close."""
        import difflib

        wanted = name.split(".")[0]
        # a name that already answers for another function of the API is no suggestion
        taken = {user.split(".")[0] for user, _ in self.user_functions()} - {wanted}
        defined = {k: v for k, v in self.names.items()
                   if not k.startswith("_") and v["kind"] == kind and v["own"]
                   and k not in taken}
        lower = {k.lower(): k for k in defined}
        matches = difflib.get_close_matches(wanted.lower(), list(lower), n=1, cutoff=0.75)
        if not matches:
            return ""
        found = lower[matches[0]]
        # suggested once: where it is closest (rnn_step_backwards: rnn_step_backward only)
        names = {user.split(".")[0].lower() for user, _ in self.user_functions()}
        if difflib.get_close_matches(found.lower(), list(names), n=1, cutoff=0) != [
                wanted.lower()]:
            return ""
        where = defined[found].get("where", "")
        return f"; did you mean {found} (a {kind}" + (f", {where}" if where else "") + ")?"

    # ---- names --------------------------------------------------------------------

    def user_functions_of(self, functional: str) -> tuple:
        """User functions behind one functional function, primary first."""
        binding = self.BINDINGS[functional]
        if isinstance(binding, str):
            return (binding,)
        return tuple(dict.fromkeys(binding.values()))

    def user_name(self, functional: str, tensor: str | None = None) -> str:
        """The user function that produced ``tensor`` of ``functional`` (its primary one)."""
        binding = self.BINDINGS.get(functional)
        if binding is None:
            return functional
        if isinstance(binding, str):
            return binding
        return binding.get(tensor, next(iter(binding.values())))

    def user_functions(self) -> list:
        """Every user function of the API in report order: ``(name, optional)``."""
        seen = {}
        for functional in self.BINDINGS:
            for user in self.user_functions_of(functional):
                seen.setdefault(user, functional in self.optional())
        return list(seen.items())

    def optional(self) -> tuple:
        """The functional names whose absence is not a failure: ``OPTIONAL`` and the
        edition's optional parts."""
        return tuple(self.OPTIONAL) + (self.edition.optional if self.edition else ())

    def convention(self, key: str, default=None):
        """A convention of the assumed edition (``default`` when it says nothing)."""
        return self.edition.conventions.get(key, default) if self.edition else default

    def course_hint(self, hint: str) -> str:
        """A hint in the course's words (default: gate blocks by ``GATES`` names)."""
        from torch_ref.verify.adapters.course import gate_names_in

        return gate_names_in(hint, self.GATES)

    def keeps(self, component, case) -> bool:
        """Whether ``case`` is one the course's own template handles (default: all)."""
        return True

    def course_case(self, component, case):
        """``case`` as the course's API can take it (default: unchanged): an edition whose
        layer has no biases is given the case with its biases at zero. The reference runs
        on what this returns."""
        return case

    def supports(self, component) -> bool:
        """Whether the API has every function of ``component`` (``COMPONENTS``, when set,
        also names the components it can answer: a course's GRU has one formulation)."""
        if self.COMPONENTS is not None and component.name not in self.COMPONENTS:
            return False
        return all(f in self.BINDINGS for f in component.functions)

    def runnable(self, functional: str) -> bool:
        return self.present(self.user_functions_of(functional)[0])

    def assumed(self) -> str:
        """Which edition of the course the checks assumed, and why (for the report)."""
        if self.edition is None:
            return ""
        return describe_choice(self.name, self.edition, self.edition_signs)

    # ---- the functional object -------------------------------------------------------

    def api(self):
        """An object whose attributes are the functional functions this API provides."""
        namespace = _Api(self)
        for functional in self.BINDINGS:
            impl = self.implement(functional) if self.runnable(functional) else None
            if impl is None:
                impl = self._missing_impl(functional)
            setattr(namespace, functional, self._recorded(functional, impl))
        return namespace

    def implement(self, functional: str):
        """A callable with the functional signature, built on the user's module."""
        raise NotImplementedError

    def _missing_impl(self, functional: str):
        outputs = FUNCTIONAL[functional][1]

        def missing(*args, **kwargs):
            return MISSING if len(outputs) == 1 else (MISSING,) * len(outputs)
        return missing

    def _recorded(self, functional: str, impl):
        """``impl`` whose result is remembered (:meth:`_Api.returned`) and, unless reads
        are deferred (:meth:`deferring`), read at once: a caller gets values."""
        outputs = FUNCTIONAL[functional][1]
        keep = tuple(i for i, name in enumerate(outputs) if name == "cache")

        def call(*args, **options):  # options: the component's (reset_after=False)
            result = impl(*args, **options)
            self.results[functional] = result
            if not self._deferred:
                result = self.read(self.user_name(functional), result, keep)
                self.results[functional] = result
            return result
        call.__name__ = functional
        return call

    @contextlib.contextmanager
    def deferring(self):
        """Inside the block, results keep the handles of the module's arrays: they are read
        once the run is over (:meth:`resolve`), as a caller that kept the arrays and
        compared them at the end would see them."""
        self._deferred = True
        try:
            yield
        finally:
            self._deferred = False

    def resolve(self, values: dict) -> dict:
        """``values`` (name -> value) with every handle read now, in one request."""
        refs = [v for v in values.values() if isinstance(v, Ref)]
        if not refs:
            return values
        got = iter(self._through("(reading results)", self.ex.read, refs))
        return {k: next(got) if isinstance(v, Ref) else v for k, v in values.items()}

    # ---- calls into the module --------------------------------------------------------

    def _through(self, user: str, operation, *args, **kwargs):
        try:
            return operation(*args, user=user, **kwargs)
        except BaseException as exc:
            if not isinstance(exc, KeyboardInterrupt):
                self.last_error = exc
            raise

    def _spec(self, spec):
        """``spec`` as it is sent: arrays kept as handles (``"a"``, ``"A"``) are read at
        once when nothing can happen between the call and the read (reads not deferred,
        no reuse sequence slipping calls in): one request instead of two."""
        if self._deferred or self._reuse is not None:
            return spec
        if isinstance(spec, list):
            return [self._spec(s) for s in spec]
        return {"a": 1, "A": 2}.get(spec, spec) if isinstance(spec, str) else spec

    def function(self, name: str, user: str | None = None) -> Ref:
        """A handle to the module's top-level ``name``."""
        return self._through(user or name, self.ex.attr, name)

    def call(self, user_function: str, fn, /, *args, names=None, returns=1,
             tensors: bool = False, **kwargs):
        """``fn(*args, **kwargs)`` as ``user_function`` (a handle, or a top-level name).

        names: the arguments' names for in-place reports (default: the user function's
        own parameter names); returns: what crosses by value (see
        :meth:`~torch_ref.verify.isolation.client.Executor.call`)."""
        if isinstance(fn, str):
            fn = self.function(fn, user_function)
        if names is None:
            names = self.params(user_function) or ()
        return self._through(user_function, self.ex.call, fn, *args, names=names,
                             returns=self._spec(returns), tensors=tensors, **kwargs)

    def method(self, obj: Ref, name: str, user_function: str, returns=1, names=None,
               tensors: bool = False):
        """``obj.name`` as a callable: each call a call into ``user_function``."""
        if names is None:
            names = self.params(user_function) or ()

        def call(*args, **kwargs):
            return self._through(user_function, self.ex.method, obj, name, *args,
                                 names=names, returns=self._spec(returns), tensors=tensors,
                                 **kwargs)
        return call

    def get(self, obj: Ref, attr: str, user_function: str, fetch=1, default=ABSENT,
            tensors: bool = False):
        """``obj.attr`` (``default`` when it has none, if given)."""
        value = self._through(user_function, self.ex.get, obj, attr, fetch=self._spec(fetch),
                              missing_ok=default is not ABSENT, tensors=tensors)
        return default if value is ABSENT else value

    def set(self, obj: Ref, attr: str, value, user_function: str) -> None:
        self._through(user_function, self.ex.set, obj, attr, value)

    def item(self, obj: Ref, key, user_function: str, fetch=1, default=ABSENT):
        value = self._through(user_function, self.ex.item, obj, key, fetch=fetch,
                              missing_ok=default is not ABSENT)
        return default if value is ABSENT else value

    def set_item(self, obj: Ref, key, value, user_function: str) -> None:
        self._through(user_function, self.ex.set_item, obj, key, value)

    def write(self, obj: Ref, value, user_function: str, *, name=None, key=None) -> bool:
        return self._through(user_function, self.ex.write, obj, value, name=name, key=key)

    def read(self, user_function: str, value, keep: tuple = ()):
        """``value`` with its handles (itself, or the items of a returned tuple) replaced by
        what they hold now: a result is read where its caller would use it, after the
        calls a notebook makes in between (items at ``keep``, a cache, stay handles)."""
        if isinstance(value, Ref):
            return self._through(user_function, self.ex.read, [value])[0]
        if not isinstance(value, (tuple, list)):
            return value
        at = [i for i, v in enumerate(value) if isinstance(v, Ref) and i not in keep
              and i - len(value) not in keep]
        if not at:
            return value
        got = self._through(user_function, self.ex.read, [value[i] for i in at])
        items = list(value)
        for i, v in zip(at, got, strict=True):
            items[i] = v
        return type(value)(items) if isinstance(value, tuple) else items

    def values(self, user_function: str, result, names: tuple):
        """Check what ``user_function`` returned: ``len(names)`` values (a bare value for
        one name)."""
        if result is not None and (len(names) == 1 or (
                isinstance(result, (tuple, list)) and len(result) == len(names))):
            return result if len(names) == 1 else tuple(result)
        where = self.where(user_function)
        where = f" (defined at {where})" if where else ""
        if result is None:
            raise ApiMismatch(user_function, f"{user_function} returned None{where}; "
                              f"expected {_listing(names)} (a missing return statement?)",
                              returned_none=True)
        raise ApiMismatch(user_function,
                          f"{user_function} returned {describe_value(result)}{where}; "
                          f"expected {len(names)} values ({', '.join(names)})")

    def lookup(self, mapping, key, user_function: str, what: str, why: str = ""):
        """``mapping[key]`` of a dict the module returned, or an :class:`ApiMismatch`
        listing the keys there are.

        what: how the user knows ``mapping`` (``layer.grad``); why: where ``key`` comes
        from, for the message (``the value of grad_name``).
        """
        why = f" ({why})" if why else ""
        try:
            value = mapping[key]
        except (KeyError, TypeError, IndexError):
            keys = (", ".join(repr(k) for k in mapping) if isinstance(mapping, dict)
                    else describe_value(mapping))
            raise ApiMismatch(user_function, f"after {user_function}, {what} has no key "
                                             f"{key!r}{why}; it holds: {keys or 'nothing'}"
                              ) from None
        if value is None:
            raise ApiMismatch(user_function, f"after {user_function}, {what}[{key!r}]{why} is "
                                             f"still None: the gradient is not stored there")
        return value

    # ---- advisory facts -----------------------------------------------------------------

    def _take(self, kind: str) -> list:
        if self.ex is not None:
            self._advisories += self.ex.take_advisories()
        mine = [a for a in self._advisories if a.kind == kind]
        self._advisories = [a for a in self._advisories if a.kind != kind]
        return mine

    def take_findings(self) -> list:
        """``[(user function, argument)]``: arrays the executor says were changed in place
        (advisory: an untrusted executor may stay silent)."""
        return [(a.function, a.what) for a in self._take("argument")]

    def take_flags(self) -> list:
        """``[(kind, user function, file:line)]``: floating-point flags the executor says
        were raised (advisory)."""
        return [(a.what, a.function, a.where) for a in self._take("flag")]

    def take_variants(self) -> list:
        found, self.variants = self.variants, []
        return found

    def forget(self) -> None:
        """Start a new case: forget what earlier calls returned and the objects no
        instance kept for reuse needs."""
        self.results.clear()
        self.last_error = None
        if self.ex is not None:
            self.ex.forget(keep=self.kept())
            self.ex.take_advisories()
        self._advisories = []

    def kept(self) -> list:
        """The handles still needed across cases: reused and pinned instances."""
        kept = [obj for obj in self.pinned.values() if isinstance(obj, Ref)]
        if self._reuse is not None:
            kept += [obj for obj in self._reuse["instances"].values() if isinstance(obj, Ref)]
            kept += [obj for obj in self._reuse.get("extra", ()) if isinstance(obj, Ref)]
        kept += [obj for obj in getattr(self.ex, "_attrs", {}).values() if isinstance(obj, Ref)]
        return kept

    # ---- reuse -----------------------------------------------------------------------

    @contextlib.contextmanager
    def reusing(self):
        """Keep instances across calls (see the module docstring) inside this block."""
        self._reuse = {"instances": {}, "uses": {}, "extra": []}
        try:
            yield
        finally:
            self._reuse = None

    @property
    def reuse_active(self) -> bool:
        return self._reuse is not None

    def instance(self, key, make):
        """``(obj, use)``: ``make()`` or, while reusing, the instance kept under ``key``.

        ``use`` counts the calls made on that instance before this one (0 when new).
        """
        if self._reuse is None:
            return make(), 0
        instances, uses = self._reuse["instances"], self._reuse["uses"]
        if key not in instances:
            instances[key] = make()
        use = uses.get(key, 0)
        uses[key] = use + 1
        return instances[key], use

    def keep(self, *objects) -> None:
        """While reusing, keep these handles across cases too (what an instance holds)."""
        if self._reuse is not None:
            self._reuse["extra"].extend(objects)

    def assign(self, use: int, user: str, obj: Ref, value, *, name=None, key=None,
               holder=None) -> None:
        """Give the layer a weight: a new array, or (third use on) written in place into
        the one it holds (``obj.name``, or ``holder[key]`` of a dict it holds)."""
        target = holder if key is not None else obj
        if use >= 2 and self.write(target, value, user, name=name, key=key):
            return
        if key is not None:
            self.set_item(holder, key, value, user)
        else:
            self.set(obj, name, value, user)

    def assign_all(self, use: int, user: str, obj: Ref, values: dict) -> None:
        """:meth:`assign` of several attributes in one call into the module."""
        self._through(user, self.ex.assign, obj, values, write=use >= 2)

    def decoy(self, fn, *args):
        """While reusing, call ``fn`` on other inputs of the same shapes; result dropped."""
        if self._reuse is not None:
            fn(*(flipped(a) for a in args))

    def remember_forward(self, obj, fn, *args) -> None:
        """While reusing, note the last forward call on ``obj`` (for :meth:`replay`)."""
        if self._reuse is not None:
            key = obj.ident if isinstance(obj, Ref) else id(obj)
            self._reuse.setdefault("last", {})[key] = (fn, args)

    def replay(self, obj) -> None:
        """While reusing, call the last forward of ``obj`` again on other inputs: the
        way a numerical gradient check calls forward after reading the gradients."""
        key = obj.ident if isinstance(obj, Ref) else id(obj)
        if self._reuse is not None and key in self._reuse.get("last", {}):
            fn, args = self._reuse["last"][key]
            self.decoy(fn, *args)


class ClassAdapter(Adapter):
    """An API of classes: user functions are named ``Class.method``."""

    def user_class(self, class_name: str):
        """The inventory entry of the module's class ``class_name`` (None: none)."""
        entry = self.entry(class_name)
        return entry if entry is not None and entry["kind"] == "class" else None

    def takes(self, user_function: str, parameter: str) -> bool:
        """Whether ``user_function`` (a class: its constructor) has ``parameter``."""
        return parameter in (self.params(user_function) or ())

    def construct(self, user_function: str, class_name: str, /, *args, **kwargs) -> Ref:
        """A new instance of the user's ``class_name`` (constructors may draw from the
        global NumPy random state of the executor)."""
        cls = self.function(class_name, user_function)
        return self.call(user_function, cls, *args, names=(), returns="ref", **kwargs)

    def pin(self, class_name: str, args: tuple, seed: int):
        """Build the user's ``class_name(*args)`` now, where a document cell builds it
        (after ``np.random.seed(seed)``, before its draws), and use it for that class
        until :meth:`unpin`; the global random state after the construction (the cell's
        next draws continue from it). None when the module has no such class."""
        if self.user_class(class_name) is None:
            return None
        stream = self.ex.import_module("numpy.random")
        self._through(class_name, self.ex.method, stream, "seed", seed)
        self.pinned[class_name] = self.construct(class_name, class_name, *args)
        state = self._through(class_name, self.ex.method, stream, "get_state")
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == "MT19937"
                and isinstance(state[1], np.ndarray) and state[1].shape == (624,)):
            raise ApiMismatch(class_name, f"after {class_name}(...), NumPy's random state "
                                          f"is not one NumPy gives")
        return (state[0], state[1].astype(np.uint32), int(state[2]), int(state[3]),
                float(state[4]))

    def unpin(self) -> None:
        self.pinned.clear()

    def new(self, user_function: str, class_name: str, /, *args, **kwargs):
        """``(instance, use)`` of the user's class (kept across calls while reusing)."""
        if class_name in self.pinned:
            return self.pinned[class_name], 0
        key = (class_name, args, tuple(sorted(kwargs.items())))
        return self.instance(key, lambda: self.construct(user_function, class_name, *args,
                                                         **kwargs))


class _Api:
    """The functional-API object of an adapter (attributes set by :meth:`Adapter.api`)."""

    def __init__(self, adapter: Adapter):
        self.adapter = adapter

    def reusing(self):
        return self.adapter.reusing()

    def take_findings(self) -> list:
        return self.adapter.take_findings()

    def take_flags(self) -> list:
        return self.adapter.take_flags()

    def take_variants(self) -> list:
        return self.adapter.take_variants()

    def deferring(self):
        return self.adapter.deferring()

    def resolve(self, values: dict) -> dict:
        return self.adapter.resolve(values)

    def document_constructor(self, class_name: str, args: tuple, seed: int):
        """Build the layer a document cell builds, where it builds it (class APIs only):
        after ``np.random.seed(seed)`` where the module runs; the global random state
        after it (None when the API has no such class)."""
        pin = getattr(self.adapter, "pin", None)
        return pin(class_name, args, seed) if pin is not None else None

    def document_done(self) -> None:
        unpin = getattr(self.adapter, "unpin", None)
        if unpin is not None:
            unpin()

    def forget(self) -> None:
        """Start a new case: forget what earlier calls returned."""
        self.adapter.forget()

    def returned(self, functional: str, output: str):
        """What the last call of ``functional`` returned as ``output`` (None: no call)."""
        if functional not in self.adapter.results or functional not in FUNCTIONAL:
            return None
        names = FUNCTIONAL[functional][1]
        if output not in names:
            return None
        result = self.adapter.results[functional]
        return result if len(names) == 1 else result[names.index(output)]

    def returned_none(self, functional: str, output: str) -> bool:
        """Whether the last call of ``functional`` returned None as ``output``."""
        return (functional in self.adapter.results
                and self.returned(functional, output) is None)

    @property
    def reuse_notes(self):
        return self.adapter.reuse_notes


def _listing(names) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} values ({', '.join(names)})"


__all__ = ["FUNCTIONAL", "MISSING", "Adapter", "ApiMismatch", "ClassAdapter", "flipped",
           "describe_value"]
