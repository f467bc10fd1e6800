"""Attention in forward: which tensors are its queries, keys and values.

``F.scaled_dot_product_attention(q, k, v)`` names them; hand-written attention computes
``softmax(q @ kᵀ · scale) @ v``, and the second product, whose left operand is a softmax
over the first, is the attention. Its node records each role as ``[node, piece]``, the
piece ``(i, n)`` when ``q, k, v`` are equal pieces of one projection (``c_attn(x).split``),
so that the gain model can give each part of a packed projection its own gradient.
"""

from __future__ import annotations

from typing import Any

from gradlint.frontends.python.values import Site, Tensor

# nodes a softmax's scores pass through on their way to the product with the values
_BETWEEN = ("dropout", "identity", "add", "activation")


def role(t: Tensor) -> list:
    return [t.node, list(t.piece) if t.piece is not None else None]


def attend(builder: Any, qkv: list[Tensor], causal: bool, name: str, site: Site | None) -> Tensor:
    """An attention whose query, key and value tensors are known."""
    ids: list[int] = []
    for t in qkv:
        if t.node not in ids:
            ids.append(t.node)
    attrs = {"form": name, "roles": [role(t) for t in qkv], "causal": causal}
    return builder.node("attention", builder.scoped(name), site, ids, attrs=attrs)


def product(builder: Any, left: Tensor, right: Tensor, name: str, site: Site | None) -> Tensor:
    """``a @ b`` (matmul, bmm, einsum) of two tensors of the path: an attention when ``a`` is a
    softmax over the product of two others, else a product whose operands are recorded."""
    scores = _scores_behind(builder.graph, left.node)
    if scores is not None:
        q, k = scores.attrs["operands"]
        return attend(builder, [Tensor(q[0], piece=_piece(q)), Tensor(k[0], piece=_piece(k)), right], False,
                      name, site)
    return builder.node("attention", builder.scoped(name), site, [left.node, right.node],
                        attrs={"form": name, "operands": [role(left), role(right)]})


def _piece(r: list) -> tuple[int, int] | None:
    return tuple(r[1]) if r[1] is not None else None  # type: ignore[return-value]


def _scores_behind(graph: Any, nid: int | None, depth: int = 0, softmax: bool = False) -> Any:
    """The product of queries and keys a softmax over which ``nid`` is, or None."""
    if nid is None or depth > 12:
        return None
    node = graph.nodes[nid]
    if node.op == "attention" and softmax and len(node.attrs.get("operands") or ()) == 2:
        return node
    if node.op not in _BETWEEN or (node.op == "activation" and node.activation != "softmax"):
        return None
    softmax = softmax or node.op == "activation"
    for source in node.inputs:
        found = _scores_behind(graph, source, depth + 1, softmax)
        if found is not None:
            return found
    return None
