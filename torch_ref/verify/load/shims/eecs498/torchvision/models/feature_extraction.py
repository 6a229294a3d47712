def create_feature_extractor(*args, **kwargs):
    raise RuntimeError("torchvision is not installed")
