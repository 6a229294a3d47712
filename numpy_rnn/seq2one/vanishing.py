"""Vanishing gradients in the sequence-to-one RNN on the memory task.

For a batch of memory-task sequences the study measures, for every timestep
``t``, how large the loss gradient with respect to the hidden state is:

    norm(t) = mean over sequences n of || dL_n / da_n(t) ||_2

where ``L_n = mean_m (y_hat_nm - y_nm)^2`` is sequence ``n``'s own squared error
(so the numbers do not shrink with the batch size) and ``|| ||_2`` is the
Euclidean norm over the ``H`` hidden units. The last timestep ``t = T`` is at
distance 0 from the output. The *per-step decay factor* is the geometric mean
of ``norm(t) / norm(t + 1)`` over ``t = 1 .. T-1``, which telescopes to
``(norm(1) / norm(T)) ** (1 / (T - 1))``: the factor by which the gradient
shrinks (< 1) or grows (> 1), on average, with every step back in time.

The norms are measured at initialisation and after training on the task at the
same length, for each initialisation scheme.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from numpy_rnn.core.validation import positive_int
from numpy_rnn.optim import Adam
from numpy_rnn.seq2one.memory_task import TOLERANCE, Learner, generate_samples, to_batch_first
from numpy_rnn.seq2one.model import INITS, Seq2OneRNN

__all__ = ["DEFAULT_LENGTHS", "GradientRecord", "decay_factor", "gradient_study",
           "hidden_grad_norms", "NORM_DEFINITION"]

DEFAULT_LENGTHS = (10, 25, 50, 100)
DEFAULT_HIDDEN = 16
DEFAULT_STEPS = 500
DEFAULT_BATCH = 32
DEFAULT_LR = 0.01
DEFAULT_PROBE_BATCH = 100

NORM_DEFINITION = ("mean over the sequences of a batch of ||dL_n/da_n(t)||_2, L_n = the "
                   "sequence's own squared error; distance = T - t")


def per_sequence_mse_grad(y_hat, y) -> np.ndarray:
    """dL_n/dy_hat_n for ``L_n = mean_m (y_hat_nm - y_nm)^2``: (N, M) -> (N, M)."""
    return (2.0 / y_hat.shape[-1]) * (y_hat - y)


def hidden_grad_norms(model: Seq2OneRNN, x, y) -> np.ndarray:
    """Per-timestep norm of the loss gradient with respect to the hidden state.

    model: a :class:`Seq2OneRNN` (its ``grads`` are overwritten).
    x:     (N, T, D) inputs in the model's dtype (batch first).
    y:     (N, M) targets.
    Returns: norms (T,) float64, ``norms[t-1]`` = mean over n of ||dL_n/da_n(t)||_2.
    """
    y_hat = model.forward(x)
    y = np.asarray(y, dtype=model.dtype)
    if y.shape != y_hat.shape:
        raise ValueError(f"y must have shape {y_hat.shape}, got {y.shape}")
    model.backward(per_sequence_mse_grad(y_hat, y))
    norms = np.linalg.norm(model.hidden_grads.astype(np.float64), axis=-1)  # (N, T)
    return norms.mean(axis=0)


def decay_factor(norms) -> float:
    """Geometric mean of ``norms[t] / norms[t + 1]``: average per-step factor going back.

    norms: (T,) positive gradient norms ordered by time (last = nearest the output).
    Returns: ``(norms[0] / norms[-1]) ** (1 / (T - 1))``; nan for T = 1 or a zero norm.
    """
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 1 or norms.size == 0:
        raise ValueError(f"norms must be a non-empty 1-D array, got shape {norms.shape}")
    if norms.size < 2:
        return float("nan")
    if not (norms[0] > 0 and norms[-1] > 0):
        warnings.warn("a gradient norm is zero (underflow); the decay factor is undefined",
                      RuntimeWarning, stacklevel=2)
        return float("nan")
    return float(math.exp((math.log(norms[0]) - math.log(norms[-1])) / (norms.size - 1)))


@dataclass
class GradientRecord:
    """Norms of one setting (initialisation x length), before and after training."""

    init: str
    length: int
    norms_before: list = field(default_factory=list)  # index t-1, t = 1 .. T
    norms_after: list = field(default_factory=list)
    final_loss: float = float("nan")                   # training loss, last 50 steps
    accuracy_after: float = float("nan")               # on the probe batch, |err| < 0.1

    @property
    def decay_before(self) -> float:
        return decay_factor(self.norms_before)

    @property
    def decay_after(self) -> float:
        return decay_factor(self.norms_after)

    def as_dict(self) -> dict:
        return {"init": self.init, "length": self.length,
                "norms_before": list(self.norms_before), "norms_after": list(self.norms_after),
                "decay_before": _json_float(self.decay_before),
                "decay_after": _json_float(self.decay_after),
                "final_loss": _json_float(self.final_loss),
                "accuracy_after": _json_float(self.accuracy_after)}


def _json_float(value: float):
    return float(value) if math.isfinite(value) else None


def gradient_study(lengths=DEFAULT_LENGTHS, inits=INITS, *, hidden_size: int = DEFAULT_HIDDEN,
                   steps: int = DEFAULT_STEPS, batch_size: int = DEFAULT_BATCH,
                   lr: float = DEFAULT_LR, probe_batch: int = DEFAULT_PROBE_BATCH,
                   seed: int = 0, on_step=None) -> list:
    """Gradient norms per timestep at initialisation and after training, per setting.

    lengths:     sequence lengths T (each >= 2 for a decay factor).
    inits:       initialisation schemes ('uniform', 'identity').
    hidden_size: H; steps, batch_size, lr: Adam training on the memory task at length T.
    probe_batch: sequences of the fixed batch on which the norms are measured (the same
                 batch before and after training).
    seed:        base seed (model weights, training data and probe batch).
    on_step:     optional ``on_step(step, loss)`` after every training step.
    Returns: list of :class:`GradientRecord`, inits outer, lengths inner.
    """
    records = []
    for init in inits:
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        for length in lengths:
            positive_int("length", length)
            seeds = np.random.SeedSequence([seed, int(length)]).spawn(3)
            model_seed, train_seed, probe_seed = (int(s.generate_state(1)[0]) for s in seeds)
            model = Seq2OneRNN(1, hidden_size, 1, init=init, rng=model_seed)
            x, y = next(generate_samples(probe_batch, int(length), probe_seed))
            xb = to_batch_first(x, model.dtype)
            record = GradientRecord(init, int(length))
            record.norms_before = hidden_grad_norms(model, xb, y).tolist()
            learner = Learner(model, optimizer=Adam(lr))
            learner.train(steps, generate_samples(batch_size, int(length), train_seed),
                          on_step=on_step)
            record.final_loss = learner.final_loss()
            record.norms_after = hidden_grad_norms(model, xb, y).tolist()
            record.accuracy_after = float(np.mean(np.abs(model.forward(xb) - y) < TOLERANCE))
            records.append(record)
    return records
