"""Base class of layers holding trainable weights."""


class LayerWithWeights:
    """A layer with weights: ``grad`` maps gradient names to arrays after ``backward``."""

    def __init__(self):
        self.grad = {}
        self.cache = None

    def forward(self, x, *args):
        raise NotImplementedError

    def backward(self, upstream):
        raise NotImplementedError
