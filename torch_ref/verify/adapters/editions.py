"""Editions: the years and printings of a course's template, described as data.

Courses change their templates between years: a function becomes a class method, a
delta arrives as ``(1, H)`` instead of ``(H,)``, biases are renamed, a part becomes
extra credit. An adapter lists the editions it knows (:class:`Edition`), each with the
signs that tell it apart (:class:`Sign`: names the module defines or lacks, the
parameters of a function, files beside it, what it imports, a pattern in its
source), and what it changes (bindings, optional parts, dtypes, conventions the
adapter reads). :func:`recognise` weighs the signs against what the grader knows of
the module (:class:`Evidence`: its inventory, its files, its source, never its
behaviour) and the report says which edition it assumed and why. Conventions are
never tried one after the other until one passes: that would hide bugs.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

_MAX_FILES = 2000


@dataclass(frozen=True)
class Sign:
    """One piece of evidence that a module follows an edition.

    kind:   ``defines`` (``name`` or ``Class.method`` is the module's own), ``lacks``
            (it is not defined at all), ``param`` (function or ``Class.method`` ``name``
            has the parameter ``value``), ``file`` (a file named ``name`` lies in the
            submission; ``name`` may hold ``/``), ``imports`` (the module imports the
            module ``name``), ``source`` (the regular expression ``name`` matches the
            module's source), ``base`` (class ``name`` derives from a class named
            ``value``).
    weight: how much it counts; a negative weight counts against the edition.
    says:   what it means in words, for the report (a pattern rarely says it well).
    """

    kind: str
    name: str
    value: str = ""
    weight: int = 1
    says: str = ""

    def __post_init__(self):
        if self.kind not in ("defines", "lacks", "param", "file", "imports", "source", "base"):
            raise ValueError(f"Sign: unknown kind {self.kind!r}")

    def holds(self, evidence: Evidence) -> bool:
        return getattr(evidence, self.kind)(self.name, self.value)

    def describe(self) -> str:
        if self.says:
            return ("not: " if self.weight < 0 else "") + self.says
        words = {"defines": f"defines {self.name}", "lacks": f"has no {self.name}",
                 "param": f"{self.name} takes {self.value}",
                 "file": f"a file {self.name}", "imports": f"imports {self.name}",
                 "source": f"its source matches /{self.name}/",
                 "base": f"{self.name} derives from {self.value}"}
        return ("not: " if self.weight < 0 else "") + words[self.kind]


@dataclass(frozen=True)
class Edition:
    """One edition of a course's template.

    name:        ``"2021-2024"``, ``"first printing"`` ...
    summary:     what is particular about it, in a line (reports and the README).
    signs:       the :class:`Sign` s that tell it apart.
    bindings:    functional name -> user function, where it differs from the adapter's.
    optional:    functional names optional in this edition (n/a when absent or left
                 as the template).
    dtypes:      the dtypes the edition computes in (None: the adapter's).
    conventions: facts the adapter reads (``{"delta": "(1, H)"}`` ...).
    """

    name: str
    summary: str
    signs: tuple = ()
    bindings: dict = field(default_factory=dict)
    optional: tuple = ()
    dtypes: tuple | None = None
    conventions: dict = field(default_factory=dict)


class Evidence:
    """What the grader knows of a module without running it: the executor's inventory
    (names, parameters, bases, imports), the submission's files and its source."""

    def __init__(self, inventory: dict, sources=None):
        self.inventory = inventory or {}
        self.sources = sources
        self._files = None

    # ---- the kinds of sign ---------------------------------------------------------------

    def _entry(self, name: str):
        return self.inventory.get("names", {}).get(name.split(".")[0])

    def defines(self, name: str, _value="") -> bool:
        entry = self._entry(name)
        if entry is None or not entry.get("own") or entry["kind"] not in ("function", "class"):
            return False
        if "." in name:
            return entry["kind"] == "class" and name.split(".", 1)[1] in entry.get(
                "methods", {})
        return True

    def lacks(self, name: str, _value="") -> bool:
        entry = self._entry(name)
        if entry is None:
            return True
        if "." in name:
            return name.split(".", 1)[1] not in entry.get("methods", {})
        return False

    def params(self, name: str):
        entry = self._entry(name)
        if entry is None:
            return None
        if "." in name:
            method = entry.get("methods", {}).get(name.split(".", 1)[1])
            params = method.get("params") if method else None
        else:
            params = entry.get("params")
        return None if params is None else [p[0] for p in params]

    def param(self, name: str, value: str) -> bool:
        return value in (self.params(name) or ())

    def imports(self, name: str, _value="") -> bool:
        return any(module == name or module.startswith(name + ".")
                   for module in self.inventory.get("imports", {}).values())

    def base(self, name: str, value: str) -> bool:
        entry = self._entry(name)
        return entry is not None and entry["kind"] == "class" and value in entry.get(
            "bases", ())

    def files(self) -> set:
        """Relative paths (``/``-separated) of the files in the submission."""
        if self._files is None:
            self._files = set()
            root = getattr(self.sources, "root", None)
            if root and os.path.isdir(root):
                for here, dirs, names in os.walk(root):
                    dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
                    for name in names:
                        if len(self._files) >= _MAX_FILES:
                            return self._files
                        rel = os.path.relpath(os.path.join(here, name), root)
                        self._files.add(rel.replace(os.sep, "/"))
        return self._files

    def file(self, name: str, _value="") -> bool:
        return any(f == name or f.endswith("/" + name) for f in self.files())

    def source(self, pattern: str, _value="") -> bool:
        file = self.inventory.get("file") or ""
        text = self.sources.text(file) if self.sources is not None and file else None
        if text is None and self.sources is not None:  # a notebook: each cell's label
            for entry in self.inventory.get("names", {}).values():
                where = entry.get("where", "")
                if "[cell " in where:
                    text = (text or "") + "\n" + (self.sources.text(where.rsplit(":", 1)[0])
                                                  or "")
        return bool(text) and re.search(pattern, text, re.M) is not None


def recognise(editions, evidence: Evidence):
    """``(edition, signs that held)``: the edition whose signs weigh most (the first of
    equals: adapters list their editions newest first, or most common first)."""
    best, best_score, best_held = None, None, ()
    for edition in editions:
        held = tuple(s for s in edition.signs if s.holds(evidence))
        score = sum(s.weight for s in held)
        if best_score is None or score > best_score:
            best, best_score, best_held = edition, score, held
    return best, best_held


def describe_choice(course: str, edition: Edition, held) -> str:
    """``"cs231n 2021-2024 (LSTM extra credit): defines affine_forward; ..."``."""
    why = "; ".join(s.describe() for s in held if s.weight > 0)
    return (f"{course} {edition.name} ({edition.summary})"
            + (f", recognised by: {why}" if why else ", assumed (no sign of another edition)"))
