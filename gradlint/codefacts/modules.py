"""What each class of a file declares in its methods: submodules, parameters, buffers, frozen parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from gradlint import torch_api
from gradlint.codefacts.syntax import (
    argument,
    cached_fact,
    classes_of,
    imports_of,
    method_call,
    methods,
    statements,
    walk,
)
from gradlint.names import ImportMap, canonical_torch, dotted


@dataclass
class ClassFacts:
    node: cst.ClassDef
    methods: dict[str, cst.FunctionDef]
    submodules: dict[str, str | None] = field(default_factory=dict)  # attr -> type name
    parameters: set[str] = field(default_factory=set)
    plain: set[str] = field(default_factory=set)  # buffers, tensors, numbers: no gradient source
    parameterless: set[str] = field(default_factory=set)
    handed: set[str] = field(default_factory=set)  # bound from a constructor argument
    calls: set[str] = field(default_factory=set)  # dotted names the methods call
    hooks: dict[str, list[str]] = field(default_factory=dict)  # attr -> its forward-hook methods

    @property
    def name(self) -> str:
        return self.node.name.value

    def describe(self, attr: str) -> str:
        kind = self.submodules.get(attr)
        if attr in self.parameters:
            kind = "Parameter"
        return f"self.{attr} ({kind})" if kind else f"self.{attr}"


def _self_attr(expr: cst.BaseExpression) -> str | None:
    name = dotted(expr)
    if name and name.startswith("self.") and name.count(".") == 1:
        return name[5:]
    return None


def class_facts(cls: cst.ClassDef, imports: ImportMap) -> ClassFacts:
    facts = ClassFacts(cls, methods(cls))
    called: set[str] = set()
    for base in cls.bases:
        name = canonical_torch(imports.qualify(base.value)) or ""
        layer = name.rsplit(".", 1)[-1]
        if (
            name.startswith("torch.nn.")
            and layer != torch_api.module_base()
            and layer not in torch_api.containers()
            and layer not in torch_api.parameterless_modules()
        ):
            facts.parameters |= {
                "weight",
                "bias",
            }  # a subclass of a torch layer inherits its parameters
    for func in facts.methods.values():
        for node in walk(func):
            if type(node) is cst.Assign:
                for target in node.targets:
                    attr = _self_attr(target.target)
                    if attr is not None:
                        _record(facts, attr, node.value, imports)
            elif type(node) is cst.AnnAssign and node.value is not None:
                attr = _self_attr(node.target)
                if attr is not None:
                    _record(facts, attr, node.value, imports)
            elif type(node) is cst.Call:
                callee = dotted(node.func) or ""
                facts.calls.add(callee)
                if callee.startswith("self.") and callee.count(".") == 1:
                    called.add(callee[5:])
                found = method_call(node)
                if found and found[1] == "register_forward_hook":
                    _record_hook(facts, found[0], argument(node, 0, "hook"))
                if (
                    found
                    and dotted(found[0]) == "self"
                    and found[1] in ("register_buffer", "register_parameter", "add_module")
                ):
                    name = argument(node, 0, "name")
                    if type(name) is cst.SimpleString:
                        attr = name.evaluated_value
                        if found[1] == "register_buffer":
                            facts.plain.add(attr)
                        elif found[1] == "register_parameter":
                            facts.parameters.add(attr)
                        else:
                            facts.submodules[attr] = None
    for attr in facts.handed - set(facts.submodules) - facts.parameters:
        if attr in called:
            facts.submodules[attr] = None  # called like a module: it may hold parameters
        else:
            facts.plain.add(attr)
    return facts


def _record_hook(facts: ClassFacts, module: cst.BaseExpression, hook) -> None:
    """``self.backbone.layer4.register_forward_hook(self._store)``: ``_store`` runs whenever
    ``self.backbone`` does."""
    owner = dotted(_strip_index(module)) or ""
    method = dotted(hook) if hook is not None else None
    if owner.startswith("self.") and method and method.startswith("self.") and method.count(".") == 1:
        facts.hooks.setdefault(owner.split(".")[1], []).append(method[5:])


def _strip_index(expr: cst.BaseExpression) -> cst.BaseExpression:
    while type(expr) is cst.Subscript:
        expr = expr.value
    return expr


def _record(facts: ClassFacts, attr: str, value: cst.BaseExpression, imports: ImportMap) -> None:
    if attr in facts.submodules or attr in facts.parameters:
        return  # the first binding (in __init__) says what the attribute is
    if type(value) is not cst.Call:
        if (
            type(value) is cst.Name
            and value.value not in ("None", "True", "False")
            and attr not in facts.plain
        ):
            facts.handed.add(
                attr
            )  # a module handed to the constructor, or a number: decided by its use
        else:
            facts.plain.add(attr)
        return
    name = canonical_torch(imports.qualify(value.func)) or ""
    short = name.rsplit(".", 1)[-1]
    if name in torch_api.names("modules.parameter_classes"):
        facts.parameters.add(attr)
    elif (
        name in torch_api.names("modules.buffer_classes")
        or name in torch_api.tensor_factory_names()
        or name.startswith(("math.", "float", "int", "np.", "numpy."))
    ):
        facts.plain.add(attr)
    elif (
        name.startswith("torch.nn.") and short in torch_api.parameterless_modules()
    ) or torch_api.parameterless_library_class(imports.qualify(value.func)):
        facts.parameterless.add(attr)
        facts.submodules[attr] = short
    elif short[:1].isupper() or name.startswith(("copy.deepcopy", "deepcopy")):
        facts.submodules[attr] = short if short[:1].isupper() else None
    else:
        facts.plain.add(attr)


def frozen_attributes(module: cst.Module, roots: list[cst.CSTNode] | None = None) -> set[str]:
    """Attributes whose parameters are frozen on purpose anywhere in the file (in ``roots``,
    when the caller knows that the rest of the file says nothing of it).

    ``self.backbone.requires_grad_(False)``, ``for p in self.target.parameters():
    p.requires_grad = False``, ``self.teacher = copy.deepcopy(...)``.
    """
    frozen: set[str] = set()
    for node in (n for root in (roots or [module]) for n in walk(root)):
        if type(node) is cst.Call:
            found = method_call(node)
            if found and found[1] == "requires_grad_":
                flag = argument(node, 0, "requires_grad")
                if type(flag) is cst.Name and flag.value == "False":
                    name = _attr_of(found[0])
                    if name:
                        frozen.add(name)
        elif type(node) is cst.For and type(node.iter) is cst.Call:
            found = method_call(node.iter)
            if (
                found
                and found[1] in ("parameters", "named_parameters")
                and "requires_grad" in _code(node.body)
            ):
                name = _attr_of(found[0])
                if name:
                    frozen.add(name)
                if found[1] == "named_parameters":
                    frozen |= _prefixes_tested(node.body)
        elif type(node) is cst.Assign and type(node.value) is cst.Call:
            callee = dotted(node.value.func) or ""
            if callee.endswith("deepcopy"):
                for target in node.targets:
                    name = _attr_of(target.target)
                    if name:
                        frozen.add(name)
    return frozen


def _prefixes_tested(body: cst.CSTNode) -> set[str]:
    """The submodules a ``for name, p in model.named_parameters()`` loop picks by name before it
    sets ``requires_grad``: ``if name.startswith("bert")``, ``if "encoder." in name``."""
    prefixes: set[str] = set()
    for node in walk(body):
        text = None
        if type(node) is cst.Call:
            found = method_call(node)
            if found and found[1] == "startswith" and node.args:
                text = node.args[0].value
        elif type(node) is cst.Comparison and type(node.comparisons[0].operator) is cst.In:
            text = node.left
        if type(text) is cst.SimpleString:
            head = text.evaluated_value
            head = head.split(".", 1)[0] if isinstance(head, str) else ""
            if head.isidentifier():
                prefixes.add(head)
    return prefixes


# what a copy kept out of training is called: a teacher, a target or EMA/momentum copy
UNTRAINED_NAME = re.compile(r"(?:^|_)(?:teacher|target|tgt|ema|momentum|frozen|fixed)(?:_|\d|$)", re.IGNORECASE)
# in-place writes of a parameter: an EMA or momentum update, a copy from another network
_WRITES = frozenset({"copy_", "mul_", "add_", "lerp_", "sub_", "fill_", "zero_"})


def untrained_attributes(module: cst.Module, frozen: set[str] | None = None) -> set[str]:
    """Attributes the code says the optimiser does not train, beyond the frozen ones: a copy
    whose parameters a loop writes (``for q, k in zip(self.q.parameters(), self.k.parameters()):
    k.data.mul_(m).add_(q.data, alpha=1 - m)``), one synced by ``load_state_dict``, one put
    in ``eval()`` mode, and one named a teacher, a target or an EMA/momentum copy
    (``frozen``: the file's ``frozen_attributes``, when known already)."""
    found = set(frozen_attributes(module) if frozen is None else frozen)
    for node in walk(module):
        if type(node) is cst.For:
            for var, attr in _loop_parameters(node):
                if _writes(node.body, var):
                    found.add(attr)
        elif type(node) is cst.Call:
            call = method_call(node)
            if call and call[1] in ("load_state_dict", "eval") and not node.args[1:]:
                name = _attr_of(call[0]) if (dotted(call[0]) or "").startswith("self.") else None
                if name and (call[1] == "eval" or node.args):
                    found.add(name)
        elif type(node) in (cst.Assign, cst.AnnAssign):
            targets = node.targets if type(node) is cst.Assign else [node]
            for target in targets:
                name = dotted(target.target) or ""
                if name.startswith("self.") and UNTRAINED_NAME.search(name[5:]):
                    found.add(name[5:])
    return found


def _loads_weights(call: cst.Call) -> bool:
    """``resnet152(pretrained=True)``, ``resnet50(weights=...)``, ``X.from_pretrained(...)``,
    ``torch.hub.load(...)``: a network with trained weights."""
    found = method_call(call)
    if found and found[1] == "from_pretrained" or (dotted(call.func) or "").endswith("hub.load"):
        return True
    for arg in call.args:
        off = type(arg.value) is cst.Name and arg.value.value in ("None", "False")
        if arg.keyword is not None and arg.keyword.value in ("pretrained", "weights") and not off:
            return True
    return False


def pretrained_attributes(cls: cst.ClassDef) -> set[str]:
    """Attributes that a method of ``cls`` binds to a network with loaded weights, or to what is
    made of it (``resnet = resnet152(pretrained=True); self.resnet = nn.Sequential(*list(
    resnet.children())[:-1])``): a pretrained network run under no_grad extracts features on
    purpose."""
    found: set[str] = set()
    for func in walk(cls):
        if type(func) is not cst.FunctionDef:
            continue
        assigns = [n for n in walk(func) if type(n) is cst.Assign]
        loaded: set[str] = set()
        for _ in range(3):  # the walk is not in source order: a few rounds reach the chains
            for node in assigns:
                if not any(
                    type(n) is cst.Call and _loads_weights(n)
                    or type(n) is cst.Name and n.value in loaded
                    for n in walk(node.value)
                ):
                    continue
                for target in node.targets:
                    if type(target.target) is cst.Name:
                        loaded.add(target.target.value)
                    elif (attr := _self_attr(target.target)) is not None:
                        found.add(attr)
    return found


def _loop_parameters(loop: cst.For) -> list[tuple[str, str]]:
    """(loop variable, attribute) for ``for p in self.x.parameters()`` and for each member of
    ``for a, b in zip(self.x.parameters(), self.y.parameters())``."""
    iters: list[cst.BaseExpression] = [loop.iter]
    targets: list[cst.BaseExpression] = [loop.target]
    if type(loop.iter) is cst.Call and dotted(loop.iter.func) == "zip":
        iters = [a.value for a in loop.iter.args]
        targets = [e.value for e in loop.target.elements] if type(loop.target) is cst.Tuple else []
    pairs = []
    for target, source in zip(targets, iters):
        call = method_call(source) if type(source) is cst.Call else None
        if call and call[1] in ("parameters", "named_parameters", "state_dict") and type(target) is cst.Name:
            name = _attr_of(call[0])
            if name:
                pairs.append((target.value, name))
    return pairs


def _writes(body: cst.CSTNode, var: str) -> bool:
    for node in walk(body):
        if type(node) is cst.Call:
            call = method_call(node)
            base = dotted(call[0]) if call else None
            if call and call[1] in _WRITES and base in (var, f"{var}.data"):
                return True
        elif type(node) is cst.Assign:
            for target in node.targets:
                if dotted(target.target) in (f"{var}.data", f"{var}.requires_grad"):
                    return True
    return False


def _attr_of(expr: cst.BaseExpression) -> str | None:
    name = dotted(expr)
    if name is None:
        return None
    return name.rsplit(".", 1)[-1]


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def module_classes(source, keep=None) -> dict[str, ClassFacts]:
    """Classes with a ``forward`` method: the nn.Module classes of the file (those ``keep``
    accepts, when given). Facts cost a walk over every method, so each class's are
    worked out once per file, whichever rules ask."""
    imports = imports_of(source)
    known: dict[cst.ClassDef, ClassFacts] = cached_fact(source, "class_facts", dict)
    modules = cached_fact(source, "forward_classes", lambda: [
        cls for cls in classes_of(source) if "forward" in methods(cls)
    ])
    found = {}
    for cls in modules:
        if keep is not None and not keep(cls):
            continue
        facts = known.get(cls)
        if facts is None:
            facts = known[cls] = class_facts(cls, imports)
        found[facts.name] = facts
    return found


def root_classes(classes: dict[str, ClassFacts], imports: ImportMap) -> list[str]:
    """Classes no other class of the file builds as a submodule: the candidate models."""
    used: set[str] = set()
    for facts in classes.values():
        called = set(facts.calls)  # the methods were walked for the facts already
        for node in _outside_methods(facts):
            for inner in walk(node):
                if type(inner) is cst.Call:
                    called.add(dotted(inner.func) or "")
        used |= {name for name in called if name in classes and name != facts.name}
    return [name for name in classes if name not in used]


def _outside_methods(facts: ClassFacts) -> list[cst.CSTNode]:
    """The parts of a class that ``class_facts`` does not walk: decorators, bases, keywords
    and the statements of its body other than its methods."""
    walked = {id(func) for func in facts.methods.values()}
    node = facts.node
    body = node.body.body if type(node.body) is cst.IndentedBlock else [node.body]
    return [*node.decorators, *node.bases, *node.keywords, *(s for s in body if id(s) not in walked)]


def top_level_statements(module: cst.Module) -> list[cst.BaseStatement]:
    """Module-level code, including ``if __name__ == "__main__":`` blocks; defs are skipped."""
    return [s for s in module.body if type(s) not in (cst.FunctionDef, cst.ClassDef)]


__all__ = [
    "ClassFacts",
    "class_facts",
    "frozen_attributes",
    "module_classes",
    "pretrained_attributes",
    "root_classes",
    "statements",
    "untrained_attributes",
]
