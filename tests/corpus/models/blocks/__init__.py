"""Building blocks shared by several models of the corpus."""

from .init import init_small_normal
from .layers import ConvBNReLU, LinearAct, make_divisible
from .residual import BasicBlock, Bottleneck

__all__ = ["BasicBlock", "Bottleneck", "ConvBNReLU", "LinearAct", "init_small_normal", "make_divisible"]
