"""Loading a module under test, in whatever process runs it.

``loader`` imports a file or dotted name (and times calls into it), ``notebook`` runs
a notebook's definitions, ``script`` a training script's (never its training loop),
``handout`` gathers a CMU 11-785 handout's cell files,
``shims`` holds the course helpers a submission imports but rarely ships, and
``inventory`` describes what a loaded module defines, as plain data for the grader.
None of them imports the reference (``numpy_rnn``), the catalog or torch: they run
in the executor.
"""
from __future__ import annotations

from torch_ref.verify.load import handout, loader, notebook, script


def load(target: dict, guard):
    """Load a resolved target (:meth:`torch_ref.verify.target.Target.as_dict`):
    a :class:`~torch_ref.verify.load.loader.LoadedModule`. Raises ``ModuleLoadError``."""
    kind = target.get("kind")
    if kind == "notebook":
        return notebook.load_notebook(target["file"], guard)
    if kind == "script":
        return script.load_script(target["file"], guard)
    if kind == "handout":
        return handout.load_handout(target["root"], guard)
    if kind == "module":
        return loader.import_dotted(target["dotted"], target["root"], guard)
    raise loader.ModuleLoadError(f"cannot load a target of kind {kind!r}")
