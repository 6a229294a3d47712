"""The memory task: read a sequence of random numbers, output the first one.

Each sample is a sequence ``x(1) .. x(T)`` of numbers drawn uniformly from
[-1, 1]; its label is ``x(1)``. The network sees the label's value only at the
first timestep and must carry it through ``T - 1`` further inputs, so the task
measures how far back a recurrent network can remember (and how far gradients
reach back during training).

A prediction counts as correct when ``|y_hat - y| < 0.1`` (:data:`TOLERANCE`).
Always predicting 0 is correct for a sequence with probability 0.1, the chance
level of the accuracy.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from numpy_rnn.core.validation import generator, positive_int
from numpy_rnn.functional import mse_loss
from numpy_rnn.optim import Adam
from numpy_rnn.seq2one.model import Seq2OneRNN

__all__ = ["CHANCE_ACCURACY", "SOLVED_ACCURACY", "TOLERANCE", "Learner", "LengthResult",
           "MemoryResults", "accuracy_criterion", "generate_samples", "memory_experiment",
           "to_batch_first", "train_one"]

TOLERANCE = 0.1          # |y_hat - y| < TOLERANCE counts as correct
SOLVED_ACCURACY = 0.9    # a length is solved when the mean accuracy reaches this
CHANCE_ACCURACY = TOLERANCE  # predicting 0 for labels uniform in [-1, 1]

# Defaults of the experiment (also the CLI's): small enough for minutes on a laptop,
# large enough that short lengths are learnt reliably.
DEFAULT_HIDDEN = 16
DEFAULT_LR = 0.01
DEFAULT_STEPS = 1500
DEFAULT_BATCH = 32
DEFAULT_EVAL_BATCHES = 10
DEFAULT_EVAL_BATCH = 100
FINAL_LOSS_WINDOW = 50   # the final loss is the mean training loss of the last steps


def accuracy_criterion(tolerance: float = TOLERANCE) -> str:
    """The accuracy criterion in words, for printed output."""
    return (f"a prediction is correct when |y_hat - y| < {tolerance:g} "
            f"(chance level {tolerance:g} for labels uniform in [-1, 1])")


def generate_samples(batch_size: int, seq_length: int, seed=None):
    """Endless batches of the memory task (a Python generator).

    batch_size: N, sequences per batch (>= 1).
    seq_length: T, numbers per sequence (>= 1).
    seed:       None (fresh entropy), an int, or a ``np.random.Generator``.
    Yields: ``(x, y)`` forever: x (T, N, 1) float64 uniform in [-1, 1] (time first, as
    the slides lay it out), y (N, 1) the first number of each sequence, ``x[0]``.
    Raises ValueError at the call (not at the first ``next``) for bad sizes.
    """
    batch_size = positive_int("batch_size", batch_size)
    seq_length = positive_int("seq_length", seq_length)
    rng = generator(seed)

    def batches():
        while True:
            x = rng.uniform(-1.0, 1.0, (seq_length, batch_size, 1))
            yield x, x[0].copy()

    return batches()


def to_batch_first(x, dtype) -> np.ndarray:
    """Generator layout ``(T, N, D)`` -> the model's ``(N, T, D)`` in the model's dtype."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (T, N, D) (time first, as generate_samples "
                         f"yields it), got {x.shape}")
    return np.ascontiguousarray(x.transpose(1, 0, 2), dtype=dtype)


class Learner:
    """Trains a sequence-to-one model, tracks its loss, predicts and measures accuracy.

    model:     a model with ``forward(x (N, T, D)) -> (N, M)``, ``backward(dy_hat)``,
               ``params``, ``grads`` and ``dtype`` (e.g. :class:`Seq2OneRNN`).
    loss:      ``loss(y_hat, y) -> (loss, dy_hat)``; default mean squared error.
    optimizer: an object with ``step(params, grads)``; default ``Adam(lr=0.01)``.

    Inputs are in the generator's layout: x (T, N, D) time first, y (N, M).
    ``loss_history`` holds one training loss per step.
    """

    def __init__(self, model, loss=mse_loss, optimizer=None):
        self.model = model
        self.loss = loss
        self.optimizer = optimizer if optimizer is not None else Adam(DEFAULT_LR)
        self.loss_history: list = []

    def _targets(self, y, n: int) -> np.ndarray:
        y = np.asarray(y, dtype=self.model.dtype)
        M = self.model.output_size
        if y.shape != (n, M):
            raise ValueError(f"y must have shape ({n}, {M}), got {y.shape}")
        return y

    def train_step(self, x, y) -> float:
        """One optimiser step on a batch; returns its loss (also appended to loss_history).

        x: (T, N, D).  y: (N, M).
        """
        xb = to_batch_first(x, self.model.dtype)
        y = self._targets(y, xb.shape[0])
        loss, dy_hat = self.loss(self.model.forward(xb), y)
        self.model.backward(dy_hat)
        self.optimizer.step(self.model.params, self.model.grads)
        loss = float(loss)
        self.loss_history.append(loss)
        return loss

    def train(self, steps: int, batches, on_step=None) -> list:
        """Train for ``steps`` batches drawn from ``batches``.

        steps:   number of optimiser steps (>= 1).
        batches: iterator of ``(x (T, N, D), y (N, M))``, e.g. :func:`generate_samples`.
        on_step: optional ``on_step(step, loss)`` called after every step (progress bars).
        Returns: the losses of these steps (also appended to ``loss_history``).
        """
        steps = positive_int("steps", steps)
        losses = []
        for step in range(1, steps + 1):
            x, y = next(batches)
            losses.append(self.train_step(x, y))
            if on_step is not None:
                on_step(step, losses[-1])
        return losses

    def predict(self, x) -> np.ndarray:
        """Model output for x (T, N, D): y_hat (N, M)."""
        return self.model.forward(to_batch_first(x, self.model.dtype))

    def evaluate(self, batches, n_batches: int = DEFAULT_EVAL_BATCHES,
                 tolerance: float = TOLERANCE) -> float:
        """Accuracy on ``n_batches`` fresh batches: fraction of outputs with |y_hat - y| < tol.

        batches:   iterator of ``(x (T, N, D), y (N, M))`` not used for training.
        n_batches: how many batches to draw (>= 1).
        tolerance: the accuracy criterion (> 0).
        Returns: accuracy in [0, 1].
        """
        n_batches = positive_int("n_batches", n_batches)
        if not tolerance > 0:
            raise ValueError(f"tolerance must be > 0, got {tolerance}")
        correct = total = 0
        for _ in range(n_batches):
            x, y = next(batches)
            y_hat = self.predict(x)
            y = self._targets(y, y_hat.shape[0])
            correct += int(np.count_nonzero(np.abs(y_hat - y) < tolerance))
            total += y.size
        return correct / total

    def final_loss(self, window: int = FINAL_LOSS_WINDOW) -> float:
        """Mean training loss of the last ``window`` steps (nan before training)."""
        if not self.loss_history:
            return float("nan")
        return float(np.mean(self.loss_history[-window:]))


@dataclass
class LengthResult:
    """Outcome of all repeats at one sequence length."""

    length: int
    accuracies: list = field(default_factory=list)    # one per repeat
    final_losses: list = field(default_factory=list)  # one per repeat

    @property
    def mean_accuracy(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std_accuracy(self) -> float:
        return float(np.std(self.accuracies))

    @property
    def mean_final_loss(self) -> float:
        return float(np.mean(self.final_losses))

    @property
    def solved(self) -> bool:
        return self.mean_accuracy >= SOLVED_ACCURACY


@dataclass
class MemoryResults:
    """Per-length results and the settings that produced them."""

    settings: dict
    lengths: list  # of LengthResult, in the order run

    @property
    def longest_solved(self):
        """Longest length whose mean accuracy is >= 0.9, or None."""
        solved = [r.length for r in self.lengths if r.solved]
        return max(solved) if solved else None

    def as_dict(self) -> dict:
        """JSON-ready summary."""
        rows = []
        for r in self.lengths:
            row = asdict(r)
            row.update(mean_accuracy=r.mean_accuracy, std_accuracy=r.std_accuracy,
                       mean_final_loss=r.mean_final_loss, solved=r.solved)
            rows.append(row)
        return {"settings": dict(self.settings),
                "criterion": {"tolerance": TOLERANCE, "solved_mean_accuracy": SOLVED_ACCURACY,
                              "text": accuracy_criterion()},
                "results": rows, "longest_solved": self.longest_solved}


def _run_seeds(seed: int, length: int, repeat: int):
    """Independent integer seeds (model, training data, evaluation data) for one run."""
    seq = np.random.SeedSequence([seed, length, repeat])
    return [int(s.generate_state(1)[0]) for s in seq.spawn(3)]


def train_one(length: int, *, seed: int = 0, repeat: int = 0, steps: int = DEFAULT_STEPS,
              batch_size: int = DEFAULT_BATCH, hidden_size: int = DEFAULT_HIDDEN,
              lr: float = DEFAULT_LR, init: str = "uniform",
              eval_batches: int = DEFAULT_EVAL_BATCHES,
              eval_batch_size: int = DEFAULT_EVAL_BATCH, on_step=None):
    """Train one fresh model on the memory task at ``length`` and measure it.

    length: T; seed, repeat: select the model's and the data's seeds; steps, batch_size,
    hidden_size, lr (Adam), init ('uniform' | 'identity'): training settings;
    eval_batches x eval_batch_size fresh sequences measure the accuracy;
    on_step(step, loss): optional callback.
    Returns: ``(accuracy, final_loss, learner)``.
    """
    model_seed, train_seed, eval_seed = _run_seeds(seed, length, repeat)
    model = Seq2OneRNN(1, hidden_size, 1, init=init, rng=model_seed)
    learner = Learner(model, optimizer=Adam(lr))
    learner.train(steps, generate_samples(batch_size, length, train_seed), on_step=on_step)
    accuracy = learner.evaluate(generate_samples(eval_batch_size, length, eval_seed),
                                eval_batches)
    return accuracy, learner.final_loss(), learner


def memory_experiment(lengths, repeats: int = 5, *, steps: int = DEFAULT_STEPS,
                      batch_size: int = DEFAULT_BATCH, hidden_size: int = DEFAULT_HIDDEN,
                      lr: float = DEFAULT_LR, init: str = "uniform", seed: int = 0,
                      eval_batches: int = DEFAULT_EVAL_BATCHES,
                      eval_batch_size: int = DEFAULT_EVAL_BATCH, on_run=None,
                      on_step=None) -> MemoryResults:
    """Train ``repeats`` fresh models per sequence length and measure their accuracy.

    lengths:  sequence lengths (each >= 1).
    repeats:  models per length (>= 1), each with its own initial weights and data.
    steps, batch_size, hidden_size, lr, init, eval_batches, eval_batch_size: as
              :func:`train_one`. seed: base seed of everything (results are reproducible).
    on_run:   optional ``on_run(length, repeat, accuracy, final_loss)`` after each model.
    on_step:  optional ``on_step(step, loss)`` after each training step.
    Returns: :class:`MemoryResults` (mean/std accuracy, mean final loss per length; final
    loss = mean training loss over the last 50 steps).
    """
    lengths = [positive_int("length", L) for L in lengths]
    if not lengths:
        raise ValueError("lengths must name at least one sequence length")
    repeats = positive_int("repeats", repeats)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number, got {lr}")
    settings = dict(repeats=repeats, steps=steps, batch_size=batch_size,
                    hidden_size=hidden_size, lr=lr, optimizer="adam", init=init, seed=seed,
                    eval_sequences=eval_batches * eval_batch_size)
    results = []
    for length in lengths:
        row = LengthResult(length)
        for repeat in range(repeats):
            accuracy, loss, _ = train_one(
                length, seed=seed, repeat=repeat, steps=steps, batch_size=batch_size,
                hidden_size=hidden_size, lr=lr, init=init, eval_batches=eval_batches,
                eval_batch_size=eval_batch_size, on_step=on_step)
            row.accuracies.append(accuracy)
            row.final_losses.append(loss)
            if on_run is not None:
                on_run(length, repeat, accuracy, loss)
        results.append(row)
    return MemoryResults(settings, results)
