"""``--api auto``: which API a module is written to, from its inventory.

Each API scores the number of its user functions (``rnn_cell_forward``,
``TimeRNN.backward`` ...) the module defines itself (what it imports, such as the
course's ``sigmoid``, does not count). The highest score wins when it is the
only one; otherwise :class:`Undecided` lists the candidates and what each expects.
cs231n and eecs498 share their names: a module that imports torch is eecs498's.
Everything is decided from the inventory (:mod:`torch_ref.verify.load.inventory`):
the module's code is never run for it.
"""
from __future__ import annotations

# APIs sharing names, decided by whether the module imports torch
_TORCH_TWINS = {"cs231n": False, "eecs498": True}


class Undecided(ValueError):
    """No API, or more than one, fits the module; the message lists the candidates."""


def imports_torch(inventory: dict) -> bool:
    return any(module.split(".")[0] == "torch"
               for module in inventory.get("imports", {}).values())


def _defined_here(inventory: dict, user: str) -> bool:
    """Whether the function or class behind ``user`` is the module's own, and defines
    the method named (when ``user`` is ``Class.method``)."""
    entry = inventory.get("names", {}).get(user.split(".")[0])
    if entry is None or not entry["own"] or entry["kind"] not in ("function", "class"):
        return False
    if "." in user:
        method = entry.get("methods", {}).get(user.split(".", 1)[1])
        return entry["kind"] == "class" and method is not None
    return True


def scores(inventory: dict, adapter_classes: dict) -> dict:
    """``{api: number of its user functions the module defines}``."""
    found = {}
    uses_torch = imports_torch(inventory)
    for name, cls in adapter_classes.items():
        if name in _TORCH_TWINS and _TORCH_TWINS[name] != uses_torch:
            found[name] = 0
            continue
        found[name] = sum(_defined_here(inventory, user)
                          for user, _ in cls.describe().user_functions())
    return found


def choose(inventory: dict, adapter_classes: dict):
    """The adapter class for the module; :class:`Undecided` when there is not exactly one."""
    found = scores(inventory, adapter_classes)
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
    names = [user for user, _ in cls.describe().user_functions()]
    return ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
