"""What gradlint knows about torch.nn layers: signatures, parameter shapes, default inits.

The signatures are data, in gradlint.torch_api's table; here a few small functions
turn bound arguments into parameter shapes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from gradlint import torch_api
from gradlint.frontends.python.init_math import default_uniform, default_weight, fans
from gradlint.frontends.python.values import UNKNOWN, Param
from gradlint.ir import Init

_NO = object()  # a required argument


@dataclass(frozen=True)
class Spec:
    op: str
    signature: tuple[tuple[str, Any], ...]
    activation: str | None = None
    family: str = ""


def _sig(parts: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """('in_features', 'bias=True') -> (('in_features', _NO), ('bias', True))."""
    out = []
    for part in parts:
        name, _, default = part.partition("=")
        out.append((name.strip(), _NO if not _ else ast.literal_eval(default.strip())))
    return tuple(out)


SPECS: dict[str, Spec] = {
    name: Spec(layer.op, _sig(layer.signature), layer.activation, layer.family)
    for name, layer in torch_api.layers().items()
}
CONTAINERS = torch_api.containers()
# Identity and friends accept and ignore any arguments
LENIENT = frozenset(
    n for n, s in SPECS.items()
    if s.op in ("identity", "pool", "norm", "dropout", "activation", "gate")
)


def bind(spec: Spec, args: list, kwargs: dict) -> dict[str, Any] | None:
    """Arguments by name, defaults filled in; None when a required one is missing."""
    bound: dict[str, Any] = {}
    names = [n for n, _ in spec.signature]
    for name, value in zip(names, args):
        bound[name] = value
    for key, value in kwargs.items():
        bound[key] = value
    for name, default in spec.signature:
        if name not in bound:
            if default is _NO:
                return None
            bound[name] = default
    return bound


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _tuple(value: Any, dims: int) -> tuple[int, ...] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * dims
    if isinstance(value, (tuple, list)) and len(value) == dims and all(_int(v) is not None for v in value):
        return tuple(value)
    return None


def _bias(args: dict) -> bool | None:
    value = args.get("bias", True)
    if isinstance(value, int) and not isinstance(value, bool):
        return bool(value)  # ``nn.Linear(dim, hidden, 1)``: torch tests the bias for truth
    return value if isinstance(value, bool) else None


def _weight(shape: tuple[int, ...] | None, init: Init | None) -> Param:
    return Param(shape, init, fans(shape))


def _linear_params(family: str, type_name: str, a: dict) -> dict[str, Param | None] | None:
    """Parameters in registration order, with torch's default init; None when the layout is unknown."""
    if family == "linear":
        n_in, n_out = _int(a["in_features"]), _int(a["out_features"])
        shape = (n_out, n_in) if n_in is not None and n_out is not None else None
        params = {"weight": _weight(shape, default_weight(n_in))}
        bias = _bias(a)
        if bias is None:
            return None
        params["bias"] = Param((n_out,) if n_out is not None else None, default_uniform(n_in)) if bias else None
        return params
    if family == "bilinear":
        n1, n2, n_out = _int(a["in1_features"]), _int(a["in2_features"]), _int(a["out_features"])
        shape = (n_out, n1, n2) if None not in (n1, n2, n_out) else None
        params = {"weight": Param(shape, default_uniform(n1), fans(shape))}
        bias = _bias(a)
        if bias is None:
            return None
        params["bias"] = Param((n_out,) if n_out is not None else None, default_uniform(n1)) if bias else None
        return params
    if family in ("conv", "convt"):
        dims = int(type_name[-2])
        c_in, c_out, groups = _int(a["in_channels"]), _int(a["out_channels"]), _int(a["groups"])
        kernel = _tuple(a["kernel_size"], dims)
        shape = None
        if None not in (c_in, c_out, groups, kernel) and groups:
            shape = (c_out, c_in // groups, *kernel) if family == "conv" else (c_in, c_out // groups, *kernel)
        f = fans(shape)
        params = {"weight": Param(shape, default_weight(f[0] if f else None), f)}
        bias = _bias(a)
        if bias is None:
            return None
        n_bias = c_out
        params["bias"] = Param((n_bias,) if n_bias is not None else None, default_uniform(f[0] if f else None)) if bias else None
        return params
    if family == "embedding":
        n, d = _int(a["num_embeddings"]), _int(a["embedding_dim"])
        shape = (n, d) if n is not None and d is not None else None
        return {"weight": Param(shape, Init("default", 1.0, 0.0, None, None, "normal(0, 1)"), fans(shape))}
    if family in ("rnn", "cell"):
        return _recurrent_params(family, type_name, a)
    if family == "mha":
        e = _int(a["embed_dim"])
        kdim, vdim = a.get("kdim"), a.get("vdim")
        same = (kdim is None or kdim == e) and (vdim is None or vdim == e)
        bias = _bias(a)
        if bias is None or not isinstance(a.get("add_bias_kv"), bool):
            return None
        params: dict[str, Param | None] = {}
        if same:
            shape = (3 * e, e) if e is not None else None
            params["in_proj_weight"] = _weight(shape, _xavier(shape))
        else:
            for name, dim in (("q_proj_weight", e), ("k_proj_weight", kdim), ("v_proj_weight", vdim)):
                shape = (e, dim) if isinstance(e, int) and isinstance(dim, int) else None
                params[name] = _weight(shape, _xavier(shape))
        zeros = Init("zeros", 0.0, 0.0, 0.0)
        if bias:
            params["in_proj_bias"] = Param((3 * e,) if e is not None else None, zeros)
        if a["add_bias_kv"]:
            params["bias_k"] = Param((1, 1, e) if e is not None else None, Init("xavier_normal"))
            params["bias_v"] = Param((1, 1, e) if e is not None else None, Init("xavier_normal"))
        params["out_proj.weight"] = _weight((e, e) if e is not None else None, default_weight(e))
        if bias:
            params["out_proj.bias"] = Param((e,) if e is not None else None, zeros)
        return params
    if family == "transformer_layer":
        return _transformer_layer_params(type_name, a)
    if family == "activation" and type_name == "PReLU":
        return {"weight": Param((a["num_parameters"],) if _int(a["num_parameters"]) else None)}
    return {}


def _transformer_layer_params(type_name: str, a: dict) -> dict[str, Param | None] | None:
    d, ff = _int(a["d_model"]), _int(a["dim_feedforward"])
    if d is None or ff is None or _bias(a) is None:
        return None
    bias = _bias(a)
    params: dict[str, Param | None] = {}
    attentions = ["self_attn"] + (["multihead_attn"] if "Decoder" in type_name else [])
    for attn in attentions:
        params[f"{attn}.in_proj_weight"] = _weight((3 * d, d), _xavier((3 * d, d)))
        if bias:
            params[f"{attn}.in_proj_bias"] = Param((3 * d,), Init("zeros", 0.0, 0.0, 0.0))
        params[f"{attn}.out_proj.weight"] = _weight((d, d), default_weight(d))
        if bias:
            params[f"{attn}.out_proj.bias"] = Param((d,), Init("zeros", 0.0, 0.0, 0.0))
    for name, rows, cols in (("linear1", ff, d), ("linear2", d, ff)):
        params[f"{name}.weight"] = _weight((rows, cols), default_weight(cols))
        if bias:
            params[f"{name}.bias"] = Param((rows,), default_uniform(cols))
    for norm in ("norm1", "norm2", "norm3")[: len(attentions) + 1]:
        params[f"{norm}.weight"] = Param((d,), Init("constant", 0.0, 1.0, 1.0))
        if bias:
            params[f"{norm}.bias"] = Param((d,), Init("zeros", 0.0, 0.0, 0.0))
    return params


def _xavier(shape: tuple[int, ...] | None) -> Init:
    f = fans(shape)
    return Init("default", 2.0 / (f[0] + f[1]) if f else None, 0.0, None, None, "xavier_uniform_")


def _recurrent_params(family: str, type_name: str, a: dict) -> dict[str, Param | None] | None:
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[type_name.replace("Cell", "")]
    n_in, hidden = _int(a["input_size"]), _int(a["hidden_size"])
    bias = _bias(a)
    if bias is None:
        return None
    init = default_uniform(hidden, detail="uniform(+-1/sqrt(hidden_size))")
    if family == "cell":
        suffixes, layers, dirs, proj = [""], 1, 1, 0
    else:
        layers, proj = _int(a["num_layers"]), _int(a.get("proj_size", 0))
        bidirectional = a["bidirectional"]
        if layers is None or proj is None or not isinstance(bidirectional, bool):
            return None
        dirs = 2 if bidirectional else 1
        suffixes = [f"_l{layer}{'_reverse' if d else ''}" for layer in range(layers) for d in range(dirs)]
    params: dict[str, Param | None] = {}
    out_size = proj or hidden
    for index, suffix in enumerate(suffixes):
        layer = index // dirs
        layer_in = n_in if layer == 0 else (out_size * dirs if out_size is not None else None)
        g = gates * hidden if hidden is not None else None
        for kind, cols in (("ih", layer_in), ("hh", out_size)):
            shape = (g, cols) if g is not None and cols is not None else None
            params[f"weight_{kind}{suffix}"] = _weight(shape, init)
        if bias:
            params[f"bias_ih{suffix}"] = Param((g,) if g else None, init)
            params[f"bias_hh{suffix}"] = Param((g,) if g else None, init)
        if proj:
            params[f"weight_hr{suffix}"] = _weight((proj, hidden) if hidden else None, init)
    return params


def construct(type_name: str, args: list, kwargs: dict) -> tuple[Spec | None, dict, dict | None]:
    """(spec, bound arguments, parameters) for ``torch.nn.<type_name>(*args, **kwargs)``.

    Parameters are None when the layout cannot be known (an argument is unknown
    or the layer is not in the table).
    """
    spec = SPECS.get(type_name)
    if spec is None:
        return None, {}, None
    bound = bind(spec, args, kwargs)
    if bound is None:
        if type_name in LENIENT:
            return spec, {n: d for n, d in spec.signature if d is not _NO}, _linear_params(spec.family, type_name, {})
        return spec, {}, None
    shaping = (v for k, v in bound.items() if k not in ("dropout", "p", "eps", "momentum", "inplace"))
    if spec.op in ("linear", "recurrent", "embedding", "attention") and any(v is UNKNOWN for v in shaping):
        return spec, bound, None
    try:
        return spec, bound, _linear_params(spec.family, type_name, bound)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return spec, bound, None

