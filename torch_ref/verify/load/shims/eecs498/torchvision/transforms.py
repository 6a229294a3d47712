def __getattr__(name):
    raise AttributeError(f"torchvision is not installed (torchvision.transforms.{name})")
