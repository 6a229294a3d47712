"""Stand-in for the course's a4_helper (Fall 2020): what the real one exports to a module
that star-imports it (its imports and constants), and its data and image helpers, which
the recurrent layers checked here never call."""
import os  # noqa: F401
import pickle  # noqa: F401
import random  # noqa: F401
from collections import OrderedDict  # noqa: F401

import numpy as np  # noqa: F401
import torch
import torch.nn as nn  # noqa: F401
import torch.nn.functional as F  # noqa: F401
import torch.optim as optim  # noqa: F401
import torchvision.datasets as dset  # noqa: F401
import torchvision.transforms as T  # noqa: F401
from scipy.ndimage.filters import gaussian_filter1d  # noqa: F401
from torch.utils.data import DataLoader, sampler  # noqa: F401

_CONSTANTS = {"SQUEEZENET_MEAN": [0.485, 0.456, 0.406], "SQUEEZENET_STD": [0.229, 0.224, 0.225]}


def __getattr__(name):
    # the image constants, made when asked for: importing the helper computes nothing
    if name in _CONSTANTS:
        return torch.tensor(_CONSTANTS[name], dtype=torch.float)
    raise AttributeError(f"module 'a4_helper' has no attribute {name!r}")


def _unavailable(name):
    def helper(*args, **kwargs):
        raise RuntimeError(f"a4_helper.{name} is the course's data or image helper; "
                           f"verify does not provide it")
    helper.__name__ = name
    return helper


preprocess = _unavailable("preprocess")
deprocess = _unavailable("deprocess")
rescale = _unavailable("rescale")
blur_image = _unavailable("blur_image")
check_scipy = _unavailable("check_scipy")
jitter = _unavailable("jitter")
load_CIFAR = _unavailable("load_CIFAR")
load_imagenet_val = _unavailable("load_imagenet_val")
load_COCO = _unavailable("load_COCO")
dump_results = _unavailable("dump_results")
