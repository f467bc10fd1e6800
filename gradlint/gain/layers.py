"""Each layer's rule: its output's moments forward, its share of the gradient backward.

A pre-activation is taken as N(μ, m2 − μ²), its mean μ carried from the biases. Forward through a weighted layer
``m2' = n·v·m2 + b``; backward ``E[δ_in²] = m·v·E[δ_out²]``, through an activation
``E[φ'(h)²]·E[δ²]``; a weight's gradient ``E[g²] = E[δ_out²]·E[a_in²]``.
"""

from __future__ import annotations

from gradlint.gain.activations import FUNCTIONS, Moments, moments
from gradlint.gain.draws import Draw, affine_scale, bias_draw, weight_draw
from gradlint.gain.estimates import Counterfactual, NodeEstimate, Unknown
from gradlint.ir import Init, Node

PASS_THROUGH = frozenset({"pool", "dropout", "identity", "attention"})
_PER_UNIT_NORMS = ("BatchNorm", "InstanceNorm", "SyncBatchNorm")


def activation_of(node: Node) -> tuple[str, float | None] | None:
    """The node's activation kind and its recorded negative slope; None without one."""
    kind = node.activation
    if kind is None:
        return None
    if kind not in FUNCTIONS:
        raise Unknown(f"activation {kind!r} of {node.name}")
    slope = node.attrs.get("negative_slope")
    return kind, float(slope) if isinstance(slope, (int, float)) else None


def draws_of(node: Node, what_if: Counterfactual) -> tuple[Draw, Draw]:
    """The weight and bias draws of a weighted node, the what-if ones first."""
    if node.id in what_if.draws:
        return what_if.draws[node.id]
    w = weight_draw(node, node.weight_init if node.weight_init is not None else Init("default"))
    b = bias_draw(node)
    if w is None:
        raise Unknown(f"init of {node.name}")
    if w.variance == 0.0 and w.mean != 0.0 and node.op not in ("scale", "shift"):
        # every unit computes the same function: the mean field of independent
        # random units does not describe it (GL201 reports the layer itself)
        raise Unknown(f"{node.name} has one constant weight for all units")
    if b is None:
        raise Unknown(f"bias init of {node.name}")
    return w, b


def forward(node: Node, inputs: list[NodeEstimate], what_if: Counterfactual) -> NodeEstimate:
    """The node's output from its inputs' estimates."""
    op = node.op
    if op == "input":
        return NodeEstimate(m2=1.0, batch_var=1.0)
    if op == "embedding":
        draw = draws_of(node, what_if)[0]
        return NodeEstimate(m2=draw.variance + draw.mean**2, mean=draw.mean)
    if not inputs:
        return NodeEstimate()
    first = inputs[0]
    if op in ("linear", "recurrent"):
        w, b = draws_of(node, what_if)
        n = node.fan_in
        if n is None:
            raise Unknown(f"fan-in of {node.name}")
        # weights sharing a mean μ add μ·Σa, whose spread across samples is n·Var(a)
        spread = n * (w.variance + w.mean**2) * first.sample_var()
        var = n * w.variance * first.m2 + n * w.mean**2 * first.sample_var() + b.variance
        mean = n * w.mean * first.mean + b.mean
        pre = var + mean * mean
        if op == "recurrent":
            m = moments("tanh", pre)
            return NodeEstimate(m2=m.m2, mean=m.mean, pre_m2=pre)
        act = activation_of(node)
        if act is None:
            return NodeEstimate(m2=pre, mean=mean, pre_m2=pre, batch_var=spread)
        m = moments(act[0], pre, act[1], mean)
        return NodeEstimate(
            m2=m.m2, mean=m.mean, pre_m2=pre, pre_mean=mean, batch_var=_spread_after(m, spread)
        )
    if op == "shift" and node.attrs.get("concatenated"):
        return first  # tokens put before the sequence: a few positions of many, its values kept
    if op == "shift":  # a weight added to every sample alike: a fixed offset, no spread across samples
        w, _ = draws_of(node, what_if)
        return NodeEstimate(m2=first.m2 + w.variance + w.mean**2, mean=first.mean + w.mean,
                            batch_var=first.sample_var())
    if op == "scale":  # each entry times its own weight: a constant one (a norm's gain) keeps x
        w, _ = draws_of(node, what_if)
        gain = w.variance + w.mean**2
        return NodeEstimate(m2=gain * first.m2, mean=w.mean * first.mean, batch_var=gain * first.sample_var())
    if op == "activation":
        act = activation_of(node)
        if act is None:
            raise Unknown(f"activation kind of {node.name}")
        a = _pre_scale(node)  # ``torch.exp(0.5 * logvar)``: φ of a·x
        m = moments(act[0], a * a * first.m2, act[1], a * first.mean)
        return NodeEstimate(
            m2=m.m2,
            mean=m.mean,
            pre_m2=a * a * first.m2,
            pre_mean=a * first.mean,
            batch_var=_spread_after(m, a * a * first.sample_var()),
        )
    if op == "norm":
        scale = _norm_scale(node)
        # BatchNorm and InstanceNorm normalise each unit over samples (or positions)
        per_unit = (node.module_type or "").startswith(_PER_UNIT_NORMS)
        spread = first.sample_var() if per_unit else max(first.m2 - first.mean**2, 0.0)
        return NodeEstimate(m2=scale, pre_m2=spread, batch_var=scale)
    if op == "add":
        return NodeEstimate(
            m2=sum(i.m2 for i in inputs),
            mean=sum(i.mean for i in inputs),
            batch_var=sum(i.sample_var() for i in inputs),
        )
    if op == "concat":
        widths = node.attrs.get("widths")
        if not widths or len(widths) != len(inputs):
            widths = [1] * len(inputs)
        total = float(sum(widths))
        return NodeEstimate(
            m2=sum(w * i.m2 for w, i in zip(widths, inputs)) / total,
            mean=sum(w * i.mean for w, i in zip(widths, inputs)) / total,
        )
    if op == "gate":
        return _gate_forward(node, inputs)
    if op == "identity" and "affine" in node.attrs:
        a, b = affine(node)
        return NodeEstimate(
            m2=a * a * first.m2 + 2.0 * a * b * first.mean + b * b,
            mean=a * first.mean + b,
            batch_var=a * a * first.sample_var(),
        )
    if op == "identity" and "noise" in node.attrs:
        # x·ε, ε of mean 0 drawn anew for every entry: no offset survives, all of it varies
        m2 = first.m2 * float(node.attrs["noise"])
        return NodeEstimate(m2=m2, mean=0.0, batch_var=m2)
    if op in PASS_THROUGH or op == "output":
        return NodeEstimate(m2=first.m2, mean=first.mean, batch_var=first.batch_var)
    raise Unknown(f"{node.name}: {op}")


def backward_factors(
    node: Node, mine: NodeEstimate, est: dict[int, NodeEstimate], what_if: Counterfactual
) -> tuple[float | None, list[tuple[int, float]]]:
    """(E[g²] / E[δ²] of the node's weight, [(input, E[δ_in²] / E[δ²])])."""
    op = node.op
    if op == "input":
        return None, []
    if op == "embedding":
        # a one-hot input over V rows: E[a²] = 1/V, each row is read by 1/V of the tokens
        rows = node.attrs.get("num_embeddings", node.fan_in)
        if not isinstance(rows, int) or rows <= 0:
            raise Unknown(f"rows of {node.name}")
        return 1.0 / rows, []
    if not node.inputs:
        return None, []
    src = node.inputs[0]
    if op in ("linear", "recurrent"):
        w, _ = draws_of(node, what_if)
        if op == "recurrent":
            slope = moments("tanh", mine.pre_m2 or 0.0).d2
        else:
            act = activation_of(node)
            slope = moments(act[0], mine.pre_m2 or 0.0, act[1], mine.pre_mean).d2 if act else 1.0
        if node.fan_out is None:
            raise Unknown(f"fan-out of {node.name}")
        return slope * est[src].m2, [(src, node.fan_out * (w.variance + w.mean**2) * slope)]
    if op == "scale":
        w, _ = draws_of(node, what_if)
        return est[src].m2, [(src, w.variance + w.mean**2)]
    if op == "shift":  # each entry's gradient is the signal's there
        return 1.0, [(src, 1.0)]
    if op == "activation":
        act = activation_of(node)
        a = _pre_scale(node)
        slope = moments(act[0], a * a * est[src].m2, act[1], a * est[src].mean).d2  # type: ignore[index]
        return None, [(src, a * a * slope)]
    if op == "norm":
        pre = mine.pre_m2
        return None, [(src, _norm_scale(node) / pre if pre else 0.0)]
    if op in ("add", "concat"):
        return None, [(i, 1.0) for i in node.inputs]
    if op == "gate":
        if len(node.inputs) == 1:
            q = est[src].m2
            if node.module_type == "GLU":
                glu = moments("sigmoid", q)
                return None, [(src, 0.5 * (glu.m2 + q * glu.d2))]
            return None, [(src, moments(_self_gate(node), q).d2)]
        g_m2 = mine.pre_m2 or 0.0
        x_m2 = 1.0
        for i in node.inputs[:-1]:
            x_m2 *= est[i].m2
        shares = [(i, g_m2) for i in node.inputs[:-1]]
        gate = node.inputs[-1]
        squash = _gate_squash(node)
        slope = 1.0 if squash is None else moments(squash, est[gate].m2).d2
        shares.append((gate, x_m2 * slope))
        return None, shares
    if op == "identity" and "affine" in node.attrs:
        return None, [(src, affine(node)[0] ** 2)]
    if op == "identity" and "noise" in node.attrs:
        return None, [(src, float(node.attrs["noise"]))]
    return None, [(i, 1.0) for i in node.inputs[:1]]


def _pre_scale(node: Node) -> float:
    """The constant an activation's input was multiplied by on the way (1 where none)."""
    return float(node.attrs.get("pre_scale", 1.0))


def affine(node: Node) -> tuple[float, float]:
    """(a, b) of an identity node that computes ``a·x + b`` (``1 - t``: a = -1, b = 1)."""
    a, b = node.attrs.get("affine", (1.0, 0.0))
    return float(a), float(b)


def _spread_after(m: Moments, spread: float) -> float:
    """Per-unit variance across samples after an activation. When fixed per-unit
    offsets (biases) dominate the pre-activation, only the small spread around
    them passes, scaled by the slope: the linearised E[φ'²]·spread."""
    return min(max(m.m2 - m.mean**2, 0.0), m.d2 * spread)


def _norm_scale(node: Node) -> float:
    scale = affine_scale(node.weight_init)
    if scale is None:
        raise Unknown(f"affine weight of {node.name}")
    return scale


def _self_gate(node: Node) -> str:
    """x·φ(x) of a one-input gate as an activation: x·σ(x) is SiLU."""
    kind = node.activation
    return "silu" if kind in (None, "sigmoid") else kind


def _gate_squash(node: Node) -> str | None:
    """The activation a two-input gate applies to its last input; None when that input is
    already squashed. ONNX folds the Sigmoid into the gate and names it in attrs["gate"]."""
    if node.activation is not None:
        return node.activation
    folded = node.attrs.get("gate")
    if isinstance(folded, str):
        if folded not in FUNCTIONS:
            raise Unknown(f"gate {folded!r} of {node.name}")
        return folded
    return None if node.attrs.get("gate_applied", True) else "sigmoid"


def _gate_forward(node: Node, inputs: list[NodeEstimate]) -> NodeEstimate:
    """``x * σ(g)``: with one input, the gate is the activation of that input (SiLU)."""
    kind = node.activation or "sigmoid"
    if kind not in FUNCTIONS:
        raise Unknown(f"gate {kind!r} of {node.name}")
    if len(inputs) == 1:
        q = inputs[0].m2
        if node.module_type == "GLU":  # a·σ(b) on the two halves of one input
            return NodeEstimate(m2=q * moments("sigmoid", q).m2, pre_m2=q)
        m = moments(_self_gate(node), q)
        return NodeEstimate(
            m2=m.m2, mean=m.mean, pre_m2=q, batch_var=_spread_after(m, inputs[0].sample_var())
        )
    gate_in = inputs[-1]
    squash = _gate_squash(node)
    if squash is None:
        g_m2, g_mean = gate_in.m2, gate_in.mean  # the gate input is already σ(g)
    else:
        g = moments(squash, gate_in.m2, None, gate_in.mean)
        g_m2, g_mean = g.m2, g.mean
    x_m2 = x_mean = 1.0
    for i in inputs[:-1]:
        x_m2 *= i.m2
        x_mean *= i.mean
    # independent factors: E[x·g] = E[x]·E[g] (the SE block's ReLU features times σ keep a mean)
    return NodeEstimate(m2=x_m2 * g_m2, mean=x_mean * g_mean, pre_m2=g_m2)
