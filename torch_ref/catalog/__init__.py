"""The component catalog. Importing it registers the entries of every module in it."""
from __future__ import annotations

import importlib
import pkgutil

from torch_ref.catalog.base import (
    CATALOG,
    DEFAULT_SEEDS,
    DTYPES,
    ERROR_SIZES,
    Bench,
    BenchTarget,
    Case,
    Component,
    ErrorInput,
    Fuzz,
    Mistake,
    Run,
    Sampler,
    drawn_sizes,
    functional_signatures,
    register,
    select_components,
)

# Each module registers its components on import, in this order (the order of reports
# and benchmark rows); base holds the protocol, fuzz the Hypothesis strategies.
ENTRY_MODULES = ("recurrent", "stacked", "feedforward", "losses", "char_rnn", "seq2one",
                 "language_model")
NOT_ENTRIES = ("base", "fuzz")
for _name in ENTRY_MODULES:
    importlib.import_module(f"{__name__}.{_name}")


def unlisted_modules() -> list:
    """Modules of this package that are neither entry modules nor listed as not."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__)
                  if m.name not in ENTRY_MODULES + NOT_ENTRIES)

__all__ = ["CATALOG", "DEFAULT_SEEDS", "DTYPES", "ERROR_SIZES", "Bench", "BenchTarget", "Case",
           "Component", "ErrorInput", "Fuzz", "Mistake", "Run", "Sampler", "drawn_sizes",
           "functional_signatures", "register", "select_components"]
