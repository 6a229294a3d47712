"""Hints of ``verify``: recognisable error patterns are named, others are left alone.

Unit tests build a failing check from a catalog case whose "actual" is the torch
reference bent in one known way; report tests run mutants and read the hint and
the special case the report names.
"""
import dataclasses
import unittest

import numpy as np
import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="hints compare with the torch reference")

import mutants  # noqa: E402
from test_verify_mutants import run_mutant, verdict  # noqa: E402

from torch_ref.catalog import CATALOG  # noqa: E402
from torch_ref.compare.engine import FAIL, TensorCheck, reference_run  # noqa: E402
from torch_ref.compare.hints import PATTERNS, hint  # noqa: E402


def first_case(component: str, label: str = "ordinary", dtype: str = "float64"):
    return next(c for c in CATALOG[component].cases(dtype, 0) if c.label == label)


def hint_for(component: str, tensor: str, bend, label: str = "ordinary") -> str:
    """The hint for ``tensor`` of ``component`` when it equals ``bend(reference)``."""
    comp, case = CATALOG[component], first_case(component, label)
    run = reference_run(comp, case)
    expected = run.tensors()[tensor]
    check = TensorCheck(component, case.key, tensor, "f", FAIL, actual=bend(expected, case),
                        expected=expected, message="exceeds")
    return hint(check, comp, case, is_output=tensor in run.outputs)


def gate_blocks(order):
    def bend(array, case):
        H = case.sizes["H"]
        index = np.concatenate([np.arange(k * H, (k + 1) * H) for k in order])
        return np.take(array, index, axis=-1)
    return bend


class PatternsOfTheArrays(unittest.TestCase):
    @parameterized.expand([
        ("twice", "rnn_step", "dWh", lambda a, c: 2 * a, "exactly 2x"),
        ("half", "rnn", "db", lambda a, c: a / 2, "exactly half"),
        ("batch_mean", "rnn_step", "db", lambda a, c: a / c.sizes["N"], "1/N"),
        ("time_mean", "temporal_affine", "db", lambda a, c: a / c.sizes["T"], "1/T"),
        ("sign", "lstm_step", "dx", lambda a, c: -a, "sign flipped"),
        ("transpose", "rnn", "dWh", lambda a, c: a.T, "transpose"),
        ("transposed_shape", "rnn", "dWx", lambda a, c: a.T, "is the transpose of"),
        ("zeros", "word_embedding", "dW", lambda a, c: np.zeros_like(a), "all zeros"),
        ("gate_blocks", "lstm", "dWh", gate_blocks((0, 1, 3, 2)), "order [i, f, g, o]"),
        ("one_gate", "lstm_step", "db",
         lambda a, c: a + np.r_[np.zeros(3 * c.sizes["H"]), np.ones(c.sizes["H"])],
         "only gate block(s) g"),
        ("time_shift", "temporal_affine", "out",
         lambda a, c: np.concatenate([a[:, :1], a[:, :-1]], axis=1), "shifted one timestep"),
    ])
    def test_recognised(self, _, component, tensor, bend, words):
        self.assertIn(words, hint_for(component, tensor, bend))

    def test_unrecognised_error_gets_no_hint(self):
        noise = np.random.default_rng(0).standard_normal
        self.assertEqual(hint_for("lstm", "dWx", lambda a, c: a + noise(a.shape)), "")

    def test_timestep_zero_missing(self):
        def bend(a, c):
            a = a.copy()
            a[:, 0] = 0
            return a
        self.assertIn("timestep 0", hint_for("rnn", "dx", bend))


class KnownWrongAnswers(unittest.TestCase):
    def test_embedding_gradient_dropping_repeated_indices(self):
        def bend(a, case):
            dropped = np.zeros_like(a)
            dropped[case.inputs["x"]] = case.upstream["out"]
            return dropped
        self.assertIn("np.add.at", hint_for("word_embedding", "dW", bend, "repeated"))

    def test_loss_ignoring_its_mask(self):
        comp, case = CATALOG["temporal_softmax_loss"], first_case("temporal_softmax_loss")
        unmasked = dataclasses.replace(case, inputs={**case.inputs,
                                                     "mask": np.ones_like(case.inputs["mask"])})
        wrong = comp.run_torch(unmasked).tensors()["dx"]
        self.assertIn("mask is ignored", hint_for("temporal_softmax_loss", "dx",
                                                  lambda a, c: wrong))

    def test_the_known_mistakes_are_the_entry_s(self):
        # the same wrong gradient: named through the entry's Mistake, silent without it
        comp, case = CATALOG["word_embedding"], first_case("word_embedding", "repeated")
        expected = reference_run(comp, case).grads["dW"]
        dropped = np.zeros_like(expected)
        dropped[case.inputs["x"]] = case.upstream["out"]
        check = TensorCheck(comp.name, case.key, "dW", "f", FAIL, actual=dropped,
                            expected=expected, message="exceeds")
        self.assertIn("np.add.at", hint(check, comp, case))
        worded = dataclasses.replace(comp, mistakes=(dataclasses.replace(
            comp.mistakes[0], hint="{tensor}: each index once"),))
        self.assertEqual(hint(check, worded, case), "dW: each index once")
        self.assertNotIn("np.add.at", hint(check, dataclasses.replace(comp, mistakes=()), case))

    def test_every_mistake_has_a_pattern(self):
        for comp in CATALOG.values():
            for mistake in comp.mistakes:
                if not callable(mistake.pattern):  # a callable: a mistake of its own
                    self.assertIn(mistake.pattern, PATTERNS, comp.name)
                self.assertIn(mistake.on, ("grads", "outputs", "any"), comp.name)


# mutant -> (words of the hint of the first failing tensor, words naming its special case)
REPORTED = {
    "cs231n__rnn_dWx_assigned": ("dWx matches timestep 0 alone", "T > 1"),
    "cs231n__rnn_upstream_not_carried": ("dh[:, t] + the dprev_h", "T > 1"),
    "cs231n__lstm_cell_gradient_not_carried": ("cell-state gradient is not carried", "T > 1"),
    "cs231n__lstm_gates_o_g_swapped_forward": ("[i, f, g, o]", ""),
    "cs231n__embedding_repeated_indices_dropped": ("np.add.at", ""),
    "cs231n__softmax_mask_ignored_in_loss": ("mask is ignored in the loss", "masked timesteps"),
    "cs231n__softmax_not_shifted": ("overflow", "large logits"),
    "cs231n__affine_db_averaged": ("1/(N*T)", ""),
    "cs231n__rnn_backward_skips_t0": ("timestep 0", ""),
    "hw3__rnn_weights_copied_per_array": ("same one is used again", "changed in place"),
    "hw3__lstm_forward_zeroes_gradients_in_place": ("zeroed or overwritten in place",
                                                    "numerical gradient check"),
    "params__rnn_grads_accumulate_across_calls": ("accumulated with +=", "new weight arrays"),
    "params__loss_averaged_over_time": ("1/T", ""),
}


class HintsInReports(unittest.TestCase):
    @parameterized.expand(sorted(REPORTED.items()))
    def test_report_names_the_pattern_and_the_case(self, name, expected):
        words, special = expected
        (mutant,) = [m for m in mutants.MUTANTS if m.test_name == name]
        status, _, detail = verdict(run_mutant(mutant), mutant.function)
        self.assertIn(words, detail)
        self.assertIn(special, detail)
