"""Checkpoints under faults: processes killed while saving, and files that lie."""
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import unittest
import zipfile
from pathlib import Path

import numpy as np
import pytest
from parameterized import parameterized

from numpy_rnn.lm.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from numpy_rnn.lm.corpus import Corpus
from numpy_rnn.lm.model import LanguageModel

ROOT = Path(__file__).resolve().parent.parent
WORDS = "a b c d e f g h"


def _model(hidden=4, rng=1):
    corpus = Corpus.from_text(WORDS)
    return LanguageModel(len(corpus.vocab), 3, hidden, cell="lstm", rng=rng), corpus.vocab


def _npy_header(shape, dtype="<f8") -> bytes:
    """A .npy version 1.0 header claiming ``shape``."""
    header = {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


class Lies(unittest.TestCase):
    """Every check happens before anything of the claimed size is allocated."""

    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path
        model, vocab = _model()
        self.path = Path(save_checkpoint(tmp_path / "model.npz", model, vocab))

    def _members(self):
        with zipfile.ZipFile(self.path) as z:
            return {name: z.read(name) for name in z.namelist()}

    def _write(self, members, compress=None):
        with zipfile.ZipFile(self.path, "w") as z:
            for name, data in members.items():
                z.writestr(name, data, compress_type=(compress or {}).get(name,
                                                                         zipfile.ZIP_STORED))

    def _rejected(self, pattern, budget=8 << 20):
        tracemalloc.start()
        try:
            with self.assertRaisesRegex(CheckpointError, pattern) as caught:
                load_checkpoint(self.path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        self.assertLess(peak, budget, "allocated before rejecting")
        self.assertIn(str(self.path), str(caught.exception))
        self.assertNotIn("allow_pickle", str(caught.exception))
        return str(caught.exception)

    def test_a_single_npy_file(self):
        with open(self.path, "wb") as fh:
            np.save(fh, np.zeros(3))
        self._rejected(r"a single \.npy array, not a checkpoint")

    def test_a_text_file_never_suggests_pickle(self):
        self.path.write_text("hello, I am a text file\n")
        self._rejected(r"not a \.npz \(zip\) archive")

    def test_a_forged_header_of_a_trillion_elements(self):
        members = self._members()
        members["param/embed.W.npy"] = _npy_header((10 ** 12,)) + b"\0" * 64
        self._write(members)
        self._rejected(r"key 'param/embed.W': its header declares shape \(1000000000000,\)")

    def test_a_huge_hidden_size_in_the_metadata(self):
        members = self._members()
        with np.load(self.path) as data:
            metadata = json.loads(str(data["metadata"]))
        metadata["model"]["hidden_dim"] = 20000  # 11.9 GiB of LSTM weights if built
        buf = _save_array(np.array(json.dumps(metadata)))
        members["metadata.npy"] = buf
        self._write(members)
        self._rejected(r"key 'param/rnn.Wx' has shape \(3, 16\), expected \(3, 80000\)")

    def test_an_unknown_member_is_never_expanded(self):
        members = self._members()
        members["junk.npy"] = _npy_header((1 << 25,)) + bytes(1 << 28)  # 256 MiB of zeros
        self._write(members, compress={"junk.npy": zipfile.ZIP_DEFLATED})
        del members
        self._rejected(r"unexpected key\(s\) \['junk'\]", budget=8 << 20)

    def test_a_compressed_checkpoint_loads(self):
        with np.load(self.path) as data:
            arrays = {k: data[k] for k in data.files}
        with open(self.path, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        load_checkpoint(self.path)

    def test_a_compressed_bomb_under_a_known_key(self):
        model, vocab = _model(hidden=600)
        save_checkpoint(self.path, model, vocab)
        members = self._members()
        members["param/rnn.Wh.npy"] = _npy_header((600, 2400)) + bytes(8 * 600 * 2400)
        self._write(members, compress={"param/rnn.Wh.npy": zipfile.ZIP_DEFLATED})
        self._rejected(r"key 'param/rnn.Wh' would expand \d+ compressed bytes to 11520128")

    @parameterized.expand([("nan", np.nan), ("inf", np.inf)])
    def test_non_finite_weights(self, _, value):
        with np.load(self.path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["param/rnn.Wh"][1, 2] = value
        with open(self.path, "wb") as fh:
            np.savez(fh, **arrays)
        self._rejected(rf"key 'param/rnn.Wh' holds {value} at index \(1, 2\)")

    def test_a_vocabulary_from_another_model(self):
        with np.load(self.path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["vocabulary"] = np.array(sorted("a b c d e f g z".split()))  # same size
        with open(self.path, "wb") as fh:
            np.savez(fh, **arrays)
        self._rejected(r"key 'vocabulary' is not the vocabulary these weights were saved with")

    def test_weights_from_another_model(self):
        other, vocab = _model(rng=2)
        with np.load(self.path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays.update({f"param/{k}": v for k, v in other.params.items()})
        with open(self.path, "wb") as fh:
            np.savez(fh, **arrays)
        self._rejected(r"the parameters are not the ones saved with this metadata")


def _save_array(array) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


# A process that saves checkpoints of a model of a few MB forever, a new model each time.
_SAVER = """
import sys
import numpy as np
from numpy_rnn.lm.checkpoint import save_checkpoint
from numpy_rnn.lm.corpus import Vocabulary
from numpy_rnn.lm.model import LanguageModel
vocab = Vocabulary([f"w{i}" for i in range(3000)])
model = LanguageModel(3000, 64, 256, cell="lstm", rng=0)
print("ready", flush=True)
i = 0
while True:
    i += 1
    model.params["out.b"][0] = i
    save_checkpoint(sys.argv[1], model, vocab)
"""


def _default_sigint():
    """In the child: SIGINT raises KeyboardInterrupt even when this runs where SIGINT is
    ignored (a background job of a script)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class HeldInterrupts(unittest.TestCase):
    def test_ctrl_c_inside_the_renames_arrives_after_them(self):
        from numpy_rnn.lm.checkpoint import _interrupts_held

        # Ctrl-C as in a terminal, also where it is ignored (a script's background job)
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        self.addCleanup(signal.signal, signal.SIGINT, previous)
        steps = []
        with self.assertRaises(KeyboardInterrupt):
            with _interrupts_held():
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(1000):  # Python would run the handler in here
                    steps.append(1)
                steps.append("done")
        self.assertEqual(steps[-1], "done")


class KilledWhileSaving(unittest.TestCase):
    """A real process is killed while it writes; the checkpoint on disk stays whole."""

    @pytest.fixture(autouse=True)
    def _tmp(self, tmp_path):
        self.tmp = tmp_path

    def _kill_while_writing(self, sig):
        path = self.tmp / "model.npz"
        model, vocab = _model()
        save_checkpoint(path, model, vocab)  # the previous checkpoint
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_default_sigint)
        try:
            self.assertEqual(proc.stdout.readline().strip(), "ready")
            deadline = time.monotonic() + 60
            while not any(n.endswith(".tmp") for n in os.listdir(self.tmp)):
                self.assertLess(time.monotonic(), deadline, "no save seen")
            proc.send_signal(sig)  # while a temporary file is being written
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        return path, proc.returncode, err

    def _assert_whole(self, path):
        loaded, _, metadata = load_checkpoint(path)
        with open(path.with_suffix(".json"), encoding="utf-8") as fh:
            beside = json.load(fh)
        self.assertEqual(beside, metadata)  # model.json describes model.npz

    def test_sigkill(self):
        for _ in range(3):
            path, code, _ = self._kill_while_writing(signal.SIGKILL)
            self.assertEqual(code, -signal.SIGKILL)
            self._assert_whole(path)

    def test_sigint_leaves_no_temporary_files(self):
        path, code, err = self._kill_while_writing(signal.SIGINT)
        self.assertIn("KeyboardInterrupt", err)
        self._assert_whole(path)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["model.json", "model.npz"])
