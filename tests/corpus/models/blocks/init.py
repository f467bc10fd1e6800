import torch.nn as nn


def init_small_normal(module, std=0.01):
    """Caffe-era habit: N(0, 0.01) weights everywhere, biases left as they are."""
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.normal_(module.weight, mean=0.0, std=std)
