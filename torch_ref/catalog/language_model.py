"""Catalog entries: the language model and the optimisers that train it.

``language_model_<cell>``, one for every cell of :data:`numpy_rnn.lm.model.CELLS`:
:class:`numpy_rnn.lm.model.LanguageModel` (embedding -> recurrent layer -> temporal
affine, masked temporal softmax loss) against ``nn.Embedding -> nn.RNN/LSTM/...
(batch_first) -> nn.Linear`` holding the same weights: the scores, the loss and
the gradient of every parameter.

``adam_rnn`` ... ``sgd_lstm``: 20 steps of :mod:`numpy_rnn.optim` (``Adam``,
``SGD`` with momentum, with and without ``clip_grad_norm``) on the language model
against 20 steps of ``torch.optim.Adam`` / ``torch.optim.SGD`` (and
``torch.nn.utils.clip_grad_norm_``) from the same start on the same batches:
the losses, the gradient norms and every parameter after the last step.

Tensor names: ``scores``, ``loss``, ``d<param>`` (``dembed.W``, ``drnn.Wx`` ...)
for the model; ``losses``, ``grad_norms``, ``<param>`` after the last step for
the optimisers. One component per cell, so that gate blocks are named by the
cell's own gates.
"""
from __future__ import annotations

import numpy as np

from numpy_rnn.lm.model import CELLS as MODEL_CELLS
from torch_ref.catalog.base import Case, Component, Run, Sampler, register
from torch_ref.catalog.recurrent import draw_weights
from torch_ref.layout import CELLS


def param_names(cell: str) -> tuple:
    """The LanguageModel's parameter names with ``cell`` as its recurrent layer."""
    return ("embed.W", "rnn.Wx", "rnn.Wh", *(f"rnn.{b}" for b in CELLS[cell].biases),
            "out.W", "out.b")


# (label, sizes, mask kind, what is special)
_MODEL_CASES = (
    ("ordinary", dict(N=3, T=5, V=7, D=4, H=6), "random", ("masked positions",)),
    ("mask ones", dict(N=3, T=5, V=7, D=4, H=6), "ones", ("mask all ones",)),
    ("masked rows", dict(N=3, T=4, V=6, D=3, H=5), "rows",
     ("a fully masked sequence", "float 0/1 mask")),
    ("V=1", dict(N=2, T=3, V=1, D=3, H=4), "random", ("V=1 (one word)",)),
    ("V=2", dict(N=2, T=4, V=2, D=3, H=4), "random", ("V=2",)),
    ("V=3", dict(N=3, T=3, V=3, D=2, H=4), "ones", ("V=3",)),
    ("T=1", dict(N=3, T=1, V=5, D=3, H=4), "ones", ("T=1",)),
    ("N=1", dict(N=1, T=6, V=5, D=3, H=4), "random", ("N=1",)),
    ("repeated", dict(N=3, T=6, V=9, D=4, H=5), "random",
     ("repeated words", "words never used")),
    ("non-zero h0", dict(N=2, T=4, V=6, D=3, H=5), "random", ("non-zero h0",)),
)


def _draw_params(draw: Sampler, V, D, H, cell: str) -> dict:
    """Random parameters (all non-zero), scaled to keep tanh unsaturated."""
    params = {"embed.W": draw.normal(V, D)}
    params.update({f"rnn.{k}": v for k, v in draw_weights(draw, cell, D, H).items()})
    params.update({"out.W": draw.normal(H, V, scale=1.0 / np.sqrt(H)),
                   "out.b": draw.normal(V, scale=0.5)})
    return params


def _draw_mask(draw: Sampler, kind: str, N, T, dtype):
    if kind == "ones":
        return np.ones((N, T), dtype=bool)
    mask = draw.mask(N, T, p=0.7)
    mask[-1, 0] = True  # at least one position counts
    if kind == "rows":
        mask[0, :] = False
        return mask.astype(dtype)
    return mask


def _model_cases(cell: str):
    name = f"language_model_{cell}"

    def cases(dtype: str, seed: int):
        for label, s, mask_kind, special in _MODEL_CASES:
            draw = Sampler(name, dtype, seed, label)
            N, T, V, D, H = (s[k] for k in "NTVDH")
            if label == "repeated":
                words = draw.integers(3, N, T)          # only words 0..2 of 9
                words[0, :] = words[0, 0]
                targets = np.roll(words, -1, axis=1)
            else:
                words, targets = draw.integers(V, N, T), draw.integers(V, N, T)
            inputs = {"words": words, "targets": targets,
                      "mask": _draw_mask(draw, mask_kind, N, T, dtype),
                      **_draw_params(draw, V, D, H, cell)}
            if label == "non-zero h0":
                inputs["h0"] = draw.normal(N, H, scale=0.5)
            yield Case(name, label, dtype, seed, inputs, {}, dict(s), special,
                       extra={"cell": cell})
    return cases


def _numpy_model(case: Case):
    from numpy_rnn.lm.model import LanguageModel

    i, s = case.inputs, case.sizes
    model = LanguageModel(s["V"], s["D"], s["H"], cell=case.extra["cell"], rng=0,
                          dtype=case.dtype)
    model.set_params({k: i[k] for k in param_names(case.extra["cell"])})
    return model


def _run_numpy_model(api, case: Case) -> Run:
    i = case.inputs
    model = _numpy_model(case)
    scores = model.forward(i["words"], i.get("h0"))
    loss, grads = model.loss(i["words"], i["targets"], i["mask"], h0=i.get("h0"))
    return Run({"scores": scores, "loss": np.asarray(loss, dtype=case.dtype)},
               {"d" + k: grads[k] for k in param_names(case.extra["cell"])})


class TorchLanguageModel:
    """The torch twin of a LanguageModel, built through ``torch_ref.layout``.

    params: NumPy parameters by LanguageModel name (``embed.W``, ``rnn.Wx`` ...).
    cell:   a key of ``torch_ref.layout.CELLS``.
    """

    def __init__(self, params: dict, cell: str):
        from torch_ref import layout as L

        self.L, self.cell = L, cell
        self.names = param_names(cell)
        self.embed = L.make_embedding(params["embed.W"])
        self.rnn = L.make_recurrent(cell, *(params[k] for k in self.names[1:-2]))
        self.out = L.make_linear(params["out.W"], params["out.b"])

    def parameters(self):
        """The parameters the NumPy model has (not the bias layout holds at zero)."""
        return [*self.embed.parameters(), *self.L.numpy_parameters(self.rnn),
                *self.out.parameters()]

    def scores(self, words, h0=None):
        """Vocabulary scores ``(N, T, V)`` for int words ``(N, T)`` from ``h0`` (zeros if None)."""
        import torch

        x = self.embed(torch.from_numpy(words))
        h0 = None if h0 is None else self.L.tensor(np.asarray(h0)[None])
        return self.out(self.L.run_sequence(self.rnn, x, h0))

    def loss(self, words, targets, mask, h0=None):
        """``(scores, loss)`` tensors: sum of masked cross-entropies / N."""
        import torch
        import torch.nn.functional as F

        N, T = words.shape
        scores = self.scores(words, h0)
        V = scores.shape[-1]
        per_step = F.cross_entropy(scores.reshape(N * T, V),
                                   torch.from_numpy(targets).reshape(N * T), reduction="none")
        weights = torch.from_numpy(np.asarray(mask, dtype=np.float64)).to(scores.dtype)
        return scores, (per_step * weights.reshape(N * T)).sum() / N

    def grads(self) -> dict:
        """Gradients in NumPy layout, keyed by NumPy parameter name."""
        L = self.L
        return dict(zip(self.names, (L.embedding_grad(self.embed), *L.recurrent_grads(self.rnn),
                                     *L.linear_grads(self.out)), strict=True))

    def weights(self) -> dict:
        """Current weights in NumPy layout (read through the gradient converters)."""
        import torch

        saved = {}
        for p in self.parameters():
            saved[p] = p.grad
            p.grad = p.detach().clone()
        with torch.no_grad():
            values = self.grads()
        for p, g in saved.items():
            p.grad = g
        return values


def _run_torch_model(case: Case) -> Run:
    i = case.inputs
    model = TorchLanguageModel(i, case.extra["cell"])
    scores, loss = model.loss(i["words"], i["targets"], i["mask"], i.get("h0"))
    loss.backward()
    L = model.L
    return Run({"scores": L.to_numpy(scores), "loss": L.to_numpy(loss)},
               {"d" + k: v for k, v in model.grads().items()})


# ---- optimisers ------------------------------------------------------------------

STEPS = 20
_OPT_SIZES = dict(N=3, T=4, V=6, D=4, H=5)
# (label, optimiser, hyper-parameters); max_norm well below the gradient norms
_OPT_CASES = (
    ("no clip", dict(clip=None), ()),
    ("clip", dict(clip=0.5), ("clip_grad_norm to 0.5 (clips every step)",)),
)
_OPTIMIZERS = {"adam": dict(lr=0.01), "sgd": dict(lr=0.1, momentum=0.9)}


def _optimizer_cases(optimizer: str, cell: str):
    name = f"{optimizer}_{cell}"

    def cases(dtype: str, seed: int):
        for label, hyper, special in _OPT_CASES:
            draw = Sampler(name, dtype, seed, label)
            N, T, V, D, H = (_OPT_SIZES[k] for k in "NTVDH")
            inputs = dict(_draw_params(draw, V, D, H, cell))
            inputs["words"] = draw.integers(V, STEPS, N, T)
            inputs["targets"] = draw.integers(V, STEPS, N, T)
            inputs["masks"] = draw.mask(STEPS, N, T, p=0.8)
            extra = {"cell": cell, "optimizer": optimizer, **_OPTIMIZERS[optimizer], **hyper}
            sizes = dict(_OPT_SIZES, steps=STEPS)
            yield Case(name, label, dtype, seed, inputs, {}, sizes,
                       special + (f"{STEPS} steps", f"{optimizer} {_OPTIMIZERS[optimizer]}"),
                       extra=extra)
    return cases


def _run_numpy_optimizer(api, case: Case) -> Run:
    from numpy_rnn.optim import SGD, Adam, clip_grad_norm

    i, e = case.inputs, case.extra
    model = _numpy_model(case)
    opt = Adam(e["lr"]) if e["optimizer"] == "adam" else SGD(e["lr"], momentum=e["momentum"])
    losses, norms = [], []
    for step in range(STEPS):
        loss, grads = model.loss(i["words"][step], i["targets"][step], i["masks"][step])
        losses.append(loss)
        if e["clip"] is not None:
            norms.append(clip_grad_norm(grads, e["clip"]))
        opt.step(model.params, grads)
    outputs = {"losses": np.asarray(losses, dtype=case.dtype), **model.get_params()}
    if norms:
        outputs["grad_norms"] = np.asarray(norms, dtype=case.dtype)
    return Run(outputs, {})


def _run_torch_optimizer(case: Case) -> Run:
    import torch

    i, e = case.inputs, case.extra
    model = TorchLanguageModel(i, e["cell"])
    params = model.parameters()
    if e["optimizer"] == "adam":
        opt = torch.optim.Adam(params, lr=e["lr"])
    else:
        opt = torch.optim.SGD(params, lr=e["lr"], momentum=e["momentum"])
    losses, norms = [], []
    for step in range(STEPS):
        opt.zero_grad()
        _, loss = model.loss(i["words"][step], i["targets"][step], i["masks"][step])
        loss.backward()
        losses.append(loss.item())
        if e["clip"] is not None:
            norms.append(torch.nn.utils.clip_grad_norm_(params, e["clip"]).item())
        opt.step()
    outputs = {"losses": np.asarray(losses, dtype=case.dtype), **model.weights()}
    if norms:
        outputs["grad_norms"] = np.asarray(norms, dtype=case.dtype)
    return Run(outputs, {})


def _gate_axes(cell: str) -> dict:
    """Axis of the gate blocks in each recurrent parameter and its gradient."""
    if CELLS[cell].width == 1:
        return {}
    axes = {"rnn.Wx": 1, "rnn.Wh": 1, **{f"rnn.{b}": 0 for b in CELLS[cell].biases}}
    return {**axes, **{"d" + k: v for k, v in axes.items()}}


# one entry per cell the NumPy model offers, so a new cell there is checked here too
for _cell in MODEL_CELLS:
    _names = param_names(_cell)
    _common = dict(gate_axes=_gate_axes(_cell), cell=_cell, scope="numpy_rnn")
    register(Component(
        name=f"language_model_{_cell}",
        functions=("LanguageModel",),
        produced_by={"scores": "LanguageModel.forward", "loss": "LanguageModel.loss",
                     **{"d" + k: "LanguageModel.loss" for k in _names}},
        cases=_model_cases(_cell),
        run_numpy=_run_numpy_model,
        run_torch=_run_torch_model,
        **_common,
        description=f"language model ({_cell}) vs nn.Embedding -> nn.{CELLS[_cell].module} -> "
                    "nn.Linear: scores, masked loss, every parameter gradient",
    ))
    for _opt, _class in (("adam", "Adam"), ("sgd", "SGD")):
        register(Component(
            name=f"{_opt}_{_cell}",
            functions=(_class, "clip_grad_norm"),
            produced_by={"losses": "LanguageModel.loss", "grad_norms": "clip_grad_norm",
                         **{k: f"{_class}.step" for k in _names}},
            cases=_optimizer_cases(_opt, _cell),
            run_numpy=_run_numpy_optimizer,
            run_torch=_run_torch_optimizer,
            **_common,
            description=f"{STEPS} steps of numpy_rnn.optim {_opt} on the {_cell} language "
                        f"model vs torch.optim.{_class} (with and without clip_grad_norm_)",
        ))
