from torchvision.models import feature_extraction  # noqa: F401


def __getattr__(name):
    raise AttributeError(f"torchvision is not installed (torchvision.models.{name})")
