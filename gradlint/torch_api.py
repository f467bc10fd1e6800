"""What gradlint knows about torch: typed lookups over one table of data (torch_api.toml).

The interpreter, the code rules and the ONNX frontend all ask here: which constructor
builds which layer with which parameters, which module, function, method or ONNX operator
is which activation, what each loss expects, which calls cut a gradient, which classes
are optimisers, schedulers and scalers. The table is read once, on the first question,
and checked as it is read; nothing here imports torch.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA = "torch_api.toml"
OPS = frozenset(
    {"linear", "recurrent", "embedding", "attention", "gate", "norm", "dropout", "pool",
     "identity", "activation"}
)
OUTPUTS = frozenset({"probabilities", "log_probabilities"})
EXPECTS = frozenset({"logits", "values"}) | OUTPUTS
INITS = frozenset({"normal", "uniform", "zeros", "constant", "unknown"})


@dataclass(frozen=True)
class Layer:
    """A torch.nn constructor the interpreter builds."""

    name: str
    op: str  # the layer-graph op (gradlint.ir.Op)
    family: str  # how its parameter shapes follow from its arguments ("" for none)
    signature: tuple[str, ...]  # "name" (required) or "name=<Python literal>"
    activation: str | None = None  # the kind, for an activation module
    parameterless: bool = False
    outputs: str | None = None  # a recurrent layer's return: "seq", "pair", "seq+pair", "one"


@dataclass(frozen=True)
class Activation:
    kind: str  # the name the layer graph and the gain model use
    modules: Mapping[str, tuple[str, ...]]  # torch.nn class -> signature
    functions: tuple[str, ...]  # qualified
    methods: tuple[str, ...]  # of torch.Tensor
    onnx: tuple[str, ...]
    saturating: bool
    max_derivative: float | None  # the largest |phi'|, for a saturating kind
    output: str | None  # "probabilities" / "log_probabilities": what the loss rules compare
    parameters: bool  # its module learns a parameter (PReLU)


@dataclass(frozen=True)
class Loss:
    key: str  # "cross_entropy"
    module: str  # "CrossEntropyLoss"
    functions: tuple[str, ...]
    expects: str  # "logits", "probabilities", "log_probabilities" or "values"


@dataclass(frozen=True)
class Factory:
    """A tensor factory under torch and how the entries of what it makes are drawn."""

    name: str
    init: str  # a gradlint.ir.InitKind
    variance: float | None = None
    mean: float | None = None
    constant: float | None = None


class TableError(ValueError):
    """The data file does not have the shape this module expects."""


@dataclass(frozen=True)
class Table:
    layers: Mapping[str, Layer]
    activations: Mapping[str, Activation]
    losses: Mapping[str, Loss]
    factories: Mapping[str, Factory]
    sets: Mapping[str, frozenset[str]]  # "section.key" -> names
    strings: Mapping[str, str]  # "section.key" -> one name
    # indexes: a name as the code spells it -> the kind or key it is
    activation_modules: Mapping[str, str]
    activation_functions: Mapping[str, str]
    activation_methods: Mapping[str, str]
    activation_names: Mapping[str, str]
    onnx_activations: Mapping[str, str]
    loss_modules: Mapping[str, str]
    loss_functions: Mapping[str, str]


def _names(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise TableError(f"{where}: expected a list of names, got {value!r}")
    return tuple(value)


def _float(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TableError(f"{where}: expected a number, got {value!r}")
    return float(value)


def _index(pairs, where: str) -> Mapping[str, str]:
    index: dict[str, str] = {}
    for name, value in pairs:
        if index.get(name, value) != value:
            raise TableError(f"{where}: {name} is both {index[name]} and {value}")
        index[name] = value
    return MappingProxyType(index)


def _layers(data: dict) -> dict[str, Layer]:
    layers: dict[str, Layer] = {}
    for number, entry in enumerate(data.get("layers", [])):
        where = f"layers[{number}]"
        if entry.get("op") not in OPS or entry["op"] == "activation":
            raise TableError(f"{where}: unknown op {entry.get('op')!r}")
        for name in _names(entry.get("names"), where):
            if name in layers:
                raise TableError(f"{where}: {name} is listed twice")
            layers[name] = Layer(
                name,
                entry["op"],
                entry.get("family", ""),
                _names(entry.get("signature"), where) if entry.get("signature") else (),
                None,
                bool(entry.get("parameterless", False)),
                entry.get("outputs"),
            )
    return layers


def _activations(data: dict) -> dict[str, Activation]:
    found: dict[str, Activation] = {}
    for kind, entry in data.get("activations", {}).items():
        where = f"activations.{kind}"
        modules = entry.get("modules", {})
        if not isinstance(modules, dict):
            raise TableError(f"{where}.modules: expected a table")
        output = entry.get("output")
        if output is not None and output not in OUTPUTS:
            raise TableError(f"{where}.output: {output!r} is none of {sorted(OUTPUTS)}")
        saturating = entry.get("saturating", False)
        bound = _float(entry.get("max_derivative"), f"{where}.max_derivative")
        if (bound is not None) != bool(saturating):
            raise TableError(f"{where}: a saturating kind, and only one, has a max_derivative")
        found[kind] = Activation(
            kind,
            MappingProxyType(
                {name: _names(sig, f"{where}.modules.{name}") if sig else ()
                 for name, sig in modules.items()}
            ),
            _names(entry.get("functions", []), f"{where}.functions"),
            _names(entry.get("methods", []), f"{where}.methods"),
            _names(entry.get("onnx", []), f"{where}.onnx"),
            bool(saturating),
            bound,
            output,
            bool(entry.get("parameters", False)),
        )
    return found


def _losses(data: dict) -> dict[str, Loss]:
    found: dict[str, Loss] = {}
    for key, entry in data.get("losses", {}).items():
        where = f"losses.{key}"
        expects = entry.get("expects")
        if expects not in EXPECTS:
            raise TableError(f"{where}.expects: {expects!r} is none of {sorted(EXPECTS)}")
        found[key] = Loss(
            key, entry["module"], _names(entry.get("functions", []), where), entry["expects"]
        )
    return found


def _factories(data: dict) -> dict[str, Factory]:
    found: dict[str, Factory] = {}
    for name, entry in data.get("tensor_factories", {}).items():
        where = f"tensor_factories.{name}"
        if entry.get("init") not in INITS:
            raise TableError(f"{where}.init: {entry.get('init')!r} is none of {sorted(INITS)}")
        found[name] = Factory(
            name,
            entry["init"],
            *(_float(entry.get(k), f"{where}.{k}") for k in ("variance", "mean", "constant")),
        )
    return found


def build(data: dict) -> Table:
    """The table from the parsed data file; TableError when it is malformed."""
    layers = _layers(data)
    activations = _activations(data)
    for kind, activation in activations.items():
        for name, signature in activation.modules.items():
            if name in layers:
                raise TableError(f"activations.{kind}.modules: {name} is a layer too")
            layers[name] = Layer(
                name, "activation", "activation", signature, kind, not activation.parameters
            )
    losses = _losses(data)
    sets: dict[str, frozenset[str]] = {}
    strings: dict[str, str] = {}
    for section in ("namespaces", "modules", "autograd", "tensors", "gradients", "functional",
                    "optimisers", "schedulers", "scalers", "clipping", "precision"):
        for key, value in data.get(section, {}).items():
            if isinstance(value, str):
                strings[f"{section}.{key}"] = value
            else:
                sets[f"{section}.{key}"] = frozenset(_names(value, f"{section}.{key}"))
    every = activations.values()
    return Table(
        layers=MappingProxyType(layers),
        activations=MappingProxyType(activations),
        losses=MappingProxyType(losses),
        factories=MappingProxyType(_factories(data)),
        sets=MappingProxyType(sets),
        strings=MappingProxyType(strings),
        activation_modules=_index(
            ((f"torch.nn.{m}", a.kind) for a in every for m in a.modules), "activation modules"
        ),
        activation_functions=_index(
            ((f, a.kind) for a in every for f in a.functions), "activation functions"
        ),
        activation_methods=_index(
            ((m, a.kind) for a in every for m in a.methods), "activation methods"
        ),
        activation_names=_index(
            ((n.rsplit(".", 1)[-1], a.kind) for a in every for n in (*a.functions, *a.methods)),
            "activation names",
        ),
        onnx_activations=_index(((op, a.kind) for a in every for op in a.onnx), "onnx"),
        loss_modules=_index(((f"torch.nn.{x.module}", x.key) for x in losses.values()), "losses"),
        loss_functions=_index(
            ((f, x.key) for x in losses.values() for f in x.functions), "loss functions"
        ),
    )


@cache
def table() -> Table:
    """The table, read from the package's data file on the first call."""
    text = Path(__file__).with_name(DATA).read_text(encoding="utf-8")
    return build(tomllib.loads(text))


def names(key: str) -> frozenset[str]:
    """A list of the table by ``section.key``: ``names("tensors.to_python_methods")``."""
    return table().sets[key]


# -- layers ----------------------------------------------------------------------------


def layers() -> Mapping[str, Layer]:
    """Every torch.nn constructor the interpreter builds, activations included, by class name."""
    return table().layers


def containers() -> frozenset[str]:
    return names("modules.containers")


def module_base() -> str:
    return table().strings["modules.base"]


@cache
def parameterless_modules() -> frozenset[str]:
    """torch.nn classes without parameters of their own: calling one adds no gradient source."""
    t = table()
    return (
        frozenset(name for name, layer in t.layers.items() if layer.parameterless)
        | frozenset(loss.module for loss in t.losses.values())
        | t.sets["modules.parameterless"]
    )


# -- activations -----------------------------------------------------------------------


def activations() -> Mapping[str, Activation]:
    return table().activations


@cache
def activation_kinds() -> frozenset[str]:
    return frozenset(table().activations)


@cache
def saturating_kinds() -> frozenset[str]:
    return frozenset(k for k, a in table().activations.items() if a.saturating)


def activation_module(qualified: str | None) -> str | None:
    """``torch.nn.Softmax2d`` -> ``softmax``; None for a class that is no activation."""
    return table().activation_modules.get(qualified or "")


def activation_function(qualified: str | None) -> str | None:
    """``torch.nn.functional.log_softmax`` -> ``log_softmax``."""
    return table().activation_functions.get(qualified or "")


def activation_method(name: str) -> str | None:
    """``x.softmax(dim=1)``: ``softmax`` -> ``softmax``."""
    return table().activation_methods.get(name)


def activation_named(name: str) -> str | None:
    """The kind of a function or method named ``name`` in any torch namespace, in place or
    not: ``relu_`` -> ``relu``, ``expit`` -> ``sigmoid``."""
    return table().activation_names.get(name.removesuffix("_"))


def onnx_activation(op_type: str) -> str | None:
    """``LeakyRelu`` -> ``leaky_relu``."""
    return table().onnx_activations.get(op_type)


def distribution(kind: str) -> str | None:
    """What an activation of ``kind`` outputs for the loss rules: probabilities or
    log-probabilities; None for any other activation."""
    activation = table().activations.get(kind)
    return activation.output if activation is not None else None


# -- losses ----------------------------------------------------------------------------


def losses() -> Mapping[str, Loss]:
    return table().losses


def loss_module(qualified: str | None) -> str | None:
    """``torch.nn.NLLLoss`` -> ``nll_loss``."""
    return table().loss_modules.get(qualified or "")


def loss_function(qualified: str | None) -> str | None:
    """``torch.nn.functional.cross_entropy`` -> ``cross_entropy``."""
    return table().loss_functions.get(qualified or "")


# -- autograd and tensors --------------------------------------------------------------


def no_grad_context(qualified: str | None) -> bool:
    return qualified in names("autograd.no_grad_contexts")


def parameterless_library_class(qualified: str | None) -> bool:
    libraries = names("modules.parameterless_libraries")
    return bool(qualified) and any(qualified.startswith(f"{lib}.") for lib in libraries)


def grad_switch(qualified: str | None) -> bool:
    """``torch.set_grad_enabled``: a no-grad context when its argument is False."""
    return qualified in names("autograd.grad_switches")


def tensor_factories() -> Mapping[str, Factory]:
    """Factories under ``torch`` by short name (``randn`` for ``torch.randn``)."""
    return table().factories


@cache
def tensor_factory_names() -> frozenset[str]:
    """The factories qualified: ``torch.randn``."""
    return frozenset(f"torch.{name}" for name in table().factories)


# -- training --------------------------------------------------------------------------


def optimiser_class(qualified: str | None) -> bool:
    """A class of torch.optim (not of its submodules): a listed optimiser or a newer one."""
    if not qualified:
        return False
    module, _, name = qualified.rpartition(".")
    return module == table().strings["optimisers.module"] and name[:1].isupper()


def scheduler_class(qualified: str | None) -> bool:
    if not qualified:
        return False
    return qualified.startswith(table().strings["schedulers.module"]) or qualified in names(
        "schedulers.others"
    )


@cache
def rescaling_schedulers() -> frozenset[str]:
    """Qualified: the schedulers whose rate replaces or multiplies the constructor's."""
    module = table().strings["schedulers.module"]
    return frozenset(f"{module}.{name}" for name in names("schedulers.rescaling"))


def scaler_class(qualified: str | None) -> bool:
    return bool(qualified) and (
        qualified in names("scalers.names")
        or qualified.endswith(table().strings["scalers.suffix"])
    )


@cache
def _clip_names() -> frozenset[str]:
    return frozenset(name.rsplit(".", 1)[-1] for name in names("clipping.functions"))


def clips_gradients(qualified: str | None) -> bool:
    """torch's clipping functions, and methods of other libraries of the same names."""
    return bool(qualified) and qualified.rsplit(".", 1)[-1] in _clip_names()


# -- everything, for tests and tools ---------------------------------------------------


@cache
def qualified_names() -> frozenset[str]:
    """Every qualified name the table holds (modules as ``torch.nn.X``)."""
    t = table()
    found: set[str] = {f"torch.nn.{name}" for name in t.layers}
    found |= {f"torch.nn.{name}" for name in t.sets["modules.containers"]}
    found |= {f"torch.nn.{name}" for name in t.sets["modules.parameterless"]}
    found.add(f"torch.nn.{t.strings['modules.base']}")
    found |= set(t.activation_functions) | set(t.loss_modules) | set(t.loss_functions)
    found |= tensor_factory_names()
    for values in t.sets.values():
        found |= {v for v in values if "." in v}
    optim, sched = t.strings["optimisers.module"], t.strings["schedulers.module"]
    found |= {f"{optim}.{n}" for n in t.sets["optimisers.names"]}
    found |= {f"{sched}.{n}" for n in t.sets["schedulers.names"]}
    return frozenset(found)
