"""What one weight or bias entry is drawn from at initialisation: variance and mean.

Recorded inits carry their variance (the frontends compute it from the init call);
the named defaults are PyTorch's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradlint.ir import Init, Node


@dataclass(frozen=True)
class Draw:
    """A weight's entries as the estimate needs them: variance and mean."""

    variance: float
    mean: float = 0.0


def weight_draw(node: Node, init: Init | None) -> Draw | None:
    """Variance and mean of one weight entry; None when unknown."""
    fan_in = node.fan_in
    if init is None or init.kind == "unknown":
        return None
    if init.kind == "zeros":
        return Draw(0.0)
    if init.kind == "constant":
        return Draw(0.0, init.constant) if init.constant is not None else None
    if init.variance is not None:
        return Draw(init.variance, init.mean or 0.0)
    if node.op in ("scale", "shift"):
        return None  # an element-wise weight has no fan-in of a layer: only what its draw says
    if init.kind == "default":
        if node.op == "embedding":
            return Draw(1.0)  # N(0, 1)
        if node.op == "recurrent":
            hidden = node.fan_out
            return Draw(1.0 / (3.0 * hidden)) if hidden else None  # U(±1/√hidden)
        return Draw(1.0 / (3.0 * fan_in)) if fan_in else None  # kaiming_uniform(a=√5)
    if init.kind in ("kaiming_normal", "kaiming_uniform") and fan_in:
        return Draw(2.0 / fan_in)
    if init.kind in ("xavier_normal", "xavier_uniform") and fan_in and node.fan_out:
        return Draw(2.0 / (fan_in + node.fan_out))
    return None


def bias_draw(node: Node) -> Draw | None:
    """Variance and mean of one bias entry (zero without a bias); None when unknown."""
    if node.has_bias is False:
        return Draw(0.0)
    init = node.bias_init
    if init is None:
        # a bias with no recorded init keeps PyTorch's default: U(±1/√fan_in)
        init = Init("default")
    if init.kind == "default":
        if node.op == "embedding":
            return Draw(0.0)
        fan = node.fan_out if node.op == "recurrent" else node.fan_in
        return Draw(1.0 / (3.0 * fan)) if fan else None
    if init.kind == "zeros":
        return Draw(0.0)
    if init.kind == "constant" and init.constant is not None:
        return Draw(0.0, init.constant)
    if init.variance is not None:
        return Draw(init.variance, init.mean or 0.0)
    return None


def affine_scale(init: Init | None) -> float | None:
    """E[γ²] of a normalisation's affine weight γ; None when unknown."""
    if init is None or init.kind == "default":
        return 1.0
    if init.kind in ("constant", "zeros"):
        return (init.constant or 0.0) ** 2
    if init.variance is not None:
        return init.variance + (init.mean or 0.0) ** 2
    return None
