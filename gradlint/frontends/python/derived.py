"""A module's own weight through maths that forward computes before using it as a layer's
weight: ``F.conv2d(x, normalize_weight(self.weight) / sqrt(fan_in))`` (EDM2's
magnitude-preserving layers), ``F.linear(x, self.w.abs())``, ``self.weight * self.scale``.

The layer is what the gain model needs: the effective weight's init (its variance and mean,
what the forward pass sees) and how much of the effective weight's gradient reaches the
parameter (``grad``, the RMS of d(effective)/d(parameter)), which is the gradient the shared
definition measures. Each step is exact in the mean field:

- a constant factor c scales the variance by c², the mean by c and the gradient by c;
- ``abs`` keeps E[w²], makes the mean E|w| (σ·√(2/π) for a normal draw, a/2 for a uniform
  one on [-a, a]) and passes the gradient with slope ±1;
- ``F.normalize`` over n entries makes every row of unit norm, E[w²] = 1/n, and divides the
  gradient by the row's norm, √n·RMS(w), less its radial part (a share 1/n, dropped).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from gradlint.frontends.python.values import ParamRef
from gradlint.ir import Init

_UNIFORM = ("default", "uniform", "xavier_uniform", "kaiming_uniform")


@dataclass(frozen=True)
class DerivedWeight:
    """``ref``'s weight as forward computed it: entries drawn as ``init``, the view's
    ``shape``, and ``grad`` the RMS slope from the parameter to these entries."""

    ref: ParamRef
    init: Init
    shape: tuple[int, ...]
    grad: float = 1.0

    @staticmethod
    def of(value) -> DerivedWeight | None:
        """The derived weight a ParamRef (of a known shape and init) or a DerivedWeight is."""
        if isinstance(value, DerivedWeight):
            return value
        if isinstance(value, ParamRef) and value.param is not None and value.param.shape is not None:
            init = value.param.init or Init("default")
            if init.variance is None:
                return None
            return DerivedWeight(value, init, tuple(value.param.shape))
        return None

    def scaled(self, factor: float) -> DerivedWeight:
        mean = None if self.init.mean is None else self.init.mean * factor
        init = replace(self.init, variance=self.init.variance * factor * factor, mean=mean, constant=None)
        return replace(self, init=init, grad=self.grad * abs(factor))

    def absolute(self) -> DerivedWeight | None:
        variance, mean = self.init.variance, self.init.mean or 0.0
        if variance is None or mean != 0.0:
            return None
        sigma = math.sqrt(variance)
        absolute = sigma * math.sqrt(3.0) / 2.0 if self.init.kind in _UNIFORM else sigma * math.sqrt(2.0 / math.pi)
        init = Init("normal", variance - absolute * absolute, absolute, None, self.init.location,
                    f"abs of {self.init.detail or self.init.kind}")
        return replace(self, init=init)

    def normalised(self, dims: tuple[int, ...]) -> DerivedWeight | None:
        """Every slice over ``dims`` of the view to unit L2 norm."""
        rank = len(self.shape)
        try:
            axes = {d % rank for d in dims}
        except ZeroDivisionError:
            return None
        entries = math.prod(self.shape[a] for a in axes)
        m2 = self.init.variance + (self.init.mean or 0.0) ** 2
        if entries <= 0 or m2 <= 0.0:
            return None
        init = Init("normal", 1.0 / entries, 0.0, None, self.init.location, "rows of unit norm")
        return replace(self, init=init, grad=self.grad / math.sqrt(entries * m2))

    def viewed(self, shape: tuple[int, ...]) -> DerivedWeight:
        return replace(self, shape=shape)

    def packed(self, pattern: str) -> DerivedWeight | None:
        """einops ``pack([w], "o *")``: the axes the ``*`` stands for joined into one."""
        names = pattern.split()
        if names.count("*") != 1 or len(names) > len(self.shape):
            return None
        star = names.index("*")
        kept_after = len(names) - star - 1
        middle = self.shape[star:len(self.shape) - kept_after]
        return self.viewed((*self.shape[:star], math.prod(middle), *self.shape[len(self.shape) - kept_after:]))

    def unpacked(self) -> DerivedWeight:
        """Back to the parameter's own shape (``unpack`` after ``pack``)."""
        param = self.ref.param
        return self.viewed(tuple(param.shape)) if param is not None and param.shape is not None else self


def as_derived(value) -> DerivedWeight | None:
    """A weight of two or more dimensions forward may compute a layer's weight from."""
    found = DerivedWeight.of(value)
    return found if found is not None and len(found.shape) >= 2 else None
