"""Text corpora for the word-level language model: words, vocabulary, training windows.

Tokenisation is the one of the language-modelling assignment: read the file as
UTF-8 (universal newlines), strip one final newline, lower-case, and split on
every single space and newline (``re.split(' |\\n', text)``). Nothing else is
removed, so punctuation stays attached to words and two spaces in a row give an
empty-string word, as in the assignment (chapter 1 of *Alice* gives 2169 words,
778 distinct).

The vocabulary lists the distinct words in sorted (code point) order, so the
ids of a text do not depend on hashing or on the order the words first appear.

Training windows follow the assignment's loader: window ``i`` has inputs
``ids[i:i+T]`` and targets ``ids[i+1:i+T+1]`` (stride 1, all ``len(ids) - T``
windows). Batches are drawn from a stream of passes over the windows: the first
pass in text order, every later pass in a fresh permutation from the seed; a
pass yields ``num_windows // N`` full batches (the few windows left over are not
used in that pass). An epoch is ``max((len(ids) - 1) // N, 1)`` iterations, the
assignment's count (72 for *Alice* with ``N = 30``: 2168 input words // 30), so
epochs and passes need not line up.
"""
from __future__ import annotations

import contextlib
import difflib
import io
import os
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["CorpusError", "Corpus", "Vocabulary", "WindowLoader", "default_corpus",
           "read_text", "tokenize"]


class CorpusError(ValueError):
    """A corpus that cannot be used: empty, too short, not UTF-8, unknown word."""


def tokenize(text: str) -> list:
    """Words of ``text``: strip one final newline, lower-case, split on ``' '`` and ``'\\n'``.

    text: the whole document (``str``).
    Returns: list of words (strings; may contain ``''`` where separators repeat).
    """
    if text.endswith("\n"):
        text = text[:-1]
    return re.split(" |\n", text.lower())


def read_text(path) -> str:
    """The text of the file ``path``, decoded as UTF-8 with universal newlines.

    Raises FileNotFoundError / OSError naming the file, and CorpusError naming the
    file and the byte offset of the first byte that is not valid UTF-8.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"corpus file not found: {path}") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"corpus path is a directory, not a text file: {path}") from None
    except OSError as exc:
        raise OSError(f"cannot read corpus file {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 4]
        raise CorpusError(f"{path}: not valid UTF-8 at byte offset {exc.start} "
                          f"(bytes {bad!r}: {exc.reason}); save the file as UTF-8") from None
    # the same text a text-mode open() would give
    return text.replace("\r\n", "\n").replace("\r", "\n")


class Vocabulary:
    """Distinct words in sorted order, and the mapping words <-> ids.

    words: iterable of words (duplicates allowed; order does not matter).
    """

    def __init__(self, words):
        self.words = tuple(sorted(set(words)))
        self._ids = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return word in self._ids

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} words)"

    def id_of(self, word: str) -> int:
        """The id of ``word``; CorpusError listing close vocabulary words if it is unknown."""
        try:
            return self._ids[word]
        except KeyError:
            pass
        close = difflib.get_close_matches(word, self.words, n=5, cutoff=0.6)
        if not close:
            close = difflib.get_close_matches(word.lower(), self.words, n=5, cutoff=0.4)
        hint = (f"; close words: {', '.join(repr(w) for w in close)}" if close
                else "; no vocabulary word is close to it")
        raise CorpusError(f"word {word!r} is not in the vocabulary ({len(self)} words, "
                          f"lower-case){hint}")

    def encode(self, words) -> np.ndarray:
        """Ids of ``words`` as an int64 array of shape ``(len(words),)``."""
        return np.array([self.id_of(w) for w in words], dtype=np.int64)

    def decode(self, ids) -> list:
        """Words of ``ids`` (any integer array-like); IndexError for an id out of range."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            bad = ids[(ids < 0) | (ids >= len(self))][0]
            raise IndexError(f"ids: word id {int(bad)} out of range [0, {len(self)})")
        return [self.words[int(i)] for i in ids.ravel()]


@dataclass
class Corpus:
    """A tokenised text.

    name:  where the text came from (for messages).
    vocab: the :class:`Vocabulary` of the text.
    ids:   int64 array ``(L,)``, the words of the text as ``vocab`` ids.

    ``words`` (the tokens as a list of str) is decoded from ``ids`` when asked for;
    the corpus itself keeps only the ids, 8 bytes a word, so a long text fits.
    """

    name: str
    vocab: Vocabulary
    ids: np.ndarray

    # words tokenised per block: the list of one block's str objects is all that
    # exists at a time (a 50 MB text is 9 million words)
    _BLOCK = 1 << 20

    @property
    def words(self) -> list:
        """The tokens, in order (a new list of str)."""
        return self.vocab.decode(self.ids)

    @classmethod
    def from_text(cls, text: str, name: str = "<text>") -> Corpus:
        """Tokenise ``text`` (see :func:`tokenize`); CorpusError if it holds no words."""
        if text in ("", "\n"):
            raise CorpusError(f"{name}: the text is empty")
        if text.endswith("\n"):
            text = text[:-1]
        first_seen: dict = {}  # word -> id in order of first appearance
        blocks = []
        start = 0
        while start <= len(text):
            end = start + cls._BLOCK
            if end < len(text):
                # cut after a separator, so that no word is split (lower() of a word
                # never looks past a space or newline)
                cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
                end = cut if cut >= start else len(text)
            else:
                end = len(text)
            words = re.split(" |\n", text[start:end].lower())
            blocks.append(np.fromiter((first_seen.setdefault(w, len(first_seen))
                                       for w in words), dtype=np.int64, count=len(words)))
            start = end + 1  # past the separator at ``end``
        if not any(first_seen):
            raise CorpusError(f"{name}: the text holds no words, only spaces and newlines")
        vocab = Vocabulary(first_seen)
        # first-seen ids -> sorted-vocabulary ids
        remap = np.fromiter((vocab.id_of(w) for w in first_seen), dtype=np.int64,
                            count=len(first_seen))
        return cls(name, vocab, remap[np.concatenate(blocks)])

    @classmethod
    def from_file(cls, path) -> Corpus:
        """Read and tokenise the UTF-8 file ``path`` (errors as :func:`read_text`)."""
        return cls.from_text(read_text(path), name=os.fspath(path))

    def __len__(self) -> int:
        return len(self.ids)

    def check_length(self, timesteps: int) -> None:
        """CorpusError unless the corpus has at least ``timesteps + 1`` words."""
        _check_length(self.name, len(self.ids), timesteps)


def _check_length(name: str, length: int, timesteps: int) -> None:
    if length < timesteps + 1:
        raise CorpusError(f"{name} has {length} words; timesteps={timesteps} needs at least "
                          f"{timesteps + 1} (the inputs and the word after them)")


_ZEN_NAME = "The Zen of Python (Python's standard-library module `this`)"


def zen_of_python() -> str:
    """The Zen of Python, decoded from the standard library's ``this`` module."""
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the text
        import this
    return "".join(this.d.get(ch, ch) for ch in this.s)


def default_corpus() -> Corpus:
    """The Zen of Python, text that ships with Python itself (a short text: ~140 words)."""
    return Corpus.from_text(zen_of_python(), name=_ZEN_NAME)


class WindowLoader:
    """Batches of ``T``-word windows and their next-word targets (see the module docstring).

    ids:        int array ``(L,)``, the corpus as word ids.
    timesteps:  window length ``T`` (>= 1); needs ``L >= T + 1``.
    batch_size: windows per batch ``N`` (1 <= N <= L - T).
    seed:       seed of the permutations of passes after the first.
    name:       corpus name for messages.
    """

    def __init__(self, ids, timesteps: int, batch_size: int, seed: int = 0, name="corpus"):
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be a 1-D integer array, got shape {ids.shape} "
                             f"dtype {ids.dtype}")
        if int(timesteps) < 1:
            raise ValueError(f"timesteps must be >= 1, got {timesteps}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.ids = ids
        self.timesteps, self.batch_size = int(timesteps), int(batch_size)
        _check_length(name, len(ids), self.timesteps)
        self.num_windows = len(ids) - self.timesteps
        if self.batch_size > self.num_windows:
            raise CorpusError(f"batch_size={self.batch_size} is larger than the "
                              f"{self.num_windows} windows of {self.timesteps} words in {name} "
                              f"({len(ids)} words); use a batch size <= {self.num_windows}")
        self.iterations_per_epoch = max((len(ids) - 1) // self.batch_size, 1)
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(self.num_windows)  # first pass: text order
        self._next = 0
        self._offsets = np.arange(self.timesteps)

    def next_batch(self):
        """The next batch: ``(inputs, targets)``, int64 arrays of shape ``(N, T)``."""
        N = self.batch_size
        if self._next + N > len(self._order):
            self._order = self._rng.permutation(self.num_windows)
            self._next = 0
        starts = self._order[self._next:self._next + N]
        self._next += N
        index = starts[:, None] + self._offsets
        return self.ids[index], self.ids[index + 1]

    def epoch(self):
        """Yield the ``iterations_per_epoch`` batches of one epoch."""
        for _ in range(self.iterations_per_epoch):
            yield self.next_batch()
