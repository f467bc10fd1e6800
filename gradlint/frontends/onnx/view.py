"""A read-only index of an ONNX graph: who produces and who consumes each value,
which values are constants, and which depend on the model input."""

from __future__ import annotations

from typing import Any

from gradlint.frontends.onnx.ops import DATA_ARGS, NOT_DIFFERENTIABLE

# Constants larger than this are weights, never needed as small scalars.
_SMALL = 64


class GraphView:
    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.nodes = list(graph.node)
        self.initializers = {t.name: t for t in graph.initializer}
        self.producer: dict[str, int] = {}
        self.consumers: dict[str, list[int]] = {}
        self.constant_nodes: dict[str, Any] = {}
        for index, node in enumerate(self.nodes):
            for name in node.output:
                if name:
                    self.producer[name] = index
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(index)
            if node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name == "value" and node.output:
                        self.constant_nodes[node.output[0]] = attr.t
        self.outputs = {o.name for o in graph.output}
        self.inputs = [i.name for i in graph.input if i.name not in self.initializers]
        self.data = self._data_values()

    def _data_values(self) -> set[str]:
        """Values computed from a model input through ops a gradient can cross."""
        data = set(self.inputs)
        for node in self.nodes:
            if node.op_type in NOT_DIFFERENTIABLE:
                continue
            if any(name in data for name in self._data_slots(node)):
                data.update(name for name in node.output if name)
        return data

    @staticmethod
    def _data_slots(node) -> list[str]:
        positions = DATA_ARGS.get(node.op_type)
        if positions is None:
            return list(node.input)
        return [node.input[p] for p in positions if p < len(node.input)]

    def is_data(self, name: str) -> bool:
        return name in self.data

    def data_inputs(self, index: int) -> list[str]:
        return [name for name in self._data_slots(self.nodes[index]) if name in self.data]

    def producer_of(self, name: str):
        """The producing node's index, or None for inputs, initialisers and empty names."""
        return self.producer.get(name)

    def single_consumer(self, name: str) -> int | None:
        users = self.consumers.get(name, [])
        if len(users) == 1 and name not in self.outputs:
            return users[0]
        return None

    def tensor(self, name: str):
        """The TensorProto of an initialiser or a Constant node's output."""
        if name in self.initializers:
            return self.initializers[name]
        return self.constant_nodes.get(name)

    def scalar(self, name: str) -> float | None:
        """The value of a small constant whose entries are all equal, or None."""
        tensor = self.tensor(name)
        if tensor is None:
            return None
        count = 1
        for dim in tensor.dims:
            count *= dim
        if count > _SMALL or count == 0:
            return None
        from onnx import numpy_helper

        try:
            values = numpy_helper.to_array(tensor).reshape(-1)
        except Exception:  # noqa: BLE001 - external or malformed: not a scalar we can read
            return None
        if values.size == 0 or not (values == values[0]).all():
            return None
        try:
            return float(values[0])
        except (TypeError, ValueError):
            return None

    def attr(self, index: int, name: str, default: Any = None) -> Any:
        from onnx import helper

        for attribute in self.nodes[index].attribute:
            if attribute.name == name:
                return helper.get_attribute_value(attribute)
        return default

    def node_name(self, index: int) -> str:
        node = self.nodes[index]
        return node.name or f"{node.op_type}_{index}"
