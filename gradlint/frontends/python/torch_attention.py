"""torch's attention modules as the layers they are made of.

``nn.MultiheadAttention`` on one tensor is its packed input projection (three equal pieces:
queries, keys, values), the attention over them and the output projection; an
``nn.TransformerEncoderLayer`` is that attention and a feed-forward block, each around a
residual add with a LayerNorm before (``norm_first``) or after. Each weight is a layer of
its own where ``named_parameters()`` lists it, so that a model whose first or last weight
is one of them has a ratio. Cross-attention, separate key and value sizes and learned
key/value biases stay one pass-through node, as before.
"""

from __future__ import annotations

from typing import Any

from gradlint.frontends.python.values import Mod, Tensor, TorchRef


def self_attention(builder: Any, mod: Mod, name: str, args: list, kwargs: dict, prefix: str = "") -> Tensor | None:
    """``attn(x, x, x)``; ``prefix``: where the module's parameters sit in ``mod.params``
    (``self_attn.`` inside an encoder layer)."""
    qkv = [args[i] if i < len(args) else kwargs.get(n) for i, n in enumerate(("query", "key", "value"))]
    a = mod.args
    e = a.get("embed_dim", a.get("d_model"))
    inp, out = mod.params.get(f"{prefix}in_proj_weight"), mod.params.get(f"{prefix}out_proj.weight")
    if not (all(isinstance(t, Tensor) and t.node is not None and t.piece is None for t in qkv)
            and len({t.node for t in qkv}) == 1 and isinstance(e, int) and inp is not None and out is not None
            and isinstance(a.get("bias"), bool) and a.get("add_bias_kv", False) is False
            and a.get("add_zero_attn", False) is False):
        return None
    base = f"{name}.{prefix}".rstrip(".")
    proj = _linear(builder, mod, f"{base}.in_proj", qkv[0].node, inp, f"{prefix}in_proj_bias", e, 3 * e,
                   param_name=f"{base}.in_proj_weight")
    roles = [[proj.node, [i, 3]] for i in range(3)]
    mixed = builder.node("attention", f"{base}.attention", mod, [proj.node],
                         attrs={"form": "MultiheadAttention", "roles": roles, "causal": kwargs.get("is_causal") is True,
                                "sequence_first": a.get("batch_first") is not True})
    return _linear(builder, mod, f"{base}.out_proj", mixed.node, out, f"{prefix}out_proj.bias", e, e)


def encoder_layer(builder: Any, mod: Mod, name: str, args: list, kwargs: dict) -> Tensor | None:
    a, p = mod.args, mod.params
    x = args[0] if args else kwargs.get("src")
    d, ff = a.get("d_model"), a.get("dim_feedforward")
    act = _activation(a.get("activation", "relu"))
    if not (isinstance(x, Tensor) and x.node is not None and isinstance(d, int) and isinstance(ff, int)
            and act is not None and isinstance(a.get("norm_first"), bool)
            and p.get("linear1.weight") is not None and p.get("linear2.weight") is not None):
        return None
    causal = {"is_causal": True} if kwargs.get("is_causal") is True else {}

    def attend(h: Tensor) -> Tensor | None:
        y = self_attention(builder, mod, name, [h, h, h], causal, prefix="self_attn.")
        return None if y is None else builder.node("dropout", f"{name}.dropout1", mod, [y.node])

    def feed_forward(h: Tensor) -> Tensor:
        hidden = _linear(builder, mod, f"{name}.linear1", h.node, p["linear1.weight"], "linear1.bias", d, ff,
                         activation=act)
        hidden = builder.node("dropout", f"{name}.dropout", mod, [hidden.node])
        y = _linear(builder, mod, f"{name}.linear2", hidden.node, p["linear2.weight"], "linear2.bias", ff, d)
        return builder.node("dropout", f"{name}.dropout2", mod, [y.node])

    def norm(h: Tensor, which: str) -> Tensor:
        return builder.node("norm", f"{name}.{which}", mod, [h.node], module_type="LayerNorm")

    def add(h: Tensor, y: Tensor) -> Tensor:
        return builder.node("add", f"{name}.add", mod, [h.node, y.node])

    if a["norm_first"]:
        y = attend(norm(x, "norm1"))
        if y is None:
            return None
        x = add(x, y)
        return add(x, feed_forward(norm(x, "norm2")))
    y = attend(x)
    if y is None:
        return None
    x = norm(add(x, y), "norm1")
    return norm(add(x, feed_forward(x)), "norm2")


def _activation(value: Any) -> str | None:
    if isinstance(value, TorchRef):
        value = value.qualname.rsplit(".", 1)[-1]
    return value if value in ("relu", "gelu") else None


def _linear(builder: Any, mod: Mod, name: str, source: int, weight: Any, bias_key: str, fan_in: int,
            fan_out: int, activation: str | None = None, param_name: str | None = None) -> Tensor:
    """A linear layer on the module's own weight and bias (``bias_key`` in ``mod.params``)."""
    bias = mod.params.get(bias_key)
    return builder.node("linear", name, mod, [source], module_type="Linear", weight_init=weight.init,
                        param_index=builder.param_index.get(id(weight)), param_name=param_name or f"{name}.weight",
                        fan_in=fan_in, fan_out=fan_out, has_bias=bias is not None,
                        bias_init=bias.init if bias is not None else None, activation=activation,
                        attrs={"frozen": True} if weight.frozen else {})
