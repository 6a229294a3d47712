"""Save and load a language model with its vocabulary.

One ``.npz`` (written with ``np.savez``, read without pickle) holds

=====================  ===================================================
key                    value
=====================  ===================================================
``param/<name>``       each parameter (``param/embed.W``, ``param/rnn.Wx`` ...)
``vocabulary``         the words, a unicode array ``(V,)`` in id order
``metadata``           a JSON string (0-d unicode array): format, version,
                       the model configuration, SHA-256 digests of the
                       vocabulary and of the parameters, and whatever the
                       caller adds
=====================  ===================================================

and the same metadata is written as readable JSON beside it
(``model.npz`` -> ``model.json``).

Saving writes both files under temporary names in the same folder and renames
them into place (interrupts held back for the two renames), so an interrupted or
killed save leaves the previous checkpoint whole, and the two files describe the
same model (the digests in both say which).

Loading trusts nothing in the file: it checks that it is a zip archive, that its
members are exactly the expected ones, and every member's stored shape and dtype
(read from the ``.npy`` header, and the member's size in the archive) against the
shapes the metadata implies, before anything is read or allocated; then that every
value is finite and that the vocabulary and parameters are the ones the metadata's
digests describe. Errors name the file, the key and the expected vs actual value.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import threading
import zipfile

import numpy as np

from numpy_rnn.lm.corpus import Vocabulary
from numpy_rnn.lm.model import LanguageModel

__all__ = ["CheckpointError", "FORMAT", "load_checkpoint", "metadata_path", "save_checkpoint"]

FORMAT = "numpy-rnn language model"
VERSION = 1
_PARAM = "param/"
# A deflated member may expand at most this much (weights barely compress; a
# higher ratio is a zip bomb); stored members (np.savez) are 1:1.
_MAX_EXPANSION = 100
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_NPY_MAGIC = b"\x93NUMPY"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded (missing key, wrong shape, corrupt file)."""


def metadata_path(path) -> str:
    """The JSON file written beside the checkpoint ``path``."""
    root, _ = os.path.splitext(os.fspath(path))
    return root + ".json"


def _digest(arrays) -> str:
    """SHA-256 over the dtype, shape and bytes of each array, in order."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data)
    return h.hexdigest()


def _vocabulary_digest(words) -> str:
    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()


@contextlib.contextmanager
def _interrupts_held():
    """Hold Ctrl-C and SIGTERM back inside the block; deliver them right after it.

    A handler that only records replaces theirs, so that a signal arriving before
    or inside the block (Python runs handlers between any two bytecodes) cannot
    stop it half-way.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
                for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(sig, handler)
        if caught:
            signal.raise_signal(caught[0])


def _write_temporary(path: str, write, written: list) -> None:
    """Write a temporary file next to ``path`` with ``write(fh)``, synced to disk.

    Its name goes into ``written`` before the file exists, so that whoever cleans
    up after an interrupt finds every file that may have been created.
    """
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    written.append(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
    with os.fdopen(fd, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())


def save_checkpoint(path, model: LanguageModel, vocab: Vocabulary, extra=None) -> str:
    """Write ``model`` and ``vocab`` to ``path`` (.npz) and metadata JSON beside it.

    The previous files at those paths are replaced only once both new ones are
    complete (see the module docstring).

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
                "vocabulary_sha256": _vocabulary_digest(vocab.words),
                "parameters_sha256": _digest(model.params[k] for k in sorted(model.params)),
                "extra": extra or {}}
    text = json.dumps(metadata, indent=2, sort_keys=True)
    arrays = {_PARAM + name: value for name, value in model.params.items()}
    arrays["vocabulary"] = np.array(vocab.words, dtype=str)
    arrays["metadata"] = np.array(text)
    json_path = metadata_path(path)
    written: list = []
    try:
        _write_temporary(path, lambda fh: np.savez(fh, **arrays), written)
        _write_temporary(json_path, lambda fh: fh.write((text + "\n").encode()), written)
        with _interrupts_held():
            os.replace(written[0], path)
            os.replace(written[1], json_path)
            written.clear()
    finally:
        for tmp in written:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return path


def _open_archive(path: str) -> zipfile.ZipFile:
    try:
        with open(path, "rb") as fh:
            magic = fh.read(6)
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint file not found: {path}") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read the checkpoint ({exc.strerror or exc})") \
            from None
    if magic.startswith(_NPY_MAGIC):
        raise CheckpointError(f"{path}: a single .npy array, not a checkpoint; a checkpoint is "
                              "the .npz archive that `train` writes (DIR/model.npz)")
    if magic[:4] not in _ZIP_MAGIC:
        what = "empty" if not magic else f"starts with {magic[:4]!r}"
        raise CheckpointError(f"{path}: corrupt or unreadable checkpoint: not a .npz (zip) "
                              f"archive (the file is {what})")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt or unreadable checkpoint "
                              f"({type(exc).__name__}: {exc})") from None


def _member_header(path, archive, key):
    """``(shape, dtype)`` of member ``key``, read from its .npy header only."""
    info = archive.getinfo(key + ".npy")
    try:
        with archive.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            header_size = fh.tell()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{path}: key {key!r} is corrupt ({type(exc).__name__}: "
                              f"{exc})") from None
    if dtype.hasobject:
        raise CheckpointError(f"{path}: key {key!r} holds Python objects (dtype {dtype}); "
                              "a checkpoint holds only numbers and text")
    size = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if info.file_size != header_size + size:
        raise CheckpointError(f"{path}: key {key!r}: its header declares shape {shape} "
                              f"{dtype} ({size} bytes), but the archive holds "
                              f"{info.file_size - header_size} bytes")
    if info.compress_type != zipfile.ZIP_STORED and \
            info.file_size > _MAX_EXPANSION * info.compress_size + (1 << 20):
        raise CheckpointError(f"{path}: key {key!r} would expand {info.compress_size} "
                              f"compressed bytes to {info.file_size}; refusing to read it")
    return tuple(shape), dtype


def _read_member(path, archive, key):
    try:
        with archive.open(key + ".npy") as fh:
            return np.lib.format.read_array(fh, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path}: key {key!r} is corrupt ({type(exc).__name__}: "
                              f"{exc})") from None


def _metadata(path, archive, members) -> dict:
    if "metadata" not in members:
        raise CheckpointError(f"{path}: missing key 'metadata'")
    shape, dtype = _member_header(path, archive, "metadata")
    if shape != () or dtype.kind != "U" or dtype.itemsize > (64 << 20):
        raise CheckpointError(f"{path}: key 'metadata' must be a JSON string (a 0-d unicode "
                              f"array), got {dtype} {shape}")
    try:
        metadata = json.loads(str(_read_member(path, archive, "metadata")))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: key 'metadata' is not valid JSON ({exc})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: key 'metadata' does not describe a {FORMAT!r} "
                              "checkpoint")
    if metadata.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {metadata.get('version')!r}, this "
                              f"code reads version {VERSION}")
    return metadata


def _expected_shapes(path, config) -> dict:
    """Parameter name -> (shape, dtype) implied by the model configuration (no allocation)."""
    try:
        if not isinstance(config, dict):
            raise TypeError(f"expected a dict, got {type(config).__name__}")
        shapes = LanguageModel.parameter_shapes(**config)
        dtype = np.dtype(config.get("dtype", "float64"))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: key 'metadata': bad model configuration {config!r} "
                              f"({exc})") from None
    return {name: (shape, dtype) for name, shape in shapes.items()}


def load_checkpoint(path):
    """Load a checkpoint written by :func:`save_checkpoint`.

    path: the ``.npz`` file.
    Returns: ``(model, vocab, metadata)``: a :class:`LanguageModel` holding the
    saved parameters, its :class:`Vocabulary`, and the metadata dict.
    Raises FileNotFoundError, or CheckpointError naming the file and the key
    (not an archive, missing or unexpected key, expected vs actual shape or dtype,
    a value that is not finite, a vocabulary or parameters other than those the
    metadata describes, a corrupt file).
    """
    path = os.fspath(path)
    with _open_archive(path) as archive:
        members = {}
        for name in archive.namelist():
            key = name[:-4] if name.endswith(".npy") else name
            if key in members or not name.endswith(".npy"):
                raise CheckpointError(f"{path}: unexpected member {name!r} in the archive")
            members[key] = name
        metadata = _metadata(path, archive, members)
        config = metadata.get("model")
        expected = _expected_shapes(path, config)
        V = expected["embed.W"][0][0]
        unexpected = sorted(k for k in members if k not in ("metadata", "vocabulary")
                            and (not k.startswith(_PARAM) or k[len(_PARAM):] not in expected))
        if unexpected:
            raise CheckpointError(f"{path}: unexpected key(s) {unexpected} for a "
                                  f"{config.get('cell')} model")
        if "vocabulary" not in members:
            raise CheckpointError(f"{path}: missing key 'vocabulary'")
        shape, dtype = _member_header(path, archive, "vocabulary")
        if dtype.kind != "U" or shape != (V,):
            raise CheckpointError(f"{path}: key 'vocabulary' must be a unicode array of shape "
                                  f"({V},), got {dtype} {shape}")
        for name, (want_shape, want_dtype) in expected.items():
            key = _PARAM + name
            if key not in members:
                raise CheckpointError(f"{path}: missing key {key!r}")
            shape, dtype = _member_header(path, archive, key)
            if shape != want_shape:
                raise CheckpointError(f"{path}: key {key!r} has shape {shape}, expected "
                                      f"{want_shape}")
            if dtype != want_dtype:
                raise CheckpointError(f"{path}: key {key!r} has dtype {dtype}, expected "
                                      f"{want_dtype}")
        # every size is now known to be what the metadata says: read
        words = _read_member(path, archive, "vocabulary").tolist()
        values = {name: _read_member(path, archive, _PARAM + name) for name in expected}
    vocab = Vocabulary(words)
    if vocab.words != tuple(words):
        raise CheckpointError(f"{path}: key 'vocabulary' is not a sorted list of distinct words")
    for name, value in values.items():
        finite = np.isfinite(value)
        if not finite.all():
            where = tuple(int(i) for i in np.unravel_index(int(np.argmin(finite)), value.shape))
            raise CheckpointError(f"{path}: key {_PARAM + name!r} holds {value[where]} at "
                                  f"index {where}; every weight must be finite")
    if "vocabulary_sha256" in metadata and \
            metadata["vocabulary_sha256"] != _vocabulary_digest(vocab.words):
        raise CheckpointError(f"{path}: key 'vocabulary' is not the vocabulary these weights "
                              "were saved with (its SHA-256 differs from the metadata's)")
    if "parameters_sha256" in metadata and \
            metadata["parameters_sha256"] != _digest(values[k] for k in sorted(values)):
        raise CheckpointError(f"{path}: the parameters are not the ones saved with this "
                              "metadata and vocabulary (their SHA-256 differs)")
    model = LanguageModel(rng=0, **config)
    model.set_params(values)
    return model, vocab, metadata
