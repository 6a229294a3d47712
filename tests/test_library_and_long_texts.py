"""The library as a user imports it, and texts too long to hold as words or scores."""
import subprocess
import sys
import tracemalloc
import unittest
from pathlib import Path

import numpy as np
import pytest
from parameterized import parameterized

import numpy_rnn
from numpy_rnn.core.gradcheck import eval_numerical_gradient, rel_error
from numpy_rnn.lm.model import LanguageModel, RecurrentScorer
from numpy_rnn.lm.training import next_word_accuracy

ROOT = Path(__file__).resolve().parent.parent


def _peak_bytes(fn, *args):
    tracemalloc.start()
    try:
        result = fn(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class Library(unittest.TestCase):
    def test_model_and_optimisers_from_the_package(self):
        self.assertIs(numpy_rnn.LanguageModel, LanguageModel)
        for name in ("LanguageModel", "SGD", "Adam"):
            self.assertIn(name, numpy_rnn.__all__)

    def _batch(self, model, seed):
        rng = np.random.default_rng(seed)
        return (rng.integers(0, model.vocab_size, (2, 4)),
                rng.integers(0, model.vocab_size, (2, 4)))

    @parameterized.expand([("rnn",), ("lstm",)])
    def test_loss_grads_survive_the_next_call(self, cell):
        model = LanguageModel(7, 3, 4, cell=cell, rng=0)
        _, grads = model.loss(*self._batch(model, 1))
        kept = {k: v.copy() for k, v in grads.items()}
        model.loss(*self._batch(model, 2))
        self.assertIsNot(grads, model.grads)
        for name, value in grads.items():
            np.testing.assert_array_equal(value, kept[name], err_msg=name)

    def test_grads_held_across_a_numerical_gradient_check(self):
        model = LanguageModel(7, 3, 4, cell="lstm", rng=0)
        words, targets = self._batch(model, 1)
        _, grads = model.loss(words, targets)
        W = model.params["rnn.Wh"]
        numeric = eval_numerical_gradient(lambda _: model.loss(words, targets)[0], W)
        self.assertLess(rel_error(grads["rnn.Wh"], numeric), 1e-5)
        np.testing.assert_array_equal(grads["rnn.Wh"], model.loss(words, targets)[1]["rnn.Wh"])

    def test_h0_is_optional_everywhere(self):
        scorer = RecurrentScorer(3, 4, rng=0)
        x = np.random.default_rng(0).standard_normal((2, 5, 3))
        np.testing.assert_array_equal(scorer.forward(x), scorer.forward(x, np.zeros((2, 4))))
        labels = np.zeros((2, 5), int)
        self.assertEqual(scorer.loss(x, None, labels)[0],
                         scorer.loss(x, np.zeros((2, 4)), labels)[0])


class ChunkedAccuracy(unittest.TestCase):
    @parameterized.expand([(cell, dtype, chunk) for cell in ("rnn", "lstm", "gru")
                           for dtype in (np.float64, np.float32) for chunk in (1, 7, None)])
    def test_same_predictions_as_one_piece(self, cell, dtype, chunk):
        model = LanguageModel(11, 4, 6, cell=cell, rng=0, dtype=dtype)
        ids = np.random.default_rng(1).integers(0, 11, 50)
        whole = model.predict(ids[None, :-1])[0]
        pieces = np.concatenate([p for _, p in model.predict_text(ids, chunk)])
        np.testing.assert_array_equal(pieces, whole)
        self.assertEqual(next_word_accuracy(model, ids, chunk),
                         float(np.mean(whole == ids[1:])))

    def test_memory_does_not_grow_with_the_text(self):
        model = LanguageModel(1500, 4, 8, rng=0)  # the whole text at once: 240 MB of scores
        ids = np.random.default_rng(0).integers(0, 1500, 20_000)
        _, peak = _peak_bytes(next_word_accuracy, model, ids)
        self.assertLess(peak, 48 << 20)


def _text(words: int, vocab: int = 3000, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    names = np.array([f"w{i}" for i in range(vocab)])
    return " ".join(names[rng.integers(0, vocab, words)])


class LongTexts(unittest.TestCase):
    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    @pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
    def test_a_corpus_keeps_ids_not_words(self):
        path = self.tmp / "long.txt"
        path.write_text(_text(2_000_000), encoding="utf-8")  # 11 MB
        code = ("import re, sys\n"
                "from numpy_rnn.lm.corpus import Corpus\n"
                "def kib(key):\n"
                "    return int(re.search(key + r':\\s+(\\d+)', "
                "open('/proc/self/status').read()).group(1))\n"
                "start = kib('VmRSS')\n"
                "corpus = Corpus.from_file(sys.argv[1])\n"
                "print(len(corpus), corpus.words[:2], kib('VmHWM') - start)\n")
        result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                                text=True, timeout=120, cwd=ROOT)
        self.assertEqual(result.returncode, 0, result.stderr)
        head, grown = result.stdout.rsplit(" ", 1)
        grown = int(grown)
        self.assertTrue(head.startswith("2000000 ['w"), result.stdout)
        # ids (8 bytes a word) and the text itself; the words as str objects took 16x
        self.assertLess(grown * 1024, 10 * path.stat().st_size, f"grew by {grown} KiB")

    @pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
    def test_train_a_long_text_for_a_given_number_of_iterations(self):
        path = self.tmp / "long.txt"
        path.write_text(_text(3_000_000, vocab=2000), encoding="utf-8")  # 16 MB
        # VmHWM: this process's own peak resident size (ru_maxrss survives exec)
        code = ("import re, sys\n"
                "from numpy_rnn.__main__ import main\n"
                "status = main(sys.argv[1:])\n"
                "status_text = open('/proc/self/status').read()\n"
                "print('peak', re.search(r'VmHWM:\\s+(\\d+)', status_text).group(1))\n"
                "sys.exit(status)\n")
        result = subprocess.run(
            [sys.executable, "-c", code, "train", "--corpus", str(path), "--out",
             str(self.tmp / "run"), "--epochs", "2", "--iterations", "3", "--eval-words", "500",
             "--hidden", "16", "--batch", "8", "--timesteps", "10", "--quiet", "--no-plot"],
            capture_output=True, text=True, timeout=300, cwd=ROOT)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("trained 2 epochs x 3 iterations", result.stdout)
        peak_kib = int(result.stdout.rsplit("peak ", 1)[1])
        self.assertLess(peak_kib, 350 * 1024, f"peak RSS {peak_kib} KiB")
