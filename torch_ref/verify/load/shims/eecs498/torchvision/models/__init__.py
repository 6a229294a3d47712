"""Stand-in for torchvision.models where torchvision is not installed: any model or weights
name can be imported (``regnet_x_400mf``, ``RegNet_X_400MF_Weights``), none can be used;
the image encoder that uses them is not what verify checks."""
from _standin import placeholder

from torchvision.models import feature_extraction  # noqa: F401


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return placeholder("torchvision.models", name)
