"""Calls into a module that computes in torch: tensors at the boundary, autograd behind.

Courses that hand their students torch (EECS 498's captioning layers, cs231n from 2025)
leave part or all of the backward pass to autograd. :class:`TorchCalls` is what their
adapters share (no adapter lives here): arrays become tensors of the same dtype where
the module runs (sharing memory where nothing needs a gradient, so that a function
changing its input is caught), results come back as arrays, and the gradient of a
function written forward-only is torch's through the student's forward, a wrong one
being the forward's fault. Every answer is validated here, in the grader.
"""
from __future__ import annotations

import numpy as np

from torch_ref.verify.adapters.base import describe_value
from torch_ref.verify.errors import ApiMismatch
from torch_ref.verify.isolation.client import Ref
from torch_ref.verify.isolation.protocol import Tensor


class TorchCalls:
    """Mixed into an :class:`~torch_ref.verify.adapters.base.Adapter` of a torch course.

    A forward whose gradients autograd gives returns ``(*outputs, handle)``: the handle
    (the functional API's ``cache``) is what :meth:`autograd_backward` takes last.
    """

    _torch = None

    def torch_module(self, user, *path) -> Ref:
        """A handle to ``torch.<path>`` in the module's process."""
        if self._torch is None or self._torch.generation != self.ex.generation:
            self._torch = self._through(user, lambda user: self.ex.import_module("torch"))
        obj = self._torch
        for name in path:
            obj = self.get(obj, name, user, fetch="ref")
        return obj

    def tensor(self, user, array, grad=False, name="") -> Ref:
        """A tensor of ``array``'s dtype; sharing its memory where nothing needs a gradient,
        so that a function changing its input (``name``) is caught."""
        if not isinstance(array, np.ndarray):
            return array
        if grad:
            return self.call(user, self.torch_module(user, "tensor"),
                             np.array(array, copy=True), names=(name,), returns="ref",
                             requires_grad=True)
        return self.method(self.torch_module(user), "from_numpy", user, returns="ref",
                           names=(name,))(array)

    def array_of(self, user, value):
        """The array a handle holds (a :class:`Tensor` when it was a tensor)."""
        if isinstance(value, Ref):
            return self._through(user, self.ex.array, value)
        return value

    def tensor_result(self, user, value, name: str, what="a torch tensor") -> np.ndarray:
        """``value`` (a handle to what ``user`` returned as ``name``) as an array; an
        :class:`ApiMismatch` unless it is a tensor."""
        got = self.array_of(user, value) if isinstance(value, Ref) else None
        if not isinstance(got, Tensor):
            raise ApiMismatch(user, f"{user} returned {name} as {describe_value(value)}; "
                                    f"expected {what}")
        return np.asarray(got)

    def through_autograd(self, user, fn, arrays, inputs_grad, names, call_names=(),
                         **kwargs):
        """Call ``fn`` (a handle) on tensors of ``arrays`` (those marked in
        ``inputs_grad`` needing a gradient); ``(outputs as arrays, handle for
        :meth:`autograd_backward`)``. ``names``: what it returns (one name: a bare
        tensor)."""
        tensors = [self.tensor(user, a, grad=g, name=n) for a, g, n in zip(
            arrays, inputs_grad, call_names or ("",) * len(arrays), strict=True)]
        spec = "ref" if len(names) == 1 else ["ref"] * len(names)
        result = self.values(user, self.call(user, fn, *tensors, returns=spec,
                                             names=call_names, **kwargs), names)
        outputs = (result,) if len(names) == 1 else tuple(result)
        values = tuple(self.tensor_result(user, out, name)
                       for name, out in zip(names, outputs, strict=True))
        self.decoy(lambda *a: self.call(user, fn, *(self.tensor(user, x) for x in a),
                                        returns=spec, names=call_names, **kwargs), *arrays)
        leaves = [t for t, g in zip(tensors, inputs_grad, strict=True) if g]
        self.keep(*outputs, *leaves)
        return values, (user, outputs, leaves)

    def autograd_backward(self, *args):
        """The gradients of the leaves of a forward's handle (its last argument) given
        the upstream gradients of its outputs (the arguments before it)."""
        *upstream, (user, outputs, leaves) = args
        used = [(o, u) for o, u in zip(outputs, upstream, strict=True)
                if self.get(o, "requires_grad", user) is True]
        if not used:
            raise ApiMismatch(user, f"{user}'s outputs do not depend on its inputs "
                                    f"(detached from autograd?)")
        grads = self.call(user, self.torch_module(user, "autograd", "grad"),
                          [o for o, _ in used], leaves,
                          [self.tensor(user, np.ascontiguousarray(u)) for _, u in used],
                          names=(), returns=2, tensors=True, allow_unused=True)
        if not isinstance(grads, (tuple, list)) or len(grads) != len(leaves):
            raise ApiMismatch(user, f"autograd through {user} gave {describe_value(grads)}")
        result = []
        for leaf, g in zip(leaves, grads, strict=True):
            if g is None:
                g = np.zeros_like(np.asarray(self.array_of(user, leaf)))
            result.append(np.asarray(g))
        return result[0] if len(result) == 1 else tuple(result)

    def parameter(self, user, array) -> Ref:
        """``nn.Parameter`` of a copy of ``array`` (a leaf needing its gradient)."""
        return self.call(user, self.torch_module(user, "nn", "Parameter"),
                         self.tensor(user, array, grad=True), names=(), returns="ref")

    def scalar_loss(self, user, loss, scores: Ref):
        """``(loss value, d loss / d scores)`` of a loss handle ``user`` returned."""
        value = self.array_of(user, loss) if isinstance(loss, Ref) else None
        if not isinstance(value, Tensor) or value.size != 1:
            raise ApiMismatch(user, f"{user} returned {describe_value(loss)}; expected a "
                                    f"scalar tensor")
        if self.get(loss, "requires_grad", user) is not True:
            raise ApiMismatch(user, f"{user}'s loss does not depend on x (detached from "
                                    f"autograd?)")
        scalar = self.method(loss, "reshape", user, returns="ref")(())
        grads = self.call(user, self.torch_module(user, "autograd", "grad"), scalar, [scores],
                          names=(), returns=2, tensors=True)
        if not isinstance(grads, (tuple, list)) or len(grads) != 1:
            raise ApiMismatch(user, f"autograd through {user} gave {describe_value(grads)}")
        return np.asarray(value).reshape(()), np.asarray(grads[0])
