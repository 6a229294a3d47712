"""The vanishing-gradient norms of :mod:`numpy_rnn.seq2one.vanishing`, recomputed with torch.

The sequence-to-one RNN is rebuilt as ``nn.RNN`` (tanh) followed by ``nn.Linear``
on the last hidden state, with the NumPy weights copied through
:mod:`torch_ref.layout` (``W -> weight_ih_l0 = W.T``, ``R -> weight_hh_l0 = R.T``,
``bs -> bias_ih_l0``, ``bias_hh_l0 = 0``, ``V``/``by`` -> the Linear layer).
``nn.RNN`` runs one timestep per call so that every hidden state a(t) is a tensor
of the graph; ``retain_grad`` keeps dL/da(t), which autograd accumulates from the
readout (t = T) and from the next timestep's recurrence.
"""
from __future__ import annotations

import numpy as np

from torch_ref import layout as L

__all__ = ["hidden_grads_torch", "hidden_grad_norms_torch"]


def hidden_grads_torch(params: dict, x, y) -> np.ndarray:
    """dL_n/da_n(t) for every sequence and timestep, by autograd.

    params: ``W (D, H)``, ``R (H, H)``, ``bs (H,)``, ``V (H, M)``, ``by (M,)``, NumPy.
    x:      (N, T, D) inputs (batch first), same float dtype as the parameters.
    y:      (N, M) targets.
    Loss:   sum over n of ``L_n = mean_m (y_hat_nm - y_nm)^2`` (so that the gradient of
            sequence n is that of its own squared error).
    Returns: (N, T, H) array of dL_n/da_n(t).
    """
    rnn = L.make_rnn(params["W"], params["R"], params["bs"], batch_first=True)
    readout = L.make_linear(params["V"], params["by"])
    xt = L.tensor(x)
    N, T, _ = xt.shape
    state = L.zero_state(rnn, N, xt.dtype)
    states = []
    for t in range(T):
        _, state = rnn(xt[:, t:t + 1], state)
        state.retain_grad()
        states.append(state)
    y_hat = readout(state[0])
    loss = ((y_hat - L.tensor(y)) ** 2).mean(dim=1).sum()
    loss.backward()
    return np.stack([L.to_numpy(s.grad[0]) for s in states], axis=1)


def hidden_grad_norms_torch(params: dict, x, y) -> np.ndarray:
    """Torch twin of :func:`numpy_rnn.seq2one.vanishing.hidden_grad_norms`: (T,) float64 norms."""
    grads = hidden_grads_torch(params, x, y).astype(np.float64)
    return np.linalg.norm(grads, axis=-1).mean(axis=0)
