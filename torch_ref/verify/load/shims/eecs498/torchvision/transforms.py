"""Stand-in for torchvision.transforms where torchvision is not installed: any transform
can be imported and named (``T.Normalize``), none can be used."""
from _standin import placeholder


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return placeholder("torchvision.transforms", name)
