"""torch inside the interpreter: calls to torch, building layers, init calls, tensor values.

The modules as objects (attributes, methods, containers) are ``module_objects.py``;
their functions that the interpreter calls are re-exported here, beside the rest of torch.
"""

from __future__ import annotations

import math
from typing import Any

import libcst as cst

from gradlint import torch_api
from gradlint.frontends.python import constants
from gradlint.frontends.python.derived import DerivedWeight, as_derived
from gradlint.frontends.python.init_math import calculate_gain, init_from_call
from gradlint.frontends.python.module_objects import (
    container_getitem,
    container_setitem,
    module_getattr,
    module_setattr,
    named_parameters,
    torch_base_init,
    walk_modules,
)
from gradlint.frontends.python.shared import Interp
from gradlint.frontends.python.torch_nn import CONTAINERS, SPECS, construct
from gradlint.frontends.python.values import (
    UNKNOWN,
    Builtin,
    Mod,
    Param,
    ParamRef,
    Site,
    Tensor,
    Transposed,
    clone,
)
from gradlint.ir import Init

__all__ = [
    "SPECS",
    "call_torch",
    "container_getitem",
    "container_setitem",
    "module_getattr",
    "module_setattr",
    "named_parameters",
    "site_location",
    "taint_inits",
    "tensor_attr",
    "tensor_binop",
    "torch_base_init",
    "walk_modules",
]



def _shape(args: list) -> tuple[int, ...] | None:
    dims = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    if dims and all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        return tuple(dims)
    return None


def site_location(site: Site | None):
    return site.file.location(site.node) if site is not None else None


def site_text(site: Site | None) -> str:
    if site is None or site.file.source is None:
        return ""
    text = site.file.source.code_of(site.node)
    return " ".join(text.split())[:120]


def call_torch(interp: Interp, qualname: str, args: list, kwargs: dict, site: Site | None) -> Any:
    parts = qualname.split(".")
    name = parts[-1]
    namespace = ".".join(parts[:-1])
    if namespace == "torch.nn.init":
        return _init_call(interp, name, args, kwargs, site)
    if namespace == "torch.nn":
        if name in CONTAINERS:
            mod = Mod(name, site)
            torch_base_init(interp, mod, name, args, kwargs)
            return mod
        if name == "Parameter":
            data = args[0] if args else kwargs.get("data", UNKNOWN)
            if interp.graph is not None:
                return data
            if isinstance(data, Tensor):
                return Param(data.shape, data.init)
            return Param(None, Init("unknown"))
        if name in SPECS:
            return build_layer(interp, name, args, kwargs, site)
        if name[:1].isupper():  # a layer gradlint does not model: its parameters are unknown
            return Mod(name, site, layout_known=False)
    if namespace.startswith("torch.nn.utils") and args and isinstance(args[0], Mod):
        args[0].layout_known = False  # weight_norm and friends re-parameterise the weight
        return args[0]
    if name == "calculate_gain":
        gain = calculate_gain(args[0], args[1] if len(args) > 1 else kwargs.get("param")) if args and isinstance(args[0], str) else None
        return UNKNOWN if gain is None else gain
    if name in ("is_scripting", "is_tracing", "is_compiling"):
        return False  # gradlint reads eager, training-mode code
    if name == "is_tensor" and len(args) == 1:
        value = args[0]
        return True if isinstance(value, (Tensor, ParamRef)) else UNKNOWN if value is UNKNOWN else False
    if name == "annotate" and len(args) == 2:
        return args[1]
    if name == "checkpoint" and namespace.startswith("torch.utils.checkpoint") and args:
        return interp.call(args[0], list(args[1:]), {k: v for k, v in kwargs.items() if k != "use_reentrant"}, site)
    tensors = [a for a in [*args, *kwargs.values()] if _is_tensorish(a)]
    if interp.graph is not None and (tensors or namespace.startswith("torch.nn.functional")):
        return interp.graph.functional(interp, name, args, kwargs, site)
    factory = torch_api.tensor_factories().get(name) if namespace == "torch" else None
    if factory is not None:
        shape = _randint_shape(args, kwargs) if name == "randint" else _shape(args or [kwargs.get("size")])
        init = Init(factory.init, factory.variance, factory.mean, factory.constant)
        values = constants.factory_values(name, args, kwargs)
        return Tensor(None, (len(values),), init, values=values) if values is not None else Tensor(None, shape, init)
    return UNKNOWN


def _randint_shape(args: list, kwargs: dict) -> tuple[int, ...] | None:
    """``torch.randint([low,] high, size)``: the size is the last positional argument."""
    size = kwargs.get("size", args[-1] if args else None)
    return _shape([size]) if isinstance(size, (tuple, list)) else None


def taint_inits(interp: Interp, values: list) -> None:
    """A function gradlint cannot see got these weights or layers: their init is no longer known."""
    for value in values:
        if isinstance(value, (ParamRef, Mod)):
            interp.mutations += 1
        if isinstance(value, ParamRef) and value.param is not None:
            value.param.init = Init("unknown", detail="passed to an unresolved call")
        elif isinstance(value, Mod):
            for _, mod in walk_modules(value):
                for param in mod.params.values():
                    if param is not None:
                        param.init = Init("unknown", detail="passed to an unresolved call")


def _is_tensorish(value: Any) -> bool:
    if isinstance(value, (Tensor, ParamRef)):
        return True
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, Tensor) for v in value)
    return False


def build_layer(interp, name: str, args: list, kwargs: dict, site: Site | None) -> Mod:
    spec, bound, params = construct(name, args, kwargs)
    mod = Mod(name, site, spec=spec, args=bound)
    if spec is not None and spec.family == "transformer_stack":
        layer = bound.get("encoder_layer", bound.get("decoder_layer"))
        count = bound.get("num_layers")
        layers = Mod("ModuleList", site)
        if isinstance(layer, Mod) and isinstance(count, int) and 0 <= count <= 10_000:
            for index in range(count):
                interp.loop_tick()
                layers.children[str(index)] = clone(layer, {})
        else:
            mod.layout_known = False
        mod.children["layers"] = layers
        norm = bound.get("norm")
        mod.children["norm"] = norm if isinstance(norm, Mod) else None
        return mod
    if params is None:
        mod.layout_known = False
        interp.unknown("a layer whose size cannot be known")
    else:
        mod.params = params
    return mod


def _init_call(interp, name: str, args: list, kwargs: dict, site: Site | None) -> Any:
    if name == "calculate_gain":
        gain = calculate_gain(args[0], args[1] if len(args) > 1 else kwargs.get("param")) if args and isinstance(args[0], str) else None
        return UNKNOWN if gain is None else gain
    target = args[0] if args else kwargs.get("tensor", UNKNOWN)
    set_init(interp, target, name, list(args[1:]), {k: v for k, v in kwargs.items() if k != "tensor"}, site)
    return target


def set_init(interp, target: Any, name: str, args: list, kwargs: dict, site: Site | None) -> None:
    interp.mutations += 1
    if isinstance(target, ParamRef):
        param = target.param
        if param is None:
            return
        source = args[0] if args else kwargs.get("src")
        if name == "copy_" and isinstance(source, DerivedWeight) and source.ref.param is param:
            # ``self.weight.copy_(normalize_weight(self.weight))`` (EDM2's forced normalisation)
            param.init = source.init
            return
        param.init = init_from_call(name, param.shape, args, kwargs, site_location(site), site_text(site))
    elif isinstance(target, Tensor) and target.node is None or isinstance(target, Param):
        target.init = init_from_call(name, target.shape, args, kwargs, site_location(site), site_text(site))


# -- tensors -----------------------------------------------------------------------------

_CASTS = frozenset({"to", "float", "half", "double", "bfloat16", "type", "type_as", "contiguous"})
_VIEWS = frozenset({"unsqueeze", "expand", "expand_as"})
_PARAM_INIT_METHODS = {"normal_", "uniform_", "fill_", "zero_", "copy_", "constant_", "xavier_uniform_"}


def _flat(param: Param | None) -> bool:
    return param is not None and param.ndim == 2


def tensor_attr(interp: Interp, obj: Any, name: str) -> Any:
    if isinstance(obj, ParamRef):
        param = obj.param
        if name == "data":
            return obj
        if name == "detach" and interp.graph is None:
            # ``p.detach().zero_()`` in __init__ (a zero_module helper): a view of the parameter
            return Builtin(name, lambda i, a, k: obj)
        if name in ("shape",):
            return param.shape if param is not None and param.shape is not None else UNKNOWN
        if name == "ndim":
            return param.ndim if param is not None and param.ndim is not None else UNKNOWN
        if name in ("dim", "size", "numel"):
            return Builtin(name, lambda i, a, k: shape_call(param.shape if param is not None else None, name, a))
        if name in ("T", "mT", "t", "transpose") and interp.graph is not None and _flat(param):
            swapped = Transposed(obj)
            return swapped if name in ("T", "mT") else Builtin(name, lambda i, a, k: swapped)
        if name == "abs" and interp.graph is not None and as_derived(obj) is not None:
            return Builtin(name, lambda i, a, k: as_derived(obj).absolute() or Tensor(None))
        if name in _CASTS | _VIEWS and interp.graph is not None:
            # ``self.weight.to(x.dtype)``, ``self.pos_embedding.unsqueeze(0)``: the same weight
            return Builtin(name, lambda i, a, k: obj)
        if name in _PARAM_INIT_METHODS or name in ("trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_normal_"):
            def run(interp, args, kwargs):
                # the call's site (set by Interpreter.call): where `w.data.normal_(0, 1)` stands
                set_init(interp, obj, name, args, kwargs, getattr(interp, "site", None))
                return obj
            return Builtin(name, run)
        if interp.graph is not None:
            return tensor_attr(interp, Tensor(None, param.shape if param else None), name)
        return UNKNOWN
    tensor: Tensor = obj
    if name in ("data", "T", "mT"):
        return tensor
    known = constants.method(tensor, name)
    if known is not None:
        return known
    if name == "shape":
        return tensor.shape if tensor.shape is not None else UNKNOWN
    if name in torch_api.names("tensors.value_attributes"):
        return UNKNOWN
    if tensor.node is None and interp.graph is None:
        if name in _CASTS | {"cuda", "cpu"}:
            # a script's ``img = torch.randn(2, 3, 256, 256).cuda()``: the same shape, moved
            return Builtin(name, lambda i, a, k: tensor)
        if name in _PARAM_INIT_METHODS:
            def init_method(interp, args, kwargs):
                set_init(interp, tensor, name, args, kwargs, getattr(interp, "site", None))
                return tensor
            return Builtin(name, init_method)
        return UNKNOWN
    if interp.graph is None:
        return UNKNOWN
    return Builtin(name, lambda interp, args, kwargs: interp.graph.functional(interp, name, [tensor, *args], kwargs, None, method=True))


def shape_call(shape: tuple[int, ...] | None, name: str, args: list) -> Any:
    """``w.dim()``, ``w.numel()``, ``w.size()``/``w.size(i)`` of a weight of ``shape``."""
    if shape is None:
        return UNKNOWN
    if name == "dim":
        return len(shape)
    if name == "numel":
        return math.prod(shape)
    if args and isinstance(args[0], int) and -len(shape) <= args[0] < len(shape):
        return shape[args[0]]
    return tuple(shape) if not args else UNKNOWN


def tensor_binop(interp: Interp, op: Any, left: Any, right: Any, site: Site | None) -> Any:
    if interp.graph is not None:
        return interp.graph.binop(interp, op, left, right, site)
    # __init__: scaling a random constant scales its init (torch.randn(d, d) * 0.02)
    tensor, scalar = (left, right) if isinstance(left, Tensor) else (right, left)
    if isinstance(tensor, Tensor) and isinstance(scalar, (int, float)) and not isinstance(scalar, bool):
        init = tensor.init
        if init is None or init.variance is None:
            return Tensor(None, tensor.shape, Init("unknown"))
        if op is cst.Multiply:
            factor = scalar
        elif op is cst.Divide and tensor is left and scalar:
            factor = 1.0 / scalar
        elif op in (cst.Add, cst.Subtract) and init.mean is not None:
            shift = scalar if op is cst.Add or tensor is left else -scalar
            mean = init.mean + shift if tensor is left or op is cst.Add else scalar - init.mean
            constant = None if init.constant is None else (
                init.constant + shift if tensor is left or op is cst.Add else scalar - init.constant)
            return Tensor(None, tensor.shape, Init(init.kind, init.variance, mean, constant))
        else:
            return Tensor(None, tensor.shape, Init("unknown"))
        mean = None if init.mean is None else init.mean * factor
        constant = None if init.constant is None else init.constant * factor  # torch.ones(d) / d ** 0.5
        return Tensor(None, tensor.shape, Init(init.kind, init.variance * factor * factor, mean, constant))
    return UNKNOWN


def derived_attr(interp, weight: DerivedWeight, name: str):
    """An attribute of a derived weight: its view's sizes, ``abs``, re-layouts of it."""
    if name == "shape":
        return weight.shape
    if name == "ndim":
        return len(weight.shape)
    if name in ("numel", "dim", "size"):
        return Builtin(name, lambda interp, args, kwargs: shape_call(weight.shape, name, args))
    if name == "abs":
        return Builtin(name, lambda interp, args, kwargs: weight.absolute() or Tensor(None))
    if name == "data" or name in torch_api.names("functional.identity"):
        return Builtin(name, lambda interp, args, kwargs: weight) if name != "data" else weight
    if interp.graph is not None:
        return tensor_attr(interp, Tensor(None, weight.shape), name)
    return UNKNOWN
