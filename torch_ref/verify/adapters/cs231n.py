"""``--api cs231n``: a functional ``rnn_layers.py`` (the cs231n assignment's API).

Module-level functions with the signatures of ``numpy_rnn.functional``:
``rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)`` ... through
``temporal_softmax_loss(x, y, mask) -> (loss, dx)``. ``affine_forward``,
``affine_backward`` and ``mse_loss`` are not part of that API: checked when the
module defines them, reported as not applicable otherwise.

Caches stay with the submission (a forward's cache is handed back to its backward
as the very object it returned). Reuse here means: another forward call with other
inputs is made between a forward and the backward that takes its cache, which
catches module-level state standing in for the cache.
"""
from __future__ import annotations

from torch_ref.verify.adapters.base import FUNCTIONAL, Adapter
from torch_ref.verify.adapters.editions import Edition, Sign

_REQUIRED = ("rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
             "word_embedding_forward", "word_embedding_backward", "sigmoid",
             "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
             "temporal_affine_forward", "temporal_affine_backward", "temporal_softmax_loss")
_OPTIONAL = ("affine_forward", "affine_backward", "mse_loss")


def returns_spec(names: tuple):
    """How a functional function's result comes back: its arrays as handles, read where
    the caller uses them (:meth:`Adapter.read`), its cache a handle that stays with the
    submission, anything else by value."""
    return "a" if len(names) == 1 else ["ref" if n == "cache" else "a" for n in names]


class Cs231nAdapter(Adapter):
    name = "cs231n"
    description = "functional rnn_layers.py: rnn_step_forward ... temporal_softmax_loss"
    # the course's own notebooks only: other courses' cells test other templates
    golden_documents = ("cs231n_captioning_notebooks",)
    conventional_files = ("rnn_layers.py", "functional.py")
    BINDINGS = {name: name for name in _REQUIRED + _OPTIONAL}
    OPTIONAL = _OPTIONAL
    EDITIONS = (
        Edition("2017-2024", "NumPy functions with caches, the loss given a mask",
                signs=(Sign("param", "temporal_softmax_loss", "mask", 2),
                       Sign("file", "rnn_layers.py", weight=1),
                       Sign("imports", "torch", weight=-3))),
    )
    reuse_notes = ("first call",
                   "second call; the forward is called again with other inputs before "
                   "the backward gets its cache",
                   "third call; the forward is called again with other inputs before "
                   "the backward gets its cache")

    def absence_note(self, user_function: str) -> str:
        if user_function in _OPTIONAL:
            return "not part of the cs231n API (not defined in the module)"
        return super().absence_note(user_function)

    def implement(self, functional: str):
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
