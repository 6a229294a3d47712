"""The component catalog. Importing it registers every entry module below."""
from __future__ import annotations

import importlib

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
    Run,
    Sampler,
    register,
)

# Each module registers its components on import; a new component is a new module here.
_ENTRY_MODULES = ("recurrent", "feedforward", "losses", "seq2one", "language_model")
for _name in _ENTRY_MODULES:
    importlib.import_module(f"{__name__}.{_name}")

__all__ = ["CATALOG", "DEFAULT_SEEDS", "DTYPES", "ERROR_SIZES", "Bench", "BenchTarget", "Case",
           "Component", "ErrorInput", "Fuzz", "Run", "Sampler", "register"]
