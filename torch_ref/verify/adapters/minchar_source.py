"""What a min-char-rnn script says, read from its source by the grader (never run).

Karpathy's ``min-char-rnn.py`` has thousands of forks and rewrites; they rename the
weights (``U, W, V``, ``Wx``, ``weights_input_to_hidden``), the function (``loss_fun``,
``compute_loss_and_gradients``), move it into a class, add a cell state. Everything the
adapter (:mod:`torch_ref.verify.adapters.minchar`) needs is read here from the code:

- the entry point (:func:`find_entries`): a function or method named like ``lossFun``,
  or shaped like it (it returns a loss and gradients made by ``np.zeros_like``);
- its parameters: each gradient ``dX = np.zeros_like(P)`` names its weight ``P``, and
  the return statement the position of each gradient (:func:`read_entry`);
- the module variables it reads (``vocab_size``, ``hidden_size``, ``seq_length`` ...);
- how it clips (:class:`Clipping`): the bound of ``np.clip(d, -5, 5, out=d)`` and whether
  the clip has any effect;
- for an LSTM, its gates: one matrix per gate on ``[x; h]`` or ``[h; x]`` (the names'
  letters say which gate), or one packed matrix whose gate order its slices give.
"""
from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

from torch_ref.verify.load.script import python3_source

ENTRY_NAMES = ("lossfun", "lossfunc", "lossfunction", "forwardbackward")
VANILLA = ("Wxh", "Whh", "Why", "bh", "by")
# the names a size goes by in the forks (a weight of the same name wins: U, W, V)
SIZE_NAMES = {
    "V": ("vocab_size", "V", "VOCAB_SIZE", "vocabulary_size", "input_size", "n_vocab",
          "num_chars", "charset_size", "output_size", "n_chars", "vocab_len"),
    "H": ("hidden_size", "H", "HIDDEN_SIZE", "hidden_dim", "n_hidden", "hidden_units",
          "num_hidden", "hidden"),
    "T": ("seq_length", "SEQ_LENGTH", "sequence_length", "seq_len", "SEQ_LEN", "T"),
}
_BUILTINS = set(dir(builtins))
_SIGMOIDS = ("sigmoid", "expit", "logistic")
_STACKERS = ("vstack", "row_stack", "concatenate", "hstack")


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def is_entry_name(name: str) -> bool:
    n = _norm(name)
    return n in ENTRY_NAMES or n.startswith("computeloss")


def parse(text: str):
    """The module's tree (Python 2 statements rewritten as the script loader does), or
    None when it does not parse."""
    try:
        return ast.parse(python3_source(text)[0])
    except (SyntaxError, ValueError):
        return None


# ---- the entry point ---------------------------------------------------------------------

@dataclass
class Entry:
    """A candidate entry point: ``name`` as the report names it (``lossFun``,
    ``RNN.lossFun``), its class (or None), its ``def``, its positional parameters (no
    ``self``) and the rule that found it."""

    name: str
    cls: str | None
    node: ast.FunctionDef
    params: list
    rule: str

    @property
    def line(self) -> int:
        return self.node.lineno


def _positional(node, method: bool) -> list:
    """The positional parameters a call must give (``self`` and those with a default
    aside: ``lossFun(inputs, targets, hprev, verbose=False)`` is called with three)."""
    args = [a.arg for a in node.args.posonlyargs + node.args.args]
    if node.args.defaults:
        args = args[:-len(node.args.defaults)]
    return args[1:] if method and args else args


def _zeros_like(node) -> dict:
    """``{gradient local: weight}`` of ``dX = np.zeros_like(P)`` (and ``np.zeros(P.shape)``)
    in a function; ``P`` is ``"name"`` or ``"self.name"``."""
    def weight(value):
        if not isinstance(value, ast.Call):
            return None
        fn = value.func
        name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
        if name == "zeros_like" and value.args:
            return _reference(value.args[0])
        if name == "zeros" and value.args and isinstance(value.args[0], ast.Attribute) \
                and value.args[0].attr == "shape":
            return _reference(value.args[0].value)
        return None

    found, aliases = {}, []
    for stmt in ast.walk(node):
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            continue
        target, value = stmt.targets[0], stmt.value
        pairs = []
        if isinstance(target, (ast.Name, ast.Attribute)):
            pairs = [(target, value)]
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) \
                and len(target.elts) == len(value.elts):
            pairs = list(zip(target.elts, value.elts, strict=True))
        elif isinstance(target, ast.Tuple) and isinstance(value, (ast.GeneratorExp,
                                                                    ast.ListComp)):
            pairs = _comprehended(target, value)
        for t, v in pairs:
            w, key = weight(v), _reference(t)
            if key is not None and w is not None:
                found.setdefault(key, w)
            elif key is not None and _reference(v) is not None:
                aliases.append((key, _reference(v)))
    for key, other in aliases:  # dWxh = self.dWxh
        if other in found:
            found.setdefault(key, found[other])
    return found


def _comprehended(target, value) -> list:
    """``dA, dB = (np.zeros_like(w) for w in (A, B))``: ``[(dA, np.zeros_like(A)), ...]``."""
    if len(value.generators) != 1:
        return []
    loop = value.generators[0]
    if not (isinstance(loop.target, ast.Name) and isinstance(loop.iter, (ast.Tuple, ast.List))
            and len(loop.iter.elts) == len(target.elts)) or loop.ifs:
        return []
    pairs = []
    for t, item in zip(target.elts, loop.iter.elts, strict=True):
        element = _substituted(value.elt, loop.target.id, item)
        pairs.append((t, element))
    return pairs


def _substituted(expr, name: str, item):
    """``expr`` with the name ``name`` replaced by the expression ``item``."""
    class Swap(ast.NodeTransformer):
        def visit_Name(self, node):
            return item if node.id == name else node
    import copy

    return Swap().visit(copy.deepcopy(expr))


def _reference(expr):
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) \
            and expr.value.id == "self":
        return "self." + expr.attr
    return None


def _returned(node):
    """The elements of the function's last ``return (a, b, ...)``, or None."""
    found = None
    for stmt in ast.walk(node):
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Tuple):
            if found is None or stmt.lineno > found.lineno:
                found = stmt
    return None if found is None else list(found.value.elts)


def _shaped_like_entry(node) -> bool:
    """Returns a tuple of at least 6 values, most of them gradients from np.zeros_like."""
    returned = _returned(node)
    if not returned or len(returned) < 6:
        return False
    grads = _zeros_like(node)
    return sum(isinstance(e, ast.Name) and e.id in grads for e in returned) >= 5


def find_entries(tree) -> list:
    """Candidate entry points, the best first: module-level functions named like
    ``lossFun``, methods so named, then any function shaped like one."""
    named, methods, shaped = [], [], []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            params = _positional(node, False)
            if is_entry_name(node.name) and len(params) >= 3:
                named.append(Entry(node.name, None, node, params, f"a function named "
                                                                 f"{node.name}"))
            elif len(params) >= 3 and _shaped_like_entry(node):
                shaped.append(Entry(node.name, None, node, params,
                                    f"{node.name} returns a loss and np.zeros_like gradients"))
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if not isinstance(item, ast.FunctionDef):
                    continue
                params = _positional(item, True)
                name = f"{node.name}.{item.name}"
                if is_entry_name(item.name) and len(params) >= 3:
                    methods.append(Entry(name, node.name, item, params,
                                         f"a method named {item.name}"))
                elif len(params) >= 3 and _shaped_like_entry(item):
                    shaped.append(Entry(name, node.name, item, params,
                                        f"{name} returns a loss and np.zeros_like "
                                        f"gradients"))
    return named + methods + shaped


# ---- what the entry point reads --------------------------------------------------------

def free_names(node) -> set:
    """Names a function reads that it neither assigns nor takes (builtins aside)."""
    stored, loaded = set(), set()
    args = node.args
    for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
        if a is not None:
            stored.add(a.arg)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (stored if isinstance(sub.ctx, (ast.Store, ast.Del)) else loaded).add(sub.id)
        elif isinstance(sub, (ast.FunctionDef, ast.Lambda, ast.ClassDef)) and sub is not node:
            if hasattr(sub, "name"):
                stored.add(sub.name)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            loaded.update(sub.names)
        elif isinstance(sub, ast.alias):
            stored.add((sub.asname or sub.name).split(".")[0])
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            stored.add(sub.name)
    return (loaded - stored) - _BUILTINS


def self_attributes(node) -> set:
    """``self.X`` read in a method."""
    return {sub.attr for sub in ast.walk(node) if isinstance(sub, ast.Attribute)
            and isinstance(sub.value, ast.Name) and sub.value.id == "self"
            and isinstance(sub.ctx, ast.Load)}


def literals(tree) -> dict:
    """Module-level ``name = <number>`` assignments."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(value, (int, float)):
                    found[target.id] = value
    return found


# ---- clipping ---------------------------------------------------------------------------

@dataclass
class Clipping:
    """How the entry point clips its gradients.

    bound:     the bound its ``np.clip`` means (None: it has none).
    effective: whether the clip changes what it returns (``np.clip(d, -5, 5)`` whose
               result is dropped, or assigned to a loop variable, does not).
    line:      where; text: the call as written.
    """

    bound: float | None = None
    effective: bool = True
    line: int = 0
    text: str = ""
    unread: bool = False

    @property
    def returned_bound(self) -> float:
        """The bound the returned gradients obey (``inf``: none)."""
        return self.bound if self.bound is not None and self.effective else float("inf")

    def describe(self) -> str:
        if self.bound is None:
            return ("no clipping: the gradients are returned as computed (as in the gist's "
                    "first revisions)" if not self.unread else
                    f"clipped at a bound verify cannot read ({self.text}, line {self.line})")
        bound = f"[-{self.bound:g}, {self.bound:g}]"
        if not self.effective:
            return (f"{self.text} (line {self.line}) means to clip to {bound} but has no "
                    f"effect (its result is dropped)")
        return f"gradients clipped to {bound} ({self.text}, line {self.line})"


def _number(expr, constants: dict):
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, float)):
        return float(expr.value)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        value = _number(expr.operand, constants)
        return None if value is None else (-value if isinstance(expr.op, ast.USub) else value)
    if isinstance(expr, ast.Name) and expr.id in constants:
        return float(constants[expr.id])
    return None


def clipping(node, source: str, returned_names: set, constants: dict) -> Clipping:
    """The :class:`Clipping` of the entry point ``node``."""
    parents = {}
    for sub in ast.walk(node):
        for child in ast.iter_child_nodes(sub):
            parents[child] = sub
    loops = {}  # loop variable -> for statement
    for sub in ast.walk(node):
        if isinstance(sub, ast.For) and isinstance(sub.target, ast.Name):
            loops[sub.target.id] = sub
    found = []
    for sub in ast.walk(node):
        if not (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                and sub.func.attr == "clip"):
            continue
        # np.clip(d, lo, hi[, out]) or d.clip(lo, hi[, out])
        function = isinstance(sub.func.value, ast.Name) and sub.func.value.id in ("np",
                                                                               "numpy")
        bounds = sub.args[1:3] if function else sub.args[:2]
        if len(bounds) < 2:
            continue
        low, high = (_number(a, constants) for a in bounds)
        text = " ".join((ast.get_source_segment(source, sub) or "np.clip(...)").split())
        if high is None:
            found.append(Clipping(None, True, sub.lineno, text, unread=True))
            continue
        out = (len(sub.args) >= (4 if function else 3)
               or any(k.arg == "out" for k in sub.keywords))
        parent = parents.get(sub)
        while isinstance(parent, (ast.Tuple, ast.List)):
            parent = parents.get(parent)
        effective = out
        if not out and isinstance(parent, ast.Assign) and len(parent.targets) == 1:
            target = parent.targets[0]
            name = target.id if isinstance(target, ast.Name) else None
            effective = not isinstance(target, ast.Name) or (
                name in returned_names or name not in loops)
        bound = abs(high) if low is None or abs(low) == abs(high) else high
        found.append(Clipping(bound, effective, sub.lineno, text))
    if not found:
        return Clipping()
    return next((c for c in found if c.effective), found[0])


# ---- the model ---------------------------------------------------------------------------

_GATE_LETTERS = {"i": "i", "f": "f", "o": "o", "c": "g", "g": "g", "z": "g", "u": "g",
                 "a": "g", "j": "g"}


def gate_of(name: str):
    """The gate a per-gate weight or bias is for, from its name (``Wf`` -> f, ``bcc`` -> g,
    ``W_o`` -> o); None for another weight (``Why``, ``Wy``, ``by``)."""
    rest = re.sub(r"^(self\.)?[WwBb]_?", "", name)
    if not rest or rest[0].lower() not in _GATE_LETTERS:
        return None
    if rest.lower() in ("hy", "y", "out", "ho", "yh", "hv", "v"):
        return None
    return _GATE_LETTERS[rest[0].lower()]


def stacking(node) -> bool | None:
    """Whether the gates act on ``[x; h]`` (True) or ``[h; x]`` (False), from the first
    ``np.vstack((x, h))``-like call in the function; None when it has none."""
    for sub in ast.walk(node):
        if not (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute)
                and sub.func.attr in _STACKERS and sub.args):
            continue
        if isinstance(sub.args[0], (ast.Tuple, ast.List)) and len(sub.args[0].elts) == 2:
            pair = sub.args[0].elts
        elif len(sub.args) == 2:  # np.row_stack(x, h): a TypeError, but its order is plain
            pair = sub.args
        else:
            continue
        first, second = ast.unparse(pair[0]), ast.unparse(pair[1])
        if re.match(r"^(xs|x|emb|inputs?)\b", first) or re.match(r"^h", second):
            return True
        if re.match(r"^h", first):
            return False
    return None


def _multiple(expr, sizes: set):
    """``k`` of a slice bound ``k * H`` (None: the start; -1: not a multiple of H)."""
    if expr is None:
        return 0
    if isinstance(expr, ast.Name) and expr.id in sizes:
        return 1
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        for a, b in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(a, ast.Constant) and isinstance(a.value, int) \
                    and isinstance(b, ast.Name) and b.id in sizes:
                return a.value
    return -1


def _aliases(node, sizes: set) -> set:
    """``sizes`` and the locals a function sets to one of them (``H = hidden_size``)."""
    aliases = set(sizes)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Name) \
                and sub.value.id in sizes:
            aliases.update(t.id for t in sub.targets if isinstance(t, ast.Name))
    return aliases


def slice_blocks(node, sizes: set) -> set:
    """The blocks ``k`` of every slice ``[k*H:(k+1)*H]`` a function takes (gates packed
    along the hidden axis: 3 for a GRU, 4 for an LSTM)."""
    aliases = _aliases(node, sizes)
    starts = set()
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Slice) or (sub.lower is None and sub.upper is None):
            continue
        low, high = _multiple(sub.lower, aliases), _multiple(sub.upper, aliases)
        if sub.lower is None and high <= 0 or sub.upper is None and low <= 0:
            continue  # [:k] or [k:] of something else
        if low >= 0 and (sub.upper is None or high > 0):
            starts.add(low)
    return starts


def packed_gates(node, sizes: set):
    """The gate blocks of a packed pre-activation, in the order of their slices:
    ``["i", "f", "o", "g"]`` from ``is_[t] = sigmoid(z[:H])``, ``fs[t] = sigmoid(z[H:2*H])``
    ...; the number of blocks when the letters cannot be read; None without slices."""
    aliases = _aliases(node, sizes)
    blocks = {}
    for sub in ast.walk(node):
        if not (isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call)
                and sub.value.args and isinstance(sub.value.args[0], ast.Subscript)
                and isinstance(sub.value.args[0].slice, ast.Slice)):
            continue
        start = _multiple(sub.value.args[0].slice.lower, aliases)
        if start is None or start < 0:
            continue
        fn = sub.value.func
        fname = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
        target = sub.targets[0]
        while isinstance(target, ast.Subscript):
            target = target.value
        name = target.id if isinstance(target, ast.Name) else ""
        if fname == "tanh":
            letter = "g"
        elif (fname in _SIGMOIDS or fname.startswith("sig")) and name[:1].lower() in "ifo":
            letter = name[0].lower()
        else:
            letter = "?"
        blocks.setdefault(start, letter)
    if not blocks:
        return None
    order = [blocks[k] for k in sorted(blocks)]
    if sorted(blocks) == list(range(len(blocks))) and sorted(order) == sorted("ifog"):
        return order
    return len(blocks)


@dataclass
class Reading:
    """What the grader knows of the module's entry point (see the module docstring).

    kind:      ``rnn``, ``lstm`` (one matrix per gate), ``lstm-packed``, or why it is not
               checkable (``unsupported``, with ``problem``).
    weights:   role -> the module's name (``Wxh`` -> ``U``; ``self.Wxh`` for a method; an
               LSTM with a matrix per gate: ``Wf`` ... ``bo``, ``Why``, ``by``).
    grads:     role -> the name of its gradient in the return statement (for reports).
    returns:   what each returned value is: ``loss``, a role, ``h``, ``c``.
    sizes:     size (``V``, ``H``, ``T``) -> the module variables and attributes read for it.
    states:    the positional parameters after inputs and targets: ``h``, ``c`` or a size.
    """

    entry: Entry
    kind: str = "rnn"
    problem: str = ""
    weights: dict = field(default_factory=dict)
    grads: dict = field(default_factory=dict)
    returns: list = field(default_factory=list)
    sizes: dict = field(default_factory=dict)
    attributes: dict = field(default_factory=dict)
    states: list = field(default_factory=list)
    unknown: list = field(default_factory=list)
    clip: Clipping = field(default_factory=Clipping)
    gates: tuple = ()
    gate_names: dict = field(default_factory=dict)
    x_first: bool = True
    evidence: list = field(default_factory=list)


def assigned_names(tree) -> set:
    """Names the module's top-level code assigns (in its loops and ifs too; never in a
    function or class)."""
    found = set()

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                  ast.Lambda)):
                continue
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                found.add(child.id)
            visit(child)
    visit(tree)
    return found


def _typos_mended(params, node, tree, entry) -> list:
    """A weight named only in ``np.zeros_like(whh)`` (a typo: the module sets and the
    function reads ``Whh``) -> the one it meant; the call still reports the typo."""
    if entry.cls is not None:
        return params
    assigned = assigned_names(tree)
    free = free_names(node) & assigned
    out = []
    for p in params:
        if p not in assigned:
            meant = [f for f in free if f.lower() == p.lower() and f not in params]
            p = meant[0] if len(meant) == 1 else p
        out.append(p)
    return out


def _state_kind(name: str) -> str:
    n = name.lower()
    for size, names in SIZE_NAMES.items():
        if name in names or n in (x.lower() for x in names):
            return size
    if re.match(r"^(c|s|cell|mem)", n) and not n.startswith(("cur",)):
        return "c"
    return "h"


def read_entry(entry: Entry, tree, source: str, defined: set) -> Reading:
    """The :class:`Reading` of ``entry``; ``defined``: the names the loaded module
    defines."""
    node = entry.node
    found = Reading(entry)
    found.states = [_state_kind(p) for p in entry.params[2:]]
    grads = _zeros_like(node)
    returned = _returned(node) or []
    constants = literals(tree)
    names = [e.id if isinstance(e, ast.Name) else None for e in returned]
    params = [grads[n] for n in names if n in grads] if returned else list(
        dict.fromkeys(grads.values()))
    found.clip = clipping(node, source, {n for n in names if n}, constants)
    lstm = "c" in found.states
    found.evidence.append(f"{entry.name}({', '.join(entry.params)}) at line {entry.line} "
                          f"({entry.rule})")
    params = _typos_mended(params, node, tree, entry)
    gist = [w for w in VANILLA if w in free_names(node) and w in assigned_names(tree)]
    if not returned and not lstm and (len(set(params)) == 5 or len(gist) == 5):
        # no return statement yet (or not a tuple): checked as the gist's (the weights
        # its gradients are made like, or the gist's names); the call says what is missing
        params = params if len(set(params)) == 5 else gist
        names = ["loss", *(f"d{p}" for p in params), "h"]
        grads = {f"d{p}": p for p in params}
        found.evidence.append(f"no return (loss, gradients, state) statement: checked as "
                              f"the gist's lossFun, of {', '.join(params)}")
    elif not returned:
        found.kind, found.problem = "unsupported", (f"{entry.name} returns no tuple of values "
                                                    f"(loss, gradients, last state)")
        return found
    if lstm:
        per_gate = [p for p in params if gate_of(p.split(".")[-1])]
        if len(per_gate) >= 8:
            _per_gate(found, node, params, names, grads)
        else:
            _packed(found, node, params, names, grads)
    else:
        _vanilla(found, node, params, names, grads)
    if found.kind != "unsupported":
        _reads(found, node, defined)
    return found


def _positions(found, names, grads, roles: dict) -> None:
    """``found.returns`` from the return statement: ``loss`` first, each gradient's
    role, then the states ``h`` (and ``c``)."""
    out, states = [], iter(("h", "c"))
    for k, name in enumerate(names):
        if k == 0:
            out.append("loss")
        elif name in grads and grads[name] in roles:
            out.append(roles[grads[name]])
            found.grads[roles[grads[name]]] = name
        else:
            out.append(next(states, "?"))
    found.returns = out
    wanted = {"h", "c"} if found.kind.startswith("lstm") else {"h"}
    if "?" in out or not wanted <= set(out) or len(set(roles.values()) - set(out)):
        found.kind = "unsupported"
        found.problem = (f"{found.entry.name} returns {len(names)} values; verify expects "
                         f"the loss, a gradient of each weight and the last state"
                         f"{'s h and c' if len(wanted) > 1 else ''}")


def _vanilla(found, node, params, names, grads) -> None:
    count = len(slice_blocks(node, set(SIZE_NAMES["H"]) | {"H"}))
    if count > 1:
        what = "a GRU" if count == 3 else f"{count} gate blocks"
        found.kind, found.problem = "unsupported", (
            f"{found.entry.name} packs {what} into its weights (slices of the hidden "
            f"size) and takes no cell state: the minchar API checks the vanilla RNN "
            f"and the LSTM ports")
        return
    if len(params) != 5 or len(names) != 7:
        found.kind = "unsupported"
        found.problem = (f"{found.entry.name} returns {len(names)} values with "
                         f"{len(params)} gradients; the minchar API checks the one-layer "
                         f"RNN (7 values: loss, 5 gradients, the last hidden state) and the "
                         f"LSTM ports (a multi-layer network?)")
        return
    # the gist's order: the return statement's k-th gradient is of the k-th weight
    roles = dict(zip(params, VANILLA, strict=True))
    found.weights = {role: param for param, role in roles.items()}
    _positions(found, names, grads, roles)
    if not any(e.startswith("no return") for e in found.evidence):
        found.evidence.append(f"gradients returned in the gist's order, of "
                              f"{', '.join(params)}")


def _per_gate(found, node, params, names, grads) -> None:
    found.kind = "lstm"
    gates, others = {}, []
    for p in params:
        gate = gate_of(p.split(".")[-1])
        kind = "b" if re.match(r"^(self\.)?[Bb]", p) else "W"
        if gate is None:
            others.append(p)
        elif (kind, gate) in gates:
            found.kind = "unsupported"
            found.problem = (f"{found.entry.name}: two weights of gate {gate} "
                             f"({gates[(kind, gate)]}, {p}); verify cannot tell the gates "
                             f"apart")
            return
        else:
            gates[(kind, gate)] = p
    outputs_w = [p for p in others if not re.match(r"^(self\.)?[Bb]", p)]
    outputs_b = [p for p in others if re.match(r"^(self\.)?[Bb]", p)]
    if len(gates) != 8 or len(outputs_w) != 1 or len(outputs_b) != 1:
        found.kind = "unsupported"
        found.problem = (f"{found.entry.name}: gradients of {', '.join(params)}; verify reads "
                         f"an LSTM of one matrix and one bias per gate (i, f, o and the "
                         f"candidate) and one output layer")
        return
    untied = sorted({sub.value.id for sub in ast.walk(node) if isinstance(sub, ast.Subscript)
                     and isinstance(sub.value, ast.Name) and sub.value.id in params
                     and ast.unparse(sub.slice) == "t"})
    if untied:
        found.kind = "unsupported"
        found.problem = (f"{found.entry.name} reads its weights per step "
                         f"({', '.join(f'{w}[t]' for w in untied)}): weights untied across "
                         f"time are another model than an LSTM")
        return
    stacked = stacking(node)
    if stacked is None:
        found.kind = "unsupported"
        found.problem = (f"{found.entry.name}: no np.vstack((x, h)) (or [h; x]) found; "
                         f"verify cannot tell which columns of the gate matrices act on the "
                         f"input")
        return
    found.x_first = stacked
    roles = {p: f"{kind}{gate}" for (kind, gate), p in gates.items()}
    roles[outputs_w[0]], roles[outputs_b[0]] = "Why", "by"
    found.weights = {role: p for p, role in roles.items()}
    found.gate_names = {gate: re.sub(r"^(self\.)?[Ww]_?", "", gates[("W", gate)])
                        for gate in "ifog"}
    _positions(found, names, grads, roles)
    found.evidence.append(f"one matrix per gate on [{'x; h' if stacked else 'h; x'}]: "
                          + ", ".join(f"{gates[('W', g)]} ({g})" for g in "ifog"))


def _packed(found, node, params, names, grads) -> None:
    sizes = set(SIZE_NAMES["H"]) | {"H"}
    order = packed_gates(node, sizes)
    if len(params) != 5 or not isinstance(order, list):
        found.kind = "unsupported"
        found.problem = (f"{found.entry.name} takes a cell state but verify reads neither "
                         f"one matrix per gate nor 4 gate blocks sliced from one "
                         f"(gradients of {', '.join(params) or 'nothing'})")
        return
    found.kind = "lstm-packed"
    found.gates = tuple(order)
    roles = dict(zip(params, VANILLA, strict=True))
    found.weights = {role: p for p, role in roles.items()}
    _positions(found, names, grads, roles)
    found.evidence.append(f"gates packed in {params[0]} in the order "
                          f"{', '.join(order)} (its slices)")


def _reads(found, node, defined: set) -> None:
    """The module variables and attributes the entry point reads, by size; ``unknown``:
    what else it reads that the loaded module does not define (set by code that never
    ran)."""
    weights = {w.split(".")[-1] for w in found.weights.values()}
    method = found.entry.cls is not None
    free = free_names(node) - {"self"} - (set() if method else weights)
    attributes = self_attributes(node) - weights if method else set()
    for size, known in SIZE_NAMES.items():
        found.sizes[size] = sorted(n for n in free if n in known)
        found.attributes[size] = sorted(n for n in attributes if n in known)
    sized = {n for names in found.sizes.values() for n in names}
    found.unknown = sorted(free - sized - defined)
