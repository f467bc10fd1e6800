"""The forward walk: calls on a built model become the nodes and edges of a LayerGraph.

Calls of modules are here; torch functions and operators are ``functional.py``, a part
of ``GraphBuilder`` like the parts of the interpreter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import libcst as cst

from gradlint import torch_api
from gradlint.diagnostics import Location
from gradlint.files import display_path
from gradlint.frontends.python import torch_attention
from gradlint.frontends.python.functional import Functional, _tensor_ids, forward_losses
from gradlint.frontends.python.modules import site_location, walk_modules
from gradlint.frontends.python.shared import Interp
from gradlint.frontends.python.values import (
    UNKNOWN,
    FuncVal,
    Mod,
    Param,
    ParamRef,
    Site,
    Tensor,
)
from gradlint.ir import LayerGraph
from gradlint.names import dotted


class PlacedReason:
    """Why a graph is incomplete, naming a line: formatted only when read, since finding
    the line costs a pass over its file and most reasons are never shown."""

    __slots__ = ("call", "location", "text")

    def __init__(self, text: str, location: Location, call: cst.CSTNode | None = None) -> None:
        self.text = text
        self.location = location
        self.call = call  # the call it names, as the source spells its callee

    def __str__(self) -> str:
        callee = dotted(self.call.func) if type(self.call) is cst.Call else None
        named = f" `{callee}`" if callee else ""
        # a file parsed first for another that imports it holds the path the resolver gave it
        path = display_path(Path(self.location.path))
        return f"{self.text}{named} ({path}:{self.location.line})"

    __repr__ = __str__

    def __contains__(self, part: str) -> bool:
        return part in str(self)

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


class GraphBuilder(Functional):
    def __init__(self, root: Mod, graph: LayerGraph) -> None:
        self.root = root
        self.graph = graph
        self.names = {id(m): name for name, m in walk_modules(root)}
        self.param_index: dict[int, int | None] = {}
        self.used: set[int] = set()
        self.scope: list[str] = []
        self.reason_locations: dict[int, Location] = {}  # maths placeholders: where they are
        index = 0
        known = True  # an unknown layer hides the order of every weight registered after it
        seen: set[int] = set()
        for _, mod in walk_modules(root):
            known = known and mod.layout_known
            for param in mod.params.values():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                known = known and param.ndim is not None
                if (param.ndim or 0) >= 2:
                    self.param_index[id(param)] = index if known else None
                    index += 1
                elif param.ndim is None:
                    self.param_index[id(param)] = None
        self.graph.attrs["weights"] = index if all(m.layout_known for _, m in walk_modules(root)) else None

    def incomplete(self, reason: str) -> None:
        self.graph.complete = False
        reasons = self.graph.attrs.setdefault("unknown", [])
        if len(reasons) < 8:
            reasons.append(reason)

    # -- helpers ------------------------------------------------------------------------

    def location(self, site: Site | Mod | None) -> Location:
        if isinstance(site, Mod):
            site = site.site
        loc = site_location(site) if site is not None else None
        return loc or self.graph.location

    def reason_location(self, site: Site | Mod | None) -> Location:
        """Where a reason points, to the line: cheaper than a finding's span."""
        if isinstance(site, Mod):
            site = site.site
        return site.file.line_location(site.node) if site is not None else self.graph.location

    def node(self, op: str, name: str, where: Any, inputs: list[int], **kw: Any) -> Tensor:
        node = self.graph.add(op, name, self.location(where), _dedup(inputs), **kw)  # type: ignore[arg-type]
        if op == "opaque":
            if "math" in node.attrs:  # maths waits for folds.fold
                self.reason_locations[node.id] = self.reason_location(where)
            else:
                call = where.node if isinstance(where, Site) else None
                self.incomplete(PlacedReason("a call that cannot be resolved", self.reason_location(where), call))
        return Tensor(node.id)

    def scoped(self, name: str) -> str:
        prefix = self.scope[-1] if self.scope else ""
        return f"{prefix}.{name}" if prefix else name

    def opaque(self, interp: Interp, args: list, kwargs: dict, site: Site | None, name: str = "call") -> Any:
        inputs = _tensor_ids([*args, *kwargs.values()])
        if not inputs:
            return UNKNOWN
        return self.node("opaque", self.scoped(name), site, inputs)

    # -- modules ------------------------------------------------------------------------

    def call_module(self, interp: Interp, mod: Mod, args: list, kwargs: dict, torch_only: bool = False) -> Any:
        """``mod(*args)``; ``torch_only`` runs the torch base class's forward (``super().forward``)."""
        name = self.names.get(id(mod), mod.type)
        self.used.add(id(mod))
        if mod.cls is not None:
            forward, _ = interp.class_attr(mod.cls, "forward")
            if isinstance(forward, FuncVal) and not torch_only:
                self.scope.append(name)
                try:
                    return interp.invoke(forward, args, kwargs, receiver=mod)
                finally:
                    self.scope.pop()
            if mod.cls.torch_base == "Sequential":
                return self._chain(interp, mod, args, kwargs)
            hook, _ = interp.class_attr(mod.cls, "_conv_forward")
            if isinstance(hook, FuncVal) and not torch_only and args and mod.spec is not None:
                # torch's convolution forward is ``self._conv_forward(input, self.weight, self.bias)``:
                # a subclass's override (whisper's casts) runs, and its ``super()._conv_forward``
                # is the layer
                bias = ParamRef(mod, "bias") if mod.params.get("bias") is not None else None
                self.scope.append(name)
                try:
                    return interp.invoke(hook, [args[0], ParamRef(mod, "weight"), bias], {}, receiver=mod)
                finally:
                    self.scope.pop()
            if mod.spec is not None:
                return self._layer(mod, name, args, kwargs)
            return self.node("opaque", name, mod, _tensor_ids(args), module_type=mod.type)
        if mod.type in forward_losses()[1]:
            return self.loss(name, mod, [*args, *kwargs.values()], mod.type)
        if mod.type == "Sequential":
            return self._chain(interp, mod, args, kwargs)
        if mod.type in ("TransformerEncoder", "TransformerDecoder"):
            value = args[0] if args else UNKNOWN
            layers = mod.children.get("layers")
            if not mod.layout_known or not isinstance(layers, Mod):
                return self.node("opaque", name, mod, _tensor_ids(args), module_type=mod.type)
            self.used.add(id(layers))
            for child in layers.children.values():
                if isinstance(child, Mod):
                    value = self.call_module(interp, child, [value, *args[1:]], {})
            norm = mod.children.get("norm")
            return self.call_module(interp, norm, [value], {}) if isinstance(norm, Mod) else value
        if mod.spec is None:
            return self.node("opaque", name, mod, _tensor_ids(args), module_type=mod.type)
        return self._layer(mod, name, args, kwargs)

    def _chain(self, interp: Interp, mod: Mod, args: list, kwargs: dict) -> Any:
        value = args[0] if args else UNKNOWN
        for child in mod.children.values():
            if isinstance(child, Mod):
                value = self.call_module(interp, child, [value], {})
        return value

    def _layer(self, mod: Mod, name: str, args: list, kwargs: dict) -> Any:
        if mod.type == "MultiheadAttention":
            expanded = torch_attention.self_attention(self, mod, name, args, kwargs)
            if expanded is not None:
                return (expanded, Tensor(None))
        if mod.type == "TransformerEncoderLayer":
            expanded = torch_attention.encoder_layer(self, mod, name, args, kwargs)
            if expanded is not None:
                return expanded
        spec = mod.spec
        inputs = _tensor_ids(args[:1] if spec.op not in ("attention",) else [*args, *kwargs.values()])
        if not inputs and not any(isinstance(a, Tensor) for a in args[:1]):
            self.incomplete(f"{name} is called on a value that cannot be known")
        out = self.node(spec.op, name, mod, inputs, **self.layer_fields(mod, name))
        layer = torch_api.layers().get(mod.type)
        kind = layer.outputs if layer is not None else None
        if kind == "seq+pair":
            return (out, (out, out))
        if kind in ("seq", "pair"):
            return (out, out)
        if mod.type == "MultiheadAttention":
            return (out, Tensor(None))
        return out

    def layer_fields(self, mod: Mod, name: str) -> dict[str, Any]:
        spec, a = mod.spec, mod.args
        fields: dict[str, Any] = {"module_type": mod.type, "attrs": {}}
        attrs = fields["attrs"]
        if spec.activation:
            fields["activation"] = spec.activation
            for key in ("negative_slope", "min_val", "max_val", "dim", "alpha", "beta", "approximate", "threshold"):
                if key in a and a[key] is not UNKNOWN:
                    attrs[key] = a[key]
        if isinstance(a.get("pattern"), str) and mod.type in ("Rearrange", "Reduce"):
            # einops: the gain model follows the sequence length through the pattern
            attrs["einops"] = a["pattern"]
            attrs["axes"] = {k: v for k, v in a.items() if k != "pattern" and isinstance(v, int)}
        weights = [(k, p) for k, p in mod.params.items() if p is not None and (p.ndim or 0) >= 2]
        if weights:
            pname, param = weights[0]
            fields["weight_init"] = param.init
            fields["param_index"] = self.param_index.get(id(param))
            fields["param_name"] = f"{name}.{pname}" if name else pname
            if param.frozen:
                attrs["frozen"] = True
            if len(weights) > 1:
                attrs["weights"] = len(weights)
        bias = mod.params.get("bias", mod.params.get("bias_ih_l0", mod.params.get("bias_ih")))
        if spec.op in ("linear", "recurrent", "attention"):
            fields["has_bias"] = bool(a["bias"]) if isinstance(a.get("bias"), int) else None  # bias=1 is a bias
            fields["bias_init"] = bias.init if isinstance(bias, Param) else None
        family = spec.family
        if family == "linear":
            fields["fan_in"], fields["fan_out"] = _ints(a.get("in_features"), a.get("out_features"))
        elif family == "bilinear":
            fields["fan_in"], fields["fan_out"] = _ints(a.get("in1_features"), a.get("out_features"))
        elif family in ("conv", "convt"):
            weight = mod.params.get("weight")
            groups = a.get("groups")
            if isinstance(weight, Param) and weight.shape is not None and isinstance(groups, int) and groups > 0:
                kernel = 1
                for k in weight.shape[2:]:
                    kernel *= k
                c_in, c_out = a["in_channels"], a["out_channels"]
                fields["fan_in"] = c_in // groups * kernel
                fields["fan_out"] = c_out * kernel // groups
            for key in ("stride", "padding", "dilation", "groups", "kernel_size"):
                attrs[key] = a.get(key)
        elif family == "pool":  # what the gain model needs to follow the spatial size
            for key in ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "output_size", "size",
                        "scale_factor"):
                if key in a and a[key] is not UNKNOWN:
                    attrs[key] = a[key]
        elif family == "embedding":
            fields["fan_out"] = _ints(a.get("embedding_dim"))[0]
            attrs["num_embeddings"] = a.get("num_embeddings")
        elif family in ("rnn", "cell"):
            n_in, hidden = _ints(a.get("input_size"), a.get("hidden_size"))
            fields["fan_in"] = n_in
            dirs = 2 if a.get("bidirectional") is True else 1
            fields["fan_out"] = hidden * dirs if hidden is not None else None
            nonlinearity = a.get("nonlinearity", "tanh")
            fields["activation"] = nonlinearity if nonlinearity in ("tanh", "relu") else None
            attrs.update({"hidden_size": hidden, "num_layers": a.get("num_layers", 1),
                          "bidirectional": a.get("bidirectional", False), "cell": mod.type})
        elif family == "mha":
            fields["fan_in"], fields["fan_out"] = _ints(a.get("embed_dim"), a.get("embed_dim"))
            attrs["num_heads"] = a.get("num_heads")
        elif family == "transformer_layer":
            fields["fan_in"], fields["fan_out"] = _ints(a.get("d_model"), a.get("d_model"))
            act = a.get("activation")
            attrs.update({"residual": True, "norm": True, "norm_first": a.get("norm_first"),
                          "dim_feedforward": a.get("dim_feedforward"), "nhead": a.get("nhead"),
                          "ffn_activation": act if isinstance(act, str) else None})
        return fields


def _dedup(ids: list[int]) -> list[int]:
    seen: list[int] = []
    for i in ids:
        if i not in seen:
            seen.append(i)
    return seen


def _ints(*values: Any) -> tuple:
    return tuple(v if isinstance(v, int) and not isinstance(v, bool) else None for v in values)


def first_tensor(value: Any) -> Tensor | None:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)) and value:
        return first_tensor(value[0])
    if isinstance(value, dict) and value:
        return first_tensor(next(iter(value.values())))
    return None


def unused_nodes(builder: GraphBuilder) -> None:
    """Registered layers that forward never reaches: parameters that get no gradient."""
    for name, mod in walk_modules(builder.root):
        if id(mod) in builder.used or mod.cls is not None or mod.spec is None:
            continue
        if not any(p is not None for p in mod.params.values()):
            continue
        fields = builder.layer_fields(mod, name)
        fields["attrs"]["unused"] = True
        builder.graph.add(mod.spec.op, name, builder.location(mod), [], **fields)
