"""torch inside the interpreter: building layers, module attributes, init calls, tensor values."""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint import torch_api
from gradlint.frontends.python.builtins import clone
from gradlint.frontends.python.init_math import calculate_gain, init_from_call
from gradlint.frontends.python.torch_nn import CONTAINERS, SPECS, construct
from gradlint.frontends.python.values import (
    UNKNOWN,
    Builtin,
    Mod,
    Param,
    ParamRef,
    Site,
    Tensor,
    TorchRef,
)
from gradlint.ir import Init

__all__ = ["SPECS", "call_torch"]


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


def call_torch(interp, qualname: str, args: list, kwargs: dict, site: Site | None) -> Any:
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
        return Tensor(None, shape, init)
    return UNKNOWN


def _randint_shape(args: list, kwargs: dict) -> tuple[int, ...] | None:
    """``torch.randint([low,] high, size)``: the size is the last positional argument."""
    size = kwargs.get("size", args[-1] if args else None)
    return _shape([size]) if isinstance(size, (tuple, list)) else None


def taint_inits(interp, values: list) -> None:
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
        param.init = init_from_call(name, param.shape, args, kwargs, site_location(site), site_text(site))
    elif isinstance(target, Tensor) and target.node is None or isinstance(target, Param):
        target.init = init_from_call(name, target.shape, args, kwargs, site_location(site), site_text(site))


# -- modules as objects ------------------------------------------------------------------


def torch_base_init(interp, mod: Mod, base: str | None, args: list, kwargs: dict) -> None:
    """The torch base class's constructor, also through super().__init__: containers and layers."""
    if base in SPECS:  # class MyConv(nn.Conv2d): the layer's own parameters
        spec, bound, params = construct(base, args, kwargs)
        mod.spec, mod.args = spec, bound
        if params is None:
            mod.layout_known = False
            interp.unknown("a layer whose size cannot be known")
        else:
            mod.params.update(params)
        if mod.cls is not None:  # torch's layer constructor ends with self.reset_parameters()
            override, _ = interp.class_attr(mod.cls, "reset_parameters")
            if override is not UNKNOWN:
                interp.call(interp._bind(mod, override, None), [], {})
        return
    if base == "Sequential":
        if len(args) == 1 and isinstance(args[0], dict):
            for key, value in args[0].items():
                _register(interp, mod, str(key), value)
        else:
            for index, value in enumerate(args):
                _register(interp, mod, str(index), value)
    elif base == "ModuleList":
        items = interp.iterate(args[0]) if args else []
        if items is None:
            mod.layout_known = False
            interp.unknown("a ModuleList of items that cannot be known")
            return
        for value in items:
            _register(interp, mod, str(len(mod.children)), value)
    elif base == "ModuleDict":
        source = args[0] if args else {}
        pairs = list(source.items()) if isinstance(source, dict) else interp.iterate(source)
        if pairs is None:
            mod.layout_known = False
            interp.unknown("a ModuleDict of items that cannot be known")
            return
        for pair in pairs:
            if isinstance(pair, tuple) and len(pair) == 2:
                _register(interp, mod, str(pair[0]), pair[1])


def _register(interp, mod: Mod, name: str, value: Any) -> None:
    interp.mutations += 1
    if isinstance(value, Mod) or value is None:
        mod.children[name] = value
    else:
        mod.children[name] = Mod("Unknown", None, layout_known=False)
        interp.unknown("a container item that is not a known module")


def module_setattr(interp, mod: Mod, name: str, value: Any) -> None:
    interp.mutations += 1
    if isinstance(value, Mod):
        mod.params.pop(name, None)
        mod.attrs.pop(name, None)
        mod.children[name] = value
    elif isinstance(value, Param):
        mod.children.pop(name, None)
        mod.params[name] = value
    elif value is None and (name in mod.children or name in mod.params):
        if name in mod.children:
            mod.children[name] = None
        else:
            mod.params[name] = None
    elif isinstance(value, ParamRef) and value.param is not None:
        mod.params[name] = value.param  # shared parameter (weight tying)
    else:
        if name in ("weight", "bias") and name in mod.params:
            mod.params[name] = Param(None, Init("unknown"))
            return
        if value is UNKNOWN and not mod.container:
            # it may be a layer gradlint cannot see (a library factory's result): a placeholder
            # keeps its place in the registration order, the attribute itself stays unknown
            mod.children[name] = Mod("Unknown", None, layout_known=False)
        mod.attrs[name] = value


def module_getattr(interp, mod: Mod, name: str, skip_class: bool = False) -> Any:
    if name in mod.attrs:
        return mod.attrs[name]
    if not skip_class and mod.cls is not None:
        value, owner = interp.class_attr(mod.cls, name)
        if owner is not None:
            return interp._bind(mod, value, owner)
    if name in mod.children:
        return mod.children[name]
    if name in mod.params:
        return ParamRef(mod, name) if mod.params[name] is not None else None
    if name == "training":
        return True
    if name == "__class__":
        return mod.cls if mod.cls is not None else TorchRef(f"torch.nn.{mod.type}")
    if name in mod.args:
        return mod.args[name]
    method = _MODULE_METHODS.get(name)
    if method is not None:
        return Builtin(name, lambda interp, args, kwargs: method(interp, mod, args, kwargs))
    if mod.cls is None and mod.spec is not None and name in ("weight", "bias"):
        return None
    return UNKNOWN


def walk_modules(root: Mod) -> list[tuple[str, Mod]]:
    """named_modules(): pre-order, each module once, with its first path."""
    seen: set[int] = set()
    out: list[tuple[str, Mod]] = []
    stack: list[tuple[str, Mod]] = [("", root)]
    while stack:
        prefix, mod = stack.pop()
        if id(mod) in seen:
            continue
        seen.add(id(mod))
        out.append((prefix, mod))
        children = [(f"{prefix}.{k}" if prefix else k, v) for k, v in mod.children.items() if isinstance(v, Mod)]
        stack.extend(reversed(children))
        if len(out) > 100_000:
            break
    return out


def named_parameters(root: Mod) -> list[tuple[str, ParamRef]]:
    out = []
    seen: set[int] = set()
    for prefix, mod in walk_modules(root):
        for pname, param in mod.params.items():
            if param is None or id(param) in seen:
                continue
            seen.add(id(param))
            out.append((f"{prefix}.{pname}" if prefix else pname, ParamRef(mod, pname)))
    return out


def _apply(interp, mod: Mod, args, kwargs):
    fn = args[0] if args else UNKNOWN
    order: list[Mod] = []

    def post_order(m: Mod, seen: set[int]) -> None:
        for child in m.children.values():
            if isinstance(child, Mod) and id(child) not in seen:
                seen.add(id(child))
                post_order(child, seen)
        order.append(m)

    post_order(mod, {id(mod)})
    for m in order:
        interp.loop_tick()
        interp.call(fn, [m], {})
    return mod


def _modules(interp, mod, args, kwargs):
    return [m for _, m in walk_modules(mod)]


def _named_modules(interp, mod, args, kwargs):
    return [(n, m) for n, m in walk_modules(mod)]


def _children(interp, mod, args, kwargs):
    return [m for m in mod.children.values() if isinstance(m, Mod)]


def _named_children(interp, mod, args, kwargs):
    return [(k, m) for k, m in mod.children.items() if isinstance(m, Mod)]


def _parameters(interp, mod, args, kwargs):
    if not all(m.layout_known for _, m in walk_modules(mod)):
        interp.unknown("parameters() of a model with unknown layers")
    return [p for _, p in named_parameters(mod)]


def _named_parameters(interp, mod, args, kwargs):
    if not all(m.layout_known for _, m in walk_modules(mod)):
        interp.unknown("named_parameters() of a model with unknown layers")
    return named_parameters(mod)


def _add_module(interp, mod, args, kwargs):
    if len(args) == 2 and isinstance(args[0], str):
        _register(interp, mod, args[0], args[1])
    else:
        interp.unknown("add_module with a name that cannot be known")


def _register_parameter(interp, mod, args, kwargs):
    if len(args) == 2 and isinstance(args[0], str):
        module_setattr(interp, mod, args[0], args[1])


def _append(interp, mod, args, kwargs):
    if args:
        _register(interp, mod, str(len(mod.children)), args[0])
    return mod


def _extend(interp, mod, args, kwargs):
    items = interp.iterate(args[0]) if args else None
    if items is None:
        mod.layout_known = False
        interp.unknown("extend with items that cannot be known")
        return mod
    for item in items:
        _register(interp, mod, str(len(mod.children)), item)
    return mod


def _insert(interp, mod, args, kwargs):
    if len(args) == 2 and isinstance(args[0], int):
        values = list(mod.children.values())
        values.insert(args[0], args[1])
        mod.children = {}
        for value in values:
            _register(interp, mod, str(len(mod.children)), value)


def _self(interp, mod, args, kwargs):
    return mod


def _reset_parameters(interp, mod, args, kwargs):
    if mod.cls is None and mod.spec is not None:
        _, _, params = construct(mod.type, [], dict(mod.args))
        if params is not None:
            for key, param in params.items():
                if key in mod.params and mod.params[key] is not None and param is not None:
                    mod.params[key].init = param.init


def _forward(interp, mod, args, kwargs):
    if interp.graph is None:
        return UNKNOWN
    return interp.graph.call_module(interp, mod, args, kwargs, torch_only=True)


def _dict_view(kind):
    def run(interp, mod, args, kwargs):
        if kind == "keys":
            return list(mod.children)
        if kind == "values":
            return list(mod.children.values())
        return list(mod.children.items())

    return run


_MODULE_METHODS = {
    "apply": _apply, "modules": _modules, "named_modules": _named_modules, "children": _children,
    "named_children": _named_children, "parameters": _parameters, "named_parameters": _named_parameters,
    "add_module": _add_module, "register_module": _add_module, "register_parameter": _register_parameter,
    "register_buffer": lambda interp, mod, args, kwargs: None, "append": _append, "extend": _extend,
    "insert": _insert, "to": _self, "cuda": _self, "cpu": _self, "float": _self, "double": _self, "half": _self,
    "train": _self, "eval": _self, "requires_grad_": _self, "type": _self, "reset_parameters": _reset_parameters,
    "forward": _forward, "keys": _dict_view("keys"), "values": _dict_view("values"), "items": _dict_view("items"),
}


def container_getitem(interp, mod: Mod, key: Any) -> Any:
    items = list(mod.children.items())
    if isinstance(key, str):
        return mod.children.get(key, UNKNOWN)
    if isinstance(key, bool) or key is UNKNOWN:
        return UNKNOWN
    if isinstance(key, int):
        if -len(items) <= key < len(items):
            return items[key][1]
        return UNKNOWN
    if isinstance(key, slice):
        sub = Mod(mod.type if mod.container else ("Sequential" if mod.cls and mod.cls.torch_base == "Sequential" else "ModuleList"), mod.site)
        for index, (_, child) in enumerate(items[key]):
            sub.children[str(index)] = child
        return sub
    return UNKNOWN


def container_setitem(interp, mod: Mod, key: Any, value: Any) -> None:
    if isinstance(key, str):
        _register(interp, mod, key, value)
    elif isinstance(key, int):
        keys = list(mod.children)
        if -len(keys) <= key < len(keys):
            _register(interp, mod, keys[key], value)


# -- tensors -----------------------------------------------------------------------------

_PARAM_INIT_METHODS = {"normal_", "uniform_", "fill_", "zero_", "copy_", "constant_", "xavier_uniform_"}


def tensor_attr(interp, obj: Any, name: str) -> Any:
    if isinstance(obj, ParamRef):
        param = obj.param
        if name == "data":
            return obj
        if name in ("shape",):
            return param.shape if param is not None and param.shape is not None else UNKNOWN
        if name == "ndim":
            return param.ndim if param is not None and param.ndim is not None else UNKNOWN
        if name in ("dim", "size", "numel"):
            return Builtin(name, lambda i, a, k: _param_shape_call(param, name, a))
        if name in _PARAM_INIT_METHODS or name in ("trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_normal_"):
            def run(interp, args, kwargs):
                set_init(interp, obj, name, args, kwargs, None)
                return obj
            return Builtin(name, run)
        if interp.graph is not None:
            return tensor_attr(interp, Tensor(None, param.shape if param else None), name)
        return UNKNOWN
    tensor: Tensor = obj
    if name in ("data", "T", "mT"):
        return tensor
    if name == "shape":
        return tensor.shape if tensor.shape is not None else UNKNOWN
    if name in torch_api.names("tensors.value_attributes"):
        return UNKNOWN
    if tensor.node is None and interp.graph is None:
        if name in _PARAM_INIT_METHODS:
            def init_method(interp, args, kwargs):
                set_init(interp, tensor, name, args, kwargs, None)
                return tensor
            return Builtin(name, init_method)
        return UNKNOWN
    if interp.graph is None:
        return UNKNOWN
    return Builtin(name, lambda interp, args, kwargs: interp.graph.functional(interp, name, [tensor, *args], kwargs, None, method=True))


def _param_shape_call(param: Param | None, name: str, args: list) -> Any:
    if param is None or param.shape is None:
        return UNKNOWN
    if name == "dim":
        return len(param.shape)
    if name == "numel":
        total = 1
        for d in param.shape:
            total *= d
        return total
    if args and isinstance(args[0], int) and -len(param.shape) <= args[0] < len(param.shape):
        return param.shape[args[0]]
    return tuple(param.shape) if not args else UNKNOWN


def tensor_binop(interp, op: Any, left: Any, right: Any, site: Site | None) -> Any:
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
            return Tensor(None, tensor.shape, Init(init.kind, init.variance, mean, None))
        else:
            return Tensor(None, tensor.shape, Init("unknown"))
        mean = None if init.mean is None else init.mean * factor
        return Tensor(None, tensor.shape, Init(init.kind, init.variance * factor * factor, mean, None))
    return UNKNOWN

