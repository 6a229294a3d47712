"""Stand-in for torchsummary (a Colab staple some students import at the top of the
module): ``summary`` prints a model's layers, which verify never needs."""


def summary(*args, **kwargs):
    raise RuntimeError("torchsummary is not installed where verify checks the module")
