"""Abstract values the interpreter computes with.

Plain Python data (numbers, strings, None, tuples, lists, dicts, ranges) stands
for itself; everything else is one of the classes below. ``UNKNOWN`` is any
value the interpreter cannot know, and it spreads: what is computed from it is
unknown too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import libcst as cst

from gradlint.ir import Init

if TYPE_CHECKING:
    from gradlint.frontends.python.shared import Interp


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class _Everything:
    """A stand-in for a collection nothing passes that the code only tests with ``in``
    (``if curr_res in attn_resolutions``): it holds every value (``arguments``)."""

    def __repr__(self) -> str:
        return "EVERYTHING"


EVERYTHING: Any = _Everything()


@dataclass(eq=False)
class Tensor:
    """A tensor inside ``forward``: the graph node it comes from (None: no gradient path)."""

    node: int | None
    shape: tuple[int, ...] | None = None  # for constants built in __init__ (torch.randn(3, 4))
    init: Init | None = None  # how such a constant's entries are drawn
    piece: tuple[int, int] | None = None  # (i, n): the i-th of n equal pieces its node was split into
    values: tuple | None = None  # the entries of a small constant of known numbers (``constants``)
    # a constant factor forward multiplied it by, which no node records (``0.5 * logvar``): the
    # estimate is scale-free along linear paths, but a nonlinearity applied next sees it
    scale: float = 1.0


@dataclass(eq=False)
class Param:
    """One parameter tensor of a module: its shape (None when unknown) and init."""

    shape: tuple[int, ...] | None
    init: Init | None = None
    fans: tuple[int, int] | None = None  # torch's (fan_in, fan_out) for this tensor
    frozen: bool = False  # ``requires_grad = False``: no gradient, apart from the ratio

    @property
    def ndim(self) -> int | None:
        return None if self.shape is None else len(self.shape)


@dataclass(eq=False)
class ParamRef:
    """``module.weight`` (also ``module.weight.data``): the target of an init call."""

    owner: Mod
    name: str

    @property
    def param(self) -> Param | None:
        return self.owner.params.get(self.name)


@dataclass(eq=False, repr=False)
class Site:
    """Where a value was built: a file context and the libcst node, resolved to a line lazily."""

    file: Any
    node: cst.CSTNode


@dataclass(eq=False)
class Mod:
    """An ``nn.Module`` instance: a torch layer, a container, or a class of the linted tree."""

    type: str  # "Linear", "Sequential", or the user class name
    site: Site | None
    cls: ClassVal | None = None  # for classes of the linted tree
    spec: Any = None  # gradlint.frontends.python.torch_nn.Spec for torch layers
    args: dict[str, Any] = field(default_factory=dict)
    children: dict[str, Mod | None] = field(default_factory=dict)
    params: dict[str, Param | None] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    layout_known: bool = True  # False: its parameters (and so their order) are unknown
    init_args: dict[str, Any] = field(default_factory=dict)  # what its own __init__ was called with

    @property
    def container(self) -> bool:
        return self.cls is None and self.type in ("Sequential", "ModuleList", "ModuleDict")


@dataclass(eq=False, repr=False)
class ClassVal:
    def __repr__(self) -> str:
        return f"<class {self.name}>"

    name: str
    node: cst.ClassDef
    file: Any  # FileContext
    bases: list[Any]
    torch_base: str | None  # "Module", "Sequential", ... when it derives from one
    is_module: bool
    is_dataclass: bool = False

    def mro(self) -> list[ClassVal]:
        order: list[ClassVal] = []
        stack = [self]
        while stack and len(order) < 64:
            cls = stack.pop(0)
            if cls in order:
                continue
            order.append(cls)
            stack.extend(b for b in cls.bases if isinstance(b, ClassVal))
        return order

    def ancestry_known(self) -> bool:
        """No class in its MRO has a base outside the linted tree."""
        return not any(b is UNKNOWN for c in self.mro() for b in c.bases)


@dataclass(eq=False, repr=False)
class FuncVal:
    def __repr__(self) -> str:
        return f"<function {self.name}>"

    node: cst.FunctionDef | cst.Lambda
    file: Any
    closure: Any = None  # the defining Frame for nested functions and lambdas
    owner: ClassVal | None = None  # class that defines it (for super())

    @property
    def name(self) -> str:
        return self.node.name.value if type(self.node) is cst.FunctionDef else "<lambda>"


@dataclass(eq=False)
class Bound:
    """A method bound to its receiver: ``self.helper`` or ``cfg.method``."""

    receiver: Any
    func: Any


@dataclass(eq=False)
class Obj:
    """An instance of a plain class of the linted tree (a config object)."""

    cls: ClassVal
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class TorchRef:
    """A torch symbol by its qualified name: ``torch.nn.Linear``, ``torch.sigmoid``."""

    qualname: str


@dataclass(eq=False)
class ModuleRef:
    """An imported module of the linted tree."""

    file: Any  # FileContext
    dotted: str = ""


@dataclass(eq=False)
class Builtin:
    name: str
    fn: Callable[[Interp, list, dict], Any]  # fn(interp, args, kwargs)
    sizes_only: bool = False  # its keywords are axis lengths (einops), never the maths


@dataclass(eq=False)
class Partial:
    """functools.partial(func, *args, **kwargs)."""

    func: Any
    args: list
    kwargs: dict


@dataclass(eq=False)
class Namespace:
    """A standard-library module the interpreter models (math, copy, functools, ...)."""

    name: str
    members: dict[str, Any]


@dataclass(eq=False)
class Super:
    receiver: Any
    after: ClassVal | None


# what evaluating an operation on plain values may raise; any of them makes the result unknown
VALUE_ERRORS = (ArithmeticError, TypeError, ValueError, LookupError, AttributeError, RecursionError, MemoryError)


def is_known(value: Any) -> bool:
    return value is not UNKNOWN


@dataclass(eq=False)
class Transposed:
    """``self.wte.weight.T``, ``torch.transpose(w, 0, 1)``: a module's own 2-D weight, swapped;
    ``x @ w.T`` is a linear layer on it (a language model's head tied to its embedding)."""

    ref: ParamRef


@dataclass(eq=False)
class Cycle:
    """``itertools.cycle(items)``: endless, so it is read only where something else ends it
    (``zip`` with a finite iterable, ``islice``)."""

    items: list

    def take(self, count: int) -> list:
        return [self.items[i % len(self.items)] for i in range(count)] if self.items else []


@dataclass(eq=False)
class Pieces:
    """``x.split(n)`` / ``x.chunk(k)`` of unknown count: every piece carries x's gradient path."""

    tensor: Tensor


def clone(value: Any, memo: dict[int, Any]) -> Any:
    """copy.deepcopy over abstract values: modules are copied, so clones are new layers."""
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, Mod):
        copy = Mod(value.type, value.site, value.cls, value.spec, dict(value.args))
        copy.layout_known = value.layout_known
        copy.init_args = dict(value.init_args)
        memo[id(value)] = copy
        copy.children = {k: clone(v, memo) for k, v in value.children.items()}
        copy.params = {k: (Param(p.shape, p.init, p.fans, p.frozen) if p is not None else None) for k, p in value.params.items()}
        copy.attrs = {k: clone(v, memo) for k, v in value.attrs.items()}
        return copy
    if isinstance(value, list):
        return [clone(v, memo) for v in value]
    if isinstance(value, tuple):
        return tuple(clone(v, memo) for v in value)
    if isinstance(value, dict):
        return {k: clone(v, memo) for k, v in value.items()}
    if isinstance(value, Obj):
        copy_obj = Obj(value.cls)
        memo[id(value)] = copy_obj
        copy_obj.attrs = {k: clone(v, memo) for k, v in value.attrs.items()}
        return copy_obj
    return value
