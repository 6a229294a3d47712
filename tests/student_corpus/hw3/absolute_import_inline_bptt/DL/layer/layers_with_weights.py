from abc import ABC, abstractmethod


class LayerWithWeights(ABC):
    """Abstract class for layers with weights (CNN, Affine, RNN ...)."""

    @abstractmethod
    def forward(self, x, *args):
        pass

    @abstractmethod
    def backward(self, dprev):
        pass
