"""``--api cs231n``: a functional ``rnn_layers.py`` (the cs231n assignment's API).

Module-level functions with the signatures of ``numpy_rnn.functional``:
``rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)`` ... through
``temporal_softmax_loss(x, y, mask) -> (loss, dx)``. ``affine_forward``,
``affine_backward`` and ``mse_loss`` are not part of that API: checked when the
module defines them, reported as not applicable otherwise.

Editions (:data:`Cs231nAdapter.EDITIONS`), told apart by what the template put in the
file: 2016 (Python 2; two-space indentation; the course's own ``print 'dx_flat: '`` line,
read as Python 3 while the module loads, see :mod:`torch_ref.verify.load.shims`),
2017-2020 (``from builtins import range``; START/END markers from 2019), 2021-2024
(``affine_forward``/``affine_backward`` in the file; the LSTM is extra credit, so an
LSTM left as the template is n/a) and 2025-2026 (``rnn_layers_pytorch.py`` in
assignment 2: torch, forward functions only, the gradients by autograd, the loss given a
boolean mask; the LSTM stubs are not part of the notebook).

Caches stay with the submission (a forward's cache is handed back to its backward
as the very object it returned). Reuse here means: another forward call with other
inputs is made between a forward and the backward that takes its cache, which
catches module-level state standing in for the cache.

``temporal_softmax_loss``, ``temporal_affine_*``, ``sigmoid`` (and ``affine_*`` from
2021) are the course's own code. The NumPy editions' loss takes the log of
probabilities: it fails where a row's logits spread beyond ``exp``'s range, which only a
log-sum-exp formulation survives. That hazard is the course's, not the student's: where
the module's loss is the course's code unchanged (compared as syntax trees), the cases
built to show it are not given (any other change to the loss is checked on every case).
"""
from __future__ import annotations

import ast

import numpy as np

from torch_ref.verify.adapters.base import FUNCTIONAL, Adapter
from torch_ref.verify.adapters.editions import Edition, Sign
from torch_ref.verify.adapters.stubs import same_code
from torch_ref.verify.adapters.torch_calls import TorchCalls

_REQUIRED = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
             "word_embedding_forward", "word_embedding_backward", "sigmoid",
             "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
             "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss")
_OPTIONAL = ("affine_forward", "affine_backward", "mse_loss")
_LSTM = ("lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward")

# The NumPy editions' provided loss (2016-2024: the same code in every one, the 2016
# print statement read as Python 3), its docstring left out.
_PROVIDED_LOSS = '''
def temporal_softmax_loss(x, y, mask, verbose=False):
    N, T, V = x.shape
    x_flat = x.reshape(N * T, V)
    y_flat = y.reshape(N * T)
    mask_flat = mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    dx_flat /= N
    dx_flat *= mask_flat[:, None]
    if verbose:
        print('dx_flat: ', dx_flat.shape)
    dx = dx_flat.reshape(N, T, V)
    return (loss, dx)
'''

# the 2025-2026 torch edition: functional forward -> (which inputs need a gradient, what
# it returns); each backward is autograd through its forward
_TORCH_FORWARDS = {
    "rnn_step_forward": ((True,) * 5, ("next_h",)),
    "rnn_forward": ((True,) * 5, ("h",)),
    "word_embedding_forward": ((False, True), ("out",)),
    "lstm_step_forward": ((True,) * 6, ("next_h", "next_c")),
    "lstm_forward": ((True,) * 5, ("h",)),
    "temporal_affine_forward": ((True,) * 3, ("out",)),
    "affine_forward": ((True,) * 3, ("out",)),
}
_TORCH_BACKWARDS = {"rnn_step_backward": "rnn_step_forward", "rnn_backward": "rnn_forward",
                    "word_embedding_backward": "word_embedding_forward",
                    "lstm_step_backward": "lstm_step_forward",
                    "lstm_backward": "lstm_forward",
                    "temporal_affine_backward": "temporal_affine_forward",
                    "affine_backward": "affine_forward"}

# signs every NumPy edition shares: the loss takes a mask, the backward passes are the
# student's own functions; deeplearning.ai's Dinosaurus utils have the same names with
# a parameters dict (another API altogether)
_NUMPY = (Sign("param", "temporal_softmax_loss", "mask", 2),
          Sign("defines", "rnn_step_backward", weight=1),
          Sign("defines", "word_embedding_backward", weight=1),
          Sign("imports", "torch", weight=-1),
          Sign("param", "rnn_step_forward", "parameters", -20))


def returns_spec(names: tuple):
    """How a functional function's result comes back: its arrays as handles, read where
    the caller uses them (:meth:`Adapter.read`), its cache a handle that stays with the
    submission, anything else by value."""
    return "a" if len(names) == 1 else ["ref" if n == "cache" else "a" for n in names]


class Cs231nAdapter(TorchCalls, Adapter):
    name = "cs231n"
    description = "functional rnn_layers.py: rnn_step_forward ... temporal_softmax_loss"
    # the course's own notebooks only: other courses' cells test other templates
    golden_documents = ("cs231n_captioning_notebooks",)
    conventional_files = ("rnn_layers.py", "functional.py", "rnn_layers_pytorch.py")
    BINDINGS = {name: name for name in _REQUIRED + _OPTIONAL}
    OPTIONAL = _OPTIONAL
    EDITIONS = (
        Edition("2017-2020", "NumPy functions with caches; `from builtins import range`, "
                "START/END OF YOUR CODE markers from 2019; the LSTM is required",
                signs=_NUMPY + (Sign("source", r"^from builtins import range", weight=2),
                                Sign("source", r"^from __future__ import print_function",
                                     weight=1))),
        Edition("2021-2024", "NumPy functions with caches; affine_forward/affine_backward "
                "given in the file; the LSTM is extra credit (left as the template: n/a)",
                signs=_NUMPY + (Sign("defines", "affine_forward", weight=2),
                                Sign("defines", "affine_backward", weight=1),
                                Sign("source", r"^from builtins import range", weight=-2),
                                Sign("file", "transformer_layers.py", weight=1)),
                optional=_LSTM),
        Edition("2016", "NumPy functions with caches, Python 2: two-space indentation; the "
                "course's own `print 'dx_flat: '` line is read as Python 3, the student's "
                "Python 2 code is named as such; the LSTM is required",
                signs=_NUMPY + (Sign("source", r"print 'dx_flat: ', dx_flat\.shape", weight=4),
                                Sign("source", r'^def rnn_step_forward\(.*\n  """', weight=2))),
        Edition("2025-2026", "rnn_layers_pytorch.py (assignment 2): torch, forward functions "
                "returning bare tensors, every gradient by autograd, the loss given a "
                "boolean mask; no sigmoid; the LSTM is not part of the notebook (left as "
                "the template: n/a)",
                signs=(Sign("imports", "torch", weight=2),
                       Sign("file", "rnn_layers_pytorch.py", weight=3),
                       Sign("param", "temporal_softmax_loss", "mask", 2),
                       # what only the NumPy editions have
                       Sign("defines", "sigmoid", weight=-1),
                       Sign("defines", "lstm_step_backward", weight=-1),
                       Sign("defines", "word_embedding_backward", weight=-1),
                       Sign("source", r"cross_entropy\(", weight=1),
                       Sign("param", "rnn_step_forward", "parameters", -20)),
                bindings={**_TORCH_BACKWARDS, "sigmoid": None},
                optional=_LSTM, conventions={"torch": True}),
    )
    reuse_notes = ("first call",
                   "second call; the forward is called again with other inputs before "
                   "the backward gets its cache",
                   "third call; the forward is called again with other inputs before "
                   "the backward gets its cache")

    def __init__(self, executor=None, sources=None):
        super().__init__(executor, sources)
        # an edition without a function binds it to None: not part of its API
        self.BINDINGS = {k: v for k, v in self.BINDINGS.items() if v is not None}
        self.torch = bool(self.convention("torch", False))
        self._provided_loss = None

    # ---- the edition -----------------------------------------------------------------

    def absence_note(self, user_function: str) -> str:
        if user_function in _OPTIONAL:
            return "not part of the cs231n API (not defined in the module)"
        if user_function in _LSTM and user_function in self.optional():
            return f"not defined ({self._lstm_role()})"
        return super().absence_note(user_function)

    def _lstm_role(self) -> str:
        if self.torch:
            return "the LSTM is not part of the 2025-2026 notebook"
        return "the LSTM is extra credit in 2021-2024"

    def assumed(self) -> str:
        words = super().assumed()
        line = self._course_python2_line()
        if line:
            words += (f"; the course's own Python 2 line at {line} (in its "
                      f"temporal_softmax_loss) is read as Python 3")
        if self.provided_loss():
            words += ("; temporal_softmax_loss is the course's code, unchanged: the cases "
                      "only a log-sum-exp formulation survives are the course's hazard, "
                      "not given")
        return words

    def _file_text(self):
        file = self.ex.inventory.get("file") if self.ex is not None else None
        return (file, self.sources.text(file)) if file else (None, None)

    def _course_python2_line(self) -> str:
        """``file:line`` of the course's Python 2 print line in the module ('' if none)."""
        from torch_ref.verify.load.shims import course_lines

        file, text = self._file_text()
        if not text:
            return ""
        for number, line in enumerate(text.splitlines(), 1):
            if any(old in line for old, _ in course_lines([self.name])):
                return f"{file}:{number}"
        return ""

    def provided_loss(self) -> bool:
        """Whether the module's ``temporal_softmax_loss`` is the course's own NumPy code,
        unchanged (never for the torch edition, whose loss has no such hazard)."""
        if self._provided_loss is None:
            self._provided_loss = not self.torch and self._same_as_provided()
        return self._provided_loss

    def _same_as_provided(self) -> bool:
        from torch_ref.verify.load.shims import course_lines, read_as_course

        entry = self.entry("temporal_softmax_loss")
        where = self.where("temporal_softmax_loss")
        if entry is None or not entry.get("own") or ":" not in where:
            return False
        path, _, line = where.rpartition(":")
        text = self.sources.text(path)
        if text is None or not line.isdigit():
            return False
        try:
            tree = ast.parse(read_as_course(text, course_lines([self.name])))
        except (SyntaxError, ValueError):
            found = self.sources.at(where)
            return found is not None and same_code(found[0], _PROVIDED_LOSS)
        node = next((n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                     and n.lineno == int(line)), None)
        return node is not None and same_code(node, _PROVIDED_LOSS)

    def keeps(self, component, case) -> bool:
        if component.name == "temporal_softmax_loss" and case.extra.get("only_log_sum_exp"):
            return not self.provided_loss()
        return True

    # ---- the functional object -------------------------------------------------------

    def implement(self, functional: str):
        if self.torch:
            return self._torch_implement(functional)
        names = FUNCTIONAL[functional][1]
        arguments = self.ARGUMENTS.get(functional, FUNCTIONAL[functional][0])
        spec = returns_spec(names)

        def run(*args):
            result = self.values(functional, self.call(functional, functional, *args,
                                                       names=arguments, returns=spec), names)
            if names[-1] == "cache":
                self.decoy(lambda *a: self.call(functional, functional, *a,
                                                names=arguments, returns=spec), *args)
            return result
        return run

    def _torch_implement(self, functional: str):
        """The 2025-2026 edition: forwards through autograd, backwards by autograd."""
        if functional in _TORCH_BACKWARDS:
            return self.autograd_backward
        if functional == "temporal_softmax_loss":
            return self._torch_loss
        user = self.BINDINGS[functional]
        grads, names = _TORCH_FORWARDS[functional]
        arguments = FUNCTIONAL[functional][0]

        def run(*args):
            outputs, handle = self.through_autograd(user, self.function(user), args, grads,
                                                    names, call_names=arguments)
            return (*outputs, handle)
        return run

    def _torch_loss(self, x, y, mask):
        user = self.BINDINGS["temporal_softmax_loss"]
        scores = self.tensor(user, x, grad=True)
        # the course's mask is boolean (captions != <NULL>)
        keep = np.ascontiguousarray(np.asarray(mask).astype(bool))
        loss = self.values(user, self.call(user, user, scores, self.tensor(user, y, name="y"),
                                           self.tensor(user, keep, name="mask"),
                                           names=("x", "y", "mask"), returns="ref"),
                           ("loss",))
        return self.scalar_loss(user, loss, scores)
