"""``--api auto``: which API a module is written to, from what the grader knows of it.

Each API scores the number of its user functions (``rnn_cell_forward``,
``TimeRNN.backward`` ...) the module defines itself under the edition its signs point
to (what it imports, such as the course's ``sigmoid``, does not count), plus the
weight of those signs (:mod:`torch_ref.verify.adapters.editions`): APIs sharing names
(cs231n and EECS 498 both have ``rnn_step_forward``) are told apart by signatures,
files and imports. The highest score wins when it is the only one; otherwise
:class:`Undecided` lists the candidates and what each expects. Everything is decided
from the inventory and the submission's files: the module's code is never run for it.
"""
from __future__ import annotations


class _Known:
    """An executor stand-in holding only an inventory (adapters read nothing else)."""

    def __init__(self, inventory: dict):
        self.inventory = inventory


class Undecided(ValueError):
    """No API, or more than one, fits the module; the message lists the candidates."""


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


# names any NumPy script may define for itself: alone they make no API
GENERIC = frozenset({"sigmoid", "affine_forward", "affine_backward", "mse_loss"})


def scores(inventory: dict, adapter_classes: dict, sources=None) -> dict:
    """``{api: user functions the module defines + the weight of its edition's signs}``;
    an API none of whose functions is defined, or only a generic helper such as
    ``sigmoid``, scores 0."""
    found = {}
    for name, cls in adapter_classes.items():
        adapter = cls(_Known(inventory), sources)
        defined = [user for user, _ in adapter.user_functions()
                   if _defined_here(inventory, user)]
        signs = sum(s.weight for s in adapter.edition_signs)
        specific = [user for user in defined if user not in GENERIC]
        found[name] = max(len(defined) + signs, 0) if specific else 0
    return found


def choose(inventory: dict, adapter_classes: dict, sources=None):
    """The adapter class for the module; :class:`Undecided` when there is not exactly one."""
    found = scores(inventory, adapter_classes, sources)
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
