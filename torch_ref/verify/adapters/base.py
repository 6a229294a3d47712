"""What every adapter shares: the functional API it maps onto, and the call machinery.

The catalog runs components through the functional API (``rnn_forward(x, h0, Wx,
Wh, b) -> (h, cache)`` ...; table :data:`FUNCTIONAL`). An adapter turns a user's
module written to some other API into an object exposing those functions
(:meth:`Adapter.api`), and says which user function answers for which tensor, so
that a report names ``RNNLayer.backward`` rather than ``rnn_backward``.

A subclass declares :attr:`Adapter.BINDINGS` (functional name -> user function, or
output name -> user function when one functional call spans several user calls)
and implements :meth:`Adapter.present` and :meth:`Adapter.implement`. The base
class supplies:

- guarded calls (:meth:`Adapter.call`): time limit, captured output, the user
  function named in any exception;
- return checks (:meth:`Adapter.values`): ``None`` or a wrong number of values is an
  :class:`ApiMismatch` naming the function and where it is defined;
- missing user functions: the outputs they would give are :data:`MISSING`, which
  the comparison skips, so a module without ``rnn_backward`` still has its
  ``rnn_forward`` checked;
- in-place checks: an array argument changed by a call is recorded in
  :attr:`Adapter.findings` against that user function;
- reuse (:meth:`Adapter.reusing`): instances kept across calls, weights given as
  new arrays and then changed in place, and extra forward calls slipped in before
  a backward reads its cache or a caller reads gradients, the way notebooks and
  numerical gradient checks use a layer.
"""
from __future__ import annotations

import contextlib

import numpy as np

from torch_ref.catalog import functional_signatures
from torch_ref.verify.loader import CallGuard, definition_of

# functional name -> (argument names, returned names); one returned name: a bare value;
# the catalog entries' signatures
FUNCTIONAL = functional_signatures()


class _Missing:
    """Stands for an output of a user function the module does not define."""

    def __repr__(self):
        return "MISSING"


MISSING = _Missing()


class ApiMismatch(Exception):
    """The module answered, but not the way its API says (None, wrong count, no key).

    ``verify_function`` names the user function at fault.
    """

    def __init__(self, function: str, message: str):
        super().__init__(message)
        self.verify_function = function


def defined_at(obj) -> str:
    """``file:line`` where a function or class is defined (empty when unknown)."""
    return definition_of(obj)


def describe_value(value) -> str:
    """A short description of what a function returned (``a tuple of 3``, ``None`` ...)."""
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


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
    reuse_notes = ("a new instance; forward called again on other inputs before the "
                   "results are used, as a numerical gradient check does",
                   "the same instance again, given new weight arrays",
                   "the same instance again, its weights changed in place")

    def __init__(self, module, guard: CallGuard | None = None):
        self.module = module
        self.guard = guard or CallGuard(None)
        self.findings: list = []
        self.results: dict = {}
        # (option, tensor, user function, value, factor): outputs of a call with another
        # option of the API, to compare with ``factor`` times the reference
        self.variants: list = []
        # instances built where a document cell builds them (see ClassAdapter.pin)
        self.pinned: dict = {}
        self._reuse = None

    # ---- to implement ------------------------------------------------------------

    def present(self, user_function: str) -> bool:
        """Whether the module defines ``user_function``."""
        raise NotImplementedError

    def implement(self, functional: str):
        """A callable with the functional signature, built on the user's module."""
        raise NotImplementedError

    def absence_note(self, user_function: str) -> str:
        """Why ``user_function`` counts as missing (``class LSTM not found`` ...)."""
        return f"{user_function} is not defined in the module" + self.closest(user_function)

    def closest(self, name: str) -> str:
        """``"; did you mean X (a class, file:line)?"`` for the name defined in the module
        closest to ``name`` (a misspelling, another case, a class for a function ...)."""
        import difflib

        wanted = name.split(".")[0]
        # a name that already answers for another function of the API is no suggestion
        taken = {user.split(".")[0] for user, _ in self.user_functions()} - {wanted}
        defined = {k: v for k, v in vars(self.module).items()
                   if not k.startswith("_") and callable(v) and k not in taken
                   and getattr(v, "__module__", None) == self.module.__name__}
        lower = {k.lower(): k for k in defined}
        matches = difflib.get_close_matches(wanted.lower(), list(lower), n=1, cutoff=0.6)
        if not matches:
            return ""
        found = lower[matches[0]]
        # suggested once: where it is closest (rnn_step_backwards: rnn_step_backward only)
        names = {user.split(".")[0].lower() for user, _ in self.user_functions()}
        if difflib.get_close_matches(found.lower(), list(names), n=1, cutoff=0) != [
                wanted.lower()]:
            return ""
        obj = defined[found]
        what = "a class" if isinstance(obj, type) else "a function"
        where = f", {defined_at(obj)}" if defined_at(obj) else ""
        if found == wanted:
            return f"; {found} is defined, but as {what}{where}"
        return f"; did you mean {found} ({what}{where})?"

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
                seen.setdefault(user, functional in self.OPTIONAL)
        return list(seen.items())

    def course_hint(self, hint: str) -> str:
        """A hint in the course's words (default: gate blocks by ``GATES`` names)."""
        from torch_ref.verify.adapters.course import gate_names_in

        return gate_names_in(hint, self.GATES)

    def keeps(self, component, case) -> bool:
        """Whether ``case`` is one the course's own template handles (default: all)."""
        return True

    def supports(self, component) -> bool:
        """Whether the API has every function of ``component`` (``COMPONENTS``, when set,
        also names the components it can answer: a course's GRU has one formulation)."""
        if self.COMPONENTS is not None and component.name not in self.COMPONENTS:
            return False
        return all(f in self.BINDINGS for f in component.functions)

    def runnable(self, functional: str) -> bool:
        return self.present(self.user_functions_of(functional)[0])

    # ---- the functional object -------------------------------------------------------

    def api(self):
        """An object whose attributes are the functional functions this API provides."""
        namespace = _Api(self)
        for functional in self.BINDINGS:
            impl = self.implement(functional) if self.runnable(functional) else None
            if impl is None:
                impl = self._missing_impl(functional)
            setattr(namespace, functional, self._checked(functional, impl))
        return namespace

    def _missing_impl(self, functional: str):
        outputs = FUNCTIONAL[functional][1]

        def missing(*args, **kwargs):
            return MISSING if len(outputs) == 1 else (MISSING,) * len(outputs)
        return missing

    def _checked(self, functional: str, impl):
        """``impl`` with its array arguments watched for in-place changes."""
        names = self.ARGUMENTS.get(functional, FUNCTIONAL[functional][0])
        user = self.user_functions_of(functional)[0]

        def call(*args, **options):  # options: the component's (reset_after=False)
            # the user's code gets its own copies: a change it makes is reported, and
            # never reaches the next call or the numbers it is compared with
            given = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
            watched = [(names[i] if i < len(names) else f"argument {i}", mine, a)
                       for i, (a, mine) in enumerate(zip(args, given, strict=True))
                       if isinstance(a, np.ndarray)]
            try:
                result = impl(*given, **options)
                self.results[functional] = result
                return result
            finally:
                for name, array, before in watched:
                    if not _same(array, before):
                        self.findings.append((user, name))
        call.__name__ = functional
        return call

    # ---- helpers for subclasses ------------------------------------------------------

    def call(self, user_function: str, fn, /, *args, **kwargs):
        """Call user code as ``user_function`` (time limit, output captured)."""
        return self.guard.run(user_function, fn, *args, **kwargs)

    def construct(self, user_function: str, cls, /, *args, **kwargs):
        """A new instance of the user's ``cls`` (constructors may draw from the global
        NumPy random state; ``verify`` puts it back as it was when it is done)."""
        return self.call(user_function, cls, *args, **kwargs)

    def values(self, user_function: str, fn, result, names: tuple):
        """Check what ``fn`` returned: ``len(names)`` values (a bare value for one name)."""
        if result is not None and (len(names) == 1 or (
                isinstance(result, (tuple, list)) and len(result) == len(names))):
            return result if len(names) == 1 else tuple(result)
        where = defined_at(fn)
        where = f" (defined at {where})" if where else ""
        if result is None:
            error = ApiMismatch(user_function, f"{user_function} returned None{where}; "
                                f"expected {_listing(names)} (a missing return statement?)")
            error.returned_none = True
            raise error
        if len(names) == 1:
            return result
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            raise ApiMismatch(user_function,
                              f"{user_function} returned {describe_value(result)}{where}; "
                              f"expected {len(names)} values ({', '.join(names)})")
        return tuple(result)

    def lookup(self, mapping, key, user_function: str, what: str, why: str = ""):
        """``mapping[key]``, or an :class:`ApiMismatch` listing the keys there are.

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

    # ---- reuse -----------------------------------------------------------------------

    @contextlib.contextmanager
    def reusing(self):
        """Keep instances across calls (see the module docstring) inside this block."""
        self._reuse = {"instances": {}, "uses": {}}
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

    def assign(self, use: int, current, value, rebind) -> None:
        """Give the layer a weight: rebind a new array, or (third use on) write in place."""
        if (use >= 2 and isinstance(current, np.ndarray) and current.shape == value.shape
                and current.flags.writeable):
            current[...] = value
        else:
            rebind(value)

    def decoy(self, fn, *args):
        """While reusing, call ``fn`` on other inputs of the same shapes; result dropped."""
        if self._reuse is not None:
            fn(*(flipped(a) for a in args))

    def remember_forward(self, obj, fn, *args) -> None:
        """While reusing, note the last forward call on ``obj`` (for :meth:`replay`)."""
        if self._reuse is not None:
            self._reuse.setdefault("last", {})[id(obj)] = (fn, args)

    def replay(self, obj) -> None:
        """While reusing, call the last forward of ``obj`` again on other inputs: the
        way a numerical gradient check calls forward after reading the gradients."""
        if self._reuse is not None and id(obj) in self._reuse.get("last", {}):
            fn, args = self._reuse["last"][id(obj)]
            self.decoy(fn, *args)

    def take_findings(self) -> list:
        found, self.findings = self.findings, []
        return found

    def take_variants(self) -> list:
        found, self.variants = self.variants, []
        return found


class ClassAdapter(Adapter):
    """An API of classes: user functions are named ``Class.method``."""

    def user_class(self, class_name: str):
        cls = getattr(self.module, class_name, None)
        return cls if isinstance(cls, type) else None

    def present(self, user_function: str) -> bool:
        if "." not in user_function:
            return callable(getattr(self.module, user_function, None))
        class_name, method = user_function.split(".", 1)
        cls = self.user_class(class_name)
        return cls is not None and callable(getattr(cls, method, None))

    def absence_note(self, user_function: str) -> str:
        if "." not in user_function:
            return f"no function {user_function} in the module" + self.closest(user_function)
        class_name, method = user_function.split(".", 1)
        if self.user_class(class_name) is None:
            return f"no class {class_name} in the module" + self.closest(class_name)
        return f"class {class_name} has no method {method}"

    def pin(self, class_name: str, *args) -> bool:
        """Build the user's ``class_name(*args)`` now, where a document cell builds it (after
        its seed, before its draws), and use it for that class until :meth:`unpin`.
        False when the module has no such class."""
        cls = self.user_class(class_name)
        if cls is None:
            return False
        self.pinned[class_name] = self.construct(class_name, cls, *args)
        return True

    def unpin(self) -> None:
        self.pinned.clear()

    def new(self, user_function: str, class_name: str, /, *args, **kwargs):
        """``(instance, use)`` of the user's class (kept across calls while reusing)."""
        if class_name in self.pinned:
            return self.pinned[class_name], 0
        key = (class_name, args, tuple(sorted(kwargs.items())))
        cls = self.user_class(class_name)
        return self.instance(key, lambda: self.construct(user_function, cls, *args, **kwargs))

    def method(self, obj, name: str, user_function: str):
        """A bound method of a user's object, as a guarded call."""
        bound = getattr(obj, name)
        return lambda *args: self.call(user_function, bound, *args)


class _Api:
    """The functional-API object of an adapter (attributes set by :meth:`Adapter.api`)."""

    def __init__(self, adapter: Adapter):
        self.adapter = adapter

    def reusing(self):
        return self.adapter.reusing()

    def take_findings(self) -> list:
        return self.adapter.take_findings()

    def take_variants(self) -> list:
        return self.adapter.take_variants()

    def document_constructor(self, class_name: str, *args) -> bool:
        """Build the layer a document cell builds, where it builds it (class APIs only)."""
        pin = getattr(self.adapter, "pin", None)
        return bool(pin and pin(class_name, *args))

    def document_done(self) -> None:
        unpin = getattr(self.adapter, "unpin", None)
        if unpin is not None:
            unpin()

    def forget(self) -> None:
        """Start a new case: forget what earlier calls returned."""
        self.adapter.results.clear()

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


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit for bit (NaN equals itself; fast for the small arrays of a check)."""
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
