"""GL2xx: initialisation."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

from gradlint.checks._chains import (
    ChainCause,
    about,
    in_model_file,
    layer_gain,
    next_activation,
)
from gradlint.checks._verdict_rule import GraphVerdictRule
from gradlint.diagnostics import Finding, Location
from gradlint.gain import weight_draw
from gradlint.ir import Init, LayerGraph, Node
from gradlint.rule import GraphRule

# ops a zero-initialised layer's output may pass through and still count as
# the last layer of a branch or of the model
_TRANSPARENT = frozenset({"activation", "dropout", "identity", "pool"})
# φ(0) = 0 and φ'(0) = 0: a unit whose pre-activation is 0 is dead for good
_DEAD_AT_ZERO = frozenset({"relu", "relu6"})


def _init_checks(graph: LayerGraph) -> bool:
    # a trained ONNX checkpoint is far from init on purpose
    return graph.attrs.get("init_checks", True) is not False


def _constant(init: Init | None) -> float | None:
    if init is None:
        return None
    if init.kind == "zeros":
        return 0.0
    if init.kind == "constant":
        return init.constant
    return None


def _where(graph: LayerGraph, node: Node) -> Location:
    init = node.weight_init
    return in_model_file(graph, node, init.location if init is not None else None)


class ZeroOrConstantInit(GraphRule):
    code = "GL201"
    name = "zero-or-constant-init"
    summary = "Weights set to zero or one constant where no gradient flows or units stay identical"
    severity = "error"

    def check_graph(self, graph: LayerGraph) -> Iterable[Finding]:
        if not _init_checks(graph):
            return
        users = graph.consumers()
        for node in graph.nodes:
            if node.op != "linear" or _constant(node.weight_init) is None:
                continue
            value = _constant(node.weight_init)
            follower = _next_weighted(graph, node, users)
            what = "zero" if value == 0.0 else f"the constant {value:g}"
            detail = node.weight_init.detail if node.weight_init and node.weight_init.detail else ""
            shown = f" ({detail})" if detail else ""
            if follower is not None and _constant(follower.weight_init) is not None:
                before = _previous_weighted(graph, node)
                if before is not None and _constant(before.weight_init) is not None:
                    continue  # reported with the run it belongs to, at its first layer
                run = [node, follower]
                while True:
                    after = _next_weighted(graph, run[-1], users)
                    if after is None or _constant(after.weight_init) is None:
                        break
                    run.append(after)
                names = ", ".join(n.name for n in run[:-1]) + f" and {run[-1].name}"
                message = (
                    f"{names} all start with constant weights{shown}: every unit of {node.name} "
                    f"computes the same value and, through {follower.name}'s identical columns, "
                    "receives the same gradient, so the units stay identical for good (the "
                    "symmetry is never broken). Use a random init for the hidden layers"
                )
                yield self.finding(message, _where(graph, node), layers=[n.name for n in run])
                continue
            if _is_last_of_branch(graph, node, users):
                continue  # zero_module / Fixup / ReZero / AdaLN-zero: deliberate and fine
            activation = next_activation(graph, node, users)
            if value == 0.0 and activation in _DEAD_AT_ZERO and _bias_is_zero(node):
                message = (
                    f"{node.name}.weight is initialised to {what}{shown} with a zero bias and feeds "
                    f"{activation}: every pre-activation is 0, {activation}(0) = 0 and "
                    f"{activation}'(0) = 0, so {node.name} and the layers before it get no "
                    "gradient, ever. Use a random init (kaiming_normal_) for hidden layers"
                )
                yield self.finding(message, _where(graph, node), layer=node.name)


def _next_weighted(graph: LayerGraph, node: Node, users: dict[int, list[int]]) -> Node | None:
    current = node
    while len(users[current.id]) == 1:
        current = graph.nodes[users[current.id][0]]
        if current.op == "linear":
            return current
        if current.op not in _TRANSPARENT:
            return None
    return None


def _previous_weighted(graph: LayerGraph, node: Node) -> Node | None:
    current = node
    while len(current.inputs) == 1:
        current = graph.nodes[current.inputs[0]]
        if current.op == "linear":
            return current
        if current.op not in _TRANSPARENT:
            return None
    return None


def _is_last_of_branch(graph: LayerGraph, node: Node, users: dict[int, list[int]]) -> bool:
    stack = list(users[node.id])
    seen: set[int] = set()
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        user = graph.nodes[nid]
        if user.op in ("add", "output", "gate"):
            return True
        if user.op in _TRANSPARENT:
            stack.extend(users[nid])
    return False


def _bias_is_zero(node: Node) -> bool:
    return node.has_bias is False or _constant(node.bias_init) == 0.0


class _InitVerdictRule(GraphVerdictRule):
    """The chains that He/Xavier init alone would fix; not on a trained ONNX checkpoint."""

    precedence = 2  # after GL101's saturating activations, before GL301's plain stack
    default_init: ClassVar[bool]  # whether the rule claims the chains left on PyTorch's default init

    @classmethod
    def claims(cls, cause: ChainCause) -> bool:
        return (
            cause.init_fixes_it
            and bool(cause.graph.attrs.get("init_checks", True))
            and cause.on_default_init == cls.default_init
        )

    def applies(self, graph: LayerGraph) -> bool:
        return _init_checks(graph)

    @staticmethod
    def _outcome(cause: ChainCause) -> str:
        chain = cause.chain
        return (
            f"about {about(cause.model_log10)} of the gradient at `{chain.last.name}` "
            f"reaches {chain.first.name} over {len(chain.layers)} layers"
        )


class MisScaledInit(_InitVerdictRule):
    code = "GL202"
    name = "mis-scaled-init"
    summary = "An explicit init whose scale is off He/Xavier for the fan-in, in a deep plain stack"
    severity = "warning"
    default_init = False

    def describe(
        self, graph: LayerGraph, cause: ChainCause, users: dict[int, list[int]]
    ) -> tuple[str, dict[str, Any]]:
        chain = cause.chain
        explicit = [n for n in chain.layers if n.weight_init is not None and n.weight_init.kind != "default"]
        worst = chain.typical if chain.typical in explicit else explicit[0]
        draw = weight_draw(worst, worst.weight_init)
        ref = cause.reference.get(worst.id)
        factor = math.sqrt(draw.variance / ref[1]) if draw is not None and ref is not None else 1.0
        ref_name = ref[0] if ref is not None else "He/Xavier"
        gain = layer_gain(graph, worst, next_activation(graph, worst, users))
        init = worst.weight_init
        detail = init.detail if init is not None and init.detail else (init.kind if init else "init")
        gain_text = f", a per-layer gain of about {gain:.2g}" if gain else ""
        message = (
            f"{detail} on {worst.name} draws weights {factor:.2g}× the {ref_name} std for fan-in "
            f"{worst.fan_in}{gain_text}: {self._outcome(cause)}; with {ref_name} init the estimate "
            f"is about {about(cause.counterfactual_log10 or 0.0)}"
        )
        return message, {
            "log10_grad_ratio": round(cause.model_log10, 2),
            "factor": round(factor, 3),
            "reference": ref_name,
        }


class DefaultInitDeepPlainStack(_InitVerdictRule):
    code = "GL203"
    name = "default-init-deep-plain-stack"
    fix = "he_init"
    fix_safety = "unsafe"
    summary = "A deep plain stack left on PyTorch's default init, which He init would fix"
    severity = "warning"
    default_init = True

    def describe(
        self, graph: LayerGraph, cause: ChainCause, users: dict[int, list[int]]
    ) -> tuple[str, dict[str, Any]]:
        chain = cause.chain
        activation = next_activation(graph, chain.typical, users)
        gain = layer_gain(graph, chain.typical, activation)
        ref_name = cause.reference.get(chain.first.id, ("He", 0.0))[0]
        under = f" under {activation}" if activation else ""
        gain_text = f", a per-layer gain of about {gain:.2g}{under}" if gain else ""
        fix = (
            "nn.init.kaiming_normal_(w, nonlinearity='relu')"
            if ref_name == "He"
            else "nn.init.xavier_normal_(w)"
        )
        message = (
            f"{len(chain.layers)} layers on PyTorch's default init ({chain.first.name} → "
            f"{chain.last.name}): kaiming_uniform(a=√5) draws Var(w) = 1/(3·fan_in){gain_text}; "
            f"{self._outcome(cause)}. {ref_name} init ({fix}) gives about "
            f"{about(cause.counterfactual_log10 or 0.0)}"
        )
        extra = {"log10_grad_ratio": round(cause.model_log10, 2), "depth": len(chain.layers), "reference": ref_name}
        return message, extra
