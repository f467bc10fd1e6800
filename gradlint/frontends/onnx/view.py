"""A read-only index of an ONNX graph: who produces and who consumes each value,
which values are constants, and which depend on the model input."""

from __future__ import annotations

from typing import Any

from gradlint.frontends.onnx.loading import printable
from gradlint.frontends.onnx.ops import DATA_ARGS, NOT_DIFFERENTIABLE

# Constants larger than this are weights, never needed as small scalars.
_SMALL = 64


class GraphView:
    def __init__(self, graph: Any, base_dir: str = "") -> None:
        self.graph = graph
        self.base_dir = base_dir
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
        values = self.values(name)
        if values is None or values.dtype.kind in "cOSU":  # complex or text: no scalar
            return None
        if values.size == 0 or not (values == values[0]).all():
            return None
        try:
            return float(values[0])
        except (TypeError, ValueError):
            return None

    def values(self, name: str):
        """The flat entries of an initialiser or constant, or None when they cannot be read
        (external data is read from the model's folder, never from the working directory)."""
        from onnx import TensorProto

        from gradlint.frontends.onnx.loading import LoadError
        from gradlint.frontends.onnx.weights import WeightsAbsent, tensor_values

        tensor = self.tensor(name)
        if tensor is None or (not self.base_dir and tensor.data_location == TensorProto.EXTERNAL):
            return None
        try:
            return tensor_values(tensor, self.base_dir)
        except (LoadError, WeightsAbsent):
            return None

    def attr(self, index: int, name: str, default: Any = None) -> Any:
        from onnx import helper

        for attribute in self.nodes[index].attribute:
            if attribute.name == name:
                try:
                    return helper.get_attribute_value(attribute)
                except ValueError:  # no type set: as if the attribute were not there
                    return default
        return default

    # Typed reads: the checker holds standard ops to their schemas, but an op of another
    # domain named like an activation (com.microsoft's Gelu) is read with no schema at all.

    def number(self, index: int, name: str, default: float | None) -> float | None:
        value = self.attr(index, name, default)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return default

    def integer(self, index: int, name: str, default: int | None = None) -> int | None:
        value = self.attr(index, name, default)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def text(self, index: int, name: str, default: str) -> str:
        """A string attribute; bytes that are not UTF-8 are shown with replacement marks."""
        value = self.attr(index, name, default)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return value if isinstance(value, str) else default

    def ints(self, index: int, name: str, default: list[int] | None = None) -> list[int] | None:
        """A list of integers, or ``default`` when the attribute is absent or not one."""
        value = self.attr(index, name, default)
        if isinstance(value, (list, tuple)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            return list(value)
        return default

    def node_name(self, index: int) -> str:
        node = self.nodes[index]
        return printable(node.name or f"{node.op_type}_{index}")
