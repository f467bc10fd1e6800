"""Building blocks shared by several models of the corpus."""

from .layers import ConvBNReLU, LinearAct, make_divisible
from .residual import BasicBlock, Bottleneck

__all__ = ["BasicBlock", "Bottleneck", "ConvBNReLU", "LinearAct", "make_divisible"]
