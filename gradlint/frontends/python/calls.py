"""Calls: call expressions, what each kind of callee does, functions of the linted tree."""

from __future__ import annotations

from typing import Any

import libcst as cst

from gradlint import torch_api
from gradlint.frontends.python import modules as nnmod
from gradlint.frontends.python.builtins import BUILTINS
from gradlint.frontends.python.init_math import vendored_init
from gradlint.frontends.python.shared import MAX_DEPTH, Frame, InterpPart, _Return, plain
from gradlint.frontends.python.values import (
    UNKNOWN,
    Bound,
    Builtin,
    ClassVal,
    FuncVal,
    Mod,
    ParamRef,
    Partial,
    Site,
    Super,
    Tensor,
    TorchRef,
)

# methods whose tensor argument lends only its dtype and device to the result
_TEMPLATE_METHODS = frozenset({"to", "type_as", "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor"})


class Calls(InterpPart):
    """The calls part of ``Interpreter``: ``self`` is all of it (see ``shared.py``)."""

    # -- calls ----------------------------------------------------------------------------

    def call(self, func: Any, args: list, kwargs: dict, site: Site | None = None) -> Any:
        self.tick()
        self.site = site
        if isinstance(func, Builtin):
            return func.fn(self, args, kwargs)
        if isinstance(func, FuncVal):
            vendored = vendored_init(func.node) if self.graph is None else None
            if vendored is not None:
                return nnmod.call_torch(self, f"torch.nn.init.{vendored}", args, kwargs, site)
            return self.invoke(func, args, kwargs)
        if isinstance(func, Bound):
            if isinstance(func.func, FuncVal):
                return self.invoke(func.func, args, kwargs, receiver=func.receiver)
            return self.call(func.func, [func.receiver, *args], kwargs, site)
        if isinstance(func, Partial):
            return self.call(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, site)
        if isinstance(func, ClassVal):
            return self.instantiate(func, args, kwargs, site)
        if isinstance(func, TorchRef):
            return nnmod.call_torch(self, func.qualname, args, kwargs, site)
        if isinstance(func, Mod):
            if self.graph is not None:
                return self.graph.call_module(self, func, args, kwargs)
            return UNKNOWN
        if isinstance(func, Tensor) or func is UNKNOWN or not plain(func):
            if self.graph is not None:
                return self.graph.opaque(self, args, kwargs, site)
            nnmod.taint_inits(self, [*args, *kwargs.values()])
        return UNKNOWN

    def invoke(self, func: FuncVal, args: list, kwargs: dict, receiver: Any = None) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                self.unknown("calls nested too deeply")
                if self.graph is not None:
                    return self.graph.opaque(self, args, kwargs, None)
                return UNKNOWN
            frame = Frame(func.file, func.closure, func)
            if receiver is not None and not getattr(func, "static", False):
                args = [receiver, *args]
            self.bind_parameters(func.node.params, args, kwargs, frame)
            if isinstance(receiver, Mod) and receiver.cls is not None and func.name == "__init__":
                for name, value in frame.locals.items():  # the outermost __init__'s first
                    if value is not receiver:
                        receiver.init_args.setdefault(name, value)
            if type(func.node) is cst.Lambda:
                return self.eval(func.node.body, frame)
            try:
                self.exec_block(func.node.body, frame)
                value = None
            except _Return as ret:
                value = ret.value
            if frame.diverged is not None:
                early, state = frame.diverged
                if self.state() != state:
                    self.unknown("a return under a condition that cannot be decided")
                return value if value is early else UNKNOWN
            return value
        finally:
            self.depth -= 1

    def bind_parameters(self, params: cst.Parameters, args: list, kwargs: dict, frame: Frame) -> None:
        positional = list(params.posonly_params) + list(params.params)
        kwargs = dict(kwargs)
        rest = list(args)
        for param in positional:
            name = param.name.value
            if rest:
                frame.locals[name] = rest.pop(0)
            elif name in kwargs:
                frame.locals[name] = kwargs.pop(name)
            elif param.default is not None:
                frame.locals[name] = self.eval(param.default, Frame(frame.file, frame.parent))
            else:
                self.unknown("a call without a required argument")
                frame.locals[name] = UNKNOWN
        if type(params.star_arg) is cst.Param:
            frame.locals[params.star_arg.name.value] = tuple(rest)
        for param in params.kwonly_params:
            name = param.name.value
            if name in kwargs:
                frame.locals[name] = kwargs.pop(name)
            elif param.default is not None:
                frame.locals[name] = self.eval(param.default, Frame(frame.file, frame.parent))
            else:
                self.unknown("a call without a required keyword argument")
                frame.locals[name] = UNKNOWN
        if params.star_kwarg is not None:
            frame.locals[params.star_kwarg.name.value] = kwargs

    def _eval_Call(self, node: cst.Call, frame: Frame) -> Any:
        func_node = node.func
        if type(func_node) is cst.Name and func_node.value == "super" and len(node.args) == 2:
            owner, receiver = (self.eval(a.value, frame) for a in node.args)
            return Super(receiver, owner if isinstance(owner, ClassVal) else None)
        if type(func_node) is cst.Name and func_node.value == "super" and not node.args:
            receiver = UNKNOWN
            f: Frame | None = frame
            while f is not None and f.func is None:
                f = f.parent
            if f is not None and f.func is not None:
                params = f.func.node.params
                first = (list(params.posonly_params) + list(params.params))[:1]
                if first:
                    receiver = f.locals.get(first[0].name.value, UNKNOWN)
                return Super(receiver, f.func.owner)
            return UNKNOWN
        receiver: Any = None
        if type(func_node) is cst.Attribute:
            receiver = self.eval(func_node.value, frame)
            if receiver is UNKNOWN and self.graph is not None and func_node.attr.value in _TEMPLATE_METHODS:
                # ``scales.to(x)`` of a value nothing knows: x gives a dtype and a device, no gradient
                return Tensor(None)
            func = self.getattr(receiver, func_node.attr.value)
        else:
            func = self.eval(func_node, frame)
            if func is BUILTINS["locals"] and not node.args:
                return dict(frame.locals)
        args: list = []
        kwargs: dict = {}
        unknown_star = False
        for arg in node.args:
            value = self.eval(arg.value, frame)
            if arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    unknown_star = True
                    if self.graph is not None and isinstance(value, Tensor):
                        args.append(value)
                    continue
                args.extend(items)
            elif arg.star == "**":
                if isinstance(value, dict):
                    kwargs.update({k: v for k, v in value.items() if isinstance(k, str)})
                elif not (isinstance(func, TorchRef) and func.qualname.startswith("torch.backends.")
                          or isinstance(func, Builtin) and func.sizes_only):
                    # (torch.backends' settings pick kernels, einops' axis lengths lay entries
                    # out: neither is the maths)
                    self.unknown("**kwargs that cannot be known")
            elif arg.keyword is not None:
                kwargs[arg.keyword.value] = value
            else:
                args.append(value)
        if unknown_star and not (self.graph is not None and _relayout(func_node, receiver, func)):
            # sizes of ``x.reshape(b, *((1,) * n))`` do not matter to the gradient's path
            self.unknown("*args that cannot be known")
        if func is UNKNOWN and isinstance(receiver, Mod) and self.graph is None:
            nnmod.taint_inits(self, [receiver])  # model.load_state_dict(...), a library's init helper
        return self.call(func, args, kwargs, Site(frame.file, node))


def _relayout(func_node: cst.BaseExpression, receiver: Any, func: Any) -> bool:
    """``x.view(*shape)`` and the like: a re-layout of a tensor of forward, or of a value
    nothing knows (``cos.view(*new_shape)`` of a rotary cache), whose arguments are sizes."""
    if isinstance(receiver, (Tensor, ParamRef)) and isinstance(func, Builtin):
        return func.name in torch_api.names("functional.identity")
    return (receiver is UNKNOWN and type(func_node) is cst.Attribute
            and func_node.attr.value in torch_api.names("functional.identity"))
