"""Torch functions and operators in forward: ``F.relu(x)``, ``torch.cat``, ``x + y``, ``x @ W``
become nodes of the layer graph."""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from typing import Any

import libcst as cst

from gradlint import torch_api
from gradlint.frontends.python import attention
from gradlint.frontends.python.derived import DerivedWeight, as_derived
from gradlint.frontends.python.folds import MATH
from gradlint.frontends.python.shared import GraphPart, Interp
from gradlint.frontends.python.values import UNKNOWN, ParamRef, Pieces, Site, Tensor, Transposed
from gradlint.ir import Init


class Functional(GraphPart):
    """The functions and operators part of ``graph.GraphBuilder``: ``self`` is all of it
    (see ``GraphWalk`` in ``shared.py``)."""

    # -- functions and operators --------------------------------------------------------

    def functional(self, interp: Interp, name: str, args: list, kwargs: dict, site: Site | None, method: bool = False) -> Any:
        site = site or getattr(interp, "site", None)
        first = args[0] if args else None
        if name in torch_api.names("functional.value"):
            if name in ("detach", "detach_") and isinstance(first, Tensor):
                return Tensor(None)
            if name in ("long", "int") and isinstance(first, Tensor) and not args[1:]:
                # ``self.emb(x.long())``: the model's token ids stay what an embedding reads;
                # anything else cast to integers carries no gradient
                reads_input = first.node is not None and self.graph.nodes[first.node].op == "input"
                return first if reads_input else Tensor(None)
            if name in ("size",) and not args[1:]:
                return UNKNOWN
            if name.endswith("_like") and name in torch_api.tensor_factories() and not method:
                factory = torch_api.tensor_factories()[name]  # ``torch.randn_like(x)``: how it draws
                return Tensor(None, init=Init(factory.init, factory.variance, factory.mean, factory.constant))
            return Tensor(None) if name.startswith("new_") or name.endswith("_like") else UNKNOWN
        kind = torch_api.activation_named(name)
        if kind is not None and isinstance(first, Tensor):
            if first.node is None:
                return Tensor(None)
            attrs = {"pre_scale": first.scale} if first.scale != 1.0 else {}
            if kind == "leaky_relu":
                slope = args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01)
                if isinstance(slope, (int, float)):
                    attrs["negative_slope"] = slope
            return self.node("activation", self.scoped(name.rstrip("_")), site, [first.node], activation=kind,
                             module_type=None, attrs=attrs)
        if name in torch_api.names("functional.gate"):
            return self._op("gate", name, site, [first])
        if name in forward_losses()[0]:
            return self.loss(name, site, [*args, *kwargs.values()])
        if name in torch_api.names("functional.select") and len(args) == 3 and not method:
            # ``torch.where(mask, x, y)``: each operand's gradient where it was picked; one
            # tensor against a constant is that tensor, masked
            ids = _tensor_ids(args[1:])
            if len(ids) == 2:
                return self.node("concat", self.scoped(name), site, ids)
            return Tensor(ids[0]) if ids else self._const(args[1:])
        if name in torch_api.names("functional.concat"):
            parts = interp.iterate(first) if not isinstance(first, Tensor) else None
            if parts is None:
                return self.opaque(interp, args, kwargs, site, name)
            ids = _tensor_ids(parts)
            tables = [p for p in parts if _is_table(p)]
            if len(ids) == 1 and tables and len(tables) + 1 == len(parts) and name in ("cat", "concat"):
                # ``torch.cat((cls_tokens, x), dim=1)``: learned tokens put before the sequence
                x = Tensor(ids[0])
                for ref in tables:
                    x = self._raw_weight("shift", x, ref, site, concatenated=True)
                return x
            if len(ids) == 1:
                return Tensor(ids[0])
            return self.node("concat", self.scoped(name), site, ids) if ids else Tensor(None)
        if name in ("interpolate", "upsample") and isinstance(first, Tensor) and first.node is not None:
            # a node of its own, so that spatial sizes after it are not taken for those before
            size = args[1] if len(args) > 1 else kwargs.get("size")
            factor = args[2] if len(args) > 2 else kwargs.get("scale_factor")
            attrs = {"function": name, "size": None if size is UNKNOWN else size,
                     "scale_factor": None if factor is UNKNOWN else factor}
            return self.node("identity", self.scoped(name), site, [first.node], attrs=attrs)
        derived = self.derived_weight(name, first, args, kwargs)
        if derived is not None:
            return derived
        if name in ("linear", "conv1d", "conv2d", "conv3d") and len(args) + len(kwargs) >= 2:
            layer = self.weight_layer(name, first, args, kwargs, site)
            if layer is not None:
                return layer
        if name in ("transpose", "t") and isinstance(first, ParamRef) and first.param is not None and first.param.ndim == 2:
            return Transposed(first)  # ``torch.transpose(self.wte.weight, 0, 1)``
        if name in ("repeat", "expand", "expand_as", "unsqueeze") and (_is_table(first) or _is_token(first)):
            return first  # a learned token repeated over the batch: ``repeat(self.cls_token, ...)``
        if name in torch_api.names("functional.identity"):
            return first if isinstance(first, Tensor) else self._const(args)
        if name in torch_api.names("functional.split"):
            if isinstance(first, Tensor):
                count = args[1] if len(args) > 1 and isinstance(args[1], int) and name == "chunk" else None
                if count and count <= 64:
                    return tuple(Tensor(first.node, piece=(i, count)) if first.node is not None else first
                                 for i in range(count))
                return Pieces(first)
            return UNKNOWN
        if name in torch_api.names("functional.pool"):
            ids = _tensor_ids([first])
            if not ids:
                return self._op("pool", name, site, [first])
            return self.node("pool", self.scoped(name), site, ids, attrs=_pool_attrs(name, args[1:], kwargs))
        if name in torch_api.names("functional.norm"):
            return self._op("norm", name, site, [first])
        if name in torch_api.names("functional.dropout"):
            return self._op("dropout", name, site, [first])
        if name in ("add", "sub", "subtract") and len(args) >= 2:
            return self.binop(interp, cst.Add, args[0], args[1], site)
        if name in ("mul", "multiply", "div", "divide") and len(args) >= 2:
            return self.binop(interp, cst.Multiply, args[0], args[1], site)
        if name == "linear" and len(args) >= 2 and isinstance(args[1], ParamRef) and isinstance(first, Tensor):
            bias = args[2] if len(args) > 2 else kwargs.get("bias")
            return self.param_layer(first, args[1], bias, site, stored_transposed=False)
        if name in ("matmul", "mm") and len(args) == 2 and isinstance(args[1], ParamRef) and isinstance(first, Tensor):
            return self.param_layer(first, args[1], None, site, stored_transposed=True)
        if name == "einsum" and isinstance(first, str):
            layer = _einsum_weight(first, args[1:])
            if layer is not None:
                x, ref, stored_transposed = layer
                return self.param_layer(x, ref, None, site, stored_transposed=stored_transposed)
        if name in torch_api.names("functional.matmul"):
            tensors = [a for a in args if isinstance(a, Tensor)]
            if name == "scaled_dot_product_attention" and len(tensors) >= 3 and all(t.node is not None for t in tensors[:3]):
                return attention.attend(self, tensors[:3], kwargs.get("is_causal") is True, name, site)
            if len(tensors) == 2 and all(t.node is not None for t in tensors):
                return attention.product(self, tensors[0], tensors[1], name, site)
            ids = _tensor_ids(tensors)
            if name == "scaled_dot_product_attention" or len(ids) >= 2:
                return self.node("attention", self.scoped(name), site, ids, attrs={"form": name})
            return self.opaque(interp, args, kwargs, site, name)
        if name in MATH and isinstance(first, Tensor):
            return self.math(name, site, first)
        return self.opaque(interp, args, kwargs, site, name)

    def derived_weight(self, name: str, first: Any, args: list, kwargs: dict) -> Any:
        """``F.normalize(self.weight, dim=1)``, ``torch.abs(w)``, a re-layout of a weight
        forward computed: the weight it makes (``gradlint.frontends.python.derived``)."""
        weight = as_derived(first) if name in ("normalize", "abs") or isinstance(first, DerivedWeight) else None
        if weight is None:
            return None
        if name == "normalize":
            dim = kwargs.get("dim", args[2] if len(args) > 2 else 1)
            dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
            made = weight.normalised(dims) if all(isinstance(d, int) for d in dims) else None
            return made if made is not None else Tensor(None)
        if name == "abs":
            return weight.absolute() or Tensor(None)
        if name in torch_api.names("functional.identity"):
            return weight
        return None

    def weight_layer(self, name: str, x: Any, args: list, kwargs: dict, site: Site | None) -> Any:
        """``F.conv2d(x, w, ...)`` or ``F.linear(x, w)`` on a module's own weight, as it is or
        as forward computed it: a layer whose weight is the effective one, and whose gradient
        reaches the parameter through the slope between them."""
        raw = args[1] if len(args) > 1 else kwargs.get("weight")
        weight = as_derived(raw)
        if weight is None or not isinstance(x, Tensor) or (name == "linear" and isinstance(raw, ParamRef)):
            return None  # F.linear on the weight itself: ``param_layer``
        if x.node is None:
            return Tensor(None)
        param = weight.ref.param
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        shape = weight.shape
        attrs: dict[str, Any] = {"functional": True}
        if weight.grad != 1.0:
            attrs["grad_scale"] = weight.grad
        if param is not None and param.frozen:
            attrs["frozen"] = True
        pname, fields = self._weight_fields(weight.ref, bias)
        fields["weight_init"] = weight.init
        if name == "linear":
            if len(shape) != 2:
                return None
            fields["fan_in"], fields["fan_out"] = shape[1], shape[0]
            return self.node("linear", pname, site, [x.node], module_type="Parameter", attrs=attrs, **fields)
        dims = int(name[-2])
        positional = dict(zip(("stride", "padding", "dilation", "groups"), args[3:]))
        options = {key: kwargs.get(key, positional.get(key, default))
                   for key, default in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))}
        groups = options["groups"]
        if len(shape) != dims + 2 or not isinstance(groups, int) or groups <= 0:
            return None
        kernel = math.prod(shape[2:])
        fields["fan_in"], fields["fan_out"] = shape[1] * kernel, shape[0] * kernel // groups
        attrs.update(options, kernel_size=tuple(shape[2:]), out_channels=shape[0])
        return self.node("linear", pname, site, [x.node], module_type=f"Conv{dims}d", attrs=attrs, **fields)

    def math(self, name: str, site: Site | None, x: Tensor) -> Tensor:
        """Element-wise maths on a tensor: a placeholder that ``folds.fold`` may recognise."""
        if x.node is None:
            return Tensor(None)
        return self.node("opaque", self.scoped(name), site, [x.node], attrs={"math": name})

    def param_layer(self, x: Tensor, ref: ParamRef, bias: Any, site: Site | None, stored_transposed: bool) -> Any:
        """``F.linear(x, self.weight, self.bias)`` or ``x @ self.W``: a linear layer on a module's own weight."""
        param = ref.param
        if x.node is None:
            return Tensor(None)
        pname, fields = self._weight_fields(ref, bias)
        fields.update(module_type="Parameter", attrs={"functional": True})
        if param is not None and param.shape is not None and len(param.shape) == 2:
            rows, cols = param.shape
            fields["fan_in"], fields["fan_out"] = (rows, cols) if stored_transposed else (cols, rows)
        if param is not None:
            fields["weight_init"] = param.init
        return self.node("linear", pname, site, [x.node], **fields)

    def _weight_fields(self, ref: ParamRef, bias: Any) -> tuple[str, dict[str, Any]]:
        """A layer on a module's own weight: its name in the model (``blocks.0.w``), its
        place in named_parameters() and its bias; the owner is marked as used."""
        owner = self.names.get(id(ref.owner), "")
        self.used.add(id(ref.owner))
        name = f"{owner}.{ref.name}" if owner else ref.name
        param = ref.param
        fields: dict[str, Any] = {"param_name": name, "has_bias": isinstance(bias, ParamRef),
                                  "param_index": self.param_index.get(id(param)) if param is not None else None}
        if isinstance(bias, ParamRef) and bias.param is not None:
            fields["bias_init"] = bias.param.init
        return name, fields

    def param_scale(self, x: Tensor, ref: ParamRef, site: Site | None) -> Tensor:
        """``x * self.g`` with a raw weight of two or more dimensions (``torch.ones(1, dim, 1, 1)``,
        a hand-written norm's gain): each entry scaled by its own weight, a weight of the model
        under the shared definition."""
        return self._raw_weight("scale", x, ref, site)

    def param_shift(self, x: Tensor, ref: ParamRef, site: Site | None) -> Tensor:
        """``x + self.pos_embedding``, ``(x - mean) / std * self.g + self.b``: a raw weight of two or
        more dimensions added to the signal, the same for every sample; its gradient is the
        signal's, summed over the batch."""
        return self._raw_weight("shift", x, ref, site)

    def _raw_weight(self, op: str, x: Tensor, ref: ParamRef, site: Site | None, concatenated: bool = False) -> Tensor:
        param = ref.param
        owner = self.names.get(id(ref.owner), "")
        self.used.add(id(ref.owner))
        name = f"{owner}.{ref.name}" if owner else ref.name
        return self.node(op, name, site, [x.node], module_type="Parameter", weight_init=param.init,
                         param_index=self.param_index.get(id(param)), param_name=name, fan_in=1, fan_out=1,
                         has_bias=False, attrs={"functional": True, "entries": _entries(param.shape),
                                                **({"frozen": True} if param.frozen else {}),
                                                **({"concatenated": True} if concatenated else {})})

    def loss(self, name: str, site: Any, values: list, module_type: str | None = None) -> Any:
        """A loss forward computes (``F.mse_loss(pred, target)``, ``self.criterion(...)``):
        a reduction of the operands that carry a gradient. The loss the ratio is defined on
        is then this one's square, whose gradient is this one's scaled: the ratio is its own."""
        ids = _tensor_ids(values)
        if len(ids) > 1:
            ids = [self.node("add", self.scoped("compare"), site, ids).node]
        if not ids:
            return self._const(values)
        return self.node("pool", name if module_type else self.scoped(name), site, ids,
                         attrs={"function": module_type or name}, module_type=module_type)

    def _op(self, op: str, name: str, site: Site | None, values: list) -> Any:
        ids = _tensor_ids(values)
        if not ids:
            return Tensor(None) if any(isinstance(v, Tensor) for v in values) else UNKNOWN
        return self.node(op, self.scoped(name), site, ids)

    def _const(self, args: list) -> Any:
        return Tensor(None) if any(isinstance(a, Tensor) for a in args) else UNKNOWN

    def binop(self, interp: Interp, op: Any, left: Any, right: Any, site: Site | None) -> Any:
        scaled = _scaled_weight(op, left, right)
        if scaled is not None:
            return scaled
        lt, rt = _as_tensor(left), _as_tensor(right)
        lid = lt.node if lt is not None else None
        rid = rt.node if rt is not None else None
        if lid is not None and rid is not None:
            if op in (cst.Add, cst.Subtract):
                if lid == rid:
                    return lt
                return self.node("add", self.scoped("add"), site, [lid, rid])
            if op in (cst.Multiply, cst.Divide):
                return self.node("gate", self.scoped("mul"), site, [lid, rid], attrs={"divide": op is cst.Divide})
            if op is cst.MatrixMultiply:
                return attention.product(self, lt, rt, "matmul", site)
            return self.node("opaque", self.scoped("op"), site, [lid, rid])
        live = lt if lid is not None else rt if rid is not None else None
        if live is None:
            return Tensor(None) if (lt is not None or rt is not None) else UNKNOWN
        other = right if live is lt else left
        if op is cst.MatrixMultiply and isinstance(other, ParamRef) and live is lt:
            return self.param_layer(live, other, None, site, stored_transposed=True)
        if op is cst.MatrixMultiply and isinstance(other, Transposed) and live is lt:
            return self.param_layer(live, other.ref, None, site, stored_transposed=False)  # x @ w.T
        if op is cst.Subtract and live is rt and _number(other):
            # ``1 - t``: the complement of a gate (a highway's carry) keeps its size
            return self.node("identity", self.scoped("complement"), site, [live.node],
                             attrs={"affine": (-1.0, float(other))})
        if op is cst.Multiply and _noise(other):
            # ``mu + eps * std``, ``eps = torch.randn_like(std)``: zero-mean noise of its own
            # variance times the signal (a VAE's sample, noise injection)
            return self.node("identity", self.scoped("noise"), site, [live.node],
                             attrs={"noise": float(other.init.variance)})
        if op in (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.FloorDivide):
            if isinstance(other, ParamRef) and op in (cst.Add, cst.Subtract) and (other.param is not None
                                                                              and (other.param.ndim or 0) >= 2):
                return self.param_shift(live, other, site)  # ``x + self.pos_embedding``
            if isinstance(other, ParamRef) and op in (cst.Multiply, cst.Divide):
                param = other.param
                if param is not None and param.ndim is not None and param.ndim >= 2:
                    if op is cst.Multiply:
                        return self.param_scale(live, other, site)
                    return self.node("opaque", self.scoped("mul"), site, [live.node])
            if op in (cst.Multiply, cst.Divide) and _number(other) and other != 0 and (op is cst.Multiply or live is lt):
                factor = float(other) if op is cst.Multiply else 1.0 / float(other)
                return dataclasses.replace(live, scale=live.scale * factor)
            return live
        if op is cst.Power and live is lt and isinstance(other, (int, float)):
            return self.math("pow", site, live)
        return self.node("opaque", self.scoped("op"), site, [live.node])


def _einsum_weight(pattern: str, operands: list) -> tuple[Tensor, ParamRef, bool] | None:
    """``einsum("b n d, d e -> b n e", x, self.w)``: a traced tensor times a module's own 2-D
    weight that sums over the tensor's last axis, its features, and makes a new last axis: a
    linear layer; (x, weight, whether the weight's first axis is the one summed over), else
    None. A sum over another axis (talking heads' ``b h i j, h g -> b g i j`` on attention
    scores) is not one: the gain model does not follow the scores' magnitude."""
    if len(operands) != 2 or "->" not in pattern or "..." in pattern:
        return None
    (x, ref), order = (operands, 0) if isinstance(operands[1], ParamRef) else (operands[::-1], 1)
    if not (isinstance(x, Tensor) and x.node is not None and isinstance(ref, ParamRef)):
        return None
    inputs, output = pattern.replace(" ", "").split("->")
    terms = inputs.split(",")
    if len(terms) != 2:
        return None
    x_letters, w_letters = (terms[0], terms[1]) if order == 0 else (terms[1], terms[0])
    param = ref.param
    if param is None or param.ndim != 2 or len(w_letters) != 2 or len(set(w_letters)) != 2:
        return None
    summed = [c for c in w_letters if c in x_letters and c not in output]
    made = [c for c in w_letters if c in output and c not in x_letters]
    if len(summed) != 1 or len(made) != 1 or any(c not in x_letters + w_letters for c in output):
        return None
    if x_letters[-1] != summed[0] or output[-1] != made[0]:
        return None
    return x, ref, w_letters[0] == summed[0]


def _entries(shape: tuple[int, ...] | None) -> int | None:
    if shape is None:
        return None
    count = 1
    for size in shape:
        count *= size
    return count


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _as_tensor(value: Any) -> Tensor | None:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (ParamRef, DerivedWeight)):
        return Tensor(None)
    return None


def _scaled_weight(op: Any, left: Any, right: Any) -> DerivedWeight | None:
    """``w * c``, ``c * w``, ``w / c`` for a weight of two or more dimensions and a number."""
    weight, number = (left, right) if isinstance(left, (ParamRef, DerivedWeight)) else (right, left)
    if not isinstance(number, (int, float)) or isinstance(number, bool) or not math.isfinite(number):
        return None
    found = as_derived(weight)
    if found is None:
        return None
    if op is cst.Multiply:
        return found.scaled(float(number))
    if op is cst.Divide and weight is left and number != 0:
        return found.scaled(1.0 / number)
    return None


def _tensor_ids(values: list) -> list[int]:
    ids: list[int] = []
    for value in values:
        if isinstance(value, Pieces):
            value = value.tensor
        if isinstance(value, Tensor) and value.node is not None:
            ids.append(value.node)
        elif isinstance(value, (list, tuple)):
            ids.extend(_tensor_ids(list(value)))
    return ids


_POOL_PARAMS = {"max": ("kernel_size", "stride", "padding", "dilation"), "avg": ("kernel_size", "stride", "padding"),
                "adaptive": ("output_size",), "reduce": ("dim", "keepdim")}


def _pool_attrs(name: str, args: list, kwargs: dict) -> dict[str, Any]:
    """A functional pool's size arguments, for the gain model's spatial sizes."""
    family = ("adaptive" if name.startswith("adaptive") else "max" if name.startswith("max_pool")
              else "avg" if name.startswith("avg_pool") else "reduce" if name in ("mean", "sum", "amax", "max")
              else None)
    attrs: dict[str, Any] = {"function": name}
    if family is None:
        return attrs
    for key, value in [*zip(_POOL_PARAMS[family], args), *kwargs.items()]:
        if key in _POOL_PARAMS[family] and value is not UNKNOWN:
            attrs[key] = value
    return attrs


def _noise(value: Any) -> bool:
    """A random tensor forward draws (``torch.randn_like(x)``): zero mean, a known variance."""
    init = value.init if isinstance(value, Tensor) and value.node is None else None
    return (init is not None and init.kind == "normal" and init.mean == 0.0
            and isinstance(init.variance, float) and init.variance > 0.0)


def _is_table(value: Any) -> bool:
    """A raw parameter of two or more dimensions: a class token, a position table."""
    return isinstance(value, ParamRef) and value.param is not None and (value.param.ndim or 0) >= 2


def _is_token(value: Any) -> bool:
    """A raw 1-D parameter: one learned token (``repeat(self.cls_token, 'd -> b d')``), not a
    weight of the shared definition, which ``pack`` counts as one position."""
    return isinstance(value, ParamRef) and value.param is not None and value.param.ndim == 1


@cache
def forward_losses() -> tuple[frozenset[str], frozenset[str]]:
    """(functions, modules) of the torch losses a forward may compute: ``functional.loss`` and
    ``functional.loss_modules``, and those of the loss rules' table."""
    losses = torch_api.losses().values()
    return (torch_api.names("functional.loss") | {f.rsplit(".", 1)[-1] for x in losses for f in x.functions},
            torch_api.names("functional.loss_modules") | {x.module for x in losses})
