"""GL401-GL403: an output activation in front of a loss that expects something else.

- GL401 (softmax before CrossEntropyLoss), GL403 (sigmoid before BCEWithLogitsLoss): the
  activation is taken off the training path, its input passed on instead
  (``F.softmax(z, 1)`` -> ``z``; an ``nn.Softmax()`` element of an ``nn.Sequential`` dropped).
- GL402 (softmax before NLLLoss): the softmax becomes a log-softmax.

Inside the loss call's own arguments the edit changes nothing but the loss: safe. Anywhere
else (a model's ``forward``, a layer of its ``nn.Sequential``) it changes what the model
returns to every other caller: unsafe. When the activation is in another file than the
loss, the loss's file is edited: its input gets a ``.log()`` (``log_softmax(log p) ==
log_softmax(z)``, so CrossEntropyLoss and NLLLoss see what they expect), and the fix says
which file holds the softmax.
"""

from __future__ import annotations

import libcst as cst

from gradlint.codefacts.syntax import walk
from gradlint.diagnostics import Finding, Fix
from gradlint.fixes import make_fix
from gradlint.fixes._moves import empties_its_block
from gradlint.fixes._tree import FixTree
from gradlint.names import dotted

_ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.Integer,
    cst.Float,
    cst.SimpleString,
)
_CLASSES = {"Softmax": "LogSoftmax"}


def repair(tree: FixTree, finding: Finding) -> Fix | None:
    loss = tree.at(finding, (cst.Call,))
    span = finding.extra.get("activation_span")
    if loss is None or not span:
        return None
    if "activation_path" in finding.extra:
        return _log_of_input(tree, finding, loss)
    start = tree.offset(span[0], span[1] - 1)
    end = tree.offset(span[2], span[3] - 1)
    activation = tree.node_at(start, end, (cst.Call,))
    if activation is None:
        return None
    inline = any(up is loss for up in tree.ancestors(activation))
    local = None if inline else _only_for_the_loss(tree, activation, loss)
    safety = None if inline or local is not None else "unsafe"
    if local is not None and finding.code != "GL402":
        return _inline_input(tree, finding, activation, local)
    if finding.code == "GL402":
        return _to_log_softmax(tree, finding, activation, safety)
    return _remove(tree, finding, activation, safety)


def _remove(tree: FixTree, finding: Finding, activation: cst.Call, safety) -> Fix | None:
    name = (dotted(activation.func) or "").rsplit(".", 1)[-1]
    if name[:1].isupper():  # a layer object: nn.Softmax(dim=1)
        return _drop_layer(tree, finding, activation)
    given = _input_of(activation)
    if given is None:
        return None
    code = tree.code(given)
    # a generator's parentheses were the call's; anything looser than an atom may need its own
    if type(given) is cst.GeneratorExp or (
        not isinstance(given, _ATOMS) and not _stands_alone(tree, activation)
    ):
        code = f"({code})"
    span = tree.span(activation)
    what = "softmax" if finding.code == "GL401" else "sigmoid"
    where = "" if safety is None else " (the model then returns logits to every caller)"
    return make_fix(
        finding,
        f"Pass the logits: remove the {what}{where}",
        [tree.edit(span.start, span.end, code)],
        safety,
    )


def _drop_layer(tree: FixTree, finding: Finding, layer: cst.Call) -> Fix | None:
    """An activation layer taken out of ``nn.Sequential(...)`` or ``layers.append(...)``."""
    arg = tree.parent(layer)
    owner = tree.parent(arg) if type(arg) is cst.Arg else None
    if type(owner) is not cst.Call:
        return None
    owner_name = (dotted(owner.func) or "").rsplit(".", 1)[-1]
    if owner_name == "append":
        statement = tree.statement(owner)
        if (
            statement is None
            or not tree.alone_on_its_lines(statement)
            or empties_its_block(tree, statement)
        ):
            return None
        lines = tree.lines(statement)
        return make_fix(
            finding,
            "Take the activation layer off the model",
            [tree.edit(lines.start, lines.end, "")],
            "unsafe",
        )
    if owner_name != "Sequential" or len(owner.args) < 2:
        return None
    args = list(owner.args)
    index = args.index(arg)
    own = tree.lines(arg)
    value = tree.span(arg.value)
    after = tree.span(arg).end
    if not tree.text[own.start : value.start].strip() and not tree.text[
        after : own.end
    ].strip().strip(","):
        start, end = own.start, own.end  # on lines of its own: those lines go
    elif index == len(args) - 1:  # the last: from the comma before it, keeping its own
        start, end = tree.span(args[index - 1].value).end, value.end
    else:
        start, end = tree.span(arg).start, tree.span(args[index + 1]).start
    return make_fix(
        finding, "Take the activation layer off the model", [tree.edit(start, end, "")], "unsafe"
    )


def _to_log_softmax(tree: FixTree, finding: Finding, activation: cst.Call, safety) -> Fix | None:
    func = activation.func
    name = (
        func.attr
        if type(func) is cst.Attribute
        else func
        if type(func) is cst.Name
        else None
    )
    if name is None:
        return None
    if name.value in ("softmax", "Softmax"):
        new = "log_softmax" if name.value == "softmax" else _CLASSES[name.value]
        span = tree.span(name)
        return make_fix(
            finding,
            f"Feed log-probabilities: `{new}` instead of `{name.value}`",
            [tree.edit(span.start, span.end, new)],
            safety,
        )
    return _module_to_log_softmax(tree, finding, activation)


def _module_to_log_softmax(tree: FixTree, finding: Finding, call: cst.Call) -> Fix | None:
    """``self.softmax(h)`` whose ``self.softmax = nn.Softmax(...)`` serves nothing else."""
    attribute = dotted(call.func)
    owner = tree.enclosing(call, cst.ClassDef)
    if attribute is None or owner is None:
        return None
    uses, layer = 0, None
    for node in walk(owner):
        if type(node) is cst.Attribute and dotted(node) == attribute:
            uses += 1
        if type(node) is cst.Assign and any(
            dotted(t.target) == attribute for t in node.targets
        ):
            layer = node.value
    if uses != 2 or type(layer) is not cst.Call or type(layer.func) is not cst.Attribute:
        return None
    if layer.func.attr.value != "Softmax":
        return None
    span = tree.span(layer.func.attr)
    return make_fix(
        finding,
        f"Feed log-probabilities: `{attribute}` becomes an `nn.LogSoftmax`",
        [tree.edit(span.start, span.end, "LogSoftmax")],
        "unsafe",
    )


def _log_of_input(tree: FixTree, finding: Finding, loss: cst.Call) -> Fix | None:
    """The loss's file edited when the softmax is in another: ``loss(p.log(), y)``."""
    if finding.code == "GL403":
        return None
    args = [a for a in loss.args if a.keyword is None and not a.star]
    if not args:
        return None
    given = args[0].value
    code = tree.code(given)
    code = f"{code}.log()" if isinstance(given, _ATOMS) else f"({code}).log()"
    span = tree.span(given)
    other = finding.extra["activation_path"]
    return make_fix(
        finding,
        f"Edits this file, not {other} where the softmax is: the loss gets log-probabilities "
        f"(`.log()`); removing the softmax there is the cleaner repair",
        [tree.edit(span.start, span.end, code)],
        "unsafe",
    )


def _input_of(call: cst.Call) -> cst.BaseExpression | None:
    """``z`` of ``F.softmax(z, 1)``, ``torch.sigmoid(z)``, ``self.act(z)`` and ``z.softmax(-1)``."""
    positional = [a.value for a in call.args if a.keyword is None and not a.star]
    first = positional[0] if positional else None
    is_dim = type(first) is cst.Integer or (
        type(first) is cst.UnaryOperation and type(first.expression) is cst.Integer
    )
    if (first is None or is_dim) and type(call.func) is cst.Attribute:
        return call.func.value
    return first


def _stands_alone(tree: FixTree, node: cst.CSTNode) -> bool:
    parent = tree.parent(node)
    return type(parent) in (cst.Arg, cst.Return, cst.Assign, cst.AnnAssign, cst.Element, cst.Expr)


def _only_for_the_loss(tree: FixTree, activation: cst.Call, loss: cst.Call) -> cst.Name | None:
    """The one read, by the loss, of ``p`` in ``p = F.softmax(z, 1)`` of the same function."""
    assign = tree.parent(activation)
    if type(assign) is not cst.Assign or len(assign.targets) != 1:
        return None
    target = assign.targets[0].target
    func = tree.enclosing(activation, cst.FunctionDef) or tree.module  # a script's own code too
    if (
        type(target) is not cst.Name
        or (tree.enclosing(loss, cst.FunctionDef) or tree.module) is not func
    ):
        return None
    reads = [
        n
        for n in walk(func)
        if type(n) is cst.Name and n.value == target.value and n is not target
    ]
    if len(reads) == 1 and any(up is loss for up in tree.ancestors(reads[0])):
        return reads[0]
    return None


def _inline_input(
    tree: FixTree, finding: Finding, activation: cst.Call, read: cst.Name
) -> Fix | None:
    """``p = F.softmax(z, 1)`` read only by the loss: the line goes, the loss reads ``z``."""
    given = _input_of(activation)
    statement = tree.statement(activation)
    if (
        type(given) is not cst.Name
        or statement is None
        or not tree.alone_on_its_lines(statement)
        or empties_its_block(tree, statement)
    ):
        return None
    func = tree.enclosing(activation, cst.FunctionDef) or tree.module
    start, end = tree.span(statement).end, tree.span(read).start
    for node in walk(func):
        bound = type(node) is cst.Name and node.value == given.value and node is not given
        if bound and start <= tree.span(node).start < end and _is_target(tree, node):
            return None  # ``z`` is bound again between the two lines
    lines = tree.lines(statement)
    span = tree.span(read)
    what = "softmax" if finding.code == "GL401" else "sigmoid"
    return make_fix(
        finding,
        f"Pass the logits: remove the {what}",
        [tree.edit(lines.start, lines.end, ""), tree.edit(span.start, span.end, given.value)],
    )


def _is_target(tree: FixTree, name: cst.Name) -> bool:
    """A name that is assigned to, not read: ``z = ...``, ``z += ...``, ``for z in ...``."""
    parent = tree.parent(name)
    return type(parent) in (cst.AssignTarget, cst.AugAssign, cst.For, cst.NamedExpr, cst.AnnAssign) and (getattr(parent, "target", None) is name)
