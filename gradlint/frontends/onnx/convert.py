"""ONNX ModelProto -> LayerGraph: the IR the python frontend builds, so the
same graph rules fire on exported models."""

from __future__ import annotations

import math
import re
from typing import Any

from gradlint import torch_api
from gradlint.diagnostics import Location
from gradlint.frontends.onnx import ops, sizes
from gradlint.frontends.onnx.loading import printable
from gradlint.frontends.onnx.patterns import Fused, find_fusions
from gradlint.frontends.onnx.view import GraphView
from gradlint.frontends.onnx.weights import WeightsAbsent, external, measure
from gradlint.ir import Init, LayerGraph, Node

# Graph names exporters give every model; the file name says more.
_GENERIC_NAMES = {"", "main_graph", "torch_jit", "torch-jit-export", "graph", "model"}
# "body.0.weight": a name an exporter kept from the framework's parameters.
_PARAMETER_NAME = re.compile(r"^[A-Za-z_]\w*(\.\w+)+$")
# "pos_embed": a top-level parameter; "val_12" is the dynamo exporter's own constant.
_TOP_LEVEL_NAME = re.compile(r"^(?!val_\d+$)[A-Za-z]\w*$")


class _Builder:
    def __init__(self, model: Any, shown: str, name: str, base_dir: str, init_checks: bool) -> None:
        self.view = GraphView(model.graph, base_dir)
        self.shown = shown
        self.base_dir = base_dir
        self.init_checks = init_checks
        graph_name = printable(model.graph.name) if model.graph.name not in _GENERIC_NAMES else name
        self.graph = LayerGraph(name=graph_name, location=Location(path=shown), source="onnx")
        self.graph.attrs["init_checks"] = init_checks
        self.graph.attrs["opsets"] = {o.domain or "ai.onnx": o.version for o in model.opset_import}
        self.ir_of: dict[str, int] = {}
        self.gate_values: dict[str, str] = {}  # value -> the squashing op that gates with it
        self.weight_order: list[tuple[str, Node]] = []
        self.absent: list[str] = []
        self._measured: dict[tuple, Init] = {}
        self._stats: dict[str, Init] = {}  # by initialiser, for recognising folded copies

    # -- helpers ---------------------------------------------------------------------

    def location(self, index: int) -> Location:
        node = self.view.nodes[index]
        return Location(
            path=self.shown,
            node=self.view.node_name(index),
            op_type=printable(node.op_type),
            node_index=index,
        )

    def ir_inputs(self, names: list[str]) -> list[int]:
        found: list[int] = []
        for name in names:
            nid = self.ir_of.get(name)
            if nid is not None and nid not in found:
                found.append(nid)
        return found

    def emit(
        self, index: int, op: str, inputs: list[str], outputs: list[str] | None = None, **kw: Any
    ) -> Node:
        node = self.view.nodes[index]
        kw.setdefault("module_type", printable(node.op_type))
        ir = self.graph.add(
            op, self.view.node_name(index), self.location(index), self.ir_inputs(inputs), **kw
        )
        for name in outputs if outputs is not None else node.output:
            if name:
                self.ir_of[name] = ir.id
        return ir

    def alias(self, index: int, source: str) -> None:
        nid = self.ir_of.get(source)
        if nid is None:
            return
        for name in self.view.nodes[index].output:
            if name:
                self.ir_of[name] = nid

    def init_of(self, name: str, fan_in: int | None, fan_out: int | None, where: Location) -> Init:
        """The measured init of initialiser ``name`` (its detail compares with He/Xavier)."""
        if not self.init_checks:
            return Init("unknown", location=where, detail="init checks off for ONNX weights")
        key = (name, fan_in, fan_out)
        if key not in self._measured:
            try:
                self._measured[key] = measure(
                    self.view.initializers[name], self.base_dir, fan_in, fan_out, where
                )
            except WeightsAbsent as missing:
                if str(missing) not in self.absent:
                    self.absent.append(str(missing))
                self._measured[key] = Init("unknown", location=where, detail="weights absent")
            self._stats[name] = self._measured[key]
        return self._measured[key]

    def weight(self, name: str) -> tuple[str, tuple[int, ...]] | None:
        """The initialiser behind ``name`` (through Transpose/Cast/Identity), with its dims as used."""
        perm: list[int] | None = None
        for _ in range(4):
            if name in self.view.initializers:
                dims = tuple(int(d) for d in self.view.initializers[name].dims)
                if perm is not None:
                    if sorted(perm) == list(range(len(dims))):
                        dims = tuple(dims[p] for p in perm)
                    elif perm:
                        return None  # not a permutation of these dims
                    else:
                        dims = dims[::-1]
                return name, dims
            index = self.view.producer_of(name)
            if index is None:
                return None
            node = self.view.nodes[index]
            if not node.input:
                return None
            if node.op_type == "Transpose":
                perm = self.view.ints(index, "perm") or []  # none given: reversed
            elif node.op_type not in ("Cast", "Identity"):
                return None
            name = node.input[0]
        return None

    def source_weights(self, name: str) -> list[tuple[str, tuple[int, ...]]]:
        """The parameters a computed weight is rearranged from, in initialiser order: the
        legacy exporter reorders LSTM/GRU gates with Slice/Concat when constant folding is
        off, and concatenates both directions of a bidirectional layer."""
        direct = self.weight(name)
        if direct is not None:
            return [direct]
        found: set[str] = set()
        pending, seen = [name], set()
        while pending and len(seen) < 64:
            value = pending.pop()
            if value in seen or not value:
                continue
            seen.add(value)
            tensor = self.view.initializers.get(value)
            if tensor is not None and len(tensor.dims) >= 2:
                found.add(value)
            index = self.view.producer_of(value)
            if index is not None and not self.view.is_data(value):
                pending.extend(self.view.nodes[index].input)
        return [
            (n, tuple(int(d) for d in t.dims))
            for n, t in self.view.initializers.items()
            if n in found
        ]

    def bias_after(self, output: str, fan_out: int | None) -> tuple[str, str | None]:
        """A following Add of a constant vector is this layer's bias: (output, bias name)."""
        user = self.view.single_consumer(output)
        if user is None or user in self.absorbed or self.view.nodes[user].op_type != "Add":
            return output, None
        if not self.view.nodes[user].output:  # an Add of another domain, with no schema
            return output, None
        operands = list(self.view.nodes[user].input)
        others = [n for n in operands if n != output]
        if (
            len(others) != 1
            or self.view.is_data(others[0])
            or others[0] not in self.view.initializers
        ):
            return output, None
        self.absorbed.add(user)
        return self.view.nodes[user].output[0], others[0]

    # -- layers ----------------------------------------------------------------------

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
        self.ir_of[fused.output] = ir.id

    def gating_uses(self, name: str, budget: int = 6) -> set[str] | None:
        """The values derived from a sigmoid's output when every use of them multiplies
        another tensor (through ``1 - t`` and reshapes); None when one use does not."""
        if budget == 0 or name in self.view.outputs:
            return None
        found = {name}
        for user in self.view.consumers.get(name, []):
            node = self.view.nodes[user]
            data = self.view.data_inputs(user)
            if node.op_type == "Mul" and len(data) == 2 and user not in self.absorbed:
                continue
            if len(data) != 1 or user in self.absorbed:
                return None
            if node.op_type not in ops.ARITHMETIC and node.op_type not in ops.PASS_THROUGH:
                return None
            for output in node.output:
                further = self.gating_uses(output, budget - 1) if output else set()
                if further is None:
                    return None
                found |= further
        return found

    def find_gates(self) -> set[int]:
        """Sigmoids that gate a product, as in x * sigmoid(g), squeeze-excite, highway:
        not activations in series. Their output stands for the gate's pre-activation."""
        gating: set[int] = set()
        for index, node in enumerate(self.view.nodes):
            if node.op_type not in ("Sigmoid", "HardSigmoid") or index in self.absorbed:
                continue
            # ops of other domains pass the checker with any number of inputs and outputs
            if not node.input or not node.output or not self.view.is_data(node.input[0]):
                continue
            uses = self.gating_uses(node.output[0])
            if uses:
                gating.add(index)
                self.gate_values.update(dict.fromkeys(uses, node.op_type.lower()))
        return gating

    # -- the walk --------------------------------------------------------------------

    def build(self) -> LayerGraph:
        view = self.view
        shape = sizes.input_shape(view)
        if shape is not None:
            self.graph.attrs["input_shape"] = shape
        for name in view.inputs:
            shown = printable(name)
            self.ir_of[name] = self.graph.add(
                "input", shown, Location(path=self.shown, node=shown)
            ).id
        fusions = find_fusions(view)
        self.absorbed: set[int] = set()
        for fused in fusions.values():
            self.absorbed |= fused.members
        gating = self.find_gates()
        for index, node in enumerate(view.nodes):
            if index in fusions:
                self.fused(fusions[index])
                continue
            if index in gating:
                self.alias(index, node.input[0])
                continue
            if index in self.absorbed or not view.data_inputs(index):
                continue
            self.node(index, node)
        for output in view.graph.output:
            if output.name in self.ir_of:
                self.graph.add(
                    "output",
                    printable(output.name),
                    Location(path=self.shown, node=printable(output.name)),
                    [self.ir_of[output.name]],
                )
        self.number_weights()
        self.graph.complete = not any(n.op == "opaque" for n in self.on_output_paths())
        return self.graph

    def on_output_paths(self) -> list[Node]:
        """Nodes some output depends on: an opaque op on a dead branch changes nothing."""
        pending = [n.id for n in self.graph.nodes if n.op == "output"]
        seen: set[int] = set()
        while pending:
            nid = pending.pop()
            if nid not in seen:
                seen.add(nid)
                pending.extend(self.graph.node(nid).inputs)
        return [self.graph.node(nid) for nid in sorted(seen)]

    def node(self, index: int, node: Any) -> None:
        op = node.op_type
        data = self.view.data_inputs(index)
        if op in ops.NOT_DIFFERENTIABLE:
            return
        # ops of other domains are unknown unless named like a standard activation or norm
        activation = torch_api.onnx_activation(op)
        foreign = node.domain not in ops.DEFAULT_DOMAINS and activation is None
        if (foreign and op not in ops.NORMS) or op in ops.SUBGRAPH_OPS:
            self.emit(index, "opaque", data)
        elif op == "Gemm":
            self.gemm(index)
        elif op == "MatMul":
            self.matmul(index)
        elif op in ("Conv", "ConvTranspose"):
            self.conv(index)
        elif op in ops.RECURRENT:
            self.recurrent(index)
        elif activation is not None:
            self.activation(index, activation)
        elif op == "Clip":
            self.clip(index)
        elif op in ops.NORMS:
            self.emit(index, "norm", [node.input[0]])
        elif op in ops.POOLS:
            self.emit(index, "pool", [node.input[0]], attrs=sizes.pool_attrs(self.view, index))
        elif op in ("Attention", "MultiHeadAttention"):
            self.emit(index, "attention", data)
        elif op == "Gather" and not self.view.is_data(node.input[0]) and self.weight(node.input[0]):
            table = self.weight(node.input[0])
            if len(table[1]) == 2:
                self.embedding(index, table, node.input[1])
            else:
                self.alias(index, data[0])
        elif op in ops.ARITHMETIC:
            self.arithmetic(index)
        elif op in ("Concat", "Sum", "Mean", "Max", "Min"):
            distinct = self.ir_inputs(data)
            if len(distinct) >= 2:
                self.emit(index, "concat" if op == "Concat" else "add", data)
            elif op in ("Max", "Min") and len(node.input) == 2 and len(data) == 1:
                other = [n for n in node.input if n != data[0]]
                if op == "Max" and other and self.view.scalar(other[0]) == 0:
                    self.emit(index, "activation", data, activation="relu")
                else:
                    self.emit(index, "opaque", data)
            else:
                self.alias(index, data[0])
        elif op in ops.PASS_THROUGH:
            self.alias(index, data[0])
        else:
            self.emit(index, "opaque", data)

    def number_weights(self) -> None:
        """param_index in named_parameters() order when the exporter kept the names
        (torch writes parameters as initialisers in registration order, so weights no
        layer reads, such as position embeddings, still take their place), else in
        graph order."""
        folded = self.folded_copies()
        self.weight_order = [(folded.get(name, name), ir) for name, ir in self.weight_order]
        used: list[str] = []
        for name, _ in self.weight_order:
            if name not in used:
                used.append(name)
        names = used
        if used and all(_PARAMETER_NAME.match(n) for n in used):
            names = [
                t.name
                for t in self.view.graph.initializer
                if t.name in used
                or (
                    (_PARAMETER_NAME.match(t.name) or _TOP_LEVEL_NAME.match(t.name))
                    and len(t.dims) >= 2
                    and _is_float(t)
                )
            ]
        order = {name: i for i, name in enumerate(names)}
        for name, ir in self.weight_order:
            if ir.param_index is None or order[name] < ir.param_index:
                ir.param_index = order[name]
                ir.param_name = name
        self.graph.attrs["weight_count"] = len(names)

    def folded_copies(self) -> dict[str, str]:
        """Exporter-made copies of a named parameter -> that parameter.

        Constant folding stores a tied output layer's transposed embedding as a new,
        unnamed initialiser; the same dims in another order and the same measured
        mean and variance say which parameter it copies, so it keeps one place in
        named_parameters() order. Zero and constant tensors match too easily to tell.
        """
        named = {
            n: init
            for n, init in self._stats.items()
            if _PARAMETER_NAME.match(n) or _TOP_LEVEL_NAME.match(n)
        }
        copies: dict[str, str] = {}
        for name, init in self._stats.items():
            if name in named or init.kind not in ("measured", "default"):
                continue
            dims = sorted(self.view.initializers[name].dims)
            for original, known in named.items():
                if (
                    known.kind in ("measured", "default")
                    and sorted(self.view.initializers[original].dims) == dims
                    and math.isclose(known.variance, init.variance, rel_tol=1e-6)
                    and math.isclose(known.mean, init.mean, rel_tol=1e-4, abs_tol=1e-9)
                ):
                    copies[name] = original
                    break
        return copies


def _is_float(tensor: Any) -> bool:
    from onnx import TensorProto

    return tensor.data_type in (
        TensorProto.FLOAT,
        TensorProto.FLOAT16,
        TensorProto.BFLOAT16,
        TensorProto.DOUBLE,
    )


def to_layer_graph(
    model: Any, shown: str, name: str, base_dir: str, init_checks: bool
) -> LayerGraph:
    builder = _Builder(model, shown, name, base_dir, init_checks)
    graph = builder.build()
    if builder.absent:
        graph.attrs["weights_absent"] = list(builder.absent)
    graph.attrs["external_files"] = _external_files(model, base_dir)
    return graph


def _external_files(model: Any, base_dir: str) -> list[str]:
    """The files holding external tensor data: a cached result is only valid while they are
    unchanged. Their locations were checked to lie inside the model's folder (check_tensors)."""
    from onnx import TensorProto

    found: list[str] = []
    for tensor in model.graph.initializer:
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        path = external(tensor, base_dir).path
        if path not in found:
            found.append(path)
    return found
