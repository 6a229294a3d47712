"""Adapters: a user's module written to some API, seen through the functional API.

One module per API in this package, each defining one :class:`~.base.Adapter`
subclass with a ``name`` (the ``--api`` value): ``cs231n`` (functional
``rnn_layers.py``), ``hw3`` (``RNNLayer`` / ``LSTMLayer``), ``params``
(``VanillaRNN``, ``LSTM``, ... with ``params``/``grads`` dicts), and the courses
``dlai`` (deeplearning.ai's RNN step by step), ``dlfs2`` (Deep Learning from Scratch 2's
time layers), ``mytorch`` (CMU 11-785 HW3P1 cells) and ``eecs498`` (UMich EECS 498's
captioning layers in torch); ``course.py`` holds what the course adapters share. A
new API is a new module here; :func:`available` finds it; ``--api auto``
(:mod:`torch_ref.verify.detect`) chooses among them.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

from torch_ref.verify.adapters.base import FUNCTIONAL, MISSING, Adapter, ApiMismatch

DEFAULT = "cs231n"


def available() -> dict:
    """``{name: Adapter subclass}`` for every adapter module in this package."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Adapter) and obj.__module__ == module.__name__ and obj.name:
                found[obj.name] = obj
    return dict(sorted(found.items(), key=lambda item: (item[0] != DEFAULT, item[0])))


def get(name: str):
    """The adapter class for ``--api name``; ``ValueError`` lists the known ones."""
    adapters = available()
    if name not in adapters:
        raise ValueError(f"unknown API {name!r}; choose from: {', '.join(adapters)}")
    return adapters[name]


__all__ = ["DEFAULT", "FUNCTIONAL", "MISSING", "Adapter", "ApiMismatch", "available", "get"]
