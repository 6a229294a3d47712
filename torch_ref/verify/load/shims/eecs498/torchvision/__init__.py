"""Stand-in for torchvision where it is not installed: the captioning module imports it at
the top for its image encoder, which the recurrent layers checked here never use."""
from torchvision import datasets, models, transforms  # noqa: F401
