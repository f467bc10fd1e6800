"""The estimate's values: per node, for the whole graph, and the what-if input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from gradlint.gain.draws import Draw


class Unknown(Exception):
    """A value the estimate needs is not known; the estimate is None."""


@dataclass
class NodeEstimate:
    m2: float = 0.0  # E[x²] of the node's output
    mean: float = 0.0
    pre_m2: float | None = None  # a weighted node's pre-activation variance (fused activation)
    pre_mean: float = 0.0  # the mean of that pre-activation (a bias of −10: dead ReLUs)
    # E[δ²] of the loss gradient at the node's output, and E[g²] of one weight entry
    # of a weighted node: Decimals, because two hundred sigmoid layers take E[δ²]
    # below the smallest float, and a vanished gradient must not read as none at all
    delta2: Decimal = Decimal(0)
    grad2: Decimal | None = None
    norm_var: float | None = None  # variance a what-if normalisation divides by
    # per-unit variance across samples; below m2 when units carry fixed offsets
    # (a mean through random weights), which BatchNorm removes and LayerNorm keeps
    batch_var: float | None = None
    area: float | None = None  # positions an average pool reads per output (known input shape)

    def sample_var(self) -> float:
        """The per-unit variance across samples: ``batch_var``, else all of the variance."""
        return self.batch_var if self.batch_var is not None else max(self.m2 - self.mean**2, 0.0)


@dataclass
class Estimate:
    nodes: dict[int, NodeEstimate] = field(default_factory=dict)
    log10_grad_ratio: float | None = None  # the shared definition: named_parameters() order
    # the same ratio with weights in forward order: what the rules judge, so that a
    # head registered before the body does not turn a vanishing chain into an exploding one
    forward_log10: float | None = None
    first: int | None = None  # weighted node of the input-side weight
    last: int | None = None  # weighted node of the output-side weight
    unknown: str | None = None  # why the estimate is None, when it is
    ratio_unknown: str | None = None  # why only the ratio is None (the rest is known)
    # positions of the output the loss averages over (a convolutional head): the
    # per-sample noise of every gradient averages over them as over the batch
    output_positions: int = 1

    @property
    def known(self) -> bool:
        return self.unknown is None


@dataclass(frozen=True)
class Counterfactual:
    """What-if changes for the rules: new weight draws, normalisation after nodes."""

    draws: Mapping[int, tuple[Draw, Draw]] = field(default_factory=dict)
    normalise_after: frozenset[int] = frozenset()
