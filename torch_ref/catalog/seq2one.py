"""Catalog entry: the sequence-to-one RNN regressor (:class:`numpy_rnn.seq2one.model.Seq2OneRNN`).

Checked against ``nn.RNN`` (tanh, ``batch_first``, zero initial state) followed by
``nn.Linear`` on the last hidden state, holding the same weights (converted by
:mod:`torch_ref.layout`: the model's ``W, R, bs`` are an RNN's ``Wx, Wh, b``, its
``V, by`` an affine layer's ``w, b``). Compared: ``y_hat`` and the gradients of
``x`` and of every parameter under a random upstream gradient ``dy_hat``.
"""
from __future__ import annotations

import numpy as np

from torch_ref.catalog.base import Case, Component, Run, Sampler, register
from torch_ref.catalog.recurrent import draw_weights

PARAM_NAMES = ("W", "R", "bs", "V", "by")

# (label, sizes, what is special); "single" runs the (T, D) -> (M,) form
_CASES = (
    ("ordinary", dict(N=3, T=4, D=5, H=6, M=2), ("T > 1", "several outputs")),
    ("M=1", dict(N=3, T=4, D=5, H=6, M=1), ("M=1 (one output)",)),
    ("N=1", dict(N=1, T=4, D=5, H=6, M=2), ("N=1",)),
    ("T=1", dict(N=3, T=1, D=5, H=6, M=2), ("T=1",)),
    ("H=1", dict(N=3, T=4, D=5, H=1, M=2), ("H=1",)),
    ("D==H", dict(N=3, T=4, D=6, H=6, M=3), ("D == H (square weights)",)),
    ("long", dict(N=2, T=12, D=1, H=4, M=1), ("long sequence", "D=1 (memory task)")),
    ("single", dict(T=5, D=5, H=10, M=5), ("one (T, D) sequence, y_hat (M,)",)),
)


def _cases(dtype: str, seed: int):
    for label, s, special in _CASES:
        draw = Sampler("seq2one", dtype, seed, label)
        T, D, H, M = s["T"], s["D"], s["H"], s["M"]
        lead = (T,) if label == "single" else (s["N"], T)
        x = draw.normal(*lead, D)
        # the model's W, R, bs are an RNN's Wx, Wh, b
        W, R, bs = draw_weights(draw, "rnn", D, H).values()
        inputs = {"x": x, "W": W, "R": R, "bs": bs,
                  "V": draw.normal(H, M, scale=1.0 / np.sqrt(H)),
                  "by": draw.normal(M, scale=0.5)}
        upstream = {"y_hat": draw.normal(*lead[:-1], M)}
        yield Case("seq2one", label, dtype, seed, inputs, upstream, dict(s),
                   special + ("non-zero biases",))


def _run_numpy(api, case: Case) -> Run:
    from numpy_rnn.seq2one.model import Seq2OneRNN

    i, s = case.inputs, case.sizes
    model = Seq2OneRNN(s["D"], s["H"], s["M"], rng=0, dtype=case.dtype)
    model.set_weights({k: i[k] for k in PARAM_NAMES})
    y_hat = model.forward(i["x"])
    dx = model.backward(case.upstream["y_hat"])
    return Run({"y_hat": y_hat}, {"dx": dx, **{"d" + k: model.grads[k] for k in PARAM_NAMES}})


def _run_torch(case: Case) -> Run:
    from torch_ref import layout as L

    i = case.inputs
    single = i["x"].ndim == 2
    rnn = L.make_rnn(i["W"], i["R"], i["bs"], batch_first=True)
    readout = L.make_linear(i["V"], i["by"])
    x = L.tensor(i["x"], True)
    h = L.run_sequence(rnn, x[None] if single else x)
    y_hat = readout(h[:, -1])
    y_hat = y_hat[0] if single else y_hat
    (y_hat * L.tensor(case.upstream["y_hat"])).sum().backward()
    dW, dR, dbs = L.recurrent_grads(rnn)
    dV, dby = L.linear_grads(readout)
    return Run({"y_hat": L.to_numpy(y_hat)},
               {"dx": L.to_numpy(x.grad), "dW": dW, "dR": dR, "dbs": dbs, "dV": dV,
                "dby": dby})


register(Component(
    name="seq2one",
    functions=("Seq2OneRNN.forward", "Seq2OneRNN.backward"),
    produced_by={"y_hat": "Seq2OneRNN.forward",
                 **{g: "Seq2OneRNN.backward" for g in ("dx", "dW", "dR", "dbs", "dV", "dby")}},
    cases=_cases,
    run_numpy=_run_numpy,
    run_torch=_run_torch,
    scope="numpy_rnn",
    description="sequence-to-one RNN regressor (tanh RNN + affine readout of a(T)) vs "
                "nn.RNN + nn.Linear",
))
