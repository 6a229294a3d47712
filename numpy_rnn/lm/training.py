"""Training loop of the word-level language model, as the assignment runs it.

Every iteration takes a batch of ``N`` windows of ``T`` words from a
:class:`~numpy_rnn.lm.corpus.WindowLoader` (first pass over the windows in text
order, later passes shuffled with the seed), runs the model from a zero state,
computes the masked temporal softmax loss (sum over time / N; all positions
count), optionally clips the global gradient norm, and takes an optimiser step.
An epoch is ``max((len(words) - 1) // N, 1)`` iterations: 72 for the 2169 words
of *Alice* chapter 1 with ``N = 30``, so 50 epochs are the assignment's 3600
iterations.

After each epoch the training accuracy is measured as the assignment does: the
whole text is one sequence run from a zero state, the greedy (argmax) next word
is predicted at every position, and the accuracy is the fraction right out of
``len(words) - 1`` predictions (computed in chunks that carry the state, so a
long text needs no more memory than a short one). The parameters of the best
epoch (highest accuracy, earliest on ties) are kept and put back into the model
at the end, and also when the run is interrupted (:class:`TrainingInterrupted`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from numpy_rnn.cli.progress import progress_bar
from numpy_rnn.lm.corpus import Corpus, WindowLoader
from numpy_rnn.optim import SGD, Adam, clip_grad_norm

__all__ = ["EpochStats", "TrainingInterrupted", "TrainingResult", "make_optimizer",
           "next_word_accuracy", "train"]


@dataclass
class EpochStats:
    """What :func:`train` reports after each epoch (``on_epoch`` receives one)."""

    epoch: int          # 1-based
    epochs: int
    accuracy: float     # training accuracy after this epoch
    mean_loss: float    # mean of this epoch's iteration losses
    is_best: bool       # accuracy is the best so far (these parameters are kept)
    seconds: float      # wall time of the epoch, accuracy included


@dataclass
class TrainingResult:
    """History of a run of :func:`train`."""

    loss_history: list = field(default_factory=list)       # one loss per iteration
    accuracy_history: list = field(default_factory=list)   # one accuracy per epoch
    best_accuracy: float = float("nan")
    best_epoch: int = 0                                     # 1-based
    best_params: dict = field(default_factory=dict)
    iterations_per_epoch: int = 0
    seconds: float = 0.0

    @property
    def final_accuracy(self) -> float:
        """Training accuracy after the last epoch."""
        return self.accuracy_history[-1] if self.accuracy_history else float("nan")

    def as_dict(self) -> dict:
        """JSON-serialisable summary (no parameters)."""
        return {"loss": [float(x) for x in self.loss_history],
                "accuracy": [float(x) for x in self.accuracy_history],
                "best_accuracy": float(self.best_accuracy), "best_epoch": self.best_epoch,
                "final_accuracy": float(self.final_accuracy),
                "iterations_per_epoch": self.iterations_per_epoch,
                "seconds": round(self.seconds, 3)}


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`: the model already holds the best parameters so far.

    result: the :class:`TrainingResult` up to the interrupt (``best_epoch`` 0 when
    no epoch finished; the model then holds the parameters of the last step).
    """

    def __init__(self, result):
        super().__init__("training interrupted")
        self.result = result


def next_word_accuracy(model, ids, chunk_words=None) -> float:
    """Fraction of greedy next-word predictions that are right over the whole text.

    model: a LanguageModel.
    ids:   int array (L,), the text as word ids (L >= 2); it is run as one
           sequence from a zero state, predicting ``ids[1:]`` from ``ids[:-1]``.
    chunk_words: positions scored at a time (see ``LanguageModel.predict_text``);
           the state is carried across chunks, so the result does not depend on it.
    Returns: accuracy in [0, 1] (denominator L - 1).
    """
    ids = np.asarray(ids)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be a 1-D array of at least 2 word ids, got shape {ids.shape}")
    hits = 0
    for start, predicted in model.predict_text(ids, chunk_words):
        hits += int(np.count_nonzero(predicted == ids[start + 1:start + 1 + len(predicted)]))
    return hits / (len(ids) - 1)


def make_optimizer(name: str, lr: float):
    """``'adam'`` -> :class:`Adam`, ``'sgd'`` -> :class:`SGD` (momentum 0.9)."""
    if name == "adam":
        return Adam(lr)
    if name == "sgd":
        return SGD(lr, momentum=0.9)
    raise ValueError(f"optimizer must be 'adam', 'sgd' or an optimiser object, got {name!r}")


def train(model, corpus, epochs: int, batch_size: int, timesteps: int, lr: float, seed: int = 0,
          optimizer="adam", clip=None, progress=True, on_epoch=None,
          iterations_per_epoch=None, eval_words=None) -> TrainingResult:
    """Train ``model`` on ``corpus`` (see the module docstring for the scheme).

    model:      a LanguageModel (its ``vocab_size`` covers the corpus ids).
    corpus:     a :class:`~numpy_rnn.lm.corpus.Corpus`, or an int array (L,) of word ids.
    epochs:     number of epochs (>= 1).
    batch_size: N, windows per iteration.
    timesteps:  T, words per window.
    lr:         learning rate.
    seed:       seed of the window order (the model's initial weights come from
                the model's own ``rng``); the same seed gives the same run.
    optimizer:  ``'adam'``, ``'sgd'`` or an object with ``step(params, grads)``.
    clip:       None, or the max global gradient norm (see ``clip_grad_norm``).
    progress:   show a progress bar (epoch, loss, accuracy) on a terminal.
    on_epoch:   optional callable receiving an :class:`EpochStats` after each epoch.
    iterations_per_epoch: None for the assignment's ``max((L - 1) // N, 1)``, or
                a positive int (a long text trained for a given number of steps).
    eval_words: None to measure the accuracy on the whole text, or a positive int:
                on its first ``eval_words`` predictions (a long text's epochs stay short).
    Returns: a :class:`TrainingResult`; the model holds the best parameters.
    Raises :class:`TrainingInterrupted` on Ctrl-C, the best parameters so far in
    the model.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if clip is not None and not float(clip) > 0:
        raise ValueError(f"clip must be None or > 0, got {clip!r}")
    if isinstance(corpus, Corpus):
        ids, name = corpus.ids, corpus.name
    else:
        ids, name = np.asarray(corpus), "corpus"
    if ids.size and int(ids.max()) >= model.vocab_size:
        raise ValueError(f"corpus has word id {int(ids.max())}, but the model's vocab_size is "
                         f"{model.vocab_size}")
    loader = WindowLoader(ids, timesteps, batch_size, seed=seed, name=name)
    if iterations_per_epoch is not None:
        if isinstance(iterations_per_epoch, bool) or \
                not isinstance(iterations_per_epoch, (int, np.integer)) or iterations_per_epoch < 1:
            raise ValueError(f"iterations_per_epoch must be None or a positive integer, got "
                             f"{iterations_per_epoch!r}")
        loader.iterations_per_epoch = int(iterations_per_epoch)
    eval_ids = ids
    if eval_words is not None:
        if isinstance(eval_words, bool) or not isinstance(eval_words, (int, np.integer)) \
                or eval_words < 1:
            raise ValueError(f"eval_words must be None or a positive integer, got "
                             f"{eval_words!r}")
        eval_ids = ids[:int(eval_words) + 1]
    opt = make_optimizer(optimizer, lr) if isinstance(optimizer, str) else optimizer
    result = TrainingResult(iterations_per_epoch=loader.iterations_per_epoch)
    total = epochs * loader.iterations_per_epoch
    bar = progress_bar(total=total, desc=f"train {model.cell}",
                       disable=None if progress else True, unit="it")
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            epoch_start = time.perf_counter()
            losses = []
            for words, targets in loader.epoch():
                loss, grads = model.loss(words, targets)
                if clip is not None:
                    clip_grad_norm(grads, clip)
                opt.step(model.params, grads)
                losses.append(loss)
                bar.update(1)
                bar.set_postfix(epoch=f"{epoch}/{epochs}", loss=f"{loss:.3f}", refresh=False)
            result.loss_history.extend(losses)
            accuracy = next_word_accuracy(model, eval_ids)
            result.accuracy_history.append(accuracy)
            is_best = result.best_epoch == 0 or accuracy > result.best_accuracy
            if is_best:
                result.best_accuracy, result.best_epoch = accuracy, epoch
                result.best_params = model.get_params()
            bar.set_postfix(epoch=f"{epoch}/{epochs}", loss=f"{losses[-1]:.3f}",
                            acc=f"{accuracy:.4f}")
            if on_epoch is not None:
                on_epoch(EpochStats(epoch, epochs, accuracy, float(np.mean(losses)), is_best,
                                    time.perf_counter() - epoch_start))
    except KeyboardInterrupt:
        result.seconds = time.perf_counter() - start
        if result.best_params:
            model.set_params(result.best_params)
        raise TrainingInterrupted(result) from None
    finally:
        bar.close()
    result.seconds = time.perf_counter() - start
    model.set_params(result.best_params)
    return result
