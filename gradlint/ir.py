"""The layer graph: what both frontends produce and every graph rule reads.

Nodes are operations a gradient passes through; edges are data flow (each
node lists the ids of its inputs). ``None`` means unknown everywhere: a check
that needs a value that is ``None`` stays silent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from gradlint.diagnostics import Location

Op = Literal[
    "input",  # the model input
    "output",  # what forward returns
    "linear",  # Linear, Conv*, ConvTranspose*, Bilinear: a weight with a fan-in
    "recurrent",  # LSTM, GRU, RNN: a unit of its own (gates inside)
    "embedding",
    "activation",  # see ``activation`` for the kind
    "norm",  # BatchNorm, LayerNorm, GroupNorm, InstanceNorm, RMSNorm
    "pool",
    "dropout",
    "add",  # residual or other sum of two or more tensors
    "concat",  # torch.cat, U-Net skip joins
    "gate",  # x * sigmoid(g), SiLU, GLU: a multiplicative gate, not a layer in series
    "scale",  # x * self.g: an element-wise product with a raw weight (a hand-written norm's gain)
    "shift",  # x + self.pos_embedding: a raw weight added, the same for every sample (a position table)
    "attention",  # a whole attention block when resolved as one unit
    "identity",  # reshape, view, flatten, transpose, permute: gradient passes unchanged
    "opaque",  # could not be resolved
]


def __getattr__(name: str) -> Any:
    """``ACTIVATIONS``, the activation kinds the gain model knows (frontends normalise names
    to these), and ``SATURATING``, the bounded ones: kept here for the modules that import
    them, read from gradlint.torch_api on first use."""
    from gradlint import torch_api

    if name == "ACTIVATIONS":
        return torch_api.activation_kinds()
    if name == "SATURATING":
        return torch_api.saturating_kinds()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


InitKind = Literal[
    "default",  # PyTorch's reset_parameters: kaiming_uniform(a=sqrt(5)) for Linear/Conv
    "zeros",
    "constant",
    "normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "kaiming_normal",
    "kaiming_uniform",
    "orthogonal",
    "trunc_normal",
    "eye",
    "dirac",
    "measured",  # ONNX initialisers: statistics read from the weights themselves
    "unknown",
]


@dataclass
class Init:
    """How a tensor's entries are drawn at initialisation.

    ``variance`` is the variance of one entry (None when unknown); ``constant``
    is set for ``zeros``/``constant``; ``location`` says where the init was set.
    """

    kind: InitKind
    variance: float | None = None
    mean: float | None = None
    constant: float | None = None
    location: Location | None = None
    detail: str = ""  # e.g. "nn.init.normal_(std=0.5)" for messages


@dataclass
class Node:
    id: int
    op: Op
    name: str  # qualified module path ("body.0") or ONNX node name
    location: Location
    inputs: list[int] = field(default_factory=list)
    activation: str | None = None  # for op == "activation", or fused into a linear node
    fan_in: int | None = None  # per output unit: in_features, or in_channels/groups * kernel
    fan_out: int | None = None  # out_features, or out_channels * kernel / groups
    weight_init: Init | None = None  # for nodes with weights; None when they have none
    bias_init: Init | None = None
    has_bias: bool | None = None
    module_type: str | None = None  # "Linear", "Conv2d", "Sigmoid", "Gemm", ...
    # position of this node's 2-D+ weight among the model's weights in named_parameters()
    # order (registration order, not forward order); the gradient ratio is defined on it
    param_index: int | None = None
    param_name: str | None = None  # "body.0.weight"
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def has_weight(self) -> bool:
        return self.op in ("linear", "recurrent", "embedding", "scale", "shift")


@dataclass
class LayerGraph:
    """One model: an nn.Module class built with its defaults, or one ONNX graph."""

    name: str
    location: Location
    nodes: list[Node] = field(default_factory=list)
    complete: bool = True  # False when something in the model could not be resolved
    source: Literal["python", "onnx"] = "python"
    attrs: dict[str, Any] = field(default_factory=dict)

    def add(self, op: Op, name: str, location: Location, inputs: list[int] | None = None, **kw: Any) -> Node:
        node = Node(id=len(self.nodes), op=op, name=name, location=location, inputs=list(inputs or []), **kw)
        self.nodes.append(node)
        return node

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def consumers(self) -> dict[int, list[int]]:
        users: dict[int, list[int]] = {n.id: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                users[i].append(n.id)
        return users

    def topological(self) -> Iterator[Node]:
        """Nodes in an order where every input comes before its users."""
        pending = {n.id: len(set(n.inputs)) for n in self.nodes}
        users = self.consumers()
        ready = [n.id for n in self.nodes if pending[n.id] == 0]
        seen: set[int] = set()
        while ready:
            nid = ready.pop(0)
            if nid in seen:
                continue
            seen.add(nid)
            yield self.nodes[nid]
            for user in users[nid]:
                pending[user] -= 1
                if pending[user] == 0:
                    ready.append(user)

    def weighted(self) -> list[Node]:
        return [n for n in self.nodes if n.has_weight]
