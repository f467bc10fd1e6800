"""GL701 and GL702: what a model holds, registered so that ``parameters()`` sees it.

- GL701: a plain list, tuple or dict of layers wrapped in ``nn.ModuleList`` / ``nn.ModuleDict``.
- GL702: a learnable tensor wrapped in ``nn.Parameter``.

Only the assigned value is edited, and only when nothing else in the class assigns the
attribute (``self.w = self.w.to(device)`` would then fail on a Parameter).
"""

from __future__ import annotations

import libcst as cst

from gradlint.codefacts.syntax import walk
from gradlint.diagnostics import Finding, Fix
from gradlint.fixes import make_fix
from gradlint.fixes._tree import FixTree, Span
from gradlint.names import dotted

_LISTS = (cst.List, cst.ListComp, cst.Tuple, cst.GeneratorExp)
_DICTS = (cst.Dict, cst.DictComp)


def repair(tree: FixTree, finding: Finding) -> Fix | None:
    node = tree.at(finding, (cst.Assign, cst.AnnAssign))
    prefix = tree.nn_prefix()
    if node is None or node.value is None or prefix is None:
        return None
    target = node.targets[0].target if type(node) is cst.Assign else node.target
    if type(node) is cst.Assign and len(node.targets) != 1:
        return None
    if type(target) is not cst.Attribute or _assigned_elsewhere(
        tree, node, dotted(target), finding.code == "GL701"
    ):
        return None
    value = node.value
    uses = _filled_later(tree, node, dotted(target))
    if finding.code == "GL701" and uses is None:
        return None
    if finding.code == "GL702":
        return _wrap(
            tree,
            finding,
            value,
            f"{prefix}.Parameter",
            "Wrap the tensor in `nn.Parameter`",
            inner=_without_requires_grad(tree, value),
        )
    if (type(value) is cst.Name and _local_list(tree, node, value.value)) or _returns_a_list(
        tree, node, value
    ):
        return _wrap(
            tree, finding, value, f"{prefix}.ModuleList", "Keep the layers in an `nn.ModuleList`"
        )
    if isinstance(value, _LISTS) or _empty_call(value, "list"):
        return _wrap(
            tree, finding, value, f"{prefix}.ModuleList", "Keep the layers in an `nn.ModuleList`"
        )
    if isinstance(value, _DICTS) or _empty_call(value, "dict"):
        if uses == "keys that are not strings":
            return None  # an nn.ModuleDict takes string keys only
        safety = None if _string_keys(value) or uses == "string keys" else "unsafe"
        return _wrap(
            tree,
            finding,
            value,
            f"{prefix}.ModuleDict",
            "Keep the layers in an `nn.ModuleDict`",
            safety,
        )
    return None


def _wrap(
    tree: FixTree,
    finding: Finding,
    value: cst.BaseExpression,
    wrapper: str,
    what: str,
    safety=None,
    inner: str | None = None,
) -> Fix:
    span = _with_parentheses(tree, value)
    code = tree.text[span.start : span.end]
    if type(value) is cst.Tuple:  # the parentheses are the tuple's: a list goes in their place
        inner = "[" + tree.code(value) + "]"
    elif inner is not None:
        pass
    elif (
        _empty_call(value, "list")
        or _empty_call(value, "dict")
        or (type(value) in (cst.List, cst.Dict) and not _items(value))
    ):
        inner = ""
    else:
        inner = code
    return make_fix(finding, what, [tree.edit(span.start, span.end, f"{wrapper}({inner})")], safety)


def _without_requires_grad(tree: FixTree, value: cst.BaseExpression) -> str | None:
    """``torch.randn(3, requires_grad=True)`` as ``torch.randn(3)``: a Parameter asks for it."""
    if type(value) is not cst.Call:
        return None
    args = list(value.args)
    for index, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == "requires_grad":
            if not (type(arg.value) is cst.Name and arg.value.value == "True"):
                return None
            if index > 0 and index == len(args) - 1:
                args[index - 1] = args[index - 1].with_changes(comma=arg.comma)
            del args[index]
            return tree.module.code_for_node(value.with_changes(args=args))
    return None


def _local_list(tree: FixTree, assign: cst.CSTNode, name: str, func=None) -> bool:
    """Whether the function binds ``name`` to a list, and to nothing else."""
    func = func or tree.enclosing(assign, cst.FunctionDef)
    bound = []
    stack = [func] if func is not None else []
    while stack:
        node = stack.pop()
        if type(node) is cst.Assign and any(
            type(t.target) is cst.Name and t.target.value == name for t in node.targets
        ):
            bound.append(node.value)
        elif (
            type(node) is cst.For
            and type(node.target) is cst.Name
            and node.target.value == name
        ):
            return False
        stack.extend(node.children)
    return bool(bound) and all(
        type(v) in (cst.List, cst.ListComp) or _empty_call(v, "list") for v in bound
    )


def _returns_a_list(tree: FixTree, assign: cst.CSTNode, value: cst.BaseExpression) -> bool:
    """``self._make(depth)`` where the class's ``_make`` returns a list it builds."""
    if type(value) is not cst.Call or not (dotted(value.func) or "").startswith("self."):
        return False
    owner = tree.enclosing(assign, cst.ClassDef)
    name = dotted(value.func).split(".", 1)[1]
    method = (
        next(
            (s for s in owner.body.body if type(s) is cst.FunctionDef and s.name.value == name),
            None,
        )
        if owner is not None
        else None
    )
    if method is None:
        return False
    returns = [n.value for n in walk(method) if type(n) is cst.Return]
    return bool(returns) and all(
        type(r) in (cst.List, cst.ListComp)
        or (type(r) is cst.Name and _local_list(tree, assign, r.value, method))
        for r in returns
    )


def _with_parentheses(tree: FixTree, node: cst.BaseExpression) -> Span:
    """The node's span with the parentheses around it, which libcst's positions leave out."""
    span = tree.span(node)
    start, end = span.start, span.end
    for _ in getattr(node, "lpar", ()):
        start = tree.text.rindex("(", 0, start)
    for _ in getattr(node, "rpar", ()):
        end = tree.text.index(")", end) + 1
    return Span(start, end)


def _filled_later(tree: FixTree, assign: cst.CSTNode, name: str | None) -> str | None:
    """How the class fills the container afterwards, as far as a container of modules cares:
    None when it appends something a ModuleList refuses (a list, a tuple: pairs unpacked in
    forward), "keys that are not strings" for ``self.d[0] = ...`` or a ``range`` loop's
    variable, "string keys" when every key is a string literal, else "unknown"."""
    owner = tree.enclosing(assign, cst.ClassDef)
    keys: list[cst.BaseExpression] = []
    for node in walk(owner) if owner is not None else ():
        if _adds_a_container(node, name):
            return None
        if type(node) is cst.Subscript and dotted(node.value) == name:
            parent = tree.parent(node)
            if type(parent) is cst.AssignTarget and node.slice:
                index = node.slice[0].slice
                if type(index) is cst.Index:
                    keys.append(index.value)
    if not keys:
        return "unknown"
    if any(type(k) in (cst.Integer, cst.Float) or _ranges_over_numbers(tree, k) for k in keys):
        return "keys that are not strings"
    if all(type(k) in (cst.SimpleString, cst.FormattedString) for k in keys):
        return "string keys"
    return "unknown"


def _adds_a_container(node: cst.CSTNode, name: str | None) -> bool:
    """``self.x.append([a, b])``: an element a ModuleList would refuse."""
    return (
        type(node) is cst.Call
        and type(node.func) is cst.Attribute
        and dotted(node.func.value) == name
        and node.func.attr.value in ("append", "insert")
        and any(type(a.value) in (cst.List, cst.Tuple, cst.Dict) for a in node.args)
    )


def _ranges_over_numbers(tree: FixTree, key: cst.BaseExpression) -> bool:
    """``rel`` of ``for rel in range(3): self.d[rel] = ...``."""
    if type(key) is not cst.Name:
        return False
    for up in tree.ancestors(key):
        if (
            type(up) is cst.For
            and type(up.target) is cst.Name
            and up.target.value == key.value
        ):
            return type(up.iter) is cst.Call and dotted(up.iter.func) in ("range", "enumerate")
    return False


def _items(value: cst.BaseExpression) -> list:
    return list(value.elements)


def _empty_call(value: cst.BaseExpression, name: str) -> bool:
    return type(value) is cst.Call and dotted(value.func) == name and not value.args


def _string_keys(value: cst.BaseExpression) -> bool:
    """Keys that are strings as written; an empty dict is filled later with keys unseen."""
    if type(value) is cst.Dict:
        elements = list(value.elements)
        return bool(elements) and all(
            type(e) is cst.DictElement
            and type(e.key) in (cst.SimpleString, cst.FormattedString)
            for e in elements
        )
    if type(value) is cst.DictComp:
        return type(value.key) in (cst.SimpleString, cst.FormattedString)
    return False


def _assigned_elsewhere(
    tree: FixTree, assign: cst.CSTNode, name: str | None, extended_ok: bool
) -> bool:
    """Whether the class assigns ``name`` in a way a Parameter or ModuleList would break:
    from itself (``self.w = self.w.to(device)``) or in another method. Branches of the same
    method that each create it (``if`` / ``else`` shapes) are each a finding of their own."""
    owner = tree.enclosing(assign, cst.ClassDef)
    method = tree.enclosing(assign, cst.FunctionDef)
    if owner is None or name is None:
        return True
    kinds = (
        (cst.Assign, cst.AnnAssign) if extended_ok else (cst.Assign, cst.AugAssign, cst.AnnAssign)
    )
    stack = [owner]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node is assign or not isinstance(node, kinds):
            continue
        targets = (
            [t.target for t in node.targets] if type(node) is cst.Assign else [node.target]
        )
        if not any(dotted(t) == name for t in targets):
            continue
        value = node.value
        reads_itself = value is not None and any(
            type(n) is cst.Attribute and dotted(n) == name for n in walk(value)
        )
        if (
            reads_itself
            or type(node) is cst.AugAssign
            or tree.enclosing(node, cst.FunctionDef) is not method
        ):
            return True
    return False
