"""Exporters decompose one layer into several ONNX nodes; these matchers fold
them back (Erf/Tanh GELU, LayerNorm/RMSNorm, SiLU and sigmoid gates, Mish,
attention), so that an Erf or a Sigmoid inside a GELU or a gate is not read as
a saturating activation in series."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gradlint.frontends.onnx.ops import ARITHMETIC, PASS_THROUGH
from gradlint.frontends.onnx.view import GraphView


@dataclass
class Fused:
    """One layer-graph node standing for several ONNX nodes."""

    op: str
    module_type: str
    inputs: list[str]  # data values feeding the unit
    output: str  # the value the unit produces
    members: set[int]  # the ONNX nodes it replaces
    activation: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def first(self) -> int:
        return min(self.members)

    @property
    def anchor(self) -> int:
        return max(self.members)


def _const_operand(view: GraphView, index: int) -> tuple[str, str] | None:
    """(data operand, constant operand) of a binary node with exactly one data input."""
    a, b = (list(view.nodes[index].input) + ["", ""])[:2]
    if view.is_data(a) and b and not view.is_data(b):
        return a, b
    if view.is_data(b) and a and not view.is_data(a):
        return b, a
    return None


def _producer(view: GraphView, name: str, *ops: str) -> int | None:
    index = view.producer_of(name)
    if index is not None and view.nodes[index].op_type in ops:
        return index
    return None


# -- GELU: 0.5 * x * (1 + erf(x / sqrt 2)) and its tanh approximation -------------


def _uses_only(view: GraphView, name: str, x: str, members: set[int], budget: int = 4) -> bool:
    """True when ``name`` is computed from ``x`` and constants by Mul/Pow alone (x**3 terms)."""
    if name == x:
        return True
    index = _producer(view, name, "Mul", "Pow")
    if index is None or budget == 0:
        return False
    for operand in view.nodes[index].input:
        if view.is_data(operand) and not _uses_only(view, operand, x, members, budget - 1):
            return False
    members.add(index)
    return True


def _gelu_argument(view: GraphView, index: int) -> tuple[str, set[int]] | None:
    node = view.nodes[index]
    members = {index}
    scaled = node.input[0]
    scale = _producer(view, scaled, "Div", "Mul")
    if scale is None or _const_operand(view, scale) is None:
        return None
    members.add(scale)
    inner = _const_operand(view, scale)[0]
    if node.op_type == "Erf":
        return inner, members
    # tanh form: tanh(c * (x + 0.044715 * x**3))
    add = _producer(view, inner, "Add")
    if add is None:
        return None
    a, b = view.nodes[add].input[:2]
    for x, cubic in ((a, b), (b, a)):
        cubic_members: set[int] = set()
        if view.is_data(x) and cubic != x and _uses_only(view, cubic, x, cubic_members):
            return x, members | {add} | cubic_members
    return None


def match_gelu(view: GraphView, index: int) -> Fused | None:
    if view.nodes[index].op_type not in ("Erf", "Tanh"):
        return None
    found = _gelu_argument(view, index)
    if found is None:
        return None
    x, members = found
    current = view.nodes[index].output[0]
    times_x = False
    for _ in range(4):
        user = view.single_consumer(current)
        if user is None or view.nodes[user].op_type not in ("Add", "Mul"):
            break
        others = [name for name in view.nodes[user].input if name != current]
        if len(others) != 1:
            break
        other = others[0]
        if view.is_data(other):  # constants (the 1 of 1 + erf, the 0.5) fold in as they are
            if view.nodes[user].op_type != "Mul":
                break
            half = _producer(view, other, "Mul", "Div")  # 0.5 * x computed on the side
            if half is not None and (_const_operand(view, half) or ("",))[0] == x:
                members.add(half)
            elif other != x:
                break
            times_x = True
        members.add(user)
        current = view.nodes[user].output[0]
    if not times_x:
        return None
    form = "erf" if view.nodes[index].op_type == "Erf" else "tanh"
    return Fused("activation", "Gelu", [x], current, members, "gelu", {"decomposed": form})


# -- normalisation: (x - mean) / sqrt(var + eps) [* gamma + beta], and RMSNorm ------


def _inverse_std(view: GraphView, index: int) -> list[tuple[str, int, set[int]]]:
    """(numerator, Sqrt-argument producer, members) for each way ``index`` divides by a std."""
    node = view.nodes[index]
    found = []
    if node.op_type == "Div" and len(node.input) == 2:
        sqrt = _producer(view, node.input[1], "Sqrt")
        if sqrt is not None:
            found.append((node.input[0], view.nodes[sqrt].input[0], {sqrt}))
    elif node.op_type == "Mul" and len(node.input) == 2:
        for numerator, inverse in ((node.input[0], node.input[1]), (node.input[1], node.input[0])):
            recip = _producer(view, inverse, "Reciprocal")
            if recip is not None:
                sqrt = _producer(view, view.nodes[recip].input[0], "Sqrt")
                if sqrt is not None:
                    found.append((numerator, view.nodes[sqrt].input[0], {recip, sqrt}))
            one_over = _producer(view, inverse, "Div")
            if one_over is not None and not view.is_data(view.nodes[one_over].input[0]):
                sqrt = _producer(view, view.nodes[one_over].input[1], "Sqrt")
                if sqrt is not None:
                    found.append((numerator, view.nodes[sqrt].input[0], {one_over, sqrt}))
            power = _producer(view, inverse, "Pow")
            if power is not None and view.scalar(view.nodes[power].input[1]) == -0.5:
                found.append((numerator, view.nodes[power].input[0], {power}))
    return found


def match_norm(view: GraphView, index: int) -> Fused | None:
    for numerator, variance, members in _inverse_std(view, index):
        members = members | {index}
        eps = _producer(view, variance, "Add")
        if eps is not None and _const_operand(view, eps) is not None:
            members.add(eps)
            variance = _const_operand(view, eps)[0]
        mean_sq = _producer(view, variance, "ReduceMean")
        if mean_sq is None:
            continue
        members.add(mean_sq)
        square = view.producer_of(view.nodes[mean_sq].input[0])
        if square is None:
            continue
        sq = view.nodes[square]
        squared = (
            sq.op_type == "Pow" and view.scalar(sq.input[1]) == 2.0 and sq.input[0] == numerator
        ) or (sq.op_type == "Mul" and list(sq.input[:2]) == [numerator, numerator])
        if not squared:
            continue
        members.add(square)
        kind, module_type, x = "rms_norm", "RMSNorm", numerator
        centre = _producer(view, numerator, "Sub")
        if centre is not None:
            x, mean = view.nodes[centre].input[:2]
            mean_index = _producer(view, mean, "ReduceMean")
            if mean_index is not None and view.nodes[mean_index].input[0] == x:
                members |= {centre, mean_index}
                kind, module_type = "layer_norm", "LayerNormalization"
            else:
                x = numerator
        output = view.nodes[index].output[0]
        for op in ("Mul", "Add"):  # the affine gamma, then beta
            user = view.single_consumer(output)
            if user is None or view.nodes[user].op_type != op or _const_operand(view, user) is None:
                break
            members.add(user)
            output = view.nodes[user].output[0]
        return Fused("norm", module_type, [x], output, members, attrs={"decomposed": kind})
    return None


# -- softsign: x / (1 + |x|) -------------------------------------------------------------


def match_softsign(view: GraphView, index: int) -> Fused | None:
    node = view.nodes[index]
    if node.op_type != "Div" or len(node.input) != 2:
        return None
    x, denominator = node.input
    plus_one = _producer(view, denominator, "Add")
    if plus_one is None or _const_operand(view, plus_one) is None:
        return None
    absolute = _producer(view, _const_operand(view, plus_one)[0], "Abs")
    if absolute is None or view.nodes[absolute].input[0] != x:
        return None
    return Fused(
        "activation",
        "Softsign",
        [x],
        node.output[0],
        {absolute, plus_one, index},
        "softsign",
        {"decomposed": "softsign"},
    )


# -- x * sigmoid(x) (SiLU, swish), x * tanh(softplus(x)) (Mish) --------------------------
# (a sigmoid gating another tensor, x * sigmoid(g), is found in convert: its output may
# feed several products, as in a highway layer's t * h + (1 - t) * x)


def match_swish(view: GraphView, index: int) -> Fused | None:
    node = view.nodes[index]
    if node.op_type != "Mul" or len(node.input) != 2:
        return None
    a, b = node.input
    if not (view.is_data(a) and view.is_data(b)):
        return None
    for squashed, other in ((a, b), (b, a)):
        squash = _producer(view, squashed, "Sigmoid", "HardSigmoid", "Tanh")
        if squash is None:
            continue
        argument = view.nodes[squash].input[0]
        op_type = view.nodes[squash].op_type
        if op_type == "Tanh":
            softplus = _producer(view, argument, "Softplus")
            if softplus is not None and view.nodes[softplus].input[0] == other:
                return Fused(
                    "activation", "Mish", [other], node.output[0], {softplus, squash, index}, "mish"
                )
            continue
        if argument == other:
            kind = "silu" if op_type == "Sigmoid" else "hardswish"
            return Fused(
                "gate",
                "SiLU" if kind == "silu" else "HardSwish",
                [other],
                node.output[0],
                {squash, index},
                kind,
            )
        scaled = _producer(view, argument, "Mul")
        if (
            scaled is not None
            and _const_operand(view, scaled)
            and _const_operand(view, scaled)[0] == other
        ):
            beta = view.scalar(_const_operand(view, scaled)[1])
            return Fused(
                "gate",
                "SiLU",
                [other],
                node.output[0],
                {scaled, squash, index},
                "silu",
                {"beta": beta},
            )
    return None


# -- attention: softmax(q @ k^T * scale [+ mask]) @ v ----------------------------------


def _walk_up(
    view: GraphView, name: str, target: str, members: set[int], budget: int = 8
) -> int | None:
    """The ``target`` node reached from ``name`` through reshapes, scales and masks."""
    index = view.producer_of(name)
    if index is None or budget == 0:
        return None
    op = view.nodes[index].op_type
    if op == target:
        return index
    if op not in PASS_THROUGH and op not in ARITHMETIC:
        return None
    for operand in view.data_inputs(index):
        found = _walk_up(view, operand, target, members, budget - 1)
        if found is not None:
            members.add(index)
            return found
    return None


def match_attention(view: GraphView, index: int) -> Fused | None:
    node = view.nodes[index]
    if node.op_type != "MatMul" or len(view.data_inputs(index)) != 2:
        return None
    probabilities, values = node.input[:2]
    members = {index}
    softmax = _walk_up(view, probabilities, "Softmax", members)
    if softmax is None:
        return None
    members.add(softmax)
    scores = _walk_up(view, view.nodes[softmax].input[0], "MatMul", members)
    if scores is None or len(view.data_inputs(scores)) != 2:
        return None
    members.add(scores)
    query, key = view.nodes[scores].input[:2]
    return Fused("attention", "Attention", [query, key, values], node.output[0], members)


MATCHERS: tuple[Callable[[GraphView, int], Fused | None], ...] = (
    match_norm,
    match_gelu,
    match_softsign,
    match_attention,
    match_swish,
)


def _self_contained(view: GraphView, fused: Fused) -> bool:
    """No intermediate value of the unit is used outside it."""
    for member in fused.members:
        for name in view.nodes[member].output:
            if not name or name == fused.output:
                continue
            if name in view.outputs:
                return False
            if any(user not in fused.members for user in view.consumers.get(name, [])):
                return False
    return True


def find_fusions(view: GraphView) -> dict[int, Fused]:
    """Fused units keyed by their last ONNX node; earlier matchers win overlaps."""
    taken: set[int] = set()
    fusions: dict[int, Fused] = {}
    for matcher in MATCHERS:
        for index in range(len(view.nodes)):
            if index in taken:
                continue
            try:
                fused = matcher(view, index)
            except (IndexError, ValueError):
                # the matchers read exporters' nodes by position; an op of another domain
                # named like a standard one (which the checker holds to no schema) may have
                # fewer inputs or outputs, and then it is no part of the unit
                fused = None
            if fused is None or fused.members & taken or not _self_contained(view, fused):
                continue
            taken |= fused.members
            fusions[fused.anchor] = fused
    return fusions
