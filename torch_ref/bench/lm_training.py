"""Time the language-model training in NumPy (numpy_rnn) and in PyTorch, in one run.

Both sides train the same model from the same initial weights (the NumPy
model's initialisation, copied into ``nn.Embedding -> nn.RNN/nn.LSTM ->
nn.Linear`` through ``torch_ref.layout``), on the same batches in the same order
(one :class:`~numpy_rnn.lm.corpus.WindowLoader` stream), with Adam at the same
settings, and measure the training accuracy after every epoch the same way
(whole text, zero state, greedy next word), keeping the best parameters. The
NumPy side is :func:`numpy_rnn.lm.training.train` itself.

Prints both wall times, the numpy/torch ratio, and how closely the two loss
curves agree (they are the same computation, so they match to rounding at first
and drift apart slowly)::

    python -m torch_ref bench-lm --corpus alice.txt --cell lstm

Threads: torch and NumPy's BLAS both use ``--threads`` (default 1), set as
``python -m torch_ref bench`` sets them. ``--profile N`` also prints where the
NumPy side spends the time of N training iterations.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from contextlib import ExitStack

import numpy as np

from numpy_rnn.lm.corpus import Corpus, WindowLoader, default_corpus
from numpy_rnn.lm.model import CELLS, LanguageModel
from numpy_rnn.lm.training import next_word_accuracy, train
from numpy_rnn.optim import Adam


def add_arguments(p) -> None:
    p.add_argument("--corpus", help="UTF-8 text file (default: the Zen of Python)")
    p.add_argument("--cell", choices=CELLS, default="lstm")
    p.add_argument("--embed", type=int, default=15)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--timesteps", type=int, default=50)
    p.add_argument("--batch", type=int, default=30)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for torch and NumPy's BLAS alike (default 1)")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="profile N NumPy training iterations and print the top functions")


def train_torch(params, cell, corpus, batches, epochs, lr):
    """The torch twin of :func:`numpy_rnn.lm.training.train` on pre-drawn ``batches``.

    Returns ``(loss_history, accuracy_history, seconds)``.
    """
    import torch

    from torch_ref.catalog.language_model import TorchLanguageModel

    model = TorchLanguageModel(params, cell)
    trainable = model.parameters()
    opt = torch.optim.Adam(trainable, lr=lr)
    mask = np.ones(batches[0][0].shape, dtype=bool)
    inputs, targets = torch.from_numpy(corpus.ids[None, :-1]), torch.from_numpy(corpus.ids[1:])
    per_epoch = len(batches) // epochs
    losses, accuracies, best, best_params = [], [], -1.0, None
    start = time.perf_counter()
    for epoch in range(epochs):
        for words, labels in batches[epoch * per_epoch:(epoch + 1) * per_epoch]:
            opt.zero_grad()
            _, loss = model.loss(words, labels, mask)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            predicted = model.scores(inputs.numpy()).argmax(dim=-1)[0]
            accuracy = (predicted == targets).double().mean().item()
        accuracies.append(accuracy)
        if accuracy > best:
            best, best_params = accuracy, [p.detach().clone() for p in trainable]
    seconds = time.perf_counter() - start
    del best_params
    return losses, accuracies, seconds


def profile_numpy(model, loader, iterations, lr) -> str:
    """Top functions (by own time) of ``iterations`` NumPy training iterations."""
    opt = Adam(lr)
    batches = [loader.next_batch() for _ in range(iterations)]

    def run():
        for words, targets in batches:
            _, grads = model.loss(words, targets)
            opt.step(model.params, grads)
        next_word_accuracy(model, loader.ids)

    profiler = cProfile.Profile()
    profiler.runcall(run)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    return out.getvalue()


def run(args) -> int:
    from torch_ref.bench.run import limit_threads

    with ExitStack() as stack:
        for warning in limit_threads(stack, args.threads):
            print(f"warning: {warning}", file=sys.stderr)
        return _compare(args)


def _compare(args) -> int:
    import torch

    corpus = Corpus.from_file(args.corpus) if args.corpus else default_corpus()
    loader = WindowLoader(corpus.ids, args.timesteps, args.batch, seed=args.seed,
                          name=corpus.name)
    iterations = args.epochs * loader.iterations_per_epoch
    batches = [loader.next_batch() for _ in range(iterations)]  # train() draws the same
    model = LanguageModel(len(corpus.vocab), args.embed, args.hidden, cell=args.cell,
                          rng=args.seed, dtype=args.dtype)
    start_params = model.get_params()
    print(f"corpus: {corpus.name}: {len(corpus)} words, {len(corpus.vocab)} distinct")
    print(f"{args.cell}, D={args.embed}, H={args.hidden}, T={args.timesteps}, N={args.batch}, "
          f"{args.epochs} epochs x {loader.iterations_per_epoch} iterations, Adam "
          f"lr={args.lr}, {args.dtype}; torch {torch.__version__}, {args.threads} thread(s)")
    sys.stdout.flush()

    t_losses, t_acc, t_seconds = train_torch(start_params, args.cell, corpus, batches,
                                             args.epochs, args.lr)
    print(f"torch:     {t_seconds:8.1f} s  final accuracy {t_acc[-1]:.4f}  "
          f"best {max(t_acc):.4f}", flush=True)
    result = train(model, corpus, args.epochs, args.batch, args.timesteps, args.lr,
                   seed=args.seed, progress=False)
    print(f"numpy_rnn: {result.seconds:8.1f} s  final accuracy {result.final_accuracy:.4f}  "
          f"best {result.best_accuracy:.4f}")
    print(f"numpy/torch time ratio: {result.seconds / t_seconds:.2f}x")
    diff = np.abs(np.asarray(result.loss_history) - np.asarray(t_losses))
    first = loader.iterations_per_epoch
    rel = diff / np.abs(np.asarray(t_losses))
    print(f"loss agreement: max relative difference {rel[:first].max():.1e} in epoch 1, "
          f"{rel.max():.1e} over all {iterations} iterations; accuracy per epoch differs by "
          f"at most {np.max(np.abs(np.subtract(result.accuracy_history, t_acc))):.4f}")
    if args.profile:
        model.set_params(start_params)
        profile_loader = WindowLoader(corpus.ids, args.timesteps, args.batch, seed=args.seed)
        print(f"\nNumPy profile of {args.profile} iterations and one accuracy evaluation:")
        print(profile_numpy(model, profile_loader, args.profile, args.lr))
    return 0
