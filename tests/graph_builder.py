"""Layer graphs by hand, for tests of the gain model and the graph rules.

``build(spec)`` turns a small model description into a LayerGraph; the torch
side of the validation builds the same description into an nn.Module, so
the two cannot drift apart.

A spec is a list of items:
  ("linear", fan_in, fan_out, init)     init: see ``init_of``; Linear with bias
  ("act", kind)                         an activation module
  ("bn", width) / ("ln", width)         BatchNorm1d / LayerNorm
  ("dropout",)
  ("res", [items])                      x + f(x)
  ("cat", [items_a], [items_b])         torch.cat([f(x), g(x)], -1)
  ("se", [items])                       x * sigmoid(f(x)): a squeeze-excite gate
  ("lstm", fan_in, hidden)              LSTM, output of the last layer
  ("embedding", vocabulary, width)
  ("conv", in_channels, out_channels, kernel, init)   Conv2d, padding keeps the size
  ("maxpool",) / ("flatten",) / ("gap",)     2×2 max pool, flatten, global average pool
"""

from __future__ import annotations

import math
from typing import Any

from gradlint.diagnostics import Location
from gradlint.ir import Init, LayerGraph


def init_of(init: Any, fan_in: int, fan_out: int) -> Init:
    """("default",) ("normal", std) ("uniform", bound) ("xavier",) ("he",) ("zeros",) ("constant", c)."""
    kind = init[0]
    if kind == "default":
        return Init("default", detail="default")
    if kind == "normal":
        return Init("normal", variance=init[1] ** 2, mean=0.0, detail=f"nn.init.normal_(std={init[1]})")
    if kind == "uniform":
        return Init("uniform", variance=init[1] ** 2 / 3.0, mean=0.0, detail=f"nn.init.uniform_(-{init[1]}, {init[1]})")
    if kind == "xavier":
        return Init("xavier_normal", variance=2.0 / (fan_in + fan_out), detail="nn.init.xavier_normal_")
    if kind == "he":
        return Init("kaiming_normal", variance=2.0 / fan_in, detail="nn.init.kaiming_normal_(nonlinearity='relu')")
    if kind == "zeros":
        return Init("zeros", variance=0.0, constant=0.0, detail="nn.init.zeros_")
    if kind == "constant":
        return Init("constant", variance=0.0, constant=init[1], detail=f"nn.init.constant_({init[1]})")
    raise ValueError(kind)


class Builder:
    def __init__(self, name: str = "Model", path: str = "model.py", source: str = "python") -> None:
        self.graph = LayerGraph(name, Location(path, 1, 1), source=source)  # type: ignore[arg-type]
        self.line = 10
        self.params = 0
        self.counter = 0

    def _loc(self, name: str):
        self.line += 1
        if self.graph.source == "onnx":
            return Location(self.graph.location.path, node=name, op_type="Op", node_index=self.line)
        return Location(self.graph.location.path, self.line, 9)

    def _name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}.{self.counter - 1}"

    def add(self, op, inputs, name=None, **kw):
        name = name or self._name(op)
        return self.graph.add(op, name, self._loc(name), inputs, **kw).id

    def input(self):
        return self.add("input", [], name="x")

    def output(self, x):
        return self.add("output", [x], name="out")

    def linear(self, x, fan_in, fan_out, init=("default",), bias=("default",), name=None, module="Linear"):
        name = name or self._name("body")
        node = self.graph.add(
            "linear", name, self._loc(name), [x], fan_in=fan_in, fan_out=fan_out,
            weight_init=init_of(init, fan_in, fan_out),
            bias_init=None if bias is None else init_of(bias, fan_in, fan_out),
            has_bias=bias is not None, module_type=module,
            param_index=self.params, param_name=f"{name}.weight",
        )
        self.params += 1
        return node.id

    def act(self, x, kind):
        return self.add("activation", [x], activation=kind, module_type=kind)

    def items(self, x, spec):
        for item in spec:
            x = self.item(x, item)
        return x

    def item(self, x, item):
        kind = item[0]
        if kind == "linear":
            return self.linear(x, item[1], item[2], item[3] if len(item) > 3 else ("default",))
        if kind == "act":
            return self.act(x, item[1])
        if kind in ("bn", "ln"):
            return self.add("norm", [x], module_type="BatchNorm1d" if kind == "bn" else "LayerNorm",
                            weight_init=Init("constant", variance=0.0, constant=1.0))
        if kind == "dropout":
            return self.add("dropout", [x])
        if kind == "conv":
            k2 = item[3] * item[3]
            node = self.linear(x, item[1] * k2, item[2] * k2, item[4] if len(item) > 4 else ("default",),
                               module="Conv2d")
            self.graph.nodes[node].attrs["out_channels"] = item[2]
            return node
        if kind in ("maxpool", "gap"):
            return self.add("pool", [x])
        if kind == "flatten":
            return self.add("identity", [x])
        if kind == "res":
            return self.add("add", [x, self.items(x, item[1])])
        if kind == "cat":
            return self.add("concat", [self.items(x, item[1]), self.items(x, item[2])])
        if kind == "se":
            gate = self.items(x, item[1])
            gate = self.act(gate, "sigmoid")
            return self.add("gate", [x, gate])
        if kind == "lstm":
            name = self._name("rnn")
            node = self.graph.add("recurrent", name, self._loc(name), [x], fan_in=item[1],
                                  fan_out=4 * item[2], weight_init=Init("default"),
                                  bias_init=Init("default"), has_bias=True, module_type="LSTM",
                                  param_index=self.params, param_name=f"{name}.weight_ih_l0")
            self.params += 2  # weight_ih and weight_hh
            return node.id
        if kind == "embedding":
            name = self._name("embed")
            node = self.graph.add("embedding", name, self._loc(name), [x], fan_in=item[1], fan_out=item[2],
                                  weight_init=Init("default"), has_bias=False, module_type="Embedding",
                                  param_index=self.params, param_name=f"{name}.weight")
            self.params += 1
            return node.id
        raise ValueError(kind)


def build(spec, name: str = "Model", source: str = "python") -> LayerGraph:
    b = Builder(name, source=source)
    b.output(b.items(b.input(), spec))
    return b.graph


def mlp(activation: str, depth: int, init=("default",), width: int = 128, fan_in: int = 64,
        classes: int = 10, out_activation: str | None = None) -> list:
    """``depth`` weighted layers: depth-1 hidden Linear+activation, then a Linear head."""
    spec: list = []
    n = fan_in
    for _ in range(depth - 1):
        spec += [("linear", n, width, init), ("act", activation)]
        n = width
    spec.append(("linear", n, classes, init))
    if out_activation:
        spec.append(("act", out_activation))
    return spec


def he_std(fan_in: int) -> float:
    return math.sqrt(2.0 / fan_in)
