"""The ONNX node kinds that become layers of the LayerGraph: one method per kind, mixed into
``convert._Builder``, whose bookkeeping (``emit``, ``weight``, ``init_of`` ...) they call."""

from __future__ import annotations

import math
from typing import Any

from gradlint.frontends.onnx import ops, sizes
from gradlint.frontends.onnx.patterns import Fused
from gradlint.ir import Init


class LayerOps:
    """The node kinds; ``self`` is the converter that holds the graph being built."""


    def linear(
        self, index: int, data: str, weight: str, fan_in, fan_out, bias: str | None, output: str
    ) -> None:
        where = self.location(index)
        found = self.weight(weight)
        ir = self.emit(
            index,
            "linear",
            [data],
            [output],
            fan_in=fan_in,
            fan_out=fan_out,
            has_bias=bias is not None,
            weight_init=self.init_of(found[0], fan_in, fan_out, where)
            if found
            else Init("unknown", location=where),
            bias_init=self.init_of(bias, fan_in, fan_out, where)
            if bias in self.view.initializers
            else None,
        )
        if found is not None:
            self.weight_order.append((found[0], ir))

    def gemm(self, index: int) -> None:
        node = self.view.nodes[index]
        found = self.weight(node.input[1]) if len(node.input) > 1 else None
        if found is None or len(found[1]) != 2 or not self.view.is_data(node.input[0]):
            self.bilinear_or_opaque(index)
            return
        rows, cols = found[1]
        fan_out, fan_in = (rows, cols) if self.view.integer(index, "transB", 0) else (cols, rows)
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
        output, late_bias = node.output[0], None
        if bias is None:
            output, late_bias = self.bias_after(output, fan_out)
        self.linear(index, node.input[0], node.input[1], fan_in, fan_out, bias or late_bias, output)

    def matmul(self, index: int) -> None:
        node = self.view.nodes[index]
        a, b = node.input[:2]
        if self.view.is_data(a) and not self.view.is_data(b) and self.weight(b):
            data, weight = a, b
            dims = self.weight(b)[1]
            fan_in, fan_out = (dims[-2], dims[-1]) if len(dims) >= 2 else (None, None)
        elif self.view.is_data(b) and not self.view.is_data(a) and self.weight(a):
            data, weight = b, a
            dims = self.weight(a)[1]
            fan_in, fan_out = (dims[-1], dims[-2]) if len(dims) >= 2 else (None, None)
        else:
            self.bilinear_or_opaque(index)
            return
        output, bias = self.bias_after(node.output[0], fan_out)
        self.linear(index, data, weight, fan_in, fan_out, bias, output)

    def conv(self, index: int) -> None:
        node = self.view.nodes[index]
        found = self.weight(node.input[1]) if len(node.input) > 1 else None
        if found is None or len(found[1]) < 3:
            self.emit(index, "opaque", self.view.data_inputs(index))
            return
        dims = found[1]
        groups = self.view.integer(index, "group", 1) or 1
        if groups < 1:
            self.emit(index, "opaque", self.view.data_inputs(index))
            return
        kernel = math.prod(dims[2:])
        # the fans of the data flow, as the python frontend records them: Conv stores
        # [out, in/g, k..], ConvTranspose [in, out/g, k..]
        if node.op_type == "ConvTranspose":
            fan_in, fan_out = dims[0] // groups * kernel, dims[1] * kernel
        else:
            fan_in, fan_out = dims[1] * kernel, dims[0] * kernel // groups
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else None
        self.linear(index, node.input[0], node.input[1], fan_in, fan_out, bias, node.output[0])
        self.graph.nodes[-1].attrs.update({"groups": groups, "kernel": list(dims[2:])})
        self.graph.nodes[-1].attrs.update(sizes.conv_attrs(self.view, index, len(dims) - 2))

    def recurrent(self, index: int) -> None:
        node = self.view.nodes[index]
        where = self.location(index)
        hidden = self.view.integer(index, "hidden_size")
        hidden = hidden if hidden is not None and hidden > 0 else None
        ws = self.source_weights(node.input[1]) if len(node.input) > 1 else []
        rs = self.source_weights(node.input[2]) if len(node.input) > 2 else []
        # ONNX packs [directions, gates * hidden, input]; torch keeps [gates * hidden, input]
        fan_in = ws[0][1][-1] if ws and ws[0][1] else None
        ir = self.emit(
            index,
            "recurrent",
            [node.input[0]],
            fan_in=fan_in,
            fan_out=hidden,
            has_bias=len(node.input) > 3 and bool(node.input[3]),
            weight_init=self.init_of(ws[0][0], fan_in, hidden, where) if ws else Init("unknown"),
        )
        ir.attrs.update(
            {
                "cell": ops.RECURRENT[node.op_type],
                "direction": self.view.text(index, "direction", "forward"),
            }
        )
        if rs:
            ir.attrs["recurrent_init"] = self.init_of(rs[0][0], hidden, hidden, where)
        for found in ws + rs:
            self.weight_order.append((found[0], ir))

    def embedding(self, index: int, table: tuple[str, tuple[int, ...]], indices: str) -> None:
        where = self.location(index)
        ir = self.emit(
            index,
            "embedding",
            [indices],
            weight_init=self.init_of(table[0], None, None, where),
        )
        ir.attrs.update({"num_embeddings": table[1][0], "embedding_dim": table[1][1]})
        self.weight_order.append((table[0], ir))

    def bilinear_or_opaque(self, index: int) -> None:
        data = self.view.data_inputs(index)
        if len(self.ir_inputs(data)) >= 2:
            # a product of two activations (attention scores not matched as a unit)
            self.emit(index, "gate", data, attrs={"bilinear": True})
        else:
            self.emit(index, "opaque", data)

    def activation(self, index: int, kind: str) -> None:
        node = self.view.nodes[index]
        attrs: dict[str, Any] = {}
        if node.op_type == "LeakyRelu":
            attrs["negative_slope"] = self.view.number(index, "alpha", 0.01)
        elif node.op_type in ("Elu", "Celu"):
            attrs["alpha"] = self.view.number(index, "alpha", 1.0)
        elif node.op_type == "HardSigmoid":
            attrs.update(
                alpha=self.view.number(index, "alpha", 0.2),
                beta=self.view.number(index, "beta", 0.5),
            )
        elif node.op_type == "PRelu" and len(node.input) > 1:
            slope = self.view.scalar(node.input[1])
            if slope is not None:
                attrs["negative_slope"] = slope
        elif node.op_type == "Gelu":
            attrs["approximate"] = self.view.text(index, "approximate", "none")
        elif node.op_type in ("Softmax", "LogSoftmax"):
            attrs["axis"] = self.view.integer(index, "axis", -1)
        self.emit(index, "activation", [node.input[0]], activation=kind, attrs=attrs)

    def clip(self, index: int) -> None:
        node = self.view.nodes[index]
        low = self.view.number(index, "min", None)
        high = self.view.number(index, "max", None)
        if len(node.input) > 1 and node.input[1]:
            low = self.view.scalar(node.input[1])
        if len(node.input) > 2 and node.input[2]:
            high = self.view.scalar(node.input[2])
        if low == 0 and high == 6:
            kind = "relu6"
        elif low == 0 and high is None:
            kind = "relu"
        elif low is not None and high is not None and low < high:
            kind = "hardtanh"
        else:
            self.emit(index, "opaque", [node.input[0]])
            return
        self.emit(
            index,
            "activation",
            [node.input[0]],
            activation=kind,
            attrs={"min_val": low, "max_val": high},
        )

    def arithmetic(self, index: int) -> None:
        node = self.view.nodes[index]
        data = self.view.data_inputs(index)
        distinct = self.ir_inputs(data)
        gated_by = [self.gate_values[v] for v in data if v in self.gate_values]
        if node.op_type == "Mul" and len(data) == 2 and gated_by:
            # the squashing op was folded into its input (attrs["gate"] names it); the
            # gating value goes last, as in the python frontend's x * sigmoid(g)
            ordered = sorted(data, key=lambda v: v in self.gate_values)
            self.emit(index, "gate", ordered, attrs={"gate": gated_by[0]})
            return
        if len(data) == 1:
            if node.op_type == "Div" and node.input[1] == data[0]:
                self.emit(index, "opaque", data)  # c / x
            else:
                self.alias(index, data[0])  # a bias or a scale
            return
        if len(distinct) < 2:
            if node.op_type in ("Add", "Sub"):
                self.alias(index, data[0])  # x + x: a scale
            else:
                self.emit(index, "opaque", data)  # x * x, x / x
            return
        if node.op_type in ("Add", "Sub"):
            self.emit(index, "add", data, attrs={"residual": True})
        elif node.op_type == "Mul":
            self.emit(index, "gate", data, attrs={"bilinear": True})
        else:
            self.emit(index, "opaque", data)

    def fused(self, fused: Fused) -> None:
        first = fused.first
        ir = self.graph.add(
            fused.op,
            self.view.node_name(first),
            self.location(first),
            self.ir_inputs(fused.inputs),
            activation=fused.activation,
            module_type=fused.module_type,
            attrs=dict(fused.attrs),
        )
        ir.attrs["onnx_nodes"] = [self.view.node_name(i) for i in sorted(fused.members)]
        if fused.op == "attention":
            roles = _attention_roles(fused.inputs, [self.ir_of.get(name) for name in fused.inputs])
            if roles is not None:
                ir.attrs.update({"roles": roles, "causal": False})
        self.ir_of[fused.output] = ir.id


def _attention_roles(names: list[str], ids: list[int | None]) -> list | None:
    """[[node, piece], ...] for the query, key and value of a fused attention, as the source
    frontend records them: values of different names that come to one node (the outputs of a
    Split or Slices of one projection) are equal pieces of it; one value used twice is not."""
    if len(names) != 3 or any(i is None for i in ids):
        return None
    roles = []
    for name, nid in zip(names, ids):
        sharing = [n for n, i in zip(names, ids) if i == nid]
        distinct = list(dict.fromkeys(sharing))
        piece = [distinct.index(name), len(distinct)] if len(distinct) > 1 and len(distinct) == len(sharing) else None
        roles.append([nid, piece])
    return roles

