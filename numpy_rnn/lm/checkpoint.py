"""Save and load a language model with its vocabulary.

One ``.npz`` (written with ``np.savez``, read with ``allow_pickle=False``) holds

=====================  ===================================================
key                    value
=====================  ===================================================
``param/<name>``       each parameter (``param/embed.W``, ``param/rnn.Wx`` ...)
``vocabulary``         the words, a unicode array ``(V,)`` in id order
``metadata``           a JSON string (0-d unicode array): format, version,
                       the model configuration and whatever the caller adds
=====================  ===================================================

and the same metadata is written as readable JSON beside it
(``model.npz`` -> ``model.json``). Loading checks every key and shape and names
the file, the key and the expected vs actual shape when something is wrong.
"""
from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from numpy_rnn.lm.corpus import Vocabulary
from numpy_rnn.lm.model import LanguageModel

__all__ = ["CheckpointError", "FORMAT", "load_checkpoint", "metadata_path", "save_checkpoint"]

FORMAT = "numpy-rnn language model"
VERSION = 1
_PARAM = "param/"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded (missing key, wrong shape, corrupt file)."""


def metadata_path(path) -> str:
    """The JSON file written beside the checkpoint ``path``."""
    root, _ = os.path.splitext(os.fspath(path))
    return root + ".json"


def save_checkpoint(path, model: LanguageModel, vocab: Vocabulary, extra=None) -> str:
    """Write ``model`` and ``vocab`` to ``path`` (.npz) and metadata JSON beside it.

    path:  output file; ``.npz`` is appended when it has another suffix.
    model: the :class:`LanguageModel`.
    vocab: its :class:`Vocabulary` (``len(vocab) == model.vocab_size``).
    extra: optional JSON-serialisable dict stored under ``metadata['extra']``
           (training settings, accuracy ...).
    Returns: the path written.
    """
    if len(vocab) != model.vocab_size:
        raise ValueError(f"vocab has {len(vocab)} words, but the model's vocab_size is "
                         f"{model.vocab_size}")
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    metadata = {"format": FORMAT, "version": VERSION, "model": model.config(),
                "parameters": {k: list(v.shape) for k, v in model.params.items()},
                "extra": extra or {}}
    text = json.dumps(metadata, indent=2, sort_keys=True)
    arrays = {_PARAM + name: value for name, value in model.params.items()}
    arrays["vocabulary"] = np.array(vocab.words, dtype=str)
    arrays["metadata"] = np.array(text)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    with open(metadata_path(path), "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return path


def _read(path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise CheckpointError(f"{path}: not a checkpoint (.npz archive) but a single "
                                      "array file")
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint file not found: {path}") from None
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise CheckpointError(f"{path}: corrupt or unreadable checkpoint "
                              f"({type(exc).__name__}: {exc})") from None


def _metadata(path, arrays) -> dict:
    if "metadata" not in arrays:
        raise CheckpointError(f"{path}: missing key 'metadata'")
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: key 'metadata' is not valid JSON ({exc})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: key 'metadata' does not describe a {FORMAT!r} "
                              "checkpoint")
    if metadata.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {metadata.get('version')!r}, this "
                              f"code reads version {VERSION}")
    return metadata


def load_checkpoint(path):
    """Load a checkpoint written by :func:`save_checkpoint`.

    path: the ``.npz`` file.
    Returns: ``(model, vocab, metadata)``: a :class:`LanguageModel` holding the
    saved parameters, its :class:`Vocabulary`, and the metadata dict.
    Raises FileNotFoundError, or CheckpointError naming the file and the key
    (missing key, unexpected key, expected vs actual shape or dtype, corrupt file).
    """
    path = os.fspath(path)
    arrays = _read(path)
    metadata = _metadata(path, arrays)
    config = metadata.get("model")
    try:
        model = LanguageModel(rng=0, **config)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: key 'metadata': bad model configuration {config!r} "
                              f"({exc})") from None
    if "vocabulary" not in arrays:
        raise CheckpointError(f"{path}: missing key 'vocabulary'")
    words = arrays["vocabulary"]
    if words.dtype.kind != "U" or words.shape != (model.vocab_size,):
        raise CheckpointError(f"{path}: key 'vocabulary' must be a unicode array of shape "
                              f"({model.vocab_size},), got {words.dtype} {words.shape}")
    vocab = Vocabulary(words.tolist())
    if vocab.words != tuple(words.tolist()):
        raise CheckpointError(f"{path}: key 'vocabulary' is not a sorted list of distinct words")
    unexpected = sorted(k for k in arrays if k.startswith(_PARAM)
                        and k[len(_PARAM):] not in model.params)
    if unexpected:
        raise CheckpointError(f"{path}: unexpected key(s) {unexpected} for a {model.cell} model")
    values = {}
    for name, target in model.params.items():
        key = _PARAM + name
        if key not in arrays:
            raise CheckpointError(f"{path}: missing key {key!r}")
        value = arrays[key]
        if value.shape != target.shape:
            raise CheckpointError(f"{path}: key {key!r} has shape {value.shape}, expected "
                                  f"{target.shape}")
        if value.dtype != target.dtype:
            raise CheckpointError(f"{path}: key {key!r} has dtype {value.dtype}, expected "
                                  f"{target.dtype}")
        values[name] = value
    model.set_params(values)
    return model, vocab, metadata
