"""Per-timestep gradient norms of the vanishing-gradient study agree with torch autograd."""
import unittest

import numpy as np
import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="the torch cross-check needs torch")

from numpy_rnn.seq2one.memory_task import Learner, generate_samples, to_batch_first  # noqa: E402
from numpy_rnn.seq2one.model import Seq2OneRNN  # noqa: E402
from numpy_rnn.seq2one.vanishing import hidden_grad_norms  # noqa: E402
from torch_ref.vanishing_torch import hidden_grad_norms_torch, hidden_grads_torch  # noqa: E402

# (name, init, T, H, M, trained steps)
SETTINGS = [
    ("uniform_T10", "uniform", 10, 6, 1, 0),
    ("identity_T10", "identity", 10, 6, 1, 0),
    ("uniform_T40", "uniform", 40, 5, 1, 0),     # norms down to ~1e-13: relative accuracy
    ("identity_T25_M3", "identity", 25, 4, 3, 0),
    ("uniform_trained", "uniform", 12, 6, 1, 40),
    ("identity_trained", "identity", 12, 6, 1, 40),
    ("T1", "uniform", 1, 3, 1, 0),
]


def _setting(init, T, H, M, steps):
    model = Seq2OneRNN(1, H, M, init=init, rng=T)
    if steps:
        Learner(model).train(steps, generate_samples(16, T, seed=1))
        model.params["bs"] += 0.1  # non-zero biases reach torch through bias_ih
    x, y = next(generate_samples(9, T, seed=2))
    y = np.repeat(y, M, axis=1) * np.linspace(1.0, -0.5, M)
    return model, to_batch_first(x, model.dtype), y


class NormsAgreeWithTorch(unittest.TestCase):
    @parameterized.expand(SETTINGS)
    def test_per_timestep_norms(self, _, init, T, H, M, steps):
        model, x, y = _setting(init, T, H, M, steps)
        ours = hidden_grad_norms(model, x, y)
        theirs = hidden_grad_norms_torch(model.get_weights(), x, y)
        self.assertEqual(ours.shape, (T,))
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=0)
        # the full dL/da(t), not only its norm
        np.testing.assert_allclose(model.hidden_grads, hidden_grads_torch(model.params, x, y),
                                   rtol=1e-7, atol=1e-12 * np.abs(model.hidden_grads).max())
