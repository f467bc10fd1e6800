"""Hand-written maths in forward, folded into the operations the gain model knows.

Element-wise maths on a tensor (``pow``, ``sqrt``, ``rsqrt``, ``var``, ``norm``, ``tanh`` of a
polynomial) first become placeholder nodes (``op="opaque"``, ``attrs["math"]``). Once the walk
is over, a product or quotient of a tensor by a branch computed from that same tensor alone
is recognised for what it is:

- by a statistic of it (a reduction: ``mean``, ``var``, ``norm``, then ``sqrt``/``rsqrt``): a
  normalisation (RMSNorm and LayerNorm written out, ``x / x.norm(dim=-1, keepdim=True)``);
- by a squashing function of it (``x * sigmoid(1.702 * x)``, GELU's tanh formula): a
  self-gated activation;
- and ``x - x.mean(dim, keepdim=True)``, the centring of a hand-written LayerNorm, passes x.

Placeholders still on a path to the output afterwards make the graph incomplete, as any
call that cannot be resolved does.
"""

from __future__ import annotations

from typing import Any

from gradlint.ir import LayerGraph, Node

REDUCING = frozenset({"var", "std", "norm"})
SCALING = frozenset({"sqrt", "rsqrt", "reciprocal"})
MATH = frozenset({
    "pow", "square", "sqrt", "rsqrt", "abs", "reciprocal", "clamp", "clamp_min", "clamp_max", "clip",
    "exp", "log", "var", "std", "norm", "erf", "neg", "add_", "mul_",
})
_SQUASHES = {"tanh": "gelu", "erf": "gelu", "sigmoid": "sigmoid"}  # x·φ(x) with φ this: the gate's kind
_REDUCTIONS = frozenset({"mean", "sum", "amax"})
MAX_BRANCH = 32


def fold(graph: LayerGraph) -> list[Node]:
    """Fold the hand-written patterns in place; return the placeholders left on the path."""
    by_id = {n.id: n for n in graph.nodes}
    for node in graph.nodes:
        if len(node.inputs) != 2 or node.op not in ("gate", "add"):
            continue
        for kept, other in (node.inputs, node.inputs[::-1]):
            kind = _branch(by_id, other, kept)
            if kind is None:
                continue
            if node.op == "add" and kind[0] == "statistic" and not kind[1]:
                node.op, node.inputs = "identity", [kept]
                node.attrs["folded"] = "centring"
                break
            if node.op != "gate":
                continue
            if kind[0] == "statistic" and (kind[1] or node.attrs.get("divide")):
                node.op, node.inputs = "norm", [kept]
                node.attrs["folded"] = "normalisation by its own statistics"
                break
            if kind[0] in _SQUASHES and not node.attrs.get("divide"):
                node.inputs, node.activation = [kept], _SQUASHES[kind[0]]
                node.attrs["folded"] = f"self-gated by {kind[0]}"
                break
    live = _reaching_output(graph, by_id)
    return [n for n in graph.nodes if n.op == "opaque" and "math" in n.attrs and n.id in live]


def _branch(by_id: dict[int, Node], start: int, kept: int) -> tuple[str, bool] | None:
    """What the branch ending at ``start`` computes from ``kept`` (or what ``kept`` is computed
    from) alone: ("statistic", scaled) when it reduces, (squash, False) when it applies one
    squashing activation; None when anything else feeds it."""
    sources = _ancestors(by_id, kept)
    seen: set[int] = set()
    pending = [start]
    reduces = scaled = False
    squashes: list[str] = []
    while pending:
        nid = pending.pop()
        if nid in sources or nid in seen:
            continue
        seen.add(nid)
        if len(seen) > MAX_BRANCH:
            return None
        node = by_id.get(nid)
        if node is None:
            return None
        math = node.attrs.get("math")
        if node.op == "opaque" and math:
            reduces = reduces or math in REDUCING
            scaled = scaled or math in SCALING
            if math == "erf":
                squashes.append("erf")
        elif node.op == "pool" and node.attrs.get("function") in _REDUCTIONS:
            reduces = True
        elif node.op == "activation" and node.activation in _SQUASHES:
            squashes.append(node.activation)
        elif node.op == "gate" and not node.has_weight and node.inputs and set(node.inputs) <= sources:
            pass  # ``x * x``: the square a statistic of x reduces (litgpt's RMSNorm)
        elif node.op not in ("identity", "add") or node.has_weight:
            return None
        if not node.inputs:
            return None  # an input of the model of its own: not a function of ``kept``
        pending.extend(node.inputs)
    if not seen & set(by_id) or not any(i in sources for n in seen for i in by_id[n].inputs):
        return None
    if reduces:
        return ("statistic", scaled)
    if len(squashes) == 1:
        return (squashes[0], False)
    return None


def _ancestors(by_id: dict[int, Node], start: int) -> set[int]:
    found = {start}
    pending = [start]
    while pending and len(found) < 4 * MAX_BRANCH:
        node = by_id.get(pending.pop())
        for i in node.inputs if node is not None else ():
            if i not in found:
                found.add(i)
                pending.append(i)
    return found


def _reaching_output(graph: LayerGraph, by_id: dict[int, Any]) -> set[int]:
    outputs = [n.id for n in graph.nodes if n.op == "output"]
    found = set(outputs)
    pending = list(outputs)
    while pending:
        node = by_id.get(pending.pop())
        for i in node.inputs if node is not None else ():
            if i not in found:
                found.add(i)
                pending.append(i)
    return found
