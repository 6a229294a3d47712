"""Corpus: tokenisation, vocabulary, training windows and clear errors for bad files."""
import re
import unittest

import numpy as np
import pytest
from parameterized import parameterized

from numpy_rnn.lm.corpus import (
    Corpus,
    CorpusError,
    Vocabulary,
    WindowLoader,
    default_corpus,
    read_text,
    tokenize,
)


class Tokenize(unittest.TestCase):
    @parameterized.expand([
        ("plain", "The cat sat.", ["the", "cat", "sat."]),
        ("final newline stripped once", "a b\n", ["a", "b"]),
        ("two final newlines", "a b\n\n", ["a", "b", ""]),
        ("newlines split", "One\nTwo three\nfour", ["one", "two", "three", "four"]),
        ("double space gives empty word", "a  b", ["a", "", "b"]),
        ("blank line", "a\n\nb", ["a", "", "b"]),
        ("tabs are not separators", "a\tb c", ["a\tb", "c"]),
        ("unicode lower-cased", "ÉTÉ Über", ["été", "über"]),
    ])
    def test_tokenize(self, _, text, expected):
        self.assertEqual(tokenize(text), expected)

    def test_same_as_the_assignment_split(self):
        text = "Alice was\nbeginning  to get\n\nvery tired,\n"
        self.assertEqual(tokenize(text), re.split(" |\n", text[:-1].lower()))


class VocabularyTest(unittest.TestCase):
    def test_sorted_distinct_and_round_trip(self):
        words = ["the", "cat", "the", "", "a"]
        vocab = Vocabulary(words)
        self.assertEqual(vocab.words, ("", "a", "cat", "the"))
        ids = vocab.encode(words)
        self.assertEqual(ids.dtype, np.int64)
        self.assertEqual(vocab.decode(ids), words)

    def test_order_does_not_depend_on_text_order(self):
        self.assertEqual(Vocabulary(["b", "a", "c"]), Vocabulary(["c", "b", "a", "a"]))

    def test_unknown_word_lists_close_words(self):
        vocab = Vocabulary(["she", "shelf", "said", "alice"])
        with self.assertRaisesRegex(CorpusError, r"'shee' is not in the vocabulary.*'she'"):
            vocab.id_of("shee")

    def test_unknown_word_without_close_words(self):
        with self.assertRaisesRegex(CorpusError, "no vocabulary word is close"):
            Vocabulary(["alice"]).id_of("zzzzzz")

    def test_decode_out_of_range(self):
        with self.assertRaisesRegex(IndexError, r"word id 3 out of range \[0, 2\)"):
            Vocabulary(["a", "b"]).decode([0, 3])


class Files(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    def write(self, data: bytes, name="text.txt"):
        path = self.tmp / name
        path.write_bytes(data)
        return path

    def test_reads_utf8_and_universal_newlines(self):
        path = self.write("Ça va\r\nbien\r\n".encode("utf-8"))
        corpus = Corpus.from_file(path)
        self.assertEqual(corpus.words, ["ça", "va", "bien"])
        self.assertEqual(corpus.name, str(path))
        np.testing.assert_array_equal(corpus.vocab.decode(corpus.ids), corpus.words)

    def test_missing_file(self):
        with self.assertRaisesRegex(FileNotFoundError, "corpus file not found: .*nope.txt"):
            Corpus.from_file(self.tmp / "nope.txt")

    def test_directory(self):
        with self.assertRaisesRegex(OSError, "directory"):
            read_text(self.tmp)

    def test_not_utf8_names_file_and_byte_offset(self):
        path = self.write(b"good words \xff\xfe then")
        with self.assertRaisesRegex(CorpusError, r"text.txt: not valid UTF-8 at byte offset 11"):
            Corpus.from_file(path)

    @parameterized.expand([("empty", b""), ("one newline", b"\n")])
    def test_empty_file(self, _, data):
        with self.assertRaisesRegex(CorpusError, "text.txt: the text is empty"):
            Corpus.from_file(self.write(data))

    def test_only_separators(self):
        with self.assertRaisesRegex(CorpusError, "holds no words"):
            Corpus.from_file(self.write(b"  \n \n"))

    def test_too_short_says_how_many_words(self):
        corpus = Corpus.from_file(self.write(b"one two three"))
        with self.assertRaisesRegex(CorpusError, r"has 3 words; timesteps=5 needs at least 6"):
            corpus.check_length(5)
        corpus.check_length(2)


class Windows(unittest.TestCase):
    def setUp(self):
        self.ids = np.arange(100, 123)  # L = 23 distinct values: a window is its start

    def test_windows_are_consecutive_and_targets_shifted(self):
        loader = WindowLoader(self.ids, timesteps=4, batch_size=3)
        for _ in range(20):
            x, y = loader.next_batch()
            self.assertEqual(x.shape, (3, 4))
            np.testing.assert_array_equal(x[:, 1:], x[:, :-1] + 1)
            np.testing.assert_array_equal(y, x + 1)

    def test_first_pass_in_text_order_then_shuffled_passes(self):
        T, N = 4, 3
        loader = WindowLoader(self.ids, T, N, seed=1)
        W = len(self.ids) - T  # 19 windows, 6 full batches per pass
        self.assertEqual(loader.num_windows, W)
        first = np.concatenate([loader.next_batch()[0][:, 0] for _ in range(W // N)]) - 100
        np.testing.assert_array_equal(first, np.arange(W // N * N))
        second = np.concatenate([loader.next_batch()[0][:, 0] for _ in range(W // N)]) - 100
        self.assertEqual(len(set(second)), len(second))  # a pass never repeats a window
        self.assertFalse(np.array_equal(second, first))
        self.assertTrue(set(second) <= set(range(W)))

    def test_same_seed_same_batches(self):
        def stream(seed):
            loader = WindowLoader(self.ids, 4, 3, seed=seed)
            return np.stack([loader.next_batch()[0] for _ in range(30)])
        np.testing.assert_array_equal(stream(5), stream(5))
        self.assertFalse(np.array_equal(stream(5), stream(6)))

    @parameterized.expand([("assignment: 2169 words, N=30", 2169, 30, 72),
                           ("24 words, N=4", 24, 4, 5),
                           ("fewer words than N + 1", 10, 9, 1)])
    def test_iterations_per_epoch_is_words_minus_one_over_n(self, _, L, N, expected):
        loader = WindowLoader(np.arange(L), 1, N)
        self.assertEqual(loader.iterations_per_epoch, expected)
        self.assertEqual(len(list(loader.epoch())), expected)

    def test_too_short(self):
        with self.assertRaisesRegex(CorpusError, r"has 5 words; timesteps=5 needs at least 6"):
            WindowLoader(np.arange(5), 5, 1)

    def test_batch_larger_than_windows(self):
        with self.assertRaisesRegex(CorpusError, r"batch_size=30 is larger than the 5 windows"):
            WindowLoader(np.arange(8), 3, 30)

    @parameterized.expand([("float ids", np.arange(9.0), 2, 1, "integer"),
                           ("2-D ids", np.zeros((3, 3), int), 2, 1, "1-D"),
                           ("timesteps 0", np.arange(9), 0, 1, "timesteps"),
                           ("batch 0", np.arange(9), 2, 0, "batch_size")])
    def test_bad_arguments(self, _, ids, T, N, message):
        with self.assertRaisesRegex(ValueError, message):
            WindowLoader(ids, T, N)


class DefaultCorpus(unittest.TestCase):
    def test_zen_of_python_from_the_standard_library(self):
        corpus = default_corpus()
        self.assertEqual(corpus.words[:4], ["the", "zen", "of", "python,"])
        self.assertIn("beautiful", corpus.vocab)
        self.assertGreater(len(corpus), 100)
        corpus.check_length(50)  # the CLI's default timesteps fit
