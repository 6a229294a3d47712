"""``--api auto``: which API a loaded module is written to, from what it defines.

Each API scores the number of its user functions (``rnn_cell_forward``,
``TimeRNN.backward`` ...) the module defines itself (what it imports, such as the
course's ``sigmoid``, does not count). The highest score wins when it is the
only one; otherwise :class:`Undecided` lists the candidates and what each expects.
cs231n and eecs498 share their names: a module that imports torch is eecs498's.
"""
from __future__ import annotations

import types

# APIs sharing names, decided by whether the module imports torch
_TORCH_TWINS = {"cs231n": False, "eecs498": True}


class Undecided(ValueError):
    """No API, or more than one, fits the module; the message lists the candidates."""


def imports_torch(module) -> bool:
    return any(isinstance(v, types.ModuleType) and v.__name__.split(".")[0] == "torch"
               for v in vars(module).values())


def scores(module, adapter_classes: dict) -> dict:
    """``{api: number of its user functions the module defines}``."""
    found = {}
    uses_torch = imports_torch(module)
    for name, cls in adapter_classes.items():
        if name in _TORCH_TWINS and _TORCH_TWINS[name] != uses_torch:
            found[name] = 0
            continue
        adapter = cls(module)
        found[name] = sum(adapter.present(user) and _defined_here(module, user)
                          for user, _ in adapter.user_functions())
    return found


def _defined_here(module, user: str) -> bool:
    """Whether the function or class behind ``user`` comes from the module itself (or,
    for a handout, one of the files it gathers)."""
    obj = getattr(module, user.split(".")[0], None)
    sources = {module.__name__, *getattr(module, "__verify_sources__", ())}
    return getattr(obj, "__module__", None) in sources


def choose(module, adapter_classes: dict):
    """The adapter class for ``module``; :class:`Undecided` when there is not exactly one."""
    found = scores(module, adapter_classes)
    best = max(found.values(), default=0)
    winners = [name for name, score in found.items() if score == best]
    if best > 0 and len(winners) == 1:
        return adapter_classes[winners[0]]
    shown = winners if best > 0 else list(adapter_classes)
    lines = [f"  --api {name}: {_expects(adapter_classes[name])}" for name in shown]
    what = ("fits several APIs equally well" if best > 0 else
            "defines none of the functions or classes of a known API")
    raise Undecided(f"the module {what}; choose one with --api:\n" + "\n".join(lines))


def _expects(cls) -> str:
    if cls.expects:
        return cls.expects
    names = list(dict.fromkeys(u for f in cls.BINDINGS for u in _users(cls, f)))
    return ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")


def _users(cls, functional):
    binding = cls.BINDINGS[functional]
    return (binding,) if isinstance(binding, str) else tuple(binding.values())
