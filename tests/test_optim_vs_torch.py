"""numpy_rnn.optim against torch.optim and torch.nn.utils.clip_grad_norm_, step by step."""
import unittest

import numpy as np
import pytest
from parameterized import parameterized

torch = pytest.importorskip("torch", reason="the reference optimisers need torch")

from numpy_rnn.optim import SGD, Adam, clip_grad_norm  # noqa: E402
from torch_ref.tolerances import OPTIMIZER  # noqa: E402

TOL = {dtype: dict(rtol=rtol, atol=atol) for dtype, (rtol, atol) in OPTIMIZER.items()}
SHAPES = {"W": (4, 3), "b": (3,), "v": (1,)}


def _run_both(make_numpy, make_torch, dtype, clip=None, steps=10, seed=0):
    """Same start and gradients in both; returns per-step (numpy, torch) params and norms."""
    rng = np.random.default_rng(seed)
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    tensors = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in params.items()}
    opt_np, opt_t = make_numpy(), make_torch(list(tensors.values()))
    history = []
    for _ in range(steps):
        # gradients of very different scales, so clipping and Adam's scaling matter
        grads = {k: (rng.standard_normal(s) * 10.0 ** rng.integers(-3, 2)).astype(dtype)
                 for k, s in SHAPES.items()}
        for k, t in tensors.items():
            t.grad = torch.from_numpy(grads[k].copy())
        norms = (None, None)
        if clip is not None:
            norms = (clip_grad_norm(grads, clip),
                     torch.nn.utils.clip_grad_norm_(list(tensors.values()), clip).item())
        opt_np.step(params, grads)
        opt_t.step()
        history.append(({k: v.copy() for k, v in params.items()},
                        {k: t.detach().numpy().copy() for k, t in tensors.items()}, norms))
    return history


CASES = [
    ("sgd", lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd_momentum", lambda: SGD(0.05, momentum=0.9),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("adam", lambda: Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    ("adam_betas", lambda: Adam(0.003, beta1=0.5, beta2=0.9, eps=1e-6),
     lambda p: torch.optim.Adam(p, lr=0.003, betas=(0.5, 0.9), eps=1e-6)),
]


class AgainstTorch(unittest.TestCase):
    @parameterized.expand([(f"{name}_{dtype}_{clip}", mk_np, mk_t, dtype, clip)
                           for name, mk_np, mk_t in CASES
                           for dtype in ("float64", "float32") for clip in (None, 1.0)])
    def test_every_step_matches(self, _, make_numpy, make_torch, dtype, clip):
        for step, (ours, ref, (norm, ref_norm)) in enumerate(
                _run_both(make_numpy, make_torch, dtype, clip)):
            for k in ours:
                np.testing.assert_allclose(ours[k], ref[k], **TOL[dtype],
                                           err_msg=f"step {step + 1}, param {k}")
                self.assertEqual(ours[k].dtype, np.dtype(dtype))
            if clip is not None:
                self.assertAlmostEqual(norm, ref_norm, delta=1e-5 * ref_norm)
