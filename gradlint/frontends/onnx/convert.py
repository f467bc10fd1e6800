"""ONNX ModelProto -> LayerGraph: the IR the python frontend builds, so the
same graph rules fire on exported models."""

from __future__ import annotations

import math
import re
from typing import Any

from gradlint import torch_api
from gradlint.diagnostics import Location
from gradlint.frontends.onnx import ops, sizes
from gradlint.frontends.onnx.layer_ops import LayerOps
from gradlint.frontends.onnx.loading import printable
from gradlint.frontends.onnx.patterns import find_fusions
from gradlint.frontends.onnx.view import GraphView
from gradlint.frontends.onnx.weights import WeightsAbsent, external, measure
from gradlint.ir import Init, LayerGraph, Node

# Graph names exporters give every model; the file name says more.
_GENERIC_NAMES = {"", "main_graph", "torch_jit", "torch-jit-export", "graph", "model"}
# "body.0.weight": a name an exporter kept from the framework's parameters.
_PARAMETER_NAME = re.compile(r"^[A-Za-z_]\w*(\.\w+)+$")
# "pos_embed": a top-level parameter; "val_12" is the dynamo exporter's own constant.
_TOP_LEVEL_NAME = re.compile(r"^(?!val_\d+$)[A-Za-z]\w*$")


class _Builder(LayerOps):
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
