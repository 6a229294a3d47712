"""Stand-in for torchvision.datasets where torchvision is not installed: any data set class
can be imported (the course helpers do), none can be used."""
from _standin import placeholder


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return placeholder("torchvision.datasets", name)
