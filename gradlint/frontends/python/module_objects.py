"""nn.Module instances as objects: their constructors, attributes, methods and container items."""

from __future__ import annotations

from typing import Any

from gradlint.frontends.python.shared import Interp
from gradlint.frontends.python.torch_nn import SPECS, construct
from gradlint.frontends.python.values import (
    UNKNOWN,
    Builtin,
    Mod,
    Param,
    ParamRef,
    Tensor,
    TorchRef,
)
from gradlint.ir import Init

# -- modules as objects ------------------------------------------------------------------


def torch_base_init(interp: Interp, mod: Mod, base: str | None, args: list, kwargs: dict) -> None:
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


def module_setattr(interp: Interp, mod: Mod, name: str, value: Any) -> None:
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


def module_getattr(interp: Interp, mod: Mod, name: str, skip_class: bool = False) -> Any:
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


def _register_buffer(interp, mod, args, kwargs):
    """A buffer is a tensor without gradient: forward reads it as a constant (a schedule
    ``extract``-ed by step, a position table), whatever its values."""
    name = args[0] if args else kwargs.get("name")
    value = args[1] if len(args) > 1 else kwargs.get("tensor", UNKNOWN)
    if isinstance(name, str):
        mod.attrs[name] = value if value is None or isinstance(value, Tensor) else Tensor(None)


def _forward(interp, mod, args, kwargs):
    if interp.graph is None:
        return UNKNOWN
    return interp.graph.call_module(interp, mod, args, kwargs, torch_only=True)


def _conv_forward(interp, mod, args, kwargs):
    """``super()._conv_forward(x, weight, bias)`` on the layer's own weight (cast or not):
    the convolution itself."""
    weight = args[1] if len(args) > 1 else kwargs.get("weight")
    if interp.graph is None or not args or not (isinstance(weight, ParamRef) and weight.owner is mod):
        return UNKNOWN
    return interp.graph.call_module(interp, mod, args[:1], {}, torch_only=True)


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
    "register_buffer": _register_buffer, "append": _append, "extend": _extend,
    "insert": _insert, "to": _self, "cuda": _self, "cpu": _self, "float": _self, "double": _self, "half": _self,
    "train": _self, "eval": _self, "requires_grad_": _self, "type": _self, "reset_parameters": _reset_parameters,
    "forward": _forward, "_conv_forward": _conv_forward, "keys": _dict_view("keys"), "values": _dict_view("values"), "items": _dict_view("items"),
    # reading or sharing what is there changes no weight (``torch.save(model.state_dict(), ...)``)
    **{name: (lambda interp, mod, args, kwargs: UNKNOWN) for name in (
        "state_dict", "buffers", "named_buffers", "zero_grad", "share_memory", "extra_repr", "get_submodule",
        "get_parameter", "get_buffer")},
}


def container_getitem(interp: Interp, mod: Mod, key: Any) -> Any:
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


def container_setitem(interp: Interp, mod: Mod, key: Any, value: Any) -> None:
    if isinstance(key, str):
        _register(interp, mod, key, value)
    elif isinstance(key, int):
        keys = list(mod.children)
        if -len(keys) <= key < len(keys):
            _register(interp, mod, keys[key], value)
